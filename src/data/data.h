/* data: the H&M data set as every stage after ingest sees it, opened from a store
 * directory with mmap (zero copy: all arrays point into the mapped table files).
 *
 * A store directory holds three table files (format: docs/formats.md):
 *   articles.hmt, customers.hmt, transactions.hmt
 * written by data_ingest (hmrec ingest) and read by data_set_open.
 *
 * Indexes are dense: a customer is a row 0..n-1 of `customers` (customers.csv order, then
 * placeholder rows for ids that only transactions named, with --missing-refs keep); an
 * article is a row of `articles` (articles.csv order, then placeholders). Ids stay
 * recoverable (data_customer_hex, articles.article_id).
 *
 * Transactions are sorted by customer, then day, then their order in the input file
 * (stable), with CSR offsets per customer: the rows of customer c are
 * [cust_off[c], cust_off[c+1]). The article-side index lists, for article a, the
 * transaction rows art_rows[art_off[a] .. art_off[a+1]) in ascending row order (so by
 * customer, then day). Duplicate rows are kept: they are quantities.
 *
 * Ownership: everything belongs to the struct data_set and lives until
 * data_set_release; the arrays are read-only (const) and may be shared between threads.
 */
#ifndef HM_DATA_H
#define HM_DATA_H

#include "core/core.h"
#include "io/io.h"

#define DATA_STORE_ARTICLES "articles.hmt"
#define DATA_STORE_CUSTOMERS "customers.hmt"
#define DATA_STORE_TRANSACTIONS "transactions.hmt"

/* A dictionary of strings: code -> bytes (not NUL-terminated). Code 0 is always "" (the
 * missing value); other codes are in order of first appearance in the input. */
struct data_dict {
    uint32_t n;           /* strings, including "" */
    const uint64_t *off;  /* (n + 1) byte offsets into bytes */
    const char *bytes;
};
static inline const char *data_dict_get(const struct data_dict *d, uint32_t code, uint32_t *len)
{
    *len = (uint32_t)(d->off[code + 1] - d->off[code]);
    return d->bytes + d->off[code];
}

struct data_customers {
    uint32_t n;              /* rows */
    uint32_t n_placeholder;  /* the last n_placeholder rows were added for unknown ids */
    const uint8_t (*id)[32]; /* (n) binary ids: the 64 hex digits of customer_id */
    const uint8_t *fn;       /* (n) FN: 1, 0, or IO_MISSING_U8 (255) when empty */
    const uint8_t *active;   /* (n) Active: 1, 0, or IO_MISSING_U8 */
    const uint32_t *club;    /* (n) club_member_status code in club_dict */
    const uint32_t *news;    /* (n) fashion_news_frequency code in news_dict */
    const float *age;        /* (n) years; NaN when missing */
    const uint32_t *postal;  /* (n) postal_code code in postal_dict */
    struct data_dict club_dict, news_dict, postal_dict;
};

/* Articles: column k of articles.csv (enum io_art_col: IO_ART_PRODUCT_TYPE_NO, ...) is
 * in num[k] for integer columns (product_code, *_no, *_id, *_code except index_code) and
 * in code[k] + dict[k] for string columns (names, index_code, prod_name, detail_desc). */
struct data_articles {
    uint32_t n;
    uint32_t n_placeholder;          /* the last rows, added for unknown ids */
    const uint32_t *article_id;      /* (n) the article id as a number (0108775015 -> 108775015) */
    const int32_t *num[IO_ART_NCOLS];   /* (n) integer columns; IO_MISSING_I32 when empty; NULL for others */
    const uint32_t *code[IO_ART_NCOLS]; /* (n) string columns: codes into dict[k]; NULL for others */
    struct data_dict dict[IO_ART_NCOLS];
};

struct data_transactions {
    uint64_t n;                /* rows */
    uint64_t n_all;            /* rows of the whole data set: n, or every shard's rows in a shard */
    const uint16_t *day;       /* (n) days since 1970-01-01 (hm_date_format prints them) */
    const uint32_t *customer;  /* (n) customer row, ascending */
    const uint32_t *article;   /* (n) article row */
    const float *price;        /* (n) the price as the nearest float to the file's decimal */
    const uint8_t *channel;    /* (n) sales_channel_id: 1 store, 2 online */
    const uint64_t *cust_off;  /* (n_customers + 1) CSR offsets by customer */
    const uint64_t *art_off;   /* (n_articles + 1) CSR offsets into art_rows */
    const uint32_t *art_rows;  /* (n) transaction rows grouped by article, ascending */
    uint16_t day_min, day_max; /* first and last day (0, 0 when n == 0); in a shard, those of
                                  the whole data set */
    uint64_t log_bytes;        /* a purchase log folded in (data_ingest_opts.purchases): how many
                                  of its first bytes the rows include, 0 when none */
    uint64_t log_hash;         /* hm_hash64 of those bytes (seed 0) */
};

/* The article side (docs/scale.md): every transaction row of the articles [a0, a1), whoever
 * bought them, indexed like a whole store's article-side index: the rows of article a are
 * tx.art_rows[tx.art_off[a] .. tx.art_off[a+1]), in the order of a whole store (by customer,
 * then day, then file order), and their day, customer, price and channel are tx.day[r] ....
 * A per-article pass over [a0, a1) of this view computes, in a shard, exactly what a whole
 * store computes for those articles; the ranks then share the results (comm).
 * In a whole store it is the store itself: a0 = 0, a1 = articles.n, tx = the transactions.
 * In a shard tx.cust_off and tx.article are NULL, and art_off is empty outside [a0, a1). */
struct data_article_side {
    uint32_t a0, a1;
    struct data_transactions tx;
};

/* Some customers' transaction rows replacing the store's (hmrec serve: the store's rows and
 * the purchases posted since, merged by day). A data set whose `overlay` is set reads those
 * customers' rows from the overlay's table; every other customer's rows, the article-side
 * index and the row counts stay the store's, so what was computed from the article side
 * (popularity, neighbour tables) is unchanged. */
struct data_overlay {
    uint32_t n_customers;
    const uint32_t *customer;    /* (n_customers) customer rows, ascending */
    const uint64_t *off;         /* (n_customers + 1) customer[i]'s rows: [off[i], off[i+1]) of tx */
    struct data_transactions tx; /* their rows, days ascending within a customer: day, customer,
                                    article, price and channel set; cust_off and the
                                    article-side index unused */
};

struct data_set {
    struct data_customers customers;
    struct data_articles articles;
    struct data_transactions tx;
    /* A shard (hmrec ingest under mpirun, docs/scale.md) holds the transactions of the
     * customers one rank owns (customer rows are the whole store's, cust_off spans every
     * customer, empty for the others; tx.art_off and tx.art_rows are NULL) and the article
     * side of a range of articles; the articles and customers tables are whole. shard 0 of
     * n_shards 1 is a whole store. */
    uint32_t shard, n_shards;
    struct data_article_side art;
    char *dir;
    struct io_table files[4]; /* articles, customers, transactions, article side (shards) */
    const struct data_overlay *overlay; /* NULL, or customers' rows seen instead of the store's
                                           (a copy of the struct with it set is a view;
                                           data_set_open leaves it NULL) */
};

/* The table that holds customer c's rows (the store's, or the overlay's when it holds c), and
 * their range [*lo, *hi) in it. Every reader of one customer's rows goes through this (or
 * prep_customer_rows), never through tx.cust_off, so that an overlay is seen. */
static inline const struct data_transactions *data_customer_rows(const struct data_set *ds, uint32_t c,
                                                                 uint64_t *lo, uint64_t *hi)
{
    const struct data_overlay *o = ds->overlay;
    if (o && o->n_customers) {
        uint32_t a = 0, b = o->n_customers;
        while (a < b) {
            uint32_t m = a + (b - a) / 2;
            if (o->customer[m] < c)
                a = m + 1;
            else
                b = m;
        }
        if (a < o->n_customers && o->customer[a] == c) {
            *lo = o->off[a];
            *hi = o->off[a + 1];
            return &o->tx;
        }
    }
    *lo = ds->tx.cust_off[c];
    *hi = ds->tx.cust_off[c + 1];
    return &ds->tx;
}

enum {
    DATA_SET_NOVERIFY = 1, /* skip checksums of column data and the O(n) invariant checks */
};
/* Opens the store in dir: maps the three files, validates headers, checksums and the
 * invariants above (cross-table counts, CSR offsets, index ranges). */
int data_set_open(struct data_set *ds, const char *dir, unsigned flags);
void data_set_release(struct data_set *ds);

/* The 64 hex digits of customer c and a terminator. */
void data_customer_hex(const struct data_set *ds, uint32_t c, char out[65]);
/* The canonical 10-digit article id of article a ("0108775015") and a terminator. */
void data_article_str(const struct data_set *ds, uint32_t a, char out[11]);

/* Lookups from external ids to rows (built on demand; caller-owned). */
struct data_id_index {
    struct io_idmap256 customers;
    struct io_idmap32 articles;
};
void data_id_index_init(struct data_id_index *ix, const struct data_set *ds);
void data_id_index_release(struct data_id_index *ix);
/* Customer row of a 64-hex id, or UINT32_MAX when unknown or malformed. */
uint32_t data_id_index_customer(const struct data_id_index *ix, const char *hex, size_t len);
/* Article row of an article id (as a number), or UINT32_MAX. */
uint32_t data_id_index_article(const struct data_id_index *ix, uint32_t article_id);

/* A pass over the articles of the article side, [art.a0, art.a1) (every article in a whole
 * store): fn(begin, end, tid, ud) on article rows, on nthreads threads (<= 0: hm_threads())
 * in chunks of `chunk` articles (hm_parallel_chunks). Returns fn's first non-zero value. */
int data_article_pass(const struct data_set *ds, int nthreads, size_t chunk, hm_range_fn fn, void *ud);
/* Collective after such a pass filled rows [art.a0, art.a1) of arr (one row of row_bytes per
 * article): every rank gets every rank's rows, so each holds the whole array, in article
 * order (nothing to do in a whole store). */
void data_article_share(const struct data_set *ds, void *arr, size_t row_bytes);

/* Collective: the article ranges of every rank's article side, edges (n_shards + 1):
 * rank r holds articles [edges[r], edges[r+1]) (edges {0, n_articles} in a whole store). */
void data_article_edges(const struct data_set *ds, uint32_t *edges);
/* The rank whose article side holds article a (edges from data_article_edges, n + 1 of them). */
static inline int data_article_owner(const uint32_t *edges, int n, uint32_t a)
{
    int lo = 0, hi = n; /* the last r with edges[r] <= a */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (edges[mid] <= a)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* 1 when customer c belongs to the data set's shard (comm_customer_owner of their id; every
 * customer of a whole store): the customers whose rows it holds and whose predictions it
 * makes. */
int data_customer_in_shard(const struct data_set *ds, uint32_t c);

/* The directory of shard `shard` of n_shards under a store directory ("STORE/shard-2-of-3"),
 * or the store itself when n_shards is 1 (caller frees). */
char *data_shard_dir(const char *store, int shard, int n_shards);
#define DATA_STORE_ARTICLE_SIDE "article_side.hmt"

/* ---- per-article matrices (matrix.c) ------------------------------------------------- */

/* A matrix with one row per article of the store (text or image embeddings), read from a
 * .npy file (n, dim) float32 and a text file with the article id of each row, one per line
 * (10 digits, the leading zero optional). Articles the file does not list, and all-zero
 * rows (hmrec embed's missing images), are zero rows flagged missing. */
struct data_article_matrix {
    uint32_t dim;
    float *x;            /* (n_articles, dim) by article row */
    uint8_t *missing;    /* (n_articles) 1: no embedding (the row is zero) */
    uint32_t n_missing;
};
/* The largest magnitude an embedding value may have: embeddings are unit-length or close (a
 * value of 1e20 would turn into infinite features); beyond it the loaders fail. */
#define DATA_EMB_LIMIT 1e4f
/* Errors name the file and line: an id that is not an article of the store, twice the same
 * id, more or fewer ids than rows, NaN or infinite values, values beyond DATA_EMB_LIMIT, a
 * malformed .npy. */
int data_article_matrix_load(struct data_article_matrix *m, const struct data_set *ds,
                             const char *npy_path, const char *ids_path);
void data_article_matrix_release(struct data_article_matrix *m);
/* Writes x (n_articles, dim) as npy_path and the ids of its rows as ids_path (atomic). */
int data_article_matrix_write(const struct data_set *ds, const float *x, uint32_t dim,
                              const char *npy_path, const char *ids_path);

/* ---- ingest (ingest.c) ----------------------------------------------------------------- */

struct data_ingest_opts {
    const char *data_dir;  /* holds articles.csv, customers.csv, transactions_train.csv */
    const char *store_dir; /* created when missing */
    int bad_rows;          /* enum io_bad_rows */
    int missing_refs;      /* enum io_missing_refs */
    int nthreads;          /* <= 0: hm_threads() */
    size_t seg_bytes;      /* CSV bytes per thread per parallel segment; 0: default */
    const char *purchases; /* a purchase log (hmrec serve's purchases.csv: the format of
                              transactions_train.csv) whose rows are read after that file's, or
                              NULL; its complete lines only (a last line without its newline was
                              never acknowledged): the store records how many bytes it read and
                              their hash (tx.log_bytes, tx.log_hash). One rank only. */
};
struct data_ingest_report {
    struct io_read_stats articles, customers, transactions, purchases;
    double seconds_sort, seconds_write, seconds;
    uint64_t store_bytes;
};
/* Reads the three CSV files, sorts and indexes the transactions and writes the store.
 * Under mpirun with N > 1 ranks (collective): every rank reads the articles and customers and
 * one part of transactions_train.csv, sends each row to the rank that owns its customer
 * (comm_customer_owner) and writes its shard, data_shard_dir(store_dir, rank, N), with the
 * article side of its range of articles; the report's counts are the whole data set's.
 * --missing-refs keep needs one rank. */
int data_ingest(const struct data_ingest_opts *o, struct data_ingest_report *rep);

/* Writes a store from tables in memory (what data_ingest does after reading). Consumes t:
 * its records are freed. log (may be NULL): the purchase log folded in, {bytes, hash}. */
int data_store_write(const char *dir, const struct io_articles *a, const struct io_customers *c,
                   struct io_transactions *t, int nthreads, const uint64_t *log, double *seconds_sort);

/* ---- export (export.c) --------------------------------------------------------------------- */

/* Writes articles.csv, customers.csv and transactions_train.csv in the Kaggle format
 * (canonical: 10-digit article ids, 64 lower-case hex customer ids, prices printed with the
 * fewest digits that read back as the stored float, transactions ordered by day, then
 * customer). Ingesting the export gives the same store, byte for byte, when the store
 * has no placeholder rows (they are exported as ordinary rows with empty fields). A shard is refused. */
int data_set_export(const struct data_set *ds, const char *out_dir);

#endif
