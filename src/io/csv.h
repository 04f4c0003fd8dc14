/* io/csv: the CSV reader (csv.c): a strict RFC 4180 tokenizer and a quote-aware parallel
 * driver.
 *
 * Error messages of the CSV reader have the form
 *     <file>:<line>:<column>: expected <what>, found "<text>"
 * where <line> is the 1-based physical line of the file (line breaks inside quoted fields
 * count) and <column> the 1-based byte column on that line (a UTF-8 byte-order mark at the
 * start of the file is not counted). For a bad field, the column is that of the field's
 * first byte. */
#ifndef HM_IO_CSV_H
#define HM_IO_CSV_H

#include "core/core.h"

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
/* The same over the records that start in [lo_off, hi_off) of the data (lo_off a record
 * start, e.g. io_csv_line_start; hi_off a line start or the size): one part of the file,
 * parsed by one of several processes. *stop (may be NULL) gets the offset where the scan
 * stopped: the start of the first record at or after hi_off (beyond it when a quoted field
 * spans hi_off: the next part's guessed start was then wrong). */
int io_csv_scan_range(struct io_csv_file *f, uint64_t lo_off, uint64_t hi_off, int nthreads,
                      size_t seg_bytes_per_thread, io_csv_parse_fn parse, io_csv_merge_fn merge, void *ud,
                      uint64_t *stop);
/* The first line start at or after data offset off (the first record when off is inside the
 * header; the size at the end). */
uint64_t io_csv_line_start(const struct io_csv_file *f, uint64_t off);

/* Asks for transparent huge pages on a large array (fewer page faults and TLB misses);
 * a no-op for small ones. */
void io_advise_huge(void *p, size_t bytes);

#endif
