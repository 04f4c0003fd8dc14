/* Declarations of the layers and network passes of nn_kernels.inc for one real type. No
 * include guard: included once per instance with NN_REAL (float or double) and NN_(name)
 * (the prefixed name) defined; nn_internal.h includes it for the float instance (nn_*),
 * tests/test_nn.c for the double one (nnd_*). Shapes are (rows, columns), row-major. */

/* ---- layers -------------------------------------------------------------------------------- */

/* out (B, OC) = inp (B, C) w^T + b; w (OC, C), b (OC). */
void NN_(linear_forward)(NN_REAL *out, const NN_REAL *inp, const NN_REAL *w, const NN_REAL *b,
                         size_t B, size_t C, size_t OC);
/* dw (OC, C) += dout^T inp; db (OC) += column sums of dout (B, OC); dinp (B, C) = dout w
 * (dinp NULL: not computed, for layers whose input is data). */
void NN_(linear_backward)(NN_REAL *dinp, NN_REAL *dw, NN_REAL *db, const NN_REAL *dout,
                          const NN_REAL *inp, const NN_REAL *w, size_t B, size_t C, size_t OC);

/* BatchNorm1d over inp (B, C). Training: normalises with the batch mean and biased variance,
 * stores them as mean and rstd = 1 / sqrt(var + eps) (C each, for the backward pass) and moves
 * the running statistics (C each) by momentum towards the batch mean and unbiased variance
 * (B >= 2). Eval (training = 0): normalises with the running statistics (mean, rstd unused,
 * may be NULL). out = gamma * xhat + beta; out may be inp. */
void NN_(batchnorm_forward)(NN_REAL *out, NN_REAL *mean, NN_REAL *rstd, const NN_REAL *inp,
                            const NN_REAL *gamma, const NN_REAL *beta, NN_REAL *run_mean,
                            NN_REAL *run_var, size_t B, size_t C, NN_REAL momentum, NN_REAL eps,
                            int training);
/* Backward of a training-mode forward: dgamma, dbeta (C) += their gradients; dinp (B, C) =
 * the input gradient (dinp may be dout). */
void NN_(batchnorm_backward)(NN_REAL *dinp, NN_REAL *dgamma, NN_REAL *dbeta, const NN_REAL *dout,
                             const NN_REAL *inp, const NN_REAL *mean, const NN_REAL *rstd,
                             const NN_REAL *gamma, size_t B, size_t C);

/* out (n) = max(inp, 0); out may be inp. */
void NN_(relu_forward)(NN_REAL *out, const NN_REAL *inp, size_t n);
/* dinp (n) = dout where inp > 0, else 0 (inp: the forward input); dinp may be dout. */
void NN_(relu_backward)(NN_REAL *dinp, const NN_REAL *dout, const NN_REAL *inp, size_t n);

/* out (n) = inp * mask * scale (inverted dropout: scale = 1 / (1 - p)); out may be inp. */
void NN_(dropout_forward)(NN_REAL *out, const NN_REAL *inp, const uint8_t *mask, NN_REAL scale,
                          size_t n);
/* dinp (n) = dout * mask * scale; dinp may be dout. */
void NN_(dropout_backward)(NN_REAL *dinp, const NN_REAL *dout, const uint8_t *mask, NN_REAL scale,
                           size_t n);

/* Mean binary cross-entropy of sigmoid(logit) against label over B rows (stable form). */
double NN_(bce_forward)(const NN_REAL *logit, const NN_REAL *label, size_t B);
/* dlogit (B) = (sigmoid(logit) - label) / B: the gradient of the mean loss. */
void NN_(bce_backward)(NN_REAL *dlogit, const NN_REAL *logit, const NN_REAL *label, size_t B);

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
    NN_REAL *d[2];                   /* (B, widest) gradient scratch, used in turn */
    NN_REAL *dconcat;                /* (B, concat) */
    void *mem;
};
void NN_(acts_init)(struct NN_(acts) *w, const struct nn_arch *a, size_t cap);
void NN_(acts_release)(struct NN_(acts) *w);

/* Forward pass of B rows (B <= w->cap) whose inputs are in w->x: logits into w->logit.
 * Training: batch statistics (B >= 2), running statistics updated, dropout masks drawn from
 * (seed, step). Eval (training = 0): running statistics, no dropout; running is not changed. */
void NN_(net_forward)(const struct nn_arch *a, const NN_REAL *params, NN_REAL *running,
                      struct NN_(acts) *w, size_t B, int training, uint64_t seed, uint64_t step);
/* Backward pass after a training forward of the same batch: the gradients of the mean BCE
 * loss against label (B) are added into grads (laid out as params). Returns the loss. */
double NN_(net_backward)(const struct nn_arch *a, const NN_REAL *params, NN_REAL *grads,
                         struct NN_(acts) *w, const NN_REAL *label, size_t B);
