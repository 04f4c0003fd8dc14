/* Per-customer ranking metrics: AP@k, precision@k, recall@k, NDCG@k. */
#include "eval/eval.h"

#include <math.h>

static int contains(const uint32_t *a, size_t n, uint32_t x)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] == x)
            return 1;
    return 0;
}

/* Counts the distinct values of truth (small arrays: quadratic is fine and allocation-free). */
static size_t distinct_count(const uint32_t *a, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += !contains(a, i, a[i]);
    return d;
}

void eval_at_k(const uint32_t *pred, size_t n_pred, const uint32_t *truth, size_t n_truth, int k,
                  struct eval_one *out)
{
    out->ap = out->precision = out->recall = out->ndcg = 0.0;
    size_t n_true = distinct_count(truth, n_truth);
    if (n_true == 0 || k <= 0)
        return;
    size_t rank = 0, hits = 0;
    double ap = 0.0, dcg = 0.0;
    for (size_t i = 0; i < n_pred && rank < (size_t)k; i++) {
        if (contains(pred, i, pred[i]))
            continue; /* a duplicate counts once, at its first position */
        rank++;
        if (contains(truth, n_truth, pred[i])) {
            hits++;
            ap += (double)hits / (double)rank;
            dcg += 1.0 / log2((double)rank + 1.0);
        }
    }
    size_t denom = n_true < (size_t)k ? n_true : (size_t)k;
    double idcg = 0.0;
    for (size_t r = 1; r <= denom; r++)
        idcg += 1.0 / log2((double)r + 1.0);
    out->ap = ap / (double)denom;
    out->precision = (double)hits / (double)k;
    out->recall = (double)hits / (double)n_true;
    out->ndcg = dcg / idcg;
}

double eval_ap_at_k(const uint32_t *pred, size_t n_pred, const uint32_t *truth, size_t n_truth,
                       int k)
{
    struct eval_one m;
    eval_at_k(pred, n_pred, truth, n_truth, k, &m);
    return m.ap;
}
