/* Same basket: articles bought together with the customer's recent items in one basket (one
 * customer, one day) in the last `bsk_weeks` weeks. For article i with n_i baskets and n_ij
 * baskets that also hold j, the neighbour score is the shrunk conditional probability
 *     P(j | i) = n_ij / (n_i + bsk_shrink)
 * and the `bsk_neighbours` best are kept. A customer's candidates: for each of their best
 * `query_items` history items h (score w_h, recency x frequency), every neighbour j gets
 * w_h P(j | h); the customer's own articles are not proposed. Unlike co-purchase (buyers in
 * common over half a year), this is the outfit bought in one visit: complements and other
 * colours. */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

struct bsk_params {
    struct recall_list_params list;
    long weeks;          /* weeks of baskets counted (12) */
    long neighbours;     /* neighbours kept per article (20) */
    double shrink;       /* baskets added to n_i (2) */
};
_Static_assert(sizeof(struct bsk_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct bsk_params, f)
static const struct hm_setting bsk_settings[] = {
    {"recall.bsk_n", HM_SET_INT, P(list.n), "200", 0, 255, 0, "same basket: candidates per customer"},
    {"recall.bsk_weeks", HM_SET_INT, P(weeks), "12", 1, 520, 0, "same basket: weeks of baskets counted"},
    {"recall.bsk_neighbours", HM_SET_INT, P(neighbours), "20", 1, 255, 0,
     "same basket: articles kept per article"},
    {"recall.bsk_shrink", HM_SET_DOUBLE, P(shrink), "2", 0, 1e6, 0,
     "same basket: P(j | i) = baskets with both / (baskets with i + bsk_shrink)"},
    {"recall.bsk_w", HM_SET_DOUBLE, P(list.w), "0.25", 0, 1e6, 0, "same basket: merge weight"},
};
#undef P

struct bsk_job {
    const struct recall_engine *e;
    int32_t from;        /* first day counted */
    double shrink;
};

/* Adds to acc, for article i, P(j | i) for every article j bought in a basket (the same
 * customer's rows of one day) with i in the window. */
static void bsk_row(uint32_t i, struct hm_acc *acc, void *ud)
{
    const struct bsk_job *j = ud;
    const struct data_transactions *tx = &j->e->ds->tx;
    const uint8_t *keep = j->e->keep;
    int32_t cutoff = j->e->cutoff;
    if (!keep[i])
        return;
    uint32_t baskets = 0, prev_c = UINT32_MAX;
    int32_t prev_d = -1;
    for (uint64_t x = tx->art_off[i]; x < tx->art_off[i + 1]; x++) {
        uint64_t r = tx->art_rows[x];
        uint32_t c = tx->customer[r];
        int32_t d = tx->day[r];
        if (d < j->from || d >= cutoff || (c == prev_c && d == prev_d))
            continue; /* outside the window, or i twice in one basket */
        prev_c = c;
        prev_d = d;
        baskets++;
        /* the basket: the run of rows of customer c on day d around r */
        uint64_t lo = r, hi = r + 1;
        while (lo > tx->cust_off[c] && tx->day[lo - 1] == d)
            lo--;
        while (hi < tx->cust_off[c + 1] && tx->day[hi] == d)
            hi++;
        for (uint64_t y = lo; y < hi; y++) {
            uint32_t a = tx->article[y];
            if (a == i || !keep[a])
                continue;
            uint64_t z = lo;
            while (z < y && tx->article[z] != a)
                z++;
            if (z == y) /* first time in this basket */
                hm_acc_add(acc, a, 1.0f);
        }
    }
    if (!acc->n_touched)
        return;
    float den = (float)(baskets + j->shrink);
    for (uint32_t t = 0; t < acc->n_touched; t++)
        acc->v[acc->touched[t]] /= den;
}

static int bsk_init(const struct recall_engine *e, int s, void **state)
{
    const struct bsk_params *p = recall_params_of(&e->p, s);
    struct recall_item_nbrs *t = hm_xcalloc(1, sizeof *t);
    int32_t from = e->cutoff - 7 * (int32_t)p->weeks;
    struct bsk_job j = {e, from > e->start ? from : e->start, p->shrink};
    recall_item_nbrs_build(t, e->ds->articles.n, (uint32_t)p->neighbours, bsk_row, &j);
    *state = t;
    return 0;
}

static uint32_t bsk_user(const struct recall_engine *e, int s, struct recall_scratch *sc, uint32_t c,
                         uint32_t *items, float *scores)
{
    (void)c;
    const struct recall_hist *h = &sc->hist;
    recall_item_nbrs_gather(e, e->state[s], h, &sc->items);
    for (uint32_t i = 0; i < h->n; i++)
        sc->mark[h->item[i]] = 1;
    uint32_t n = hm_acc_top(&sc->items, (uint32_t)recall_list_of(&e->p, s)->n, items, scores, sc->mark);
    for (uint32_t i = 0; i < h->n; i++)
        sc->mark[h->item[i]] = 0;
    return n;
}

/* The neighbours of article a (tests and tools). */
uint32_t recall_basket_neighbours(const struct recall_engine *e, int s, uint32_t a, const uint32_t **nbr,
                                  const float **prob)
{
    return recall_item_nbrs_of(e->state[s], a, nbr, prob);
}

const struct recall_strategy recall_basket = {
    .name = "basket",
    .help = "articles bought in one basket with the customer's recent items",
    .settings = bsk_settings,
    .n_settings = sizeof bsk_settings / sizeof bsk_settings[0],
    .params_size = sizeof(struct bsk_params),
    .init = bsk_init,
    .release = recall_item_nbrs_free,
    .user = bsk_user,
};
