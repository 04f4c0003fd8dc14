/* CSV reader: a strict RFC 4180 tokenizer over a memory map, error positions as
 * file:line:column, and a parallel driver that cuts the file at record boundaries found by
 * quote parity. */
#include "io/csv.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- arena ---------------------------------------------------------------- */

#define ARENA_BLOCK (1u << 20)

void io_arena_init(struct io_arena *a) { memset(a, 0, sizeof *a); }

char *io_arena_alloc(struct io_arena *a, size_t n)
{
    if (a->n_blocks == 0 || a->used + n > a->size) {
        size_t sz = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        if (a->n_blocks == a->cap_blocks) {
            a->cap_blocks = a->cap_blocks ? a->cap_blocks * 2 : 8;
            a->blocks = hm_xrealloc(a->blocks, a->cap_blocks * sizeof *a->blocks);
        }
        a->blocks[a->n_blocks++] = hm_xmalloc(sz);
        a->size = sz;
        a->used = 0;
    }
    char *p = a->blocks[a->n_blocks - 1] + a->used;
    a->used += n;
    return p;
}

void io_arena_reset(struct io_arena *a)
{
    for (size_t i = 0; i < a->n_blocks; i++)
        free(a->blocks[i]);
    a->n_blocks = 0;
    a->used = a->size = 0;
}

void io_arena_release(struct io_arena *a)
{
    for (size_t i = 0; i < a->n_blocks; i++)
        free(a->blocks[i]);
    free(a->blocks);
    memset(a, 0, sizeof *a);
}

void io_advise_huge(void *p, size_t bytes)
{
    if (bytes < (8u << 20))
        return;
    uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

/* ---- tokenizer -------------------------------------------------------------- */

/* 1 for the bytes that end an unquoted field or are not allowed in one. */
static const uint8_t special[256] = {['\n'] = 1, ['\r'] = 1, [','] = 1, ['"'] = 1};

const char *io_csv_skip_blank(const char *p, const char *end)
{
    for (;;) {
        if (p < end && *p == '\n')
            p++;
        else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            p += 2;
        else
            return p;
    }
}

static inline int has_zero_byte(uint64_t v)
{
    return ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL) != 0;
}

/* Finds the first special byte in [p, end) eight bytes at a time. */
static inline const char *scan_plain(const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        if (has_zero_byte(v ^ 0x2c2c2c2c2c2c2c2cULL) || has_zero_byte(v ^ 0x0a0a0a0a0a0a0a0aULL) ||
            has_zero_byte(v ^ 0x0d0d0d0d0d0d0d0dULL) || has_zero_byte(v ^ 0x2222222222222222ULL))
            break;
        p += 8;
    }
    while (p < end && !special[(uint8_t)*p])
        p++;
    return p;
}

const char *io_csv_record(const char *base, const char *p, const char *end, struct io_span *f,
                          int maxf, int *nf, struct io_arena *arena, struct io_csv_syntax *err)
{
    int n = 0;
    for (;;) {
        const char *s = p, *fs, *fe;
        int dq = 0;
        if (p < end && *p == '"') {
            p++;
            fs = p;
            for (;;) {
                const char *q = memchr(p, '"', (size_t)(end - p));
                if (!q) {
                    err->pos = (uint64_t)(s - base);
                    err->what = "a closing quote for the field starting here";
                    *nf = n;
                    return NULL;
                }
                if (q + 1 < end && q[1] == '"') {
                    dq = 1;
                    p = q + 2;
                    continue;
                }
                fe = q;
                p = q + 1;
                break;
            }
            if (p < end && *p != ',' && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
                err->pos = (uint64_t)(p - base);
                err->what = "a comma or line end after a closing quote";
                *nf = n;
                return NULL;
            }
        } else {
            fs = s;
            p = scan_plain(p, end);
            fe = p;
            if (p < end && *p == '"') {
                err->pos = (uint64_t)(p - base);
                err->what = "a comma or line end (quotes are allowed only around a whole field)";
                *nf = n;
                return NULL;
            }
            if (p < end && *p == '\r' && !(p + 1 < end && p[1] == '\n')) {
                err->pos = (uint64_t)(p - base);
                err->what = "a line feed after a carriage return";
                *nf = n;
                return NULL;
            }
        }
        if (n < maxf) {
            f[n].off = (uint64_t)(s - base);
            if (dq && arena) {
                char *o = io_arena_alloc(arena, (size_t)(fe - fs));
                size_t k = 0;
                for (const char *c = fs; c < fe; c++) {
                    o[k++] = *c;
                    if (*c == '"')
                        c++;
                }
                f[n].p = o;
                f[n].len = (uint32_t)k;
            } else {
                f[n].p = fs;
                f[n].len = (uint32_t)(fe - fs);
            }
        }
        n++;
        if (p >= end) {
            *nf = n;
            return end;
        }
        if (*p == ',') {
            p++;
            continue;
        }
        *nf = n;
        return p + (*p == '\r' ? 2 : 1);
    }
}

/* ---- files and messages ------------------------------------------------------- */

void io_csv_line_col(const struct io_csv_file *f, uint64_t pos, uint64_t *line, uint64_t *col)
{
    if (!f->data || !f->size) {
        *line = *col = 1;
        return;
    }
    const char *p = f->data, *e = f->data + (pos < f->size ? pos : f->size);
    uint64_t l = 1;
    const char *ls = p;
    for (;;) {
        const char *q = memchr(p, '\n', (size_t)(e - p));
        if (!q)
            break;
        l++;
        p = ls = q + 1;
    }
    *line = l;
    *col = (uint64_t)(e - ls) + 1;
}

int io_csv_error_at(const struct io_csv_file *f, int code, uint64_t pos, const char *fmt, ...)
{
    uint64_t line, col;
    io_csv_line_col(f, pos, &line, &col);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hm_error(code, "%s:%llu:%llu: %s", f->path, (unsigned long long)line,
                    (unsigned long long)col, msg);
}

/* Appends found text, quoted-safe: cut at 70 bytes, control bytes and quotes escaped. */
static void show_text(char *out, size_t cap, const char *s, size_t len)
{
    size_t k = 0, lim = len > 70 ? 70 : len;
    for (size_t i = 0; i < lim && k + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') { out[k++] = '\\'; out[k++] = 'n'; }
        else if (c == '\r') { out[k++] = '\\'; out[k++] = 'r'; }
        else if (c == '\t') { out[k++] = '\\'; out[k++] = 't'; }
        else if (c == '"' || c == '\\') { out[k++] = '\\'; out[k++] = (char)c; }
        else if (c < 0x20 || c == 0x7f) k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
        else out[k++] = (char)c;
    }
    if (len > lim && k + 4 < cap) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

char *io_csv_syntax_message(const struct io_csv_file *f, const struct io_csv_syntax *e)
{
    const char *p = f->data + (e->pos < f->size ? e->pos : f->size), *end = f->data + f->size;
    const char *q = p + 1 <= end ? p + 1 : end;
    while (q < end && *q != '\n' && q - p < 80)
        q++;
    if (p >= end)
        return io_csv_expected(f, e->pos, e->what, "", 0);
    return io_csv_expected(f, e->pos, e->what, p, (size_t)(q - p));
}

char *io_csv_expected(const struct io_csv_file *f, uint64_t pos, const char *what,
                      const char *found, size_t found_len)
{
    uint64_t line, col;
    io_csv_line_col(f, pos, &line, &col);
    char shown[400];
    show_text(shown, sizeof shown, found, found_len);
    return hm_xasprintf("%s:%llu:%llu: expected %s, found \"%s\"", f->path,
                        (unsigned long long)line, (unsigned long long)col, what, shown);
}

int io_csv_open(struct io_csv_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    f->path = hm_xstrdup(path);
    int rc = hm_map_file(&f->map, path);
    if (rc) {
        free(f->path);
        f->path = NULL;
        return rc;
    }
    f->data = f->map.size ? (const char *)f->map.data : ""; /* never NULL */
    f->size = f->map.size;
    if (f->size >= 3 && memcmp(f->data, "\xEF\xBB\xBF", 3) == 0) {
        f->data += 3;
        f->size -= 3;
    }
    if (f->map.size)
        madvise((void *)f->map.data, f->map.size, MADV_SEQUENTIAL);
    const char *end = f->data + f->size;
    const char *p = io_csv_skip_blank(f->data, end);
    if (p >= end) {
        rc = io_csv_error_at(f, HM_EPARSE, (uint64_t)(p - f->data),
                             "expected a header line, found \"\" (empty file)");
        io_csv_release(f);
        return rc;
    }
    struct io_csv_syntax se;
    int nf;
    struct io_span tmp[IO_CSV_MAX_COLS];
    const char *next = io_csv_record(f->data, p, end, tmp, IO_CSV_MAX_COLS, &nf, NULL, &se);
    if (!next) {
        char *m = io_csv_syntax_message(f, &se);
        rc = hm_error(HM_EPARSE, "%s", m);
        free(m);
        io_csv_release(f);
        return rc;
    }
    if (nf > IO_CSV_MAX_COLS) {
        rc = io_csv_error_at(f, HM_EPARSE, 0, "expected at most %d columns, found %d",
                             IO_CSV_MAX_COLS, nf);
        io_csv_release(f);
        return rc;
    }
    size_t total = 0;
    for (int i = 0; i < nf; i++)
        total += tmp[i].len + 1;
    f->head_buf = hm_xmalloc(total + 1);
    char *o = f->head_buf;
    for (int i = 0; i < nf; i++) {
        /* unescape doubled quotes in header names */
        size_t k = 0;
        for (uint32_t j = 0; j < tmp[i].len; j++) {
            o[k++] = tmp[i].p[j];
            if (tmp[i].p[j] == '"' && j + 1 < tmp[i].len && tmp[i].p[j + 1] == '"')
                j++;
        }
        o[k] = '\0';
        f->head[i] = (struct io_span){o, (uint32_t)k, tmp[i].off};
        o += k + 1;
    }
    f->n_cols = nf;
    f->body = (size_t)(next - f->data);
    return 0;
}

void io_csv_release(struct io_csv_file *f)
{
    hm_map_release(&f->map);
    free(f->path);
    free(f->head_buf);
    memset(f, 0, sizeof *f);
}

int io_csv_find_columns(const struct io_csv_file *f, const char *const *names, int n, int *col)
{
    for (int i = 0; i < f->n_cols; i++)
        for (int j = 0; j < i; j++)
            if (f->head[i].len && !strcmp(f->head[i].p, f->head[j].p))
                return io_csv_error_at(f, HM_EPARSE, f->head[i].off,
                                       "expected distinct column names, found \"%s\" twice",
                                       f->head[i].p);
    for (int k = 0; k < n; k++) {
        col[k] = -1;
        for (int i = 0; i < f->n_cols; i++)
            if (!strcmp(f->head[i].p, names[k])) {
                col[k] = i;
                break;
            }
        if (col[k] < 0) {
            char have[600];
            size_t o = 0;
            have[0] = '\0';
            for (int i = 0; i < f->n_cols && o + 60 < sizeof have; i++)
                o += (size_t)snprintf(have + o, sizeof have - o, "%s%.50s", i ? "," : "",
                                      f->head[i].p);
            return io_csv_error_at(f, HM_ENOTFOUND, 0,
                                   "missing required column \"%s\" (header: %s)", names[k], have);
        }
    }
    return 0;
}

/* ---- parallel driver ----------------------------------------------------------- */

/* Chunks start at the line after a guessed cut point (the first line feed after it), in
 * parallel, without knowing whether that line feed is inside a quoted field. The guess is
 * checked in file order: chunk t is right when chunk t-1 stopped exactly where chunk t's
 * first record starts. A wrong guess (a line break inside a quoted field near the cut)
 * is repaired by parsing the chunk again from where chunk t-1 really stopped, so the
 * result is always that of a serial parse. */
struct scan_ctx {
    const char *b[257];       /* guessed chunk starts; b[T] = segment end */
    const char *stop[256];    /* where each chunk's parse stopped (next record start) */
    io_csv_parse_fn parse;
    void *ud;
};

static int scan_worker(size_t begin, size_t end, int tid, void *ud)
{
    (void)end;
    struct scan_ctx *s = ud;
    size_t t = begin;
#ifdef MADV_POPULATE_READ
    /* map the chunk's pages in one call instead of one page fault per 64 KiB */
    uintptr_t lo = (uintptr_t)s->b[t] & ~(uintptr_t)4095, hi = (uintptr_t)s->b[t + 1];
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_POPULATE_READ);
#endif
    s->stop[t] = s->parse(s->ud, tid, s->b[t], s->b[t + 1]);
    return 0;
}

/* The start of the line after p (or end). */
static const char *next_line(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

uint64_t io_csv_line_start(const struct io_csv_file *f, uint64_t off)
{
    if (off <= f->body)
        return f->body;
    if (off >= f->size)
        return f->size;
    if (f->data[off - 1] == '\n')
        return off;
    return (uint64_t)(next_line(f->data + off, f->data + f->size) - f->data);
}

int io_csv_scan(struct io_csv_file *f, int nthreads, size_t seg_bytes_per_thread,
                io_csv_parse_fn parse, io_csv_merge_fn merge, void *ud)
{
    return io_csv_scan_range(f, f->body, f->size, nthreads, seg_bytes_per_thread, parse, merge, ud, NULL);
}

int io_csv_scan_range(struct io_csv_file *f, uint64_t lo_off, uint64_t hi_off, int nthreads,
                      size_t seg_bytes_per_thread, io_csv_parse_fn parse, io_csv_merge_fn merge, void *ud,
                      uint64_t *stop)
{
    if (nthreads <= 0)
        nthreads = hm_threads();
    if (nthreads > 256)
        nthreads = 256;
    if (!seg_bytes_per_thread)
        seg_bytes_per_thread = 32u << 20;
    struct scan_ctx *s = hm_xcalloc(1, sizeof *s);
    s->parse = parse;
    s->ud = ud;
    const char *end = f->data + (hi_off < f->size ? hi_off : f->size);
    const char *pos = f->data + (lo_off < f->body ? f->body : lo_off);
    long page = sysconf(_SC_PAGESIZE);
    int rc = 0, T = nthreads;
    double t_parse = 0, t_merge = 0;
    uint64_t reparsed = 0;
    while (pos < end) {
        size_t seg = seg_bytes_per_thread * (size_t)T;
        const char *seg_end = (size_t)(end - pos) <= seg ? end : pos + seg;
        s->b[0] = pos;
        for (int t = 1; t <= T; t++) {
            const char *c = pos + (size_t)(seg_end - pos) * (size_t)t / (size_t)T;
            const char *b = c >= end ? end : next_line(c, end);
            s->b[t] = b < s->b[t - 1] ? s->b[t - 1] : b;
        }
        int64_t t0 = hm_now_ns();
        hm_parallel_for(T, (size_t)T, scan_worker, s);
        t_parse += hm_seconds_since(t0);
        t0 = hm_now_ns();
        for (int t = 0; t < T && !rc; t++) {
            if (t > 0 && s->stop[t - 1] != io_csv_skip_blank(s->b[t], end)) {
                /* wrong guess: parse again from where the previous chunk stopped */
                const char *from = s->stop[t - 1];
                s->stop[t] = parse(ud, t, from, s->b[t + 1] > from ? s->b[t + 1] : from);
                reparsed++;
            }
            rc = merge(ud, t);
        }
        t_merge += hm_seconds_since(t0);
        /* the next segment starts where the last chunk stopped */
        const char *next = s->stop[T - 1];
        if (next < s->b[T])
            next = s->b[T]; /* only after an error (rc != 0) */
        uintptr_t lo = ((uintptr_t)pos) & ~(uintptr_t)(page - 1);
        uintptr_t hi = ((uintptr_t)next) & ~(uintptr_t)(page - 1);
        if (hi > lo && next <= end)
            madvise((void *)lo, hi - lo, MADV_DONTNEED); /* release finished pages */
        if (rc)
            break;
        if (next <= pos)
            HM_BUG("csv scan made no progress");
        pos = next;
    }
    free(s);
    if (stop)
        *stop = (uint64_t)(pos - f->data);
    hm_debug("%s: parse %.3f s, merge %.3f s, %llu chunks parsed again", f->path, t_parse,
             t_merge, (unsigned long long)reparsed);
    return rc;
}
