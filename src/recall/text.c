/* Text similarity: articles are embedded by the text stage (TF-IDF over their descriptive
 * text reduced by randomized truncated SVD, src/text; the engine's text_emb). A customer's
 * embedding is the recency x frequency weighted mean of their best history items; the
 * candidates are the searched articles (the most popular kept items) of highest cosine
 * similarity, in batches (sgemm). */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

struct textsim_params {
    struct recall_list_params list;
    long items;             /* most popular kept items searched (10000) */
    long weeks;             /* weeks of (decayed) sales that choose them (4) */
};
_Static_assert(sizeof(struct textsim_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct textsim_params, f)
static const struct hm_setting textsim_settings[] = {
    {"recall.text_n", HM_SET_INT, P(list.n), "30", 0, 255, 0, "text similarity: candidates per customer"},
    {"recall.text_items", HM_SET_INT, P(items), "10000", 1, 1e9, 0,
     "text similarity: most popular kept items searched"},
    {"recall.text_weeks", HM_SET_INT, P(weeks), "4", 1, 520, 0,
     "text similarity: weeks of (decayed) sales that choose the searched items"},
    {"recall.text_w", HM_SET_DOUBLE, P(list.w), "0.5", 0, 1e6, 0, "text similarity: merge weight"},
};
#undef P

/* The searched subset of the article embeddings (the most popular kept items). */
struct textsim_state {
    uint32_t n_docs;          /* searched articles */
    uint32_t *doc_item;       /* (n_docs) article row of each, ascending */
    uint32_t *item_doc;       /* (n_articles) doc of an article, UINT32_MAX when not searched */
    float *docs;              /* (n_docs, text_dim) their embeddings */
};

static void text_release(void *state)
{
    struct textsim_state *m = state;
    if (!m)
        return;
    free(m->doc_item);
    free(m->item_doc);
    free(m->docs);
    free(m);
}

static int text_init(const struct recall_engine *e, int s, void **state)
{
    const struct textsim_params *p = recall_params_of(&e->p, s);
    if (!e->text_emb)
        return hm_error(HM_EINVAL, "recall: the text strategy needs the article text embeddings "
                                   "(the text stage's text_emb.npy)");
    struct textsim_state *m = hm_xcalloc(1, sizeof *m);
    uint32_t na = e->ds->articles.n, k = e->text_dim;
    /* the searched items: the text_items most popular kept items */
    double *pop = hm_xcalloc((size_t)na + 1, sizeof *pop);
    int32_t from = e->cutoff - 7 * (int32_t)p->weeks;
    recall_article_counts(e->ds, from > e->start ? from : e->start, e->cutoff, 7.0 * (double)p->weeks / 2,
                          pop, NULL);
    uint32_t want = (uint32_t)(p->items < (long)na ? p->items : (long)na), n = 0;
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
    m->docs = hm_xmalloc_array((size_t)m->n_docs * k + 1, sizeof *m->docs);
    for (uint32_t d = 0; d < m->n_docs; d++) {
        m->item_doc[m->doc_item[d]] = d;
        memcpy(m->docs + (size_t)d * k, e->text_emb + (size_t)m->doc_item[d] * k, k * sizeof(float));
    }
    *state = m;
    return 0;
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

static int text_block(const struct recall_engine *e, int s, const uint32_t *users, uint32_t n, uint32_t *ids,
                      float *scores, uint32_t *count)
{
    const struct textsim_state *m = e->state[s];
    uint32_t q = (uint32_t)e->p.query_items, k = e->text_dim, top = (uint32_t)recall_list_of(&e->p, s)->n;
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
    int rc = text_user_embed(e->text_emb, e->ds->articles.n, k, ptr, j.items, j.w, n, emb);
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

const struct recall_strategy recall_text = {
    .name = "text",
    .help = "articles whose text embedding is closest to the customer's",
    .settings = textsim_settings,
    .n_settings = sizeof textsim_settings / sizeof textsim_settings[0],
    .params_size = sizeof(struct textsim_params),
    .needs = RECALL_NEEDS_TEXT,
    .init = text_init,
    .release = text_release,
    .block = text_block,
};
