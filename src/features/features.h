/* features: Stage 3 of the pipeline, the features of every candidate (docs/features.md).
 *
 * Input: one block of merged candidates as Stage 2 produces them (struct recall_candidates:
 * customers with their rows contiguous, each row an article with every strategy's flag,
 * score and rank), the data set, the per-article text embeddings and, when there are any,
 * the per-article image embeddings. Output: one row of feat_n_cols() floats per candidate,
 * row-major, never NaN or infinite (every missing value is imputed by a documented rule).
 *
 * Columns come in groups, always in this order (feat_columns() lists them all):
 *   user       FEAT_NUSER (43): depend on the customer only (the network's user tower)
 *   item       FEAT_NITEM (29): depend on the article only (the network's item tower)
 *   user-item  the customer's history against the article
 *   text       the article's text embedding against the customer's text profile
 *   image      the same with the image embeddings, and a missing-embedding flag
 *   recall     every recall strategy's flag, score and reciprocal rank, the merge (3 per
 *              strategy of the table + 3, so the count follows recall_n_strategies)
 * The 512 image dimensions are not columns: they live once per article in struct
 * feat_image and are gathered by article row by whoever needs them.
 *
 * Time: a context (struct feat_ctx) holds everything precomputed as of one cutoff day, from
 * transactions strictly before it; features of a block use only those transactions and the
 * static article and customer tables. A context is read-only after feat_ctx_init and may be
 * shared by threads; feat_block is parallel over the block's customers and gives the same
 * bytes for any thread count.
 *
 * Ownership: structs with _init/_release (feat_ctx, feat_image, feat_table) own what they
 * point to, except the inputs a context borrows (data set, text and image embeddings), which
 * must outlive it.
 */
#ifndef HM_FEATURES_H
#define HM_FEATURES_H

#include "core/core.h"
#include "data/data.h"
#include "recall/recall.h"

/* ---- the columns (columns.c) ------------------------------------------------------------ */

enum feat_group {
    FEAT_G_USER,   /* the customer alone */
    FEAT_G_ITEM,   /* the article alone */
    FEAT_G_PAIR,   /* user-item: the customer's history against the article */
    FEAT_G_TEXT,   /* text embeddings */
    FEAT_G_IMAGE,  /* image embeddings */
    FEAT_G_RECALL, /* Stage 2's strategies and merge (last: one set per strategy of the table) */
    FEAT_NGROUPS
};
extern const char *const feat_group_name[FEAT_NGROUPS]; /* "user", "item", "user-item", ... */

#define FEAT_NUSER 43
#define FEAT_NITEM 29
#define FEAT_NPAIR 17
#define FEAT_NTEXT 3
#define FEAT_NIMAGE 4
/* First column of each group. The recall columns come last: 3 per strategy of
 * recall_strategies[] (flag, score, reciprocal rank), then 3 of the merge, so their number
 * follows the strategy table. */
#define FEAT_USER0 0
#define FEAT_ITEM0 (FEAT_USER0 + FEAT_NUSER)
#define FEAT_PAIR0 (FEAT_ITEM0 + FEAT_NITEM)
#define FEAT_TEXT0 (FEAT_PAIR0 + FEAT_NPAIR)
#define FEAT_IMAGE0 (FEAT_TEXT0 + FEAT_NTEXT)
#define FEAT_RECALL0 (FEAT_IMAGE0 + FEAT_NIMAGE)
/* Columns of the recall group for n strategies, and the most there can be. */
#define FEAT_NRECALL_OF(n) (3 * (n) + 3)
#define FEAT_MAX_COLS (FEAT_RECALL0 + FEAT_NRECALL_OF(RECALL_MAX_STRATEGIES))

struct feat_column {
    const char *name;    /* "u_n_rows": a C identifier, unique */
    int group;           /* enum feat_group */
    const char *meaning; /* one line */
    const char *impute;  /* the value when the input is missing ("-": never missing) */
};
/* The table of every column, in output order (feat_n_cols() rows; valid for the program's
 * lifetime). */
const struct feat_column *feat_columns(void);
/* The number of columns: FEAT_RECALL0 + FEAT_NRECALL_OF(recall_n_strategies) (135 with the
 * twelve strategies). */
uint32_t feat_n_cols(void);
/* The column of that name, or -1. */
int feat_column_find(const char *name);
/* The column names as an array (feat_n_cols(); valid for the program's lifetime), e.g. for
 * struct rank_data's col_name. */
const char *const *feat_column_names(void);
/* A hash of the column names in order: two builds with the same hash have the same feature
 * set (stored in artifacts that hold features). */
uint64_t feat_set_hash(void);

/* What `hmrec features --list` prints: one line per column with its name, group and
 * meaning, under a header; malloc'ed. markdown = 1: the table of docs/features.md
 * (name, group, meaning, imputation). */
char *feat_list_format(int markdown);

/* ---- settings ------------------------------------------------------------------------ */

struct feat_params {
    double tau;        /* recency time constant (days) of decayed counts and profiles (30) */
    long age_weeks;    /* weeks of purchases behind the age-band popularity (4) */
    char image[HM_SETTING_STRLEN]; /* image embeddings file (.npy or .csv); "" = none */
};
extern const struct hm_setting feat_settings[];
extern const size_t feat_n_settings;

/* ---- image embeddings (image.c) ------------------------------------------------------- */

#define FEAT_IMAGE_DIM 512

/* Image embeddings mapped onto the data set's article rows: one row per article, stored
 * once. Articles without an embedding (absent from the file, or an all-zero row, which is
 * how hmrec embed marks a missing image) get the mean of the present rows and a flag. */
struct feat_image {
    uint32_t n_articles, dim;
    float *emb;          /* (n_articles, dim) row-major, imputed rows included */
    float *inv_norm;     /* (n_articles) 1 / L2 norm of each row (0 for a zero row) */
    uint8_t *missing;    /* (n_articles) 1 when imputed */
    uint32_t n_missing;
};
/* Reads path and maps it onto ds's articles; dim is the number of dimensions expected
 * (FEAT_IMAGE_DIM). Formats:
 *   X.npy    float32 (n, dim), with the row ids in X.ids.txt (hmrec embed) or X_ids.txt
 *            (hmrec synth's image_embeddings.npy + image_embeddings_ids.txt): one article
 *            id per line (10 digits, or without the leading zero);
 *   X.csv    a header "article_id,e0,...,e<dim-1>" and one row per article.
 * Errors name the file: an id that is not an article of ds or appears twice, a row count
 * that differs from the ids, a wrong number of dimensions, a NaN or infinite value, a
 * truncated file. */
int feat_image_load(struct feat_image *im, const struct data_set *ds, const char *path, uint32_t dim);
/* Builds the same from a per-article matrix of the data module (data_article_matrix_load:
 * missing rows are zero and flagged); m is not changed. */
int feat_image_from_matrix(struct feat_image *im, const struct data_article_matrix *m, uint32_t n_articles);
/* Builds the same from a matrix in memory: emb (n, dim) for articles rows[0..n) (article
 * rows of ds; UINT32_MAX skips a row). Used by tests and by callers that computed
 * embeddings themselves. */
int feat_image_from_rows(struct feat_image *im, uint32_t n_articles, uint32_t dim,
                         const float *emb, const uint32_t *rows, uint64_t n);
void feat_image_release(struct feat_image *im);

/* ---- the context of one cutoff (context.c, item.c) --------------------------------- */

struct feat_inputs {
    const struct data_set *ds;
    const float *text;              /* (text_rows, text_dim) text embeddings by article row, or NULL */
    uint64_t text_rows;             /* must be ds->articles.n when text is given */
    uint32_t text_dim;
    const struct feat_image *image; /* or NULL: image features imputed, im_missing = 1 */
};

/* Dense codes of the article attributes: values sorted ascending (numbers) or bytewise
 * (text), coded 1..n_values; 0 = missing. */
enum feat_attr {
    FEAT_A_TYPE, FEAT_A_GROUP, FEAT_A_COLOUR, FEAT_A_PCOLOUR, FEAT_A_GRAPHIC, FEAT_A_DEPARTMENT,
    FEAT_A_INDEX, FEAT_A_INDEX_GROUP, FEAT_A_SECTION, FEAT_A_GARMENT, FEAT_NATTR
};
extern const int feat_attr_col[FEAT_NATTR]; /* enum io_art_col of each */

#define FEAT_NBANDS 8 /* age bands: missing, <20, 20-24, 25-29, 30-39, 40-49, 50-59, 60+ */

struct feat_ctx {
    struct feat_inputs in;
    struct feat_params p;
    int32_t cutoff;          /* day: only transactions with day < cutoff are used */
    int32_t hist_days;       /* cutoff - first day of the data (>= 1): imputation of "days since" */
    uint32_t n_articles, n_customers;
    float *decay;            /* (hist_days + 1) exp(-age / tau), age = cutoff - 1 - day */
    /* article attributes */
    uint16_t *attr[FEAT_NATTR];   /* (n_articles) dense code */
    uint32_t n_values[FEAT_NATTR];/* codes 1..n_values */
    uint32_t *attr_count[FEAT_NATTR]; /* (n_values + 1) articles with each code */
    uint32_t *product;       /* (n_articles) dense product code id */
    uint32_t n_products;
    int8_t *ig_slot;         /* (n_articles) index group 1, 2, 3, 4, 26 -> 0..4; -1 other */
    /* per-article statistics as of the cutoff */
    float *item;             /* (n_articles, FEAT_NITEM) the item features */
    float *price_mean;       /* (n_articles) imputed like i_price_mean */
    uint16_t *first_day;     /* (n_articles) first sale before the cutoff (0: none) */
    float *type_price;       /* (n_values[TYPE] + 1) mean price of each product type */
    float *age_pop;          /* (FEAT_NBANDS, n_articles) */
    float *age_lift;         /* (FEAT_NBANDS, n_articles) */
    /* global */
    double price_all;        /* mean price of every row before the cutoff */
    double online_all;       /* share of rows online */
    float age_median;        /* customers with an age */
    uint32_t *postal_n;      /* (postal dictionary size) customers per postal code */
    uint8_t *club_code, *news_code; /* per dictionary code: the fixed u_club / u_news value */
    float *text_inv;         /* (n_articles) 1 / norm of the text embedding (0: zero row) */
};

/* Precomputes everything as of cutoff. Fails on a bad setting or inputs that do not match
 * the data set (text/image rows). */
int feat_ctx_init(struct feat_ctx *ctx, const struct feat_inputs *in, int32_t cutoff,
                  const struct feat_params *p);
void feat_ctx_release(struct feat_ctx *ctx);
/* A view of ctx that reads customers' rows from ds, ctx's data set seen through an overlay
 * (data_customer_rows): ctx's tables are borrowed, nothing is computed, and the view is never
 * released (it is valid while ctx lives). The per-article statistics stay as of ctx's data. */
void feat_ctx_view(struct feat_ctx *view, const struct feat_ctx *ctx, const struct data_set *ds);
/* The age band of customer c (0 = missing). */
int feat_age_band(const struct feat_ctx *ctx, uint32_t c);

/* ---- features of a block (block.c) ------------------------------------------------- */

/* The features of every row of block: out (block->n, feat_n_cols()) row-major. The block's
 * cutoff must be the context's. Parallel over the block's customers (hm_threads()); the
 * output does not depend on the thread count. */
int feat_block(const struct feat_ctx *ctx, const struct recall_candidates *block, float *out);

/* ---- statistics for standardisation (stats.c) -------------------------------------- */

/* Mean and standard deviation (population) of every column of x (n, n_cols) row-major, in
 * double precision; a constant column has std 0 (callers divide by max(std, eps)).
 * Deterministic for any thread count. n = 0 gives means 0 and stds 0. */
void feat_stats(const float *x, uint64_t n, uint32_t n_cols, double *mean, double *std);

/* ---- the artifact (table.c) ---------------------------------------------------------- */

/* Table "features": columns user (n_users), user_off (n_users + 1), item (n), then one f32
 * column per feature named as in feat_columns(); meta: cutoff, number of feature columns,
 * the feature-set hash, n_users. x is (n, feat_n_cols()) row-major; keys from c (its per-row
 * strategy arrays are not stored). Written atomically. */
int feat_table_write(const char *path, const struct recall_candidates *c, const float *x);

/* A features table opened for reading (mapped; columns used in place). */
struct feat_table {
    struct io_table t;
    int32_t cutoff;
    uint32_t n_users;
    uint64_t n;                 /* rows */
    const uint32_t *user;       /* (n_users) */
    const uint64_t *off;        /* (n_users + 1) */
    const uint32_t *item;       /* (n) */
    uint32_t n_cols;            /* feat_n_cols() */
    const float *col[FEAT_MAX_COLS]; /* (n) each, n_cols of them */
};
/* Opens path; rejects a file from another feature set (column count or names differ) or
 * with inconsistent keys, naming the file and the first difference. */
int feat_table_read(struct feat_table *t, const char *path);
void feat_table_release(struct feat_table *t);
/* Rows [begin, end) as a row-major matrix: x ((end - begin), feat_n_cols()). */
void feat_table_rows(const struct feat_table *t, uint64_t begin, uint64_t end, float *x);

/* ---- the wide CSV view (export.c) ------------------------------------------------------ */

/* Writes block's rows as CSV: a header customer_id,article_id, the feature names, and (when
 * the context has image embeddings) e0..e<dim-1> gathered per row; numbers in the shortest
 * text that reads back as the same float. x: the block's features (feat_block), or NULL to
 * compute them here. Written atomically. */
int feat_export_csv(const struct feat_ctx *ctx, const struct recall_candidates *block, const float *x,
                    const char *path);

#endif
