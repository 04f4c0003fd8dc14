/* Ensembles of rankers: per-customer rank normalisation, a weighted sum with weights chosen by
 * coordinate search on MAP@12, and the plain average. */
#include "rank/ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- rank normalisation ---------------------------------------------------------------------- */

struct ranked {
    float s;     /* score, -INFINITY for NaN */
    uint32_t i;  /* row within the group */
};

static int ranked_cmp(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Normalises one group of n rows (scratch: n entries). NaN and -inf share the last ranks. */
static void normalize_group(const float *score, uint64_t n, float *out, struct ranked *scratch)
{
    for (uint64_t i = 0; i < n; i++)
        scratch[i] = (struct ranked){isnan(score[i]) ? -INFINITY : score[i], (uint32_t)i};
    qsort(scratch, n, sizeof *scratch, ranked_cmp);
    for (uint64_t a = 0; a < n;) {
        uint64_t b = a + 1;
        while (b < n && scratch[b].s == scratch[a].s)
            b++;
        float v = (float)(1.0 - 0.5 * (double)(a + b - 1) / (double)n); /* mean rank of a..b-1 */
        for (uint64_t k = a; k < b; k++)
            out[scratch[k].i] = v;
        a = b;
    }
}

struct norm_job {
    const struct rank_data *d;
    const float *const *scores;   /* (n_models) */
    const double *w;              /* (n_models) or NULL: write model 0's normalised scores */
    uint32_t n_models;
    float *out;
    struct ranked **scratch;      /* (threads) */
    float **tmp;                  /* (threads) */
    double **acc;                 /* (threads) */
};

static uint64_t max_group(const struct rank_data *d)
{
    uint64_t m = 1;
    for (uint32_t g = 0; g < d->n_groups; g++)
        if (d->group_off[g + 1] - d->group_off[g] > m)
            m = d->group_off[g + 1] - d->group_off[g];
    return m;
}

static int norm_chunk(size_t begin, size_t end, int tid, void *ud)
{
    struct norm_job *j = ud;
    for (size_t g = begin; g < end; g++) {
        uint64_t b = j->d->group_off[g], n = j->d->group_off[g + 1] - b;
        if (!j->w) {
            normalize_group(j->scores[0] + b, n, j->out + b, j->scratch[tid]);
            continue;
        }
        /* summed in double in model order, as the fit does: the same floats */
        double *acc = j->acc[tid];
        memset(acc, 0, n * sizeof *acc);
        for (uint32_t k = 0; k < j->n_models; k++) {
            normalize_group(j->scores[k] + b, n, j->tmp[tid], j->scratch[tid]);
            for (uint64_t i = 0; i < n; i++)
                acc[i] += j->w[k] * j->tmp[tid][i];
        }
        for (uint64_t i = 0; i < n; i++)
            j->out[b + i] = (float)acc[i];
    }
    return 0;
}

static void run_norm(const struct rank_data *d, const float *const *scores, const double *w,
                     uint32_t n_models, float *out)
{
    int nt = hm_threads();
    uint64_t mg = max_group(d);
    struct norm_job j = {d, scores, w, n_models, out, NULL, NULL, NULL};
    j.scratch = hm_xcalloc((size_t)nt, sizeof *j.scratch);
    j.tmp = hm_xcalloc((size_t)nt, sizeof *j.tmp);
    j.acc = hm_xcalloc((size_t)nt, sizeof *j.acc);
    for (int t = 0; t < nt; t++) {
        j.scratch[t] = hm_xmalloc_array(mg, sizeof **j.scratch);
        j.tmp[t] = hm_xmalloc_array(mg, sizeof **j.tmp);
        j.acc[t] = hm_xmalloc_array(mg, sizeof **j.acc);
    }
    hm_parallel_chunks(nt, d->n_groups, 512, norm_chunk, &j);
    for (int t = 0; t < nt; t++) {
        free(j.scratch[t]);
        free(j.tmp[t]);
        free(j.acc[t]);
    }
    free(j.scratch);
    free(j.tmp);
    free(j.acc);
}

void ensemble_rank_normalize(const struct rank_data *d, const float *score, float *out)
{
    run_norm(d, &score, NULL, 1, out);
}

/* ---- weighted sums ---------------------------------------------------------------------------- */

void ensemble_params_defaults(struct ensemble_params *p)
{
    p->step = 0.5;
    p->min_step = 1.0 / 64;
    p->max_passes = 100;
}

void ensemble_average(struct ensemble *e, uint32_t n_models)
{
    e->n_models = n_models;
    e->w = hm_xmalloc_array(n_models + 1, sizeof *e->w);
    for (uint32_t k = 0; k < n_models; k++)
        e->w[k] = 1.0 / n_models;
    e->map12 = 0;
}

void ensemble_release(struct ensemble *e)
{
    free(e->w);
    memset(e, 0, sizeof *e);
}

void ensemble_score(const struct ensemble *e, const struct rank_data *d, const float *const *scores,
                    float *out)
{
    run_norm(d, scores, e->w, e->n_models, out);
}

/* The fit's state: every model's normalised scores once, and one combined vector. */
struct fit {
    const struct rank_data *d;
    uint32_t k;
    float **norm;     /* (k, n_rows) */
    float *comb;      /* (n_rows) */
    const double *w;
    uint32_t evals;
};

static int comb_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct fit *f = ud;
    for (size_t r = begin; r < end; r++) {
        double s = 0;
        for (uint32_t m = 0; m < f->k; m++)
            s += f->w[m] * f->norm[m][r];
        f->comb[r] = (float)s;
    }
    return 0;
}

static double fit_eval(struct fit *f, const double *w)
{
    f->w = w;
    f->evals++;
    hm_parallel_for(0, f->d->n_rows, comb_range, f);
    return rank_map12(f->d, f->comb, NULL);
}

/* Renormalises w to sum 1; returns 0 when every weight is 0. */
static int renorm(double *w, uint32_t k)
{
    double s = 0;
    for (uint32_t m = 0; m < k; m++)
        s += w[m];
    if (!(s > 0))
        return 0;
    for (uint32_t m = 0; m < k; m++)
        w[m] /= s;
    return 1;
}

int ensemble_fit(const struct rank_data *d, const float *const *scores, uint32_t n_models,
                 const struct ensemble_params *p, struct ensemble *e)
{
    memset(e, 0, sizeof *e);
    if (!n_models)
        return hm_error(HM_EINVAL, "ensemble_fit: no model");
    if (!d->label || !d->group_truth)
        return hm_error(HM_EINVAL, "ensemble_fit: the data has no labels");
    if (!(p->step > 0) || !(p->min_step > 0) || p->max_passes < 1)
        return hm_error(HM_EINVAL, "ensemble_fit: step %g, min_step %g and max_passes %d must be "
                                   "positive", p->step, p->min_step, p->max_passes);
    struct fit f = {d, n_models, NULL, NULL, NULL, 0};
    f.norm = hm_xcalloc(n_models, sizeof *f.norm);
    for (uint32_t m = 0; m < n_models; m++) {
        f.norm[m] = hm_xmalloc_array(d->n_rows + 1, sizeof **f.norm);
        ensemble_rank_normalize(d, scores[m], f.norm[m]);
    }
    f.comb = hm_xmalloc_array(d->n_rows + 1, sizeof *f.comb);
    double *w = hm_xmalloc_array(n_models, sizeof *w), *cand = hm_xmalloc_array(n_models, sizeof *cand);

    /* the start: the average, then each single model */
    for (uint32_t m = 0; m < n_models; m++)
        w[m] = 1.0 / n_models;
    double best = fit_eval(&f, w);
    for (uint32_t s = 0; s < n_models && n_models > 1; s++) {
        for (uint32_t m = 0; m < n_models; m++)
            cand[m] = m == s;
        double v = fit_eval(&f, cand);
        if (v > best) {
            best = v;
            memcpy(w, cand, n_models * sizeof *w);
        }
    }
    double step = p->step;
    for (int pass = 0; pass < p->max_passes && n_models > 1 && step >= p->min_step; pass++) {
        int improved = 0;
        for (uint32_t m = 0; m < n_models; m++) {
            for (int sign = 1; sign >= -1; sign -= 2) {
                memcpy(cand, w, n_models * sizeof *w);
                cand[m] = fmax(0, cand[m] + sign * step);
                if (!renorm(cand, n_models))
                    continue;
                double v = fit_eval(&f, cand);
                if (v > best) {
                    best = v;
                    memcpy(w, cand, n_models * sizeof *w);
                    improved = 1;
                }
            }
        }
        if (!improved)
            step /= 2;
    }
    hm_debug("ensemble: %u models, MAP@12 %.5f after %u evaluations", n_models, best, f.evals);
    e->n_models = n_models;
    e->w = w;
    e->map12 = best;
    for (uint32_t m = 0; m < n_models; m++)
        free(f.norm[m]);
    free(f.norm);
    free(f.comb);
    free(cand);
    return 0;
}
