/* eval: ranking metrics as Kaggle's H&M competition defines them (see HM_DATA.md).
 *
 * Predictions are ranked lists of article indexes (best first); duplicates count once, at
 * their first position. Truth is the set of articles a customer bought in the target week
 * (duplicates in it are ignored). Customers with an empty truth are not scored: callers skip
 * them, and these functions return 0 for them. */
#ifndef EVAL_H
#define EVAL_H

#include <stddef.h>
#include <stdint.h>

/* AP@k = 1/min(|truth|, k) * sum_{i<=k} precision@i * rel(i). */
double eval_ap_at_k(const uint32_t *pred, size_t n_pred, const uint32_t *truth, size_t n_truth,
                       int k);

/* All metrics at one cutoff k for one customer. */
struct eval_one {
    double ap;        /* AP@k as above */
    double precision; /* hits in the first k distinct predictions / k */
    double recall;    /* hits / |truth| */
    double ndcg;      /* binary-gain NDCG@k with ideal = min(|truth|, k) hits on top */
};
void eval_at_k(const uint32_t *pred, size_t n_pred, const uint32_t *truth, size_t n_truth, int k,
                  struct eval_one *out);

/* ---- averages over customers ------------------------------------------------ */

#define EVAL_NK 5
extern const int eval_ks[EVAL_NK]; /* 1, 3, 5, 10, 12 */

/* Running sums of every metric at every cutoff over the scored customers. */
struct eval_sum {
    uint64_t users;                 /* customers with a non-empty truth */
    double ap[EVAL_NK], precision[EVAL_NK], recall[EVAL_NK], ndcg[EVAL_NK];
};
/* Adds one customer (ignored when truth is empty). */
void eval_sum_add(struct eval_sum *s, const uint32_t *pred, size_t n_pred,
                     const uint32_t *truth, size_t n_truth);
/* Adds b into a (combine per-thread sums in a fixed order for determinism). */
void eval_sum_merge(struct eval_sum *a, const struct eval_sum *b);
/* MAP@12 of the sums (0 when no customer was scored). */
double eval_map12(const struct eval_sum *s);

/* A named row of the metrics table. */
struct eval_row {
    const char *name;
    struct eval_sum sum;
};
/* Formats rows as an aligned text table: MAP@12 first, then MAP/P/R/NDCG at each k;
 * when ref_map12 > 0 a column gives each row's MAP@12 as a share of it (the oracle).
 * Returns a malloc'ed string. */
char *eval_table_format(const struct eval_row *rows, size_t n, double ref_map12);

/* Candidate recall: the share of (customer, article) purchase pairs of the target week
 * that the customer's candidate set contains. Accumulate with eval_recall_add. */
struct eval_recall {
    uint64_t hits, total;
};
void eval_recall_add(struct eval_recall *r, const uint32_t *cands, size_t n_cands,
                        const uint32_t *truth, size_t n_truth);

#endif
