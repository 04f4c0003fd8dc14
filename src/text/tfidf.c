/* TF-IDF: documents (cells of several fields) -> terms -> vocabulary with document
 * frequencies -> idf -> L2-normalised CSR rows. */
#include "text/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void text_tfidf_opts_default(struct text_tfidf_opts *o)
{
    text_tok_opts_default(&o->tok);
    o->min_df = 2;
    o->max_df = 1.0;
    o->max_terms = 0;
    o->sublinear_tf = 1;
    o->smooth_idf = 1;
    o->normalize = 1;
}

void text_csr_release(struct text_csr *m)
{
    free(m->rowptr);
    free(m->col);
    free(m->val);
    memset(m, 0, sizeof *m);
}

void text_csr_transpose(const struct text_csr *a, struct text_csr *at)
{
    uint64_t nnz = a->rowptr[a->n_rows];
    at->n_rows = a->n_cols;
    at->n_cols = a->n_rows;
    at->rowptr = hm_xcalloc(a->n_cols + 1, sizeof *at->rowptr);
    at->col = hm_xmalloc_array(nnz ? nnz : 1, sizeof *at->col);
    at->val = hm_xmalloc_array(nnz ? nnz : 1, sizeof *at->val);
    for (uint64_t e = 0; e < nnz; e++)
        at->rowptr[a->col[e] + 1]++;
    for (uint64_t c = 0; c < a->n_cols; c++)
        at->rowptr[c + 1] += at->rowptr[c];
    uint64_t *next = hm_xmalloc_array(a->n_cols + 1, sizeof *next);
    memcpy(next, at->rowptr, (a->n_cols + 1) * sizeof *next);
    for (uint64_t r = 0; r < a->n_rows; r++)
        for (uint64_t e = a->rowptr[r]; e < a->rowptr[r + 1]; e++) {
            uint64_t d = next[a->col[e]]++;
            at->col[d] = (uint32_t)r;
            at->val[d] = a->val[e];
        }
    free(next);
}

/* ---- documents -> terms ------------------------------------------------------ */

struct entry {
    uint32_t id;   /* term id (raw while fitting, final when transforming) */
    float w;       /* weighted count */
};

struct entries {
    struct entry *e;
    uint64_t n, cap;
};

static void entries_push(struct entries *es, uint32_t id, float w)
{
    HM_GROW(es->e, es->cap, es->n + 1);
    es->e[es->n++] = (struct entry){id, w};
}

typedef void (*term_fn)(const char *term, size_t len, float w, void *ud);

struct word_ctx {
    const struct text_field *f;
    term_fn fn;
    void *ud;
};

static int on_word(const char *tok, size_t len, void *ud)
{
    struct word_ctx *c = ud;
    if (!c->f->prefixed) {
        c->fn(tok, len, c->f->weight, c->ud);
        return 0;
    }
    char buf[sizeof c->f->name + 1 + TEXT_MAX_TOKEN];
    size_t nl = strnlen(c->f->name, sizeof c->f->name);
    memcpy(buf, c->f->name, nl);
    buf[nl] = ':';
    memcpy(buf + nl + 1, tok, len);
    c->fn(buf, nl + 1 + len, c->f->weight, c->ud);
    return 0;
}

/* Emits the terms of one document (its n_fields cells) through fn. */
#define CAT_MAX 256
static void doc_terms(const struct text_field *fields, uint32_t n_fields,
                      const struct text_tok_opts *tok, const char *const *cells, term_fn fn,
                      void *ud)
{
    for (uint32_t f = 0; f < n_fields; f++) {
        const char *s = cells[f];
        if (!s || !*s || fields[f].weight == 0)
            continue;
        if (!fields[f].categorical) {
            struct word_ctx c = {&fields[f], fn, ud};
            text_tokenize(s, strlen(s), tok, on_word, &c);
            continue;
        }
        char buf[sizeof fields[f].name + 1 + CAT_MAX];
        size_t nl = strnlen(fields[f].name, sizeof fields[f].name);
        memcpy(buf, fields[f].name, nl);
        buf[nl] = '=';
        size_t n = nl + 1, start = n;
        int sep = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p && n - start < CAT_MAX; p++) {
            unsigned char c = *p;
            int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c >= 0x80;
            if (!keep) {
                sep = 1;
                continue;
            }
            if (sep && n > start)
                buf[n++] = '_';
            sep = 0;
            if (n - start < CAT_MAX)
                buf[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        if (n > start)
            fn(buf, n, fields[f].weight, ud);
    }
}

struct fit_ctx {
    struct text_vocab *vocab;
    struct entries *es;
};

static void on_fit_term(const char *term, size_t len, float w, void *ud)
{
    struct fit_ctx *c = ud;
    entries_push(c->es, text_vocab_add(c->vocab, term, len, NULL), w);
}

struct find_ctx {
    const struct text_vocab *vocab;
    struct entries *es;
};

static void on_find_term(const char *term, size_t len, float w, void *ud)
{
    struct find_ctx *c = ud;
    int64_t id = text_vocab_find(c->vocab, term, len);
    if (id >= 0)
        entries_push(c->es, (uint32_t)id, w);
}

/* ---- per-document merge and rows ---------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
    uint32_t x = ((const struct entry *)a)->id, y = ((const struct entry *)b)->id;
    return (x > y) - (x < y);
}

/* Sorts each document's entries by id and sums duplicates in place; ndoc[d] = unique count. */
struct merge_job {
    struct entry *e;
    const uint64_t *ptr;
    uint64_t *nuniq;     /* (n_docs) */
    const int64_t *map;  /* raw id -> final id or -1, or NULL */
};

static int merge_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct merge_job *j = ud;
    for (size_t d = begin; d < end; d++) {
        struct entry *e = j->e + j->ptr[d];
        uint64_t n = j->ptr[d + 1] - j->ptr[d], m = 0;
        if (j->map) {
            for (uint64_t i = 0; i < n; i++)
                if (j->map[e[i].id] >= 0)
                    e[m++] = (struct entry){(uint32_t)j->map[e[i].id], e[i].w};
            n = m;
            m = 0;
        }
        qsort(e, n, sizeof *e, cmp_entry);
        for (uint64_t i = 0; i < n; i++) {
            if (m > 0 && e[m - 1].id == e[i].id)
                e[m - 1].w += e[i].w;
            else
                e[m++] = e[i];
        }
        j->nuniq[d] = m;
    }
    return 0;
}

struct rows_job {
    const struct entry *e;
    const uint64_t *ptr;
    const struct text_tfidf_opts *o;
    const float *idf;
    struct text_csr *out;
};

static int rows_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct rows_job *j = ud;
    for (size_t d = begin; d < end; d++) {
        const struct entry *e = j->e + j->ptr[d];
        uint64_t r0 = j->out->rowptr[d], n = j->out->rowptr[d + 1] - r0;
        double ss = 0;
        for (uint64_t i = 0; i < n; i++) {
            double tf = e[i].w;
            if (j->o->sublinear_tf && tf > 1)
                tf = 1 + log(tf);
            double v = tf * j->idf[e[i].id];
            j->out->col[r0 + i] = e[i].id;
            j->out->val[r0 + i] = (float)v;
            ss += v * v;
        }
        if (j->o->normalize && ss > 0) {
            double inv = 1 / sqrt(ss);
            for (uint64_t i = 0; i < n; i++) {
                double tf = e[i].w;
                if (j->o->sublinear_tf && tf > 1)
                    tf = 1 + log(tf);
                j->out->val[r0 + i] = (float)(tf * j->idf[e[i].id] * inv);
            }
        }
    }
    return 0;
}

/* Merges the per-document entries (ptr over es) and writes the CSR rows. */
static void build_rows(struct entries *es, const uint64_t *ptr, uint64_t n_docs,
                       const int64_t *map, const float *idf, uint32_t n_terms,
                       const struct text_tfidf_opts *o, struct text_csr *out, uint64_t *nuniq)
{
    struct merge_job mj = {es->e, ptr, nuniq, map};
    hm_parallel_for(0, n_docs, merge_range, &mj);
    out->n_rows = n_docs;
    out->n_cols = n_terms;
    out->rowptr = hm_xmalloc_array(n_docs + 1, sizeof *out->rowptr);
    out->rowptr[0] = 0;
    for (uint64_t d = 0; d < n_docs; d++)
        out->rowptr[d + 1] = out->rowptr[d] + nuniq[d];
    uint64_t nnz = out->rowptr[n_docs];
    out->col = hm_xmalloc_array(nnz ? nnz : 1, sizeof *out->col);
    out->val = hm_xmalloc_array(nnz ? nnz : 1, sizeof *out->val);
    struct rows_job rj = {es->e, ptr, o, idf, out};
    hm_parallel_for(0, n_docs, rows_range, &rj);
}

/* ---- fit ------------------------------------------------------------------------ */

static int cmp_bytes(const struct text_vocab *v, uint32_t a, uint32_t b)
{
    size_t la, lb;
    const char *sa = text_vocab_term(v, a, &la), *sb = text_vocab_term(v, b, &lb);
    int c = memcmp(sa, sb, la < lb ? la : lb);
    if (c)
        return c;
    return (la > lb) - (la < lb);
}

static void sort_terms(uint32_t *ids, size_t n, const struct text_vocab *v, const uint32_t *df,
                       int by_df);

void text_tfidf_release(struct text_tfidf *t)
{
    free(t->fields);
    text_vocab_release(&t->vocab);
    free(t->df);
    free(t->idf);
    memset(t, 0, sizeof *t);
}

int text_tfidf_fit(struct text_tfidf *t, const struct text_field *fields, uint32_t n_fields,
                   const char *const *cells, uint64_t n_docs, const struct text_tfidf_opts *o,
                   struct text_csr *out)
{
    memset(t, 0, sizeof *t);
    memset(out, 0, sizeof *out);
    if (n_fields == 0)
        return hm_error(HM_EINVAL, "text: no fields");
    if (o->max_df <= 0 || o->max_df > 1)
        return hm_error(HM_EINVAL, "text: max_df must be in (0, 1], got %g", o->max_df);
    for (uint32_t f = 0; f < n_fields; f++)
        if (!(fields[f].weight >= 0) || !isfinite(fields[f].weight))
            return hm_error(HM_EINVAL, "text: field '%s' has a bad weight %g", fields[f].name,
                            (double)fields[f].weight);

    struct hm_progress pr;
    hm_progress_begin(&pr, "text: tokenize", n_docs);
    struct text_vocab raw;
    text_vocab_init(&raw);
    struct entries es = {0};
    uint64_t *ptr = hm_xmalloc_array(n_docs + 1, sizeof *ptr);
    ptr[0] = 0;
    struct fit_ctx fc = {&raw, &es};
    for (uint64_t d = 0; d < n_docs; d++) {
        doc_terms(fields, n_fields, &o->tok, cells + d * n_fields, on_fit_term, &fc);
        ptr[d + 1] = es.n;
        if ((d & 1023) == 1023)
            hm_progress_add(&pr, 1024);
    }
    hm_progress_end(&pr);

    /* document frequencies over unique (doc, raw term) pairs */
    uint64_t *nuniq = hm_xmalloc_array(n_docs ? n_docs : 1, sizeof *nuniq);
    struct merge_job mj = {es.e, ptr, nuniq, NULL};
    hm_parallel_for(0, n_docs, merge_range, &mj);
    uint32_t *rawdf = hm_xcalloc(raw.n_terms ? raw.n_terms : 1, sizeof *rawdf);
    for (uint64_t d = 0; d < n_docs; d++)
        for (uint64_t i = 0; i < nuniq[d]; i++)
            rawdf[es.e[ptr[d] + i].id]++;
    /* compact each document's unique entries to the front of a new layout */
    uint64_t *uptr = hm_xmalloc_array(n_docs + 1, sizeof *uptr);
    uptr[0] = 0;
    for (uint64_t d = 0; d < n_docs; d++) {
        memmove(es.e + uptr[d], es.e + ptr[d], nuniq[d] * sizeof *es.e);
        uptr[d + 1] = uptr[d] + nuniq[d];
    }
    free(ptr);

    /* select terms */
    double max_count = o->max_df * (double)n_docs;
    uint32_t *keep = hm_xmalloc_array(raw.n_terms ? raw.n_terms : 1, sizeof *keep);
    size_t nk = 0;
    for (uint32_t r = 0; r < raw.n_terms; r++)
        if (rawdf[r] >= o->min_df && (double)rawdf[r] <= max_count + 1e-9)
            keep[nk++] = r;
    if (o->max_terms && nk > o->max_terms) {
        sort_terms(keep, nk, &raw, rawdf, 1);
        nk = o->max_terms;
    }
    sort_terms(keep, nk, &raw, rawdf, 0);

    int64_t *map = hm_xmalloc_array(raw.n_terms ? raw.n_terms : 1, sizeof *map);
    for (uint32_t r = 0; r < raw.n_terms; r++)
        map[r] = -1;
    text_vocab_init(&t->vocab);
    t->df = hm_xmalloc_array(nk ? nk : 1, sizeof *t->df);
    t->idf = hm_xmalloc_array(nk ? nk : 1, sizeof *t->idf);
    for (size_t i = 0; i < nk; i++) {
        size_t len;
        const char *s = text_vocab_term(&raw, keep[i], &len);
        text_vocab_add(&t->vocab, s, len, NULL);
        map[keep[i]] = (int64_t)i;
        uint32_t df = rawdf[keep[i]];
        t->df[i] = df;
        t->idf[i] = (float)(o->smooth_idf ? log((1.0 + (double)n_docs) / (1.0 + df)) + 1
                                          : log((double)n_docs / df) + 1);
    }
    t->fields = hm_xmalloc_array(n_fields, sizeof *t->fields);
    memcpy(t->fields, fields, n_fields * sizeof *fields);
    for (uint32_t f = 0; f < n_fields; f++)
        t->fields[f].name[sizeof t->fields[f].name - 1] = 0;
    t->n_fields = n_fields;
    t->opts = *o;
    t->n_docs = n_docs;

    build_rows(&es, uptr, n_docs, map, t->idf, (uint32_t)nk, o, out, nuniq);
    hm_debug("text: %llu docs, %u raw terms, %zu kept, %llu non-zeros",
             (unsigned long long)n_docs, raw.n_terms, nk,
             (unsigned long long)out->rowptr[n_docs]);

    free(map);
    free(keep);
    free(rawdf);
    free(uptr);
    free(nuniq);
    free(es.e);
    text_vocab_release(&raw);
    return 0;
}

int text_tfidf_transform(const struct text_tfidf *t, const char *const *cells, uint64_t n_docs,
                         struct text_csr *out)
{
    memset(out, 0, sizeof *out);
    struct entries es = {0};
    uint64_t *ptr = hm_xmalloc_array(n_docs + 1, sizeof *ptr);
    ptr[0] = 0;
    struct find_ctx fc = {&t->vocab, &es};
    for (uint64_t d = 0; d < n_docs; d++) {
        doc_terms(t->fields, t->n_fields, &t->opts.tok, cells + d * t->n_fields, on_find_term, &fc);
        ptr[d + 1] = es.n;
    }
    uint64_t *nuniq = hm_xmalloc_array(n_docs ? n_docs : 1, sizeof *nuniq);
    build_rows(&es, ptr, n_docs, NULL, t->idf, t->vocab.n_terms, &t->opts, out, nuniq);
    /* build_rows reads each document's entries from ptr[d]: merge left them there */
    free(nuniq);
    free(ptr);
    free(es.e);
    return 0;
}

/* ---- term ordering -------------------------------------------------------------- */

/* a before b: by bytes, or by df (decreasing) then bytes */
static int term_before(const struct text_vocab *v, const uint32_t *df, int by_df, uint32_t a,
                       uint32_t b)
{
    if (by_df && df[a] != df[b])
        return df[a] > df[b];
    return cmp_bytes(v, a, b) < 0;
}

/* Sorts term ids by bytes, or by df (decreasing) then bytes: a bottom-up merge sort (stable,
 * reentrant, no global comparator state). */
static void sort_terms(uint32_t *ids, size_t n, const struct text_vocab *v, const uint32_t *df,
                       int by_df)
{
    uint32_t *tmp = hm_xmalloc_array(n ? n : 1, sizeof *tmp);
    uint32_t *src = ids, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = term_before(v, df, by_df, src[j], src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        uint32_t *x = src;
        src = dst;
        dst = x;
    }
    if (src != ids)
        memcpy(ids, src, n * sizeof *ids);
    free(tmp);
}
