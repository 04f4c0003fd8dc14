/* The XE-NDCG ranking loss (Bruch et al. 2019, "An Alternative Cross Entropy Loss for
 * Learning-to-Rank"; LightGBM's rank_xendcg): per group, a cross entropy between the softmax
 * of the scores and a noisy, normalised gain. Pure C: gbm.c feeds the gradients to XGBoost. */
#include "rank/gbm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double xendcg_gamma(uint64_t seed, uint32_t round, uint64_t row)
{
    uint64_t h = hm_mix64(hm_mix64(seed ^ 0x9e3779b97f4a7c15ULL) + hm_mix64(((uint64_t)round << 40) ^ row));
    return (double)(h >> 11) * 0x1.0p-53;
}

double xendcg_group(const double *s, const float *label, const double *gamma, uint32_t n,
                    int order, double *grad, double *hess)
{
    if (n == 0)
        return 0;
    double mx = -INFINITY;
    for (uint32_t i = 0; i < n; i++)
        mx = s[i] > mx ? s[i] : mx;
    double z = 0, phi_sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        z += exp(s[i] - mx);
        phi_sum += exp2((double)label[i]) - gamma[i];
    }
    double lse = mx + log(z), loss = 0;
    for (uint32_t i = 0; i < n; i++) {
        double phi = (exp2((double)label[i]) - gamma[i]) / phi_sum;
        double rho = exp(s[i] - lse);
        loss -= phi * (s[i] - lse);
        if (grad)
            grad[i] = rho - phi; /* the first-order term */
        if (hess)
            hess[i] = rho * (1 - rho);
    }
    if (!grad || order < 3 || n < 2)
        return loss;
    /* LightGBM's higher-order terms, with a = 1 - rho kept away from 0:
     *   L2_i = sum_{j != i} L1_j / a_j,   L3_i = sum_{j != i} rho_j L2_j / a_j,
     *   grad_i = L1_i + rho_i (L2_i + L3_i), in O(n) through the sums over all j. */
    double s2 = 0, s3 = 0;
    for (uint32_t i = 0; i < n; i++) {
        double a = fmax(1 - exp(s[i] - lse), 1e-12);
        s2 += grad[i] / a;
    }
    double *l2 = hm_xmalloc_array(n, sizeof *l2);
    for (uint32_t i = 0; i < n; i++) {
        double rho = exp(s[i] - lse), a = fmax(1 - rho, 1e-12);
        l2[i] = s2 - grad[i] / a;
        s3 += rho * l2[i] / a;
    }
    for (uint32_t i = 0; i < n; i++) {
        double rho = exp(s[i] - lse), a = fmax(1 - rho, 1e-12);
        double l3 = s3 - rho * l2[i] / a;
        grad[i] += rho * (l2[i] + l3);
    }
    free(l2);
    return loss;
}

/* ---- every group, in parallel ---------------------------------------------------------------- */

struct xe_job {
    const struct rank_data *d;
    const float *s;
    uint64_t seed;
    uint32_t round;
    int order;
    float *grad, *hess;
    double *loss;     /* (n_groups) */
    double *scratch;  /* (threads, 4 * max_group) */
    uint64_t max_group;
};

static int xe_chunk(size_t begin, size_t end, int tid, void *ud)
{
    struct xe_job *j = ud;
    double *sc = j->scratch + (size_t)tid * 4 * j->max_group;
    for (size_t g = begin; g < end; g++) {
        uint64_t b = j->d->group_off[g], n = j->d->group_off[g + 1] - b;
        double *s = sc, *gamma = sc + n, *gr = sc + 2 * n, *he = sc + 3 * n;
        for (uint64_t i = 0; i < n; i++) {
            s[i] = j->s[b + i];
            gamma[i] = xendcg_gamma(j->seed, j->round, b + i);
        }
        j->loss[g] = xendcg_group(s, j->d->label + b, gamma, (uint32_t)n, j->order, gr, he);
        for (uint64_t i = 0; i < n; i++) {
            j->grad[b + i] = (float)gr[i];
            j->hess[b + i] = (float)he[i];
        }
    }
    return 0;
}

double xendcg_gradients(const struct rank_data *d, const float *s, uint64_t seed, uint32_t round,
                        int order, float *grad, float *hess)
{
    if (!d->n_groups)
        return 0;
    uint64_t max_group = 1;
    for (uint32_t g = 0; g < d->n_groups; g++) {
        uint64_t n = d->group_off[g + 1] - d->group_off[g];
        max_group = n > max_group ? n : max_group;
    }
    int nt = hm_threads();
    struct xe_job j = {d, s, seed, round, order, grad, hess, NULL, NULL, max_group};
    j.loss = hm_xmalloc_array(d->n_groups, sizeof *j.loss);
    j.scratch = hm_xmalloc_array((size_t)nt * 4, max_group * sizeof *j.scratch);
    hm_parallel_chunks(nt, d->n_groups, 256, xe_chunk, &j);
    double sum = 0; /* in group order: the same for any thread count */
    for (uint32_t g = 0; g < d->n_groups; g++)
        sum += j.loss[g];
    free(j.loss);
    free(j.scratch);
    return sum / d->n_groups;
}
