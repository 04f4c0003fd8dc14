/* Declarations of the layers and network passes of nn_kernels.inc for one real type. No
 * include guard: included once per instance with NN_REAL (float or double) and NN_(name)
 * (the prefixed name) defined; nn_internal.h includes it for the float instance (nn_*),
 * tests/test_nn.c for the double one (nnd_*). Shapes are (rows, columns), row-major. */

/* ---- layers -------------------------------------------------------------------------------- */

/* Matrices are row-major; ld is the row stride in elements (>= the columns used), so that a
 * call can work on a slice of columns. Arrays passed to one call never overlap unless a comment
 * says so (they are restrict). */

/* out (B, OC; stride ldo) = inp (B, C; stride ldi) w^T + b; w (OC, C), b (OC). */
void NN_(linear_forward)(NN_REAL *restrict out, size_t ldo, const NN_REAL *restrict inp, size_t ldi,
                         const NN_REAL *restrict w, const NN_REAL *restrict b, size_t B, size_t C,
                         size_t OC);
/* dw (OC, C) += dout^T inp; db (OC) += the column sums of dout (B, OC; stride ldd);
 * inp (B, C; stride ldi). */
void NN_(linear_backward_params)(NN_REAL *restrict dw, NN_REAL *restrict db,
                                 const NN_REAL *restrict dout, size_t ldd,
                                 const NN_REAL *restrict inp, size_t ldi, size_t B, size_t C,
                                 size_t OC);
/* dinp (B, C; stride ldn) = dout (B, OC; stride ldd) w, w (OC, C; stride ldw): with ldw the
 * full input width, w + c0 gives the columns [c0, c0 + C) of the input gradient. */
void NN_(linear_backward_input)(NN_REAL *restrict dinp, size_t ldn, const NN_REAL *restrict dout,
                                size_t ldd, const NN_REAL *restrict w, size_t ldw, size_t B,
                                size_t C, size_t OC);

/* BatchNorm1d over the columns of inp (B, C; stride ld). Training: normalises with the batch
 * mean and biased variance, stores them as mean and rstd = 1 / sqrt(var + eps) (C each, for the
 * backward pass) and moves the running statistics (C each) by momentum towards the batch mean
 * and unbiased variance (B >= 2). Eval (training = 0): normalises with the running statistics
 * (mean, rstd unused, may be NULL). out (B, C; stride ld) = gamma * xhat + beta. */
void NN_(batchnorm_forward)(NN_REAL *restrict out, NN_REAL *restrict mean, NN_REAL *restrict rstd,
                            const NN_REAL *restrict inp, size_t ld, const NN_REAL *restrict gamma,
                            const NN_REAL *restrict beta, NN_REAL *restrict run_mean,
                            NN_REAL *restrict run_var, size_t B, size_t C, NN_REAL momentum,
                            NN_REAL eps, int training);
/* Backward of a training-mode forward: dgamma, dbeta (C) += their gradients; dinp (B, C;
 * stride ld) = the input gradient. */
void NN_(batchnorm_backward)(NN_REAL *restrict dinp, NN_REAL *restrict dgamma,
                             NN_REAL *restrict dbeta, const NN_REAL *restrict dout,
                             const NN_REAL *restrict inp, size_t ld, const NN_REAL *restrict mean,
                             const NN_REAL *restrict rstd, const NN_REAL *restrict gamma, size_t B,
                             size_t C);

/* out (B, C; stride ld) = max(inp, 0). */
void NN_(relu_forward)(NN_REAL *restrict out, const NN_REAL *restrict inp, size_t ld, size_t B,
                       size_t C);
/* In place: d (B, C; stride ld) stays where inp (the forward input) > 0, else becomes 0. */
void NN_(relu_backward)(NN_REAL *d, const NN_REAL *restrict inp, size_t ld, size_t B, size_t C);

/* In place: x (B, C; stride ld) *= mask * scale (inverted dropout: mask 0 or 1, scale =
 * 1 / (1 - p)). */
void NN_(dropout_forward)(NN_REAL *x, const uint8_t *restrict mask, size_t ld, NN_REAL scale,
                          size_t B, size_t C);
/* In place: d (B, C; stride ld) *= mask * scale. */
void NN_(dropout_backward)(NN_REAL *d, const uint8_t *restrict mask, size_t ld, NN_REAL scale,
                           size_t B, size_t C);

/* Mean binary cross-entropy of sigmoid(logit) against label over B rows (stable form). */
double NN_(bce_forward)(const NN_REAL *logit, const NN_REAL *label, size_t B);
/* dlogit (n) = (sigmoid(logit) - label) / B for n of the batch's B rows: the gradient of the
 * mean loss. */
void NN_(bce_backward)(NN_REAL *dlogit, const NN_REAL *logit, const NN_REAL *label, size_t B,
                       size_t n);

/* ---- the network ----------------------------------------------------------------------------- */

/* The activations of one batch of at most cap rows: what the backward pass reads. One
 * allocation (mem) with pointers into it. */
struct NN_(acts) {
    size_t cap;
    NN_REAL *x[NN_NTOWERS];          /* (B, in[t]) standardised inputs, filled by the caller */
    NN_REAL *lin[NN_MAX_BLOCKS];     /* (B, out) Linear outputs = BatchNorm inputs */
    NN_REAL *bn[NN_MAX_BLOCKS];      /* (B, out) BatchNorm outputs = ReLU inputs */
    NN_REAL *act[NN_MAX_BLOCKS];     /* (B, out) after ReLU and dropout: the next input */
    NN_REAL *mean[NN_MAX_BLOCKS];    /* (out) batch means */
    NN_REAL *rstd[NN_MAX_BLOCKS];    /* (out) batch 1 / sqrt(var + eps) */
    uint8_t *mask[NN_MAX_BLOCKS];    /* (B, out) dropout keep marks */
    NN_REAL *concat;                 /* (B, concat) fusion input */
    NN_REAL *logit;                  /* (B) */
    NN_REAL *d[2];                   /* (B, widest) gradient of the current activation, scratch */
    NN_REAL *dconcat;                /* (B, concat) */
    void *mem;
};
void NN_(acts_init)(struct NN_(acts) *w, const struct nn_arch *a, size_t cap);
void NN_(acts_release)(struct NN_(acts) *w);

/* Forward pass of B rows (B <= w->cap) whose inputs are in w->x: logits into w->logit.
 * Training: batch statistics (B >= 2), running statistics updated, dropout masks drawn from
 * (seed, step). Eval (training = 0): running statistics, no dropout; running is not changed.
 * team: every thread of the team calls this together and does its share (columns of every
 * block, rows of the head); NULL: one thread does everything. */
void NN_(net_forward)(const struct nn_arch *a, const NN_REAL *params, NN_REAL *running,
                      struct NN_(acts) *w, size_t B, int training, uint64_t seed, uint64_t step,
                      const struct nn_team *team);
/* Backward pass after a training forward of the same batch (same team): the gradients of the
 * mean BCE loss against label (B) are added into grads (laid out as params). Returns the loss
 * (on the team's thread 0; 0 on the others). */
double NN_(net_backward)(const struct nn_arch *a, const NN_REAL *params, NN_REAL *grads,
                         struct NN_(acts) *w, const NN_REAL *label, size_t B,
                         const struct nn_team *team);
