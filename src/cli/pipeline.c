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

int pipeline_prepare(const struct cli_config *c, const struct hm_dataset *ds)
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

int pipeline_baseline_eval(const struct cli_config *c, const struct hm_dataset *ds, int kind,
                           const struct prep_truth *truth, struct hm_eval_row *row)
{
    uint32_t n = truth->n_users;
    uint32_t *pred = hm_xmalloc_array((size_t)n * RECALL_K + 1, sizeof *pred);
    uint8_t *npred = hm_xmalloc((size_t)n + 1);
    int32_t cutoff = truth->n_users ? ds->tx.day_max - 6 : 0;
    int rc = recall_baseline_predict(ds, kind, &c->base, cutoff, truth->user, n, pred, npred);
    if (!rc) {
        memset(&row->sum, 0, sizeof row->sum);
        row->name = recall_baseline_name[kind];
        for (uint32_t i = 0; i < n; i++)
            hm_eval_sum_add(&row->sum, pred + (size_t)i * RECALL_K, npred[i], truth->items + truth->off[i],
                            truth->off[i + 1] - truth->off[i]);
    }
    free(pred);
    free(npred);
    return rc;
}

int pipeline_write_predictions(const struct cli_config *c, const struct hm_dataset *ds, int kind,
                               int32_t cutoff, const uint32_t *users, uint32_t n, const char *path)
{
    struct hm_subwriter w;
    int rc = hm_subwriter_open(&w, path);
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
            hm_customer_hex(ds, u[i], hex);
            for (uint32_t k = 0; k < npred[i]; k++)
                ids[k] = ds->articles.article_id[pred[(size_t)i * RECALL_K + k]];
            rc = hm_subwriter_add(&w, hex, ids, npred[i]);
        }
        hm_progress_add(&prog, m);
    }
    hm_progress_end(&prog);
    free(pred);
    free(npred);
    free(ids);
    free(seq);
    if (rc) {
        hm_subwriter_abort(&w);
        return rc;
    }
    return hm_subwriter_commit(&w);
}

struct eval_file_job {
    const struct hm_dataset *ds;
    struct hm_id_index ix;
    uint32_t *pred;   /* (n_customers, 12) */
    uint8_t *npred;   /* (n_customers); 255 = no row yet */
    uint64_t unknown, rows;
    const char *path;
};

static int eval_row(const struct hm_subrow *row, void *ud)
{
    struct eval_file_job *j = ud;
    j->rows++;
    uint32_t c = hm_id_index_customer(&j->ix, row->customer_id, 64);
    if (c == UINT32_MAX) {
        j->unknown++;
        return 0;
    }
    if (j->npred[c] != 255)
        return hm_error(HM_EPARSE, "%s:%llu: customer %s appears twice", j->path,
                        (unsigned long long)row->line, row->customer_id);
    uint8_t n = 0;
    for (size_t k = 0; k < row->n; k++) {
        uint32_t a = hm_id_index_article(&j->ix, row->articles[k]);
        /* an article the store does not know can never be right: it keeps its rank with a
         * value no article has (distinct, so it is not taken for a duplicate) */
        j->pred[(size_t)c * RECALL_K + n++] = a == UINT32_MAX ? UINT32_MAX - (uint32_t)k : a;
    }
    j->npred[c] = n;
    return 0;
}

int pipeline_evaluate_file(const struct hm_dataset *ds, const struct prep_truth *truth,
                           const char *path, struct hm_eval_sum *sum)
{
    uint32_t nc = ds->customers.n;
    struct eval_file_job j = {.ds = ds, .path = path};
    hm_id_index_init(&j.ix, ds);
    j.pred = hm_xmalloc_array((size_t)nc * RECALL_K + 1, sizeof *j.pred);
    j.npred = hm_xmalloc((size_t)nc + 1);
    memset(j.npred, 255, (size_t)nc + 1);
    int rc = hm_submission_read(path, RECALL_K, eval_row, &j);
    if (!rc) {
        memset(sum, 0, sizeof *sum);
        for (uint32_t i = 0; i < truth->n_users; i++) {
            uint32_t c = truth->user[i];
            uint8_t n = j.npred[c] == 255 ? 0 : j.npred[c];
            hm_eval_sum_add(sum, j.pred + (size_t)c * RECALL_K, n, truth->items + truth->off[i],
                            truth->off[i + 1] - truth->off[i]);
        }
        if (j.unknown)
            hm_warn("%s: %llu of %llu rows name customers the store does not know (ignored)", path,
                    (unsigned long long)j.unknown, (unsigned long long)j.rows);
    }
    hm_id_index_release(&j.ix);
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

int pipeline_metrics_table(const struct cli_config *c, const struct hm_dataset *ds, const char *names,
                           const char *oracle, char **table)
{
    *table = NULL;
    struct prep_truth truth;
    prep_truth_build(&truth, ds, (struct prep_week){ds->tx.day_max - 6, ds->tx.day_max});
    struct hm_eval_row rows[RECALL_NBASELINES + 1];
    int n = 0, rc = 0;
    double ref = 0;
    if (oracle) {
        rows[n].name = "oracle";
        if ((rc = pipeline_evaluate_file(ds, &truth, oracle, &rows[n].sum)) == 0)
            ref = hm_eval_map12(&rows[n++].sum);
    }
    char list[HM_SETTING_STRLEN];
    snprintf(list, sizeof list, "%s", names);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        int kind = recall_baseline_find(tok);
        if (kind < 0)
            rc = hm_error(HM_EINVAL, "unknown baseline '%s' (popular, decayed, recent)", tok);
        else if (n < RECALL_NBASELINES + 1)
            rc = pipeline_baseline_eval(c, ds, kind, &truth, &rows[n++]);
    }
    if (!rc) {
        char *body = hm_eval_table_format(rows, (size_t)n, ref);
        char day0[11], day1[11];
        hm_date_format(ds->tx.day_max - 6, day0);
        hm_date_format(ds->tx.day_max, day1);
        *table = hm_xasprintf("validation week %s..%s: %u customers bought\n%s", day0, day1, truth.n_users, body);
        free(body);
    }
    prep_truth_release(&truth);
    return rc;
}

int pipeline_submit(const struct cli_config *c, const struct hm_dataset *ds, const char *path)
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
