/* rank/gbm: the gradient-boosted rankers of Stage 4 (XGBoost 1.7 through its C API; gbm.c is
 * the only file of hmrec that includes xgboost/c_api.h).
 *
 * Model kinds (docs/rank.md):
 *   classifier  binary:logistic on the rows
 *   ndcg, map   LambdaRank (rank:ndcg, rank:map), one query group per customer; "lambdarank"
 *               names the one gbm.lambdarank selects
 *   xendcg      the cross-entropy NDCG loss (Bruch et al. 2019) as a custom objective whose
 *               gradients are computed here (xendcg.c) every round
 *   deep        a higher-capacity model: lossguide trees with up to gbm.deep_leaves leaves and
 *               gbm.deep_depth levels, a lower learning rate, objective gbm.deep_objective
 *
 * Training stops early on Kaggle's MAP@12 of held-out customer groups (rank_map12, never
 * XGBoost's map@k, whose denominator differs), evaluated every gbm.eval_period rounds on
 * predictions that XGBoost updates incrementally; the best round's trees are kept. Scores are
 * margins (raw scores; for the classifier the log-odds): only their order within a customer
 * matters. Everything is deterministic for a given data set, seed and thread count
 * (hm_threads()).
 *
 * Typical use (the pipeline's Stage 4):
 *     struct gbm_params p;  gbm_params_defaults(&p);  (then config rows, gbm_params_check)
 *     struct rank_sample_params sp;  gbm_sample_params(&p, kind, &sp);
 *     rank_sample(&all, &sp, &train, &holdout);
 *     gbm_train(kind, &p, &train.d, &holdout.d, &model, &report);
 *     gbm_save(model, path);  ...  gbm_load(path, &model);  gbm_check_columns(model, &d);
 *     gbm_predict_data(model, &d, score);        (or gbm_predict per block of rows)
 */
#ifndef HM_RANK_GBM_H
#define HM_RANK_GBM_H

#include "rank/rank.h"

/* ---- settings ------------------------------------------------------------------------------ */

enum gbm_kind {
    GBM_CLASSIFIER = 0,
    GBM_NDCG = 1,
    GBM_MAP = 2,
    GBM_XENDCG = 3,
    GBM_DEEP = 4,
};
#define GBM_NKINDS 5

/* The settings of every boosted model (keys gbm.*, docs/rank.md). */
struct gbm_params {
    long rounds;              /* at most this many boosting rounds */
    double eta;               /* learning rate */
    long depth;               /* max_depth of the depthwise models */
    long leaves;              /* max_leaves of the depthwise models (0: no limit) */
    double min_child_weight;  /* minimum hessian sum in a leaf */
    double subsample;         /* rows sampled per tree */
    double colsample;         /* columns sampled per tree */
    double lambda;            /* L2 regularisation of leaf weights */
    double min_split_loss;    /* gamma: minimum loss reduction of a split */
    long max_bin;             /* histogram bins per feature */
    long patience;            /* stop after this many rounds without a better held-out MAP@12 */
    long eval_period;         /* evaluate the held-out MAP@12 every this many rounds */
    char lambdarank[HM_SETTING_STRLEN];     /* "ndcg" or "map": what "lambdarank" means */
    char deep_objective[HM_SETTING_STRLEN]; /* "ndcg", "map", "binary" or "xendcg" */
    double deep_eta;
    long deep_depth;
    long deep_leaves;
    double deep_min_child_weight;
    long xendcg_order;        /* 1: the exact gradient of the loss; 3: LightGBM's higher-order
                                 terms added (docs/rank.md) */
    double xendcg_eta;
    double xendcg_min_child_weight;
    double neg_share;         /* sampling: share of negatives among kept training rows */
    double holdout;           /* sampling: share of groups held out for early stopping */
    char empty_groups[HM_SETTING_STRLEN];   /* "auto" (keep for the classifier only), "keep",
                                               "drop": training groups without a positive */
    long seed;
};

extern const struct hm_setting gbm_settings[];
extern const size_t gbm_n_settings;

/* Sets every field to its default (the table's). */
void gbm_params_defaults(struct gbm_params *p);
/* Checks the settings that the table's ranges cannot (names of objectives and policies).
 * Returns 0 or HM_EINVAL with a message naming the key. */
int gbm_params_check(const struct gbm_params *p);

/* "classifier", "ndcg", "map", "xendcg", "deep". */
const char *gbm_kind_name(enum gbm_kind kind);
/* Parses a model name (the above, or "lambdarank": the one p->lambdarank selects). Unknown
 * names are an error that lists the known ones. */
int gbm_kind_parse(const char *name, const struct gbm_params *p, enum gbm_kind *out);

/* The sampling settings of a model kind: holdout, neg_share and seed from p; groups without a
 * positive kept for a binary objective when empty_groups is "auto". */
void gbm_sample_params(const struct gbm_params *p, enum gbm_kind kind,
                       struct rank_sample_params *out);

/* ---- training ------------------------------------------------------------------------------ */

struct gbm_model; /* opaque: an XGBoost booster and the feature columns it was trained on */

/* What training did. */
struct gbm_report {
    enum gbm_kind kind;
    uint32_t rounds;          /* boosting rounds run */
    uint32_t best_rounds;     /* rounds kept: the best held-out MAP@12 (all when no held-out) */
    double best_map12;        /* held-out MAP@12 of the kept model (0 without held-out) */
    float *curve;             /* (rounds) held-out MAP@12 after each round; NaN where not
                                 evaluated */
    uint64_t train_rows, train_groups, holdout_rows, holdout_groups;
    double seconds;           /* wall time (gbm_train: with building the dataset) */
    double seconds_data;      /* of which building the dataset (gbm_train only) */
    double seconds_xgb;       /* of which inside XGBoost calls (seconds_data included) */
    double seconds_holdout;   /* of which XGBoost predicting the held-out rows */
    double seconds_objective; /* of which computing XE-NDCG gradients */
    double seconds_metric;    /* of which computing the held-out MAP@12 */
};
void gbm_report_release(struct gbm_report *r);

/* Trains a model of the given kind on train (labelled; rows grouped by customer), stopping
 * early on the MAP@12 of holdout (may be NULL: then all p->rounds rounds are kept). train
 * and holdout must have the same columns. On success *out owns the model and rep (may be
 * NULL) is filled (release it with gbm_report_release). Fails with a message on bad settings,
 * data without positives or columns, or an XGBoost error. Equivalent to gbm_dataset_new,
 * gbm_train_on, gbm_dataset_free. */
int gbm_train(enum gbm_kind kind, const struct gbm_params *p, const struct rank_data *train,
              const struct rank_data *holdout, struct gbm_model **out, struct gbm_report *rep);

/* The training and held-out sets as XGBoost holds them: every feature binned (one byte per
 * value; the held-out set with the training set's bins). Building it is the costly part of a
 * small model's training, so models that train on the same sets share one. It borrows train
 * and holdout (they must outlive it) and p's gbm.max_bin. */
struct gbm_dataset;
int gbm_dataset_new(const struct gbm_params *p, const struct rank_data *train,
                    const struct rank_data *holdout, struct gbm_dataset **out);
void gbm_dataset_free(struct gbm_dataset **ds);
/* Seconds gbm_dataset_new took (all of it inside XGBoost). */
double gbm_dataset_seconds(const struct gbm_dataset *ds);
/* gbm_train on a dataset (p->max_bin must be the dataset's). */
int gbm_train_on(enum gbm_kind kind, const struct gbm_params *p, struct gbm_dataset *ds,
                 struct gbm_model **out, struct gbm_report *rep);

void gbm_free(struct gbm_model **m);

/* The kind, feature columns and kept rounds of a model; its held-out MAP@12 and learning curve
 * ((*n) rounds trained, NaN where not evaluated; owned by the model), also after gbm_load. */
enum gbm_kind gbm_model_kind(const struct gbm_model *m);
uint32_t gbm_model_n_cols(const struct gbm_model *m);
const char *gbm_model_col_name(const struct gbm_model *m, uint32_t c);
uint32_t gbm_model_rounds(const struct gbm_model *m);
double gbm_model_map12(const struct gbm_model *m);
const float *gbm_model_curve(const struct gbm_model *m, uint32_t *n);

/* ---- prediction ---------------------------------------------------------------------------- */

/* Checks that data has exactly the model's columns, in order and by name (when d names them).
 * The error names the first column that differs. */
int gbm_check_columns(const struct gbm_model *m, const struct rank_data *d);

/* Scores n_rows rows of x (n_rows, n_cols) row-major (NaN = missing) into out (n_rows):
 * margins of the kept trees. n_cols must be the model's. Uses hm_threads() threads inside;
 * calls from several threads at once are safe (each writes only its out) but share the same
 * cores, so the fastest use is one caller with blocks of 10^4 rows or more.
 * The first call of at least 256 rows compiles the trees (gbm_forest_new) and compares the
 * forest's margins with XGBoost's on its first 2,000 rows: when every one is bit-identical,
 * this and every later call walk the compiled forest (about twice XGBoost's speed on the
 * pipeline's models); otherwise XGBoost predicts. Deterministic either way: a model scores
 * the same rows the same in every run. */
int gbm_predict(const struct gbm_model *m, const float *x, uint64_t n_rows, uint32_t n_cols,
                float *out);
/* Which of the two gbm_predict uses: "compiled forest", "xgboost", or "not yet chosen". */
const char *gbm_predictor(const struct gbm_model *m);
/* XGBoost's own prediction (XGBoosterPredictFromDense), what gbm_predict falls back to. */
int gbm_predict_xgboost(const struct gbm_model *m, const float *x, uint64_t n_rows, uint32_t n_cols,
                        float *out);

/* Scores every row of d (checked with gbm_check_columns first) into out (n_rows). */
int gbm_predict_data(const struct gbm_model *m, const struct rank_data *d, float *out);

/* ---- files --------------------------------------------------------------------------------- */

/* Writes the model atomically: an hmrec table file "gbm_model" (magic, version, checksums)
 * holding the XGBoost model (UBJSON), the column names, the kind and the learning curve
 * (docs/rank.md). */
int gbm_save(const struct gbm_model *m, const char *path);
/* Reads a model written by gbm_save. A truncated, corrupted or foreign file is an error
 * naming the file and the problem. */
int gbm_load(const char *path, struct gbm_model **out);

/* The text dump of every kept tree (XGBoost's "text" format: one node a line, "id:[f<c><thr]
 * yes=..,no=..,missing=.." or "id:leaf=v"): *trees (*n) malloc'ed strings, free each and the
 * array. */
int gbm_dump_trees(const struct gbm_model *m, char ***trees, uint32_t *n);

/* ---- a compiled forest (forest.c) ---------------------------------------------------------- */

/* A model's trees as flat node arrays, evaluated one row at a time on the caller's thread:
 * for scoring a great many rows of few columns where one XGBoost call per block would cost
 * more than the trees (the candidates' learned cut). Its margins are the model's
 * (gbm_forest_new checks them against gbm_predict). */
struct gbm_forest;
/* Compiles m. check (n_check, the model's columns), may be NULL: rows on which the margins
 * must equal gbm_predict's (within float rounding), else an error; the model's constant
 * margin offset (its base score) is taken from the first of them, or from a row of NaNs. */
int gbm_forest_new(const struct gbm_model *m, const float *check, uint32_t n_check, struct gbm_forest **out);
void gbm_forest_free(struct gbm_forest **f);
uint32_t gbm_forest_n_cols(const struct gbm_forest *f);
uint32_t gbm_forest_n_trees(const struct gbm_forest *f);
/* Margins of x (n_rows, n_cols) row-major into out (n_rows), NaN = missing. Single-threaded,
 * reentrant. */
void gbm_forest_predict(const struct gbm_forest *f, const float *x, uint64_t n_rows, float *out);

/* ---- feature importance -------------------------------------------------------------------- */

struct gbm_feature {
    uint32_t col;        /* feature column */
    double gain;         /* average loss reduction of the splits on it */
    double total_gain;   /* summed over its splits */
    uint64_t splits;     /* how many splits use it */
};
/* Every column's importance, by gain descending (ties: lower column first); columns never
 * split on come last with zeros. *out (n_cols) is malloc'ed. */
int gbm_importance(const struct gbm_model *m, struct gbm_feature **out, uint32_t *n);
/* A text table of the top columns by gain (rank, name, gain, total gain, splits); malloc'ed.
 * NULL on error. */
char *gbm_importance_format(const struct gbm_model *m, uint32_t top);

/* ---- XE-NDCG (xendcg.c) -------------------------------------------------------------------- */

/* The loss of one group of n rows (Bruch et al. 2019, docs/rank.md): rho = softmax(s),
 * phi_i = 2^label_i - gamma_i normalised to sum 1, loss = -sum_i phi_i log rho_i. When grad
 * and hess are not NULL they get d loss / d s_i and the diagonal second derivative
 * rho_i (1 - rho_i); order 3 adds LightGBM's higher-order terms to grad. Returns the loss. */
double xendcg_group(const double *s, const float *label, const double *gamma, uint32_t n,
                    int order, double *grad, double *hess);

/* The noise gamma of row r in boosting round t: uniform in [0, 1), a hash of (seed, t, r). */
double xendcg_gamma(uint64_t seed, uint32_t round, uint64_t row);

/* Gradients and hessians of every row of d (grouped, labelled) at margins s (n_rows), with
 * the noise of round `round`, in parallel over groups; returns the mean loss over groups. */
double xendcg_gradients(const struct rank_data *d, const float *s, uint64_t seed, uint32_t round,
                        int order, float *grad, float *hess);

#endif
