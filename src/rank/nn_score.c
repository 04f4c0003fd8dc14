/* Scoring candidates with the split of the first fusion layer.
 *
 * In eval mode every BatchNorm is an affine map and is folded into the Linear before it. The
 * first fusion Linear is linear in the concatenated tower outputs, W [u; i; img; p] + b =
 * W_u u + W_i i + W_img img + W_p p + b, and the user tower depends on the customer alone, the
 * item and image towers on the article alone. So the user part (with the bias) is computed
 * once per customer group, the item and image parts once per distinct article of the data, and
 * per candidate row only their sum (plus the pair tower's part when there is one), the ReLU
 * and the rest of the fusion. nn_score_plain is the unsplit forward pass it is tested against. */
#include "rank/nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TILE 1024          /* rows per GEMM tile; also the most groups in a chunk */
#define CHUNK_ROWS 4096    /* a chunk of groups ends once it has this many rows */
#define ART_CHUNK TILE     /* articles per task of the article parts */
#define PREFETCH 4         /* rows ahead whose article parts are prefetched */

/* ---- BatchNorm folded into the Linear layers ---------------------------------------------- */

/* The eval network: block k is relu(w[k] x + b[k]). One allocation (mem). */
struct folded {
    float *mem;
    float *w[NN_MAX_BLOCKS]; /* (out, in) */
    float *b[NN_MAX_BLOCKS]; /* (out) */
};

static void fold(const struct nn_model *m, struct folded *f)
{
    const struct nn_arch *a = &m->a;
    size_t n = 0;
    for (uint32_t k = 0; k < a->n_blocks; k++)
        n += (size_t)a->blk[k].out * (a->blk[k].in + 1);
    float *p = f->mem = hm_xmalloc_array(n + 1, sizeof *p);
    for (uint32_t k = 0; k < a->n_blocks; k++) {
        const struct nn_block *bk = &a->blk[k];
        f->w[k] = p, p += (size_t)bk->out * bk->in;
        f->b[k] = p, p += bk->out;
        /* gamma (W x + b - rm) / sqrt(rv + eps) + beta = (s W) x + s (b - rm) + beta */
        for (uint32_t o = 0; o < bk->out; o++) {
            double s = m->params[bk->gamma + o] / sqrt((double)m->running[bk->rvar + o] + a->bn_eps);
            const float *w = m->params + bk->w + (size_t)o * bk->in;
            float *fw = f->w[k] + (size_t)o * bk->in;
            for (uint32_t i = 0; i < bk->in; i++)
                fw[i] = (float)(s * w[i]);
            f->b[k][o] = (float)(s * ((double)m->params[bk->b + o] - m->running[bk->rmean + o]) +
                                 m->params[bk->beta + o]);
        }
    }
}

static void relu_inplace(float *x, size_t n)
{
    NN_VLOOP(i, n, x[i] = x[i] > 0 ? x[i] : 0);
}

/* h (n) = relu(u + a + p) (p NULL: relu(u + a)) */
static void sum_relu(float *restrict h, const float *restrict u, const float *restrict a,
                     const float *restrict p, size_t n)
{
    if (p)
        NN_VLOOP(k, n, float v = u[k] + a[k] + p[k]; h[k] = v > 0 ? v : 0);
    else
        NN_VLOOP(k, n, float v = u[k] + a[k]; h[k] = v > 0 ? v : 0);
}

/* The blocks [first, first + depth) on x (n, in): the result is in one of ta, tb (n, widest),
 * returned. */
static const float *run_blocks(const struct folded *f, const struct nn_arch *a, uint32_t first,
                               uint32_t depth, const float *x, size_t n, float *ta, float *tb)
{
    for (uint32_t k = first; k < first + depth; k++) {
        float *y = (k - first) % 2 ? tb : ta;
        nn_linear_forward(y, a->blk[k].out, x, a->blk[k].in, f->w[k], f->b[k], n, a->blk[k].in,
                          a->blk[k].out);
        relu_inplace(y, n * a->blk[k].out);
        x = y;
    }
    return x;
}

/* ---- the scoring job -------------------------------------------------------------------------- */

enum bad_kind { BAD_NONE, BAD_INF, BAD_USER, BAD_ITEM, BAD_IMAGE };

/* The first problem found in one task (tasks report in order, so the first is the lowest row). */
struct bad {
    int kind;
    uint64_t row, other; /* row, and the row it was compared with */
    uint32_t col;        /* model input */
};

struct scratch { /* one thread's buffers */
    float *x;        /* (TILE, widest input) gathered inputs */
    float *ta, *tb;  /* (TILE, widest) block outputs */
    float *u;        /* (TILE, h1) user parts of a chunk's groups */
    float *pp;       /* (TILE, h1) pair parts of a tile's rows */
    uint32_t *art;   /* (TILE) */
    uint64_t *rows;  /* (TILE) */
    void *mem;
};

struct job {
    const struct nn_model *m;
    const struct rank_data *d;
    const uint32_t *col;    /* (n_in) */
    struct folded f;
    uint32_t h1;            /* width of the first fusion block */
    /* articles: one slot per distinct (article, item column values); one per article when the
     * rows come from one cutoff, one per article and cutoff when weeks are stacked */
    uint32_t *row_slot;     /* (n_rows) slot of each row */
    uint64_t *rep;          /* (n_distinct) the first row of each slot */
    uint32_t *rep_art;      /* (n_distinct) the article */
    uint32_t n_distinct;
    float *apart;           /* (n_distinct, h1) item + image parts */
    uint64_t *ahash;        /* (n_distinct) hash of the item columns of each slot's first row */
    /* groups */
    uint32_t *chunk_g;      /* (n_chunks + 1) chunk c is groups [chunk_g[c], chunk_g[c + 1]) */
    size_t n_chunks;
    struct scratch *s;      /* (threads) */
    struct bad *bad;        /* (tasks) */
    float *out;             /* (n_rows) */
};

static void scratch_init(struct scratch *s, const struct nn_arch *a, uint32_t h1)
{
    uint32_t win = a->in[NN_USER];
    for (int t = 1; t < NN_NTOWERS; t++)
        win = a->in[t] > win ? a->in[t] : win;
    size_t n = (size_t)TILE * (win + 2 * (size_t)a->widest + 2 * (size_t)h1);
    float *p = s->mem = hm_xmalloc_array(n + 3 * (size_t)TILE + 1, sizeof *p);
    s->x = p, p += (size_t)TILE * win;
    s->ta = p, p += (size_t)TILE * a->widest;
    s->tb = p, p += (size_t)TILE * a->widest;
    s->u = p, p += (size_t)TILE * h1;
    s->pp = p, p += (size_t)TILE * h1;
    s->art = (uint32_t *)p, p += TILE;
    s->rows = (uint64_t *)p;
}

/* part (n, h1) (+)= y (n, out[t]) W_t^T, W_t the first fusion Linear's columns of tower t */
static void add_part(const struct job *j, int t, const float *y, size_t n, float *part, int accumulate)
{
    const struct nn_arch *a = &j->m->a;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)j->h1, (int)a->out[t], 1, y,
                (int)a->out[t], j->f.w[a->fusion_first] + a->off[t], (int)a->concat,
                accumulate ? 1.0f : 0.0f, part, (int)j->h1);
}

/* Tower t (user, item or pair) on the standardised inputs of rows[0..n) of the data. */
static const float *tower_rows(const struct job *j, struct scratch *s, int t, const uint64_t *rows,
                               uint64_t r0, size_t n, struct bad *bad)
{
    const struct nn_arch *a = &j->m->a;
    size_t i = nn_gather(j->m, j->col, j->d, t, rows, r0, n, s->x);
    if (i < n && !bad->kind)
        *bad = (struct bad){.kind = BAD_INF, .row = rows ? rows[i] : r0 + i};
    return run_blocks(&j->f, a, a->first[t], a->depth[t], s->x, n, s->ta, s->tb);
}

/* A hash of row x's values of model inputs [lo, hi) (NaN as one value). */
static uint64_t columns_hash(const float *x, const uint32_t *col, uint32_t lo, uint32_t hi)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (uint32_t i = lo; i < hi; i++) {
        float v = x[col[i]];
        uint32_t bits;
        memcpy(&bits, &v, 4);
        if (v != v)
            bits = 0x7fc00000u;
        h = (h ^ bits) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    return hm_mix64(h);
}

/* Task: the item and image parts of distinct articles [begin, end). */
static int article_task(size_t begin, size_t end, int tid, void *ud)
{
    struct job *j = ud;
    struct scratch *s = &j->s[tid];
    const struct nn_arch *a = &j->m->a;
    struct bad *bad = &j->bad[begin / ART_CHUNK];
    size_t n = end - begin;
    float *part = j->apart + begin * j->h1;
    int have = 0;
    uint32_t nu = a->in[NN_USER], ni = a->in[NN_ITEM];
    (void)nu;
    (void)ni;
    if (a->in[NN_ITEM]) {
        add_part(j, NN_ITEM, tower_rows(j, s, NN_ITEM, j->rep + begin, 0, n, bad), n, part, 0);
        have = 1;
    }
    if (a->in[NN_IMAGE]) {
        size_t i = nn_gather_image(j->m, j->d, j->rep_art + begin, n, s->x, 1);
        if (i < n && !bad->kind)
            *bad = (struct bad){.kind = BAD_IMAGE, .row = j->rep[begin + i]};
        const float *y = run_blocks(&j->f, a, a->first[NN_IMAGE], a->depth[NN_IMAGE], s->x, n,
                                    s->ta, s->tb);
        add_part(j, NN_IMAGE, y, n, part, have);
        have = 1;
    }
    if (!have)
        memset(part, 0, n * j->h1 * sizeof *part);
    return 0;
}

static inline int same_value(float x, float y) { return x == y || (isnan(x) && isnan(y)); }

/* Checks that row r's columns of model inputs [lo, hi) equal those of row ref. */
static void check_same(const struct job *j, uint64_t r, uint64_t ref, uint32_t lo, uint32_t hi,
                       int kind, struct bad *bad)
{
    const float *x = j->d->x + r * j->d->n_cols, *y = j->d->x + ref * j->d->n_cols;
    for (uint32_t i = lo; i < hi; i++)
        if (!same_value(x[j->col[i]], y[j->col[i]])) {
            if (!bad->kind)
                *bad = (struct bad){.kind = kind, .row = r, .other = ref, .col = i};
            return;
        }
}

/* The rest of the network on a tile of rows [r0, r0 + n) whose groups start at g (the tile
 * lies inside the chunk starting at group g0, whose user parts are in s->u). */
static void score_tile(struct job *j, struct scratch *s, uint64_t r0, size_t n, uint32_t g0,
                       struct bad *bad)
{
    const struct nn_model *m = j->m;
    const struct nn_arch *a = &m->a;
    const struct rank_data *d = j->d;
    uint32_t h1 = j->h1, nu = a->in[NN_USER], ni = a->in[NN_ITEM];
    if (a->in[NN_PAIR])
        add_part(j, NN_PAIR, tower_rows(j, s, NN_PAIR, NULL, r0, n, bad), n, s->pp, 0);
    /* h1 = relu(user part + article part (+ pair part)), into ta; the article parts are rows of
     * a large table read in random order, so they are prefetched a few rows ahead */
    const uint32_t *slot = j->row_slot + r0;
    uint32_t g = g0;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = r0 + i;
        if (i + PREFETCH < n) {
            const char *p = (const char *)(j->apart + (size_t)slot[i + PREFETCH] * h1);
            for (size_t b = 0; b < h1 * sizeof(float); b += 64)
                __builtin_prefetch(p + b);
        }
        while (d->group_off[g + 1] <= r)
            g++;
        sum_relu(s->ta + i * h1, s->u + (size_t)(g - g0) * h1, j->apart + (size_t)slot[i] * h1,
                 a->in[NN_PAIR] ? s->pp + i * h1 : NULL, h1);
        /* user columns as in the group's first row; item columns as in the slot's first row
         * (slots are keyed by a hash of the item columns: a collision is caught here) */
        if (nu)
            check_same(j, r, d->group_off[g], 0, nu, BAD_USER, bad);
        if (ni)
            check_same(j, r, j->rep[slot[i]], nu, nu + ni, BAD_ITEM, bad);
    }
    const float *y = s->ta;
    uint32_t last = a->fusion_first + a->fusion_depth;
    for (uint32_t k = a->fusion_first + 1; k < last; k++) {
        float *o = (k - a->fusion_first) % 2 ? s->tb : s->ta;
        nn_linear_forward(o, a->blk[k].out, y, a->blk[k].in, j->f.w[k], j->f.b[k], n, a->blk[k].in,
                          a->blk[k].out);
        relu_inplace(o, n * a->blk[k].out);
        y = o;
    }
    /* logit = y head_w + head_b */
    float *out = j->out + r0;
    for (size_t i = 0; i < n; i++)
        out[i] = m->params[a->head_b];
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)a->head_in, 1.0f, y, (int)a->head_in,
                m->params + a->head_w, 1, 1.0f, out, 1);
}

/* Task: chunks [begin, end) of groups. */
static int group_task(size_t begin, size_t end, int tid, void *ud)
{
    struct job *j = ud;
    struct scratch *s = &j->s[tid];
    const struct nn_arch *a = &j->m->a;
    const struct rank_data *d = j->d;
    for (size_t c = begin; c < end; c++) {
        struct bad *bad = &j->bad[c];
        uint32_t g0 = j->chunk_g[c], g1 = j->chunk_g[c + 1], ng = g1 - g0;
        /* user parts (with the first fusion layer's bias) of the chunk's groups */
        for (uint32_t i = 0; i < ng; i++)
            memcpy(s->u + (size_t)i * j->h1, j->f.b[a->fusion_first], j->h1 * sizeof *s->u);
        if (a->in[NN_USER]) {
            for (uint32_t i = 0; i < ng; i++) /* an empty group's row is never used */
                s->rows[i] = d->group_off[g0 + i] < d->n_rows ? d->group_off[g0 + i] : 0;
            add_part(j, NN_USER, tower_rows(j, s, NN_USER, s->rows, 0, ng, bad), ng, s->u, 1);
        }
        for (uint64_t r = d->group_off[g0]; r < d->group_off[g1]; r += TILE) {
            uint64_t e = r + TILE < d->group_off[g1] ? r + TILE : d->group_off[g1];
            score_tile(j, s, r, (size_t)(e - r), g0, bad);
        }
    }
    return 0;
}

/* ---- nn_score --------------------------------------------------------------------------------- */

static int report_bad(const struct job *j, const struct bad *bad, size_t n)
{
    const struct rank_data *d = j->d;
    for (size_t i = 0; i < n; i++) {
        const struct bad *b = &bad[i];
        switch (b->kind) {
        case BAD_NONE:
            continue;
        case BAD_INF:
            return hm_error(HM_EINVAL, "nn: row %llu has an infinite feature value",
                            (unsigned long long)b->row);
        case BAD_IMAGE:
            return hm_error(HM_EINVAL, "nn: the image embedding of article %u (row %llu) has a value that is not finite",
                            d->item[b->row], (unsigned long long)b->row);
        case BAD_USER:
            return hm_error(HM_EINVAL,
                            "nn: row %llu: user column '%s' differs from row %llu of the same customer "
                            "group (user columns must depend on the customer only)",
                            (unsigned long long)b->row, j->m->in_name[b->col], (unsigned long long)b->other);
        case BAD_ITEM:
            return hm_error(HM_EINVAL,
                            "nn: row %llu: item column '%s' differs from row %llu of the same article %u "
                            "(a hash collision of two articles' item columns)",
                            (unsigned long long)b->row, j->m->in_name[b->col],
                            (unsigned long long)b->other, d->item[b->row]);
        }
    }
    return 0;
}

/* The groups must partition the rows in order. */
static int check_groups(const struct rank_data *d)
{
    if (!d->group_off || d->group_off[0] != 0 || d->group_off[d->n_groups] != d->n_rows)
        return hm_error(HM_EINVAL, "nn: the groups do not cover the %llu rows",
                        (unsigned long long)d->n_rows);
    for (uint32_t g = 0; g < d->n_groups; g++)
        if (d->group_off[g + 1] < d->group_off[g])
            return hm_error(HM_EINVAL, "nn: group %u ends before it starts", g);
    return 0;
}

int nn_score(const struct nn_model *m, const struct rank_data *d, float *out)
{
    const struct nn_arch *a = &m->a;
    struct job j = {.m = m, .d = d, .out = out, .h1 = a->blk[a->fusion_first].out};
    uint32_t *col = hm_xcalloc((size_t)m->n_in + 1, sizeof *col);
    int rc = nn_map_columns(m, d, col);
    if (!rc)
        rc = check_groups(d);
    if (rc || !d->n_rows) {
        free(col);
        return rc;
    }
    j.col = col;
    int64_t t0 = hm_now_ns();
    fold(m, &j.f);

    /* distinct (article, item column values), each with the first row that has them: an open
     * addressing table keyed by the article and a hash of its item columns */
    uint32_t nu = a->in[NN_USER], ni = a->in[NN_ITEM];
    uint64_t cap = 64;
    while (cap < 2 * d->n_rows + 2)
        cap *= 2;
    uint32_t *table = hm_xmalloc_array(cap, sizeof *table); /* slot + 1, 0 = empty */
    memset(table, 0, cap * sizeof *table);
    j.row_slot = hm_xmalloc_array(d->n_rows + 1, sizeof *j.row_slot);
    HM_VEC(uint64_t) rep = {0};
    HM_VEC(uint32_t) rep_art = {0};
    HM_VEC(uint64_t) ahash = {0};
    for (uint64_t r = 0; r < d->n_rows; r++) {
        uint64_t h = ni ? columns_hash(d->x + r * d->n_cols, col, nu, nu + ni) : 0;
        uint64_t k = hm_mix64(h ^ ((uint64_t)d->item[r] * 0x9e3779b97f4a7c15ULL)) & (cap - 1);
        for (;; k = (k + 1) & (cap - 1)) {
            uint32_t s = table[k];
            if (s == 0) {
                table[k] = (uint32_t)rep.n + 1;
                j.row_slot[r] = (uint32_t)rep.n;
                HM_VEC_PUSH(&rep, r);
                HM_VEC_PUSH(&rep_art, d->item[r]);
                HM_VEC_PUSH(&ahash, h);
                break;
            }
            if (rep_art.v[s - 1] == d->item[r] && ahash.v[s - 1] == h) {
                j.row_slot[r] = s - 1;
                break;
            }
        }
    }
    free(table);
    j.rep = rep.v;
    j.rep_art = rep_art.v;
    j.ahash = ahash.v;
    j.n_distinct = (uint32_t)rep.n;
    j.apart = hm_xmalloc_array((size_t)j.n_distinct * j.h1, sizeof *j.apart);

    /* chunks of whole groups: fixed by the data, not by the thread count */
    HM_VEC(uint32_t) cg = {0};
    HM_VEC_PUSH(&cg, 0);
    for (uint32_t g = 0; g < d->n_groups;) {
        uint32_t s = g;
        while (g < d->n_groups && g - s < TILE && d->group_off[g] - d->group_off[s] < CHUNK_ROWS)
            g++;
        HM_VEC_PUSH(&cg, g);
    }
    j.chunk_g = cg.v;
    j.n_chunks = cg.n - 1;

    int nt = hm_threads();
    j.s = hm_xcalloc((size_t)nt, sizeof *j.s);
    for (int t = 0; t < nt; t++)
        scratch_init(&j.s[t], a, j.h1);
    size_t n_art_tasks = (j.n_distinct + ART_CHUNK - 1) / ART_CHUNK;
    size_t n_tasks = n_art_tasks > j.n_chunks ? n_art_tasks : j.n_chunks;
    j.bad = hm_xcalloc(n_tasks + 1, sizeof *j.bad);

    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1); /* parallel over tasks instead */
    double t_setup = hm_seconds_since(t0);
    hm_parallel_chunks(nt, j.n_distinct, ART_CHUNK, article_task, &j);
    double t_art = hm_seconds_since(t0) - t_setup;
    rc = report_bad(&j, j.bad, n_art_tasks);
    if (!rc) {
        hm_parallel_chunks(nt, j.n_chunks, 1, group_task, &j);
        rc = report_bad(&j, j.bad, j.n_chunks);
    }
    openblas_set_num_threads(blas_threads);
    hm_debug("nn: scored %llu rows of %u groups: setup %.3f s, %u distinct articles %.3f s, rows %.3f s",
             (unsigned long long)d->n_rows, d->n_groups, t_setup, j.n_distinct, t_art,
             hm_seconds_since(t0) - t_setup - t_art);

    for (int t = 0; t < nt; t++)
        free(j.s[t].mem);
    free(j.s);
    free(j.bad);
    free(j.chunk_g);
    free(j.apart);
    free(j.ahash);
    free(j.rep);
    free(j.rep_art);
    free(j.row_slot);
    free(j.f.mem);
    free(col);
    return rc;
}

/* ---- the plain forward pass --------------------------------------------------------------------- */

int nn_score_plain(const struct nn_model *m, const struct rank_data *d, float *out)
{
    const struct nn_arch *a = &m->a;
    uint32_t *col = hm_xcalloc((size_t)m->n_in + 1, sizeof *col);
    int rc = nn_map_columns(m, d, col);
    if (rc) {
        free(col);
        return rc;
    }
    struct nn_acts w;
    nn_acts_init(&w, a, TILE);
    uint32_t *art = hm_xmalloc_array(TILE, sizeof *art);
    for (uint64_t r0 = 0; r0 < d->n_rows && !rc; r0 += TILE) {
        size_t n = d->n_rows - r0 < TILE ? (size_t)(d->n_rows - r0) : TILE;
        for (int t = 0; t < NN_NTOWERS && !rc; t++) {
            if (!a->in[t])
                continue;
            size_t bad;
            if (t == NN_IMAGE) {
                memcpy(art, d->item + r0, n * sizeof *art);
                bad = nn_gather_image(m, d, art, n, w.x[t], 1);
            } else {
                bad = nn_gather(m, col, d, t, NULL, r0, n, w.x[t]);
            }
            if (bad < n)
                rc = hm_error(HM_EINVAL, "nn: row %llu has an infinite input",
                              (unsigned long long)(r0 + bad));
        }
        if (rc)
            break;
        /* eval mode reads the running statistics and does not change them */
        nn_net_forward(a, m->params, (float *)m->running, &w, n, 0, 0, 0, NULL);
        memcpy(out + r0, w.logit, n * sizeof *out);
    }
    free(art);
    nn_acts_release(&w);
    free(col);
    return rc;
}
