/* Co-purchase (item-to-item collaborative filtering): the Jaccard similarity of two items'
 * buyer sets in the recent window, |B_i & B_j| / |B_i | B_j|, the top neighbours of every
 * item, and for a customer the neighbours of their best history items, each weighted by the
 * history item's recency x frequency score. */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

struct co_params {
    struct recall_list_params list;
    long neighbours;     /* neighbours kept per item (30) */
};
_Static_assert(sizeof(struct co_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct co_params, f)
static const struct hm_setting co_settings[] = {
    {"recall.co_n", HM_SET_INT, P(list.n), "60", 0, 255, 0, "co-purchase: candidates per customer"},
    {"recall.co_neighbours", HM_SET_INT, P(neighbours), "30", 1, 255, 0,
     "co-purchase: most similar items kept per item"},
    {"recall.co_w", HM_SET_DOUBLE, P(list.w), "1.5", 0, 1e6, 0, "co-purchase: merge weight"},
};
#undef P

struct co_state {
    uint32_t k;          /* neighbours per item (slots) */
    uint32_t *nbr;       /* (n_articles, k) neighbour articles, most similar first */
    float *sim;          /* (n_articles, k) Jaccard similarity; 0 pads */
    uint8_t *n_nbr;      /* (n_articles) */
};

struct co_job {
    const struct recall_engine *e;
    struct co_state *m;
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

static void co_release(void *state)
{
    struct co_state *m = state;
    if (!m)
        return;
    free(m->nbr);
    free(m->sim);
    free(m->n_nbr);
    free(m);
}

static int co_init(const struct recall_engine *e, int s, void **state)
{
    const struct co_params *p = recall_params_of(&e->p, s);
    struct co_state *m = hm_xcalloc(1, sizeof *m);
    uint32_t na = e->ds->articles.n;
    m->k = (uint32_t)p->neighbours;
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
    *state = m;
    return 0;
}

static uint32_t co_user(const struct recall_engine *e, int s, struct recall_scratch *sc, uint32_t c,
                        uint32_t *items, float *scores)
{
    (void)c;
    const struct recall_hist *h = &sc->hist;
    const struct co_state *m = e->state[s];
    uint32_t q = 0;
    for (uint32_t i = 0; i < h->n && q < (uint32_t)e->p.query_items; i++) {
        uint32_t a = h->item[i];
        if (!e->keep[a])
            continue;
        q++;
        for (uint32_t x = 0; x < m->n_nbr[a]; x++)
            hm_acc_add(&sc->items, m->nbr[(size_t)a * m->k + x], h->score[i] * m->sim[(size_t)a * m->k + x]);
    }
    return hm_acc_top(&sc->items, (uint32_t)recall_list_of(&e->p, s)->n, items, scores, NULL);
}

/* The neighbours of article a (tests and tools): their count, and pointers into the table. */
uint32_t recall_copurchase_neighbours(const struct recall_engine *e, int s, uint32_t a,
                                      const uint32_t **nbr, const float **sim)
{
    const struct co_state *m = e->state[s];
    *nbr = m->nbr + (size_t)a * m->k;
    *sim = m->sim + (size_t)a * m->k;
    return m->n_nbr[a];
}

const struct recall_strategy recall_copurchase = {
    .name = "copurchase",
    .help = "item-item Jaccard over buyer sets, from the customer's items",
    .settings = co_settings,
    .n_settings = sizeof co_settings / sizeof co_settings[0],
    .params_size = sizeof(struct co_params),
    .needs = RECALL_NEEDS_WINDOW,
    .init = co_init,
    .release = co_release,
    .user = co_user,
};
