/* Stage 1's driver: windows, the stratified sample and the item filter, and their report. */
#include "pipeline/pipeline.h"

#include <stdlib.h>

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

static void report_week(const char *what, struct prep_week w)
{
    char a[11], b[11];
    hm_date_format(w.start, a);
    hm_date_format(w.end, b);
    hm_report("  %-16s %s .. %s", what, a, b);
}

int pipeline_prepare(struct pipeline *p)
{
    int64_t t0 = hm_now_ns();
    const struct data_set *ds;
    int rc = pipeline_lock(p);
    if (rc || (rc = pipeline_data(p, &ds)) != 0)
        return rc;
    const struct prep_params *pp = &p->c.prep;
    struct prep_result r;
    if ((rc = prep_run(&r, ds, pp)) != 0)
        return rc;
    char *path = pipeline_path(p, "prepare.hmt");
    if ((rc = hm_mkdirs(p->work)) == 0)
        rc = prep_result_write(&r, path);
    if (rc) {
        free(path);
        prep_result_release(&r);
        return rc;
    }
    hm_report("prepare: windows");
    report_week("validation week", r.win.val);
    if (r.win.n_train) {
        struct prep_week span = {r.win.train[r.win.n_train - 1].start, r.win.train[0].end};
        char label[32];
        snprintf(label, sizeof label, "%d training wks", r.win.n_train);
        report_week(label, span);
    }
    report_week("test week", r.win.test);
    char hs[11];
    hm_date_format(r.win.history_start, hs);
    hm_report("  %-16s from %s", "history", hs);
    hm_report("prepare: sample of %u customers (seed %ld)", r.sample.n, pp->seed);
    hm_report("  %-20s %10s %10s", "bin", "customers", "sampled");
    for (int b = 0; b < PREP_NBINS; b++) {
        char label[32];
        if (b == PREP_COLD)
            snprintf(label, sizeof label, "%s (0-%ld)", prep_bin_name[b], pp->cold_max);
        else if (b + 1 < PREP_NBINS)
            snprintf(label, sizeof label, "%s (%u-%u)", prep_bin_name[b], prep_bin_lo[b], prep_bin_lo[b + 1] - 1);
        else
            snprintf(label, sizeof label, "%s (%u+)", prep_bin_name[b], prep_bin_lo[b]);
        hm_report("  %-20s %10llu %10llu", label, (unsigned long long)r.sample.pop[b],
                  (unsigned long long)r.sample.got[b]);
    }
    uint64_t tx_bytes = 0;
    const struct io_table *tt = &ds->files[2];
    for (int i = 0; i < tt->n_cols; i++)
        tx_bytes += io_table_column_bytes(&tt->cols[i]);
    hm_report("prepare: training users %u, articles kept %u of %u (min %ld purchases), "
              "validation users %u (%u in the sample)",
              r.sample.n, r.items.n, ds->articles.n, pp->min_item_purchases, r.val_buyers, r.val_sampled_buyers);
    hm_report("prepare: memory: transactions %.1f MiB (%llu rows), sample %.2f MiB, items %.2f MiB",
              mib(tx_bytes), (unsigned long long)ds->tx.n, mib((uint64_t)r.sample.n * 5),
              mib((uint64_t)r.items.n * 4 + r.items.n_articles));
    hm_report("prepare: wrote %s in %.2fs", path, hm_seconds_since(t0));
    free(path);
    prep_result_release(&r);
    return 0;
}
