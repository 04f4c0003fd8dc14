/* The recent-purchase index shared by co-purchase and user-KNN: each customer's most recent
 * distinct items in the window before the cutoff, and its transpose item -> customers; on
 * shards also the article side's view of it (every rank's buyers of this rank's articles). */
#include "recall/recall.h"
#include "comm/comm.h"

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

/* A received list: its customer and where its items are. */
struct view_rec {
    uint32_t customer, len;
    const uint32_t *items;
};

static int view_rec_cmp(const void *a, const void *b)
{
    const struct view_rec *x = a, *y = b;
    return x->customer < y->customer ? -1 : x->customer > y->customer;
}

/* The article side's view on shards: every customer's list goes, once, to each rank that owns
 * one of its items ([customer, length, items...] as u32); each rank orders what it receives by
 * customer and indexes its articles' buyers. */
static void window_view(struct recall_window *w, const struct recall_engine *e)
{
    const struct data_set *ds = e->ds;
    int nr = comm_size();
    uint32_t nc = ds->customers.n, na = ds->articles.n;
    uint32_t *edges = hm_xmalloc_array((size_t)nr + 1, sizeof *edges);
    data_article_edges(ds, edges);
    /* which ranks each list goes to, then the records in rank order */
    uint64_t *cnt = hm_xcalloc((size_t)nr, sizeof *cnt), *got = hm_xcalloc((size_t)nr, sizeof *got);
    uint8_t *to = hm_xcalloc((size_t)nr, 1);
    HM_VEC(uint32_t) *send = hm_xcalloc((size_t)nr, sizeof *send);
    for (uint32_t c = 0; c < nc; c++) {
        uint64_t b = w->uoff[c], n = w->uoff[c + 1] - b;
        if (!n)
            continue;
        memset(to, 0, (size_t)nr);
        for (uint64_t k = b; k < b + n; k++)
            to[data_article_owner(edges, nr, w->uitem[k])] = 1;
        for (int r = 0; r < nr; r++) {
            if (!to[r])
                continue;
            HM_GROW(send[r].v, send[r].cap, send[r].n + n + 2);
            send[r].v[send[r].n++] = c;
            send[r].v[send[r].n++] = (uint32_t)n;
            memcpy(send[r].v + send[r].n, w->uitem + b, n * sizeof *w->uitem);
            send[r].n += n;
        }
    }
    uint64_t total = 0;
    for (int r = 0; r < nr; r++)
        total += send[r].n;
    uint32_t *packed = hm_xmalloc_array(total + 1, sizeof *packed);
    total = 0;
    for (int r = 0; r < nr; r++) {
        if (send[r].n)
            memcpy(packed + total, send[r].v, send[r].n * sizeof *packed);
        total += send[r].n;
        cnt[r] = send[r].n * sizeof *packed;
        free(send[r].v);
    }
    free(send);
    free(to);
    uint32_t *recv = comm_alltoallv(packed, cnt, got);
    free(packed);
    uint64_t words = 0;
    for (int r = 0; r < nr; r++)
        words += got[r] / sizeof *recv;
    free(cnt);
    free(got);
    /* by customer (each customer comes from one rank) */
    HM_VEC(struct view_rec) recs = {0};
    for (uint64_t k = 0; k < words; k += 2 + recv[k + 1])
        HM_VEC_PUSH(&recs, ((struct view_rec){recv[k], recv[k + 1], recv + k + 2}));
    qsort(recs.v, recs.n, sizeof *recs.v, view_rec_cmp);
    uint32_t nb = (uint32_t)recs.n, *buyer = hm_xmalloc_array((size_t)nb + 1, sizeof *buyer);
    uint64_t *boff = hm_xmalloc_array((size_t)nb + 1, sizeof *boff), items = 0;
    for (uint32_t x = 0; x < nb; x++) {
        buyer[x] = recs.v[x].customer;
        boff[x] = items;
        items += recs.v[x].len;
    }
    boff[nb] = items;
    uint32_t *bitem = hm_xmalloc_array(items + 1, sizeof *bitem);
    for (uint32_t x = 0; x < nb; x++)
        memcpy(bitem + boff[x], recs.v[x].items, recs.v[x].len * sizeof *bitem);
    free(recs.v);
    free(recv);
    /* this rank's articles' buyers, ascending */
    uint32_t a0 = ds->art.a0, a1 = ds->art.a1;
    uint64_t *aoff = hm_xcalloc((size_t)na + 1, sizeof *aoff);
    for (uint64_t k = 0; k < items; k++)
        if (bitem[k] >= a0 && bitem[k] < a1)
            aoff[bitem[k] + 1]++;
    for (uint32_t a = 0; a < na; a++)
        aoff[a + 1] += aoff[a];
    uint64_t *pos = hm_xmalloc_array((size_t)na + 1, sizeof *pos);
    memcpy(pos, aoff, (size_t)na * sizeof *pos);
    uint32_t *auser = hm_xmalloc_array(aoff[na] + 1, sizeof *auser);
    for (uint32_t x = 0; x < nb; x++)
        for (uint64_t k = boff[x]; k < boff[x + 1]; k++)
            if (bitem[k] >= a0 && bitem[k] < a1)
                auser[pos[bitem[k]]++] = x;
    free(pos);
    free(edges);
    w->n_buyers = nb;
    w->buyer = buyer;
    w->boff = boff;
    w->bitem = bitem;
    w->aoff = aoff;
    w->auser = auser;
    w->view_buf[0] = buyer;
    w->view_buf[1] = boff;
    w->view_buf[2] = bitem;
    w->view_buf[3] = aoff;
    w->view_buf[4] = auser;
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
    /* every rank's buyers of each article */
    w->deg = hm_xmalloc_array((size_t)na + 1, sizeof *w->deg);
    for (uint32_t a = 0; a < na; a++)
        w->deg[a] = (uint32_t)(w->ioff[a + 1] - w->ioff[a]);
    comm_allreduce_u32(w->deg, na, COMM_SUM);
    if (e->ds->n_shards <= 1) {
        w->n_buyers = nc;
        w->buyer = NULL;
        w->boff = w->uoff;
        w->bitem = w->uitem;
        w->aoff = w->ioff;
        w->auser = w->iuser;
        return 0;
    }
    window_view(w, e);
    return 0;
}

void recall_window_release(struct recall_window *w)
{
    free(w->uoff);
    free(w->uitem);
    free(w->ioff);
    free(w->iuser);
    free(w->deg);
    for (int k = 0; k < 5; k++)
        free(w->view_buf[k]);
    memset(w, 0, sizeof *w);
}
