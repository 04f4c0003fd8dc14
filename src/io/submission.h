/* io/submission: the Kaggle submission file, "customer_id,prediction" with up to 12
 * space-separated 10-digit article ids per customer; plain CSV or gzip (by a ".gz" suffix).
 * The writer streams and is atomic (temp + rename); the reader is strict and streams rows
 * to a callback. */
#ifndef HM_IO_SUBMISSION_H
#define HM_IO_SUBMISSION_H

#include "core/core.h"

struct hm_subwriter {
    struct hm_awriter w;
    void *z;          /* z_stream when gzip, else NULL */
    char *buf;        /* formatted rows waiting to be written or compressed */
    size_t len, cap;
    uint64_t rows;
};

/* Opens path for writing and writes the header. */
int hm_subwriter_open(struct hm_subwriter *s, const char *path);
/* Appends one row: customer_id (64 hex characters) and n article ids (numeric values, written
 * as 10 digits with leading zeros). */
int hm_subwriter_add(struct hm_subwriter *s, const char *customer_id, const uint32_t *articles,
                     size_t n);
int hm_subwriter_commit(struct hm_subwriter *s);
void hm_subwriter_abort(struct hm_subwriter *s);

/* One parsed row: customer id text (NUL-terminated, 64 hex) and its predictions. */
struct hm_subrow {
    const char *customer_id;
    const uint32_t *articles;  /* numeric article ids, in file order */
    size_t n;
    uint64_t line;             /* 1-based line number in the file */
};
typedef int (*hm_subrow_fn)(const struct hm_subrow *row, void *ud);

/* Reads a submission (plain or gzip, detected by content) and calls fn for every row;
 * stops at the first non-zero return of fn. Errors say file:line:column, what was expected
 * and what was found. At most max_per_row predictions are kept per row (Kaggle scores 12). */
int hm_submission_read(const char *path, size_t max_per_row, hm_subrow_fn fn, void *ud);

#endif
