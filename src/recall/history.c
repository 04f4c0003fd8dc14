/* A customer's history: the distinct articles they bought before a cutoff, scored by
 * recency and frequency. Built once per customer and read by every per-customer strategy
 * (and the `recent` baseline). */
#include "recall/recall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void recall_hist_init(struct recall_hist *h)
{
    memset(h, 0, sizeof *h);
}

void recall_hist_release(struct recall_hist *h)
{
    free(h->item);
    free(h->score);
    free(h->tmp);
    free(h->tmp_i);
    free(h->tmp_w);
    memset(h, 0, sizeof *h);
}

static void hist_reserve(struct recall_hist *h, uint64_t n)
{
    if (n <= h->cap)
        return;
    uint32_t cap = (uint32_t)hm_grow_cap(h->cap, (size_t)n);
    h->item = hm_xrealloc(h->item, (size_t)cap * sizeof *h->item);
    h->score = hm_xrealloc(h->score, (size_t)cap * sizeof *h->score);
    h->tmp = hm_xrealloc(h->tmp, (size_t)cap * sizeof *h->tmp);
    h->tmp_i = hm_xrealloc(h->tmp_i, (size_t)cap * sizeof *h->tmp_i);
    h->tmp_w = hm_xrealloc(h->tmp_w, (size_t)cap * sizeof *h->tmp_w);
    h->cap = cap;
}

void recall_hist_build(struct recall_hist *h, const struct data_set *ds, uint32_t customer,
                       int32_t start, int32_t cutoff, double tau)
{
    uint64_t lo, hi;
    const struct data_transactions *tx = prep_customer_rows(ds, customer, start, cutoff - 1, &lo, &hi);
    h->n = 0;
    if (hi <= lo)
        return;
    hist_reserve(h, hi - lo);
    uint32_t m = 0;
    for (uint64_t r = lo; r < hi; r++)
        h->tmp[m++] = (uint64_t)tx->article[r] << 16 | tx->day[r];
    hm_sort_u64(h->tmp, m);
    uint32_t d = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t a = (uint32_t)(h->tmp[i] >> 16);
        int32_t day = (int32_t)(h->tmp[i] & 0xffff);
        float w = (float)exp(-(double)(cutoff - 1 - day) / tau);
        if (d && h->tmp_i[d - 1] == a) {
            h->tmp_w[d - 1] += w;
        } else {
            h->tmp_i[d] = a;
            h->tmp_w[d++] = w;
        }
    }
    h->n = hm_select_top(h->tmp_i, h->tmp_w, d, d, h->item, h->score);
}
