/* rank/label: the labels of candidate rows, from a week's purchases. The one place that
 * computes them: the training sets, the validation week and the two-stage cut's scorer all
 * label through it. */
#ifndef HM_RANK_LABEL_H
#define HM_RANK_LABEL_H

#include "prep/prep.h"

/* Labels of grouped candidate rows: group g (customer user[g]) holds rows off[g]..off[g+1]
 * with articles item[r]. label[r] = 1 when the customer bought item[r] in the week of truth,
 * else 0; group_truth[g] (may be NULL) = the customer's distinct articles bought that week
 * (0 for a customer who did not buy). */
void rank_label(const struct prep_truth *truth, uint32_t n_groups, const uint64_t *off, const uint32_t *user,
                const uint32_t *item, float *label, uint32_t *group_truth);

#endif
