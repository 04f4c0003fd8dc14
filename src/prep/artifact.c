/* prep_run and the prepare.hmt artifact. */
#include "prep/prep.h"
#include "comm/comm.h"

#include <stdlib.h>
#include <string.h>

int prep_run(struct prep_result *r, const struct data_set *ds, const struct prep_params *p)
{
    memset(r, 0, sizeof *r);
    int rc = prep_windows_init(&r->win, ds, p);
    if (rc)
        return rc;
    int32_t cutoff = r->win.val.start;
    prep_sample_draw(&r->sample, ds, p, cutoff);
    prep_items_filter(&r->items, ds, prep_history_start(ds, p, cutoff), cutoff, p->min_item_purchases);
    struct prep_truth t;
    prep_truth_build(&t, ds, r->win.val);
    r->val_buyers = t.n_users;
    /* sampled buyers: merge two ascending lists */
    for (uint32_t i = 0, k = 0; i < t.n_users && k < r->sample.n;) {
        if (t.user[i] == r->sample.user[k])
            r->val_sampled_buyers++, i++, k++;
        else if (t.user[i] < r->sample.user[k])
            i++;
        else
            k++;
    }
    prep_truth_release(&t);
    /* on shards: every rank's buyers */
    uint32_t counts[2] = {r->val_buyers, r->val_sampled_buyers};
    comm_allreduce_u32(counts, 2, COMM_SUM);
    r->val_buyers = counts[0];
    r->val_sampled_buyers = counts[1];
    return 0;
}

void prep_sample_gather(struct prep_sample *s)
{
    if (comm_size() == 1)
        return;
    uint64_t *mine = hm_xmalloc_array((size_t)s->n + 1, sizeof *mine);
    for (uint32_t i = 0; i < s->n; i++)
        mine[i] = (uint64_t)s->user[i] << 8 | s->bin[i];
    uint64_t *counts = hm_xcalloc((size_t)comm_size(), sizeof *counts), n = 0;
    uint64_t *all = comm_gatherv(mine, (size_t)s->n * sizeof *mine, 0, counts);
    free(mine);
    for (int r = 0; r < comm_size(); r++)
        n += counts[r] / sizeof *all;
    free(counts);
    if (!all)
        return;
    hm_sort_u64(all, n);
    s->user = hm_xrealloc(s->user, (n + 1) * sizeof *s->user);
    s->bin = hm_xrealloc(s->bin, n + 1);
    for (uint64_t i = 0; i < n; i++) {
        s->user[i] = (uint32_t)(all[i] >> 8);
        s->bin[i] = (uint8_t)all[i];
    }
    s->n = (uint32_t)n;
    free(all);
}

void prep_result_release(struct prep_result *r)
{
    prep_windows_release(&r->win);
    prep_sample_release(&r->sample);
    prep_items_release(&r->items);
}

enum { META_LAST_DAY, META_N_TRAIN, META_HISTORY_START, META_VAL_BUYERS, META_VAL_SAMPLED,
       META_N_ARTICLES };

int prep_result_write(const struct prep_result *r, const char *path)
{
    uint64_t meta[IO_TABLE_META] = {0};
    meta[META_LAST_DAY] = (uint64_t)r->win.last_day;
    meta[META_N_TRAIN] = (uint64_t)r->win.n_train;
    meta[META_HISTORY_START] = (uint64_t)r->win.history_start;
    meta[META_VAL_BUYERS] = r->val_buyers;
    meta[META_VAL_SAMPLED] = r->val_sampled_buyers;
    meta[META_N_ARTICLES] = r->items.n_articles;
    struct io_column_desc cols[] = {
        {"sample_user", IO_U32, 4, r->sample.n, r->sample.user},
        {"sample_bin", IO_U8, 1, r->sample.n, r->sample.bin},
        {"items", IO_U32, 4, r->items.n, r->items.item},
        {"bin_pop", IO_U64, 8, PREP_NBINS, r->sample.pop},
        {"bin_got", IO_U64, 8, PREP_NBINS, r->sample.got},
    };
    return io_table_write(path, "prepare", r->sample.n, meta, cols, (int)(sizeof cols / sizeof cols[0]));
}

int prep_result_read(struct prep_result *r, const char *path)
{
    memset(r, 0, sizeof *r);
    struct io_table t;
    int rc = io_table_open(&t, path, "prepare", 0);
    if (rc)
        return rc;
    const void *user, *bin, *items, *pop, *got;
    uint64_t n = t.n_rows;
    if ((rc = io_table_column(&t, "sample_user", IO_U32, n, &user)) ||
        (rc = io_table_column(&t, "sample_bin", IO_U8, n, &bin)) ||
        (rc = io_table_column(&t, "items", IO_U32, UINT64_MAX, &items)) ||
        (rc = io_table_column(&t, "bin_pop", IO_U64, PREP_NBINS, &pop)) ||
        (rc = io_table_column(&t, "bin_got", IO_U64, PREP_NBINS, &got))) {
        io_table_release(&t);
        return rc;
    }
    uint64_t n_items = 0;
    for (int i = 0; i < t.n_cols; i++)
        if (!strcmp(t.cols[i].name, "items"))
            n_items = t.cols[i].count;
    struct prep_windows *w = &r->win;
    w->last_day = (int32_t)t.meta[META_LAST_DAY];
    w->n_train = (int)t.meta[META_N_TRAIN];
    w->history_start = (int32_t)t.meta[META_HISTORY_START];
    w->val = (struct prep_week){w->last_day - 6, w->last_day};
    w->test = (struct prep_week){w->last_day + 1, w->last_day + 7};
    w->train = hm_xcalloc((size_t)w->n_train + 1, sizeof *w->train);
    for (int i = 0; i < w->n_train; i++)
        w->train[i] = (struct prep_week){w->last_day - 6 - 7 * (i + 1), w->last_day - 7 * (i + 1)};
    r->val_buyers = (uint32_t)t.meta[META_VAL_BUYERS];
    r->val_sampled_buyers = (uint32_t)t.meta[META_VAL_SAMPLED];
    r->sample.n = (uint32_t)n;
    r->sample.user = hm_xmalloc_array(n + 1, 4);
    r->sample.bin = hm_xmalloc(n + 1);
    memcpy(r->sample.user, user, n * 4);
    memcpy(r->sample.bin, bin, n);
    memcpy(r->sample.pop, pop, sizeof r->sample.pop);
    memcpy(r->sample.got, got, sizeof r->sample.got);
    uint64_t na = t.meta[META_N_ARTICLES];
    r->items.n = (uint32_t)n_items;
    r->items.item = hm_xmalloc_array(n_items + 1, 4);
    memcpy(r->items.item, items, n_items * 4);
    r->items.n_articles = (uint32_t)na;
    r->items.keep = hm_xcalloc(na + 1, 1);
    for (uint64_t i = 0; i < n_items; i++) {
        if (r->items.item[i] >= na) {
            io_table_release(&t);
            prep_result_release(r);
            return hm_error(HM_EFORMAT, "%s: article %u out of range (%llu articles)", path,
                            r->items.item[i], (unsigned long long)na);
        }
        r->items.keep[r->items.item[i]] = 1;
    }
    io_table_release(&t);
    return 0;
}
