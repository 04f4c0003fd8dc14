/* Image embeddings mapped onto the data set's articles: read from hmrec embed's
 * image_emb.npy + image_emb.ids.txt or hmrec synth's image_embeddings.npy +
 * image_embeddings_ids.txt (through the data module's per-article matrix reader), or a CSV
 * "article_id,e0,...,e511"; stored once per article, articles without one imputed with the
 * mean of the others and flagged. */
#include "features/feat_internal.h"
#include "io/csv.h"
#include "io/idmap.h"
#include "io/parse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- building --------------------------------------------------------------------------- */

static void image_begin(struct feat_image *im, uint32_t n_articles, uint32_t dim)
{
    memset(im, 0, sizeof *im);
    im->n_articles = n_articles;
    im->dim = dim;
    im->emb = hm_xcalloc((size_t)n_articles * dim + 1, sizeof(float));
    im->inv_norm = hm_xcalloc((size_t)n_articles + 1, sizeof(float));
    im->missing = hm_xmalloc((size_t)n_articles + 1);
    memset(im->missing, 1, (size_t)n_articles + 1);
}

/* Stores article a's row (finite values); an all-zero row stays missing. */
static void image_put(struct feat_image *im, uint32_t a, const float *v)
{
    int zero = 1;
    for (uint32_t k = 0; k < im->dim && zero; k++)
        zero = v[k] == 0.0f;
    if (zero)
        return;
    memcpy(im->emb + (size_t)a * im->dim, v, im->dim * sizeof(float));
    im->missing[a] = 0;
}

/* Imputes the missing rows with the mean of the present ones and computes the norms. */
static void image_finish(struct feat_image *im)
{
    uint32_t dim = im->dim, present = 0;
    double *sum = hm_xcalloc((size_t)dim + 1, sizeof *sum);
    for (uint32_t a = 0; a < im->n_articles; a++)
        if (!im->missing[a]) {
            present++;
            for (uint32_t k = 0; k < dim; k++)
                sum[k] += im->emb[(size_t)a * dim + k];
        }
    im->n_missing = im->n_articles - present;
    for (uint32_t a = 0; a < im->n_articles; a++) {
        float *v = im->emb + (size_t)a * dim;
        if (im->missing[a])
            for (uint32_t k = 0; k < dim; k++)
                v[k] = present ? (float)(sum[k] / present) : 0.0f;
        double ss = 0;
        for (uint32_t k = 0; k < dim; k++)
            ss += (double)v[k] * v[k];
        im->inv_norm[a] = ss > 0 ? (float)(1 / sqrt(ss)) : 0.0f;
    }
    free(sum);
    if (present == 0)
        hm_warn("image embeddings: no article has one; every article gets a zero vector");
}

void feat_image_release(struct feat_image *im)
{
    free(im->emb);
    free(im->inv_norm);
    free(im->missing);
    memset(im, 0, sizeof *im);
}

int feat_image_from_matrix(struct feat_image *im, const struct data_article_matrix *m, uint32_t n_articles)
{
    if (m->dim == 0)
        return hm_error(HM_EINVAL, "image embeddings: 0 dimensions");
    image_begin(im, n_articles, m->dim);
    for (uint32_t a = 0; a < n_articles; a++)
        if (!m->missing[a])
            image_put(im, a, m->x + (size_t)a * m->dim);
    image_finish(im);
    return 0;
}

int feat_image_from_rows(struct feat_image *im, uint32_t n_articles, uint32_t dim, const float *emb,
                         const uint32_t *rows, uint64_t n)
{
    if (dim == 0)
        return hm_error(HM_EINVAL, "image embeddings: 0 dimensions");
    image_begin(im, n_articles, dim);
    uint8_t *seen = hm_xcalloc((size_t)n_articles + 1, 1);
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        uint32_t a = rows[i];
        const float *v = emb + i * dim;
        if (a == UINT32_MAX)
            continue;
        if (a >= n_articles) {
            rc = hm_error(HM_EINVAL, "image embeddings: row %llu names article row %u (%u articles)",
                          (unsigned long long)i, a, n_articles);
        } else if (seen[a]) {
            rc = hm_error(HM_EINVAL, "image embeddings: article row %u appears twice (row %llu)", a,
                          (unsigned long long)i);
        } else {
            for (uint32_t k = 0; k < dim && !rc; k++)
                if (!isfinite(v[k]))
                    rc = hm_error(HM_EINVAL, "image embeddings: row %llu, dimension %u is %s", (unsigned long long)i,
                                  k, isnan(v[k]) ? "NaN" : "infinite");
                else if (fabsf(v[k]) > DATA_EMB_LIMIT)
                    rc = hm_error(HM_EINVAL, "image embeddings: row %llu, dimension %u is %g: expected a value within "
                                             "+-%g", (unsigned long long)i, k, (double)v[k], (double)DATA_EMB_LIMIT);
            seen[a] = 1;
            if (!rc)
                image_put(im, a, v);
        }
    }
    free(seen);
    if (rc) {
        feat_image_release(im);
        return rc;
    }
    image_finish(im);
    return 0;
}

/* ---- article ids ------------------------------------------------------------------------- */

struct id_map {
    struct io_idmap32 ids;    /* article_id -> row */
    uint32_t *line;           /* (n_articles) line (or row) where each article was given; 0 = not yet */
    uint32_t n_articles;
};

static void id_map_init(struct id_map *m, const struct data_set *ds)
{
    m->n_articles = ds->articles.n;
    io_idmap32_init(&m->ids, ds->articles.n);
    for (uint32_t a = 0; a < ds->articles.n; a++)
        io_idmap32_put(&m->ids, ds->articles.article_id[a], a);
    m->line = hm_xcalloc((size_t)ds->articles.n + 1, sizeof *m->line);
}

static void id_map_release(struct id_map *m)
{
    io_idmap32_release(&m->ids);
    free(m->line);
}

/* The article row of id text s (len bytes) given on line `line` of file, or an error. */
static int id_lookup(struct id_map *m, const char *file, uint64_t line, const char *s, size_t len, uint32_t *row)
{
    uint32_t id;
    if (io_parse_u32(s, len, &id))
        return hm_error(HM_EPARSE, "%s:%llu: expected an article id (up to 10 digits), found \"%.*s\"", file,
                        (unsigned long long)line, (int)(len > 40 ? 40 : len), s);
    uint32_t a = io_idmap32_get(&m->ids, id);
    if (a == UINT32_MAX)
        return hm_error(HM_EINVAL, "%s:%llu: article id %010u is not an article of the data set", file,
                        (unsigned long long)line, id);
    if (m->line[a])
        return hm_error(HM_EINVAL, "%s:%llu: article id %010u appears twice (also on line %u)", file,
                        (unsigned long long)line, id, m->line[a]);
    m->line[a] = (uint32_t)line;
    *row = a;
    return 0;
}

/* ---- .npy with an ids file ------------------------------------------------------------- */

/* The ids file next to an .npy: X.ids.txt (hmrec embed), else X_ids.txt (hmrec synth). */
static char *ids_path(const char *npy)
{
    size_t len = strlen(npy);
    size_t stem = len >= 4 && !strcmp(npy + len - 4, ".npy") ? len - 4 : len;
    char *p = hm_xasprintf("%.*s.ids.txt", (int)stem, npy);
    if (access(p, F_OK) == 0)
        return p;
    free(p);
    p = hm_xasprintf("%.*s_ids.txt", (int)stem, npy);
    if (access(p, F_OK) == 0)
        return p;
    free(p);
    return NULL;
}

static int load_npy(struct feat_image *im, const struct data_set *ds, const char *path, uint32_t dim)
{
    if (access(path, F_OK) != 0)
        return hm_error(HM_ENOTFOUND, "%s: no such file (features.image names the image embeddings)", path);
    char *ids = ids_path(path);
    if (!ids) {
        size_t len = strlen(path);
        size_t stem = len >= 4 && !strcmp(path + len - 4, ".npy") ? len - 4 : len;
        return hm_error(HM_ENOTFOUND, "%s: no ids file (looked for %.*s.ids.txt and %.*s_ids.txt)", path,
                        (int)stem, path, (int)stem, path);
    }
    struct data_article_matrix m;
    int rc = data_article_matrix_load(&m, ds, path, ids);
    free(ids);
    if (rc)
        return rc;
    if (m.dim != dim)
        rc = hm_error(HM_EFORMAT, "%s: expected %u dimensions per article, found %u", path, dim, m.dim);
    else
        rc = feat_image_from_matrix(im, &m, ds->articles.n);
    data_article_matrix_release(&m);
    return rc;
}

/* ---- CSV: article_id,e0,...,e<dim-1> ------------------------------------------------------- */

static int load_csv(struct feat_image *im, const struct data_set *ds, const char *path, uint32_t dim)
{
    struct io_csv_file f;
    memset(&f, 0, sizeof f);
    int rc = hm_map_file(&f.map, path);
    if (rc)
        return rc;
    f.path = hm_xstrdup(path);
    f.data = f.map.size ? (const char *)f.map.data : "";
    f.size = f.map.size;
    if (f.size >= 3 && memcmp(f.data, "\xEF\xBB\xBF", 3) == 0) {
        f.data += 3;
        f.size -= 3;
    }
    int maxf = (int)dim + 2, nf;
    struct io_span *sp = hm_xmalloc_array((size_t)maxf, sizeof *sp);
    struct io_csv_syntax se;
    const char *end = f.data + f.size, *p = io_csv_skip_blank(f.data, end);
    struct id_map m;
    id_map_init(&m, ds);
    image_begin(im, ds->articles.n, dim);
    float *v = hm_xmalloc_array((size_t)dim + 1, sizeof *v);
    char what[64];
    if (p >= end) {
        rc = io_csv_error_at(&f, HM_EPARSE, 0, "expected a header line article_id,e0,...,e%u, found an empty file",
                             dim - 1);
        goto done;
    }
    /* the header */
    const char *next = io_csv_record(f.data, p, end, sp, maxf, &nf, NULL, &se);
    if (!next) {
        char *msg = io_csv_syntax_message(&f, &se);
        rc = hm_error(HM_EPARSE, "%s", msg);
        free(msg);
        goto done;
    }
    if (nf != (int)dim + 1) {
        rc = io_csv_error_at(&f, HM_EFORMAT, 0, "expected %u columns (article_id,e0,...,e%u), found %d", dim + 1,
                             dim - 1, nf);
        goto done;
    }
    for (int i = 0; i < nf; i++) {
        if (i == 0)
            snprintf(what, sizeof what, "article_id");
        else
            snprintf(what, sizeof what, "e%d", i - 1);
        if (sp[i].len != strlen(what) || memcmp(sp[i].p, what, sp[i].len) != 0) {
            char *msg = io_csv_expected(&f, sp[i].off, what, sp[i].p, sp[i].len);
            rc = hm_error(HM_EFORMAT, "%s (header)", msg);
            free(msg);
            goto done;
        }
    }
    /* the rows; line counts the line breaks before each record */
    p = io_csv_skip_blank(next, end);
    uint64_t line = 1;
    const char *counted = f.data;
    while (p < end) {
        for (const char *q = counted; (q = memchr(q, '\n', (size_t)(p - q))) != NULL; q++)
            line++;
        counted = p;
        next = io_csv_record(f.data, p, end, sp, maxf, &nf, NULL, &se);
        if (!next) {
            char *msg = io_csv_syntax_message(&f, &se);
            rc = hm_error(HM_EPARSE, "%s", msg);
            free(msg);
            goto done;
        }
        if (nf != (int)dim + 1) {
            rc = hm_error(HM_EFORMAT, "%s:%llu: expected %u fields (article_id and %u values), found %d%s", path,
                          (unsigned long long)line, dim + 1, dim, nf, next >= end ? " (truncated file?)" : "");
            goto done;
        }
        uint32_t a = 0;
        if ((rc = id_lookup(&m, path, line, sp[0].p, sp[0].len, &a)) != 0)
            goto done;
        for (uint32_t k = 0; k < dim; k++)
            if (io_parse_f32(sp[k + 1].p, sp[k + 1].len, &v[k]) || fabsf(v[k]) > DATA_EMB_LIMIT) {
                snprintf(what, sizeof what, "a finite number within +-%g (e%u)", (double)DATA_EMB_LIMIT, k);
                char *msg = io_csv_expected(&f, sp[k + 1].off, what, sp[k + 1].p, sp[k + 1].len);
                rc = hm_error(HM_EPARSE, "%s", msg);
                free(msg);
                goto done;
            }
        image_put(im, a, v);
        p = io_csv_skip_blank(next, end);
    }
    image_finish(im);
done:
    if (rc)
        feat_image_release(im);
    free(v);
    free(sp);
    id_map_release(&m);
    io_csv_release(&f);
    return rc;
}

int feat_image_load(struct feat_image *im, const struct data_set *ds, const char *path, uint32_t dim)
{
    memset(im, 0, sizeof *im);
    if (dim == 0)
        return hm_error(HM_EINVAL, "image embeddings: 0 dimensions");
    size_t len = strlen(path);
    int rc;
    if (len >= 4 && !strcmp(path + len - 4, ".csv"))
        rc = load_csv(im, ds, path, dim);
    else if (len >= 4 && !strcmp(path + len - 4, ".npy"))
        rc = load_npy(im, ds, path, dim);
    else
        return hm_error(HM_EINVAL, "%s: expected an image embeddings file ending in .npy or .csv", path);
    if (!rc)
        hm_info("image embeddings: %s, %u of %u articles, %u imputed with the mean", path,
                im->n_articles - im->n_missing, im->n_articles, im->n_missing);
    return rc;
}
