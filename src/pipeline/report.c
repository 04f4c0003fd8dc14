/* The report stage: report.html (one self-contained page: tables, inline SVG charts,
 * thumbnails as data: URIs) and report.txt, the same content as text (`hmrec run` ends with
 * the metrics table and the paths of both). It reads what the other stages left in the work
 * directory (metrics.tsv, candidates_stats.tsv, rank_curves.tsv, the models, the stages'
 * times) and scores a handful of example customers of the validation week with the best model
 * to show their recommendations next to what they bought. */
#include "pipeline/predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPORT_MAX_ROWS 64

/* ---- the metrics ------------------------------------------------------------------------- */

struct metrics {
    struct pipeline_result *r;
    int n;                /* rows of the validation week; the test week's follow them */
    int n_test;           /* rows of the held-out test week (kinds "test ..."), at r + n */
    int best;             /* the best model, ensemble or baseline (-1: none) */
    int best_baseline;    /* -1: none */
    double oracle, ceiling;
    int test_sub;         /* the submission on the test week (-1: none), an index into r */
    double test_oracle, test_baseline;
};

static void metrics_load(struct pipeline *p, struct metrics *m)
{
    memset(m, 0, sizeof *m);
    m->best = m->best_baseline = -1;
    char *path = pipeline_path(p, "metrics.tsv");
    if (pipeline_results_read(path, &m->r, &m->n) != 0)
        hm_clear_error();
    free(path);
    /* the held-out test week's rows after the validation week's (stable) */
    m->test_sub = -1;
    struct pipeline_result *tmp = hm_xmalloc_array((size_t)m->n + 1, sizeof *tmp);
    int nv = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < m->n; i++)
            if ((strncmp(m->r[i].kind, "test ", 5) == 0) == pass)
                tmp[nv++] = m->r[i];
    if (m->n)
        memcpy(m->r, tmp, (size_t)m->n * sizeof *tmp);
    free(tmp);
    for (int i = 0; i < m->n; i++)
        if (!strncmp(m->r[i].kind, "test ", 5)) {
            m->n_test = m->n - i;
            m->n = i;
            break;
        }
    for (int i = m->n; i < m->n + m->n_test; i++) {
        double v = eval_map12(&m->r[i].sum);
        if (!strcmp(m->r[i].kind, "test oracle"))
            m->test_oracle = v;
        else if (!strcmp(m->r[i].kind, "test submission"))
            m->test_sub = i;
        else if (v > m->test_baseline)
            m->test_baseline = v;
    }
    for (int i = 0; i < m->n; i++) {
        double v = eval_map12(&m->r[i].sum);
        if (!strcmp(m->r[i].kind, "oracle"))
            m->oracle = v;
        else if (!strcmp(m->r[i].kind, "ceiling"))
            m->ceiling = v;
        else {
            if (m->best < 0 || v > eval_map12(&m->r[m->best].sum))
                m->best = i;
            if (!strcmp(m->r[i].kind, "baseline") &&
                (m->best_baseline < 0 || v > eval_map12(&m->r[m->best_baseline].sum)))
                m->best_baseline = i;
        }
    }
}

static char *fmt5(double v) { return hm_xasprintf("%.5f", v); }

static void metrics_section(struct eval_page *pg, const struct metrics *m, uint32_t buyers)
{
    eval_page_heading(pg, 2, "Metrics on the validation week", "metrics");
    eval_page_paragraphf(pg,
                         "Every baseline, model and ensemble ranked by Kaggle's MAP@12 on the %u customers who "
                         "bought in the validation week, read against two ceilings: the pool ceiling (a perfect "
                         "ranker that sees only the candidate pool) and, on synthetic data, the generator's "
                         "oracle (the best any model could do knowing how the data were made).",
                         buyers);
    int n = m->n < REPORT_MAX_ROWS ? m->n : REPORT_MAX_ROWS;
    static const char *const header[] = {"model", "kind", "MAP@12", "% of oracle", "% of ceiling", "P@12", "R@12", "NDCG@12"};
    char **cells = hm_xcalloc((size_t)n * 8 + 1, sizeof *cells);
    uint8_t *hl = hm_xcalloc((size_t)n + 1, 1);
    double *bar = hm_xmalloc_array((size_t)n + 1, sizeof *bar);
    for (int i = 0; i < n; i++) {
        const struct eval_sum *s = &m->r[i].sum;
        double u = s->users ? (double)s->users : 1, v = eval_map12(s);
        char **c = cells + 8 * i;
        c[0] = hm_xstrdup(m->r[i].name);
        c[1] = hm_xstrdup(m->r[i].kind);
        c[2] = fmt5(v);
        c[3] = m->oracle > 0 ? hm_xasprintf("%.1f%%", 100 * v / m->oracle) : hm_xstrdup("-");
        c[4] = m->ceiling > 0 ? hm_xasprintf("%.1f%%", 100 * v / m->ceiling) : hm_xstrdup("-");
        c[5] = hm_xasprintf("%.4f", s->precision[EVAL_NK - 1] / u);
        c[6] = hm_xasprintf("%.4f", s->recall[EVAL_NK - 1] / u);
        c[7] = hm_xasprintf("%.4f", s->ndcg[EVAL_NK - 1] / u);
        hl[i] = i == m->best;
        bar[i] = m->oracle > 0 ? fmin(v / m->oracle, 1.0) : NAN;
    }
    struct eval_table_spec t = {.caption = "MAP@12 and the other metrics at 12, ceilings first, then best first.",
                                .header = header, .n_cols = 8, .cells = (const char *const *)cells, .n_rows = (size_t)n,
                                .highlight = hl, .bar = bar, .bar_col = 3};
    eval_page_table(pg, &t);
    for (int i = 0; i < 8 * n; i++)
        free(cells[i]);
    /* MAP@12 per model, the ceilings as lines */
    const char **names = hm_xcalloc((size_t)n + 1, sizeof *names);
    double *vals = hm_xmalloc_array((size_t)n + 1, sizeof *vals);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(m->r[i].kind, "oracle") && strcmp(m->r[i].kind, "ceiling")) {
            names[k] = m->r[i].name;
            hl[k] = i == m->best;
            vals[k++] = eval_map12(&m->r[i].sum);
        }
    struct eval_ref refs[2];
    size_t nr = 0;
    if (m->ceiling > 0)
        refs[nr++] = (struct eval_ref){"pool ceiling", m->ceiling};
    if (m->oracle > 0)
        refs[nr++] = (struct eval_ref){"oracle", m->oracle};
    struct eval_bar_chart b = {.title = "MAP@12 per model", .value_label = "MAP@12 on the validation week",
                               .names = names, .values = vals, .n = (size_t)k, .horizontal = 1, .highlight = hl,
                               .refs = refs, .n_refs = nr};
    char *svg = eval_plot_bars(&b);
    if (svg)
        eval_page_figure(pg, svg, "MAP@12 of every model, ensemble and baseline; the dashed lines are the ceilings.");
    else
        hm_clear_error();
    free(svg);
    /* every metric at every k: one table per metric */
    static const char *const metric[4] = {"MAP", "precision", "recall", "NDCG"};
    for (int q = 0; q < 4; q++) {
        const char *h[1 + EVAL_NK];
        char hk[EVAL_NK][8];
        h[0] = "model";
        for (int j = 0; j < EVAL_NK; j++) {
            snprintf(hk[j], sizeof hk[j], "@%d", eval_ks[j]);
            h[1 + j] = hk[j];
        }
        char **cc = hm_xcalloc((size_t)n * (1 + EVAL_NK) + 1, sizeof *cc);
        for (int i = 0; i < n; i++) {
            const struct eval_sum *s = &m->r[i].sum;
            double u = s->users ? (double)s->users : 1;
            const double *v = q == 0 ? s->ap : q == 1 ? s->precision : q == 2 ? s->recall : s->ndcg;
            cc[i * (1 + EVAL_NK)] = hm_xstrdup(m->r[i].name);
            for (int j = 0; j < EVAL_NK; j++)
                cc[i * (1 + EVAL_NK) + 1 + j] = fmt5(v[j] / u);
        }
        char cap[64];
        snprintf(cap, sizeof cap, "%s at 1, 3, 5, 10 and 12.", metric[q]);
        struct eval_table_spec tt = {.caption = cap, .header = h, .n_cols = 1 + EVAL_NK,
                                     .cells = (const char *const *)cc, .n_rows = (size_t)n};
        eval_page_table(pg, &tt);
        for (int i = 0; i < n * (1 + EVAL_NK); i++)
            free(cc[i]);
        free(cc);
    }
    free(names);
    free(vals);
    free(cells);
    free(hl);
    free(bar);
}

/* The held-out test week: the submission, the baselines and the oracle on the week after the
 * data, which no setting was chosen on. */
static void test_section(struct eval_page *pg, const struct metrics *m)
{
    if (!m->n_test)
        return;
    const struct pipeline_result *r = m->r + m->n;
    int n = m->n_test;
    eval_page_heading(pg, 2, "The held-out test week", "test-week");
    eval_page_paragraphf(pg,
                         "The synthetic data set also holds the week after the data (in its oracle/ folder only, "
                         "never in the transactions): the week the submission predicts. Every choice of the "
                         "pipeline (the models' settings, the best model, the ensemble's weights) was made on "
                         "the validation and training weeks; this week only reports. It has %llu buyers; in hmrec "
                         "synth's data they all have a history, while the data's last weeks also hold first "
                         "purchases, so compare shares of the oracle rather than raw MAP@12 with the validation "
                         "week.",
                         (unsigned long long)r[0].sum.users);
    static const char *const header[] = {"row", "kind", "MAP@12", "% of oracle", "P@12", "R@12", "NDCG@12"};
    char **cells = hm_xcalloc((size_t)n * 7 + 1, sizeof *cells);
    uint8_t *hl = hm_xcalloc((size_t)n + 1, 1);
    double *bar = hm_xmalloc_array((size_t)n + 1, sizeof *bar);
    for (int i = 0; i < n; i++) {
        const struct eval_sum *s = &r[i].sum;
        double u = s->users ? (double)s->users : 1, v = eval_map12(s);
        char **c = cells + 7 * i;
        c[0] = hm_xstrdup(r[i].name);
        c[1] = hm_xstrdup(r[i].kind);
        c[2] = fmt5(v);
        c[3] = m->test_oracle > 0 ? hm_xasprintf("%.1f%%", 100 * v / m->test_oracle) : hm_xstrdup("-");
        c[4] = hm_xasprintf("%.4f", s->precision[EVAL_NK - 1] / u);
        c[5] = hm_xasprintf("%.4f", s->recall[EVAL_NK - 1] / u);
        c[6] = hm_xasprintf("%.4f", s->ndcg[EVAL_NK - 1] / u);
        hl[i] = m->n + i == m->test_sub;
        bar[i] = m->test_oracle > 0 ? fmin(v / m->test_oracle, 1.0) : NAN;
    }
    struct eval_table_spec t = {.caption = "MAP@12 and the other metrics at 12 on the held-out test week.",
                                .header = header, .n_cols = 7, .cells = (const char *const *)cells, .n_rows = (size_t)n,
                                .highlight = hl, .bar = bar, .bar_col = 3};
    eval_page_table(pg, &t);
    for (int i = 0; i < 7 * n; i++)
        free(cells[i]);
    free(cells);
    free(hl);
    free(bar);
}

/* ---- candidates, learning curves, importance, time ----------------------------------------- */

static void candidates_section(struct pipeline *p, struct eval_page *pg)
{
    struct recall_stats st;
    if (pipeline_candidates_stats(p, &st) != 0) {
        hm_clear_error();
        return;
    }
    eval_page_heading(pg, 2, "Candidates", "candidates");
    eval_page_paragraphf(pg,
                         "%d strategies propose articles for every customer; the merged pool keeps at most %u per "
                         "customer. Recall is the share of the validation week's (customer, article) purchases the "
                         "candidates contain: no ranker can recommend what the pool misses.",
                         recall_n_strategies, st.pool);
    char *a = recall_stats_strategy_svg(&st), *b = recall_stats_svg(&st);
    if (a)
        eval_page_figure(pg, a, "Recall of each strategy's whole list and of the merged pool.");
    if (b)
        eval_page_figure(pg, b, "Recall of the merged pool's first N candidates per customer.");
    if (!a || !b)
        hm_clear_error();
    free(a);
    free(b);
}

/* One chart of the curves of the models whose kinds share a chart (the boosted models' rounds,
 * the network's epochs). */
static void curves_chart(struct eval_page *pg, const struct rank_curves *c, const struct rank_model_kind *family)
{
    struct eval_series s[RANK_MAX_MODELS];
    size_t ns = 0, len = 0, best_s = 0, best_i = 0;
    double best = -1;
    for (int k = 0; k < c->n; k++) {
        const struct rank_model_kind *kind = rank_model_kind_find(c->name[k]);
        if (!kind || strcmp(kind->curve_title, family->curve_title) || !c->curve[k].n)
            continue;
        s[ns] = (struct eval_series){c->name[k], c->curve[k].v};
        if (c->curve[k].n > len)
            len = c->curve[k].n;
        for (size_t i = 0; i < c->curve[k].n; i++)
            if (!isnan(c->curve[k].v[i]) && c->curve[k].v[i] > best) {
                best = c->curve[k].v[i];
                best_s = ns;
                best_i = i;
            }
        ns++;
    }
    if (!ns)
        return;
    /* series of one length: pad the shorter ones with gaps */
    double *pad[RANK_MAX_MODELS];
    for (size_t k = 0; k < ns; k++) {
        pad[k] = hm_xmalloc_array(len + 1, sizeof **pad);
        for (size_t i = 0; i < len; i++)
            pad[k][i] = NAN;
        for (int q = 0; q < c->n; q++)
            if (!strcmp(c->name[q], s[k].name))
                memcpy(pad[k], c->curve[q].v, c->curve[q].n * sizeof **pad);
        s[k].v = pad[k];
    }
    struct eval_line_chart chart = {.title = family->curve_title, .x_label = family->curve_x,
                                    .y_label = "held-out MAP@12", .n = len, .series = s, .n_series = ns, .y_zero = 1,
                                    .mark_label = "best", .mark_series = best_s, .mark_index = best_i};
    char *svg = best >= 0 ? eval_plot_line(&chart) : NULL;
    if (svg)
        eval_page_figure(pg, svg, family->curve_caption);
    else
        hm_clear_error();
    free(svg);
    for (size_t k = 0; k < ns; k++)
        free(pad[k]);
}

static void curves_section(struct pipeline *p, struct eval_page *pg)
{
    struct rank_curves c;
    if (pipeline_curves_read(p, &c) != 0) {
        hm_clear_error();
        return;
    }
    eval_page_heading(pg, 2, "Learning curves", "curves");
    eval_page_paragraph(pg, "Held-out MAP@12 (customers of the training weeks set aside for early stopping, scored on "
                            "their whole candidate lists) after each boosting round, and after each epoch of the "
                            "network; every model keeps its best round or epoch.");
    /* one chart per kind of curve, in the table's order */
    for (int k = 0; k < rank_n_model_kinds; k++) {
        int first = 1;
        for (int q = 0; q < k; q++)
            first &= strcmp(rank_model_kinds[q].curve_title, rank_model_kinds[k].curve_title) != 0;
        if (first)
            curves_chart(pg, &c, &rank_model_kinds[k]);
    }
    rank_curves_release(&c);
}

static void importance_section(struct pipeline *p, struct eval_page *pg, const struct metrics *m)
{
    /* the model with the best validation MAP@12 among those whose kind measures importance */
    int pick = -1;
    for (int i = 0; i < m->n; i++) {
        const struct rank_model_kind *kind = rank_model_kind_find(m->r[i].name);
        if (strcmp(m->r[i].kind, "model") || !kind || !kind->importance)
            continue;
        if (pick < 0 || eval_map12(&m->r[i].sum) > eval_map12(&m->r[pick].sum))
            pick = i;
    }
    if (pick < 0)
        return;
    struct rank_model model;
    char *dir = pipeline_models_dir(p, 0);
    int rc = rank_model_load(dir, m->r[pick].name, &model);
    free(dir);
    if (rc) {
        rank_model_release(&model);
        hm_clear_error();
        return;
    }
    struct rank_importance *f;
    uint32_t n;
    if (rank_model_importance(&model, &f, &n) == 0) {
        uint32_t top = n < 30 ? n : 30;
        const char **names = hm_xcalloc(top + 1, sizeof *names);
        double *vals = hm_xmalloc_array(top + 1, sizeof *vals);
        for (uint32_t i = 0; i < top; i++) {
            names[i] = f[i].name;
            vals[i] = f[i].gain;
        }
        eval_page_heading(pg, 3, "Feature importance", "importance");
        char title[96];
        snprintf(title, sizeof title, "The top %u features of %s by gain", top, m->r[pick].name);
        struct eval_bar_chart b = {.title = title, .value_label = "average gain of the splits on the feature",
                                   .names = names, .values = vals, .n = top, .horizontal = 1};
        char *svg = eval_plot_bars(&b);
        if (svg)
            eval_page_figure(pg, svg, "Feature importance (average loss reduction of the splits on each feature) of "
                                      "the best boosted model; docs/features.md explains every feature.");
        else
            hm_clear_error();
        free(svg);
        free(names);
        free(vals);
        free(f);
    } else {
        hm_clear_error();
    }
    rank_model_release(&model);
}

/* The stages' wall time summed and the largest peak memory. */
static void stage_totals(struct pipeline *p, double *total, double *peak)
{
    *total = *peak = 0;
    for (int i = 0; i < pipeline_n_stages; i++) {
        double s;
        uint64_t r;
        if (pipeline_stage_took(p, pipeline_stages[i].name, &s, &r)) {
            *total += s;
            *peak = fmax(*peak, (double)r);
        }
    }
}

static void time_section(struct pipeline *p, struct eval_page *pg, double *total, double *peak)
{
    const char *names[PIPELINE_MAX_STAGES];
    double secs[PIPELINE_MAX_STAGES], rss[PIPELINE_MAX_STAGES];
    size_t n = 0;
    *total = *peak = 0;
    for (int i = 0; i < pipeline_n_stages; i++) {
        uint64_t r;
        if (!pipeline_stage_took(p, pipeline_stages[i].name, &secs[n], &r))
            continue;
        rss[n] = (double)r;
        *total += secs[n];
        *peak = fmax(*peak, rss[n]);
        names[n++] = pipeline_stages[i].name;
    }
    if (!n)
        return;
    eval_page_heading(pg, 2, "Time and memory", "time");
    eval_page_paragraphf(pg, "Wall time of each stage when it last ran, and the peak resident memory of its process at "
                             "its end (stages run in one process share it), on %d threads.",
                         hm_threads());
    struct eval_series s[2] = {{"wall time", secs}, {"peak memory", rss}};
    enum eval_unit units[2] = {EVAL_SECONDS, EVAL_BYTES};
    struct eval_group_chart c = {.title = "Time and peak memory per stage", .categories = names, .n_categories = n,
                                 .series = s, .n_series = 2, .layout = EVAL_BARS_PANELS, .units = units};
    char *svg = eval_plot_groups(&c);
    if (svg)
        eval_page_figure(pg, svg, "Time and peak memory per stage.");
    else
        hm_clear_error();
    free(svg);
}

/* ---- example customers ------------------------------------------------------------------------ */

/* The article's thumbnail in the images directory (images/0XX/0XXXXXXXXX.jpg), or NULL. */
static char *thumbnail(const struct pipeline *p, const struct data_set *ds, uint32_t a)
{
    char *dir = p->c.report.images[0] ? hm_xstrdup(p->c.report.images)
                                      : p->c.run.data[0] ? hm_path_join(p->c.run.data, "images") : NULL;
    if (!dir)
        return NULL;
    char id[11], name[32];
    data_article_str(ds, a, id);
    snprintf(name, sizeof name, "%.3s/%s.jpg", id, id);
    char *path = hm_path_join(dir, name);
    free(dir);
    if (access(path, R_OK) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

static void article_tile(const struct pipeline *p, const struct data_set *ds, uint32_t a, int marked,
                         struct eval_tile *t, char **own)
{
    const struct data_articles *art = &ds->articles;
    uint32_t ln = 0, lc = 0;
    const char *name = art->code[IO_ART_PROD_NAME] ? data_dict_get(&art->dict[IO_ART_PROD_NAME], art->code[IO_ART_PROD_NAME][a], &ln) : "";
    const char *colour = art->code[IO_ART_COLOUR_GROUP_NAME]
                             ? data_dict_get(&art->dict[IO_ART_COLOUR_GROUP_NAME], art->code[IO_ART_COLOUR_GROUP_NAME][a], &lc)
                             : "";
    char id[11];
    data_article_str(ds, a, id);
    own[0] = hm_xasprintf("%.*s", (int)ln, name);
    own[1] = hm_xasprintf("%s, %.*s", id, (int)lc, colour);
    own[2] = thumbnail(p, ds, a);
    *t = (struct eval_tile){own[2], own[0], own[1], marked};
}

/* Customer c's tiles: the last distinct purchases before the cutoff, most recent first. */
static void last_purchases(struct pipeline *p, struct eval_page *pg, const struct data_set *ds, uint32_t c,
                           int32_t cutoff)
{
    struct eval_tile tiles[6];
    char *own[6 * 3];
    uint64_t lo, hi;
    const struct data_transactions *tx = prep_customer_rows(ds, c, 0, cutoff - 1, &lo, &hi);
    size_t nt = 0;
    uint32_t seen[6];
    for (uint64_t r = hi; r > lo && nt < 6; r--) {
        uint32_t a = tx->article[r - 1];
        int dup = 0;
        for (size_t k = 0; k < nt; k++)
            dup |= seen[k] == a;
        if (dup)
            continue;
        seen[nt] = a;
        article_tile(p, ds, a, 0, &tiles[nt], own + 3 * nt);
        nt++;
    }
    eval_page_tiles(pg, "last purchases", NULL, tiles, nt);
    for (size_t k = 0; k < 3 * nt; k++)
        free(own[k]);
}

/* Its recommendations, marked when bought in the week of truth. */
static void recommended(struct pipeline *p, struct eval_page *pg, const struct data_set *ds, uint32_t c,
                        const struct prep_truth *truth, const uint32_t *top, uint32_t n)
{
    struct eval_tile tiles[12];
    char *own[12 * 3];
    uint32_t x = prep_truth_find(truth, c);
    for (uint32_t k = 0; k < n; k++) {
        int bought = 0;
        if (x != UINT32_MAX)
            for (uint64_t q = truth->off[x]; q < truth->off[x + 1]; q++)
                bought |= truth->items[q] == top[k];
        article_tile(p, ds, top[k], bought, &tiles[k], own + 3 * k);
    }
    eval_page_tiles(pg, "recommended", "bought in the validation week", tiles, n);
    for (size_t k = 0; k < 3 * (size_t)n; k++)
        free(own[k]);
}

/* A few customers of the validation week's pool, spread over it (a fixed stride, so that the
 * examples are not all alike): their candidates. */
static int example_customers(struct pipeline *p, long want, struct recall_candidates *some)
{
    char *cpath = pipeline_candidates_path(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0});
    struct recall_candidates all;
    int rc = recall_candidates_read(&all, cpath);
    free(cpath);
    recall_candidates_init(some);
    if (rc)
        return rc;
    uint8_t *keep = hm_xcalloc(all.n + 1, 1);
    uint32_t stride = all.n_users / (uint32_t)want ? all.n_users / (uint32_t)want : 1, n_users = 0;
    for (uint32_t i = stride / 2; i < all.n_users && n_users < (uint32_t)want; i += stride, n_users++)
        memset(keep + all.off[i], 1, all.off[i + 1] - all.off[i]);
    recall_candidates_subset(some, &all, keep);
    free(keep);
    recall_candidates_release(&all);
    return 0;
}

static void examples_section(struct pipeline *p, struct eval_page *pg, const struct metrics *m)
{
    long want = p->c.report.examples;
    if (want <= 0 || m->best < 0 || !strcmp(m->r[m->best].kind, "baseline"))
        return;
    const struct data_set *ds;
    struct prep_week days;
    struct recall_candidates some;
    if (pipeline_data(p, &ds) || pipeline_week_days(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0}, &days) ||
        example_customers(p, want, &some)) {
        hm_clear_error();
        return;
    }
    struct pipeline_predict_opts o = {.model = m->r[m->best].name, .cutoff = days.start};
    struct pipeline_predictor *pr = NULL;
    struct prep_truth truth;
    uint32_t *top = hm_xmalloc_array((size_t)some.n_users * 12 + 1, sizeof *top);
    uint8_t *n = hm_xmalloc((size_t)some.n_users + 1);
    int rc = prep_truth_build(&truth, ds, days);
    if (!rc && (rc = pipeline_predictor_open(p, &o, &pr)) == 0 &&
        (rc = pipeline_predict_block(pr, &some, top, n, NULL)) == 0) {
        eval_page_heading(pg, 2, "Example customers", "examples");
        eval_page_paragraphf(pg, "A few customers who bought in the validation week: their last purchases before "
                                 "it, and the 12 articles %s recommends (marked: bought that week).",
                             pipeline_predictor_model(pr));
        for (uint32_t i = 0; i < some.n_users; i++) {
            char hex[65], head[96];
            data_customer_hex(ds, some.user[i], hex);
            snprintf(head, sizeof head, "Customer %.4s...%.4s", hex, hex + 60);
            eval_page_heading(pg, 3, head, NULL);
            last_purchases(p, pg, ds, some.user[i], days.start);
            recommended(p, pg, ds, some.user[i], &truth, top + (size_t)i * 12, n[i]);
        }
    }
    if (rc)
        hm_clear_error();
    pipeline_predictor_close(&pr);
    prep_truth_release(&truth);
    free(top);
    free(n);
    recall_candidates_release(&some);
}

/* ---- the stage ---------------------------------------------------------------------------------- */

int pipeline_report_stage(struct pipeline *p)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    struct metrics m;
    metrics_load(p, &m);
    struct eval_page pg;
    eval_page_init(&pg, "hmrec report");
    char d0[11], d1[11];
    hm_date_format(ds->tx.day_max - 6, d0);
    hm_date_format(ds->tx.day_max, d1);
    uint32_t buyers = 0;
    for (int i = 0; i < m.n; i++)
        if ((uint32_t)m.r[i].sum.users > buyers)
            buyers = (uint32_t)m.r[i].sum.users;
    char *sub = hm_xasprintf("%s: %llu transactions, %u customers, %u articles; validation week %s to %s",
                             p->c.run.data[0] ? p->c.run.data : p->store, (unsigned long long)ds->tx.n,
                             ds->customers.n, ds->articles.n, d0, d1);
    eval_page_subtitle(&pg, sub);
    free(sub);
    double total, peak;
    stage_totals(p, &total, &peak);
    /* key figures */
    char v[7][32], note[7][160];
    struct eval_card cards[7];
    size_t nc = 0;
    if (m.best >= 0) {
        double b = eval_map12(&m.r[m.best].sum), bb = m.best_baseline >= 0 ? eval_map12(&m.r[m.best_baseline].sum) : 0;
        snprintf(v[nc], 32, "%.5f", b);
        if (bb > 0)
            snprintf(note[nc], 160, "%s, %.1fx the best baseline", m.r[m.best].name, b / bb);
        else
            snprintf(note[nc], 160, "%s", m.r[m.best].name);
        cards[nc] = (struct eval_card){"best MAP@12", v[nc], note[nc]};
        nc++;
    }
    if (m.best_baseline >= 0) {
        snprintf(v[nc], 32, "%.5f", eval_map12(&m.r[m.best_baseline].sum));
        snprintf(note[nc], 160, "%s", m.r[m.best_baseline].name);
        cards[nc] = (struct eval_card){"best baseline", v[nc], note[nc]};
        nc++;
    }
    if (m.ceiling > 0) {
        snprintf(v[nc], 32, "%.5f", m.ceiling);
        snprintf(note[nc], 160, "a perfect ranker of the pool");
        cards[nc] = (struct eval_card){"pool ceiling", v[nc], note[nc]};
        nc++;
    }
    if (m.oracle > 0) {
        snprintf(v[nc], 32, "%.5f", m.oracle);
        if (m.best >= 0)
            snprintf(note[nc], 160, "the best model reaches %.1f%% of it", 100 * eval_map12(&m.r[m.best].sum) / m.oracle);
        else
            snprintf(note[nc], 160, "the generator's own predictions");
        cards[nc] = (struct eval_card){"oracle", v[nc], note[nc]};
        nc++;
    }
    if (m.test_sub >= 0) {
        double t = eval_map12(&m.r[m.test_sub].sum);
        snprintf(v[nc], 32, "%.5f", t);
        int k = snprintf(note[nc], 160, "the submission on the held-out week");
        if (m.test_oracle > 0)
            k += snprintf(note[nc] + k, 160 - (size_t)k, ", %.1f%% of its oracle", 100 * t / m.test_oracle);
        if (m.test_baseline > 0)
            snprintf(note[nc] + k, 160 - (size_t)k, ", %.1fx its best baseline", t / m.test_baseline);
        cards[nc] = (struct eval_card){"test week MAP@12", v[nc], note[nc]};
        nc++;
    }
    if (total > 0) {
        eval_format(total, EVAL_SECONDS, v[nc], 32);
        snprintf(note[nc], 160, "the stages' wall time, %d threads", hm_threads());
        cards[nc] = (struct eval_card){"wall time", v[nc], note[nc]};
        nc++;
        eval_format(peak, EVAL_BYTES, v[nc], 32);
        snprintf(note[nc], 160, "peak resident memory");
        cards[nc] = (struct eval_card){"peak memory", v[nc], note[nc]};
        nc++;
    }
    eval_page_cards(&pg, cards, nc);
    eval_page_toc(&pg);
    if (m.n)
        metrics_section(&pg, &m, buyers);
    test_section(&pg, &m);
    if (!p->image_loaded && !p->c.feat.image[0])
        eval_page_paragraph(&pg, "No image embeddings were configured (features.image): the image features are "
                                 "imputed and the network has no image tower. hmrec embed computes them from the "
                                 "article photos.");
    candidates_section(p, &pg);
    curves_section(p, &pg);
    importance_section(p, &pg, &m);
    time_section(p, &pg, &total, &peak);
    examples_section(p, &pg, &m);
    eval_page_heading(&pg, 2, "Settings", "settings");
    char *settings = pipeline_config_text(&p->c, "");
    eval_page_pre(&pg, settings);
    free(settings);
    char *hp = pipeline_path(p, "report.html"), *tp = pipeline_path(p, "report.txt");
    rc = eval_page_write(&pg, hp);
    char *text = eval_page_text(&pg);
    if (!rc) {
        struct hm_awriter w;
        if ((rc = hm_awriter_open(&w, tp)) == 0) {
            hm_awriter_write(&w, text, strlen(text));
            rc = hm_awriter_commit(&w);
        }
    }
    if (!rc)
        hm_report("report: wrote %s and %s", hp, tp);
    free(text);
    free(hp);
    free(tp);
    eval_page_release(&pg);
    free(m.r);
    return rc;
}
