/* rank: Stage 4 of the pipeline, learning to rank each customer's candidates.
 *
 * This header holds what every ranker shares: the ranking data (rows grouped by customer,
 * a dense feature matrix, labels), an owned set that training data is assembled into, and
 * Kaggle's MAP@12 (and the other metrics) of a score vector over the groups, and the sampling
 * of training sets. The models have their own headers: rank/gbm.h (the XGBoost models; gbm.c
 * is the only file that includes xgboost/c_api.h), rank/nn.h (the three-tower network) and
 * rank/ensemble.h (ensembles of any of them). docs/rank.md describes them.
 *
 * A group is one customer's candidate list as of one cutoff: its rows are contiguous. The
 * MAP@12 of a group counts every article the customer bought in the target week, also those
 * the pool missed (group_truth), so a ranker's score here is the score it would have on the
 * leaderboard for these customers, never a score inflated by the pool. */
#ifndef HM_RANK_H
#define HM_RANK_H

#include "core/core.h"
#include "eval/eval.h"

/* Which tower of the neural network a feature column feeds (the boosted models use every
 * column). */
enum rank_tower {
    RANK_TOWER_USER = 0,  /* depends on the customer only */
    RANK_TOWER_ITEM = 1,  /* depends on the article only */
    RANK_TOWER_PAIR = 2,  /* depends on both (user-item and recall features) */
};

/* A view of ranking data: nothing here is owned. */
struct rank_data {
    uint64_t n_rows;
    uint32_t n_cols;
    const float *x;               /* (n_rows, n_cols) row-major features; NaN = missing */
    const char *const *col_name;  /* (n_cols) */
    const uint8_t *col_tower;     /* (n_cols) enum rank_tower */
    uint32_t n_groups;            /* customers */
    const uint64_t *group_off;    /* (n_groups + 1) group g is rows [group_off[g], group_off[g+1]) */
    const uint32_t *group_user;   /* (n_groups) customer row */
    const uint32_t *group_truth;  /* (n_groups) distinct articles bought in the target week,
                                     in the pool or not; NULL when unlabelled */
    const uint32_t *item;         /* (n_rows) article row of each candidate */
    const float *label;           /* (n_rows) 1 when bought in the target week, else 0; NULL
                                     when unlabelled */
    const float *image;           /* (n_articles, image_dim) per-article image embeddings,
                                     gathered by item; NULL when there are none */
    uint32_t image_dim;
    uint32_t n_articles;
};

/* An owned data set, assembled group by group (rank_set_add_group), e.g. the stacked
 * training weeks after down-sampling. s->d views the arrays below. */
struct rank_set {
    struct rank_data d;
    float *x;
    uint64_t *group_off;
    uint32_t *group_user, *group_truth, *item;
    float *label;
    char **col_name;
    uint8_t *col_tower;
    uint64_t cap_rows;
    uint32_t cap_groups;
};
/* Columns are copied (names and towers). image (may be NULL) is borrowed. */
void rank_set_init(struct rank_set *s, uint32_t n_cols, const char *const *col_name,
                   const uint8_t *col_tower, const float *image, uint32_t image_dim,
                   uint32_t n_articles);
void rank_set_release(struct rank_set *s);
/* Appends one group of n rows: x (n, n_cols), item (n), label (n, or NULL: unlabelled). */
void rank_set_add_group(struct rank_set *s, uint32_t user, uint32_t truth, uint64_t n,
                        const float *x, const uint32_t *item, const float *label);
/* Appends the rows of group g of src that keep marks (keep may be NULL: all rows). */
void rank_set_add_from(struct rank_set *s, const struct rank_data *src, uint32_t g,
                       const uint8_t *keep);

/* ---- metrics of a score vector ---------------------------------------------------------- */

/* The 12 best rows of group g by score (descending; ties: the earlier row), as row indexes
 * into the data; returns how many (min(12, rows)). */
uint32_t rank_group_top12(const struct rank_data *d, uint32_t g, const float *score,
                          uint64_t out[12]);

/* MAP@12 (Kaggle's: denominators min(group_truth, 12)) of score over the groups with
 * group_truth > 0; 0 when there are none. ap (n_groups, may be NULL) gets each group's AP@12
 * (0 for unscored groups). Parallel over groups; the same result for any thread count. */
double rank_map12(const struct rank_data *d, const float *score, double *ap);

/* Every metric of eval at k = 1, 3, 5, 10, 12 into sum (the same customers as rank_map12). */
void rank_eval(const struct rank_data *d, const float *score, struct eval_sum *sum);

/* The pool ceiling: MAP@12 of a perfect ranker that sees only the pool (each group's
 * positive rows first). */
double rank_pool_ceiling(const struct rank_data *d);

/* ---- training-set sampling (sample.c) ----------------------------------------------------- */

/* How training groups are split and down-sampled. Everything is deterministic: the same data
 * and seed give the same sets, for any thread count. */
struct rank_sample_params {
    double holdout;     /* share of groups held out for early stopping, per stratum (0.15) */
    double neg_share;   /* share of negatives among the kept training rows (0.6: "40/60");
                           1: keep every negative */
    int keep_empty;     /* 1: keep training groups without a positive row (the classifier);
                           0: drop them (the rankers learn nothing from them) */
    uint64_t seed;
};

/* The stratum of group g for the split: 0 = not a buyer (group_truth 0), 1 = a buyer whose
 * purchases the pool missed (no positive row), 2 + min(positive rows, 5) - 1 otherwise
 * (1, 2, 3, 4, 5 or more positives: strata 2..6). */
#define RANK_STRATA 7
uint32_t rank_stratum(const struct rank_data *d, uint32_t g);

/* Marks held-out groups (held_out: n_groups, 1 = held out): in each stratum, the
 * round(holdout * size) groups with the smallest hash of (seed, group, customer). */
void rank_split(const struct rank_data *d, double holdout, uint64_t seed, uint8_t *held_out);

/* Negative down-sampling over the groups that use marks (NULL: all): marks keep (n_rows) for
 * every positive row of those groups and for exactly min(N, round(P * neg_share /
 * (1 - neg_share))) of their N negative rows (P positives), those with the smallest hash of
 * (seed, group, row within the group); rows of other groups get 0. neg_share >= 1 keeps
 * every negative. Returns the number of kept rows. */
uint64_t rank_downsample(const struct rank_data *d, const uint8_t *use, double neg_share,
                         uint64_t seed, uint8_t *keep);

/* Splits labelled data d into a down-sampled training set and a held-out set. train gets the
 * groups that are not held out (without the groups that have no positive unless keep_empty;
 * groups left without rows are skipped), with every positive row and the sampled negatives.
 * holdout gets the held-out groups that are scored (group_truth > 0) with all their rows,
 * so that its MAP@12 is the full candidate lists' one. Both sets are initialised here (the
 * caller releases them). Fails when d is unlabelled or a share is out of range. */
int rank_sample(const struct rank_data *d, const struct rank_sample_params *p,
                struct rank_set *train, struct rank_set *holdout);

#endif
