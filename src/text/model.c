/* The text model (TF-IDF + truncated SVD) and its binary artifact. */
#include "text/text.h"
#include "io/npy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void text_model_opts_default(struct text_model_opts *o)
{
    text_tfidf_opts_default(&o->tfidf);
    text_svd_opts_default(&o->svd);
    o->normalize = 1;
}

uint32_t text_hm_fields(struct text_field *f)
{
    static const char *names[TEXT_HM_NFIELDS] = {"type", "colour", "dept", "section",
                                                 "garment", "name", "desc"};
    for (uint32_t i = 0; i < TEXT_HM_NFIELDS; i++) {
        memset(&f[i], 0, sizeof f[i]);
        snprintf(f[i].name, sizeof f[i].name, "%s", names[i]);
        f[i].weight = 1;
        f[i].categorical = i < 5;
        f[i].prefixed = 0;
    }
    return TEXT_HM_NFIELDS;
}

const struct hm_setting text_settings[] = {
    {"text.dim", HM_SET_INT, offsetof(struct text_params, dim), "64", 2, 1024, 0,
     "SVD components of the TF-IDF article text embeddings"},
    {"text.seed", HM_SET_INT, offsetof(struct text_params, seed), "42", 0, 1e18, 0,
     "seed of the randomized SVD"},
};
const size_t text_n_settings = sizeof text_settings / sizeof text_settings[0];

void text_model_opts_from(struct text_model_opts *o, const struct text_params *p)
{
    text_model_opts_default(o);
    o->svd.k = (uint32_t)p->dim;
    o->svd.seed = (uint64_t)p->seed;
}

void text_model_release(struct text_model *m)
{
    text_tfidf_release(&m->tfidf);
    text_svd_release(&m->svd);
    memset(m, 0, sizeof *m);
}

int text_model_fit(struct text_model *m, const struct text_field *fields, uint32_t n_fields,
                   const char *const *cells, uint64_t n_docs, const struct text_model_opts *o)
{
    memset(m, 0, sizeof *m);
    struct text_csr a;
    int rc = text_tfidf_fit(&m->tfidf, fields, n_fields, cells, n_docs, &o->tfidf, &a);
    if (rc)
        return rc;
    rc = text_svd_fit(&a, &o->svd, &m->svd);
    text_csr_release(&a);
    if (rc) {
        text_model_release(m);
        return rc;
    }
    m->normalized = o->normalize != 0;
    if (m->normalized)
        text_l2_normalize_rows(m->svd.us, m->svd.n_rows, m->svd.k);
    return 0;
}

int text_model_embed(const struct text_model *m, const char *const *cells, uint64_t n_docs,
                     float *out)
{
    struct text_csr a;
    int rc = text_tfidf_transform(&m->tfidf, cells, n_docs, &a);
    if (rc)
        return rc;
    text_svd_project(&m->svd, &a, out);
    text_csr_release(&a);
    if (m->normalized)
        text_l2_normalize_rows(out, n_docs, m->svd.k);
    return 0;
}

int text_model_save_npy(const struct text_model *m, const char *path)
{
    return io_npy_write(path, m->svd.us, m->svd.n_rows, m->svd.k);
}

/* ---- artifact ------------------------------------------------------------------- */
/*
 * Layout (little-endian, see docs/text.md):
 *   header   magic "HMTEXTMD", u32 version, u32 n_fields, u64 n_docs, u64 n_terms, u32 k,
 *            u32 normalized, u64 arena_len, u64 idf_docs                       (56 bytes)
 *   options  tokenizer, tf-idf and svd options                                   (56 bytes)
 *   fields   n_fields x {char name[32], f32 weight, u32 categorical, u32 prefixed}
 *   vocab    u64 offs[n_terms + 1], arena_len bytes
 *   df u32[n_terms], idf f32[n_terms], s f32[k], vt f32[k * n_terms], us f32[n_docs * k]
 *   checksum u64: hm_hash64 chained over 1 MiB blocks of everything before it
 */
#define MAGIC "HMTEXTMD"
#define VERSION 1u
#define HEADER_BYTES 56
#define OPTS_BYTES 56
#define FIELD_BYTES 44
#define BLOCK ((size_t)1 << 20)
#define HASH_SEED 0x686d746578ULL

struct awr {
    struct hm_awriter w;
    uint8_t *buf;      /* (BLOCK) */
    size_t n;
    uint64_t h;
};

static void awr_flush(struct awr *a)
{
    if (a->n == 0)
        return;
    a->h = hm_hash64(a->buf, a->n, a->h);
    hm_awriter_write(&a->w, a->buf, a->n);
    a->n = 0;
}

static void awr_put(struct awr *a, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        size_t take = BLOCK - a->n < len ? BLOCK - a->n : len;
        memcpy(a->buf + a->n, p, take);
        a->n += take;
        p += take;
        len -= take;
        if (a->n == BLOCK)
            awr_flush(a);
    }
}

static void put_u32(struct awr *a, uint32_t v) { awr_put(a, &v, 4); }
static void put_u64(struct awr *a, uint64_t v) { awr_put(a, &v, 8); }
static void put_i32(struct awr *a, int32_t v) { awr_put(a, &v, 4); }
static void put_f64(struct awr *a, double v) { awr_put(a, &v, 8); }

int text_model_save(const struct text_model *m, const char *path)
{
    const struct text_tfidf *t = &m->tfidf;
    const struct text_svd *s = &m->svd;
    uint64_t n_terms = t->vocab.n_terms;
    if (s->n_cols != n_terms)
        return hm_error(HM_EINVAL, "text: model has %llu terms but %llu component columns",
                        (unsigned long long)n_terms, (unsigned long long)s->n_cols);
    struct awr a = {.buf = hm_xmalloc(BLOCK), .n = 0, .h = HASH_SEED};
    int rc = hm_awriter_open(&a.w, path);
    if (rc) {
        free(a.buf);
        return rc;
    }
    awr_put(&a, MAGIC, 8);
    put_u32(&a, VERSION);
    put_u32(&a, t->n_fields);
    put_u64(&a, s->n_rows);
    put_u64(&a, n_terms);
    put_u32(&a, s->k);
    put_u32(&a, (uint32_t)m->normalized);
    put_u64(&a, t->vocab.arena_len);
    put_u64(&a, t->n_docs);
    /* options */
    put_i32(&a, t->opts.tok.min_len);
    put_i32(&a, t->opts.tok.stop_words);
    put_u32(&a, t->opts.min_df);
    put_u32(&a, t->opts.max_terms);
    put_f64(&a, t->opts.max_df);
    put_i32(&a, t->opts.sublinear_tf);
    put_i32(&a, t->opts.smooth_idf);
    put_i32(&a, t->opts.normalize);
    put_u32(&a, 0); /* reserved */
    put_u64(&a, 0); /* reserved */
    put_u64(&a, 0); /* reserved */
    for (uint32_t f = 0; f < t->n_fields; f++) {
        awr_put(&a, t->fields[f].name, sizeof t->fields[f].name);
        awr_put(&a, &t->fields[f].weight, 4);
        put_u32(&a, (uint32_t)t->fields[f].categorical);
        put_u32(&a, (uint32_t)t->fields[f].prefixed);
    }
    awr_put(&a, t->vocab.offs, (n_terms + 1) * 8);
    awr_put(&a, t->vocab.arena, t->vocab.arena_len);
    awr_put(&a, t->df, n_terms * 4);
    awr_put(&a, t->idf, n_terms * 4);
    awr_put(&a, s->s, (size_t)s->k * 4);
    awr_put(&a, s->vt, (size_t)s->k * n_terms * 4);
    awr_put(&a, s->us, (size_t)s->n_rows * s->k * 4);
    awr_flush(&a);
    uint64_t h = a.h;
    hm_awriter_write(&a.w, &h, 8);
    free(a.buf);
    return hm_awriter_commit(&a.w);
}

/* ---- load ------------------------------------------------------------------------ */

struct rd {
    const uint8_t *p;
};

static uint32_t get_u32(struct rd *r) { uint32_t v; memcpy(&v, r->p, 4); r->p += 4; return v; }
static uint64_t get_u64(struct rd *r) { uint64_t v; memcpy(&v, r->p, 8); r->p += 8; return v; }
static int32_t get_i32(struct rd *r) { int32_t v; memcpy(&v, r->p, 4); r->p += 4; return v; }
static double get_f64(struct rd *r) { double v; memcpy(&v, r->p, 8); r->p += 8; return v; }
static void *get_copy(struct rd *r, size_t len)
{
    void *d = hm_xmalloc(len ? len : 1);
    memcpy(d, r->p, len);
    r->p += len;
    return d;
}

/* a * b + c without overflow, or UINT64_MAX */
static uint64_t mul_add(uint64_t a, uint64_t b, uint64_t c)
{
    if (b && a > (UINT64_MAX - c) / b)
        return UINT64_MAX;
    return a * b + c;
}

int text_model_load(struct text_model *m, const char *path)
{
    memset(m, 0, sizeof *m);
    struct hm_map map;
    int rc = hm_map_file(&map, path);
    if (rc)
        return rc;
    const uint8_t *d = map.data;
    size_t size = map.size;
#define FAIL(...) do { rc = hm_error(HM_EFORMAT, __VA_ARGS__); goto out; } while (0)
    if (size < 8 || memcmp(d, MAGIC, 8) != 0)
        FAIL("'%s' is not an hmrec text model (bad magic)", path);
    if (size < HEADER_BYTES + OPTS_BYTES + 8)
        FAIL("'%s': truncated text model (%zu bytes, the header alone needs %d)", path, size,
             HEADER_BYTES + OPTS_BYTES + 8);
    struct rd r = {d + 8};
    uint32_t version = get_u32(&r);
    if (version != VERSION)
        FAIL("'%s': text model format version %u, this build reads version %u", path, version,
             VERSION);
    uint32_t n_fields = get_u32(&r);
    uint64_t n_docs = get_u64(&r), n_terms = get_u64(&r);
    uint32_t k = get_u32(&r), normalized = get_u32(&r);
    uint64_t arena_len = get_u64(&r), idf_docs = get_u64(&r);
    if (n_fields == 0 || n_fields > 1024 || k == 0 || k > 65536 || n_terms >= UINT32_MAX - 1 ||
        normalized > 1)
        FAIL("'%s': corrupted text model header (fields %u, k %u, terms %llu)", path, n_fields, k,
             (unsigned long long)n_terms);
    /* expected size */
    uint64_t need = HEADER_BYTES + OPTS_BYTES;
    need = mul_add(n_fields, FIELD_BYTES, need);
    need = mul_add(n_terms + 1, 8, need);
    need = mul_add(arena_len, 1, need);
    need = mul_add(n_terms, 8, need);
    need = mul_add(k, 4, need);
    need = mul_add(mul_add(k, n_terms, 0), 4, need);
    need = mul_add(mul_add(n_docs, k, 0), 4, need);
    need = mul_add(1, 8, need);
    if (need == UINT64_MAX || size < need)
        FAIL("'%s': truncated text model (%zu bytes, the header promises %llu)", path, size,
             (unsigned long long)need);
    if (size > need)
        FAIL("'%s': text model has %llu unexpected trailing bytes", path,
             (unsigned long long)(size - need));
    uint64_t h = HASH_SEED;
    for (size_t off = 0; off < size - 8; off += BLOCK)
        h = hm_hash64(d + off, size - 8 - off < BLOCK ? size - 8 - off : BLOCK, h);
    uint64_t stored;
    memcpy(&stored, d + size - 8, 8);
    if (h != stored)
        FAIL("'%s': text model checksum mismatch (corrupted file)", path);

    struct text_tfidf *t = &m->tfidf;
    struct text_tfidf_opts *o = &t->opts;
    o->tok.min_len = get_i32(&r);
    o->tok.stop_words = get_i32(&r);
    o->min_df = get_u32(&r);
    o->max_terms = get_u32(&r);
    o->max_df = get_f64(&r);
    o->sublinear_tf = get_i32(&r);
    o->smooth_idf = get_i32(&r);
    o->normalize = get_i32(&r);
    r.p += 4 + 16;
    t->n_fields = n_fields;
    t->n_docs = idf_docs;
    t->fields = hm_xcalloc(n_fields, sizeof *t->fields);
    for (uint32_t f = 0; f < n_fields; f++) {
        memcpy(t->fields[f].name, r.p, sizeof t->fields[f].name);
        r.p += sizeof t->fields[f].name;
        if (t->fields[f].name[sizeof t->fields[f].name - 1] != 0)
            FAIL("'%s': field %u has an unterminated name", path, f);
        memcpy(&t->fields[f].weight, r.p, 4);
        r.p += 4;
        t->fields[f].categorical = (int)get_u32(&r);
        t->fields[f].prefixed = (int)get_u32(&r);
    }
    const uint8_t *offs = r.p;
    r.p += (n_terms + 1) * 8;
    const char *arena = (const char *)r.p;
    r.p += arena_len;
    text_vocab_init(&t->vocab);
    uint64_t prev = 0;
    for (uint64_t i = 0; i <= n_terms; i++) {
        uint64_t x;
        memcpy(&x, offs + i * 8, 8);
        if ((i == 0 && x != 0) || x < prev || x > arena_len || (i == n_terms && x != arena_len))
            FAIL("'%s': corrupted vocabulary offsets at term %llu", path, (unsigned long long)i);
        if (i > 0) {
            int added;
            text_vocab_add(&t->vocab, arena + prev, x - prev, &added);
            if (!added)
                FAIL("'%s': duplicate vocabulary term %llu", path, (unsigned long long)i - 1);
        }
        prev = x;
    }
    t->df = get_copy(&r, n_terms * 4);
    t->idf = get_copy(&r, n_terms * 4);
    struct text_svd *s = &m->svd;
    s->k = k;
    s->n_rows = n_docs;
    s->n_cols = n_terms;
    s->s = get_copy(&r, (size_t)k * 4);
    s->vt = get_copy(&r, (size_t)k * n_terms * 4);
    s->us = get_copy(&r, (size_t)n_docs * k * 4);
    m->normalized = (int)normalized;
    HM_ASSERT(r.p == d + size - 8);
    rc = 0;
out:
#undef FAIL
    if (rc)
        text_model_release(m);
    hm_map_release(&map);
    return rc;
}
