/* User-KNN: customers whose recent purchases overlap the customer's history, found through
 * the item -> customers index of the recent window (no all-pairs pass): for each of the
 * customer's best `query_items` history items, at most `knn_fanout` of the item's recent
 * buyers are visited (a window starting at a position hashed from (customer, item), so the
 * choice is deterministic and spreads over the list). A neighbour v scores
 *     sim(u, v) = sum over shared items i of 1 / log2(2 + buyers(i))  /  sqrt(|Q_u| |W_v|)
 * (rare shared items count more; Q_u the query items, W_v v's window items). The best
 * `knn_neighbours` neighbours (chosen among the 4 * knn_neighbours with the largest shared
 * weight before normalising) then vote for their window items that u never bought, each
 * vote weighing sim(u, v). Cost per customer: O(query_items * knn_fanout + neighbours *
 * window_items). */
#include "recall/recall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct knn_params {
    struct recall_list_params list;
    long neighbours;        /* similar customers kept (40) */
    long fanout;            /* customers examined per query item (64) */
};
_Static_assert(sizeof(struct knn_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct knn_params, f)
static const struct hm_setting knn_settings[] = {
    {"recall.knn_n", HM_SET_INT, P(list.n), "40", 0, 255, 0, "user-KNN: candidates per customer"},
    {"recall.knn_neighbours", HM_SET_INT, P(neighbours), "40", 1, 1000, 0,
     "user-KNN: similar customers kept"},
    {"recall.knn_fanout", HM_SET_INT, P(fanout), "64", 1, 100000, 0,
     "user-KNN: recent buyers visited per query item"},
    {"recall.knn_w", HM_SET_DOUBLE, P(list.w), "1", 0, 1e6, 0, "user-KNN: merge weight"},
};
#undef P

static uint32_t knn_user(const struct recall_engine *e, int strat, struct recall_scratch *s, uint32_t c,
                         uint32_t *items, float *scores)
{
    const struct knn_params *p = recall_params_of(&e->p, strat);
    const struct recall_hist *h = &s->hist;
    const struct recall_window *w = &e->win;
    uint32_t fan = (uint32_t)p->fanout, nq = 0;
    for (uint32_t i = 0; i < h->n && nq < (uint32_t)e->p.query_items; i++) {
        uint32_t a = h->item[i];
        if (!e->keep[a])
            continue;
        nq++;
        uint64_t b = w->ioff[a], deg = w->ioff[a + 1] - b;
        if (!deg)
            continue;
        float idf = (float)(1.0 / log2(2.0 + (double)deg));
        uint64_t first = deg > fan ? hm_mix64(((uint64_t)c << 32) ^ a) % deg : 0;
        uint64_t m = deg > fan ? fan : deg;
        for (uint64_t x = 0; x < m; x++) {
            uint64_t k = first + x;
            uint32_t v = w->iuser[b + (k >= deg ? k - deg : k)];
            if (v != c)
                hm_acc_add(&s->users, v, idf);
        }
    }
    if (!s->users.n_touched)
        return 0;
    /* the 4k best by shared-item weight, then normalised to a cosine-like similarity (reading
     * |W_v| for a few hundred customers instead of every one touched) */
    uint32_t kn = (uint32_t)p->neighbours, pre = 4 * kn < s->tmp_cap ? 4 * kn : s->tmp_cap;
    uint32_t np = hm_acc_top(&s->users, pre, s->tmp_items, s->tmp_scores, NULL);
    for (uint32_t x = 0; x < np; x++) {
        uint32_t v = s->tmp_items[x];
        double wv = (double)(w->uoff[v + 1] - w->uoff[v]);
        hm_acc_add(&s->users, v, (float)(s->tmp_scores[x] / sqrt((double)nq * (wv > 0 ? wv : 1))));
    }
    uint32_t nn = hm_acc_top(&s->users, kn, s->tmp_items, s->tmp_scores, NULL);
    /* the customer's own items are not proposed */
    for (uint32_t i = 0; i < h->n; i++)
        s->mark[h->item[i]] = 1;
    for (uint32_t x = 0; x < nn; x++) {
        uint32_t v = s->tmp_items[x];
        for (uint64_t k = w->uoff[v]; k < w->uoff[v + 1]; k++)
            if (!s->mark[w->uitem[k]])
                hm_acc_add(&s->items, w->uitem[k], s->tmp_scores[x]);
    }
    uint32_t n = hm_acc_top(&s->items, (uint32_t)p->list.n, items, scores, NULL);
    for (uint32_t i = 0; i < h->n; i++)
        s->mark[h->item[i]] = 0;
    return n;
}

const struct recall_strategy recall_userknn = {
    .name = "userknn",
    .help = "items of customers with overlapping histories",
    .settings = knn_settings,
    .n_settings = sizeof knn_settings / sizeof knn_settings[0],
    .params_size = sizeof(struct knn_params),
    .needs = RECALL_NEEDS_WINDOW,
    .user = knn_user,
};
