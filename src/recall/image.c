/* Image similarity: articles whose picture looks like what the customer buys. The article
 * image embeddings (e.g. FashionCLIP's 512-d, the engine's image_emb) are reduced once per
 * cutoff to their `image_dim` principal components (fitted on the searched articles, rows
 * centred, projected and L2-normalised; articles without an image stay zero), which keeps the
 * search at one sgemm of (customers x image_dim) x (image_dim x image_items) per block and
 * drops dimensions that carry mostly noise. A customer's profile is the history-score
 * weighted mean of their best history items; the candidates are the searched articles (the
 * most popular kept items with an image) of highest cosine (embsim.c). Off when no image
 * embeddings are configured. */
#include "recall/recall.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct image_params {
    struct recall_list_params list;
    long items;             /* most popular kept items searched (10000) */
    long weeks;             /* weeks of (decayed) sales that choose them (4) */
    long dim;               /* principal components kept (64) */
};
_Static_assert(sizeof(struct image_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct image_params, f)
static const struct hm_setting image_settings[] = {
    {"recall.image_n", HM_SET_INT, P(list.n), "100", 0, 255, 0,
     "image similarity: candidates per customer (needs features.image)"},
    {"recall.image_items", HM_SET_INT, P(items), "10000", 1, 1e9, 0,
     "image similarity: most popular kept items searched"},
    {"recall.image_weeks", HM_SET_INT, P(weeks), "4", 1, 520, 0,
     "image similarity: weeks of (decayed) sales that choose the searched items"},
    {"recall.image_dim", HM_SET_INT, P(dim), "64", 1, 4096, 0,
     "image similarity: principal components of the image embeddings kept"},
    {"recall.image_w", HM_SET_DOUBLE, P(list.w), "0.5", 0, 1e6, 0, "image similarity: merge weight"},
};
#undef P

struct image_state {
    float *proj;                 /* (n_articles, k) reduced unit rows; zero without an image */
    uint32_t k;
    struct recall_embsim sim;
};

static void image_release(void *state)
{
    struct image_state *m = state;
    if (!m)
        return;
    recall_embsim_release(&m->sim);
    free(m->proj);
    free(m);
}

/* The top k principal directions of rows[0..n) of x (n_articles, d): v (d, k) column j the
 * j-th direction, and the mean (d). BLAS and LAPACK run single-threaded here, so the result
 * does not depend on the thread count. */
static int pca_fit(const float *x, uint32_t d, const uint32_t *rows, uint32_t n, uint32_t k, double *v,
                   double *mean)
{
    double *c = hm_xmalloc_array((size_t)n * d + 1, sizeof *c);
    memset(mean, 0, d * sizeof *mean);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t t = 0; t < d; t++)
            mean[t] += x[(size_t)rows[i] * d + t];
    for (uint32_t t = 0; t < d; t++)
        mean[t] /= n ? n : 1;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t t = 0; t < d; t++)
            c[(size_t)i * d + t] = x[(size_t)rows[i] * d + t] - mean[t];
    double *cov = hm_xcalloc((size_t)d * d, sizeof *cov), *ev = hm_xmalloc_array(d, sizeof *ev);
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n, 1.0, c, (int)d, 0.0, cov, (int)d);
    /* eigenvalues ascending, eigenvectors in the columns of cov */
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, cov, (lapack_int)d, ev);
    openblas_set_num_threads(blas_threads);
    if (info == 0)
        for (uint32_t t = 0; t < d; t++)
            for (uint32_t j = 0; j < k; j++)
                v[(size_t)t * k + j] = cov[(size_t)t * d + (d - 1 - j)];
    free(c);
    free(cov);
    free(ev);
    if (info != 0)
        return hm_error(HM_EINVAL, "recall: the image embeddings' eigen-decomposition failed (LAPACK info %d)",
                        (int)info);
    return 0;
}

static int image_init(const struct recall_engine *e, int s, void **state)
{
    const struct image_params *p = recall_params_of(&e->p, s);
    uint32_t na = e->ds->articles.n, d = e->image_dim, k = (uint32_t)(p->dim < (long)d ? p->dim : (long)d);
    struct image_state *m = hm_xcalloc(1, sizeof *m);
    m->k = k;
    /* the searched items in the full space first: their rows fit the components */
    struct recall_embsim full;
    recall_embsim_init(&full, e, e->image_emb, d, e->image_missing, p->items, p->weeks);
    double *v = hm_xmalloc_array((size_t)d * k + 1, sizeof *v), *mean = hm_xmalloc_array((size_t)d + 1, sizeof *mean);
    uint32_t fitted = full.n_docs;
    int rc = fitted > 0 ? pca_fit(e->image_emb, d, full.doc_item, full.n_docs, k, v, mean) : 0;
    recall_embsim_release(&full);
    if (rc) {
        free(v);
        free(mean);
        free(m);
        return rc;
    }
    /* project every article: (x - mean) v, in float, single-threaded sgemm per block */
    float *vf = hm_xmalloc_array((size_t)d * k + 1, sizeof *vf), *mv = hm_xcalloc((size_t)k + 1, sizeof *mv);
    for (size_t i = 0; i < (size_t)d * k; i++)
        vf[i] = (float)v[i];
    for (uint32_t j = 0; j < k; j++) {
        double acc = 0;
        for (uint32_t t = 0; t < d; t++)
            acc += mean[t] * v[(size_t)t * k + j];
        mv[j] = (float)acc;
    }
    m->proj = hm_xmalloc_array((size_t)na * k + 1, sizeof *m->proj);
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    if (na && fitted)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)na, (int)k, (int)d, 1.0f, e->image_emb, (int)d,
                    vf, (int)k, 0.0f, m->proj, (int)k);
    openblas_set_num_threads(blas_threads);
    for (uint32_t a = 0; a < na; a++) {
        float *row = m->proj + (size_t)a * k;
        if (!fitted || (e->image_missing && e->image_missing[a])) {
            memset(row, 0, k * sizeof *row);
            continue;
        }
        for (uint32_t j = 0; j < k; j++)
            row[j] -= mv[j];
    }
    text_l2_normalize_rows(m->proj, na, k);
    free(vf);
    free(mv);
    free(v);
    free(mean);
    recall_embsim_init(&m->sim, e, m->proj, k, e->image_missing, p->items, p->weeks);
    *state = m;
    return 0;
}

static int image_block(const struct recall_engine *e, int s, struct recall_scratch *const *sc, int nt,
                       const uint32_t *users, uint32_t n, uint32_t *ids, float *scores, uint32_t *count)
{
    (void)sc;
    (void)nt;
    const struct image_state *m = e->state[s];
    return recall_embsim_block(e, &m->sim, (uint32_t)recall_list_of(&e->p, s)->n, users, n, ids, scores, count);
}

const struct recall_strategy recall_image = {
    .name = "image",
    .help = "articles whose image embedding is closest to the customer's",
    .settings = image_settings,
    .n_settings = sizeof image_settings / sizeof image_settings[0],
    .params_size = sizeof(struct image_params),
    .needs = RECALL_NEEDS_IMAGE,
    .init = image_init,
    .release = image_release,
    .block = image_block,
};
