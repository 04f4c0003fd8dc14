/* The report stage: report.html (one self-contained page: tables, inline SVG charts,
 * thumbnails as data: URIs) and report.txt, the same content as text (`hmrec run` ends with
 * the metrics table and the paths of both). It reads what the other stages left in the work
 * directory (metrics.tsv, candidates_stats.tsv, rank_curves.tsv, the models, the stages'
 * times) and scores a handful of example customers of the validation week with the best model
 * to show their recommendations next to what they bought. */
#include "pipeline/pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPORT_MAX_ROWS 64

/* ---- the metrics ------------------------------------------------------------------------- */

struct metrics {
    struct pipeline_result *r;
    int n;
    int best;             /* the best model, ensemble or baseline (-1: none) */
    int best_baseline;    /* -1: none */
    double oracle, ceiling;
};

static void metrics_load(struct pipeline *p, struct metrics *m)
{
    memset(m, 0, sizeof *m);
    m->best = m->best_baseline = -1;
    char *path = pipeline_path(p, "metrics.tsv");
    if (pipeline_results_read(path, &m->r, &m->n) != 0)
        hm_clear_error();
    free(path);
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

static void curves_section(struct pipeline *p, struct eval_page *pg)
{
    struct pipeline_curves c;
    if (pipeline_curves_read(p, &c) != 0) {
        hm_clear_error();
        return;
    }
    eval_page_heading(pg, 2, "Learning curves", "curves");
    eval_page_paragraph(pg, "Held-out MAP@12 (customers of the training weeks set aside for early stopping, scored on "
                            "their whole candidate lists) after each boosting round, and after each epoch of the "
                            "network; every model keeps its best round or epoch.");
    for (int nn = 0; nn < 2; nn++) {
        struct eval_series s[PIPELINE_MAX_MODELS];
        size_t ns = 0, len = 0, best_s = 0, best_i = 0;
        double best = -1;
        for (int k = 0; k < c.n; k++) {
            if ((strcmp(c.name[k], "nn") == 0) != nn || !c.curve[k].n)
                continue;
            s[ns] = (struct eval_series){c.name[k], c.curve[k].v};
            if (c.curve[k].n > len)
                len = c.curve[k].n;
            for (size_t i = 0; i < c.curve[k].n; i++)
                if (!isnan(c.curve[k].v[i]) && c.curve[k].v[i] > best) {
                    best = c.curve[k].v[i];
                    best_s = ns;
                    best_i = i;
                }
            ns++;
        }
        if (!ns)
            continue;
        /* series of one length: pad the shorter ones with gaps */
        double *pad[PIPELINE_MAX_MODELS];
        for (size_t k = 0; k < ns; k++) {
            pad[k] = hm_xmalloc_array(len + 1, sizeof **pad);
            for (size_t i = 0; i < len; i++)
                pad[k][i] = NAN;
            for (int q = 0; q < c.n; q++)
                if (!strcmp(c.name[q], s[k].name))
                    memcpy(pad[k], c.curve[q].v, c.curve[q].n * sizeof **pad);
            s[k].v = pad[k];
        }
        struct eval_line_chart chart = {.title = nn ? "The network: held-out MAP@12 per epoch"
                                                    : "Boosted models: held-out MAP@12 per round",
                                        .x_label = nn ? "epoch" : "boosting round", .y_label = "held-out MAP@12",
                                        .n = len, .series = s, .n_series = ns, .y_zero = 1,
                                        .mark_label = "best", .mark_series = best_s, .mark_index = best_i};
        char *svg = best >= 0 ? eval_plot_line(&chart) : NULL;
        if (svg)
            eval_page_figure(pg, svg, nn ? "The network's learning curve." : "The boosted models' learning curves.");
        else
            hm_clear_error();
        free(svg);
        for (size_t k = 0; k < ns; k++)
            free(pad[k]);
    }
    pipeline_curves_release(&c);
}

static void importance_section(struct pipeline *p, struct eval_page *pg, const struct metrics *m)
{
    /* the boosted model with the best validation MAP@12 */
    int pick = -1;
    for (int i = 0; i < m->n; i++) {
        if (strcmp(m->r[i].kind, "model") || !strcmp(m->r[i].name, "nn"))
            continue;
        if (pick < 0 || eval_map12(&m->r[i].sum) > eval_map12(&m->r[pick].sum))
            pick = i;
    }
    if (pick < 0)
        return;
    struct gbm_model *g;
    char *path = pipeline_model_path(p, m->r[pick].name);
    int rc = gbm_load(path, &g);
    free(path);
    if (rc) {
        hm_clear_error();
        return;
    }
    struct gbm_feature *f;
    uint32_t n;
    if (gbm_importance(g, &f, &n) == 0) {
        uint32_t top = n < 30 ? n : 30;
        const char **names = hm_xcalloc(top + 1, sizeof *names);
        double *vals = hm_xmalloc_array(top + 1, sizeof *vals);
        for (uint32_t i = 0; i < top; i++) {
            names[i] = gbm_model_col_name(g, f[i].col);
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
    gbm_free(&g);
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

static void examples_section(struct pipeline *p, struct eval_page *pg, const struct metrics *m)
{
    long want = p->c.report.examples;
    if (want <= 0 || m->best < 0 || !strcmp(m->r[m->best].kind, "baseline"))
        return;
    const struct data_set *ds;
    const struct data_article_matrix *text;
    const struct feat_image *image;
    struct prep_week days;
    if (pipeline_data(p, &ds) || pipeline_inputs(p, &text, &image) ||
        pipeline_week_days(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0}, &days)) {
        hm_clear_error();
        return;
    }
    struct pipeline_scorer scorer;
    char *cpath = pipeline_candidates_path(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0});
    struct recall_candidates all, some;
    int rc = recall_candidates_read(&all, cpath);
    free(cpath);
    if (rc) {
        hm_clear_error();
        return;
    }
    if ((rc = pipeline_scorer_load(p, "models", m->r[m->best].name, &scorer)) != 0) {
        hm_clear_error();
        recall_candidates_release(&all);
        return;
    }
    /* customers spread over the list (a fixed stride), so the examples are not all alike */
    recall_candidates_init(&some);
    uint8_t *keep = hm_xcalloc(all.n + 1, 1);
    uint32_t stride = all.n_users / (uint32_t)want ? all.n_users / (uint32_t)want : 1, n_users = 0;
    for (uint32_t i = stride / 2; i < all.n_users && n_users < (uint32_t)want; i += stride, n_users++)
        memset(keep + all.off[i], 1, all.off[i + 1] - all.off[i]);
    recall_candidates_subset(&some, &all, keep);
    free(keep);
    recall_candidates_release(&all);
    struct prep_truth truth;
    struct feat_ctx ctx;
    struct feat_inputs in = {.ds = ds, .text = text->x, .text_rows = ds->articles.n, .text_dim = text->dim, .image = image};
    if ((rc = prep_truth_build(&truth, ds, days)) == 0 && (rc = feat_ctx_init(&ctx, &in, days.start, &p->c.feat)) == 0) {
        float *x, *score = hm_xmalloc_array(some.n + 1, sizeof *score);
        const uint8_t *towers = pipeline_column_towers();
        if ((rc = pipeline_features_of(&ctx, &some, some.n_users ? some.n_users : 1, &x)) == 0) {
            struct rank_data d = {.n_rows = some.n, .n_cols = feat_n_cols(), .x = x, .col_name = feat_column_names(),
                                  .col_tower = towers, .n_groups = some.n_users, .group_off = some.off,
                                  .group_user = some.user, .item = some.item,
                                  .image = image ? image->emb : NULL, .image_dim = image ? image->dim : 0,
                                  .n_articles = ds->articles.n};
            if ((rc = pipeline_scorer_score(&scorer, &d, score)) == 0) {
                eval_page_heading(pg, 2, "Example customers", "examples");
                eval_page_paragraphf(pg, "A few customers who bought in the validation week: their last purchases before "
                                         "it, and the 12 articles %s recommends (marked: bought that week).",
                                     scorer.name);
                for (uint32_t i = 0; i < some.n_users; i++) {
                    uint32_t c = some.user[i], x2 = prep_truth_find(&truth, c);
                    char hex[65], head[96];
                    data_customer_hex(ds, c, hex);
                    snprintf(head, sizeof head, "Customer %.4s...%.4s", hex, hex + 60);
                    eval_page_heading(pg, 3, head, NULL);
                    struct eval_tile tiles[12];
                    char *own[12 * 3];
                    memset(own, 0, sizeof own);
                    /* the last distinct purchases, most recent first */
                    uint64_t lo, hi;
                    const struct data_transactions *tx = prep_customer_rows(ds, c, 0, days.start - 1, &lo, &hi);
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
                    memset(own, 0, sizeof own);
                    uint64_t top[12];
                    uint32_t nr = rank_group_top12(&d, i, score, top);
                    for (uint32_t k = 0; k < nr; k++) {
                        uint32_t a = some.item[top[k]];
                        int bought = 0;
                        if (x2 != UINT32_MAX)
                            for (uint64_t q = truth.off[x2]; q < truth.off[x2 + 1]; q++)
                                bought |= truth.items[q] == a;
                        article_tile(p, ds, a, bought, &tiles[k], own + 3 * k);
                    }
                    eval_page_tiles(pg, "recommended", "bought in the validation week", tiles, nr);
                    for (size_t k = 0; k < 3 * (size_t)nr; k++)
                        free(own[k]);
                }
            }
            free(x);
        }
        free(score);
        feat_ctx_release(&ctx);
    }
    if (rc)
        hm_clear_error();
    prep_truth_release(&truth);
    recall_candidates_release(&some);
    pipeline_scorer_release(&scorer);
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
    char v[6][32], note[6][160];
    struct eval_card cards[6];
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
