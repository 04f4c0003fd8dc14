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

/* ---- logging and progress ---------------------------------------------- */

enum hm_log_level { HM_LOG_ERROR = 0, HM_LOG_WARN = 1, HM_LOG_INFO = 2, HM_LOG_DEBUG = 3 };

typedef void (*hm_log_fn)(int level, const char *msg, void *ud);
/* Installs the log hook (NULL: discard). The default discards everything. */
void hm_log_set_hook(hm_log_fn fn, void *ud);
void hm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define hm_info(...) hm_log(HM_LOG_INFO, __VA_ARGS__)
#define hm_warn(...) hm_log(HM_LOG_WARN, __VA_ARGS__)
#define hm_debug(...) hm_log(HM_LOG_DEBUG, __VA_ARGS__)

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

/* Atomic file writing: data goes to "<path>.tmp.<pid>" and is renamed onto path by
 * hm_awriter_commit, so readers see the old file or the complete new one, never a
 * partial one. hm_awriter_abort (or a failed commit) removes the temporary file. */
struct hm_awriter {
    FILE *f;
    char *path;
    char *tmp;
    int failed;   /* a write failed; commit will report it */
};
int hm_awriter_open(struct hm_awriter *w, const char *path);
int hm_awriter_write(struct hm_awriter *w, const void *data, size_t len);
int hm_awriter_commit(struct hm_awriter *w);
void hm_awriter_abort(struct hm_awriter *w);

/* Creates a directory and its parents (like mkdir -p). */
int hm_mkdirs(const char *path);
/* Joins directory and name into a new string. */
char *hm_path_join(const char *dir, const char *name);

/* ---- BLAS kernel ---------------------------------------------------------- */

/* The OpenBLAS core type this CPU should use ("Cooperlake", "SkylakeX", "Haswell") or NULL
 * when OpenBLAS's own detection is fine. Reads /proc/cpuinfo. */
const char *hm_blas_wanted_coretype(void);
/* For program entry points only (main of hmrec, tests, benchmarks), before any BLAS call:
 * when this CPU needs a core type and OPENBLAS_CORETYPE is not set, sets it and re-executes
 * the program once (HMREC_NO_REEXEC guards the loop); returns when nothing needs doing or
 * the exec failed (then OpenBLAS keeps the kernel it picked). */
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
