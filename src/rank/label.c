/* Labels of candidate rows from a week's purchases. */
#include "rank/label.h"

void rank_label(const struct prep_truth *truth, uint32_t n_groups, const uint64_t *off, const uint32_t *user,
                const uint32_t *item, float *label, uint32_t *group_truth)
{
    for (uint32_t g = 0; g < n_groups; g++) {
        uint32_t x = prep_truth_find(truth, user[g]);
        const uint32_t *bought = x == UINT32_MAX ? NULL : truth->items + truth->off[x];
        uint64_t nb = x == UINT32_MAX ? 0 : truth->off[x + 1] - truth->off[x];
        if (group_truth)
            group_truth[g] = (uint32_t)nb;
        for (uint64_t r = off[g]; r < off[g + 1]; r++) {
            label[r] = 0;
            for (uint64_t k = 0; k < nb; k++)
                if (bought[k] == item[r]) {
                    label[r] = 1;
                    break;
                }
        }
    }
}
