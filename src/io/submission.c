/* Kaggle submission writer (streaming, atomic, optional gzip) and strict reader. */
#include "io/submission.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- writer ----------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

struct gz_job {
    struct io_subwriter *s;
    unsigned char **out;  /* (n_chunks) compressed members */
    size_t *out_len;
};

static int gz_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct gz_job *j = ud;
    for (size_t i = begin; i < end; i++) {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return hm_error(HM_EIO, "%s: could not start gzip compression", j->s->w.path);
        uLong bound = deflateBound(&z, (uLong)j->s->len[i]);
        j->out[i] = hm_xmalloc(bound);
        z.next_in = (unsigned char *)j->s->chunk[i];
        z.avail_in = (uInt)j->s->len[i];
        z.next_out = j->out[i];
        z.avail_out = (uInt)bound;
        int zrc = deflate(&z, Z_FINISH);
        j->out_len[i] = bound - z.avail_out;
        deflateEnd(&z);
        if (zrc != Z_STREAM_END)
            return hm_error(HM_EIO, "%s: compression failed", j->s->w.path);
    }
    return 0;
}

/* Writes the filled chunks (compressing them in parallel when gzip) and empties them. */
static int sub_flush(struct io_subwriter *s)
{
    int n = s->cur + (s->cur < s->n_chunks && s->len[s->cur] > 0);
    if (n > s->n_chunks)
        n = s->n_chunks;
    int rc = 0;
    if (!s->gzip) {
        for (int i = 0; i < n && !rc; i++)
            rc = hm_awriter_write(&s->w, s->chunk[i], s->len[i]);
    } else if (n > 0) {
        struct gz_job j = {s, hm_xcalloc((size_t)n, sizeof(unsigned char *)), hm_xcalloc((size_t)n, sizeof(size_t))};
        rc = hm_parallel_for(n, (size_t)n, gz_range, &j);
        for (int i = 0; i < n; i++) {
            if (!rc)
                rc = hm_awriter_write(&s->w, j.out[i], j.out_len[i]);
            free(j.out[i]);
        }
        free(j.out);
        free(j.out_len);
    }
    for (int i = 0; i < s->n_chunks; i++)
        s->len[i] = 0;
    s->cur = 0;
    return rc;
}

static int sub_put(struct io_subwriter *s, const char *text, size_t n)
{
    if (s->len[s->cur] + n > IO_SUB_CHUNK) {
        if (++s->cur == s->n_chunks) {
            int rc = sub_flush(s);
            if (rc)
                return rc;
        }
    }
    memcpy(s->chunk[s->cur] + s->len[s->cur], text, n);
    s->len[s->cur] += n;
    return 0;
}

static void sub_free(struct io_subwriter *s)
{
    for (int i = 0; i < s->n_chunks; i++)
        free(s->chunk[i]);
    free(s->chunk);
    free(s->len);
    s->chunk = NULL;
    s->len = NULL;
}

int io_subwriter_open(struct io_subwriter *s, const char *path)
{
    memset(s, 0, sizeof *s);
    int rc = hm_awriter_open(&s->w, path);
    if (rc)
        return rc;
    s->gzip = ends_with(path, ".gz");
    s->n_chunks = s->gzip ? hm_threads() : 1;
    s->chunk = hm_xcalloc((size_t)s->n_chunks, sizeof *s->chunk);
    s->len = hm_xcalloc((size_t)s->n_chunks, sizeof *s->len);
    for (int i = 0; i < s->n_chunks; i++)
        s->chunk[i] = hm_xmalloc(IO_SUB_CHUNK);
    static const char header[] = "customer_id,prediction\n";
    return sub_put(s, header, sizeof header - 1);
}

int io_subwriter_add(struct io_subwriter *s, const char *customer_id, const uint32_t *articles,
                     size_t n)
{
    char line[64 + 1 + 12 * 11 + 64];
    size_t len = strlen(customer_id);
    if (len != 64)
        return hm_error(HM_EINVAL, "%s: customer id \"%s\" is not 64 characters", s->w.path, customer_id);
    if (n > 12)
        n = 12;
    memcpy(line, customer_id, 64);
    line[64] = ',';
    len = 65;
    for (size_t i = 0; i < n; i++) {
        if (i)
            line[len++] = ' ';
        uint32_t v = articles[i];
        for (int d = 9; d >= 0; d--, v /= 10)
            line[len + (size_t)d] = (char)('0' + v % 10);
        len += 10;
    }
    line[len++] = '\n';
    s->rows++;
    return sub_put(s, line, len);
}

int io_subwriter_commit(struct io_subwriter *s)
{
    int rc = sub_flush(s);
    sub_free(s);
    if (rc) {
        hm_awriter_abort(&s->w);
        return rc;
    }
    return hm_awriter_commit(&s->w);
}

void io_subwriter_abort(struct io_subwriter *s)
{
    sub_free(s);
    hm_awriter_abort(&s->w);
}

/* ---- reader ------------------------------------------------------------------- */

/* either case, as ingest reads customer ids */
static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* Parses one line (without its newline) into row; returns 0 or an HM_EPARSE error. */
static int parse_line(const char *path, uint64_t lineno, char *l, size_t len, size_t max_n,
                      uint32_t *arts, struct io_subrow *row)
{
    if (len && l[len - 1] == '\r')
        l[--len] = '\0';
    size_t i = 0;
    while (i < len && is_hex(l[i]))
        i++;
    if (i != 64 || len < 65 || l[64] != ',')
        return hm_error(HM_EPARSE, "%s:%llu:1: expected a 64-character hex customer id and a comma, found \"%.80s\"",
                        path, (unsigned long long)lineno, l);
    l[64] = '\0';
    row->customer_id = l;
    row->n = 0;
    row->line = lineno;
    row->articles = arts;
    i = 65;
    while (i < len) {
        size_t start = i;
        uint64_t v = 0;
        while (i < len && l[i] >= '0' && l[i] <= '9')
            v = v * 10 + (uint64_t)(l[i++] - '0');
        size_t nd = i - start;
        if (nd == 0 || nd > 10 || v > UINT32_MAX || (i < len && l[i] != ' '))
            return hm_error(HM_EPARSE, "%s:%llu:%zu: expected an article id of up to 10 digits, found \"%.20s\"",
                            path, (unsigned long long)lineno, start + 1, l + start);
        if (row->n < max_n)
            arts[row->n++] = (uint32_t)v;
        while (i < len && l[i] == ' ')
            i++;
    }
    return 0;
}

int io_submission_read(const char *path, size_t max_per_row, io_subrow_fn fn, void *ud)
{
    return io_idlist_read(path, "prediction", max_per_row, fn, ud);
}

int io_idlist_read(const char *path, const char *column, size_t max_per_row, io_subrow_fn fn, void *ud)
{
    char header[64];
    snprintf(header, sizeof header, "customer_id,%s", column);
    gzFile f = gzopen(path, "rb");
    if (!f)
        return hm_error(HM_EIO, "could not open '%s'", path);
    gzbuffer(f, 1 << 18);
    size_t cap = 1 << 16;
    char *line = hm_xmalloc(cap);
    uint32_t *arts = hm_xmalloc_array(max_per_row ? max_per_row : 1, sizeof *arts);
    uint64_t lineno = 0;
    int rc = 0;
    for (;;) {
        size_t len = 0;
        int eof = 0;
        /* read one full line, growing the buffer as needed */
        for (;;) {
            if (!gzgets(f, line + len, (int)(cap - len))) {
                eof = 1;
                break;
            }
            len += strlen(line + len);
            if (len && line[len - 1] == '\n')
                break;
            HM_GROW(line, cap, len + 2);
        }
        int zerr;
        gzerror(f, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END) {
            rc = hm_error(HM_EIO, "%s: read error (corrupt gzip data?)", path);
            break;
        }
        if (eof && len == 0)
            break;
        lineno++;
        int terminated = len && line[len - 1] == '\n';
        if (terminated)
            line[--len] = '\0';
        if (lineno == 1) {
            if (len && line[len - 1] == '\r')
                line[--len] = '\0';
            const char *h = line;
            if (!strncmp(h, "\xef\xbb\xbf", 3))
                h += 3;
            if (strcmp(h, header) != 0) {
                rc = hm_error(HM_EPARSE, "%s:1:1: expected header \"%s\", found \"%.80s\"", path, header, h);
                break;
            }
            continue;
        }
        if (len == 0 || (len == 1 && line[0] == '\r'))
            continue; /* blank line */
        struct io_subrow row;
        if ((rc = parse_line(path, lineno, line, len, max_per_row, arts, &row)) != 0)
            break;
        row.unterminated = !terminated;
        if ((rc = fn(&row, ud)) != 0)
            break;
        if (eof)
            break;
    }
    if (!rc && lineno == 0)
        rc = hm_error(HM_EPARSE, "%s:1:1: expected header \"%s\", found an empty file", path, header);
    gzclose(f);
    free(line);
    free(arts);
    return rc;
}
