/* recall: Stage 2 of the pipeline, candidate generation. This part: the three baselines
 * every model must beat, which also serve as the simplest candidate sources.
 *
 *   popular  the best sellers of the last `pop_days` days before the cutoff, for everyone
 *   decayed  time-decayed popularity over the last `decay_weeks` weeks: each row weighs
 *            exp(-(cutoff - 1 - day) / decay_tau)
 *   recent   each customer's own earlier purchases scored by recency and frequency,
 *            sum of exp(-(cutoff - 1 - day) / recent_tau) over their rows of the article,
 *            filled up with `popular`
 *
 * All use only transactions strictly before the cutoff. Ties break by the lower article row.
 */
#ifndef HM_RECALL_H
#define HM_RECALL_H

#include "core/core.h"
#include "data/data.h"

#define RECALL_K 12

enum recall_baseline { RECALL_POPULAR, RECALL_DECAYED, RECALL_RECENT, RECALL_NBASELINES };
extern const char *const recall_baseline_name[RECALL_NBASELINES];
/* The baseline of that name, or -1. */
int recall_baseline_find(const char *name);

struct recall_base_params {
    long pop_days;       /* 7 */
    long decay_weeks;    /* 4 */
    double decay_tau;    /* 7 days */
    double recent_tau;   /* 30 days */
};
extern const struct hm_setting recall_base_settings[];
extern const size_t recall_base_n_settings;

/* The k best articles by score over rows with day in [start, cutoff), each row weighing
 * exp(-(cutoff - 1 - day) / tau) (tau <= 0: every row weighs 1). out: (k) article rows, best
 * first; returns how many were found (fewer when fewer articles sold). */
uint32_t recall_top_articles(const struct hm_dataset *ds, int32_t start, int32_t cutoff, double tau,
                             uint32_t k, uint32_t *out);

/* Predicts RECALL_K articles for each of users[0..n): out (n, RECALL_K) article rows, best
 * first; n_out (n) how many of each row are set (the rest are UINT32_MAX). */
int recall_baseline_predict(const struct hm_dataset *ds, int kind, const struct recall_base_params *p,
                            int32_t cutoff, const uint32_t *users, uint32_t n, uint32_t *out,
                            uint8_t *n_out);

#endif
