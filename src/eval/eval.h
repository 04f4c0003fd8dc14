/* eval: ranking metrics as Kaggle's H&M competition defines them (see HM_DATA.md).
 *
 * Predictions are ranked lists of article indexes (best first); duplicates count once, at
 * their first position. Truth is the set of articles a customer bought in the target week
 * (duplicates in it are ignored). Customers with an empty truth are not scored: callers skip
 * them, and these functions return 0 for them. */
#ifndef HM_EVAL_H
#define HM_EVAL_H

#include <stddef.h>
#include <stdint.h>

/* AP@k = 1/min(|truth|, k) * sum_{i<=k} precision@i * rel(i). */
double hm_eval_ap_at_k(const uint32_t *pred, size_t n_pred, const uint32_t *truth, size_t n_truth,
                       int k);

/* All metrics at one cutoff k for one customer. */
struct hm_eval_one {
    double ap;        /* AP@k as above */
    double precision; /* hits in the first k distinct predictions / k */
    double recall;    /* hits / |truth| */
    double ndcg;      /* binary-gain NDCG@k with ideal = min(|truth|, k) hits on top */
};
void hm_eval_at_k(const uint32_t *pred, size_t n_pred, const uint32_t *truth, size_t n_truth, int k,
                  struct hm_eval_one *out);

#endif
