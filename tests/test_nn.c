/* Tests of the network's numerics: finite-difference gradient checks in double precision of
 * every layer's backward pass and of the whole network, BatchNorm in training and eval mode,
 * dropout masks, AdamW against a hand-computed step, ReduceLROnPlateau and early stopping on
 * scripted validation scores.
 *
 * The double precision build: this file compiles src/rank/nn_kernels.inc a second time with
 * NN_REAL = double, names nnd_* and cblas_dgemm. So the gradient checks run the very code
 * that trains the network (the library's float instance is the same source), with central
 * differences accurate to ~1e-10 instead of float's ~1e-3. */
#include "rank/nn_internal.h"

#define NN_REAL double
#define NN_(name) nnd_##name
#define NN_GEMM cblas_dgemm
#include "rank/nn_kernels_decl.h"
#include "rank/nn_kernels.inc"

#include "test.h"

#include <pthread.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static struct hm_rng rng;

static void fill(double *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * hm_rng_uniform(&rng);
}

/* values with |x| in [0.2, 1]: away from ReLU's kink */
static void fill_away_from_zero(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (hm_rng_uniform(&rng) < 0.5 ? -1 : 1) * (0.2 + 0.8 * hm_rng_uniform(&rng));
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* The largest error between analytic gradients g and central differences of f over theta (n),
 * relative to max(1, |g|): f is evaluated with theta[i] moved by +-h. */
typedef double (*loss_fn)(void *ctx);
static double fd_error(double *theta, size_t n, const double *g, loss_fn f, void *ctx)
{
    const double h = 1e-6;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double keep = theta[i];
        theta[i] = keep + h;
        double fp = f(ctx);
        theta[i] = keep - h;
        double fm = f(ctx);
        theta[i] = keep;
        double num = (fp - fm) / (2 * h), err = fabs(num - g[i]) / fmax(1, fabs(g[i]));
        if (err > worst)
            worst = err;
    }
    return worst;
}

/* ---- Linear --------------------------------------------------------------------------------- */

enum { B_ = 6, C_ = 5, OC_ = 4 };

struct lin_ctx {
    double inp[B_ * C_], w[OC_ * C_], b[OC_], r[B_ * OC_], out[B_ * OC_];
};

static double lin_loss(void *p) /* sum of r * out: its gradient wrt out is r */
{
    struct lin_ctx *c = p;
    nnd_linear_forward(c->out, OC_, c->inp, C_, c->w, c->b, B_, C_, OC_);
    return dot(c->r, c->out, B_ * OC_);
}

TEST(test_linear_gradients)
{
    struct lin_ctx c;
    fill(c.inp, B_ * C_, -1, 1);
    fill(c.w, OC_ * C_, -1, 1);
    fill(c.b, OC_, -1, 1);
    fill(c.r, B_ * OC_, -1, 1);
    /* forward by hand for one element */
    lin_loss(&c);
    double o = c.b[2];
    for (int i = 0; i < C_; i++)
        o += c.inp[3 * C_ + i] * c.w[2 * C_ + i];
    CHECK_NEAR(c.out[3 * OC_ + 2], o, 1e-14);
    double dinp[B_ * C_], dw[OC_ * C_], db[OC_];
    for (int i = 0; i < OC_ * C_; i++)
        dw[i] = 0.5; /* accumulates: start from a known value */
    for (int i = 0; i < OC_; i++)
        db[i] = 0.25;
    nnd_linear_backward_params(dw, db, c.r, OC_, c.inp, C_, B_, C_, OC_);
    nnd_linear_backward_input(dinp, C_, c.r, OC_, c.w, C_, B_, C_, OC_);
    for (int i = 0; i < OC_ * C_; i++)
        dw[i] -= 0.5;
    for (int i = 0; i < OC_; i++)
        db[i] -= 0.25;
    CHECK(fd_error(c.inp, B_ * C_, dinp, lin_loss, &c) < 1e-8);
    CHECK(fd_error(c.w, OC_ * C_, dw, lin_loss, &c) < 1e-8);
    CHECK(fd_error(c.b, OC_, db, lin_loss, &c) < 1e-8);
    /* slices of columns with strides give the same numbers: outputs [1, 4), input gradient
     * columns [2, 5) */
    double out2[B_ * OC_] = {0}, dw2[OC_ * C_] = {0}, db2[OC_] = {0}, dinp2[B_ * C_] = {0};
    nnd_linear_forward(out2 + 1, OC_, c.inp, C_, c.w + 1 * C_, c.b + 1, B_, C_, 3);
    nnd_linear_backward_params(dw2 + 1 * C_, db2 + 1, c.r + 1, OC_, c.inp, C_, B_, C_, 3);
    nnd_linear_backward_input(dinp2 + 2, C_, c.r, OC_, c.w + 2, C_, B_, 3, OC_);
    lin_loss(&c);
    CHECK_NEAR(out2[5 * OC_ + 2], c.out[5 * OC_ + 2], 1e-14);
    CHECK(out2[5 * OC_ + 0] == 0);
    CHECK_NEAR(dw2[3 * C_ + 4], dw[3 * C_ + 4], 1e-14);
    CHECK_NEAR(db2[2], db[2], 1e-14);
    CHECK(dw2[0] == 0 && db2[0] == 0);
    CHECK_NEAR(dinp2[4 * C_ + 3], dinp[4 * C_ + 3], 1e-14);
    CHECK(dinp2[4 * C_ + 1] == 0);
}

/* ---- BatchNorm --------------------------------------------------------------------------------- */

struct bn_ctx {
    double inp[B_ * C_], gamma[C_], beta[C_], r[B_ * C_], out[B_ * C_];
    double mean[C_], rstd[C_], rm[C_], rv[C_];
};

static double bn_loss(void *p)
{
    struct bn_ctx *c = p;
    nnd_batchnorm_forward(c->out, c->mean, c->rstd, c->inp, C_, c->gamma, c->beta, c->rm, c->rv, B_,
                          C_, 0.1, 1e-5, 1);
    return dot(c->r, c->out, B_ * C_);
}

TEST(test_batchnorm_gradients)
{
    struct bn_ctx c;
    fill(c.inp, B_ * C_, -2, 3);
    fill(c.gamma, C_, 0.5, 1.5);
    fill(c.beta, C_, -1, 1);
    fill(c.r, B_ * C_, -1, 1);
    for (int j = 0; j < C_; j++)
        c.rm[j] = 0, c.rv[j] = 1;
    bn_loss(&c);
    /* each output column has mean beta and (biased) standard deviation ~ gamma */
    for (int j = 0; j < C_; j++) {
        double s = 0, q = 0;
        for (int r = 0; r < B_; r++)
            s += c.out[r * C_ + j];
        s /= B_;
        for (int r = 0; r < B_; r++)
            q += (c.out[r * C_ + j] - s) * (c.out[r * C_ + j] - s);
        CHECK_NEAR(s, c.beta[j], 1e-12);
        CHECK_NEAR(sqrt(q / B_), c.gamma[j], 1e-4 * c.gamma[j]);
    }
    double dinp[B_ * C_], dgamma[C_] = {0}, dbeta[C_] = {0};
    nnd_batchnorm_backward(dinp, dgamma, dbeta, c.r, c.inp, C_, c.mean, c.rstd, c.gamma, B_, C_);
    CHECK(fd_error(c.inp, B_ * C_, dinp, bn_loss, &c) < 1e-7);
    CHECK(fd_error(c.gamma, C_, dgamma, bn_loss, &c) < 1e-7);
    CHECK(fd_error(c.beta, C_, dbeta, bn_loss, &c) < 1e-7);
}

TEST(test_batchnorm_train_and_eval)
{
    /* one column, rows 1 and 3: mean 2, biased variance 1, unbiased 2 */
    double x[2] = {1, 3}, y[2], mean, rstd, gamma = 2, beta = 0.5, rm = 0, rv = 1;
    const double eps = 1e-5;
    nnd_batchnorm_forward(y, &mean, &rstd, x, 1, &gamma, &beta, &rm, &rv, 2, 1, 0.1, eps, 1);
    CHECK_NEAR(mean, 2, 1e-15);
    CHECK_NEAR(rstd, 1 / sqrt(1 + eps), 1e-15);
    CHECK_NEAR(y[0], 2 * (-1 / sqrt(1 + eps)) + 0.5, 1e-14);
    CHECK_NEAR(y[1], 2 * (1 / sqrt(1 + eps)) + 0.5, 1e-14);
    /* running: 0.9 * 0 + 0.1 * 2 = 0.2; 0.9 * 1 + 0.1 * 2 (unbiased) = 1.1 */
    CHECK_NEAR(rm, 0.2, 1e-15);
    CHECK_NEAR(rv, 1.1, 1e-15);
    /* eval: the running statistics, untouched */
    nnd_batchnorm_forward(y, NULL, NULL, x, 1, &gamma, &beta, &rm, &rv, 2, 1, 0.1, eps, 0);
    CHECK_NEAR(y[0], 2 * (1 - 0.2) / sqrt(1.1 + eps) + 0.5, 1e-14);
    CHECK_NEAR(y[1], 2 * (3 - 0.2) / sqrt(1.1 + eps) + 0.5, 1e-14);
    CHECK_NEAR(rm, 0.2, 0);
    CHECK_NEAR(rv, 1.1, 0);
    /* momentum 1: the running statistics are the batch's, so eval differs from training only
     * by the unbiased variance: y = gamma (x - 2) / sqrt(2 + eps) + beta */
    rm = 0, rv = 1;
    nnd_batchnorm_forward(y, &mean, &rstd, x, 1, &gamma, &beta, &rm, &rv, 2, 1, 1.0, eps, 1);
    nnd_batchnorm_forward(y, NULL, NULL, x, 1, &gamma, &beta, &rm, &rv, 2, 1, 1.0, eps, 0);
    CHECK_NEAR(y[0], 2 * (-1) / sqrt(2 + eps) + 0.5, 1e-14);
    /* the float instance agrees */
    float xf[2] = {1, 3}, yf[2], mf, sf, gf = 2, bf = 0.5f, rmf = 0, rvf = 1;
    nn_batchnorm_forward(yf, &mf, &sf, xf, 1, &gf, &bf, &rmf, &rvf, 2, 1, 0.1f, 1e-5f, 1);
    CHECK_NEAR(yf[1], 2 / sqrt(1 + eps) + 0.5, 1e-6);
    CHECK_NEAR(rvf, 1.1, 1e-6);
}

/* ---- ReLU, dropout, sigmoid + BCE ----------------------------------------------------------------- */

enum { N_ = 24 };

struct ew_ctx {
    double x[N_], r[N_], y[N_];
    uint8_t mask[N_];
    double scale;
    int kind; /* 0 relu, 1 dropout */
};

static double ew_loss(void *p)
{
    struct ew_ctx *c = p;
    /* as a (4, 6) matrix */
    if (c->kind == 0) {
        nnd_relu_forward(c->y, c->x, 6, 4, 6);
    } else {
        memcpy(c->y, c->x, sizeof c->y);
        nnd_dropout_forward(c->y, c->mask, 6, c->scale, 4, 6);
    }
    return dot(c->r, c->y, N_);
}

TEST(test_relu_and_dropout_gradients)
{
    struct ew_ctx c = {.kind = 0, .scale = 1 / (1 - 0.3)};
    fill_away_from_zero(c.x, N_);
    fill(c.r, N_, -1, 1);
    for (int i = 0; i < N_; i++)
        c.mask[i] = i % 3 != 0; /* a fixed mask */
    ew_loss(&c);
    CHECK(c.y[0] == (c.x[0] > 0 ? c.x[0] : 0));
    double d[N_];
    memcpy(d, c.r, sizeof d);
    nnd_relu_backward(d, c.x, 6, 4, 6);
    CHECK(fd_error(c.x, N_, d, ew_loss, &c) < 1e-8);
    c.kind = 1;
    ew_loss(&c);
    CHECK_NEAR(c.y[1], c.x[1] / 0.7, 1e-14);
    CHECK(c.y[3] == 0);
    memcpy(d, c.r, sizeof d);
    nnd_dropout_backward(d, c.mask, 6, c.scale, 4, 6);
    CHECK(fd_error(c.x, N_, d, ew_loss, &c) < 1e-8);
}

struct bce_ctx {
    double z[8], y[8];
};

static double bce_loss(void *p)
{
    struct bce_ctx *c = p;
    return nnd_bce_forward(c->z, c->y, 8);
}

TEST(test_bce_gradients)
{
    struct bce_ctx c = {{-3, -0.5, 0, 0.2, 1.5, 4, -40, 40}, {0, 1, 1, 0, 1, 0.3, 1, 0}};
    /* by hand: row 2 is log 2; rows 6, 7 are 40 each without overflow */
    double want = 0;
    for (int i = 0; i < 8; i++) {
        double s = 1 / (1 + exp(-c.z[i]));
        want += i >= 6 ? 40 : -(c.y[i] * log(s) + (1 - c.y[i]) * log(1 - s));
    }
    CHECK_NEAR(bce_loss(&c), want / 8, 1e-12);
    double d[8];
    nnd_bce_backward(d, c.z, c.y, 8, 8);
    CHECK_NEAR(d[2], (0.5 - 1) / 8, 1e-15);
    CHECK(fd_error(c.z, 8, d, bce_loss, &c) < 1e-8);
}

/* ---- the whole network --------------------------------------------------------------------------- */

struct net_ctx {
    struct nn_arch a;
    double *params, *running;
    struct nnd_acts w;
    double *x[NN_NTOWERS];
    double *label;
    size_t B;
};

static double net_loss(void *p)
{
    struct net_ctx *c = p;
    for (int t = 0; t < NN_NTOWERS; t++)
        if (c->a.in[t])
            memcpy(c->w.x[t], c->x[t], c->B * c->a.in[t] * sizeof(double));
    /* the same seed and step: the same dropout masks in every evaluation */
    nnd_net_forward(&c->a, c->params, c->running, &c->w, c->B, 1, 7, 3, NULL);
    return nnd_bce_forward(c->w.logit, c->label, c->B);
}

TEST(test_network_gradients)
{
    /* every tower, two blocks in most, dropout on */
    uint32_t in[NN_NTOWERS] = {3, 2, 4, 2};
    uint32_t hidden[NN_NTOWERS + 1][NN_MAX_DEPTH] = {{5, 4}, {3}, {4, 3}, {3}, {6, 4}};
    uint32_t depth[NN_NTOWERS + 1] = {2, 1, 2, 1, 2};
    struct net_ctx c = {.B = 9};
    CHECK_EQ_INT(nn_arch_build(&c.a, in, (const uint32_t(*)[NN_MAX_DEPTH])hidden, depth, 0.3f, 0.1f,
                               1e-5f), 0);
    CHECK_EQ_INT(c.a.concat, 4 + 3 + 3 + 3);
    size_t np = c.a.n_params;
    c.params = hm_xcalloc(np, sizeof(double));
    c.running = hm_xcalloc(c.a.n_running, sizeof(double));
    fill(c.params, np, -0.7, 0.7);
    for (uint32_t k = 0; k < c.a.n_blocks; k++) /* gammas around 1 */
        fill(c.params + c.a.blk[k].gamma, c.a.blk[k].out, 0.6, 1.4);
    for (int t = 0; t < NN_NTOWERS; t++) {
        c.x[t] = hm_xmalloc_array(c.B * in[t], sizeof(double));
        fill(c.x[t], c.B * in[t], -1.5, 1.5);
    }
    c.label = hm_xcalloc(c.B, sizeof(double));
    for (size_t i = 0; i < c.B; i++)
        c.label[i] = i % 3 == 0;
    nnd_acts_init(&c.w, &c.a, c.B);
    double *g = hm_xcalloc(np, sizeof(double));
    double loss = net_loss(&c);
    double loss2 = nnd_net_backward(&c.a, c.params, g, &c.w, c.label, c.B, NULL);
    CHECK_NEAR(loss, loss2, 0);
    /* dropout really dropped something in the check */
    size_t dropped = 0;
    for (uint32_t k = 0; k < c.a.n_blocks; k++)
        for (size_t i = 0; i < c.B * c.a.blk[k].out; i++)
            dropped += !c.w.mask[k][i];
    CHECK(dropped > 10);
    double err = fd_error(c.params, np, g, net_loss, &c);
    fprintf(stderr, "  network: %zu parameters, largest gradient error %.3g\n", np, err);
    CHECK(err < 1e-6);
    /* the gradient is not trivially zero anywhere it should not be: every block's weights move */
    for (uint32_t k = 0; k < c.a.n_blocks; k++) {
        double s = 0;
        for (size_t i = 0; i < (size_t)c.a.blk[k].in * c.a.blk[k].out; i++)
            s += fabs(g[c.a.blk[k].w + i]);
        CHECK(s > 1e-6);
    }
    /* eval mode leaves the running statistics alone and uses no dropout: twice the same */
    double *keep = hm_xmalloc_array(c.a.n_running, sizeof(double));
    memcpy(keep, c.running, c.a.n_running * sizeof(double));
    nnd_net_forward(&c.a, c.params, c.running, &c.w, c.B, 0, 1, 1, NULL);
    double first = c.w.logit[4];
    nnd_net_forward(&c.a, c.params, c.running, &c.w, c.B, 0, 2, 2, NULL);
    CHECK_NEAR(c.w.logit[4], first, 0);
    CHECK(memcmp(keep, c.running, c.a.n_running * sizeof(double)) == 0);
    free(keep);
    nnd_acts_release(&c.w);
    for (int t = 0; t < NN_NTOWERS; t++)
        free(c.x[t]);
    free(g);
    free(c.label);
    free(c.params);
    free(c.running);
}

/* The float instance computes the same network as the double one (to float rounding). */
TEST(test_float_matches_double)
{
    uint32_t in[NN_NTOWERS] = {4, 3, 0, 0};
    uint32_t hidden[NN_NTOWERS + 1][NN_MAX_DEPTH] = {{8}, {6}, {0}, {0}, {5, 3}};
    uint32_t depth[NN_NTOWERS + 1] = {1, 1, 0, 0, 2};
    struct nn_arch a;
    CHECK_EQ_INT(nn_arch_build(&a, in, (const uint32_t(*)[NN_MAX_DEPTH])hidden, depth, 0.25f, 0.1f,
                               1e-5f), 0);
    size_t B = 16, np = a.n_params;
    double *pd = hm_xcalloc(np, sizeof *pd), *rd = hm_xcalloc(a.n_running, sizeof *rd);
    float *pf = hm_xcalloc(np, sizeof *pf), *rf = hm_xcalloc(a.n_running, sizeof *rf);
    fill(pd, np, -0.5, 0.5);
    for (size_t i = 0; i < np; i++)
        pf[i] = (float)pd[i], pd[i] = pf[i];
    struct nnd_acts wd;
    struct nn_acts wf;
    nnd_acts_init(&wd, &a, B);
    nn_acts_init(&wf, &a, B);
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < B * in[t]; i++)
            wd.x[t][i] = wf.x[t][i] = (float)(2 * hm_rng_uniform(&rng) - 1);
    nnd_net_forward(&a, pd, rd, &wd, B, 1, 5, 9, NULL);
    nn_net_forward(&a, pf, rf, &wf, B, 1, 5, 9, NULL);
    double lab[16];
    float labf[16];
    for (size_t i = 0; i < B; i++)
        lab[i] = labf[i] = (float)(i % 2);
    double *gd = hm_xcalloc(np, sizeof *gd);
    float *gf = hm_xcalloc(np, sizeof *gf);
    double ld = nnd_net_backward(&a, pd, gd, &wd, lab, B, NULL);
    double lf = nn_net_backward(&a, pf, gf, &wf, labf, B, NULL);
    CHECK_NEAR(lf, ld, 1e-5);
    double worst = 0;
    for (size_t i = 0; i < np; i++)
        worst = fmax(worst, fabs(gf[i] - gd[i]) / fmax(1e-2, fabs(gd[i])));
    CHECK(worst < 1e-3);
    nn_acts_release(&wf);
    nnd_acts_release(&wd);
    free(gd);
    free(gf);
    free(pd);
    free(rd);
    free(pf);
    free(rf);
}

/* ---- dropout masks ------------------------------------------------------------------------------- */

TEST(test_dropout_mask)
{
    size_t B = 1000, C = 200;
    uint8_t *a = hm_xmalloc(B * C), *b = hm_xmalloc(B * C);
    nn_dropout_mask(a, C, B, C, 0, 0.3f, 11, 5);
    size_t zeros = 0;
    for (size_t i = 0; i < B * C; i++)
        zeros += !a[i];
    CHECK_NEAR((double)zeros / (B * C), 0.3, 0.005);
    /* the same marks again, and from two slices of columns [0, 64) and [64, 200) */
    memset(b, 7, B * C);
    nn_dropout_mask(b, C, B, 64, 0, 0.3f, 11, 5);
    nn_dropout_mask(b + 64, C, B, C - 64, 64, 0.3f, 11, 5);
    CHECK(memcmp(a, b, B * C) == 0);
    /* another stream, and p = 0 */
    nn_dropout_mask(b, C, B, C, 0, 0.3f, 11, 6);
    CHECK(memcmp(a, b, B * C) != 0);
    nn_dropout_mask(b, C, B, C, 0, 0.0f, 11, 6);
    for (size_t i = 0; i < B * C; i++)
        CHECK(b[i] == 1);
    free(a);
    free(b);
}

/* ---- a team of threads ------------------------------------------------------------------------ */

struct team_run {
    const struct nn_arch *a;
    const double *params;
    double *running, *grads, *label, loss;
    struct nnd_acts *w;
    size_t B;
    pthread_barrier_t bar;
    int T;
};

static void team_barrier(void *ctx)
{
    pthread_barrier_wait(&((struct team_run *)ctx)->bar);
}

struct team_arg {
    struct team_run *run;
    int t;
};

static void *team_pass(void *p)
{
    struct team_arg *arg = p;
    struct team_run *r = arg->run;
    struct nn_team team = {arg->t, r->T, team_barrier, r};
    nnd_net_forward(r->a, r->params, r->running, r->w, r->B, 1, 3, 8, &team);
    double loss = nnd_net_backward(r->a, r->params, r->grads, r->w, r->label, r->B, &team);
    if (arg->t == 0)
        r->loss = loss;
    return NULL;
}

/* Runs a training forward and backward on T threads (T = 1: without a team). */
static void run_team(struct team_run *r, int T)
{
    r->T = T;
    if (T == 1) {
        nnd_net_forward(r->a, r->params, r->running, r->w, r->B, 1, 3, 8, NULL);
        r->loss = nnd_net_backward(r->a, r->params, r->grads, r->w, r->label, r->B, NULL);
        return;
    }
    pthread_barrier_init(&r->bar, NULL, (unsigned)T);
    pthread_t id[4];
    struct team_arg args[4];
    for (int t = 0; t < T; t++) {
        args[t] = (struct team_arg){r, t};
        if (t)
            pthread_create(&id[t], NULL, team_pass, &args[t]);
    }
    team_pass(&args[0]);
    for (int t = 1; t < T; t++)
        pthread_join(id[t], NULL);
    pthread_barrier_destroy(&r->bar);
}

/* Two and three threads, each on its slices of columns and rows, compute what one thread does
 * (to the rounding of GEMMs cut differently). */
TEST(test_team_matches_one_thread)
{
    uint32_t in[NN_NTOWERS] = {37, 21, 50, 9};
    uint32_t hidden[NN_NTOWERS + 1][NN_MAX_DEPTH] = {{40, 20}, {24}, {36, 20}, {18}, {48, 32}};
    uint32_t depth[NN_NTOWERS + 1] = {2, 1, 2, 1, 2};
    struct nn_arch a;
    CHECK_EQ_INT(nn_arch_build(&a, in, (const uint32_t(*)[NN_MAX_DEPTH])hidden, depth, 0.3f, 0.1f,
                               1e-5f), 0);
    size_t B = 70, np = a.n_params, nr = a.n_running;
    double *params = hm_xcalloc(np, sizeof *params), *label = hm_xcalloc(B, sizeof *label);
    fill(params, np, -0.4, 0.4);
    for (size_t i = 0; i < B; i++)
        label[i] = i % 4 == 0;
    double *run1 = hm_xcalloc(nr, sizeof *run1), *g1 = hm_xcalloc(np, sizeof *g1);
    struct nnd_acts w1, wt;
    nnd_acts_init(&w1, &a, B);
    nnd_acts_init(&wt, &a, B);
    for (int t = 0; t < NN_NTOWERS; t++) {
        fill(w1.x[t], B * in[t], -1, 1);
        memcpy(wt.x[t], w1.x[t], B * in[t] * sizeof(double));
    }
    struct team_run one = {.a = &a, .params = params, .running = run1, .grads = g1, .label = label,
                           .w = &w1, .B = B};
    run_team(&one, 1);
    for (int T = 2; T <= 3; T++) {
        double *runt = hm_xcalloc(nr, sizeof *runt), *gt = hm_xcalloc(np, sizeof *gt);
        struct team_run many = {.a = &a, .params = params, .running = runt, .grads = gt,
                                .label = label, .w = &wt, .B = B};
        run_team(&many, T);
        double worst = 0;
        for (size_t i = 0; i < np; i++)
            worst = fmax(worst, fabs(gt[i] - g1[i]) / fmax(1e-3, fabs(g1[i])));
        for (size_t i = 0; i < nr; i++)
            worst = fmax(worst, fabs(runt[i] - run1[i]));
        for (size_t i = 0; i < B; i++)
            worst = fmax(worst, fabs(wt.logit[i] - w1.logit[i]));
        fprintf(stderr, "  %d threads vs 1: largest difference %.3g\n", T, worst);
        CHECK(worst < 1e-12);
        CHECK_NEAR(many.loss, one.loss, 1e-13);
        free(runt);
        free(gt);
    }
    nnd_acts_release(&w1);
    nnd_acts_release(&wt);
    free(run1);
    free(g1);
    free(params);
    free(label);
}

/* ---- AdamW ---------------------------------------------------------------------------------------- */

TEST(test_adamw_hand_computed)
{
    /* lr 0.1, weight decay 0.01, betas 0.9 / 0.999, eps 1e-8. Parameter 0: p = 1, gradients
     * 0.5 then -1. Step 1: p = 1 (1 - 0.1 * 0.01) = 0.999; m = 0.05, v = 0.00025; bias-corrected
     * mhat = 0.05 / 0.1 = 0.5, vhat = 0.00025 / 0.001 = 0.25; p = 0.999 - 0.1 * 0.5 / (0.5 + 1e-8)
     * = 0.899000002. Step 2: p = 0.899000002 * 0.999 = 0.898101001998; m = 0.045 - 0.1 = -0.055,
     * v = 0.00024975 + 0.001 = 0.00124975; mhat = -0.055 / 0.19, vhat = 0.00124975 / 0.001999;
     * p = 0.898101001998 + 0.1 * 0.2894736842 / (0.7906880526 + 1e-8) = 0.9347113542.
     * Parameter 1: p = -2, gradients -1 then 0.25: step 1 p = -1.998 + 0.1 * 1 / (1 + 1e-8)
     * = -1.898000001; step 2 (m = -0.065, v = 0.0010615): -1.8491551845. */
    float p[2] = {1, -2}, m[2] = {0}, v[2] = {0};
    struct nn_adamw o;
    nn_adamw_init(&o, 0.1, 0.01);
    float g1[2] = {0.5f, -1}, g2[2] = {-1, 0.25f};
    nn_adamw_step(&o, p, g1, m, v, 2);
    CHECK_NEAR(p[0], 0.899000002, 1e-6);
    CHECK_NEAR(p[1], -1.898000001, 1e-6);
    CHECK_NEAR(m[0], 0.05, 1e-7);
    CHECK_NEAR(v[1], 0.001, 1e-9);
    nn_adamw_step(&o, p, g2, m, v, 2);
    CHECK_NEAR(p[0], 0.9347113542, 1e-6);
    CHECK_NEAR(p[1], -1.8491551845, 1e-6);
    CHECK_EQ_INT(o.t, 2);
    /* weight decay alone (zero gradient, zero moments): p (1 - lr wd) */
    float q = 3, mq = 0, vq = 0, gq = 0;
    struct nn_adamw o2;
    nn_adamw_init(&o2, 0.01, 0.5);
    nn_adamw_step(&o2, &q, &gq, &mq, &vq, 1);
    CHECK_NEAR(q, 3 * (1 - 0.005), 1e-6);
}

/* ---- schedules ------------------------------------------------------------------------------------- */

TEST(test_plateau_schedule)
{
    struct nn_plateau s;
    nn_plateau_init(&s, 0.5, 1, 1e-6);
    /* an improvement must beat best * (1 + 1e-4); a cut after more than 1 epoch without one */
    double scores[] = {0.10, 0.12, 0.12, 0.120005, 0.13, 0.129, 0.128, 0.12, 0.11};
    double want[] = {1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 5e-4, 2.5e-4, 2.5e-4, 1.25e-4};
    double lr = 1e-3;
    for (int e = 0; e < 9; e++) {
        lr = nn_plateau_step(&s, scores[e], lr);
        CHECK_NEAR(lr, want[e], 1e-15);
    }
    CHECK_NEAR(s.best, 0.13, 0);
    /* the floor */
    nn_plateau_init(&s, 0.5, 0, 1e-6);
    lr = nn_plateau_step(&s, 0.2, 1.5e-6); /* first score: the best, no cut */
    CHECK_NEAR(lr, 1.5e-6, 0);
    lr = nn_plateau_step(&s, 0.1, lr); /* 1 bad epoch > patience 0: max(0.75e-6, 1e-6) */
    CHECK_NEAR(lr, 1e-6, 1e-18);
    lr = nn_plateau_step(&s, 0.1, lr);
    CHECK_NEAR(lr, 1e-6, 1e-18);
}

TEST(test_early_stopping)
{
    struct nn_early e;
    nn_early_init(&e, 3);
    /* strictly better scores count; an equal score does not */
    double scores[] = {0.10, 0.20, 0.15, 0.20, 0.19, 0.5};
    int want_improved[] = {1, 1, 0, 0, 0};
    int want_stop[] = {0, 0, 0, 0, 1};
    for (int k = 0; k < 5; k++) {
        int improved;
        int stop = nn_early_step(&e, k, scores[k], &improved);
        CHECK_EQ_INT(improved, want_improved[k]);
        CHECK_EQ_INT(stop, want_stop[k]);
    }
    CHECK_EQ_INT(e.best_epoch, 1);
    CHECK_NEAR(e.best, 0.20, 0);
    /* NaN is never an improvement */
    nn_early_init(&e, 1);
    int improved;
    nn_early_step(&e, 0, 0.3, &improved);
    CHECK_EQ_INT(nn_early_step(&e, 1, NAN, &improved), 1);
    CHECK_EQ_INT(improved, 0);
}

/* ---- settings -------------------------------------------------------------------------------------- */

TEST(test_settings)
{
    struct nn_params p;
    hm_settings_defaults(nn_settings, nn_n_settings, &p);
    CHECK_EQ_INT(nn_params_check(&p), 0);
    CHECK_STR(p.fusion_hidden, "256,128,64");
    CHECK_NEAR(p.lr, 1e-3, 0);
    CHECK_EQ_INT(p.batch, 2048);
    uint32_t w[NN_MAX_DEPTH];
    CHECK_EQ_INT(nn_parse_widths("256, 128,64", w), 3);
    CHECK_EQ_INT(w[1], 128);
    CHECK_EQ_INT(nn_parse_widths("256,", w), -1);
    CHECK_EQ_INT(nn_parse_widths("0", w), -1);
    CHECK_EQ_INT(nn_parse_widths("", w), -1);
    CHECK_EQ_INT(nn_parse_widths("1,2,3,4,5,6,7,8,9", w), -1);
    CHECK_EQ_INT(hm_settings_override(nn_settings, nn_n_settings, &p, "nn.item_hidden=64;32"), 0);
    CHECK_EQ_INT(nn_params_check(&p), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "nn.item_hidden") != NULL);
    CHECK(hm_settings_override(nn_settings, nn_n_settings, &p, "nn.dropout=1") != 0);
    char *text = hm_settings_format(nn_settings, nn_n_settings, &p, "nn.");
    CHECK(strstr(text, "nn.patience = 5") != NULL);
    free(text);
}

int main(int argc, char **argv)
{
    (void)argc;
    hm_blas_ensure_coretype(argv);
    hm_rng_seed(&rng, 20240611);
    RUN(test_linear_gradients);
    RUN(test_batchnorm_gradients);
    RUN(test_batchnorm_train_and_eval);
    RUN(test_relu_and_dropout_gradients);
    RUN(test_bce_gradients);
    RUN(test_network_gradients);
    RUN(test_float_matches_double);
    RUN(test_dropout_mask);
    RUN(test_team_matches_one_thread);
    RUN(test_adamw_hand_computed);
    RUN(test_plateau_schedule);
    RUN(test_early_stopping);
    RUN(test_settings);
    TEST_EXIT();
}
