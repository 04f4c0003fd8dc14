/* Stages of the pipeline shared by the single commands and `hmrec run`. */
#include "pipeline.h"
#include "cli.h"
#include "io/submission.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *pipeline_store_dir(const struct cli_config *c)
{
    if (c->run.store[0])
        return hm_xstrdup(c->run.store);
    return hm_path_join(c->run.work, "store");
}

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static void print_week(const char *what, struct prep_week w)
{
    char a[11], b[11];
    hm_date_format(w.start, a);
    hm_date_format(w.end, b);
    printf("  %-16s %s .. %s\n", what, a, b);
}

int pipeline_prepare(const struct cli_config *c, const struct data_set *ds)
{
    int64_t t0 = hm_now_ns();
    struct prep_result r;
    int rc = prep_run(&r, ds, &c->prep);
    if (rc)
        return rc;
    char *path = hm_path_join(c->run.work, "prepare.hmt");
    if ((rc = hm_mkdirs(c->run.work)) == 0)
        rc = prep_result_write(&r, path);
    if (rc) {
        free(path);
        prep_result_release(&r);
        return rc;
    }
    printf("prepare: windows\n");
    print_week("validation week", r.win.val);
    if (r.win.n_train) {
        struct prep_week span = {r.win.train[r.win.n_train - 1].start, r.win.train[0].end};
        char label[32];
        snprintf(label, sizeof label, "%d training wks", r.win.n_train);
        print_week(label, span);
    }
    print_week("test week", r.win.test);
    char hs[11];
    hm_date_format(r.win.history_start, hs);
    printf("  %-16s from %s\n", "history", hs);
    printf("prepare: sample of %u customers (seed %ld)\n", r.sample.n, c->prep.seed);
    printf("  %-20s %10s %10s\n", "bin", "customers", "sampled");
    for (int b = 0; b < PREP_NBINS; b++) {
        char label[32];
        if (b == PREP_COLD)
            snprintf(label, sizeof label, "%s (0-%ld)", prep_bin_name[b], c->prep.cold_max);
        else if (b + 1 < PREP_NBINS)
            snprintf(label, sizeof label, "%s (%u-%u)", prep_bin_name[b], prep_bin_lo[b], prep_bin_lo[b + 1] - 1);
        else
            snprintf(label, sizeof label, "%s (%u+)", prep_bin_name[b], prep_bin_lo[b]);
        printf("  %-20s %10llu %10llu\n", label, (unsigned long long)r.sample.pop[b],
               (unsigned long long)r.sample.got[b]);
    }
    uint64_t tx_bytes = 0;
    const struct io_table *tt = &ds->files[2];
    for (int i = 0; i < tt->n_cols; i++)
        tx_bytes += io_table_column_bytes(&tt->cols[i]);
    printf("prepare: training users %u, articles kept %u of %u (min %ld purchases), "
           "validation users %u (%u in the sample)\n",
           r.sample.n, r.items.n, ds->articles.n, c->prep.min_item_purchases, r.val_buyers,
           r.val_sampled_buyers);
    printf("prepare: memory: transactions %.1f MiB (%llu rows), sample %.2f MiB, items %.2f MiB\n",
           mib(tx_bytes), (unsigned long long)ds->tx.n, mib((uint64_t)r.sample.n * 5),
           mib((uint64_t)r.items.n * 4 + r.items.n_articles));
    printf("prepare: wrote %s in %.2fs\n", path, hm_seconds_since(t0));
    free(path);
    prep_result_release(&r);
    return 0;
}

/* ---- baselines and evaluation ------------------------------------------------------- */

int pipeline_baseline_eval(const struct cli_config *c, const struct data_set *ds, int kind,
                           const struct prep_truth *truth, struct eval_row *row)
{
    uint32_t n = truth->n_users;
    uint32_t *pred = hm_xmalloc_array((size_t)n * RECALL_K + 1, sizeof *pred);
    uint8_t *npred = hm_xmalloc((size_t)n + 1);
    int32_t cutoff = ds->tx.day_max - 6; /* the validation week's first day */
    int rc = recall_baseline_predict(ds, kind, &c->base, cutoff, truth->user, n, pred, npred);
    if (!rc) {
        memset(&row->sum, 0, sizeof row->sum);
        row->name = recall_baseline_name[kind];
        for (uint32_t i = 0; i < n; i++)
            eval_sum_add(&row->sum, pred + (size_t)i * RECALL_K, npred[i], truth->items + truth->off[i],
                            truth->off[i + 1] - truth->off[i]);
    }
    free(pred);
    free(npred);
    return rc;
}

int pipeline_write_predictions(const struct cli_config *c, const struct data_set *ds, int kind,
                               int32_t cutoff, const uint32_t *users, uint32_t n, const char *path)
{
    struct io_subwriter w;
    int rc = io_subwriter_open(&w, path);
    if (rc)
        return rc;
    const uint32_t block = 1 << 16;
    uint32_t *pred = hm_xmalloc_array((size_t)block * RECALL_K, sizeof *pred);
    uint8_t *npred = hm_xmalloc(block);
    uint32_t *ids = hm_xmalloc_array(RECALL_K, sizeof *ids);
    uint32_t *seq = users ? NULL : hm_xmalloc_array(block, sizeof *seq);
    struct hm_progress prog;
    hm_progress_begin(&prog, "predictions", n);
    for (uint32_t b = 0; b < n && !rc; b += block) {
        uint32_t m = n - b < block ? n - b : block;
        const uint32_t *u = users ? users + b : seq;
        if (!users)
            for (uint32_t i = 0; i < m; i++)
                seq[i] = b + i;
        if ((rc = recall_baseline_predict(ds, kind, &c->base, cutoff, u, m, pred, npred)) != 0)
            break;
        for (uint32_t i = 0; i < m && !rc; i++) {
            char hex[65];
            data_customer_hex(ds, u[i], hex);
            for (uint32_t k = 0; k < npred[i]; k++)
                ids[k] = ds->articles.article_id[pred[(size_t)i * RECALL_K + k]];
            rc = io_subwriter_add(&w, hex, ids, npred[i]);
        }
        hm_progress_add(&prog, m);
    }
    hm_progress_end(&prog);
    free(pred);
    free(npred);
    free(ids);
    free(seq);
    if (rc) {
        io_subwriter_abort(&w);
        return rc;
    }
    return io_subwriter_commit(&w);
}

struct eval_file_job {
    const struct data_set *ds;
    struct data_id_index ix;
    uint32_t *pred;   /* (n_customers, 12) */
    uint8_t *npred;   /* (n_customers); 255 = no row yet */
    uint64_t unknown, rows;
    const char *path;
};

static int eval_row(const struct io_subrow *row, void *ud)
{
    struct eval_file_job *j = ud;
    j->rows++;
    uint32_t c = data_id_index_customer(&j->ix, row->customer_id, 64);
    if (c == UINT32_MAX) {
        j->unknown++;
        return 0;
    }
    if (j->npred[c] != 255)
        return hm_error(HM_EPARSE, "%s:%llu: customer %s appears twice", j->path,
                        (unsigned long long)row->line, row->customer_id);
    uint8_t n = 0;
    for (size_t k = 0; k < row->n; k++) {
        uint32_t a = data_id_index_article(&j->ix, row->articles[k]);
        /* an article the store does not know can never be right: it keeps its rank with a
         * value no article has (distinct, so it is not taken for a duplicate) */
        j->pred[(size_t)c * RECALL_K + n++] = a == UINT32_MAX ? UINT32_MAX - (uint32_t)k : a;
    }
    j->npred[c] = n;
    return 0;
}

int pipeline_evaluate_file(const struct data_set *ds, const struct prep_truth *truth,
                           const char *path, struct eval_sum *sum)
{
    uint32_t nc = ds->customers.n;
    struct eval_file_job j = {.ds = ds, .path = path};
    data_id_index_init(&j.ix, ds);
    j.pred = hm_xmalloc_array((size_t)nc * RECALL_K + 1, sizeof *j.pred);
    j.npred = hm_xmalloc((size_t)nc + 1);
    memset(j.npred, 255, (size_t)nc + 1);
    int rc = io_submission_read(path, RECALL_K, eval_row, &j);
    if (!rc) {
        memset(sum, 0, sizeof *sum);
        for (uint32_t i = 0; i < truth->n_users; i++) {
            uint32_t c = truth->user[i];
            uint8_t n = j.npred[c] == 255 ? 0 : j.npred[c];
            eval_sum_add(sum, j.pred + (size_t)c * RECALL_K, n, truth->items + truth->off[i],
                            truth->off[i + 1] - truth->off[i]);
        }
        if (j.unknown)
            hm_warn("%s: %llu of %llu rows name customers the store does not know (ignored)", path,
                    (unsigned long long)j.unknown, (unsigned long long)j.rows);
    }
    data_id_index_release(&j.ix);
    free(j.pred);
    free(j.npred);
    return rc;
}

char *pipeline_oracle_path(const char *data_dir, int32_t start)
{
    if (!data_dir || !data_dir[0])
        return NULL;
    char day[11], name[64];
    hm_date_format(start, day);
    snprintf(name, sizeof name, "oracle/week_%s_oracle.csv", day);
    char *path = hm_path_join(data_dir, name);
    if (access(path, R_OK) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

int pipeline_metrics_table(const struct cli_config *c, const struct data_set *ds,
                           const struct prep_truth *truth, const char *names, const char *oracle,
                           char **table)
{
    *table = NULL;
    struct eval_row rows[RECALL_NBASELINES + 1];
    int n = 0, rc = 0;
    double ref = 0;
    if (oracle) {
        rows[n].name = "oracle";
        if ((rc = pipeline_evaluate_file(ds, truth, oracle, &rows[n].sum)) == 0)
            ref = eval_map12(&rows[n++].sum);
    }
    char list[HM_SETTING_STRLEN];
    snprintf(list, sizeof list, "%s", names);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        int kind = recall_baseline_find(tok);
        if (kind < 0)
            rc = hm_error(HM_EINVAL, "unknown baseline '%s' (popular, decayed, recent)", tok);
        else if (n < RECALL_NBASELINES + 1)
            rc = pipeline_baseline_eval(c, ds, kind, truth, &rows[n++]);
    }
    if (!rc) {
        char *body = eval_table_format(rows, (size_t)n, ref);
        char day0[11], day1[11];
        hm_date_format(ds->tx.day_max - 6, day0);
        hm_date_format(ds->tx.day_max, day1);
        *table = hm_xasprintf("validation week %s..%s: %u customers bought\n%s", day0, day1, truth->n_users, body);
        free(body);
    }
    return rc;
}

int pipeline_submit(const struct cli_config *c, const struct data_set *ds, const char *path)
{
    int kind = recall_baseline_find(c->run.submit_model);
    if (kind < 0)
        return hm_error(HM_EINVAL, "run.submit_model: unknown model '%s'", c->run.submit_model);
    int64_t t0 = hm_now_ns();
    int rc = pipeline_write_predictions(c, ds, kind, ds->tx.day_max + 1, NULL, ds->customers.n, path);
    if (!rc)
        printf("submit: wrote %u customers to %s (model %s) in %.1fs\n", ds->customers.n, path,
               c->run.submit_model, hm_seconds_since(t0));
    return rc;
}

/* ---- Stage 2: candidates ------------------------------------------------------------------ */

/* Appends the first `pool` rows of each customer of src to dst. */
static void append_capped(struct recall_candidates *dst, const struct recall_candidates *src, uint32_t pool)
{
    uint64_t rows = dst->n;
    for (uint32_t i = 0; i < src->n_users; i++) {
        uint64_t n = src->off[i + 1] - src->off[i];
        rows += n > pool ? pool : n;
    }
    dst->user = hm_xrealloc(dst->user, ((size_t)dst->n_users + src->n_users + 1) * sizeof *dst->user);
    dst->off = hm_xrealloc(dst->off, ((size_t)dst->n_users + src->n_users + 2) * sizeof *dst->off);
    if (rows > dst->cap) {
        uint64_t cap = dst->cap ? dst->cap : 1024;
        while (cap < rows)
            cap += cap / 2;
        dst->item = hm_xrealloc(dst->item, cap * 4);
        dst->merged = hm_xrealloc(dst->merged, cap * 4);
        dst->flags = hm_xrealloc(dst->flags, cap);
        dst->n_strat = hm_xrealloc(dst->n_strat, cap);
        for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
            dst->score[s] = hm_xrealloc(dst->score[s], cap * 4);
            dst->rank[s] = hm_xrealloc(dst->rank[s], cap * 2);
        }
        dst->cap = cap;
    }
    for (uint32_t i = 0; i < src->n_users; i++) {
        uint64_t b = src->off[i], n = src->off[i + 1] - b, o = dst->n;
        if (n > pool)
            n = pool;
        if (n) {
            memcpy(dst->item + o, src->item + b, n * 4);
            memcpy(dst->merged + o, src->merged + b, n * 4);
            memcpy(dst->flags + o, src->flags + b, n);
            memcpy(dst->n_strat + o, src->n_strat + b, n);
            for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
                memcpy(dst->score[s] + o, src->score[s] + b, n * 4);
                memcpy(dst->rank[s] + o, src->rank[s] + b, n * 2);
            }
        }
        dst->user[dst->n_users] = src->user[i];
        dst->off[dst->n_users] = o;
        dst->n = o + n;
        dst->off[++dst->n_users] = dst->n;
    }
    dst->cutoff = src->cutoff;
}

/* A submission-format reference (e.g. the synthetic data's oracle): its 12 predictions per
 * customer, and how many of them the pool contains. */
struct ref_job {
    struct data_id_index ix;
    uint32_t *pred;   /* (n_customers, 12) article rows */
    uint8_t *npred;   /* (n_customers) */
    uint64_t unknown;
};

static int ref_row(const struct io_subrow *row, void *ud)
{
    struct ref_job *j = ud;
    uint32_t c = data_id_index_customer(&j->ix, row->customer_id, 64);
    if (c == UINT32_MAX) {
        j->unknown++;
        return 0;
    }
    uint8_t n = 0;
    for (size_t k = 0; k < row->n && n < RECALL_K; k++) {
        uint32_t a = data_id_index_article(&j->ix, row->articles[k]);
        if (a != UINT32_MAX)
            j->pred[(size_t)c * RECALL_K + n++] = a;
    }
    j->npred[c] = n;
    return 0;
}

struct ref_stats {
    uint64_t users;      /* customers of the pool that bought and have reference predictions */
    uint64_t truth;      /* their purchase pairs */
    uint64_t preds;      /* their reference predictions */
    uint64_t in_pool;    /* predictions the pool contains */
    uint64_t hits;       /* predictions that were bought */
    uint64_t hits_in_pool; /* ... and that the pool contains */
    uint64_t pool_hits;  /* purchase pairs in the pool (same customers) */
};

static void ref_add(struct ref_stats *rs, const struct ref_job *j, const struct recall_candidates *c,
                    const struct prep_truth *t, uint32_t pool)
{
    for (uint32_t i = 0; i < c->n_users; i++) {
        uint32_t u = c->user[i], lo = 0, hi = t->n_users;
        if (!j->npred[u])
            continue;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (t->user[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == t->n_users || t->user[lo] != u)
            continue;
        uint64_t b = c->off[i], e = c->off[i + 1];
        if (e - b > pool)
            e = b + pool;
        const uint32_t *truth = t->items + t->off[lo];
        uint64_t nt = t->off[lo + 1] - t->off[lo];
        rs->users++;
        rs->truth += nt;
        for (uint64_t k = 0; k < nt; k++)
            for (uint64_t r = b; r < e; r++)
                if (c->item[r] == truth[k]) {
                    rs->pool_hits++;
                    break;
                }
        for (uint8_t k = 0; k < j->npred[u]; k++) {
            uint32_t a = j->pred[(size_t)u * RECALL_K + k];
            int in = 0, bought = 0;
            for (uint64_t r = b; r < e && !in; r++)
                in = c->item[r] == a;
            for (uint64_t x = 0; x < nt && !bought; x++)
                bought = truth[x] == a;
            rs->preds++;
            rs->in_pool += in;
            rs->hits += bought;
            rs->hits_in_pool += in && bought;
        }
    }
}

static int write_text(const char *path, const char *text)
{
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    if (rc)
        return rc;
    hm_awriter_write(&w, text, strlen(text));
    return hm_awriter_commit(&w);
}

int pipeline_candidates(const struct cli_config *c, const struct data_set *ds,
                        const struct pipeline_cand_opts *o)
{
    int64_t t0 = hm_now_ns();
    uint64_t rss0 = hm_peak_rss();
    struct prep_windows win;
    int rc = prep_windows_init(&win, ds, &c->prep);
    if (rc)
        return rc;
    struct prep_week week = o->week < 0 ? win.test : o->week == 0 ? win.val : (struct prep_week){0, 0};
    if (o->week > 0) {
        if (o->week > win.n_train) {
            prep_windows_release(&win);
            return hm_error(HM_EINVAL, "training week %d: prepare.train_weeks is %d", o->week, win.n_train);
        }
        week = win.train[o->week - 1];
    }
    int32_t val_cutoff = win.val.start;
    prep_windows_release(&win);
    int32_t cutoff = week.start, start = prep_history_start(ds, &c->prep, cutoff);
    struct prep_items items;
    prep_items_filter(&items, ds, start, cutoff, c->prep.min_item_purchases);
    struct prep_truth truth;
    prep_truth_build(&truth, ds, week);
    /* the customers */
    uint32_t *users = NULL, n_users = 0;
    if (o->users == 2) {
        n_users = ds->customers.n;
        users = hm_xmalloc_array((size_t)n_users + 1, sizeof *users);
        for (uint32_t i = 0; i < n_users; i++)
            users[i] = i;
    } else if (o->users == 1) {
        n_users = truth.n_users;
        users = hm_xmalloc_array((size_t)n_users + 1, sizeof *users);
        memcpy(users, truth.user, (size_t)n_users * sizeof *users);
    } else {
        struct prep_sample s;
        prep_sample_draw(&s, ds, &c->prep, val_cutoff);
        users = hm_xmalloc_array((size_t)s.n + truth.n_users + 1, sizeof *users);
        uint32_t i = 0, k = 0;
        while (i < s.n || k < truth.n_users) {
            if (k == truth.n_users || (i < s.n && s.user[i] < truth.user[k]))
                users[n_users++] = s.user[i++];
            else if (i == s.n || truth.user[k] < s.user[i])
                users[n_users++] = truth.user[k++];
            else
                users[n_users++] = s.user[i++], k++;
        }
        prep_sample_release(&s);
    }
    char day[11];
    hm_date_format(cutoff, day);
    printf("candidates: cutoff %s, %u customers, %u articles in the universe\n", day, n_users, items.n);
    struct recall_engine e;
    int64_t t1 = hm_now_ns();
    rc = recall_engine_init(&e, ds, &c->recall, start, cutoff, items.keep);
    double s_init = hm_seconds_since(t1);
    struct recall_stats st;
    memset(&st, 0, sizeof st);
    st.pool = (uint32_t)c->recall.pool;
    struct recall_candidates all;
    recall_candidates_init(&all);
    struct ref_job ref = {0};
    struct ref_stats rs = {0};
    if (!rc && o->stats && o->reference) {
        data_id_index_init(&ref.ix, ds);
        ref.pred = hm_xmalloc_array((size_t)ds->customers.n * RECALL_K + 1, sizeof *ref.pred);
        ref.npred = hm_xcalloc((size_t)ds->customers.n + 1, 1);
        rc = io_submission_read(o->reference, RECALL_K, ref_row, &ref);
    }
    const uint32_t block = 1u << 16;
    int64_t t2 = hm_now_ns();
    struct hm_progress prog;
    hm_progress_begin(&prog, "candidates", n_users);
    for (uint32_t b = 0; b < n_users && !rc; b += block) {
        uint32_t m = n_users - b < block ? n_users - b : block;
        struct recall_candidates part;
        recall_candidates_init(&part);
        rc = recall_candidates_build(&e, users + b, m, o->stats ? 0 : st.pool, &part, &prog);
        if (!rc && o->stats)
            recall_stats_add(&st, &part, &truth);
        if (!rc && ref.pred)
            ref_add(&rs, &ref, &part, &truth, st.pool);
        if (!rc && o->write)
            append_capped(&all, &part, st.pool);
        recall_candidates_release(&part);
    }
    hm_progress_end(&prog);
    double s_build = hm_seconds_since(t2);
    if (!rc)
        printf("candidates: strategies' shared state in %.1fs (popular %.2fs, window %.2fs, co-purchase "
               "%.2fs, category %.2fs, text model %.2fs); per-customer lists and merge in %.1fs\n",
               s_init, e.seconds_init[RECALL_S_POPULAR], e.seconds_init[RECALL_S_USERKNN],
               e.seconds_init[RECALL_S_COPURCHASE], e.seconds_init[RECALL_S_CATEGORY],
               e.seconds_init[RECALL_S_TEXT], s_build);
    if (e.ds)
        recall_engine_release(&e);
    if (!rc && o->write) {
        char *path = o->path ? hm_xstrdup(o->path) : hm_path_join(c->run.work, "candidates.hmt");
        if ((rc = hm_mkdirs(c->run.work)) == 0 && (rc = recall_candidates_write(&all, st.pool, path)) == 0)
            printf("candidates: wrote %s (%llu rows, %u customers)\n", path, (unsigned long long)all.n,
                   all.n_users);
        free(path);
    }
    if (!rc && o->stats) {
        if (truth.n_users == 0) {
            printf("candidates: the week has no purchases, no recall to report\n");
        } else {
            char *text = recall_stats_format(&st), *svg = recall_stats_svg(&st);
            char a[11], z[11];
            hm_date_format(week.start, a);
            hm_date_format(week.end, z);
            char *head = hm_xasprintf("candidate recall for the week %s .. %s\n", a, z);
            char *refs = NULL;
            if (ref.pred) {
                double d = rs.truth ? (double)rs.truth : 1, p = rs.preds ? (double)rs.preds : 1;
                refs = hm_xasprintf("reference %s (%llu of these buyers):\n"
                                    "  its 12 per customer reach %.4f of their purchase pairs; the pool "
                                    "(%u) reaches %.4f\n"
                                    "  the pool contains %.4f of its predictions and %.4f of its hits "
                                    "(%llu of %llu)\n",
                                    o->reference, (unsigned long long)rs.users, rs.hits / d, st.pool,
                                    rs.pool_hits / d, rs.in_pool / p,
                                    rs.hits ? (double)rs.hits_in_pool / (double)rs.hits : 0,
                                    (unsigned long long)rs.hits_in_pool, (unsigned long long)rs.hits);
            }
            /* the yardstick: the `recent` baseline's 12 (own purchases, then popular) */
            uint32_t *bp = hm_xmalloc_array((size_t)truth.n_users * RECALL_K + 1, sizeof *bp);
            uint8_t *bn = hm_xmalloc((size_t)truth.n_users + 1);
            struct eval_recall br = {0, 0};
            if (recall_baseline_predict(ds, RECALL_RECENT, &c->base, cutoff, truth.user, truth.n_users, bp, bn) == 0)
                for (uint32_t i = 0; i < truth.n_users; i++)
                    eval_recall_add(&br, bp + (size_t)i * RECALL_K, bn[i], truth.items + truth.off[i],
                                       truth.off[i + 1] - truth.off[i]);
            free(bp);
            free(bn);
            char *base = hm_xasprintf("baseline 'recent' (own purchases, then popular; 12 per customer): "
                                      "recall %.4f\n", br.total ? (double)br.hits / (double)br.total : 0);
            char *full = hm_xasprintf("%s%s%s%s", head, text, base, refs ? refs : "");
            free(base);
            free(refs);
            fputs(full, stdout);
            char *tp = hm_path_join(c->run.work, "candidates_stats.txt");
            char *sp = hm_path_join(c->run.work, "candidates_recall.svg");
            if ((rc = hm_mkdirs(c->run.work)) == 0 && (rc = write_text(tp, full)) == 0 &&
                (rc = write_text(sp, svg)) == 0)
                printf("candidates: wrote %s and %s\n", tp, sp);
            free(tp);
            free(sp);
            free(head);
            free(full);
            free(text);
            free(svg);
        }
    }
    if (!rc)
        printf("candidates: %.1fs in all, peak RSS %.0f MiB (%.0f MiB before)\n", hm_seconds_since(t0),
               mib(hm_peak_rss()), mib(rss0));
    recall_candidates_release(&all);
    if (ref.pred)
        data_id_index_release(&ref.ix);
    free(ref.pred);
    free(ref.npred);
    free(users);
    prep_truth_release(&truth);
    prep_items_release(&items);
    return rc;
}
