/* NumPy .npy reading and writing for float32 matrices. */
#include "io/npy.h"

#include <stdlib.h>
#include <string.h>

/* ---- header ------------------------------------------------------------- */

static size_t npy_header(char *buf, size_t rows, size_t cols)
{
    char dict[128];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }",
                     rows, cols);
    size_t total = 10 + (size_t)n + 1;
    size_t padded = (total + 63) / 64 * 64;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    size_t hlen = padded - 10;
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', padded - 10 - (size_t)n - 1);
    buf[padded - 1] = '\n';
    return padded;
}

/* Finds "'key':" in the header dict and returns a pointer past the colon and spaces. */
static const char *dict_value(const char *dict, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s':", key);
    const char *p = strstr(dict, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    return p;
}

static int parse_size(const char **p, size_t *out)
{
    const char *s = *p;
    while (*s == ' ')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    size_t v = 0;
    while (*s >= '0' && *s <= '9') {
        if (v > (SIZE_MAX - 9) / 10)
            return -1;
        v = v * 10 + (size_t)(*s++ - '0');
    }
    *out = v;
    *p = s;
    return 0;
}

int io_npy_open(struct io_npy *a, const char *path)
{
    memset(a, 0, sizeof *a);
    int rc = hm_map_file(&a->map, path);
    if (rc)
        return rc;
    const uint8_t *d = a->map.data;
    size_t size = a->map.size, hlen, off;
    if (size < 10 || memcmp(d, "\x93NUMPY", 6) != 0) {
        rc = hm_error(HM_EFORMAT, "%s: not a .npy file (bad magic)", path);
        goto fail;
    }
    if (d[6] == 1) {
        hlen = (size_t)d[8] | (size_t)d[9] << 8;
        off = 10;
    } else if ((d[6] == 2 || d[6] == 3) && size >= 12) {
        hlen = (size_t)d[8] | (size_t)d[9] << 8 | (size_t)d[10] << 16 | (size_t)d[11] << 24;
        off = 12;
    } else {
        rc = hm_error(HM_EFORMAT, "%s: unsupported .npy version %d.%d", path, d[6], d[7]);
        goto fail;
    }
    if (hlen > size - off || hlen > 65536) {
        rc = hm_error(HM_EFORMAT, "%s: truncated .npy header", path);
        goto fail;
    }
    char dict[65537];
    memcpy(dict, d + off, hlen);
    dict[hlen] = '\0';
    const char *descr = dict_value(dict, "descr"), *fo = dict_value(dict, "fortran_order"),
               *shape = dict_value(dict, "shape");
    if (!descr || !fo || !shape) {
        rc = hm_error(HM_EFORMAT, "%s: .npy header lacks descr, fortran_order or shape", path);
        goto fail;
    }
    if (strncmp(descr, "'<f4'", 5) != 0) {
        rc = hm_error(HM_EFORMAT, "%s: expected dtype '<f4' (float32), found %.8s", path, descr);
        goto fail;
    }
    if (strncmp(fo, "False", 5) != 0) {
        rc = hm_error(HM_EFORMAT, "%s: expected C order, found fortran_order %.5s", path, fo);
        goto fail;
    }
    const char *p = shape;
    size_t dims[2] = {0, 1};
    int nd = 0;
    if (*p++ != '(')
        goto bad_shape;
    while (nd < 3) {
        while (*p == ' ')
            p++;
        if (*p == ')')
            break;
        if (nd == 2 || parse_size(&p, &dims[nd]))
            goto bad_shape;
        nd++;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
    }
    if (nd < 1 || *p != ')')
        goto bad_shape;
    a->rows = dims[0];
    a->cols = nd == 2 ? dims[1] : 1;
    off += hlen;
    if (a->cols && a->rows > (SIZE_MAX / 4) / a->cols) {
        rc = hm_error(HM_EFORMAT, "%s: shape too large", path);
        goto fail;
    }
    size_t want = a->rows * a->cols * 4;
    if (size - off != want) {
        rc = hm_error(HM_EFORMAT, "%s: expected %zu data bytes for shape (%zu, %zu), found %zu", path,
                      want, a->rows, a->cols, size - off);
        goto fail;
    }
    if (off % 4 != 0) {
        rc = hm_error(HM_EFORMAT, "%s: data offset %zu is not 4-byte aligned", path, off);
        goto fail;
    }
    a->data = (const float *)(d + off);
    return 0;
bad_shape:
    rc = hm_error(HM_EFORMAT, "%s: expected a 1-D or 2-D shape, found %.40s", path, shape);
fail:
    hm_map_release(&a->map);
    memset(a, 0, sizeof *a);
    return rc;
}

void io_npy_release(struct io_npy *a)
{
    hm_map_release(&a->map);
    memset(a, 0, sizeof *a);
}

/* ---- writing ---------------------------------------------------------------- */

int io_npy_writer_open(struct io_npy_writer *nw, const char *path, size_t rows, size_t cols)
{
    nw->rows = rows;
    nw->cols = cols;
    nw->written = 0;
    int rc = hm_awriter_open(&nw->w, path);
    if (rc)
        return rc;
    char hdr[256];
    size_t n = npy_header(hdr, rows, cols);
    rc = hm_awriter_write(&nw->w, hdr, n);
    if (rc)
        hm_awriter_abort(&nw->w);
    return rc;
}

int io_npy_writer_append(struct io_npy_writer *nw, const float *data, size_t nrows)
{
    if (nw->written + nrows > nw->rows)
        return hm_error(HM_EINVAL, "%s: appending %zu rows past the declared %zu", nw->w.path, nrows,
                        nw->rows);
    nw->written += nrows;
    return hm_awriter_write(&nw->w, data, nrows * nw->cols * sizeof(float));
}

int io_npy_writer_commit(struct io_npy_writer *nw)
{
    if (nw->written != nw->rows) {
        int rc = hm_error(HM_EINVAL, "%s: %zu of %zu rows written", nw->w.path, nw->written, nw->rows);
        hm_awriter_abort(&nw->w);
        return rc;
    }
    return hm_awriter_commit(&nw->w);
}

void io_npy_writer_abort(struct io_npy_writer *nw) { hm_awriter_abort(&nw->w); }

int io_npy_write(const char *path, const float *data, size_t rows, size_t cols)
{
    struct io_npy_writer nw;
    int rc = io_npy_writer_open(&nw, path, rows, cols);
    if (rc)
        return rc;
    if ((rc = io_npy_writer_append(&nw, data, rows)) != 0) {
        io_npy_writer_abort(&nw);
        return rc;
    }
    return io_npy_writer_commit(&nw);
}
