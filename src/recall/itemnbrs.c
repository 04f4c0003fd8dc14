/* Item neighbour tables, shared by the strategies that propose the neighbours of a customer's
 * items (co-purchase: Jaccard of buyer sets; same basket: P(j | i) within baskets): built
 * once per cutoff in parallel over articles, and gathered per customer from their best
 * history items. */
#include "recall/recall.h"

#include <stdlib.h>

enum { NBRS_MAX_THREADS = 256, NBRS_CHUNK = 256 };

struct nbrs_job {
    struct recall_item_nbrs *t;
    recall_nbr_fn fn;
    void *ud;
    struct hm_acc *acc; /* (threads) over the articles */
};

static int nbrs_range(size_t begin, size_t end, int tid, void *ud)
{
    struct nbrs_job *j = ud;
    struct recall_item_nbrs *t = j->t;
    struct hm_acc *acc = &j->acc[tid];
    for (size_t i = begin; i < end; i++) {
        j->fn((uint32_t)i, acc, j->ud);
        t->n_nbr[i] = acc->n_touched ? (uint8_t)hm_acc_top(acc, t->k, t->nbr + i * t->k, t->w + i * t->k, NULL) : 0;
    }
    return 0;
}

void recall_item_nbrs_build(struct recall_item_nbrs *t, uint32_t n_articles, uint32_t k, recall_nbr_fn fn,
                            void *ud)
{
    t->k = k;
    t->nbr = hm_xmalloc_array((size_t)n_articles * k + 1, sizeof *t->nbr);
    t->w = hm_xmalloc_array((size_t)n_articles * k + 1, sizeof *t->w);
    t->n_nbr = hm_xcalloc((size_t)n_articles + 1, 1);
    int nt = hm_threads() > NBRS_MAX_THREADS ? NBRS_MAX_THREADS : hm_threads();
    struct nbrs_job j = {t, fn, ud, hm_xcalloc((size_t)nt, sizeof(struct hm_acc))};
    for (int i = 0; i < nt; i++)
        hm_acc_init(&j.acc[i], n_articles);
    hm_parallel_chunks(nt, n_articles, NBRS_CHUNK, nbrs_range, &j);
    for (int i = 0; i < nt; i++)
        hm_acc_release(&j.acc[i]);
    free(j.acc);
}

void recall_item_nbrs_release(struct recall_item_nbrs *t)
{
    free(t->nbr);
    free(t->w);
    free(t->n_nbr);
    t->nbr = NULL;
    t->w = NULL;
    t->n_nbr = NULL;
}

void recall_item_nbrs_gather(const struct recall_engine *e, const struct recall_item_nbrs *t,
                             const struct recall_hist *h, struct hm_acc *out)
{
    uint32_t q = 0;
    for (uint32_t i = 0; i < h->n && q < (uint32_t)e->p.query_items; i++) {
        uint32_t a = h->item[i];
        if (!e->keep[a])
            continue;
        q++;
        for (uint32_t x = 0; x < t->n_nbr[a]; x++)
            hm_acc_add(out, t->nbr[(size_t)a * t->k + x], h->score[i] * t->w[(size_t)a * t->k + x]);
    }
}

void recall_item_nbrs_free(void *state)
{
    struct recall_item_nbrs *t = state;
    if (!t)
        return;
    recall_item_nbrs_release(t);
    free(t);
}

uint32_t recall_item_nbrs_of(const struct recall_item_nbrs *t, uint32_t a, const uint32_t **nbr, const float **w)
{
    *nbr = t->nbr + (size_t)a * t->k;
    *w = t->w + (size_t)a * t->k;
    return t->n_nbr[a];
}
