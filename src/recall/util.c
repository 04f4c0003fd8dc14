/* Shared helpers of the recall strategies: top-k selection and a dense accumulator. */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

/* a before b: higher score, then lower item */
static inline int better(float sa, uint32_t ia, float sb, uint32_t ib)
{
    return sa > sb || (sa == sb && ia < ib);
}

void recall_top_insert(float *sc, uint32_t *it, uint32_t *n, uint32_t k, float s, uint32_t item)
{
    if (k == 0)
        return;
    uint32_t i = *n;
    if (i == k) {
        if (!better(s, item, sc[k - 1], it[k - 1]))
            return;
        i = k - 1;
    } else {
        (*n)++;
    }
    while (i > 0 && better(s, item, sc[i - 1], it[i - 1])) {
        sc[i] = sc[i - 1];
        it[i] = it[i - 1];
        i--;
    }
    sc[i] = s;
    it[i] = item;
}

/* ---- a binary min-heap of the k best so far (root = the worst kept) -------------- */

static void heap_down(float *sc, uint32_t *it, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(sc[w], it[w], sc[l], it[l]))
            w = l;
        if (r < n && better(sc[w], it[w], sc[r], it[r]))
            w = r;
        if (w == i)
            return;
        float ts = sc[i];
        uint32_t ti = it[i];
        sc[i] = sc[w], it[i] = it[w];
        sc[w] = ts, it[w] = ti;
        i = w;
    }
}

static void heap_up(float *sc, uint32_t *it, uint32_t i)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!better(sc[p], it[p], sc[i], it[i]))
            return;
        float ts = sc[i];
        uint32_t ti = it[i];
        sc[i] = sc[p], it[i] = it[p];
        sc[p] = ts, it[p] = ti;
        i = p;
    }
}

/* Heap-sorts the heap into best-first order. */
static void heap_finish(float *sc, uint32_t *it, uint32_t n)
{
    for (uint32_t m = n; m > 1; m--) {
        float ts = sc[0];
        uint32_t ti = it[0];
        sc[0] = sc[m - 1], it[0] = it[m - 1];
        sc[m - 1] = ts, it[m - 1] = ti;
        heap_down(sc, it, m - 1, 0);
    }
}

static void heap_offer(float *sc, uint32_t *it, uint32_t *n, uint32_t k, float s, uint32_t item)
{
    if (*n < k) {
        sc[*n] = s;
        it[*n] = item;
        heap_up(sc, it, (*n)++);
    } else if (better(s, item, sc[0], it[0])) {
        sc[0] = s;
        it[0] = item;
        heap_down(sc, it, k, 0);
    }
}

uint32_t recall_select_top(const uint32_t *items, const float *scores, uint32_t n, uint32_t k,
                           uint32_t *out_items, float *out_scores)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        heap_offer(out_scores, out_items, &m, k, scores[i], items[i]);
    heap_finish(out_scores, out_items, m);
    return m;
}

/* ---- the accumulator ------------------------------------------------------------------ */

void recall_acc_init(struct recall_acc *a, uint32_t n)
{
    a->n = n;
    a->n_touched = 0;
    a->v = hm_xcalloc((size_t)n + 1, sizeof *a->v);
    a->touched = hm_xmalloc_array((size_t)n + 1, sizeof *a->touched);
}

void recall_acc_release(struct recall_acc *a)
{
    free(a->v);
    free(a->touched);
    memset(a, 0, sizeof *a);
}

uint32_t recall_acc_top(struct recall_acc *a, uint32_t k, uint32_t *out_items, float *out_scores,
                        const uint8_t *skip)
{
    uint32_t m = 0;
    for (uint32_t t = 0; t < a->n_touched; t++) {
        uint32_t i = a->touched[t];
        if (!skip || !skip[i])
            heap_offer(out_scores, out_items, &m, k, a->v[i], i);
        a->v[i] = 0;
    }
    a->n_touched = 0;
    heap_finish(out_scores, out_items, m);
    return m;
}
