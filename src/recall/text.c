/* Text similarity: articles are embedded by TF-IDF over their descriptive text (product
 * type, colour, department, section, garment group as categorical terms; prod_name and
 * detail_desc as words) reduced by randomized truncated SVD (src/text). A customer's
 * embedding is the recency x frequency weighted mean of their best history items; the
 * candidates are the searched articles of highest cosine similarity, in batches (sgemm).
 * Article text does not depend on time, so the model uses the whole catalogue. */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

int recall_text_init(struct recall_textsim *m, const struct recall_engine *e)
{
    memset(m, 0, sizeof *m);
    const struct data_articles *art = &e->ds->articles;
    uint32_t na = art->n;
    static const int cols[TEXT_HM_NFIELDS] = {IO_ART_PRODUCT_TYPE_NAME, IO_ART_COLOUR_GROUP_NAME,
                                              IO_ART_DEPARTMENT_NAME, IO_ART_SECTION_NAME,
                                              IO_ART_GARMENT_GROUP_NAME, IO_ART_PROD_NAME,
                                              IO_ART_DETAIL_DESC};
    /* the cells as NUL-terminated strings in one buffer */
    uint64_t bytes = 0;
    for (int f = 0; f < TEXT_HM_NFIELDS; f++)
        if (art->code[cols[f]])
            for (uint32_t a = 0; a < na; a++) {
                uint32_t len;
                data_dict_get(&art->dict[cols[f]], art->code[cols[f]][a], &len);
                bytes += len + 1;
            }
    char *buf = hm_xmalloc(bytes + 1), *w = buf;
    const char **cells = hm_xcalloc((size_t)na * TEXT_HM_NFIELDS + 1, sizeof *cells);
    for (uint32_t a = 0; a < na; a++)
        for (int f = 0; f < TEXT_HM_NFIELDS; f++) {
            if (!art->code[cols[f]])
                continue;
            uint32_t len;
            const char *s = data_dict_get(&art->dict[cols[f]], art->code[cols[f]][a], &len);
            memcpy(w, s, len);
            w[len] = '\0';
            cells[(size_t)a * TEXT_HM_NFIELDS + f] = w;
            w += len + 1;
        }
    struct text_field fields[TEXT_HM_NFIELDS];
    text_hm_fields(fields);
    struct text_model_opts o;
    text_model_opts_default(&o);
    o.svd.k = (uint32_t)e->p.text_dim;
    int rc = text_model_fit(&m->model, fields, TEXT_HM_NFIELDS, (const char *const *)cells, na, &o);
    free(cells);
    free(buf);
    if (rc)
        return hm_error_wrap(rc, "recall: text model");
    m->k = m->model.svd.k;
    /* the searched items: the text_items most popular kept items */
    double *pop = hm_xcalloc((size_t)na + 1, sizeof *pop);
    int32_t s = e->cutoff - 7 * (int32_t)e->p.text_weeks;
    recall_article_counts(e->ds, s > e->start ? s : e->start, e->cutoff, 7.0 * (double)e->p.text_weeks / 2,
                          pop, NULL);
    uint32_t want = (uint32_t)(e->p.text_items < (long)na ? e->p.text_items : (long)na), n = 0;
    uint32_t *items = hm_xmalloc_array((size_t)na + 1, sizeof *items);
    float *sc = hm_xmalloc_array((size_t)na + 1, sizeof *sc);
    for (uint32_t a = 0; a < na; a++)
        if (e->keep[a] && pop[a] > 0) {
            items[n] = a;
            sc[n++] = (float)pop[a];
        }
    m->doc_item = hm_xmalloc_array((size_t)want + 1, sizeof *m->doc_item);
    float *tmp = hm_xmalloc_array((size_t)want + 1, sizeof *tmp);
    m->n_docs = hm_select_top(items, sc, n, want, m->doc_item, tmp);
    free(tmp);
    free(items);
    free(sc);
    free(pop);
    m->item_doc = hm_xmalloc_array((size_t)na + 1, sizeof *m->item_doc);
    memset(m->item_doc, 0xff, ((size_t)na + 1) * sizeof *m->item_doc);
    m->docs = hm_xmalloc_array((size_t)m->n_docs * m->k + 1, sizeof *m->docs);
    for (uint32_t d = 0; d < m->n_docs; d++) {
        m->item_doc[m->doc_item[d]] = d;
        memcpy(m->docs + (size_t)d * m->k, m->model.svd.us + (size_t)m->doc_item[d] * m->k, m->k * sizeof(float));
    }
    return 0;
}

void recall_text_release(struct recall_textsim *m)
{
    text_model_release(&m->model);
    free(m->doc_item);
    free(m->item_doc);
    free(m->docs);
    memset(m, 0, sizeof *m);
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

int recall_text_batch(const struct recall_engine *e, const uint32_t *users, uint32_t n, uint32_t *ids,
                      float *scores, uint32_t *count)
{
    const struct recall_textsim *m = &e->text;
    uint32_t q = (uint32_t)e->p.query_items, k = m->k, top = (uint32_t)e->p.text_n;
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
    int rc = text_user_embed(m->model.svd.us, e->ds->articles.n, k, ptr, j.items, j.w, n, emb);
    if (!rc)
        rc = text_topn(emb, n, m->docs, m->n_docs, k, top, xptr, excl, ids, scores);
    if (!rc)
        for (uint32_t i = 0; i < n; i++) {
            uint32_t c = 0;
            if (ptr[i + 1] > ptr[i]) /* customers without history get no text candidates */
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

uint32_t recall_text_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                          uint32_t *items, float *scores)
{
    (void)e;
    (void)c;
    if (s->text_n) {
        memcpy(items, s->text_items, s->text_n * sizeof *items);
        memcpy(scores, s->text_scores, s->text_n * sizeof *scores);
    }
    return s->text_n;
}
