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
#include "comm/comm.h"

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
    {"recall.knn_n", HM_SET_INT, P(list.n), "100", 0, 255, 0, "user-KNN: candidates per customer"},
    {"recall.knn_neighbours", HM_SET_INT, P(neighbours), "40", 1, 1000, 0,
     "user-KNN: similar customers kept"},
    {"recall.knn_fanout", HM_SET_INT, P(fanout), "64", 1, 100000, 0,
     "user-KNN: recent buyers visited per query item"},
    {"recall.knn_w", HM_SET_DOUBLE, P(list.w), "0.25", 0, 1e6, 0, "user-KNN: merge weight"},
};
#undef P

/* The strategy runs a block of customers at a time, in three steps, because on shards the
 * item -> customers index of an article and the customers' lists live on the rank whose
 * article side holds the article (the window's view): (1) each customer's query items go, as
 * requests (customer, item), to the ranks of the items, which answer with the item's number
 * of buyers and the buyers visited (each with the length of their list); (2) each customer
 * accumulates those in the one-process order, keeps the best neighbours and asks, for each,
 * the rank of the item that found it for its list; (3) the lists vote. In one process the
 * "ranks" are this one and the answers are the same numbers. */

/* A request: customer (for the visiting window) and item, or (step 2) customer and item of
 * the list asked for. */
struct knn_req {
    uint32_t c, a;
};

struct knn_job {
    const struct recall_engine *e;
    const struct knn_params *p;
    struct recall_scratch *const *sc;
    const uint32_t *users;
    uint32_t n, q;                 /* customers; query items per customer (at most) */
    uint32_t *query;               /* (n, q) each customer's query items */
    uint32_t *nq;                  /* (n) */
    /* answers: for request k of customer i (k < nq[i] in step 1, k < n_nbr[i] in step 2),
     * where its answer starts in ans */
    const uint32_t **at;           /* (n, max(q, kn)) */
    uint32_t kn;                   /* neighbours per customer */
    uint32_t *nbr;                 /* (n, kn) neighbours */
    float *nbr_score;              /* (n, kn) */
    uint32_t *nbr_item;            /* (n, kn) the item that found each */
    uint32_t *n_nbr;               /* (n) */
    uint32_t *ids;                 /* (n, list n) output */
    float *scores;
    uint32_t *count;               /* (n) */
    /* answering */
    const struct knn_req *req;
    uint64_t *ans_off;             /* (requests + 1) */
    uint32_t *ans;
    int step;
};

/* Step 1 of the customers [begin, end): their query items, the best query_items of their
 * history that are in the universe. */
static int knn_queries(size_t begin, size_t end, int tid, void *ud)
{
    struct knn_job *j = ud;
    const struct recall_engine *e = j->e;
    struct recall_scratch *s = j->sc[tid];
    for (size_t i = begin; i < end; i++) {
        recall_hist_build(&s->hist, e->ds, j->users[i], e->start, e->cutoff, e->p.tau);
        const struct recall_hist *h = &s->hist;
        uint32_t nq = 0;
        for (uint32_t x = 0; x < h->n && nq < j->q; x++)
            if (e->keep[h->item[x]])
                j->query[i * j->q + nq++] = h->item[x];
        j->nq[i] = nq;
    }
    return 0;
}

/* The rank whose window view holds article a's buyers. */
struct knn_route {
    const uint32_t *edges;
    int nr;
};

/* The answer to request k: step 1 [deg, m, (v, |W_v|) x m], the buyers of item a visited for
 * customer c; step 2 [len, items], customer c's list (a: an item of theirs held here). Sizes
 * first (ans NULL), then the answers. */
static uint32_t buyer_index(const struct recall_window *w, uint32_t c)
{
    if (!w->buyer)
        return c;
    uint32_t lo = 0, hi = w->n_buyers;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (w->buyer[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int knn_answer(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct knn_job *j = ud;
    const struct recall_window *w = &j->e->win;
    uint32_t fan = (uint32_t)j->p->fanout;
    for (size_t k = begin; k < end; k++) {
        struct knn_req r = j->req[k];
        uint32_t *out = j->ans ? j->ans + j->ans_off[k] : NULL;
        if (j->step == 2) {
            uint32_t x = buyer_index(w, r.c);
            uint64_t b = w->boff[x], len = w->boff[x + 1] - b;
            if (!out) {
                j->ans_off[k + 1] = 1 + len;
                continue;
            }
            out[0] = (uint32_t)len;
            memcpy(out + 1, w->bitem + b, len * sizeof *out);
            continue;
        }
        uint64_t b = w->aoff[r.a], deg = w->aoff[r.a + 1] - b;
        uint64_t m = deg > fan ? fan : deg;
        if (!out) {
            j->ans_off[k + 1] = 2 + 2 * m;
            continue;
        }
        out[0] = (uint32_t)deg;
        out[1] = (uint32_t)m;
        uint64_t first = deg > fan ? hm_mix64(((uint64_t)r.c << 32) ^ r.a) % deg : 0;
        for (uint64_t x = 0; x < m; x++) {
            uint64_t p = first + x;
            uint32_t v = w->auser[b + (p >= deg ? p - deg : p)];
            out[2 + 2 * x] = w->buyer ? w->buyer[v] : v;
            out[3 + 2 * x] = (uint32_t)(w->boff[v + 1] - w->boff[v]);
        }
    }
    return 0;
}

/* Sends every customer's requests (k < count(i), item item(i, k)) to the ranks of their
 * items, answers the requests this rank receives, and points j->at at each answer. The
 * buffer of the answers is returned (the caller frees it). */
static uint32_t *knn_exchange(struct knn_job *j, const struct knn_route *rt, int step, const uint32_t *counts,
                              uint32_t stride, const uint32_t *items, const uint32_t *custs)
{
    int nr = rt->nr;
    uint64_t *cnt = hm_xcalloc((size_t)nr, sizeof *cnt), *got = hm_xcalloc((size_t)nr, sizeof *got);
    uint64_t total = 0;
    for (uint32_t i = 0; i < j->n; i++)
        for (uint32_t k = 0; k < counts[i]; k++)
            cnt[data_article_owner(rt->edges, nr, items[(size_t)i * stride + k])]++;
    uint64_t *pos = hm_xcalloc((size_t)nr + 1, sizeof *pos);
    for (int r = 0; r < nr; r++) {
        pos[r + 1] = pos[r] + cnt[r];
        total += cnt[r];
    }
    /* the requests in rank order; slot[i, k]: the request's index within its rank's requests */
    struct knn_req *req = hm_xmalloc_array(total + 1, sizeof *req);
    uint64_t *slot = hm_xmalloc_array(total + 1, sizeof *slot);
    int *dest = hm_xmalloc_array(total + 1, sizeof *dest);
    uint64_t *fill = hm_xmalloc_array((size_t)nr + 1, sizeof *fill), q = 0;
    memcpy(fill, pos, (size_t)nr * sizeof *fill);
    for (uint32_t i = 0; i < j->n; i++)
        for (uint32_t k = 0; k < counts[i]; k++, q++) {
            uint32_t a = items[(size_t)i * stride + k];
            int r = data_article_owner(rt->edges, nr, a);
            slot[q] = fill[r] - pos[r];
            dest[q] = r;
            req[fill[r]++] = (struct knn_req){custs ? custs[(size_t)i * stride + k] : j->users[i], a};
        }
    for (int r = 0; r < nr; r++)
        cnt[r] *= sizeof *req;
    struct knn_req *in = comm_alltoallv(req, cnt, got);
    free(req);
    /* the answers to what this rank received, in the same order */
    uint64_t n_in = 0;
    uint64_t *in_from = hm_xcalloc((size_t)nr + 1, sizeof *in_from);
    for (int r = 0; r < nr; r++) {
        in_from[r + 1] = in_from[r] + got[r] / sizeof *in;
        n_in += got[r] / sizeof *in;
    }
    j->req = in;
    j->step = step;
    j->ans = NULL;
    j->ans_off = hm_xcalloc(n_in + 1, sizeof *j->ans_off);
    hm_parallel_chunks(0, n_in, 1024, knn_answer, j);
    for (uint64_t k = 0; k < n_in; k++)
        j->ans_off[k + 1] += j->ans_off[k];
    j->ans = hm_xmalloc_array(j->ans_off[n_in] + 1, sizeof *j->ans);
    hm_parallel_chunks(0, n_in, 1024, knn_answer, j);
    for (int r = 0; r < nr; r++)
        cnt[r] = (j->ans_off[in_from[r + 1]] - j->ans_off[in_from[r]]) * sizeof *j->ans;
    uint32_t *back = comm_alltoallv(j->ans, cnt, got);
    /* where each answer starts: the answers of rank r come in the order of its requests */
    uint64_t *start = hm_xcalloc((size_t)nr + 1, sizeof *start);
    for (int r = 0; r < nr; r++)
        start[r + 1] = start[r] + got[r] / sizeof *back;
    const uint32_t **ans_at = hm_xmalloc_array(total + 1, sizeof *ans_at);
    for (int r = 0; r < nr; r++) {
        const uint32_t *p = back + start[r];
        for (uint64_t k = pos[r]; k < pos[r + 1]; k++) {
            ans_at[k] = p; /* request k - pos[r] of rank r */
            p += step == 2 ? 1 + p[0] : 2 + 2 * (uint64_t)p[1];
        }
    }
    q = 0;
    for (uint32_t i = 0; i < j->n; i++)
        for (uint32_t k = 0; k < counts[i]; k++, q++)
            j->at[(size_t)i * stride + k] = ans_at[pos[dest[q]] + slot[q]];
    free(ans_at);
    free(start);
    free(j->ans);
    free(j->ans_off);
    free(in);
    free(in_from);
    free(slot);
    free(dest);
    free(fill);
    free(pos);
    free(cnt);
    free(got);
    j->ans = NULL;
    j->ans_off = NULL;
    j->req = NULL;
    return back;
}

/* Step 2 of the customers [begin, end): the visited buyers accumulated in the one-process
 * order, normalised, and the best neighbours kept with the item that found each. */
static int knn_neighbours(size_t begin, size_t end, int tid, void *ud)
{
    struct knn_job *j = ud;
    struct recall_scratch *s = j->sc[tid];
    for (size_t i = begin; i < end; i++) {
        uint32_t c = j->users[i], nq = j->nq[i];
        j->n_nbr[i] = 0;
        for (uint32_t k = 0; k < nq; k++) {
            const uint32_t *a = j->at[i * j->q + k];
            uint32_t deg = a[0], m = a[1], item = j->query[i * j->q + k];
            if (!deg)
                continue;
            float idf = (float)(1.0 / log2(2.0 + (double)deg));
            for (uint32_t x = 0; x < m; x++) {
                uint32_t v = a[2 + 2 * x];
                if (v == c)
                    continue;
                if (s->users.v[v] == 0.0f) { /* first visit: its list's length and route */
                    s->knn_len[v] = a[3 + 2 * x];
                    s->knn_item[v] = item;
                }
                hm_acc_add(&s->users, v, idf);
            }
        }
        if (!s->users.n_touched)
            continue;
        /* the 4k best by shared-item weight, then normalised to a cosine-like similarity
         * (reading |W_v| for a few hundred customers instead of every one touched) */
        uint32_t pre = 4 * j->kn < s->tmp_cap ? 4 * j->kn : s->tmp_cap;
        uint32_t np = hm_acc_top(&s->users, pre, s->tmp_items, s->tmp_scores, NULL);
        for (uint32_t x = 0; x < np; x++) {
            uint32_t v = s->tmp_items[x];
            double wv = (double)s->knn_len[v];
            hm_acc_add(&s->users, v, (float)(s->tmp_scores[x] / sqrt((double)nq * (wv > 0 ? wv : 1))));
        }
        uint32_t nn = hm_acc_top(&s->users, j->kn, j->nbr + i * j->kn, j->nbr_score + i * j->kn, NULL);
        for (uint32_t x = 0; x < nn; x++)
            j->nbr_item[i * j->kn + x] = s->knn_item[j->nbr[i * j->kn + x]];
        j->n_nbr[i] = nn;
    }
    return 0;
}

/* Step 3 of the customers [begin, end): the neighbours' lists vote for the items the
 * customer never bought. */
static int knn_votes(size_t begin, size_t end, int tid, void *ud)
{
    struct knn_job *j = ud;
    const struct recall_engine *e = j->e;
    struct recall_scratch *s = j->sc[tid];
    uint32_t w = (uint32_t)j->p->list.n;
    for (size_t i = begin; i < end; i++) {
        j->count[i] = 0;
        if (!j->n_nbr[i])
            continue;
        recall_hist_build(&s->hist, e->ds, j->users[i], e->start, e->cutoff, e->p.tau);
        const struct recall_hist *h = &s->hist;
        /* the customer's own items are not proposed */
        for (uint32_t x = 0; x < h->n; x++)
            s->mark[h->item[x]] = 1;
        for (uint32_t x = 0; x < j->n_nbr[i]; x++) {
            const uint32_t *list = j->at[i * j->kn + x];
            for (uint32_t k = 0; k < list[0]; k++)
                if (!s->mark[list[1 + k]])
                    hm_acc_add(&s->items, list[1 + k], j->nbr_score[i * j->kn + x]);
        }
        j->count[i] = hm_acc_top(&s->items, w, j->ids + i * w, j->scores + i * w, NULL);
        for (uint32_t x = 0; x < h->n; x++)
            s->mark[h->item[x]] = 0;
    }
    return 0;
}

static int knn_block(const struct recall_engine *e, int strat, struct recall_scratch *const *sc, int nt,
                     const uint32_t *users, uint32_t n, uint32_t *ids, float *scores, uint32_t *count)
{
    const struct knn_params *p = recall_params_of(&e->p, strat);
    int nr = comm_size();
    uint32_t *edges = hm_xmalloc_array((size_t)nr + 1, sizeof *edges);
    data_article_edges(e->ds, edges);
    struct knn_route rt = {edges, e->ds->n_shards > 1 ? nr : 1};
    uint32_t q = (uint32_t)e->p.query_items, kn = (uint32_t)p->neighbours;
    uint32_t stride = q > kn ? q : kn;
    struct knn_job j = {.e = e, .p = p, .sc = sc, .users = users, .n = n, .q = q, .kn = kn, .ids = ids,
                        .scores = scores, .count = count};
    j.query = hm_xmalloc_array((size_t)n * q + 1, sizeof *j.query);
    j.nq = hm_xmalloc_array((size_t)n + 1, sizeof *j.nq);
    j.at = hm_xmalloc_array((size_t)n * stride + 1, sizeof *j.at);
    j.nbr = hm_xmalloc_array((size_t)n * kn + 1, sizeof *j.nbr);
    j.nbr_score = hm_xmalloc_array((size_t)n * kn + 1, sizeof *j.nbr_score);
    j.nbr_item = hm_xmalloc_array((size_t)n * kn + 1, sizeof *j.nbr_item);
    j.n_nbr = hm_xmalloc_array((size_t)n + 1, sizeof *j.n_nbr);
    hm_parallel_chunks(nt, n, 32, knn_queries, &j);
    /* (j.at is (n, stride) for both exchanges; queries and neighbours are laid out with their
     * own strides, so the first exchange reads them with q and the second with kn) */
    uint32_t *ans1 = knn_exchange(&j, &rt, 1, j.nq, q, j.query, NULL);
    hm_parallel_chunks(nt, n, 32, knn_neighbours, &j);
    free(ans1);
    uint32_t *ans2 = knn_exchange(&j, &rt, 2, j.n_nbr, kn, j.nbr_item, j.nbr);
    hm_parallel_chunks(nt, n, 32, knn_votes, &j);
    free(ans2);
    free(j.query);
    free(j.nq);
    free(j.at);
    free(j.nbr);
    free(j.nbr_score);
    free(j.nbr_item);
    free(j.n_nbr);
    free(edges);
    return 0;
}

const struct recall_strategy recall_userknn = {
    .name = "userknn",
    .help = "items of customers with overlapping histories",
    .settings = knn_settings,
    .n_settings = sizeof knn_settings / sizeof knn_settings[0],
    .params_size = sizeof(struct knn_params),
    .needs = RECALL_NEEDS_WINDOW,
    .block = knn_block,
};
