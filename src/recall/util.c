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

static inline uint64_t score_key(float s, uint32_t item)
{
    uint32_t u;
    memcpy(&u, &s, 4); /* s >= 0: the bit pattern orders like the value */
    return (uint64_t)(~u) << 32 | item;
}

/* Moves the k smallest keys to a[0..k) in ascending order. */
static void smallest_k(uint64_t *a, size_t n, size_t k)
{
    if (k >= n) {
        recall_sort_u64(a, n);
        return;
    }
    size_t lo = 0, hi = n; /* the k-th smallest lies in [lo, hi) */
    while (hi - lo > 24) {
        uint64_t *b = a + lo;
        size_t m = hi - lo;
        uint64_t x = b[0], y = b[m / 2], z = b[m - 1];
        uint64_t p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = 0, j = m - 1;
        for (;;) {
            while (b[i] < p)
                i++;
            while (b[j] > p)
                j--;
            if (i >= j)
                break;
            uint64_t t = b[i];
            b[i++] = b[j];
            b[j--] = t;
        }
        size_t split = lo + j + 1; /* [lo, split) <= p <= [split, hi) */
        if (k <= split)
            hi = split;
        else
            lo = split;
        if (k == lo)
            break;
    }
    recall_sort_u64(a + lo, hi - lo);
    recall_sort_u64(a, lo);
}

uint32_t recall_select_top(const uint32_t *items, const float *scores, uint32_t n, uint32_t k,
                           uint32_t *out_items, float *out_scores)
{
    uint64_t *keys = hm_xmalloc_array((size_t)n + 1, sizeof *keys);
    for (uint32_t i = 0; i < n; i++)
        keys[i] = score_key(scores[i] > 0 ? scores[i] : 0, items[i]);
    smallest_k(keys, n, k);
    uint32_t m = n < k ? n : k;
    for (uint32_t x = 0; x < m; x++) {
        out_items[x] = (uint32_t)keys[x];
        uint32_t u = ~(uint32_t)(keys[x] >> 32);
        memcpy(&out_scores[x], &u, 4);
    }
    free(keys);
    return m;
}

/* ---- the accumulator ------------------------------------------------------------------ */

void recall_acc_init(struct recall_acc *a, uint32_t n)
{
    a->n = n;
    a->n_touched = 0;
    a->v = hm_xcalloc((size_t)n + 1, sizeof *a->v);
    a->touched = hm_xmalloc_array((size_t)n + 1, sizeof *a->touched);
    a->keys = NULL;
    a->keys_cap = 0;
}

void recall_acc_release(struct recall_acc *a)
{
    free(a->keys);
    free(a->v);
    free(a->touched);
    memset(a, 0, sizeof *a);
}

uint32_t recall_acc_top(struct recall_acc *a, uint32_t k, uint32_t *out_items, float *out_scores,
                        const uint8_t *skip)
{
    if (a->n_touched > a->keys_cap) {
        a->keys_cap = a->n_touched + a->n_touched / 2;
        a->keys = hm_xrealloc(a->keys, (size_t)a->keys_cap * sizeof *a->keys);
    }
    uint32_t n = 0;
    for (uint32_t t = 0; t < a->n_touched; t++) {
        uint32_t i = a->touched[t];
        if (!skip || !skip[i])
            a->keys[n++] = score_key(a->v[i] > 0 ? a->v[i] : 0, i);
        a->v[i] = 0;
    }
    a->n_touched = 0;
    smallest_k(a->keys, n, k);
    uint32_t m = n < k ? n : k;
    for (uint32_t x = 0; x < m; x++) {
        out_items[x] = (uint32_t)a->keys[x];
        uint32_t u = ~(uint32_t)(a->keys[x] >> 32);
        memcpy(&out_scores[x], &u, 4);
    }
    return m;
}

/* ---- sorting ------------------------------------------------------------------------------ */

static void insertion_u64(uint64_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

void recall_sort_u64(uint64_t *a, size_t n)
{
    while (n > 24) {
        /* median of three as the pivot, Hoare partition */
        uint64_t x = a[0], y = a[n / 2], z = a[n - 1];
        uint64_t p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < p)
                i++;
            while (a[j] > p)
                j--;
            if (i >= j)
                break;
            uint64_t t = a[i];
            a[i++] = a[j];
            a[j--] = t;
        }
        /* recurse into the smaller side, loop on the larger: O(log n) stack */
        size_t left = j + 1;
        if (left < n - left) {
            recall_sort_u64(a, left);
            a += left;
            n -= left;
        } else {
            recall_sort_u64(a + left, n - left);
            n = left;
        }
    }
    insertion_u64(a, n);
}
