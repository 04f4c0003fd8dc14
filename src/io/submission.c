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

/* Writes buffered text to the file, through deflate when compressing. */
static int sub_flush(struct hm_subwriter *s, int finish)
{
    int rc = 0;
    if (!s->z) {
        rc = hm_awriter_write(&s->w, s->buf, s->len);
        s->len = 0;
        return rc;
    }
    z_stream *z = s->z;
    unsigned char out[1 << 16];
    z->next_in = (unsigned char *)s->buf;
    z->avail_in = (uInt)s->len;
    int zrc;
    do {
        z->next_out = out;
        z->avail_out = sizeof out;
        zrc = deflate(z, finish ? Z_FINISH : Z_NO_FLUSH);
        if (zrc == Z_STREAM_ERROR)
            return hm_error(HM_EIO, "%s: compression failed", s->w.path);
        if ((rc = hm_awriter_write(&s->w, out, sizeof out - z->avail_out)) != 0)
            return rc;
    } while (z->avail_out == 0 || (finish && zrc != Z_STREAM_END));
    s->len = 0;
    return 0;
}

static int sub_put(struct hm_subwriter *s, const char *text, size_t n)
{
    if (s->len + n > s->cap) {
        int rc = sub_flush(s, 0);
        if (rc)
            return rc;
    }
    memcpy(s->buf + s->len, text, n);
    s->len += n;
    return 0;
}

int hm_subwriter_open(struct hm_subwriter *s, const char *path)
{
    memset(s, 0, sizeof *s);
    int rc = hm_awriter_open(&s->w, path);
    if (rc)
        return rc;
    s->cap = 1 << 20;
    s->buf = hm_xmalloc(s->cap);
    if (ends_with(path, ".gz")) {
        z_stream *z = hm_xcalloc(1, sizeof *z);
        if (deflateInit2(z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            free(z);
            hm_subwriter_abort(s);
            return hm_error(HM_EIO, "%s: could not start gzip compression", path);
        }
        s->z = z;
    }
    static const char header[] = "customer_id,prediction\n";
    return sub_put(s, header, sizeof header - 1);
}

int hm_subwriter_add(struct hm_subwriter *s, const char *customer_id, const uint32_t *articles,
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

int hm_subwriter_commit(struct hm_subwriter *s)
{
    int rc = sub_flush(s, 1);
    if (s->z) {
        deflateEnd(s->z);
        free(s->z);
        s->z = NULL;
    }
    free(s->buf);
    s->buf = NULL;
    if (rc) {
        hm_awriter_abort(&s->w);
        return rc;
    }
    return hm_awriter_commit(&s->w);
}

void hm_subwriter_abort(struct hm_subwriter *s)
{
    if (s->z) {
        deflateEnd(s->z);
        free(s->z);
        s->z = NULL;
    }
    free(s->buf);
    s->buf = NULL;
    hm_awriter_abort(&s->w);
}

/* ---- reader ------------------------------------------------------------------- */

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/* Parses one line (without its newline) into row; returns 0 or an HM_EPARSE error. */
static int parse_line(const char *path, uint64_t lineno, char *l, size_t len, size_t max_n,
                      uint32_t *arts, struct hm_subrow *row)
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

int hm_submission_read(const char *path, size_t max_per_row, hm_subrow_fn fn, void *ud)
{
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
            if (len + 1 >= cap)
                line = hm_xrealloc(line, cap *= 2);
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
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (lineno == 1) {
            if (len && line[len - 1] == '\r')
                line[--len] = '\0';
            const char *h = line;
            if (!strncmp(h, "\xef\xbb\xbf", 3))
                h += 3;
            if (strcmp(h, "customer_id,prediction") != 0) {
                rc = hm_error(HM_EPARSE, "%s:1:1: expected header \"customer_id,prediction\", found \"%.80s\"",
                              path, h);
                break;
            }
            continue;
        }
        if (len == 0 || (len == 1 && line[0] == '\r'))
            continue; /* blank line */
        struct hm_subrow row;
        if ((rc = parse_line(path, lineno, line, len, max_per_row, arts, &row)) != 0)
            break;
        if ((rc = fn(&row, ud)) != 0)
            break;
        if (eof)
            break;
    }
    if (!rc && lineno == 0)
        rc = hm_error(HM_EPARSE, "%s:1:1: expected header \"customer_id,prediction\", found an empty file", path);
    gzclose(f);
    free(line);
    free(arts);
    return rc;
}
