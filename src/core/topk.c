/* Sorting, top-k selection (a bounded heap, a quickselect over packed keys) and the sparse
 * accumulator. Every ranking here orders by score descending, then by the lower id. */
#include "core/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static inline uint64_t median3(uint64_t x, uint64_t y, uint64_t z)
{
    return x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
}

void hm_sort_u64(uint64_t *a, size_t n)
{
    while (n > 24) {
        /* median of three as the pivot, Hoare partition */
        uint64_t p = median3(a[0], a[n / 2], a[n - 1]);
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
            hm_sort_u64(a, left);
            a += left;
            n -= left;
        } else {
            hm_sort_u64(a + left, n - left);
            n = left;
        }
    }
    insertion_u64(a, n);
}

/* ---- the bounded heap ------------------------------------------------------------------- */

static void sift_down(struct hm_hit *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && hm_hit_worse(h[l], h[m]))
            m = l;
        if (r < n && hm_hit_worse(h[r], h[m]))
            m = r;
        if (m == i)
            return;
        struct hm_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

float hm_topk_threshold(const struct hm_topk *t)
{
    return t->n == t->k && t->k ? t->h[0].score : -INFINITY;
}

void hm_topk_push(struct hm_topk *t, float score, uint32_t id)
{
    struct hm_hit x = {score, id};
    if (t->k == 0 || isnan(score))
        return;
    if (t->n == t->k) {
        if (!hm_hit_worse(t->h[0], x))
            return;
        t->h[0] = x;
        sift_down(t->h, t->n, 0);
        return;
    }
    uint32_t i = t->n++;
    t->h[i] = x;
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!hm_hit_worse(t->h[i], t->h[p]))
            break;
        struct hm_hit tmp = t->h[i];
        t->h[i] = t->h[p];
        t->h[p] = tmp;
        i = p;
    }
}

uint32_t hm_topk_sort(struct hm_topk *t)
{
    /* pop the worst to the back: best first */
    uint32_t n = t->n, m = n;
    while (m > 1) {
        struct hm_hit worst = t->h[0];
        t->h[0] = t->h[--m];
        sift_down(t->h, m, 0);
        t->h[m] = worst;
    }
    t->n = 0;
    return n;
}

/* ---- selection over packed keys ----------------------------------------------------------- */

/* (score, id) as one u64 that sorts ascending in rank order; score >= 0 (its bit pattern
 * orders like the value). */
static inline uint64_t score_key(float s, uint32_t id)
{
    uint32_t u;
    memcpy(&u, &s, 4);
    return (uint64_t)(~u) << 32 | id;
}

static inline float key_score(uint64_t key)
{
    uint32_t u = ~(uint32_t)(key >> 32);
    float s;
    memcpy(&s, &u, 4);
    return s;
}

#define SELECT_SAMPLE 64

/* Moves the k smallest keys to a[0..k) in ascending order. When k is small next to n (a
 * strategy's list out of thousands of touched articles), one branch-free pass first moves
 * the keys at or below a threshold to the front, the threshold read from a fixed sample at
 * about 1.5 k / n of its order (plus a margin), and the selection runs on those; when the
 * sample misjudged and fewer than k are at or below it, on the whole (permuted) array. The
 * result is the same either way: keys are distinct. */
static void smallest_k(uint64_t *a, size_t n, size_t k)
{
    if (k < n && n >= 8 * SELECT_SAMPLE && k * 8 <= n) {
        uint64_t sample[SELECT_SAMPLE];
        size_t step = n / SELECT_SAMPLE;
        for (size_t i = 0; i < SELECT_SAMPLE; i++)
            sample[i] = a[i * step + step / 2];
        hm_sort_u64(sample, SELECT_SAMPLE);
        size_t r = (size_t)(1.5 * (double)k / (double)n * SELECT_SAMPLE) + 4;
        if (r < SELECT_SAMPLE) {
            uint64_t t = sample[r];
            size_t m = 0;
            for (size_t i = 0; i < n; i++) { /* a[0..m) <= t < a[m..i) */
                uint64_t x = a[i];
                a[i] = a[m];
                a[m] = x;
                m += x <= t;
            }
            if (m >= k)
                n = m;
        }
    }
    if (k >= n) {
        hm_sort_u64(a, n);
        return;
    }
    size_t lo = 0, hi = n; /* the k-th smallest lies in [lo, hi) */
    while (hi - lo > 24) {
        uint64_t *b = a + lo;
        size_t m = hi - lo;
        uint64_t p = median3(b[0], b[m / 2], b[m - 1]);
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
    hm_sort_u64(a + lo, hi - lo);
    hm_sort_u64(a, lo);
}

void hm_smallest_u64(uint64_t *a, size_t n, size_t k)
{
    if (n)
        smallest_k(a, n, k ? k : 1);
}

static uint32_t write_keys(const uint64_t *keys, uint32_t m, uint32_t *out_ids, float *out_scores)
{
    for (uint32_t x = 0; x < m; x++) {
        out_ids[x] = (uint32_t)keys[x];
        out_scores[x] = key_score(keys[x]);
    }
    return m;
}

uint32_t hm_select_top(const uint32_t *ids, const float *scores, uint32_t n, uint32_t k,
                       uint32_t *out_ids, float *out_scores)
{
    uint64_t *keys = hm_xmalloc_array((size_t)n + 1, sizeof *keys);
    for (uint32_t i = 0; i < n; i++)
        keys[i] = score_key(scores[i] > 0 ? scores[i] : 0, ids[i]);
    smallest_k(keys, n, k);
    uint32_t m = write_keys(keys, n < k ? n : k, out_ids, out_scores);
    free(keys);
    return m;
}

/* ---- the accumulator ------------------------------------------------------------------ */

void hm_acc_init(struct hm_acc *a, uint32_t n)
{
    a->n = n;
    a->n_touched = 0;
    a->v = hm_xcalloc((size_t)n + 1, sizeof *a->v);
    a->touched = hm_xmalloc_array((size_t)n + 1, sizeof *a->touched);
    a->keys = NULL;
    a->keys_cap = 0;
}

void hm_acc_release(struct hm_acc *a)
{
    free(a->keys);
    free(a->v);
    free(a->touched);
    memset(a, 0, sizeof *a);
}

void hm_acc_clear(struct hm_acc *a)
{
    for (uint32_t t = 0; t < a->n_touched; t++)
        a->v[a->touched[t]] = 0;
    a->n_touched = 0;
}

uint32_t hm_acc_top(struct hm_acc *a, uint32_t k, uint32_t *out_ids, float *out_scores,
                    const uint8_t *skip)
{
    HM_GROW(a->keys, a->keys_cap, a->n_touched);
    uint32_t n = 0;
    for (uint32_t t = 0; t < a->n_touched; t++) {
        uint32_t i = a->touched[t];
        if (!skip || !skip[i])
            a->keys[n++] = score_key(a->v[i] > 0 ? a->v[i] : 0, i);
        a->v[i] = 0;
    }
    a->n_touched = 0;
    smallest_k(a->keys, n, k);
    return write_keys(a->keys, n < k ? n : k, out_ids, out_scores);
}
