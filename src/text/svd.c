/* Truncated SVD of a sparse matrix by randomized range finding with subspace iteration
 * (Halko, Martinsson and Tropp 2011, algorithms 4.4 and 5.1), in double precision:
 *
 *   Omega (n_cols x l) Gaussian, l = k + oversample
 *   Q = qr(A Omega)
 *   repeat q times: Q = qr(A qr(A^T Q))
 *   Bt = A^T Q (n_cols x l) = (Q^T A)^T;  Bt = W diag(s) X^T (LAPACK dgesdd)
 *   components V = W[:, :k];  document embeddings = A V (= U diag(s) on the range of Q)
 *
 * The sparse products are written here: A X parallel over output rows, A^T X parallel over
 * column ranges of the output, every element summed in a fixed order by one thread. Omega's row j comes from
 * its own random stream (seed, j), so nothing depends on the thread count. */
#include "text/text.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void text_svd_opts_default(struct text_svd_opts *o)
{
    o->k = 64;
    o->oversample = 10;
    o->power_iters = 4;
    o->seed = 42;
}

void text_svd_release(struct text_svd *s)
{
    free(s->s);
    free(s->us);
    free(s->vt);
    memset(s, 0, sizeof *s);
}

/* ---- sparse x dense ----------------------------------------------------------- */

struct spmm_job {
    const struct text_csr *a;
    const double *x;   /* (a->n_cols, l) */
    double *y;         /* (a->n_rows, l) */
    size_t l;
};

/* y[0..l) += v * x[0..l): four accumulators wide so that -O2 code is vectorised and the
 * summation order of each element is plain left to right (independent of l's remainder). */
static inline void axpy(size_t l, double v, const double *restrict x, double *restrict y)
{
    size_t c = 0;
    for (; c + 4 <= l; c += 4) {
        y[c] += v * x[c];
        y[c + 1] += v * x[c + 1];
        y[c + 2] += v * x[c + 2];
        y[c + 3] += v * x[c + 3];
    }
    for (; c < l; c++)
        y[c] += v * x[c];
}

static int spmm_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct spmm_job *j = ud;
    size_t l = j->l;
    for (size_t i = begin; i < end; i++) {
        double *y = j->y + i * l;
        memset(y, 0, l * sizeof *y);
        for (uint64_t e = j->a->rowptr[i]; e < j->a->rowptr[i + 1]; e++)
            axpy(l, j->a->val[e], j->x + (size_t)j->a->col[e] * l, y);
    }
    return 0;
}

/* y = a x, with x (a->n_cols, l) and y (a->n_rows, l) row-major. */
static void spmm(const struct text_csr *a, const double *x, double *y, size_t l)
{
    struct spmm_job j = {a, x, y, l};
    /* rows differ a lot in length (a term's row in A^T holds its document frequency):
     * dynamic chunks balance them; each row is still summed by one thread, in order */
    size_t chunk = a->n_rows / 256 + 1;
    hm_parallel_chunks(0, a->n_rows, chunk < 64 ? chunk : 64, spmm_range, &j);
}

/* z = a^T x without the transpose, x (a->n_rows, l), z (a->n_cols, l): parallel over column
 * ranges of z. Every thread streams all of a and its slice of x; each element of z is summed
 * over the rows of a in increasing order, however the columns are split, so the result does
 * not depend on the thread count. Reads x once in total (the transpose-based product gathers
 * a row of x for every non-zero). */
struct spmm_t_job {
    const struct text_csr *a;
    const double *x;
    double *z;
    size_t l;
};

static int spmm_t_range(size_t c0, size_t c1, int tid, void *ud)
{
    (void)tid;
    struct spmm_t_job *j = ud;
    size_t l = j->l, w = c1 - c0;
    for (uint64_t r = 0; r < j->a->n_cols; r++)
        memset(j->z + r * l + c0, 0, w * sizeof *j->z);
    for (uint64_t i = 0; i < j->a->n_rows; i++) {
        const double *x = j->x + i * l + c0;
        for (uint64_t e = j->a->rowptr[i]; e < j->a->rowptr[i + 1]; e++)
            axpy(w, j->a->val[e], x, j->z + (size_t)j->a->col[e] * l + c0);
    }
    return 0;
}

static void spmm_t(const struct text_csr *a, const double *x, double *z, size_t l)
{
    struct spmm_t_job j = {a, x, z, l};
    hm_parallel_for(0, l, spmm_t_range, &j);
}

/* Replaces y (rows x l, rows >= l) by an orthonormal basis of its columns: Householder QR,
 * LAPACKE_dgeqrf then LAPACKE_dorgqr. */
static int qr_plain(double *y, size_t rows, size_t l, double *tau)
{
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)l, y,
                                     (lapack_int)l, tau);
    if (info == 0)
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, (lapack_int)l, (lapack_int)l, y,
                              (lapack_int)l, tau);
    if (info != 0)
        return hm_error(info == LAPACK_WORK_MEMORY_ERROR ? HM_ENOMEM : HM_EINVAL,
                        "text: QR factorisation failed (LAPACK info %d)", (int)info);
    return 0;
}

/* Tall-skinny QR in two levels. The rows are cut into nb blocks fixed by the shape alone
 * (never by the thread count); each block is factored on its own (Q_i R_i, in parallel, cache
 * sized), the stacked R_i (nb*l x l) are factored once more (Q_s), and Q = diag(Q_i) Q_s. */
#define TSQR_BLOCK_ROWS 4096

struct tsqr_job {
    double *y;        /* (rows, l) */
    double *r;        /* (nb * l, l): the R_i, then Q_s */
    size_t rows, l, nb;
    int rc;
};

static size_t block_begin(const struct tsqr_job *j, size_t b) { return j->rows * b / j->nb; }

static int tsqr_factor(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct tsqr_job *j = ud;
    size_t l = j->l;
    double *tau = hm_xmalloc_array(l, sizeof *tau);
    int rc = 0;
    for (size_t b = begin; b < end && rc == 0; b++) {
        size_t r0 = block_begin(j, b), rb = block_begin(j, b + 1) - r0;
        double *yb = j->y + r0 * l;
        lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rb, (lapack_int)l, yb,
                                         (lapack_int)l, tau);
        if (info == 0) {
            double *rb_out = j->r + b * l * l;
            for (size_t p = 0; p < l; p++)
                for (size_t q = 0; q < l; q++)
                    rb_out[p * l + q] = q >= p ? yb[p * l + q] : 0;
            info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)rb, (lapack_int)l, (lapack_int)l,
                                  yb, (lapack_int)l, tau);
        }
        if (info != 0)
            rc = hm_error(HM_EINVAL, "text: QR of a row block failed (LAPACK info %d)", (int)info);
    }
    free(tau);
    return rc;
}

static int tsqr_combine(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct tsqr_job *j = ud;
    size_t l = j->l;
    double *tmp = hm_xmalloc_array((TSQR_BLOCK_ROWS * 2 + 1) * l, sizeof *tmp);
    for (size_t b = begin; b < end; b++) {
        size_t r0 = block_begin(j, b), rb = block_begin(j, b + 1) - r0;
        HM_ASSERT(rb <= TSQR_BLOCK_ROWS * 2 + 1);
        double *yb = j->y + r0 * l;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rb, (int)l, (int)l, 1.0, yb,
                    (int)l, j->r + b * l * l, (int)l, 0.0, tmp, (int)l);
        memcpy(yb, tmp, rb * l * sizeof *tmp);
    }
    free(tmp);
    return 0;
}

static int orthonormalize(double *y, size_t rows, size_t l, double *tau)
{
    size_t nb = rows / TSQR_BLOCK_ROWS;
    if (nb < 4 || rows / nb < 2 * l)
        return qr_plain(y, rows, l, tau);
    /* the blocks run on our threads with single-threaded BLAS: the result depends on neither
     * thread count */
    struct tsqr_job j = {y, hm_xmalloc_array(nb * l * l, sizeof *j.r), rows, l, nb, 0};
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    int rc = hm_parallel_chunks(0, nb, 1, tsqr_factor, &j);
    if (rc == 0)
        rc = qr_plain(j.r, nb * l, l, tau);
    if (rc == 0)
        rc = hm_parallel_chunks(0, nb, 1, tsqr_combine, &j);
    openblas_set_num_threads(blas_threads);
    free(j.r);
    if (rc) /* a worker's message stays on its thread: report here too */
        rc = hm_error(rc, "text: blocked QR of a %zu x %zu matrix failed", rows, l);
    return rc;
}

/* ---- fit --------------------------------------------------------------------- */

int text_svd_fit(const struct text_csr *a, const struct text_svd_opts *o, struct text_svd *out)
{
    memset(out, 0, sizeof *out);
    if (o->k == 0)
        return hm_error(HM_EINVAL, "text: svd k must be at least 1");
    size_t n = a->n_rows, m = a->n_cols, mn = n < m ? n : m;
    if (mn == 0)
        return hm_error(HM_EINVAL, "text: svd of an empty %zu x %zu matrix", n, m);
    size_t l = (size_t)o->k + o->oversample;
    if (l > mn)
        l = mn;
    size_t k = o->k < l ? o->k : l;

    double *omega = hm_xmalloc_array(m * l, sizeof *omega); /* (m, l); later Z and Bt */
    double *y = hm_xmalloc_array(n * l, sizeof *y);         /* (n, l); Y, then Q */
    double *tau = hm_xmalloc_array(l, sizeof *tau);
    for (size_t j = 0; j < m; j++) {
        struct hm_rng r;
        hm_rng_seed2(&r, o->seed, j);
        for (size_t c = 0; c < l; c++)
            omega[j * l + c] = hm_rng_normal(&r);
    }

    struct hm_progress pr;
    hm_progress_begin(&pr, "text: svd", 2 * (uint64_t)o->power_iters + 3);
    int rc = 0;
    double t_a = 0, t_at = 0, t_qr = 0, t_svd = 0, t_proj = 0; /* seconds, for the debug log */
    int64_t t0 = hm_now_ns();
    spmm(a, omega, y, l);
    t_a += hm_seconds_since(t0);
    t0 = hm_now_ns();
    rc = orthonormalize(y, n, l, tau);
    t_qr += hm_seconds_since(t0);
    hm_progress_add(&pr, 1);
    for (uint32_t it = 0; it < o->power_iters && rc == 0; it++) {
        t0 = hm_now_ns();
        spmm_t(a, y, omega, l);
        t_at += hm_seconds_since(t0);
        t0 = hm_now_ns();
        rc = orthonormalize(omega, m, l, tau);
        t_qr += hm_seconds_since(t0);
        if (rc == 0) {
            t0 = hm_now_ns();
            spmm(a, omega, y, l);
            t_a += hm_seconds_since(t0);
            t0 = hm_now_ns();
            rc = orthonormalize(y, n, l, tau);
            t_qr += hm_seconds_since(t0);
        }
        hm_progress_add(&pr, 2);
    }
    double *s = NULL, *w = NULL, *xt = NULL;
    if (rc == 0) {
        t0 = hm_now_ns();
        spmm_t(a, y, omega, l); /* Bt = A^T Q (m, l) */
        t_at += hm_seconds_since(t0);
        t0 = hm_now_ns();
        s = hm_xmalloc_array(l, sizeof *s);
        w = hm_xmalloc_array(m * l, sizeof *w);
        xt = hm_xmalloc_array(l * l, sizeof *xt);
        lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)l, omega,
                                         (lapack_int)l, s, w, (lapack_int)l, xt, (lapack_int)l);
        if (info != 0)
            rc = hm_error(info > 0 ? HM_EINVAL : HM_ENOMEM,
                          "text: SVD of the %zu x %zu projected matrix failed (LAPACK info %d)", m,
                          l, (int)info);
        t_svd = hm_seconds_since(t0);
        hm_progress_add(&pr, 1);
    }
    if (rc == 0) {
        out->k = (uint32_t)k;
        out->n_rows = n;
        out->n_cols = m;
        out->s = hm_xmalloc_array(k, sizeof *out->s);
        out->vt = hm_xmalloc_array(k * m, sizeof *out->vt);
        for (size_t c = 0; c < k; c++) {
            /* sign: the largest-magnitude entry (first one on ties) is positive */
            size_t best = 0;
            for (size_t j = 1; j < m; j++)
                if (fabs(w[j * l + c]) > fabs(w[best * l + c]))
                    best = j;
            double sign = w[best * l + c] < 0 ? -1 : 1;
            out->s[c] = (float)s[c];
            for (size_t j = 0; j < m; j++)
                out->vt[c * m + j] = (float)(sign * w[j * l + c]);
        }
        out->us = hm_xmalloc_array(n * k, sizeof *out->us);
        t0 = hm_now_ns();
        text_svd_project(out, a, out->us);
        t_proj = hm_seconds_since(t0);
        hm_debug("text svd %zu x %zu, l %zu: A X %.3f s, A^T X %.3f s, QR %.3f s, small SVD %.3f s, "
                 "projection %.3f s", n, m, l, t_a, t_at, t_qr, t_svd, t_proj);
        hm_progress_add(&pr, 1);
    }
    hm_progress_end(&pr);
    free(s);
    free(w);
    free(xt);
    free(tau);
    free(y);
    free(omega);
    if (rc)
        text_svd_release(out);
    return rc;
}

/* ---- projection ----------------------------------------------------------------- */

struct proj_job {
    const struct text_csr *a;
    const float *v;   /* (n_cols, k) */
    float *out;       /* (n_rows, k) */
    size_t k;
};

static int proj_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct proj_job *j = ud;
    size_t k = j->k;
    double acc[1024];
    double *y = k <= 1024 ? acc : hm_xmalloc_array(k, sizeof *y);
    for (size_t i = begin; i < end; i++) {
        memset(y, 0, k * sizeof *y);
        for (uint64_t e = j->a->rowptr[i]; e < j->a->rowptr[i + 1]; e++) {
            double v = j->a->val[e];
            const float *x = j->v + (size_t)j->a->col[e] * k;
            for (size_t c = 0; c < k; c++)
                y[c] += v * x[c];
        }
        for (size_t c = 0; c < k; c++)
            j->out[i * k + c] = (float)y[c];
    }
    if (y != acc)
        free(y);
    return 0;
}

void text_svd_project(const struct text_svd *s, const struct text_csr *a, float *out)
{
    HM_ASSERT(a->n_cols == s->n_cols);
    size_t k = s->k, m = s->n_cols;
    float *v = hm_xmalloc_array(m * k > 0 ? m * k : 1, sizeof *v); /* (m, k) = vt^T */
    for (size_t c = 0; c < k; c++)
        for (size_t j = 0; j < m; j++)
            v[j * k + c] = s->vt[c * m + j];
    struct proj_job pj = {a, v, out, k};
    hm_parallel_for(0, a->n_rows, proj_range, &pj);
    free(v);
}
