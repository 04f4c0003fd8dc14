/* Co-purchase (item-to-item collaborative filtering): the Jaccard similarity of two items'
 * buyer sets in the recent window, |B_i & B_j| / |B_i | B_j|, the top neighbours of every
 * item, and for a customer the neighbours of their best history items, each weighted by the
 * history item's recency x frequency score. */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

struct co_job {
    const struct recall_engine *e;
    struct recall_copurchase *m;
    struct hm_acc *acc; /* (threads) over articles */
};

static int co_range(size_t begin, size_t end, int tid, void *ud)
{
    struct co_job *j = ud;
    const struct recall_window *w = &j->e->win;
    struct hm_acc *acc = &j->acc[tid];
    uint32_t k = j->m->k;
    for (size_t i = begin; i < end; i++) {
        uint64_t deg_i = w->ioff[i + 1] - w->ioff[i];
        j->m->n_nbr[i] = 0;
        if (!deg_i)
            continue;
        for (uint64_t b = w->ioff[i]; b < w->ioff[i + 1]; b++) {
            uint32_t v = w->iuser[b];
            for (uint64_t x = w->uoff[v]; x < w->uoff[v + 1]; x++)
                if (w->uitem[x] != i)
                    hm_acc_add(acc, w->uitem[x], 1.0f);
        }
        /* counts -> Jaccard in place */
        for (uint32_t t = 0; t < acc->n_touched; t++) {
            uint32_t a = acc->touched[t];
            double both = acc->v[a], deg_a = (double)(w->ioff[a + 1] - w->ioff[a]);
            acc->v[a] = (float)(both / ((double)deg_i + deg_a - both));
        }
        j->m->n_nbr[i] = (uint8_t)hm_acc_top(acc, k, j->m->nbr + i * k, j->m->sim + i * k, NULL);
    }
    return 0;
}

int recall_copurchase_init(struct recall_copurchase *m, const struct recall_engine *e)
{
    memset(m, 0, sizeof *m);
    uint32_t na = e->ds->articles.n;
    m->k = (uint32_t)e->p.co_neighbours;
    m->nbr = hm_xmalloc_array((size_t)na * m->k + 1, sizeof *m->nbr);
    m->sim = hm_xmalloc_array((size_t)na * m->k + 1, sizeof *m->sim);
    m->n_nbr = hm_xcalloc((size_t)na + 1, 1);
    int nt = hm_threads();
    if (nt > 256)
        nt = 256;
    struct co_job j = {e, m, hm_xcalloc((size_t)nt, sizeof(struct hm_acc))};
    for (int t = 0; t < nt; t++)
        hm_acc_init(&j.acc[t], na);
    hm_parallel_chunks(nt, na, 256, co_range, &j);
    for (int t = 0; t < nt; t++)
        hm_acc_release(&j.acc[t]);
    free(j.acc);
    return 0;
}

void recall_copurchase_release(struct recall_copurchase *m)
{
    free(m->nbr);
    free(m->sim);
    free(m->n_nbr);
    memset(m, 0, sizeof *m);
}

uint32_t recall_copurchase_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                                uint32_t *items, float *scores)
{
    (void)c;
    const struct recall_hist *h = &s->hist;
    const struct recall_copurchase *m = &e->co;
    uint32_t q = 0;
    for (uint32_t i = 0; i < h->n && q < (uint32_t)e->p.query_items; i++) {
        uint32_t a = h->item[i];
        if (!e->keep[a])
            continue;
        q++;
        for (uint32_t x = 0; x < m->n_nbr[a]; x++)
            hm_acc_add(&s->items, m->nbr[(size_t)a * m->k + x], h->score[i] * m->sim[(size_t)a * m->k + x]);
    }
    return hm_acc_top(&s->items, (uint32_t)e->p.co_n, items, scores, NULL);
}
