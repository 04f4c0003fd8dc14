/* io/submission: the Kaggle submission file, "customer_id,prediction" with up to 12
 * space-separated 10-digit article ids per customer; plain CSV or gzip (by a ".gz" suffix).
 * The writer streams and is atomic (temp + rename); the reader is strict and streams rows
 * to a callback. */
#ifndef HM_IO_SUBMISSION_H
#define HM_IO_SUBMISSION_H

#include "core/core.h"

/* Rows are formatted into chunks of about 4 MiB; with gzip, a full set of chunks is
 * compressed in parallel, each chunk as one gzip member (a multi-member .gz file, which
 * gzip, zlib, Python and pandas read as one stream), and written in order. */
struct io_subwriter {
    struct hm_awriter w;
    int gzip;         /* compress (the path ends in ".gz") */
    int n_chunks;     /* chunks compressed together (the thread count) */
    int cur;          /* chunk being filled */
    char **chunk;     /* (n_chunks) buffers of IO_SUB_CHUNK bytes */
    size_t *len;      /* (n_chunks) bytes used */
    uint64_t rows;
};
#define IO_SUB_CHUNK (4u << 20)

/* Opens path for writing and writes the header. */
int io_subwriter_open(struct io_subwriter *s, const char *path);
/* Appends one row: customer_id (64 hex characters) and n article ids (numeric values, written
 * as 10 digits with leading zeros). */
int io_subwriter_add(struct io_subwriter *s, const char *customer_id, const uint32_t *articles,
                     size_t n);
int io_subwriter_commit(struct io_subwriter *s);
void io_subwriter_abort(struct io_subwriter *s);

/* One parsed row: customer id text (NUL-terminated, 64 hex) and its predictions. */
struct io_subrow {
    const char *customer_id;
    const uint32_t *articles;  /* numeric article ids, in file order */
    size_t n;
    uint64_t line;             /* 1-based line number in the file */
    int unterminated;          /* 1: the file's last line, without its newline (perhaps cut
                                  off: its last id may be a fragment) */
};
typedef int (*io_subrow_fn)(const struct io_subrow *row, void *ud);

/* Reads a submission (plain or gzip, detected by content) and calls fn for every row;
 * stops at the first non-zero return of fn. Errors say file:line:column, what was expected
 * and what was found. At most max_per_row predictions are kept per row (Kaggle scores 12). */
int io_submission_read(const char *path, size_t max_per_row, io_subrow_fn fn, void *ud);
/* The same for any "customer_id,<column>" file of space-separated article ids, e.g. the
 * purchases of a week that hmrec synth writes ("customer_id,purchases"). */
int io_idlist_read(const char *path, const char *column, size_t max_per_row, io_subrow_fn fn, void *ud);

#endif
