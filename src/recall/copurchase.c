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
    {"recall.co_n", HM_SET_INT, P(list.n), "200", 0, 255, 0, "co-purchase: candidates per customer"},
    {"recall.co_neighbours", HM_SET_INT, P(neighbours), "30", 1, 255, 0,
     "co-purchase: most similar items kept per item"},
    {"recall.co_w", HM_SET_DOUBLE, P(list.w), "0.56", 0, 1e6, 0, "co-purchase: merge weight"},
};
#undef P

/* Adds to acc, for article i, the Jaccard similarity of its buyer set with every article
 * its buyers bought in the window (the window's article side view: i's buyers and their
 * lists, from every rank). */
static void co_row(uint32_t i, struct hm_acc *acc, void *ud)
{
    const struct recall_window *w = ud;
    uint64_t deg_i = w->deg[i];
    if (!deg_i)
        return;
    for (uint64_t b = w->aoff[i]; b < w->aoff[i + 1]; b++) {
        uint32_t v = w->auser[b];
        for (uint64_t x = w->boff[v]; x < w->boff[v + 1]; x++)
            if (w->bitem[x] != i)
                hm_acc_add(acc, w->bitem[x], 1.0f);
    }
    /* counts -> Jaccard in place */
    for (uint32_t t = 0; t < acc->n_touched; t++) {
        uint32_t a = acc->touched[t];
        double both = acc->v[a], deg_a = (double)w->deg[a];
        acc->v[a] = (float)(both / ((double)deg_i + deg_a - both));
    }
}

static int co_init(const struct recall_engine *e, int s, void **state)
{
    const struct co_params *p = recall_params_of(&e->p, s);
    struct recall_item_nbrs *t = hm_xcalloc(1, sizeof *t);
    recall_item_nbrs_build(t, e->ds, (uint32_t)p->neighbours, co_row, (void *)&e->win);
    *state = t;
    return 0;
}

static uint32_t co_user(const struct recall_engine *e, int s, struct recall_scratch *sc, uint32_t c,
                        uint32_t *items, float *scores)
{
    (void)c;
    recall_item_nbrs_gather(e, e->state[s], &sc->hist, &sc->items);
    return hm_acc_top(&sc->items, (uint32_t)recall_list_of(&e->p, s)->n, items, scores, NULL);
}

/* The neighbours of article a (tests and tools): their count, and pointers into the table. */
uint32_t recall_copurchase_neighbours(const struct recall_engine *e, int s, uint32_t a,
                                      const uint32_t **nbr, const float **sim)
{
    return recall_item_nbrs_of(e->state[s], a, nbr, sim);
}

const struct recall_strategy recall_copurchase = {
    .name = "copurchase",
    .help = "item-item Jaccard over buyer sets, from the customer's items",
    .settings = co_settings,
    .n_settings = sizeof co_settings / sizeof co_settings[0],
    .params_size = sizeof(struct co_params),
    .needs = RECALL_NEEDS_WINDOW,
    .init = co_init,
    .release = recall_item_nbrs_free,
    .user = co_user,
};
