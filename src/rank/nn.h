/* rank/nn: the three-tower neural network ranker of Stage 4.
 *
 * A user tower over the columns tagged RANK_TOWER_USER, an item tower over RANK_TOWER_ITEM,
 * an image tower over the per-article image embeddings and, behind a setting, a pair tower over
 * RANK_TOWER_PAIR; each a stack of blocks Linear + BatchNorm1d + ReLU + Dropout. The towers'
 * outputs are concatenated (user, item, image, pair) and go through the fusion blocks, then a
 * Linear to one logit; sigmoid(logit) is the predicted purchase probability. Trained with binary
 * cross-entropy and AdamW, forward and backward passes written by hand on OpenBLAS sgemm
 * (nn_kernels.inc). With the reference widths and 43 user, 29 item and 512 image inputs the
 * network has 346,689 trainable parameters (docs/nn.md).
 *
 * Scoring splits the first fusion Linear by tower, so the user part is computed once per
 * customer group and the item and image parts once per distinct article; only the rest of the
 * fusion runs per candidate row (nn_score.c).
 *
 * Ownership: a model is heap-owned (nn_train / nn_load create it, nn_free frees it); the data
 * passed in are views, never kept. Functions return 0 or a negative HM_E* code with a message
 * (hm_last_error()). */
#ifndef HM_RANK_NN_H
#define HM_RANK_NN_H

#include "rank/rank.h"

/* ---- settings --------------------------------------------------------------------------- */

/* The network's settings (keys "nn.*", table nn_settings). Widths are comma-separated lists of
 * the blocks' output widths, e.g. "256,128". */
struct nn_params {
    char user_hidden[HM_SETTING_STRLEN];   /* user tower widths ("256,128") */
    char item_hidden[HM_SETTING_STRLEN];   /* item tower widths ("128,64") */
    char image_hidden[HM_SETTING_STRLEN];  /* image tower widths ("256,128") */
    char pair_hidden[HM_SETTING_STRLEN];   /* pair tower widths ("64,32") */
    char fusion_hidden[HM_SETTING_STRLEN]; /* fusion widths ("256,128,64") */
    long image_tower;    /* 1: an image tower when the data has image embeddings (1) */
    long pair_tower;     /* 1: a fourth tower over the user-item (pair) columns (1) */
    double dropout;      /* dropout probability after every block (0.3) */
    double bn_momentum;  /* BatchNorm running-statistics momentum (0.1) */
    double lr;           /* AdamW learning rate (1e-3) */
    double weight_decay; /* AdamW decoupled weight decay (1e-5) */
    long batch;          /* rows per training batch (2048) */
    long epochs;         /* most training epochs (30) */
    long patience;       /* early stopping: epochs without a better validation MAP@12 (5) */
    double lr_factor;    /* ReduceLROnPlateau: factor applied to the learning rate (0.5) */
    long lr_patience;    /* ReduceLROnPlateau: epochs without improvement before a cut (2) */
    double lr_min;       /* ReduceLROnPlateau: lower bound of the learning rate (1e-6) */
    long seed;           /* initial weights, shuffling and dropout masks (42) */
};
extern const struct hm_setting nn_settings[];
extern const size_t nn_n_settings;

/* Checks the settings (widths parse, ranges that the table cannot express); returns 0 or
 * HM_EINVAL with a message naming the first bad setting. */
int nn_params_check(const struct nn_params *p);

/* ---- the model ---------------------------------------------------------------------------- */

struct nn_model; /* opaque: architecture, input columns, standardisation, weights */

/* A new, untrained model for data shaped like d (its column names and tower tags, its image
 * dimension): weights drawn from p->seed as PyTorch initialises them, identity
 * standardisation. nn_train does this and more; tests and tools use it alone. */
int nn_new(const struct nn_params *p, const struct rank_data *d, struct nn_model **out);
void nn_free(struct nn_model **m);

/* Trainable parameters of the model (346,689 at the reference widths and inputs). */
size_t nn_n_params(const struct nn_model *m);

/* Every layer with its shape and parameter count, and the total, as text (the caller frees). */
char *nn_summary(const struct nn_model *m);

/* ---- training ----------------------------------------------------------------------------- */

/* One epoch of the learning curve. */
struct nn_epoch {
    double loss;    /* mean training BCE over the epoch's batches */
    double map12;   /* validation MAP@12 after the epoch (NAN without validation data) */
    double lr;      /* learning rate used in the epoch */
    double seconds; /* wall time of the epoch's training steps (validation not included) */
};

/* The learning curve of a training run. */
struct nn_curve {
    uint32_t n;             /* epochs run */
    struct nn_epoch *epoch; /* (n) */
    uint32_t best;          /* epoch whose weights the model keeps (the last without validation) */
    int stopped_early;      /* 1 when early stopping ended the run before p->epochs */
    double fit_seconds;     /* standardisation statistics and setup */
};
void nn_curve_release(struct nn_curve *c);

/* Trains a network on train (labelled rows; every column tagged with its tower) and, when
 * valid is not NULL, measures MAP@12 on every validation customer's full candidate list after
 * each epoch: ReduceLROnPlateau and early stopping follow it, and the best epoch's weights are
 * kept. valid must have the same columns (by name) and group_truth. Standardisation statistics
 * come from train only. Deterministic for p->seed and the thread count (hm_threads()). curve
 * (may be NULL) receives the learning curve. */
int nn_train(const struct nn_params *p, const struct rank_data *train, const struct rank_data *valid,
             struct nn_model **out, struct nn_curve *curve);

/* ---- scoring ------------------------------------------------------------------------------ */

/* Scores every row of d: out (d->n_rows) gets the logit of each candidate (sigmoid gives the
 * probability; logits keep the order where float probabilities would saturate). d's columns
 * are found by name; a column the model was trained on that d lacks, or a tower tag that
 * differs, is an error. User columns must be equal within a group (the split computes them
 * once per group); the item and image parts are computed once per distinct pair of article and
 * item column values (one per article for one cutoff; one per article and week when training
 * weeks are stacked). Parallel over groups with hm_threads() threads; the same output for any
 * thread count. */
int nn_score(const struct nn_model *m, const struct rank_data *d, float *out);

/* ---- model files -------------------------------------------------------------------------- */

/* Writes the model atomically (temporary name, then rename): a table file "nn_model" with the
 * architecture, input column names and towers, standardisation statistics, parameters, BatchNorm
 * running statistics and checksums (docs/nn.md). */
int nn_save(const struct nn_model *m, const char *path);
/* Reads a model written by nn_save; truncated, corrupted or foreign files are errors. */
int nn_load(const char *path, struct nn_model **out);

#endif
