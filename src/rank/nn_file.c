/* Model files: a table file "nn_model" (io/table.h: magic, version, sizes, checksums,
 * atomic write) holding the architecture, the input columns, the standardisation, the
 * parameters and the BatchNorm running statistics. Layout in docs/nn.md. */
#include "rank/nn_internal.h"

#include "io/table.h"

#include <stdlib.h>
#include <string.h>

#define NN_FILE_TABLE "nn_model"
#define NN_FILE_VERSION 1u
/* the "arch" column: in[4], depth[5] (4 towers, fusion), widths[5][NN_MAX_DEPTH] */
#define ARCH_WORDS (NN_NTOWERS + (NN_NTOWERS + 1) * (1 + NN_MAX_DEPTH))

int nn_save(const struct nn_model *m, const char *path)
{
    const struct nn_arch *a = &m->a;
    uint32_t arch[ARCH_WORDS] = {0};
    for (int t = 0; t < NN_NTOWERS; t++)
        arch[t] = a->in[t];
    for (int t = 0; t <= NN_NTOWERS; t++) {
        uint32_t first = t < NN_NTOWERS ? a->first[t] : a->fusion_first;
        uint32_t depth = t < NN_NTOWERS ? (a->in[t] ? a->depth[t] : 0) : a->fusion_depth;
        arch[NN_NTOWERS + t] = depth;
        for (uint32_t i = 0; i < depth; i++)
            arch[NN_NTOWERS + (NN_NTOWERS + 1) + t * NN_MAX_DEPTH + i] = a->blk[first + i].out;
    }
    float scalars[3] = {a->dropout, a->bn_momentum, a->bn_eps};
    struct hm_buf names = {0};
    for (uint32_t i = 0; i < m->n_in; i++)
        hm_buf_append(&names, m->in_name[i], strlen(m->in_name[i]) + 1); /* with the NUL */
    uint64_t meta[IO_TABLE_META] = {NN_FILE_VERSION, m->n_in, m->image_dim, a->n_params, a->n_running};
    struct io_column_desc cols[] = {
        {"arch", IO_U32, 4, ARCH_WORDS, arch},
        {"scalars", IO_F32, 4, 3, scalars},
        {"in_names", IO_U8, 1, names.len, names.s},
        {"in_tower", IO_U8, 1, m->n_in, m->in_tower},
        {"in_mean", IO_F32, 4, m->n_in, m->in_mean},
        {"in_scale", IO_F32, 4, m->n_in, m->in_scale},
        {"img_mean", IO_F32, 4, m->image_dim, m->img_mean},
        {"img_scale", IO_F32, 4, m->image_dim, m->img_scale},
        {"params", IO_F32, 4, a->n_params, m->params},
        {"running", IO_F32, 4, a->n_running, m->running},
    };
    int rc = io_table_write(path, NN_FILE_TABLE, m->n_in, meta, cols, (int)(sizeof cols / sizeof cols[0]));
    hm_buf_release(&names);
    return rc ? hm_error_wrap(rc, "nn: writing the model") : 0;
}

static int bad(struct io_table *t, const char *what)
{
    int rc = hm_error(HM_EFORMAT, "'%s': not a valid network model: %s", t->path, what);
    io_table_release(t);
    return rc;
}

int nn_load(const char *path, struct nn_model **out)
{
    *out = NULL;
    struct io_table t;
    int rc = io_table_open(&t, path, NN_FILE_TABLE, 0);
    if (rc)
        return rc;
    if (t.meta[0] != NN_FILE_VERSION) {
        rc = hm_error(HM_EFORMAT, "'%s': network model format %llu, this hmrec reads %u", path,
                      (unsigned long long)t.meta[0], NN_FILE_VERSION);
        io_table_release(&t);
        return rc;
    }
    uint64_t n_in = t.meta[1], image_dim = t.meta[2];
    const uint32_t *arch;
    const float *scalars;
    if (n_in > UINT32_MAX || image_dim > NN_MAX_WIDTH ||
        io_table_column(&t, "arch", IO_U32, ARCH_WORDS, (const void **)&arch) ||
        io_table_column(&t, "scalars", IO_F32, 3, (const void **)&scalars))
        return bad(&t, "architecture");
    uint32_t in[NN_NTOWERS], depth[NN_NTOWERS + 1], hidden[NN_NTOWERS + 1][NN_MAX_DEPTH];
    for (int i = 0; i < NN_NTOWERS; i++)
        in[i] = arch[i];
    for (int i = 0; i <= NN_NTOWERS; i++) {
        depth[i] = arch[NN_NTOWERS + i];
        if (depth[i] > NN_MAX_DEPTH)
            return bad(&t, "architecture depth");
        for (int k = 0; k < NN_MAX_DEPTH; k++) {
            hidden[i][k] = arch[NN_NTOWERS + (NN_NTOWERS + 1) + i * NN_MAX_DEPTH + k];
            if ((uint32_t)k < depth[i] && (hidden[i][k] < 1 || hidden[i][k] > NN_MAX_WIDTH))
                return bad(&t, "architecture widths");
        }
    }
    struct nn_arch a;
    if (in[NN_IMAGE] != image_dim || in[NN_USER] + (uint64_t)in[NN_ITEM] + in[NN_PAIR] != n_in ||
        !(scalars[0] >= 0 && scalars[0] < 1) || !(scalars[2] > 0) ||
        nn_arch_build(&a, in, (const uint32_t(*)[NN_MAX_DEPTH])hidden, depth, scalars[0], scalars[1],
                      scalars[2]) != 0 ||
        a.n_params != t.meta[3] || a.n_running != t.meta[4])
        return bad(&t, "inconsistent architecture");
    const uint8_t *names, *tower;
    const float *in_mean, *in_scale, *img_mean, *img_scale, *params, *running;
    int miss = io_table_column(&t, "in_names", IO_U8, UINT64_MAX, (const void **)&names) ||
               io_table_column(&t, "in_tower", IO_U8, n_in, (const void **)&tower) ||
               io_table_column(&t, "in_mean", IO_F32, n_in, (const void **)&in_mean) ||
               io_table_column(&t, "in_scale", IO_F32, n_in, (const void **)&in_scale) ||
               io_table_column(&t, "img_mean", IO_F32, image_dim, (const void **)&img_mean) ||
               io_table_column(&t, "img_scale", IO_F32, image_dim, (const void **)&img_scale) ||
               io_table_column(&t, "params", IO_F32, a.n_params, (const void **)&params) ||
               io_table_column(&t, "running", IO_F32, a.n_running, (const void **)&running);
    if (miss) {
        rc = hm_error_wrap(HM_EFORMAT, "'%s': not a valid network model", path);
        io_table_release(&t);
        return rc;
    }
    /* names: exactly n_in NUL-terminated strings; towers in model order (user, item, pair) */
    uint64_t name_bytes = 0;
    for (int c = 0; c < t.n_cols; c++)
        if (strcmp(t.cols[c].name, "in_names") == 0)
            name_bytes = t.cols[c].count;
    uint64_t n_names = 0;
    for (uint64_t i = 0; i < name_bytes; i++)
        n_names += names[i] == 0;
    if (n_names != n_in || (name_bytes && names[name_bytes - 1] != 0))
        return bad(&t, "input column names");
    for (uint64_t i = 0; i < n_in; i++) {
        uint8_t want = i < in[NN_USER] ? RANK_TOWER_USER
                       : i < in[NN_USER] + in[NN_ITEM] ? RANK_TOWER_ITEM : RANK_TOWER_PAIR;
        if (tower[i] != want)
            return bad(&t, "input column towers");
    }
    struct nn_model *m = nn_model_alloc(&a, (uint32_t)n_in, (uint32_t)image_dim);
    const char *s = (const char *)names;
    for (uint32_t i = 0; i < n_in; i++) {
        m->in_name[i] = hm_xstrdup(s);
        s += strlen(s) + 1;
    }
    memcpy(m->in_tower, tower, n_in);
    memcpy(m->in_mean, in_mean, n_in * sizeof *in_mean);
    memcpy(m->in_scale, in_scale, n_in * sizeof *in_scale);
    memcpy(m->img_mean, img_mean, image_dim * sizeof *img_mean);
    memcpy(m->img_scale, img_scale, image_dim * sizeof *img_scale);
    memcpy(m->params, params, a.n_params * sizeof *params);
    memcpy(m->running, running, a.n_running * sizeof *running);
    io_table_release(&t);
    *out = m;
    return 0;
}
