/* The features artifact: a table file (io_table_write: magic, version, row counts, a
 * checksum per column, written atomically) holding the candidates' keys and one f32 column
 * per feature. Readers reject a file written with another feature set. */
#include "features/feat_internal.h"

#include <stdlib.h>
#include <string.h>

enum { META_CUTOFF, META_NCOLS, META_HASH, META_USERS };
#define N_KEYS 3 /* user, user_off, item */

struct transpose_job {
    const float *x;   /* (n, nc) */
    float *cols;      /* (nc, n) */
    uint64_t n;
    uint32_t nc;
};

static int transpose_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct transpose_job *j = ud;
    for (size_t r = begin; r < end; r++)
        for (uint32_t k = 0; k < j->nc; k++)
            j->cols[(size_t)k * j->n + r] = j->x[r * j->nc + k];
    return 0;
}

int feat_table_write(const char *path, const struct recall_candidates *c, const float *x)
{
    const struct feat_column *fc = feat_columns();
    const uint32_t nc = feat_n_cols();
    uint64_t n = c->n;
    float *cols = hm_xmalloc_array((size_t)n * nc + 1, sizeof(float));
    struct transpose_job j = {x, cols, n, nc};
    hm_parallel_for(0, n, transpose_range, &j);
    struct io_column_desc d[N_KEYS + FEAT_MAX_COLS] = {
        {"user", IO_U32, 4, c->n_users, c->user},
        {"user_off", IO_U64, 8, (uint64_t)c->n_users + 1, c->off},
        {"item", IO_U32, 4, n, c->item},
    };
    for (uint32_t k = 0; k < nc; k++)
        d[N_KEYS + k] = (struct io_column_desc){fc[k].name, IO_F32, 4, n, cols + (size_t)k * n};
    uint64_t meta[IO_TABLE_META] = {0};
    meta[META_CUTOFF] = (uint64_t)c->cutoff;
    meta[META_NCOLS] = nc;
    meta[META_HASH] = feat_set_hash();
    meta[META_USERS] = c->n_users;
    int rc = io_table_write(path, "features", n, meta, d, (int)(N_KEYS + nc));
    free(cols);
    return rc;
}

int feat_table_read(struct feat_table *t, const char *path)
{
    memset(t, 0, sizeof *t);
    int rc = io_table_open(&t->t, path, "features", 0);
    if (rc)
        return rc;
    const char *const *names = feat_column_names();
    const uint32_t nc = feat_n_cols();
    const struct io_table *it = &t->t;
    if (it->meta[META_NCOLS] != nc || it->n_cols != (int)(N_KEYS + nc)) {
        rc = hm_error(HM_EFORMAT, "'%s': %llu feature columns, this build computes %u: written with another feature set",
                      path, (unsigned long long)it->meta[META_NCOLS], nc);
        goto fail;
    }
    for (uint32_t k = 0; k < nc; k++)
        if (strcmp(it->cols[N_KEYS + k].name, names[k]) != 0) {
            rc = hm_error(HM_EFORMAT, "'%s': feature column %u is '%s', this build's is '%s': written with another "
                          "feature set", path, k, it->cols[N_KEYS + k].name, names[k]);
            goto fail;
        }
    if (it->meta[META_HASH] != feat_set_hash()) {
        rc = hm_error(HM_EFORMAT, "'%s': the feature-set hash differs from this build's", path);
        goto fail;
    }
    uint64_t n = it->n_rows, nu = it->meta[META_USERS];
    const void *user, *off, *item;
    if ((rc = io_table_column(it, "user", IO_U32, nu, &user)) ||
        (rc = io_table_column(it, "user_off", IO_U64, nu + 1, &off)) ||
        (rc = io_table_column(it, "item", IO_U32, n, &item)))
        goto fail;
    for (uint32_t k = 0; k < nc; k++) {
        const void *col;
        if ((rc = io_table_column(it, names[k], IO_F32, n, &col)) != 0)
            goto fail;
        t->col[k] = col;
    }
    const uint64_t *o = off;
    int bad = o[0] != 0 || o[nu] != n;
    for (uint64_t i = 0; i < nu && !bad; i++)
        bad = o[i] > o[i + 1];
    if (bad) {
        rc = hm_error(HM_EFORMAT, "'%s': user_off is not a valid offset array over %llu rows", path,
                      (unsigned long long)n);
        goto fail;
    }
    t->cutoff = (int32_t)it->meta[META_CUTOFF];
    t->n_cols = nc;
    t->n_users = (uint32_t)nu;
    t->n = n;
    t->user = user;
    t->off = off;
    t->item = item;
    return 0;
fail:
    io_table_release(&t->t);
    memset(t, 0, sizeof *t);
    return rc;
}

void feat_table_release(struct feat_table *t)
{
    io_table_release(&t->t);
    memset(t, 0, sizeof *t);
}

void feat_table_rows(const struct feat_table *t, uint64_t begin, uint64_t end, float *x)
{
    if (end > t->n || begin > end)
        HM_BUG("feat_table_rows: rows [%llu, %llu) of %llu", (unsigned long long)begin, (unsigned long long)end,
               (unsigned long long)t->n);
    for (uint64_t r = begin; r < end; r++)
        for (uint32_t k = 0; k < t->n_cols; k++)
            x[(r - begin) * t->n_cols + k] = t->col[k][r];
}
