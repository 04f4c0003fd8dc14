/* rank/model: every model kind of Stage 4 behind one interface.
 *
 * One table (rank_model_kinds, model.c) lists the kinds rank.models accepts: the boosted
 * models (classifier, ndcg, map, xendcg, deep) and the three-tower network (nn). A row holds
 * the kind's name, the settings it reads (its family's table and prefix: gbm.* or nn.*), and
 * its operations: train, save, load, score, free, and what it can tell about itself (the
 * rounds or epochs it kept, its feature importance). The pipeline, the submission and the
 * report go through the functions below and never name a model; a new kind is one row of the
 * table plus its module.
 *
 * A scorer (struct rank_scorer) is a model or an ensemble of models, loaded from a models
 * directory (<dir>/<name>.model, and <dir>/ensemble.tsv for the weights), that scores
 * ranking data: what the validation week, the submission and serving use.
 *
 * Typical use (the rank stage):
 *     struct rank_model models[RANK_MAX_MODELS];  int n;
 *     rank_models_parse("classifier,map,nn", &params, models, &n);
 *     rank_models_train(&params, models, n, &train.d, &holdout.d, NULL, dir, "rank", &log, held_scores);
 *     ...  rank_model_release(&models[m]);
 *   and later, anywhere:
 *     struct rank_scorer s;  rank_scorer_load(dir, "ensemble", &s);
 *     rank_scorer_score(&s, &data, scores);  rank_scorer_release(&s); */
#ifndef HM_RANK_MODEL_H
#define HM_RANK_MODEL_H

#include "rank/ensemble.h"
#include "rank/gbm.h"
#include "rank/nn.h"
#include "rank/rank.h"

/* ---- settings ------------------------------------------------------------------------------ */

/* Every model family's settings (keys gbm.*: docs/rank.md; nn.*: docs/nn.md). */
struct rank_model_params {
    struct gbm_params gbm;
    struct nn_params nn;
};

/* The settings prefixes the model kinds read, for a stage's list of settings. */
#define RANK_MODEL_SETTINGS "gbm.", "nn."

/* The settings rows of every family (offsets within struct rank_model_params), built once. */
const struct hm_setting *rank_model_settings(size_t *n);
/* Checks every family's settings (what the table's ranges cannot: names of objectives, the
 * network's widths). */
int rank_model_params_check(const struct rank_model_params *p);
/* The training-set sampling the settings ask for (gbm.holdout, gbm.neg_share, gbm.seed). */
void rank_model_sample_params(const struct rank_model_params *p, struct rank_sample_params *out);

/* ---- the table of kinds -------------------------------------------------------------------- */

struct rank_model;

/* One feature's importance in a model. */
struct rank_importance {
    const char *name;    /* the column's name (owned by the model) */
    double gain;         /* average loss reduction of the splits on it */
    double total_gain;
    uint64_t splits;
};

/* What training a model reports besides the model: nothing is printed by the kinds but
 * through hm_report; who prefixes those lines ("rank", "retrain"). */
struct rank_train_opts {
    uint32_t cap;        /* > 0: at most this many rounds (epochs) */
    const char *who;
};

struct rank_model_kind {
    const char *name;      /* as rank.models names it; its file is <dir>/<name>.model */
    const char *settings;  /* the prefix of the settings it reads ("gbm.", "nn.") */
    int sub;               /* the family's own kind (enum gbm_kind for the boosted models) */
    /* The learning curve's unit and, in the report, the chart of its family's curves. */
    const char *curve_x, *curve_title, *curve_caption;
    /* Trains m->impl on train, early-stopping on holdout (may have no groups); fills m's curve,
     * n_curve and best. *shared is state the kinds of one settings family share over one call
     * of rank_models_train (the boosted models' XGBoost dataset), freed by free_shared. */
    int (*train)(const struct rank_model_kind *k, const struct rank_model_params *p, const struct rank_train_opts *o,
                 const struct rank_data *train, const struct rank_data *holdout, void **shared, struct rank_model *m);
    void (*free_shared)(void **shared);
    int (*save)(const struct rank_model *m, const char *path);
    int (*load)(const char *path, struct rank_model *m);
    int (*score)(const struct rank_model *m, const struct rank_data *d, float *out);
    void (*free)(struct rank_model *m);
    /* The rounds (epochs) the model kept, when its file says (0: it does not). */
    uint32_t (*kept)(const struct rank_model *m);
    /* Its features by importance, text of the top ones (NULL when the kind has none). */
    char *(*importance_text)(const struct rank_model *m, uint32_t top);
    /* Its features by importance (NULL when the kind has none). */
    int (*importance)(const struct rank_model *m, struct rank_importance **out, uint32_t *n);
};
extern const struct rank_model_kind rank_model_kinds[];
extern const int rank_n_model_kinds;
/* The kind of that name, or NULL. */
const struct rank_model_kind *rank_model_kind_find(const char *name);

/* ---- models -------------------------------------------------------------------------------- */

#define RANK_MAX_MODELS 16

struct rank_model {
    char name[32];                      /* the kind's name */
    const struct rank_model_kind *kind;
    void *impl;                         /* the kind's model (struct gbm_model, struct nn_model) */
    double *curve;                      /* (n_curve) held-out MAP@12 per round or epoch, after
                                           training; NaN where not evaluated */
    uint32_t n_curve, best;             /* best: rounds (epochs) kept */
    double holdout_map12;               /* after rank_models_train */
};
void rank_model_release(struct rank_model *m);

/* The models a comma-separated list names (rank.models), untrained: unknown or repeated names
 * are an error, aliases resolved ("lambdarank": the objective gbm.lambdarank names). */
int rank_models_parse(const char *list, const struct rank_model_params *p, struct rank_model *out, int *n);

/* <dir>/<name>.model (caller frees). */
char *rank_model_file(const char *dir, const char *name);
int rank_model_save(const struct rank_model *m, const char *dir);
int rank_model_load(const char *dir, const char *name, struct rank_model *m);

/* Scores every row of d into out (n_rows). */
int rank_model_score(const struct rank_model *m, const struct rank_data *d, float *out);
/* The rounds (epochs) the model kept when its file says, else 0. */
uint32_t rank_model_kept(const struct rank_model *m);
/* Its features by importance (*out malloc'ed, names owned by the model); HM_EINVAL when the
 * kind has none. */
int rank_model_importance(const struct rank_model *m, struct rank_importance **out, uint32_t *n);

/* Trains models[0..n) (from rank_models_parse) on train, early-stopping on holdout (kinds of
 * one family share what they can: the boosted models one XGBoost dataset), saves each in dir,
 * and fills hs[m] (malloc'ed, holdout->n_rows) with its held-out scores and models[m]'s
 * holdout_map12. cap (may be NULL): cap[m] > 0 is the most rounds (epochs) model m may train.
 * curves gets "<name>\t<round>\t<held-out MAP@12>" lines, importance each model's top
 * features; who prefixes the reports ("rank", "retrain"). */
int rank_models_train(const struct rank_model_params *p, struct rank_model *models, int n, const struct rank_data *train,
                      const struct rank_data *holdout, const uint32_t *cap, const char *dir, const char *who,
                      struct hm_buf *curves, struct hm_buf *importance, float **hs);

/* ---- learning curves (the rank stage's rank_curves.tsv) --------------------------------------- */

/* For model k < n: its name and its held-out MAP@12 after each round (epoch; NaN where not
 * evaluated). */
struct rank_curves {
    int n;
    char name[RANK_MAX_MODELS][32];
    HM_VEC(double) curve[RANK_MAX_MODELS];
};
/* Reads a file of rank_models_train's curve lines. An error when it cannot be read. */
int rank_curves_read(const char *path, struct rank_curves *c);
void rank_curves_release(struct rank_curves *c);
/* The first round (epoch) of the named model's best held-out MAP@12, 1-based; 0 when none. */
uint32_t rank_curves_best(const struct rank_curves *c, const char *name);

/* ---- scorers: a model or an ensemble --------------------------------------------------------- */

struct rank_scorer {
    char name[32];
    struct rank_model models[RANK_MAX_MODELS];
    int n_models;
    struct ensemble ens;     /* the weights when an ensemble (ens.w NULL for one model) */
};
/* Loads name from dir: an ensemble ("ensemble": the weighted one, or "average") with its
 * weights from <dir>/ensemble.tsv and its models, or else the model <dir>/<name>.model. */
int rank_scorer_load(const char *dir, const char *name, struct rank_scorer *s);
int rank_scorer_score(const struct rank_scorer *s, const struct rank_data *d, float *out);
void rank_scorer_release(struct rank_scorer *s);
/* The models and weights of ensemble `name` in an ensemble.tsv ("<name>\t<model>\t<weight>"
 * lines), checked: models of the table of kinds, weights finite in [0, 1] summing to 1, no
 * model twice, at most RANK_MAX_MODELS (errors name the file and line). */
int rank_ensemble_read(const char *path, const char *name, char (*models)[32], double *w, int *n);
/* Appends an ensemble's lines of ensemble.tsv ("<name>\t<model>\t<weight>") to b: w (n) the
 * weights of models[0..n), NULL for weight 1 each. */
void rank_ensemble_format(struct hm_buf *b, const char *name, const struct rank_model *models, int n, const double *w);

#endif
