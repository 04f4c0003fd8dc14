/* io/hm_tables: readers of the H&M files articles.csv, customers.csv and
 * transactions_train.csv (hm_tables.c). */
#ifndef HM_IO_HM_TABLES_H
#define HM_IO_HM_TABLES_H

#include "io/csv.h"
#include "io/idmap.h"

enum io_bad_rows { IO_BAD_FAIL = 0, IO_BAD_SKIP = 1 };
enum io_missing_refs { IO_REFS_FAIL = 0, IO_REFS_DROP = 1, IO_REFS_KEEP = 2 };

/* Missing values. */
#define IO_MISSING_U8 255u
#define IO_MISSING_I32 INT32_MIN

/* Columns of articles.csv, in the Kaggle order. Kinds: the id, integers (codes, numbers)
 * and strings (names, text), each string column dictionary-encoded. */
enum io_art_col {
    IO_ART_ARTICLE_ID, IO_ART_PRODUCT_CODE, IO_ART_PROD_NAME, IO_ART_PRODUCT_TYPE_NO,
    IO_ART_PRODUCT_TYPE_NAME, IO_ART_PRODUCT_GROUP_NAME, IO_ART_GRAPHICAL_APPEARANCE_NO,
    IO_ART_GRAPHICAL_APPEARANCE_NAME, IO_ART_COLOUR_GROUP_CODE, IO_ART_COLOUR_GROUP_NAME,
    IO_ART_PERCEIVED_COLOUR_VALUE_ID, IO_ART_PERCEIVED_COLOUR_VALUE_NAME,
    IO_ART_PERCEIVED_COLOUR_MASTER_ID, IO_ART_PERCEIVED_COLOUR_MASTER_NAME,
    IO_ART_DEPARTMENT_NO, IO_ART_DEPARTMENT_NAME, IO_ART_INDEX_CODE, IO_ART_INDEX_NAME,
    IO_ART_INDEX_GROUP_NO, IO_ART_INDEX_GROUP_NAME, IO_ART_SECTION_NO, IO_ART_SECTION_NAME,
    IO_ART_GARMENT_GROUP_NO, IO_ART_GARMENT_GROUP_NAME, IO_ART_DETAIL_DESC, IO_ART_NCOLS
};
enum io_col_kind { IO_KIND_ID, IO_KIND_INT, IO_KIND_STR };
extern const char *const io_art_col_name[IO_ART_NCOLS];
extern const int io_art_col_kind[IO_ART_NCOLS];

enum io_cust_col {
    IO_CUST_ID, IO_CUST_FN, IO_CUST_ACTIVE, IO_CUST_CLUB, IO_CUST_NEWS, IO_CUST_AGE,
    IO_CUST_POSTAL, IO_CUST_NCOLS
};
extern const char *const io_cust_col_name[IO_CUST_NCOLS];

enum io_tx_col { IO_TX_DAY, IO_TX_CUSTOMER, IO_TX_ARTICLE, IO_TX_PRICE, IO_TX_CHANNEL, IO_TX_NCOLS };
extern const char *const io_tx_col_name[IO_TX_NCOLS];

/* Counts of skipped rows by kind: [0] wrong field count, [1 + column] bad value there. */
#define IO_BAD_KINDS (1 + IO_ART_NCOLS)
struct io_read_stats {
    uint64_t rows;                 /* rows kept */
    uint64_t bad[IO_BAD_KINDS];    /* rows skipped, by kind */
    uint64_t bad_total;
    uint64_t missing_rows;         /* transactions naming an unknown customer or article */
    uint64_t missing_customer_rows, missing_article_rows;
    uint32_t missing_customers, missing_articles; /* distinct unknown ids */
    uint64_t bytes;                /* file size */
    uint64_t stop;                 /* with a range: where the scan stopped (io_csv_scan_range) */
    double seconds;
};
/* "3 wrong field count, 2 bad price" for the skipped rows ("" when none); col_names gives
 * the names of kinds 1.. */
char *io_read_stats_bad_summary(const struct io_read_stats *s, const char *const *col_names,
                                int n_cols);

struct io_articles {
    uint32_t n, n_placeholder;  /* rows; the last n_placeholder were added for unknown ids */
    uint32_t cap;
    uint32_t *article_id;                 /* (n) the 10-digit id as a number */
    int32_t *num[IO_ART_NCOLS];           /* (n) integer columns, NULL for other kinds */
    uint32_t *code[IO_ART_NCOLS];         /* (n) string columns: dictionary codes */
    struct io_strdict dict[IO_ART_NCOLS]; /* string columns: code -> text */
    struct io_idmap32 index;              /* article_id -> row */
};
struct io_customers {
    uint32_t n, n_placeholder, cap;
    uint8_t (*id)[32];        /* (n) binary ids (the 64 hex digits) */
    uint8_t *fn, *active;     /* (n) 0, 1 or IO_MISSING_U8 */
    uint32_t *club, *news, *postal; /* (n) dictionary codes */
    struct io_strdict club_dict, news_dict, postal_dict;
    float *age;               /* (n) years; NaN = missing */
    struct io_idmap256 index; /* id -> row */
};
/* Transactions in file order as 16-byte records (sorted later by data/). */
struct io_tx_rec {
    uint32_t customer, article; /* dense rows of io_customers / io_articles */
    float price;
    uint16_t day;               /* days since 1970-01-01 */
    uint8_t channel;            /* 1 store, 2 online */
    uint8_t pad;
};
struct io_transactions {
    uint64_t n, cap;
    struct io_tx_rec *rec;      /* (n) */
};

struct io_read_opts {
    int bad_rows;      /* enum io_bad_rows */
    int missing_refs;  /* enum io_missing_refs */
    int nthreads;      /* <= 0: hm_threads() */
    size_t seg_bytes;  /* per thread per segment; 0: default (32 MiB) */
    /* transactions only: the records starting in data bytes [range_lo, range_hi) (a part of
     * the file that one of several processes reads; io_csv_scan_range); both 0: all */
    uint64_t range_lo, range_hi;
};

void io_articles_release(struct io_articles *a);
void io_customers_release(struct io_customers *c);
void io_transactions_release(struct io_transactions *t);
int io_read_articles(const char *path, const struct io_read_opts *o, struct io_articles *out,
                     struct io_read_stats *st);
int io_read_customers(const char *path, const struct io_read_opts *o, struct io_customers *out,
                      struct io_read_stats *st);
/* Reads transactions; unknown customers/articles follow o->missing_refs (keep: placeholder
 * rows are appended to a and c in order of first appearance). */
int io_read_transactions(const char *path, const struct io_read_opts *o, struct io_articles *a,
                         struct io_customers *c, struct io_transactions *out,
                         struct io_read_stats *st);

#endif
