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
#include "comm/comm.h"

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

/* The baskets of this rank's customers in the window: per article i, the baskets (one
 * customer's rows of one day) holding it, and one key i << 32 | j per basket holding both of
 * two kept articles i != j. */
struct bsk_count {
    const struct recall_engine *e;
    int32_t from;                 /* first day counted */
    uint32_t *baskets;            /* (threads, n_articles) */
    HM_VEC(uint64_t) *keys;       /* (threads) */
    HM_VEC(uint32_t) *basket;     /* (threads) scratch: one basket's distinct kept articles */
};

static int bsk_count_range(size_t begin, size_t end, int tid, void *ud)
{
    struct bsk_count *j = ud;
    const struct recall_engine *e = j->e;
    const uint8_t *keep = e->keep;
    uint32_t *baskets = j->baskets + (size_t)tid * e->ds->articles.n;
    for (size_t c = begin; c < end; c++) {
        uint64_t lo, hi;
        const struct data_transactions *tx = prep_customer_rows(e->ds, (uint32_t)c, j->from, e->cutoff - 1, &lo, &hi);
        for (uint64_t r = lo; r < hi;) {
            uint64_t b = r;
            while (r < hi && tx->day[r] == tx->day[b])
                r++;
            j->basket[tid].n = 0;
            for (uint64_t y = b; y < r; y++) {
                uint32_t a = tx->article[y], z = 0;
                if (!keep[a])
                    continue;
                while (z < j->basket[tid].n && j->basket[tid].v[z] != a)
                    z++;
                if (z == j->basket[tid].n)
                    HM_VEC_PUSH(&j->basket[tid], a);
            }
            const uint32_t *d = j->basket[tid].v;
            uint32_t nd = (uint32_t)j->basket[tid].n;
            for (uint32_t x = 0; x < nd; x++) {
                baskets[d[x]]++;
                for (uint32_t y = 0; y < nd; y++)
                    if (y != x)
                        HM_VEC_PUSH(&j->keys[tid], (uint64_t)d[x] << 32 | d[y]);
            }
        }
    }
    return 0;
}

struct bsk_job {
    const struct recall_pairs *pairs;
    const uint32_t *baskets;      /* (n_articles) over every rank */
    const uint8_t *keep;
    double shrink;
};

/* Adds to acc, for article i, P(j | i) for every article j bought in a basket with i in the
 * window. */
static void bsk_row(uint32_t i, struct hm_acc *acc, void *ud)
{
    const struct bsk_job *j = ud;
    if (!j->keep[i])
        return;
    for (uint64_t x = j->pairs->off[i]; x < j->pairs->off[i + 1]; x++)
        hm_acc_add(acc, j->pairs->item[x], (float)j->pairs->count[x]);
    if (!acc->n_touched)
        return;
    float den = (float)(j->baskets[i] + j->shrink);
    for (uint32_t t = 0; t < acc->n_touched; t++)
        acc->v[acc->touched[t]] /= den;
}

static int bsk_init(const struct recall_engine *e, int s, void **state)
{
    const struct bsk_params *p = recall_params_of(&e->p, s);
    uint32_t na = e->ds->articles.n;
    int nt = hm_threads();
    int32_t from = e->cutoff - 7 * (int32_t)p->weeks;
    /* the counts of this rank's customers, then every rank's at the owners of the articles */
    struct bsk_count c = {e, from > e->start ? from : e->start, hm_xcalloc((size_t)nt * na + 1, sizeof(uint32_t)),
                          hm_xcalloc((size_t)nt, sizeof *c.keys), hm_xcalloc((size_t)nt, sizeof *c.basket)};
    hm_parallel_chunks(nt, e->ds->customers.n, 4096, bsk_count_range, &c);
    for (int t = 1; t < nt; t++)
        for (uint32_t a = 0; a < na; a++)
            c.baskets[a] += c.baskets[(size_t)t * na + a];
    comm_allreduce_u32(c.baskets, na, COMM_SUM);
    HM_VEC(uint64_t) keys = {0};
    for (int t = 0; t < nt; t++) {
        HM_GROW(keys.v, keys.cap, keys.n + c.keys[t].n + 1);
        if (c.keys[t].n)
            memcpy(keys.v + keys.n, c.keys[t].v, c.keys[t].n * sizeof *keys.v);
        keys.n += c.keys[t].n;
        free(c.keys[t].v);
        free(c.basket[t].v);
    }
    free(c.keys);
    free(c.basket);
    struct recall_pairs pairs;
    recall_pair_counts(e->ds, keys.v, keys.n, &pairs);
    free(keys.v);
    struct bsk_job j = {&pairs, c.baskets, e->keep, p->shrink};
    struct recall_item_nbrs *t = hm_xcalloc(1, sizeof *t);
    recall_item_nbrs_build(t, e->ds, (uint32_t)p->neighbours, bsk_row, &j);
    recall_pairs_release(&pairs);
    free(c.baskets);
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
