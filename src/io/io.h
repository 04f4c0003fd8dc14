/* io: reading and writing files. This header has sections owned by different parts:
 *   - CSV reader (csv.c): a strict RFC 4180 tokenizer and a quote-aware parallel driver
 *   - number and id parsers (parse.c): prices, integers, hex ids
 *   - id maps and string dictionaries (idmap.c)
 *   - table files of the columnar store (store.c)
 *   - H&M table readers (hm_tables.c): articles.csv, customers.csv, transactions_train.csv
 *
 * Error messages of the CSV reader have the form
 *     <file>:<line>:<column>: expected <what>, found "<text>"
 * where <line> is the 1-based physical line of the file (line breaks inside quoted fields
 * count) and <column> the 1-based byte column on that line (a UTF-8 byte-order mark at the
 * start of the file is not counted). For a bad field, the column is that of the field's
 * first byte. */
#ifndef HM_IO_H
#define HM_IO_H

#include "core/core.h"

/* ======================================================================== */
/* ---- CSV reader (csv.c) ------------------------------------------------- */
/* ======================================================================== */

/* One field of a record: text and length. Quoted fields are given without the quotes and,
 * when they contained doubled quotes, unescaped into an arena (p then points there). */
struct io_span {
    const char *p;
    uint32_t len;
    uint64_t off; /* byte offset of the field's first byte in the file data (for messages) */
};

/* Arena of unescaped field text: blocks that never move, so spans stay valid until reset. */
struct io_arena {
    char **blocks;
    size_t n_blocks, cap_blocks;
    size_t used, size; /* in the current (last) block */
};
void io_arena_init(struct io_arena *a);
char *io_arena_alloc(struct io_arena *a, size_t n);
void io_arena_reset(struct io_arena *a); /* frees all blocks; the arena stays usable */
void io_arena_release(struct io_arena *a);

/* Structural error of the tokenizer (quotes, line ends): where and what. */
struct io_csv_syntax {
    uint64_t pos;     /* byte offset of the offending byte in the file data */
    const char *what; /* e.g. "a closing quote" */
};

/* Parses one record from p (p < end; p must be at a record start). Fills up to maxf spans
 * and sets *nf to the number of fields found (counted beyond maxf too). Doubled quotes are
 * unescaped into `arena` (may be NULL: then fields with doubled quotes keep them raw).
 * base: start of the file data (for offsets). Returns the start of the next record, or
 * NULL on a syntax error (described in *err). Blank lines are not records: callers skip
 * them with io_csv_skip_blank. */
const char *io_csv_record(const char *base, const char *p, const char *end, struct io_span *f,
                          int maxf, int *nf, struct io_arena *arena, struct io_csv_syntax *err);
/* Skips empty lines ("\n" or "\r\n") at p; returns the first non-blank position. */
const char *io_csv_skip_blank(const char *p, const char *end);

/* A CSV file open for reading: a read-only map and its header. */
#define IO_CSV_MAX_COLS 64
struct io_csv_file {
    char *path;          /* as given (used in messages) */
    struct hm_map map;
    const char *data;    /* file data after an optional UTF-8 BOM */
    size_t size;         /* bytes of data */
    size_t body;         /* offset of the first record after the header */
    int n_cols;          /* fields in the header */
    struct io_span head[IO_CSV_MAX_COLS];
    char *head_buf;      /* header names, NUL-terminated, head[i].p points here */
};

/* Opens and maps path and parses its header line. */
int io_csv_open(struct io_csv_file *f, const char *path);
void io_csv_release(struct io_csv_file *f);
/* Finds the columns named names[0..n) in the header; col[i] gets the field index.
 * A missing column is an error naming it; a duplicated header name too. */
int io_csv_find_columns(const struct io_csv_file *f, const char *const *names, int n, int *col);

/* Sets an error "<file>:<line>:<col>: <message>" for byte offset pos of the data and
 * returns code. Counts lines from the start (only for error paths). */
int io_csv_error_at(const struct io_csv_file *f, int code, uint64_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Formats "<file>:<line>:<col>: expected <what>, found \"<text>\"" into a new string;
 * the found text is cut at 70 bytes and control characters are escaped. */
char *io_csv_expected(const struct io_csv_file *f, uint64_t pos, const char *what,
                      const char *found, size_t found_len);
/* The message for a syntax error: "<file>:<line>:<col>: expected <what>, found "<rest of
 * the line>"". */
char *io_csv_syntax_message(const struct io_csv_file *f, const struct io_csv_syntax *e);
/* 1-based physical line and byte column of byte offset pos. */
void io_csv_line_col(const struct io_csv_file *f, uint64_t pos, uint64_t *line, uint64_t *col);

/* Parallel driver. The data after the header is cut into segments of about
 * seg_bytes_per_thread * nthreads bytes and each segment into nthreads chunks that start
 * at a line start. parse(ud, tid, begin, end) runs on thread tid for each chunk: it must
 * parse the records starting in [begin, end) (reading past end to finish the last one;
 * blank lines skipped), reset its per-chunk state first, and return where it stopped (the
 * start of the first record at or after end). Then, on the calling thread and in file
 * order, each chunk is checked (did the previous chunk stop where this one started? A line
 * break inside a quoted field can fool the cut) and parsed again from the right place when
 * not, and merge(ud, tid) is called. So the records seen by merge are exactly those of a
 * serial parse, whatever the thread count. A non-zero return from merge stops the scan and
 * is returned. Pages of finished segments are released from the map, so memory stays
 * bounded for files of any size. */
typedef const char *(*io_csv_parse_fn)(void *ud, int tid, const char *begin, const char *end);
typedef int (*io_csv_merge_fn)(void *ud, int tid);
int io_csv_scan(struct io_csv_file *f, int nthreads, size_t seg_bytes_per_thread,
                io_csv_parse_fn parse, io_csv_merge_fn merge, void *ud);

/* Asks for transparent huge pages on a large array (fewer page faults and TLB misses);
 * a no-op for small ones. */
void io_advise_huge(void *p, size_t bytes);

/* ======================================================================== */
/* ---- number and id parsers (parse.c) ------------------------------------- */
/* ======================================================================== */

/* Decimal number ([+-]digits[.digits][e[+-]digits]) to the correctly rounded float (as
 * strtof would give). Returns 0, or -1 when the text is not such a number or not finite. */
int io_parse_f32(const char *s, size_t len, float *out);
/* Integer [-]digits (leading zeros allowed) within int32. */
int io_parse_i32(const char *s, size_t len, int32_t *out);
/* Unsigned decimal of 1..10 digits within uint32 (article ids: "0663713001" or "663713001"). */
int io_parse_u32(const char *s, size_t len, uint32_t *out);
/* Exactly 64 hex digits (either case) to 32 bytes. */
int io_parse_hex256(const char *s, size_t len, uint8_t out[32]);
/* 32 bytes to 64 lower-case hex digits and a terminator. */
void io_format_hex256(const uint8_t in[32], char out[65]);
/* Shortest decimal text that reads back as exactly f (at most 9 significant digits).
 * buf: at least 32 bytes. Returns the length. */
int io_format_f32(float f, char *buf);

/* ======================================================================== */
/* ---- id maps and string dictionaries (idmap.c) ---------------------------- */
/* ======================================================================== */

/* 256-bit key (a 64-hex id) -> dense u32, open addressing, one cache line per slot. */
struct io_idmap256 {
    struct io_idmap256_slot *slots;
    uint64_t mask;   /* slots - 1 */
    uint32_t n;      /* keys inserted */
};
void io_idmap256_init(struct io_idmap256 *m, uint32_t expected);
void io_idmap256_release(struct io_idmap256 *m);
/* Returns the value of key, or UINT32_MAX when absent. */
uint32_t io_idmap256_get(const struct io_idmap256 *m, const uint8_t key[32]);
/* The same in steps, to overlap cache misses: hash, prefetch, then get. */
uint64_t io_idmap256_hash(const uint8_t key[32]);
void io_idmap256_prefetch(const struct io_idmap256 *m, uint64_t hash);
uint32_t io_idmap256_get_hashed(const struct io_idmap256 *m, const uint8_t key[32], uint64_t hash);
/* Inserts key -> value unless present; returns the value now stored for key. */
uint32_t io_idmap256_put(struct io_idmap256 *m, const uint8_t key[32], uint32_t value);

/* u32 key -> dense u32, open addressing (article ids). */
struct io_idmap32 {
    uint64_t *slots; /* key << 32 | value; UINT64_MAX = empty */
    uint64_t mask;
    uint32_t n;
};
void io_idmap32_init(struct io_idmap32 *m, uint32_t expected);
void io_idmap32_release(struct io_idmap32 *m);
uint32_t io_idmap32_get(const struct io_idmap32 *m, uint32_t key);
void io_idmap32_prefetch(const struct io_idmap32 *m, uint32_t key);
uint32_t io_idmap32_put(struct io_idmap32 *m, uint32_t key, uint32_t value);

/* A string dictionary being built: code -> string, string -> code. Code 0 is always the
 * empty string (a missing value). Codes are given in order of first insertion. */
struct io_strdict {
    uint32_t n;          /* strings, including "" */
    uint64_t *off;       /* (n + 1) byte offsets into bytes */
    char *bytes;
    uint64_t n_bytes, cap_bytes;
    uint32_t cap;
    uint32_t *slots;     /* hash table of codes + 1 (0 = empty) */
    uint64_t mask;
};
void io_strdict_init(struct io_strdict *d);
void io_strdict_release(struct io_strdict *d);
uint32_t io_strdict_put(struct io_strdict *d, const char *s, size_t len);

/* ======================================================================== */
/* ---- table files of the columnar store (store.c) -------------------------- */
/* ======================================================================== */

/* A table file: a 128-byte header, a directory of columns, and the columns, each
 * contiguous and 64-byte aligned, each with its own checksum. See docs/formats.md. */
#define IO_TABLE_MAGIC "HMRTABLE"
#define IO_TABLE_VERSION 1u
#define IO_TABLE_META 8

enum io_type { IO_U8 = 1, IO_U16, IO_U32, IO_U64, IO_I32, IO_F32, IO_BYTES };

struct io_column_desc {
    const char *name;   /* at most 47 bytes */
    int type;           /* enum io_type */
    uint32_t elem_size; /* bytes per element (1, 2, 4, 8 or n for IO_BYTES) */
    uint64_t count;     /* elements */
    const void *data;   /* count * elem_size bytes */
};

/* Writes a table file atomically (temporary name + rename). meta: IO_TABLE_META
 * table-specific numbers (documented per table in docs/formats.md). */
int io_table_write(const char *path, const char *table, uint64_t n_rows, const uint64_t *meta,
                   const struct io_column_desc *cols, int n_cols);

/* A table file opened for reading (mapped). */
struct io_table {
    char *path;
    struct hm_map map;
    char table[32];
    uint64_t n_rows;
    uint64_t meta[IO_TABLE_META];
    int n_cols;
    struct io_column_desc *cols; /* data points into the map */
};

enum { IO_TABLE_NOVERIFY = 1 }; /* skip column checksums (header checksum still checked) */
/* Opens path, checks magic, version, table name, sizes, alignment and checksums. */
int io_table_open(struct io_table *t, const char *path, const char *table, unsigned flags);
void io_table_release(struct io_table *t);
/* Finds column name with the given type and element count (UINT64_MAX: any count). */
int io_table_column(const struct io_table *t, const char *name, int type, uint64_t count,
                    const void **data);
uint64_t io_table_column_bytes(const struct io_column_desc *c);

/* ======================================================================== */
/* ---- H&M table readers (hm_tables.c) ------------------------------------ */
/* ======================================================================== */

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
