/* The recent-purchase index shared by co-purchase and user-KNN: each customer's most recent
 * distinct items in the window before the cutoff, and its transpose item -> customers. */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

struct win_job {
    const struct recall_engine *e;
    struct recall_window *w;
    uint32_t max;
    uint32_t *count;   /* (n_customers) */
};

/* Writes customer c's most recent distinct kept items in the window into out (may be NULL
 * to count only); returns how many. */
static uint32_t user_items(const struct recall_engine *e, int32_t start, uint32_t c, uint32_t max,
                           uint32_t *out, uint32_t *tmp)
{
    uint64_t lo, hi;
    const struct data_transactions *tx = prep_customer_rows(e->ds, c, start, e->cutoff - 1, &lo, &hi);
    uint32_t n = 0;
    uint32_t *dst = out ? out : tmp;
    for (uint64_t r = hi; r > lo && n < max; r--) { /* latest first */
        uint32_t a = tx->article[r - 1], x = 0;
        if (!e->keep[a])
            continue;
        while (x < n && dst[x] != a)
            x++;
        if (x == n)
            dst[n++] = a;
    }
    return n;
}

static int win_count(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct win_job *j = ud;
    uint32_t *tmp = hm_xmalloc_array(j->max + 1, sizeof *tmp);
    for (size_t c = begin; c < end; c++)
        j->count[c] = user_items(j->e, j->w->start, (uint32_t)c, j->max, NULL, tmp);
    free(tmp);
    return 0;
}

static int win_fill(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct win_job *j = ud;
    for (size_t c = begin; c < end; c++)
        if (j->count[c])
            user_items(j->e, j->w->start, (uint32_t)c, j->max, j->w->uitem + j->w->uoff[c], NULL);
    return 0;
}

int recall_window_init(struct recall_window *w, const struct recall_engine *e)
{
    memset(w, 0, sizeof *w);
    uint32_t nc = e->ds->customers.n, na = e->ds->articles.n;
    int32_t s = e->cutoff - 7 * (int32_t)e->p.window_weeks;
    w->start = s > e->start ? s : e->start;
    struct win_job j = {e, w, (uint32_t)e->p.window_items, hm_xcalloc((size_t)nc + 1, sizeof(uint32_t))};
    hm_parallel_chunks(0, nc, 8192, win_count, &j);
    w->uoff = hm_xmalloc_array((size_t)nc + 1, sizeof *w->uoff);
    uint64_t total = 0;
    for (uint32_t c = 0; c < nc; c++) {
        w->uoff[c] = total;
        total += j.count[c];
    }
    w->uoff[nc] = total;
    w->uitem = hm_xmalloc_array(total + 1, sizeof *w->uitem);
    hm_parallel_chunks(0, nc, 8192, win_fill, &j);
    free(j.count);
    /* the transpose: customers of each item, ascending */
    w->ioff = hm_xcalloc((size_t)na + 1, sizeof *w->ioff);
    for (uint64_t k = 0; k < total; k++)
        w->ioff[w->uitem[k] + 1]++;
    for (uint32_t a = 0; a < na; a++)
        w->ioff[a + 1] += w->ioff[a];
    uint64_t *pos = hm_xmalloc_array((size_t)na + 1, sizeof *pos);
    memcpy(pos, w->ioff, (size_t)na * sizeof *pos);
    w->iuser = hm_xmalloc_array(total + 1, sizeof *w->iuser);
    for (uint32_t c = 0; c < nc; c++)
        for (uint64_t k = w->uoff[c]; k < w->uoff[c + 1]; k++)
            w->iuser[pos[w->uitem[k]]++] = c;
    free(pos);
    return 0;
}

void recall_window_release(struct recall_window *w)
{
    free(w->uoff);
    free(w->uitem);
    free(w->ioff);
    free(w->iuser);
    memset(w, 0, sizeof *w);
}
