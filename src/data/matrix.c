/* Per-article matrices (text and image embeddings): a .npy file of n rows and a text file
 * with the article id of each row, mapped onto the store's article rows. */
#include "data/data.h"
#include "io/npy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void data_article_matrix_release(struct data_article_matrix *m)
{
    free(m->x);
    free(m->missing);
    memset(m, 0, sizeof *m);
}

int data_article_matrix_load(struct data_article_matrix *m, const struct data_set *ds,
                             const char *npy_path, const char *ids_path)
{
    memset(m, 0, sizeof *m);
    struct io_npy a;
    int rc = io_npy_open(&a, npy_path);
    if (rc)
        return rc;
    char *text = NULL;
    size_t len = 0;
    if ((rc = hm_read_file(ids_path, &text, &len)) != 0) {
        io_npy_release(&a);
        return rc;
    }
    uint32_t na = ds->articles.n;
    size_t cols = a.cols;
    m->dim = (uint32_t)cols;
    m->x = hm_xcalloc((size_t)na * cols + 1, sizeof *m->x);
    m->missing = hm_xmalloc((size_t)na + 1);
    memset(m->missing, 1, (size_t)na + 1);
    uint8_t *seen = hm_xcalloc((size_t)na + 1, 1);
    struct data_id_index ix;
    data_id_index_init(&ix, ds);
    size_t row = 0, line = 1;
    const char *p = text, *end = text + len;
    while (p < end && !rc) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t l = (size_t)(e - p);
        if (l && p[l - 1] == '\r')
            l--;
        if (l == 0 && !nl) /* no trailing newline after the last id */
            break;
        uint32_t id, art;
        if (row >= a.rows) {
            rc = hm_error(HM_EFORMAT, "%s:%zu: more ids than the %zu rows of '%s'", ids_path, line, a.rows,
                          npy_path);
        } else if (io_parse_u32(p, l, &id) != 0) {
            rc = hm_error(HM_EPARSE, "%s:%zu: expected an article id, found \"%.*s\"", ids_path, line,
                          (int)(l > 40 ? 40 : l), p);
        } else if ((art = data_id_index_article(&ix, id)) == UINT32_MAX) {
            rc = hm_error(HM_EFORMAT, "%s:%zu: article %.*s is not in the store's articles", ids_path, line,
                          (int)l, p);
        } else if (seen[art]) {
            rc = hm_error(HM_EFORMAT, "%s:%zu: article %.*s appears twice", ids_path, line, (int)l, p);
        } else {
            const float *src = a.data + row * cols;
            int zero = 1;
            for (size_t k = 0; k < cols && !rc; k++) {
                if (!isfinite(src[k]))
                    rc = hm_error(HM_EFORMAT, "%s: row %zu (article %.*s) column %zu is %s", npy_path, row,
                                  (int)l, p, k, isnan(src[k]) ? "NaN" : "infinite");
                else if (fabsf(src[k]) > DATA_EMB_LIMIT)
                    rc = hm_error(HM_EFORMAT, "%s: row %zu (article %.*s) column %zu is %g: expected a value within "
                                              "+-%g (embeddings are unit-length or close)", npy_path, row, (int)l, p,
                                  k, (double)src[k], (double)DATA_EMB_LIMIT);
                zero &= src[k] == 0.0f;
            }
            if (!rc) {
                memcpy(m->x + (size_t)art * cols, src, cols * sizeof *src);
                seen[art] = 1;
                m->missing[art] = zero; /* an all-zero row is a missing embedding */
            }
        }
        row++;
        line++;
        p = nl ? nl + 1 : end;
    }
    if (!rc && row != a.rows)
        rc = hm_error(HM_EFORMAT, "%s: %zu ids for the %zu rows of '%s'", ids_path, row, a.rows, npy_path);
    data_id_index_release(&ix);
    free(seen);
    free(text);
    io_npy_release(&a);
    if (rc) {
        data_article_matrix_release(m);
        return rc;
    }
    for (uint32_t i = 0; i < na; i++)
        m->n_missing += m->missing[i];
    return 0;
}

int data_article_matrix_write(const struct data_set *ds, const float *x, uint32_t dim,
                              const char *npy_path, const char *ids_path)
{
    struct hm_buf b = {0};
    for (uint32_t a = 0; a < ds->articles.n; a++) {
        char id[11];
        data_article_str(ds, a, id);
        hm_buf_printf(&b, "%s\n", id);
    }
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, ids_path);
    if (!rc) {
        hm_awriter_write(&w, b.s ? b.s : "", b.len);
        rc = hm_awriter_commit(&w);
    }
    hm_buf_release(&b);
    if (!rc)
        rc = io_npy_write(npy_path, x, ds->articles.n, dim);
    return rc;
}
