/* core: errors, allocation, logging and progress hooks, threads, random numbers,
 * hashing, dates and files. Everything else in hmrec builds on this header.
 *
 * Conventions (see docs/ARCHITECTURE.md):
 * - Functions return 0 (HM_OK) or a negative HM_E* code; the message is kept per thread
 *   and read with hm_last_error(). Library code never exits and never prints: it reports
 *   through the log and progress hooks, which the command layer installs.
 * - HM_BUG() is for broken invariants (programming errors): it aborts with file and line.
 */
#ifndef HM_CORE_H
#define HM_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- errors ------------------------------------------------------------ */

enum hm_err {
    HM_OK = 0,
    HM_EIO = -1,       /* open/read/write/rename failed */
    HM_EPARSE = -2,    /* malformed input text */
    HM_ENOMEM = -3,    /* allocation failed */
    HM_EFORMAT = -4,   /* foreign, truncated or corrupted binary file */
    HM_EINVAL = -5,    /* bad argument or setting */
    HM_ENOTFOUND = -6, /* missing column, file or key */
    HM_EINTR = -7,     /* interrupted by the caller */
    HM_EBUSY = -8,     /* a directory is locked by another process */
};

/* Sets this thread's error message (printf-style) and returns code, so that
 * `return hm_error(HM_EIO, "could not open '%s'", path);` reads naturally. */
int hm_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int hm_verror(int code, const char *fmt, va_list ap);
/* Prepends "prefix: " to the current message (adds context on the way up). */
int hm_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The message of the last error set on this thread ("" when none). */
const char *hm_last_error(void);
void hm_clear_error(void);

_Noreturn void hm_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define HM_BUG(...) hm_bug(__FILE__, __LINE__, __VA_ARGS__)
#define HM_ASSERT(cond) \
    do { if (!(cond)) hm_bug(__FILE__, __LINE__, "assertion failed: %s", #cond); } while (0)

/* ---- allocation -------------------------------------------------------- */

/* hm_xmalloc and friends never return NULL: out of memory is handled here, in one
 * place, by aborting with a message (a recommender cannot continue without its arrays).
 * Sizes are checked for overflow. */
void *hm_xmalloc(size_t size);
void *hm_xcalloc(size_t n, size_t size);
void *hm_xrealloc(void *p, size_t size);
void *hm_xmalloc_array(size_t n, size_t size);
char *hm_xstrdup(const char *s);
char *hm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- growth arrays ------------------------------------------------------ */

/* The capacity to allocate for at least `need` elements when `cap` are allocated: cap when
 * it is enough, else the larger of need and cap * 1.5 (at least 16). */
size_t hm_grow_cap(size_t cap, size_t need);
/* Makes room for `need` elements in the array ptr of `cap` elements (both lvalues; cap may
 * be any unsigned integer type that holds the new capacity). Elements keep their values. */
#define HM_GROW(ptr, cap, need)                                               \
    do {                                                                      \
        if ((size_t)(need) > (size_t)(cap)) {                                 \
            size_t hm_c_ = hm_grow_cap((size_t)(cap), (size_t)(need));        \
            (ptr) = hm_xrealloc((ptr), hm_c_ * sizeof *(ptr));                \
            (cap) = hm_c_;                                                    \
        }                                                                     \
    } while (0)

/* A typed growable array: `HM_VEC(uint32_t) v = {0}; HM_VEC_PUSH(&v, x); ... free(v.v);` */
#define HM_VEC(T) struct { T *v; size_t n, cap; }
#define HM_VEC_PUSH(vec, x)                                                   \
    do {                                                                      \
        HM_GROW((vec)->v, (vec)->cap, (vec)->n + 1);                          \
        (vec)->v[(vec)->n++] = (x);                                           \
    } while (0)

/* ---- string buffer ------------------------------------------------------- */

/* A growable NUL-terminated string. Zero-initialise (`struct hm_buf b = {0};`), append,
 * then hm_buf_take (the caller frees the string) or hm_buf_release. */
struct hm_buf {
    char *s;     /* NUL-terminated when not NULL */
    size_t len;  /* bytes before the terminator */
    size_t cap;  /* bytes allocated */
};
void hm_buf_append(struct hm_buf *b, const char *s, size_t n);
void hm_buf_puts(struct hm_buf *b, const char *s);
void hm_buf_printf(struct hm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hm_buf_vprintf(struct hm_buf *b, const char *fmt, va_list ap);
/* The string (never NULL: "" when nothing was appended); b is empty again. */
char *hm_buf_take(struct hm_buf *b);
void hm_buf_release(struct hm_buf *b);

/* ---- sorting and top-k ------------------------------------------------------ */

/* Sorts a[0..n) ascending (an inline quicksort: no comparator calls). */
void hm_sort_u64(uint64_t *a, size_t n);
/* Moves the k smallest of a[0..n) to a[0..k), ascending (every key when k >= n); the rest
 * follow in no order. */
void hm_smallest_u64(uint64_t *a, size_t n, size_t k);

/* Every top-k in hmrec ranks by score descending and breaks ties by the lower id, so that
 * results do not depend on the order items were seen in. */
struct hm_hit {
    float score;
    uint32_t id;
};
/* 1 when a ranks after b: a lower score, or the same score and a higher id. */
static inline int hm_hit_worse(struct hm_hit a, struct hm_hit b)
{
    return a.score < b.score || (a.score == b.score && a.id > b.id);
}

/* The k best hits of a stream: a min-heap with the worst kept hit at the root, over storage
 * the caller provides (at least k hits). NaN scores are never kept. */
struct hm_topk {
    struct hm_hit *h;  /* (k) heap; best first after hm_topk_sort */
    uint32_t n, k;
};
static inline void hm_topk_init(struct hm_topk *t, struct hm_hit *storage, uint32_t k)
{
    t->h = storage;
    t->n = 0;
    t->k = k;
}
/* The score a new hit must beat to enter (-INFINITY while not full). */
float hm_topk_threshold(const struct hm_topk *t);
void hm_topk_push(struct hm_topk *t, float score, uint32_t id);
/* Sorts the kept hits best first (t->h[0] is the best) and returns how many; the heap is
 * spent (push again only after hm_topk_init). */
uint32_t hm_topk_sort(struct hm_topk *t);

/* Selects the k best of (ids, scores)[0..n) into out_ids/out_scores, best first; negative
 * scores rank as 0 (they keep their value in out_scores only when >= 0, else 0). Returns
 * min(n, k). The input is not reordered. */
uint32_t hm_select_top(const uint32_t *ids, const float *scores, uint32_t n, uint32_t k,
                       uint32_t *out_ids, float *out_scores);

/* A sparse accumulator over n dense slots: adds scores to slots and remembers which were
 * touched, so that reading the best and clearing costs O(touched), not O(n). */
struct hm_acc {
    float *v;          /* (n) zero outside touched */
    uint32_t *touched; /* (n) slots with a non-zero add, in order of first touch */
    uint32_t n_touched, n;
    uint64_t *keys;    /* scratch of hm_acc_top */
    uint32_t keys_cap;
};
void hm_acc_init(struct hm_acc *a, uint32_t n);
void hm_acc_release(struct hm_acc *a);
static inline void hm_acc_add(struct hm_acc *a, uint32_t i, float x)
{
    if (a->v[i] == 0.0f)
        a->touched[a->n_touched++] = i;
    a->v[i] += x;
    if (a->v[i] == 0.0f) /* keep the invariant "touched once": never exactly 0 after a touch */
        a->v[i] = 1e-30f;
}
/* Writes the k best touched slots (scores descending, ties: lower slot; negative sums rank
 * as 0) that skip does not mark (skip may be NULL), clears the accumulator and returns how
 * many were written. */
uint32_t hm_acc_top(struct hm_acc *a, uint32_t k, uint32_t *out_ids, float *out_scores,
                    const uint8_t *skip);
/* Clears the accumulator without reading it. */
void hm_acc_clear(struct hm_acc *a);

/* ---- logging and progress ---------------------------------------------- */

/* REPORT is what a command reports as its result (tables, summaries, where outputs went):
 * the command layer prints it to stdout; the other levels are diagnostics. */
enum hm_log_level { HM_LOG_ERROR = 0, HM_LOG_WARN = 1, HM_LOG_INFO = 2, HM_LOG_DEBUG = 3, HM_LOG_REPORT = 4 };

typedef void (*hm_log_fn)(int level, const char *msg, void *ud);
/* Installs the log hook (NULL: discard). The default discards everything. */
void hm_log_set_hook(hm_log_fn fn, void *ud);
void hm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define hm_info(...) hm_log(HM_LOG_INFO, __VA_ARGS__)
#define hm_warn(...) hm_log(HM_LOG_WARN, __VA_ARGS__)
#define hm_debug(...) hm_log(HM_LOG_DEBUG, __VA_ARGS__)
#define hm_report(...) hm_log(HM_LOG_REPORT, __VA_ARGS__)

/* Progress of one long task. The hook is called from whichever thread advances the
 * counter, at most every ~100 ms and once at the end with finished = 1. */
typedef void (*hm_progress_fn)(const char *label, uint64_t done, uint64_t total,
                               double seconds, int finished, void *ud);
void hm_progress_set_hook(hm_progress_fn fn, void *ud);

struct hm_progress {
    const char *label;
    uint64_t total;            /* units of work (rows, bytes, users, ...) */
    _Atomic uint64_t done;
    _Atomic int64_t last_ns;   /* time of the last report */
    int64_t start_ns;
};
void hm_progress_begin(struct hm_progress *p, const char *label, uint64_t total);
void hm_progress_add(struct hm_progress *p, uint64_t n);
void hm_progress_end(struct hm_progress *p);

/* Monotonic clock in nanoseconds / seconds. */
int64_t hm_now_ns(void);
double hm_seconds_since(int64_t start_ns);
/* Peak resident set size of this process in bytes (0 when unknown). */
uint64_t hm_peak_rss(void);

/* ---- threads ----------------------------------------------------------- */

/* The number of worker threads to use: the value set by hm_threads_set (> 0), else the
 * number of online CPUs. */
int hm_threads(void);
void hm_threads_set(int n);

/* Calls fn(begin, end, tid, ud) on nthreads threads over [0, n) split into nthreads
 * contiguous, equal ranges (deterministic: range t always goes to tid t). nthreads <= 0
 * means hm_threads(). Returns the first non-zero value returned by fn (by tid order). */
typedef int (*hm_range_fn)(size_t begin, size_t end, int tid, void *ud);
int hm_parallel_for(int nthreads, size_t n, hm_range_fn fn, void *ud);

/* Like hm_parallel_for but with dynamic scheduling in chunks of `chunk` items; fn is
 * called once per chunk. Use when work per item varies; results must not depend on which
 * thread ran a chunk (write to per-item slots). */
int hm_parallel_chunks(int nthreads, size_t n, size_t chunk, hm_range_fn fn, void *ud);

/* ---- random numbers (xoshiro256**, seeded by splitmix64) --------------- */

struct hm_rng { uint64_t s[4]; };
void hm_rng_seed(struct hm_rng *r, uint64_t seed);
/* An independent stream: seed mixed with a stream number (per thread, per user, ...). */
void hm_rng_seed2(struct hm_rng *r, uint64_t seed, uint64_t stream);
uint64_t hm_rng_u64(struct hm_rng *r);
double hm_rng_uniform(struct hm_rng *r);              /* [0, 1) */
uint64_t hm_rng_below(struct hm_rng *r, uint64_t n);  /* [0, n), unbiased; n > 0 */
double hm_rng_normal(struct hm_rng *r);               /* N(0, 1) */
double hm_rng_gamma(struct hm_rng *r, double shape);  /* Gamma(shape, 1), shape > 0 */

/* ---- hashing ------------------------------------------------------------ */

/* A fast 64-bit non-cryptographic hash (also the checksum of artifact files). */
uint64_t hm_hash64(const void *data, size_t len, uint64_t seed);
static inline uint64_t hm_mix64(uint64_t x) /* a bijective mixer (splitmix64 finaliser) */
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27; x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* ---- dates ---------------------------------------------------------------- */

/* Day numbers are days since 1970-01-01 (fit in uint16_t until 2149). */
/* Parses exactly "YYYY-MM-DD" (len bytes, no terminator needed); validates the calendar.
 * Returns 0 and sets *day, or -1 (no error message set: callers report with context). */
int hm_date_parse(const char *s, size_t len, int32_t *day);
/* Writes "YYYY-MM-DD" and a terminator into buf (at least 11 bytes). */
void hm_date_format(int32_t day, char *buf);
/* 0 = Monday .. 6 = Sunday. */
int hm_date_weekday(int32_t day);

/* ---- files ---------------------------------------------------------------- */

/* A read-only memory map of a whole file. */
struct hm_map {
    const uint8_t *data;
    size_t size;
};
int hm_map_file(struct hm_map *m, const char *path);
void hm_map_release(struct hm_map *m);

/* Reads a whole file into a malloc'ed, NUL-terminated buffer. */
int hm_read_file(const char *path, char **out, size_t *len);
/* The next line of a NUL-terminated text at *cursor, cut in place at its newline (*cursor
 * moves past it); NULL at the end. For `for (char *c = text, *l; (l = hm_next_line(&c));)`. */
char *hm_next_line(char **cursor);
/* Splits a line in place at every sep into at most max fields (f[0..]); returns how many
 * there are, max + 1 when there are more. */
int hm_split_fields(char *line, char sep, char **f, int max);

/* Atomic file writing: data goes to "<path>" HM_TMP_MARK "<pid>" and is renamed onto path by
 * hm_awriter_commit, so readers see the old file or the complete new one, never a partial
 * one. hm_awriter_abort (or a failed commit) removes the temporary file. The mark is hmrec's
 * own, so that a sweep of what killed writers left (hm_remove_temporaries) never takes a
 * user's file. */
#define HM_TMP_MARK ".hmrec-tmp."
struct hm_awriter {
    FILE *f;
    char *path;
    char *tmp;
    int failed;   /* a write failed; commit will report it */
};
int hm_awriter_open(struct hm_awriter *w, const char *path);
/* A whole file written atomically (the three calls above in one). */
int hm_write_file(const char *path, const void *data, size_t len);
int hm_awriter_write(struct hm_awriter *w, const void *data, size_t len);
int hm_awriter_commit(struct hm_awriter *w);
void hm_awriter_abort(struct hm_awriter *w);

/* Fault injection, for the tests of interrupted runs: when the environment has
 * HMREC_FAULT=NAME[:K[:INT|:STOP]], the K-th call (default the first) of hm_fault_point(NAME)
 * kills the process there with SIGKILL (or SIGINT, as a user's kill -9 or Ctrl-C would; or
 * stops it with SIGSTOP until a SIGCONT). Without HMREC_FAULT it costs one branch. Points:
 * "write" (every atomic file, after its data is written and before the rename), "stage"
 * (after a stage ran, before its record is written), "block" (after each streamed block of
 * candidates). hm_fault_fires(NAME) is 1 from the K-th call on (a condition that stays, as a
 * full disk does): HMREC_FAULT=full:K makes the K-th atomic file and every later one fail as
 * on a full disk (ENOSPC); HMREC_FAULT=forest takes every boosted model's compiled forest as
 * different from XGBoost (its fallback). */
void hm_fault_point(const char *name);
int hm_fault_fires(const char *name);

/* Creates a directory and its parents (like mkdir -p). */
int hm_mkdirs(const char *path);
/* Removes hmrec's temporaries in dir (not recursive): the files "<name>" HM_TMP_MARK "<pid>"
 * for every name of the NULL-terminated list, or for any name when names is NULL, except
 * this process's own. Only for a directory whose lock (hm_lock_dir) the caller holds, so that
 * no other hmrec process writes there: every such file is then what a killed writer left,
 * whatever its process id says (ids are reused). Counts them in *n and their size in *bytes
 * (either may be NULL). A missing dir is not an error. */
int hm_remove_temporaries(const char *dir, const char *const *names, uint64_t *n, uint64_t *bytes);

/* A directory's lock: flock on DIR/HM_LOCK_FILE, which the kernel releases when the process
 * ends, however it ends. Exclusive for a writer, shared for readers; never waits: when
 * another process holds it, the error names that process ("WHAT is in use by process N").
 * Creates dir when missing. The file stays (removing it would race with the next taker). */
#define HM_LOCK_FILE "hmrec.lock"
struct hm_lock {
    int fd;
    char *path;
    int exclusive;
};
int hm_lock_dir(struct hm_lock *l, const char *dir, int exclusive, const char *what);
void hm_lock_release(struct hm_lock *l);
/* Joins directory and name into a new string. */
char *hm_path_join(const char *dir, const char *name);

/* ---- BLAS kernel ---------------------------------------------------------- */

/* The OpenBLAS core type this CPU should use ("Cooperlake", "SkylakeX", "Haswell") or NULL
 * when OpenBLAS's own detection is fine. Reads /proc/cpuinfo. */
const char *hm_blas_wanted_coretype(void);
/* For program entry points only (main of hmrec, tests, benchmarks), before any BLAS call:
 * when this CPU needs a core type and OPENBLAS_CORETYPE is not set, sets it, and when
 * OMP_WAIT_POLICY is not set, sets it to passive (XGBoost's OpenMP threads then sleep instead
 * of spinning while they wait); both are read only when the libraries load, so the program
 * is re-executed once (HMREC_NO_REEXEC guards the loop). Preset values are honoured. Returns
 * when nothing needs doing or the exec failed (then the libraries keep their defaults). */
void hm_blas_ensure_coretype(char **argv);
/* The kernel OpenBLAS actually loaded (openblas_get_corename), e.g. "Cooperlake". */
const char *hm_blas_corename(void);

/* ---- settings tables (config files and --set overrides) ---------------------- */

/* A setting is a declarative row: its key ("section.name"), type, where it lives in the
 * settings struct, its default and a one-line description. The same table parses config
 * files, command-line overrides, prints documentation and writes the canonical text that
 * fingerprints a stage's settings. */
enum hm_setting_type {
    HM_SET_INT,    /* long; the text "all" reads as -1 when the row allows it */
    HM_SET_DOUBLE, /* double */
    HM_SET_STRING, /* char[HM_SETTING_STRLEN] */
};
#define HM_SETTING_STRLEN 256

struct hm_setting {
    const char *key;     /* "prepare.train_weeks" */
    enum hm_setting_type type;
    size_t offset;       /* offsetof(struct ..., field) */
    const char *def;     /* default, as text */
    double min, max;     /* accepted range for numbers */
    int allow_all;       /* HM_SET_INT: "all" means -1 */
    const char *help;
};

/* Appends rows[0..n_rows) to the growing table *table (*n rows, malloc'ed), each row's offset
 * moved by base: a module's rows placed where its struct lives in a larger one. */
void hm_settings_append(struct hm_setting **table, size_t *n, const struct hm_setting *rows, size_t n_rows,
                        size_t base);
/* Sets every field of obj to its default. */
void hm_settings_defaults(const struct hm_setting *table, size_t n, void *obj);
/* Sets one key from text; `where` (e.g. "run.conf:12" or "--set") prefixes errors. */
int hm_settings_set(const struct hm_setting *table, size_t n, void *obj, const char *key,
                    const char *value, const char *where);
/* Parses "key = value" lines with optional "[section]" headers (keys then read as
 * "section.key"), '#' comments and blank lines. Errors name file:line. */
int hm_settings_parse_file(const struct hm_setting *table, size_t n, void *obj, const char *path);
/* Applies "key=value" (an override from the command line). */
int hm_settings_override(const struct hm_setting *table, size_t n, void *obj, const char *kv);
/* Writes "key = value" lines for the rows whose key starts with prefix ("" for all), in
 * table order, numbers in a round-trip format: the canonical text of those settings. */
char *hm_settings_format(const struct hm_setting *table, size_t n, const void *obj,
                         const char *prefix);

#endif
