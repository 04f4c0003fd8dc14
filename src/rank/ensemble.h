/* rank/ensemble: combining the scores of several rankers (boosted models, the network) over the
 * same ranking data. Scores of different models are not on one scale, so each model's scores
 * are first rank-normalised within each customer's group; the ensemble score of a row is a
 * weighted sum of those, with weights that sum to 1. Only the order within a group matters,
 * so an ensemble fitted on held-out groups applies to any other groups, block by block. */
#ifndef HM_RANK_ENSEMBLE_H
#define HM_RANK_ENSEMBLE_H

#include "rank/rank.h"

/* Per-customer rank normalisation: out[r] = 1 - rank / n for a row of a group of n rows, rank
 * 0 being the group's best score; tied scores share their mean rank, NaN ranks last. So the
 * best row gets 1 and the worst 1/n. out may not alias score. */
void ensemble_rank_normalize(const struct rank_data *d, const float *score, float *out);

struct ensemble {
    uint32_t n_models;
    double *w;      /* (n_models) weights, >= 0, summing to 1 */
    double map12;   /* MAP@12 on the groups the weights were fitted on (0 for an average) */
};

/* The coordinate search of ensemble_fit. */
struct ensemble_params {
    double step;      /* first step added to or taken from one weight (0.5) */
    double min_step;  /* the search ends when the step halves below this (1/64) */
    int max_passes;   /* and after at most this many passes over the weights (100) */
};
void ensemble_params_defaults(struct ensemble_params *p);

/* The plain average: n_models equal weights. */
void ensemble_average(struct ensemble *e, uint32_t n_models);

/* Chooses weights that maximise MAP@12 on d (labelled; typically the held-out groups) for the
 * models' scores (n_models arrays of d->n_rows). The search starts from the best of the
 * average and each single model, then, pass after pass, tries adding and taking `step` from
 * each weight in turn (renormalising), keeps every change that raises MAP@12 and halves the
 * step after a pass without one. Deterministic; the result is never below the best single
 * model on d. */
int ensemble_fit(const struct rank_data *d, const float *const *scores, uint32_t n_models,
                 const struct ensemble_params *p, struct ensemble *e);

/* The ensemble's scores of d's rows into out (n_rows): sum_k w_k * rank-normalised scores[k]. */
void ensemble_score(const struct ensemble *e, const struct rank_data *d, const float *const *scores,
                    float *out);

void ensemble_release(struct ensemble *e);

#endif
