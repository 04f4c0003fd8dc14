/* Embedding similarity, shared by the text and image strategies: the searched articles (the
 * most popular kept ones) of an article embedding matrix, and for a block of customers the
 * searched articles closest to each customer's profile (the history-score weighted mean of
 * their best history items' embeddings), in one batch of sgemm (text_topn). */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

void recall_embsim_release(struct recall_embsim *m)
{
    free(m->doc_item);
    free(m->item_doc);
    free(m->docs);
    memset(m, 0, sizeof *m);
}

void recall_embsim_init(struct recall_embsim *m, const struct recall_engine *e, const float *emb, uint32_t dim,
                        const uint8_t *missing, long items, long weeks)
{
    memset(m, 0, sizeof *m);
    m->emb = emb;
    m->dim = dim;
    uint32_t na = e->ds->articles.n;
    /* the searched items: the `items` most popular kept items (decayed rows over `weeks`) */
    double *pop = hm_xcalloc((size_t)na + 1, sizeof *pop);
    int32_t from = e->cutoff - 7 * (int32_t)weeks;
    recall_article_counts(e->ds, from > e->start ? from : e->start, e->cutoff, 7.0 * (double)weeks / 2, pop, NULL);
    uint32_t want = (uint32_t)(items < (long)na ? items : (long)na), n = 0;
    uint32_t *ids = hm_xmalloc_array((size_t)na + 1, sizeof *ids);
    float *sc = hm_xmalloc_array((size_t)na + 1, sizeof *sc);
    for (uint32_t a = 0; a < na; a++)
        if (e->keep[a] && pop[a] > 0 && !(missing && missing[a])) {
            ids[n] = a;
            sc[n++] = (float)pop[a];
        }
    m->doc_item = hm_xmalloc_array((size_t)want + 1, sizeof *m->doc_item);
    float *tmp = hm_xmalloc_array((size_t)want + 1, sizeof *tmp);
    m->n_docs = hm_select_top(ids, sc, n, want, m->doc_item, tmp);
    free(tmp);
    free(ids);
    free(sc);
    free(pop);
    m->item_doc = hm_xmalloc_array((size_t)na + 1, sizeof *m->item_doc);
    memset(m->item_doc, 0xff, ((size_t)na + 1) * sizeof *m->item_doc);
    m->docs = hm_xmalloc_array((size_t)m->n_docs * dim + 1, sizeof *m->docs);
    for (uint32_t d = 0; d < m->n_docs; d++) {
        m->item_doc[m->doc_item[d]] = d;
        memcpy(m->docs + (size_t)d * dim, emb + (size_t)m->doc_item[d] * dim, dim * sizeof(float));
    }
}

struct query_job {
    const struct recall_engine *e;
    const uint32_t *users;
    uint32_t q;          /* query items per customer */
    uint32_t *items;     /* (n, q) */
    float *w;            /* (n, q) */
    uint32_t *count;     /* (n) */
    struct recall_hist *hist; /* (threads) */
};

static int query_range(size_t begin, size_t end, int tid, void *ud)
{
    struct query_job *j = ud;
    struct recall_hist *h = &j->hist[tid];
    for (size_t i = begin; i < end; i++) {
        recall_hist_build(h, j->e->ds, j->users[i], j->e->start, j->e->cutoff, j->e->p.tau);
        uint32_t n = h->n < j->q ? h->n : j->q;
        if (n) {
            memcpy(j->items + i * j->q, h->item, n * sizeof(uint32_t));
            memcpy(j->w + i * j->q, h->score, n * sizeof(float));
        }
        j->count[i] = n;
    }
    return 0;
}

int recall_embsim_block(const struct recall_engine *e, const struct recall_embsim *m, uint32_t top,
                        const uint32_t *users, uint32_t n, uint32_t *ids, float *scores, uint32_t *count)
{
    uint32_t q = (uint32_t)e->p.query_items, k = m->dim;
    int nt = hm_threads();
    if (nt > 256)
        nt = 256;
    struct query_job j = {e, users, q, hm_xmalloc_array((size_t)n * q + 1, sizeof(uint32_t)),
                          hm_xmalloc_array((size_t)n * q + 1, sizeof(float)), count,
                          hm_xcalloc((size_t)nt, sizeof(struct recall_hist))};
    hm_parallel_chunks(nt, n, 64, query_range, &j);
    for (int t = 0; t < nt; t++)
        recall_hist_release(&j.hist[t]);
    free(j.hist);
    /* compact to CSR: the query items, and those of them that are searched (excluded) */
    uint64_t *ptr = hm_xmalloc_array((size_t)n + 1, sizeof *ptr), *xptr = hm_xmalloc_array((size_t)n + 1, sizeof *xptr);
    uint32_t *excl = hm_xmalloc_array((size_t)n * q + 1, sizeof *excl);
    uint64_t o = 0, x = 0;
    for (uint32_t i = 0; i < n; i++) {
        ptr[i] = o;
        xptr[i] = x;
        for (uint32_t t = 0; t < count[i]; t++) {
            uint32_t a = j.items[(size_t)i * q + t];
            j.items[o] = a;
            j.w[o++] = j.w[(size_t)i * q + t];
            if (m->item_doc[a] != UINT32_MAX)
                excl[x++] = m->item_doc[a];
        }
    }
    ptr[n] = o;
    xptr[n] = x;
    float *emb = hm_xmalloc_array((size_t)n * k + 1, sizeof *emb);
    int rc = text_user_embed(m->emb, e->ds->articles.n, k, ptr, j.items, j.w, n, emb);
    if (!rc)
        rc = text_topn(emb, n, m->docs, m->n_docs, k, top, xptr, excl, ids, scores);
    if (!rc)
        for (uint32_t i = 0; i < n; i++) {
            uint32_t c = 0;
            /* customers without history (or whose items have no embedding) get nothing */
            int any = 0;
            for (uint32_t d = 0; d < k && !any; d++)
                any = emb[(size_t)i * k + d] != 0.0f;
            if (any)
                for (; c < top && ids[(size_t)i * top + c] != UINT32_MAX; c++)
                    ids[(size_t)i * top + c] = m->doc_item[ids[(size_t)i * top + c]];
            count[i] = c;
        }
    free(emb);
    free(ptr);
    free(xptr);
    free(excl);
    free(j.items);
    free(j.w);
    return rc;
}
