/* rank/nn internals shared by the nn_*.c files and tests/test_nn.c: the architecture and its
 * parameter layout, the model struct, the float instance of the layers and network passes
 * (nn_kernels.inc), the optimizer and schedules, input standardisation and the plain
 * (unsplit) scorer that the split scorer is tested against. */
#ifndef HM_RANK_NN_INTERNAL_H
#define HM_RANK_NN_INTERNAL_H

#include "rank/nn.h"

/* An elementwise loop over i in [0, n): blocks of NN_VB with a fixed-length inner loop, which
 * GCC's -O2 vectoriser accepts (its cost model rejects loops of unknown length), then the
 * tail. The body must not carry dependences between iterations, and the arrays it writes and
 * reads must be restrict-qualified parameters of the enclosing function (GCC ignores restrict on
 * block-scope pointers here, and an alias check is too expensive for its cost model). */
#define NN_VB 16
#define NN_VLOOP(i, n, ...)                                                       \
    do {                                                                          \
        size_t i##_b = 0, i##_n = (n);                                            \
        for (; i##_b + NN_VB <= i##_n; i##_b += NN_VB)                            \
            for (size_t i = i##_b; i < i##_b + NN_VB; i++) { __VA_ARGS__; }       \
        for (size_t i = i##_b; i < i##_n; i++) { __VA_ARGS__; }                   \
    } while (0)

/* ---- architecture ------------------------------------------------------------------------- */

enum nn_tower { NN_USER = 0, NN_ITEM = 1, NN_IMAGE = 2, NN_PAIR = 3, NN_NTOWERS = 4 };
#define NN_MAX_DEPTH 8                              /* blocks per tower or fusion */
#define NN_MAX_BLOCKS ((NN_NTOWERS + 1) * NN_MAX_DEPTH)
#define NN_MAX_WIDTH 65536

extern const char *const nn_tower_name[NN_NTOWERS]; /* "user", "item", "image", "pair" */

/* One block: Linear (in -> out) + BatchNorm1d + ReLU + Dropout. Offsets are in elements. */
struct nn_block {
    uint32_t in, out;
    size_t w, b;         /* parameters: w (out, in), b (out) */
    size_t gamma, beta;  /* parameters: BatchNorm scale and shift (out) */
    size_t rmean, rvar;  /* running statistics (out each) */
};

/* The network's shape and the layout of its parameters in one array (the same layout for the
 * gradients and both AdamW moments) and of its running statistics in another. */
struct nn_arch {
    uint32_t in[NN_NTOWERS];     /* input width of each tower; 0 when the tower is absent */
    uint32_t out[NN_NTOWERS];    /* output width (its last block's); 0 when absent */
    uint32_t off[NN_NTOWERS];    /* where its output starts in the fusion input */
    uint32_t first[NN_NTOWERS];  /* tower t is blocks [first, first + depth) */
    uint32_t depth[NN_NTOWERS];
    uint32_t concat;             /* fusion input width: sum of out */
    uint32_t fusion_first, fusion_depth;
    uint32_t n_blocks;
    struct nn_block blk[NN_MAX_BLOCKS];
    uint32_t head_in;            /* width before the last Linear (to 1 logit) */
    size_t head_w, head_b;       /* (1, head_in), (1) */
    size_t n_params;             /* trainable parameters */
    size_t n_running;            /* running statistics: 2 per BatchNorm unit */
    uint32_t widest;             /* largest block width or input width */
    float dropout;               /* probability */
    float bn_momentum, bn_eps;
};

/* Parses "256,128" into at most NN_MAX_DEPTH widths; returns the count or -1. */
int nn_parse_widths(const char *s, uint32_t w[NN_MAX_DEPTH]);

/* Lays out the network for these input widths (in[t] = 0: no tower t) and block widths
 * (hidden[t] for the towers, hidden[NN_NTOWERS] for the fusion; depth[] of each). */
int nn_arch_build(struct nn_arch *a, const uint32_t in[NN_NTOWERS],
                  const uint32_t hidden[NN_NTOWERS + 1][NN_MAX_DEPTH],
                  const uint32_t depth[NN_NTOWERS + 1], float dropout, float bn_momentum,
                  float bn_eps);

/* FLOPs of the GEMMs of one training step of B rows (forward and backward, counting a
 * multiply-add as 2) and of an eval forward. */
double nn_arch_train_flops(const struct nn_arch *a, size_t B);

/* ---- the model ------------------------------------------------------------------------------ */

struct nn_model {
    struct nn_arch a;
    /* tabular inputs in model order: user columns, then item, then pair (data order within) */
    uint32_t n_in;
    char **in_name;        /* (n_in) column names */
    uint8_t *in_tower;     /* (n_in) enum rank_tower */
    float *in_mean;        /* (n_in) standardisation: (x - mean) * scale; NaN -> 0 */
    float *in_scale;       /* (n_in) 1 / standard deviation (1 when it is 0) */
    uint32_t image_dim;    /* = a.in[NN_IMAGE] */
    float *img_mean;       /* (image_dim) */
    float *img_scale;      /* (image_dim) */
    float *params;         /* (a.n_params) */
    float *running;        /* (a.n_running) BatchNorm running means and variances */
};

/* Allocates a model for a (all arrays; names NULL), parameters and statistics zero. */
struct nn_model *nn_model_alloc(const struct nn_arch *a, uint32_t n_in, uint32_t image_dim);
/* PyTorch's initialisation from seed: Linear weights and biases U(-1/sqrt(in), 1/sqrt(in)),
 * BatchNorm gamma 1 and beta 0, running mean 0 and variance 1. */
void nn_model_init_weights(struct nn_model *m, uint64_t seed);
/* The summary text for an architecture. */
char *nn_arch_summary(const struct nn_arch *a);

/* ---- inputs: column mapping, standardisation, gathering (nn_input.c) ---------------------- */

/* col (m->n_in) gets the column of d that feeds each model input; errors name the column.
 * Also checks the image embeddings against the model's image tower. */
int nn_map_columns(const struct nn_model *m, const struct rank_data *d, uint32_t *col);
/* Fits the standardisation statistics on every row of d (NaN skipped); an infinite value is
 * an error naming the row and column, and so is a non-finite image value. */
int nn_fit_standardisation(struct nn_model *m, const struct rank_data *d, const uint32_t *col);
/* out (n, a.in[t]) = standardised inputs of tower t (NN_USER, NN_ITEM or NN_PAIR) of rows
 * rows[0..n) of d (rows NULL: rows r0 .. r0 + n). Returns the index (< n) of the first row
 * with an infinite value, or n. */
size_t nn_gather(const struct nn_model *m, const uint32_t *col, const struct rank_data *d,
                 int t, const uint64_t *rows, uint64_t r0, size_t n, float *out);
/* out (n, image_dim) = standardised image embeddings of articles art[0..n). With check, returns
 * the index of the first article with a value that is not finite (missing images are zero
 * rows, never NaN), else n; without (training, whose articles the fit checked) returns n. */
size_t nn_gather_image(const struct nn_model *m, const struct rank_data *d, const uint32_t *art,
                       size_t n, float *out, int check);

/* ---- teams of threads ------------------------------------------------------------------------ */

/* A team runs one network pass together: thread t of T does its share of every step (a slice
 * of columns or rows) and calls sync, which returns when all T threads have called it. */
struct nn_team {
    int t, T;
    void (*sync)(void *ctx);
    void *ctx;
};

/* Thread t's share [lo, hi) of n columns or rows: contiguous, cut at multiples of 16 (NULL
 * team: everything). */
static inline void nn_team_range(const struct nn_team *team, size_t n, size_t *lo, size_t *hi)
{
    if (!team || team->T <= 1) {
        *lo = 0, *hi = n;
        return;
    }
    size_t units = (n + 15) / 16, a = units * (size_t)team->t / (size_t)team->T;
    size_t b = units * (size_t)(team->t + 1) / (size_t)team->T;
    *lo = a * 16 < n ? a * 16 : n;
    *hi = b * 16 < n ? b * 16 : n;
}

/* ---- layers and network passes, float instance (nn_kernels.inc) --------------------------- */

#define NN_REAL float
#define NN_(name) nn_##name
#include "rank/nn_kernels_decl.h"
#undef NN_REAL
#undef NN_

/* Dropout keep marks for a slice of columns: mask (B, C; stride ld) gets 0 with probability p
 * (quantised to 1/65536), else 1. Column col0 + j of the whole matrix draws from its own stream
 * (seed, stream, column), so the marks do not depend on how columns are split. */
void nn_dropout_mask(uint8_t *mask, size_t ld, size_t B, size_t C, size_t col0, float p,
                     uint64_t seed, uint64_t stream);

/* ---- optimizer and schedules (nn_optim.c) -------------------------------------------------- */

/* AdamW as in PyTorch (decoupled weight decay, bias-corrected moments). */
struct nn_adamw {
    double lr, beta1, beta2, eps, weight_decay;
    uint64_t t; /* steps taken */
};
void nn_adamw_init(struct nn_adamw *o, double lr, double weight_decay);
/* One step over n parameters p with gradients g and moments m, v (each (n)). */
void nn_adamw_step(struct nn_adamw *o, float *p, const float *g, float *m, float *v, size_t n);
/* Step number t (1, 2, ...) over a range of the parameters, o unchanged: threads of a team
 * update disjoint ranges of the same step. */
void nn_adamw_apply(const struct nn_adamw *o, uint64_t t, float *p, const float *g, float *m,
                    float *v, size_t n);

/* ReduceLROnPlateau in mode "max" with a relative threshold, as in PyTorch: a score is an
 * improvement when it beats best * (1 + threshold); after more than patience epochs without
 * one the learning rate is multiplied by factor (not below min_lr) and the count restarts. */
struct nn_plateau {
    double factor, threshold, min_lr;
    long patience;
    double best;  /* -INFINITY before the first step */
    long bad;     /* epochs since the last improvement */
};
void nn_plateau_init(struct nn_plateau *s, double factor, long patience, double min_lr);
/* The learning rate for the next epoch after an epoch at lr scored score. */
double nn_plateau_step(struct nn_plateau *s, double score, double lr);

/* Early stopping on a score to maximise: stop after patience epochs without a strictly
 * better score; best_epoch is the epoch whose weights to keep. */
struct nn_early {
    long patience;
    double best;       /* -INFINITY before the first step */
    long best_epoch;   /* -1 before the first step */
    long bad;
};
void nn_early_init(struct nn_early *e, long patience);
/* Records epoch's score; sets *improved (1 when it is the new best) and returns 1 when
 * training should stop. */
int nn_early_step(struct nn_early *e, long epoch, double score, int *improved);

/* ---- scorers (nn_score.c) -------------------------------------------------------------------- */

/* The plain forward pass in eval mode over every row (concatenation, BatchNorm with running
 * statistics, no split): the reference that nn_score is tested against. Single-threaded. */
int nn_score_plain(const struct nn_model *m, const struct rank_data *d, float *out);

#endif
