/* Embedding arithmetic: row normalisation, user embeddings from purchases, and cosine
 * top-N search (blocked sgemm + a bounded heap per query). */
#include "text/text.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void text_l2_normalize_rows(float *x, size_t n, size_t dim)
{
    for (size_t i = 0; i < n; i++) {
        float *r = x + i * dim;
        double ss = 0;
        for (size_t c = 0; c < dim; c++)
            ss += (double)r[c] * r[c];
        if (ss > 0) {
            double inv = 1 / sqrt(ss);
            for (size_t c = 0; c < dim; c++)
                r[c] = (float)(r[c] * inv);
        }
    }
}

/* ---- user embeddings ------------------------------------------------------------ */

struct user_job {
    const float *emb;
    uint32_t dim;
    const uint64_t *ptr;
    const uint32_t *items;
    const float *w;
    float *out;
};

static int user_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct user_job *j = ud;
    double acc[1024];
    double *a = j->dim <= 1024 ? acc : hm_xmalloc_array(j->dim, sizeof *a);
    for (size_t u = begin; u < end; u++) {
        memset(a, 0, j->dim * sizeof *a);
        double wsum = 0;
        for (uint64_t e = j->ptr[u]; e < j->ptr[u + 1]; e++) {
            double w = j->w ? j->w[e] : 1.0;
            const float *x = j->emb + (size_t)j->items[e] * j->dim;
            for (uint32_t c = 0; c < j->dim; c++)
                a[c] += w * x[c];
            wsum += w;
        }
        float *o = j->out + u * j->dim;
        double ss = 0;
        for (uint32_t c = 0; c < j->dim; c++)
            ss += a[c] * a[c];
        /* the mean's direction is the sum's: normalising the sum is enough */
        double inv = (wsum != 0 && ss > 0) ? 1 / sqrt(ss) : 0;
        for (uint32_t c = 0; c < j->dim; c++)
            o[c] = (float)(a[c] * inv);
    }
    if (a != acc)
        free(a);
    return 0;
}

int text_user_embed(const float *emb, uint64_t n_docs, uint32_t dim, const uint64_t *ptr,
                    const uint32_t *items, const float *w, uint64_t n_users, float *out)
{
    uint64_t n = ptr[n_users];
    for (uint64_t e = 0; e < n; e++)
        if (items[e] >= n_docs)
            return hm_error(HM_EINVAL, "text: purchase %llu names doc %u, but there are %llu docs",
                            (unsigned long long)e, items[e], (unsigned long long)n_docs);
    struct user_job j = {emb, dim, ptr, items, w, out};
    hm_parallel_for(0, n_users, user_range, &j);
    return 0;
}

/* ---- top-N search ------------------------------------------------------------------ */

#define QBLOCK 256    /* queries per sgemm (and per parallel chunk) */
#define DBLOCK 2048   /* docs per sgemm: a 2 MiB score block */

struct topn_job {
    const float *q, *d;
    const uint32_t *doc_ids;  /* (n_docs) increasing ids reported for the rows of d, or NULL */
    uint64_t n_q, n_docs;
    uint32_t dim, n_top;
    const uint64_t *excl_ptr;
    const uint32_t *excl;
    uint32_t *top_ids;
    float *top_scores;
};

static int is_excluded(const struct topn_job *j, uint64_t q, uint32_t id)
{
    if (!j->excl_ptr)
        return 0;
    for (uint64_t e = j->excl_ptr[q]; e < j->excl_ptr[q + 1]; e++)
        if (j->excl[e] == id)
            return 1;
    return 0;
}

static int topn_chunk(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    const struct topn_job *j = ud;
    size_t nq = end - begin;
    uint32_t cap = j->n_top;
    float *scores = hm_xmalloc_array((size_t)QBLOCK * DBLOCK, sizeof *scores); /* (QBLOCK, DBLOCK) */
    /* every sgemm has QBLOCK rows (a shorter last chunk is padded with zero rows): OpenBLAS
     * takes another path for small products, so a query's scores would depend on how many
     * queries share its chunk, i.e. on which customers are searched together (on shards, a
     * rank's own) */
    const float *qs = j->q + begin * j->dim;
    float *pad = NULL;
    if (nq < QBLOCK) {
        pad = hm_xcalloc((size_t)QBLOCK * j->dim, sizeof *pad);
        memcpy(pad, qs, nq * j->dim * sizeof *pad);
        qs = pad;
    }
    struct hm_hit *hits = hm_xmalloc_array((size_t)QBLOCK * (cap ? cap : 1), sizeof *hits);
    struct hm_topk top[QBLOCK];
    for (size_t qi = 0; qi < nq; qi++)
        hm_topk_init(&top[qi], hits + qi * cap, cap);
    for (uint64_t d0 = 0; d0 < j->n_docs; d0 += DBLOCK) {
        size_t nd = j->n_docs - d0 < DBLOCK ? (size_t)(j->n_docs - d0) : DBLOCK;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, QBLOCK, (int)nd, (int)j->dim, 1.0f, qs, (int)j->dim,
                    j->d + d0 * j->dim, (int)j->dim, 0.0f, scores, DBLOCK);
        for (size_t qi = 0; qi < nq; qi++) {
            const float *s = scores + qi * DBLOCK;
            /* docs arrive in increasing id order, so a doc can only displace the worst kept
             * hit (whose id is lower) with a strictly higher score: one float compare per doc */
            float thr = hm_topk_threshold(&top[qi]);
            for (size_t di = 0; di < nd; di++) {
                if ((di & 15) == 0 && di + 16 <= nd) {
                    /* skip 16 scores at once when none beats the threshold (vectorises) */
                    int any = 0;
                    for (int t = 0; t < 16; t++)
                        any |= s[di + t] > thr;
                    if (!any) {
                        di += 15;
                        continue;
                    }
                }
                if (!(s[di] > thr)) /* also skips NaN */
                    continue;
                uint32_t id = j->doc_ids ? j->doc_ids[d0 + di] : (uint32_t)(d0 + di);
                if (is_excluded(j, begin + qi, id))
                    continue;
                hm_topk_push(&top[qi], s[di], id);
                thr = hm_topk_threshold(&top[qi]);
            }
        }
    }
    for (size_t qi = 0; qi < nq; qi++) {
        uint32_t n = hm_topk_sort(&top[qi]);
        const struct hm_hit *h = top[qi].h;
        uint32_t *ids = j->top_ids + (begin + qi) * cap;
        float *sc = j->top_scores + (begin + qi) * cap;
        for (uint32_t r = 0; r < cap; r++) {
            ids[r] = r < n ? h[r].id : UINT32_MAX;
            sc[r] = r < n ? h[r].score : -INFINITY;
        }
    }
    free(hits);
    free(scores);
    free(pad);
    return 0;
}

int text_topn(const float *queries, uint64_t n_q, const float *docs, uint64_t n_docs,
              uint32_t dim, uint32_t n_top, const uint64_t *excl_ptr, const uint32_t *excl,
              uint32_t *top_ids, float *top_scores)
{
    return text_topn_subset(queries, n_q, docs, NULL, n_docs, dim, n_top, excl_ptr, excl,
                            top_ids, top_scores);
}

int text_topn_subset(const float *queries, uint64_t n_q, const float *docs,
                     const uint32_t *doc_ids, uint64_t n_docs, uint32_t dim, uint32_t n_top,
                     const uint64_t *excl_ptr, const uint32_t *excl, uint32_t *top_ids,
                     float *top_scores)
{
    if (dim == 0)
        return hm_error(HM_EINVAL, "text: top-N with dimension 0");
    if (n_docs >= UINT32_MAX)
        return hm_error(HM_EINVAL, "text: too many docs for 32-bit ids");
    if (doc_ids)
        for (uint64_t i = 0; i < n_docs; i++)
            if (doc_ids[i] == UINT32_MAX || (i > 0 && doc_ids[i] <= doc_ids[i - 1]))
                return hm_error(HM_EINVAL, "text: doc ids must increase strictly (row %llu)",
                                (unsigned long long)i);
    if (n_top == 0 || n_q == 0)
        return 0;
    struct topn_job j = {queries, docs, doc_ids, n_q, n_docs, dim, n_top, excl_ptr, excl, top_ids,
                         top_scores};
    /* each block's sgemm runs on the calling worker: keep OpenBLAS from starting its own
     * threads on top of ours (and from changing the summation order with their number) */
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    int rc = hm_parallel_chunks(0, n_q, QBLOCK, topn_chunk, &j);
    openblas_set_num_threads(blas_threads);
    return rc;
}
