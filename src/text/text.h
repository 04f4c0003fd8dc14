/* text: article text embeddings. A tokenizer with per-field configuration, a vocabulary,
 * a TF-IDF matrix (CSR), a truncated SVD by randomized range finding (Halko, Martinsson and
 * Tropp 2011) over that sparse matrix, user embeddings from purchases, cosine top-N search,
 * and a checksummed model artifact.
 *
 * The module depends on core only: its input is plain arrays of strings (one cell per
 * document and field) and integers. Invariants and ownership:
 * - Term ids are dense 0..n_terms-1, in byte order of the term text (so they do not depend on
 *   the order documents were read or on the thread count).
 * - Every array a struct points to is owned by that struct and freed by its _release.
 * - Results are identical for the same input, options and seed whatever hm_threads() is
 *   (each output row is computed by one thread in a fixed order). LAPACK/BLAS calls run with
 *   OpenBLAS's own threads; see docs/text.md for what that means for bit-identity.
 */
#ifndef HM_TEXT_H
#define HM_TEXT_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

/* ---- tokenizer (tokenize.c) ---------------------------------------------- */

/* Tokens are maximal runs of ASCII letters, ASCII digits and bytes >= 0x80 (so UTF-8
 * letters such as "é" stay inside their word); ASCII letters are lower-cased; every other
 * byte separates tokens. */
struct text_tok_opts {
    int min_len;     /* tokens shorter than this many bytes are dropped (default 2) */
    int stop_words;  /* 1: drop the built-in English stop words (default 1) */
};
void text_tok_opts_default(struct text_tok_opts *o);

/* Called once per token; tok is not NUL-terminated. A non-zero return stops the scan and is
 * returned by text_tokenize. */
typedef int (*text_token_fn)(const char *tok, size_t len, void *ud);

/* Splits s[0..len) into tokens (lower-cased copies of at most TEXT_MAX_TOKEN bytes; longer
 * runs are cut there) and calls fn for each kept one. Returns 0 or fn's non-zero value. */
#define TEXT_MAX_TOKEN 64
int text_tokenize(const char *s, size_t len, const struct text_tok_opts *o, text_token_fn fn,
                  void *ud);
/* 1 when the lower-case token is in the built-in English stop-word list. */
int text_is_stop_word(const char *tok, size_t len);

/* How one text field (column) of a document becomes terms. */
struct text_field {
    char name[32];    /* "type", "desc": the prefix of this field's terms */
    float weight;     /* each occurrence adds `weight` to its term's count (default 1) */
    int categorical;  /* 1: the whole value is one term "name=value" (lower-cased, runs of
                         separators become one '_'), e.g. "type=swimwear_bottom" */
    int prefixed;     /* words only. 1: terms are "name:word" (kept apart from other fields);
                         0: the bare word, shared with every other unprefixed field */
};

/* ---- vocabulary (vocab.c) ------------------------------------------------- */

/* Term text -> dense id. Open addressing (linear probing) over a power-of-two slot array;
 * the term bytes live in one arena, so adding a term allocates nothing per token. */
struct text_vocab {
    char *arena;          /* (arena_len) term bytes, back to back, no terminators */
    size_t arena_len, arena_cap;
    uint64_t *offs;       /* (n_terms + 1) term t is arena[offs[t] .. offs[t+1]) */
    uint32_t n_terms, offs_cap;
    uint32_t *slots;      /* (n_slots) term id + 1, 0 = empty */
    uint64_t n_slots;     /* power of two, at most half full */
};
void text_vocab_init(struct text_vocab *v);
void text_vocab_release(struct text_vocab *v);
/* The id of tok, adding it when new (*added = 1). */
uint32_t text_vocab_add(struct text_vocab *v, const char *tok, size_t len, int *added);
/* The id of tok, or -1. */
int64_t text_vocab_find(const struct text_vocab *v, const char *tok, size_t len);
/* Term t's bytes (not NUL-terminated) and length. */
const char *text_vocab_term(const struct text_vocab *v, uint32_t t, size_t *len);

/* ---- TF-IDF (tfidf.c) ------------------------------------------------------- */

/* A sparse matrix in compressed sparse row form. */
struct text_csr {
    uint64_t n_rows, n_cols;
    uint64_t *rowptr;    /* (n_rows + 1) */
    uint32_t *col;       /* (nnz) column ids, increasing within a row */
    float *val;          /* (nnz) */
};
void text_csr_release(struct text_csr *m);
/* The transpose (n_cols x n_rows), built in O(nnz); rows stay sorted. */
void text_csr_transpose(const struct text_csr *a, struct text_csr *at);

struct text_tfidf_opts {
    struct text_tok_opts tok;
    uint32_t min_df;      /* drop terms in fewer documents (default 2) */
    double max_df;        /* drop terms in more than this share of documents (default 1.0) */
    uint32_t max_terms;   /* keep the max_terms most frequent (by df; ties: term bytes); 0 = all */
    int sublinear_tf;     /* tf -> 1 + ln(tf) when tf > 1 (default 1) */
    int smooth_idf;       /* idf = ln((1+n)/(1+df)) + 1, else ln(n/df) + 1 (default 1) */
    int normalize;        /* L2-normalise each row (default 1) */
};
void text_tfidf_opts_default(struct text_tfidf_opts *o);

/* The vocabulary and idf learnt from a corpus: enough to turn any document into its row. */
struct text_tfidf {
    struct text_field *fields;   /* (n_fields) */
    uint32_t n_fields;
    struct text_tfidf_opts opts;
    struct text_vocab vocab;     /* ids in term byte order */
    uint32_t *df;                /* (n_terms) documents containing the term */
    float *idf;                  /* (n_terms) */
    uint64_t n_docs;             /* documents the idf was learnt from */
};

/* Learns vocabulary and idf from cells and writes the TF-IDF matrix (n_docs x n_terms).
 * cells: (n_docs, n_fields) row-major, NULL or "" for an empty value. Empty documents give
 * empty rows. Parallel over documents where it helps. */
int text_tfidf_fit(struct text_tfidf *t, const struct text_field *fields, uint32_t n_fields,
                   const char *const *cells, uint64_t n_docs, const struct text_tfidf_opts *o,
                   struct text_csr *out);
void text_tfidf_release(struct text_tfidf *t);
/* Rows for new documents with the learnt vocabulary and idf (unknown terms are ignored). */
int text_tfidf_transform(const struct text_tfidf *t, const char *const *cells, uint64_t n_docs,
                         struct text_csr *out);

/* ---- truncated SVD (svd.c) ------------------------------------------------ */

struct text_svd_opts {
    uint32_t k;           /* components kept (default 64) */
    uint32_t oversample;  /* extra random columns (default 10) */
    uint32_t power_iters; /* subspace (power) iterations, each re-orthonormalised (default 4) */
    uint64_t seed;        /* Gaussian test matrix seed (default 42) */
};
void text_svd_opts_default(struct text_svd_opts *o);

/* A ~= U diag(s) Vt with the k largest singular values. Signs are fixed so that the entry of
 * largest magnitude in each row of vt is positive. */
struct text_svd {
    uint32_t k;           /* may be less than asked when A is smaller */
    uint64_t n_rows, n_cols;
    float *s;             /* (k) singular values, decreasing */
    float *us;            /* (n_rows, k) row-major: U diag(s), the document embeddings */
    float *vt;            /* (k, n_cols) row-major: the term components, orthonormal rows */
};
int text_svd_fit(const struct text_csr *a, const struct text_svd_opts *o, struct text_svd *out);
void text_svd_release(struct text_svd *s);
/* Projects rows of a (n x n_cols) onto the components: out = a vt^T (n x k). */
void text_svd_project(const struct text_svd *s, const struct text_csr *a, float *out);

/* ---- embeddings and search (search.c) --------------------------------------- */

/* Scales each of the n rows of x (n x dim) to unit L2 norm (zero rows stay zero). */
void text_l2_normalize_rows(float *x, size_t n, size_t dim);

/* User embeddings: for user u, the weighted mean of the doc embeddings of its purchases
 * items[ptr[u] .. ptr[u+1]) with weights w (NULL = all 1), L2-normalised. A user without
 * purchases (or whose weights sum to 0) gets a zero vector.
 * emb: (n_docs, dim); out: (n_users, dim). Returns HM_EINVAL on an item id >= n_docs. */
int text_user_embed(const float *emb, uint64_t n_docs, uint32_t dim, const uint64_t *ptr,
                    const uint32_t *items, const float *w, uint64_t n_users, float *out);

/* For each query row q, the n_top docs with the highest dot product q . doc (cosine when
 * both are unit length), best first; ties go to the lower doc id. Docs listed in
 * excl[excl_ptr[q] .. excl_ptr[q+1]) are skipped (excl_ptr NULL = exclude nothing).
 * Slots beyond the number of eligible docs get id UINT32_MAX and score -INFINITY (a doc
 * whose score is NaN or -INFINITY is never returned).
 * queries: (n_q, dim); docs: (n_docs, dim); top_ids, top_scores: (n_q, n_top).
 * Parallel over blocks of queries (cblas_sgemm per block, with OpenBLAS held to one thread
 * during the call), so results do not depend on the thread count. */
int text_topn(const float *queries, uint64_t n_q, const float *docs, uint64_t n_docs,
              uint32_t dim, uint32_t n_top, const uint64_t *excl_ptr, const uint32_t *excl,
              uint32_t *top_ids, float *top_scores);

/* text_topn over a subset of the docs: row i of docs (n_docs, dim) is doc doc_ids[i]
 * (strictly increasing, e.g. the articles sold recently gathered from the full matrix).
 * Results and exclusions use those ids; ties go to the lower id. */
int text_topn_subset(const float *queries, uint64_t n_q, const float *docs,
                     const uint32_t *doc_ids, uint64_t n_docs, uint32_t dim, uint32_t n_top,
                     const uint64_t *excl_ptr, const uint32_t *excl, uint32_t *top_ids,
                     float *top_scores);

/* ---- the model and its artifact (model.c) ------------------------------------ */

/* Everything needed to embed the catalogue and new documents. */
struct text_model {
    struct text_tfidf tfidf;
    struct text_svd svd;
    int normalized;       /* 1: svd.us rows were L2-normalised after the SVD */
};

struct text_model_opts {
    struct text_tfidf_opts tfidf;
    struct text_svd_opts svd;
    int normalize;        /* L2-normalise the document embeddings (default 1) */
};
void text_model_opts_default(struct text_model_opts *o);

/* The H&M articles.csv fields in the order text_hm_fields fills them: product_type_name,
 * colour_group_name, department_name, section_name, garment_group_name (categorical, weight
 * 1), prod_name and detail_desc (words, shared, weight 1). Returns the count (7). */
#define TEXT_HM_NFIELDS 7
uint32_t text_hm_fields(struct text_field *fields);

/* TF-IDF then truncated SVD over the cells (n_docs, n_fields). */
int text_model_fit(struct text_model *m, const struct text_field *fields, uint32_t n_fields,
                   const char *const *cells, uint64_t n_docs, const struct text_model_opts *o);
void text_model_release(struct text_model *m);
/* Embeds new documents (n_docs, n_fields) into out (n_docs, k), normalised like the model. */
int text_model_embed(const struct text_model *m, const char *const *cells, uint64_t n_docs,
                     float *out);

/* The text stage's settings: the article text embeddings every later stage reads. */
struct text_params {
    long dim;    /* SVD components (64) */
    long seed;   /* seed of the randomized SVD (42) */
};
extern const struct hm_setting text_settings[];
extern const size_t text_n_settings;
/* Model options from the settings (defaults otherwise). */
void text_model_opts_from(struct text_model_opts *o, const struct text_params *p);

/* Binary artifact (see docs/text.md): magic, version, counts, sections, checksum; written
 * atomically. Loading validates everything and fails with HM_EFORMAT and a message naming
 * the file and the problem on a foreign, truncated or corrupted file. */
int text_model_save(const struct text_model *m, const char *path);
int text_model_load(struct text_model *m, const char *path);
/* The document embeddings (n_docs, k) as float32 .npy. */
int text_model_save_npy(const struct text_model *m, const char *path);

#endif
