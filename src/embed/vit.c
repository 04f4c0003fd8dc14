/* vit: the CLIP vision transformer (Hugging Face CLIPVisionModel + visual_projection).
 *
 *   patches = conv(pixels, P x P, stride P, no bias)          (B, np, D)
 *   x = [class_emb; patches] + pos_emb                         (B, T, D)
 *   x = pre_layrnorm(x)
 *   L times:  x = x + out_proj(attn(LN1(x)))                   multi-head, softmax(q k^T / sqrt(hd))
 *             x = x + fc2(act(fc1(LN2(x))))                    quick_gelu(a) = a * sigmoid(1.702 a)
 *                                                              (or gelu(a) = a Phi(a) for OpenCLIP models)
 *   e = visual_projection(post_layernorm(x[:, 0]))             (B, E)
 *   e = e / |e|
 * LayerNorm eps 1e-5. Matrix products are OpenBLAS sgemm calls over the whole batch. */
#include "embed.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LN_EPS 1e-5

/* ---- parameters -------------------------------------------------------------------- */

static size_t layout(struct embed_clip_model *m, float *base)
{
    const struct embed_clip_config *c = &m->cfg;
    size_t D = (size_t)c->width, M = (size_t)c->mlp, P = (size_t)c->patch;
    size_t off = 0;
#define TAKE(ptr, n) do { if (base) (ptr) = base + off; off += (n); } while (0)
    TAKE(m->class_emb, D);
    TAKE(m->patch_w, D * 3 * P * P);
    TAKE(m->pos_emb, (size_t)c->tokens * D);
    TAKE(m->pre_ln_w, D);
    TAKE(m->pre_ln_b, D);
    for (int l = 0; l < c->layers; l++) {
        struct embed_clip_layer *ly = &m->layers[l];
        TAKE(ly->ln1_w, D);
        TAKE(ly->ln1_b, D);
        TAKE(ly->qkv_w, 3 * D * D);
        TAKE(ly->qkv_b, 3 * D);
        TAKE(ly->out_w, D * D);
        TAKE(ly->out_b, D);
        TAKE(ly->ln2_w, D);
        TAKE(ly->ln2_b, D);
        TAKE(ly->fc1_w, M * D);
        TAKE(ly->fc1_b, M);
        TAKE(ly->fc2_w, D * M);
        TAKE(ly->fc2_b, D);
    }
    TAKE(m->post_ln_w, D);
    TAKE(m->post_ln_b, D);
    TAKE(m->proj_w, (size_t)c->proj * D);
#undef TAKE
    return off;
}

static struct embed_clip_model *model_alloc(const struct embed_clip_config *cfg)
{
    struct embed_clip_model *m = hm_xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    m->layers = hm_xcalloc((size_t)cfg->layers, sizeof *m->layers);
    m->n_params = layout(m, NULL);
    m->params = hm_xmalloc_array(m->n_params, sizeof(float));
    layout(m, m->params);
    return m;
}

void embed_clip_model_free(struct embed_clip_model **pm)
{
    struct embed_clip_model *m = *pm;
    if (!m)
        return;
    free(m->params);
    free(m->layers);
    free(m);
    *pm = NULL;
}

double embed_clip_flops_per_image(const struct embed_clip_config *c)
{
    double D = c->width, M = c->mlp, T = c->tokens, P = c->patch, E = c->proj;
    double np = T - 1, hd = D / c->heads;
    double per_layer = 2 * T * D * 3 * D          /* q, k, v */
                       + 2 * 2 * c->heads * T * T * hd /* scores, weighted values */
                       + 2 * T * D * D            /* out_proj */
                       + 2 * 2 * T * D * M;       /* fc1, fc2 */
    return 2 * np * D * 3 * P * P + c->layers * per_layer + 2 * D * E;
}

int embed_clip_model_random(struct embed_clip_model **out, const struct embed_clip_config *cfg0, uint64_t seed)
{
    struct embed_clip_config cfg = *cfg0;
    if (cfg.layers < 1 || cfg.width < 1 || cfg.heads < 1 || cfg.width % cfg.heads || cfg.patch < 1 ||
        cfg.image_size < cfg.patch || cfg.image_size % cfg.patch || cfg.mlp < 1 || cfg.proj < 1)
        return hm_error(HM_EINVAL, "invalid CLIP configuration");
    int g = cfg.image_size / cfg.patch;
    cfg.tokens = g * g + 1;
    struct embed_clip_model *m = model_alloc(&cfg);
    struct hm_rng r;
    hm_rng_seed(&r, seed);
    float s = 1.0f / sqrtf((float)cfg.width);
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = (float)(hm_rng_uniform(&r) * 2 - 1) * s;
    for (int l = 0; l < cfg.layers; l++)
        for (int i = 0; i < cfg.width; i++)
            m->layers[l].ln1_w[i] = m->layers[l].ln2_w[i] = 1.0f;
    m->weights_id = seed;
    *out = m;
    return 0;
}

/* ---- loading from safetensors ------------------------------------------------------- */

static const char *shape_str(const int64_t *shape, int ndim, char *buf, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (k < n)
        snprintf(buf + k, n - k, ndim == 1 ? ",)" : ")");
    return buf;
}

/* Finds name, checks dtype (F32/F16) and shape (ndim dims; -1 accepts any). */
static int need(const struct embed_st *st, const char *name, int ndim, const int64_t *shape,
                const struct embed_st_tensor **out)
{
    const struct embed_st_tensor *t = embed_st_find(st, name);
    if (!t)
        return hm_error(HM_ENOTFOUND, "'%s': missing tensor '%s' (not a CLIP vision model?)",
                        st->path, name);
    if (t->dtype != EMBED_ST_F32 && t->dtype != EMBED_ST_F16)
        return hm_error(HM_EFORMAT, "'%s': tensor '%s' has dtype %s, expected F32 or F16",
                        st->path, name, embed_st_dtype_name(t->dtype));
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = shape[i] < 0 || shape[i] == t->shape[i];
    if (!ok) {
        char a[96], b[96];
        int64_t want[EMBED_ST_MAXDIM];
        for (int i = 0; i < ndim; i++)
            want[i] = shape[i] < 0 ? t->ndim > i ? t->shape[i] : 0 : shape[i];
        return hm_error(HM_EFORMAT, "'%s': tensor '%s' has shape %s, expected %s", st->path, name,
                        shape_str(t->shape, t->ndim, a, sizeof a), shape_str(want, ndim, b, sizeof b));
    }
    *out = t;
    return 0;
}

static int load_into(const struct embed_st *st, const char *name, int ndim, const int64_t *shape,
                     float *dst)
{
    const struct embed_st_tensor *t;
    int rc = need(st, name, ndim, shape, &t);
    return rc ? rc : embed_st_read_f32(st, t, dst);
}

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

enum embed_clip_act embed_clip_act_parse(const char *s)
{
    return !strcmp(s, "quick_gelu") ? EMBED_CLIP_ACT_QUICK_GELU : !strcmp(s, "gelu") ? EMBED_CLIP_ACT_GELU
                                                                            : EMBED_CLIP_ACT_DEFAULT;
}

int embed_clip_model_load(struct embed_clip_model **out, const char *path, int heads_override,
                    enum embed_clip_act act_override)
{
    struct embed_st st;
    int rc = embed_st_open(&st, path);
    if (rc)
        return rc;
    struct embed_clip_config c = {0};
    const struct embed_st_tensor *pw, *pe, *pj, *f1;
    /* the configuration, from shapes */
    if ((rc = need(&st, "vision_model.embeddings.patch_embedding.weight", 4, SHAPE(-1, 3, -1, -1), &pw)))
        goto done;
    if (pw->shape[2] != pw->shape[3] || pw->shape[0] < 1 || pw->shape[2] < 1) {
        rc = hm_error(HM_EFORMAT, "'%s': tensor 'vision_model.embeddings.patch_embedding.weight' "
                      "must be (width, 3, P, P) with P > 0", path);
        goto done;
    }
    c.width = (int)pw->shape[0];
    c.patch = (int)pw->shape[2];
    if ((rc = need(&st, "vision_model.embeddings.position_embedding.weight", 2, SHAPE(-1, c.width), &pe)))
        goto done;
    c.tokens = (int)pe->shape[0];
    int g = (int)lround(sqrt((double)(c.tokens - 1)));
    if (c.tokens < 2 || g * g != c.tokens - 1) {
        rc = hm_error(HM_EFORMAT, "'%s': %d position embeddings is not a square grid plus the "
                      "class token", path, c.tokens);
        goto done;
    }
    c.image_size = g * c.patch;
    if ((rc = need(&st, "visual_projection.weight", 2, SHAPE(-1, c.width), &pj)))
        goto done;
    c.proj = (int)pj->shape[0];
    if ((rc = need(&st, "vision_model.encoder.layers.0.mlp.fc1.weight", 2, SHAPE(-1, c.width), &f1)))
        goto done;
    c.mlp = (int)f1->shape[0];
    char name[128];
    for (c.layers = 0;; c.layers++) {
        snprintf(name, sizeof name, "vision_model.encoder.layers.%d.self_attn.q_proj.weight", c.layers);
        if (!embed_st_find(&st, name))
            break;
    }
    /* heads: override, metadata, or head_dim 64 */
    const char *meta = embed_st_meta(&st, "num_attention_heads");
    if (heads_override > 0) {
        c.heads = heads_override;
    } else if (meta) {
        char *end;
        long h = strtol(meta, &end, 10);
        if (!*meta || *end || h < 1 || h > c.width) {
            rc = hm_error(HM_EFORMAT, "'%s': __metadata__ num_attention_heads \"%s\" is not a "
                          "positive integer", path, meta);
            goto done;
        }
        c.heads = (int)h;
    } else {
        c.heads = c.width / 64 > 0 ? c.width / 64 : 1;
    }
    const char *act = embed_st_meta(&st, "hidden_act");
    c.act = act_override != EMBED_CLIP_ACT_DEFAULT ? act_override : EMBED_CLIP_ACT_QUICK_GELU;
    if (act_override == EMBED_CLIP_ACT_DEFAULT && act && (c.act = embed_clip_act_parse(act)) == EMBED_CLIP_ACT_DEFAULT) {
        rc = hm_error(HM_EFORMAT, "'%s': __metadata__ hidden_act \"%s\" is not \"quick_gelu\" or "
                      "\"gelu\"", path, act);
        goto done;
    }
    if (c.width % c.heads) {
        rc = hm_error(HM_EINVAL, "'%s': width %d is not divisible by %d attention heads", path,
                      c.width, c.heads);
        goto done;
    }

    struct embed_clip_model *m = model_alloc(&c);
    int64_t D = c.width, M = c.mlp, P = c.patch;
    rc = load_into(&st, "vision_model.embeddings.class_embedding", 1, SHAPE(D), m->class_emb);
    if (!rc)
        rc = load_into(&st, "vision_model.embeddings.patch_embedding.weight", 4, SHAPE(D, 3, P, P), m->patch_w);
    if (!rc)
        rc = load_into(&st, "vision_model.embeddings.position_embedding.weight", 2, SHAPE(c.tokens, D), m->pos_emb);
    if (!rc)
        rc = load_into(&st, "vision_model.pre_layrnorm.weight", 1, SHAPE(D), m->pre_ln_w);
    if (!rc)
        rc = load_into(&st, "vision_model.pre_layrnorm.bias", 1, SHAPE(D), m->pre_ln_b);
    for (int l = 0; l < c.layers && !rc; l++) {
        struct embed_clip_layer *ly = &m->layers[l];
        struct {
            const char *suffix;
            int ndim;
            int64_t d0, d1;
            float *dst;
        } items[] = {
            {"layer_norm1.weight", 1, D, 0, ly->ln1_w},
            {"layer_norm1.bias", 1, D, 0, ly->ln1_b},
            {"self_attn.q_proj.weight", 2, D, D, ly->qkv_w},
            {"self_attn.k_proj.weight", 2, D, D, ly->qkv_w + D * D},
            {"self_attn.v_proj.weight", 2, D, D, ly->qkv_w + 2 * D * D},
            {"self_attn.q_proj.bias", 1, D, 0, ly->qkv_b},
            {"self_attn.k_proj.bias", 1, D, 0, ly->qkv_b + D},
            {"self_attn.v_proj.bias", 1, D, 0, ly->qkv_b + 2 * D},
            {"self_attn.out_proj.weight", 2, D, D, ly->out_w},
            {"self_attn.out_proj.bias", 1, D, 0, ly->out_b},
            {"layer_norm2.weight", 1, D, 0, ly->ln2_w},
            {"layer_norm2.bias", 1, D, 0, ly->ln2_b},
            {"mlp.fc1.weight", 2, M, D, ly->fc1_w},
            {"mlp.fc1.bias", 1, M, 0, ly->fc1_b},
            {"mlp.fc2.weight", 2, D, M, ly->fc2_w},
            {"mlp.fc2.bias", 1, D, 0, ly->fc2_b},
        };
        for (size_t i = 0; i < sizeof items / sizeof items[0] && !rc; i++) {
            snprintf(name, sizeof name, "vision_model.encoder.layers.%d.%s", l, items[i].suffix);
            rc = load_into(&st, name, items[i].ndim, SHAPE(items[i].d0, items[i].d1), items[i].dst);
        }
    }
    if (!rc)
        rc = load_into(&st, "vision_model.post_layernorm.weight", 1, SHAPE(D), m->post_ln_w);
    if (!rc)
        rc = load_into(&st, "vision_model.post_layernorm.bias", 1, SHAPE(D), m->post_ln_b);
    if (!rc)
        rc = load_into(&st, "visual_projection.weight", 2, SHAPE(c.proj, D), m->proj_w);
    if (!rc && embed_st_find(&st, "visual_projection.bias"))
        rc = hm_error(HM_EFORMAT, "'%s': unexpected tensor 'visual_projection.bias' (CLIP's "
                      "projection has no bias)", path);
    if (rc) {
        embed_clip_model_free(&m);
        goto done;
    }
    m->weights_id = st.header_hash ^ hm_mix64(st.map.size);
    *out = m;
done:
    embed_st_release(&st);
    return rc;
}

/* ---- scratch ------------------------------------------------------------------------- */

void embed_clip_ws_init(struct embed_clip_ws *ws, const struct embed_clip_config *c, int max_batch)
{
    size_t B = (size_t)max_batch, T = (size_t)c->tokens, D = (size_t)c->width;
    size_t P = (size_t)c->patch;
    ws->max_batch = max_batch;
    ws->patches = hm_xmalloc_array(B * (T - 1) * 3 * P * P, sizeof(float));
    ws->x = hm_xmalloc_array(B * T * D, sizeof(float));
    ws->h = hm_xmalloc_array(B * T * D, sizeof(float));
    ws->qkv = hm_xmalloc_array(B * T * 3 * D, sizeof(float));
    ws->att = hm_xmalloc_array(B * T * D, sizeof(float));
    ws->scores = hm_xmalloc_array(B * (size_t)c->heads * T * T, sizeof(float));
    ws->fc = hm_xmalloc_array(B * T * (size_t)c->mlp, sizeof(float));
    ws->cls = hm_xmalloc_array(B * D, sizeof(float));
}

void embed_clip_ws_release(struct embed_clip_ws *ws)
{
    free(ws->patches);
    free(ws->x);
    free(ws->h);
    free(ws->qkv);
    free(ws->att);
    free(ws->scores);
    free(ws->fc);
    free(ws->cls);
    memset(ws, 0, sizeof *ws);
}

/* ---- element-wise steps (run in parallel over rows) -------------------------------- */

struct rows_job {
    const float *in;
    float *out;
    const float *w, *b;
    int n;              /* row length */
};

static int layernorm_rows(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    const struct rows_job *j = ud;
    for (size_t r = begin; r < end; r++) {
        const float *x = j->in + r * (size_t)j->n;
        float *y = j->out + r * (size_t)j->n;
        double s = 0, ss = 0;
        for (int i = 0; i < j->n; i++)
            s += x[i];
        double mean = s / j->n;
        for (int i = 0; i < j->n; i++)
            ss += (x[i] - mean) * (x[i] - mean);
        float rstd = (float)(1.0 / sqrt(ss / j->n + LN_EPS)), mu = (float)mean;
        for (int i = 0; i < j->n; i++)
            y[i] = (x[i] - mu) * rstd * j->w[i] + j->b[i];
    }
    return 0;
}

/* in (rows, n) -> out (rows, n); in == out allowed. */
static void layernorm_forward(float *out, const float *in, const float *w, const float *b,
                              size_t rows, int n)
{
    struct rows_job j = {in, out, w, b, n};
    hm_parallel_for(rows >= 64 ? 0 : 1, rows, layernorm_rows, &j);
}

static int quick_gelu_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    float *x = ud;
    for (size_t i = begin; i < end; i++)
        x[i] = x[i] / (1.0f + expf(-1.702f * x[i]));
    return 0;
}

static int gelu_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    float *x = ud;
    for (size_t i = begin; i < end; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
    return 0;
}

/* out (rows, n) = bias broadcast over rows (the sgemm then adds with beta = 1). */
static void fill_bias(float *out, const float *bias, size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++)
        memcpy(out + r * n, bias, n * sizeof(float));
}

static void add_bias(float *x, const float *bias, size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < n; i++)
            x[r * n + i] += bias[i];
}

/* ---- attention ---------------------------------------------------------------------- */

struct attn_job {
    const struct embed_clip_config *c;
    const float *qkv;   /* (B, T, 3D) */
    float *scores;      /* (B*H, T, T) */
};

static int softmax_rows(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    const struct attn_job *j = ud;
    int T = j->c->tokens;
    for (size_t r = begin; r < end; r++) {
        float *s = j->scores + r * (size_t)T;
        float mx = s[0];
        for (int i = 1; i < T; i++)
            mx = s[i] > mx ? s[i] : mx;
        float sum = 0;
        for (int i = 0; i < T; i++) {
            s[i] = expf(s[i] - mx);
            sum += s[i];
        }
        float inv = 1.0f / sum;
        for (int i = 0; i < T; i++)
            s[i] *= inv;
    }
    return 0;
}

/* qkv (B, T, 3D) -> att (B, T, D): per image and head softmax(q k^T / sqrt(hd)) v. */
static void attention_forward(const struct embed_clip_config *c, float *att, const float *qkv,
                              float *scores, int B)
{
    int T = c->tokens, D = c->width, H = c->heads, hd = D / H;
    float scale = 1.0f / sqrtf((float)hd);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const float *q = qkv + (size_t)b * T * 3 * D + (size_t)h * hd;
            float *s = scores + ((size_t)b * H + h) * T * T;
            /* s (T, T) = scale * q (T, hd) k^T (hd, T) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, scale, q, 3 * D,
                        q + D, 3 * D, 0.0f, s, T);
        }
    struct attn_job j = {c, qkv, scores};
    hm_parallel_for(0, (size_t)B * H * T, softmax_rows, &j);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++) {
            const float *v = qkv + (size_t)b * T * 3 * D + 2 * (size_t)D + (size_t)h * hd;
            const float *s = scores + ((size_t)b * H + h) * T * T;
            /* att[b, :, h*hd : (h+1)*hd] (T, hd) = s (T, T) v (T, hd) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, s, T, v, 3 * D,
                        0.0f, att + (size_t)b * T * D + (size_t)h * hd, D);
        }
}

/* ---- the forward pass ------------------------------------------------------------------ */

/* pixels (B, 3, S, S) -> patches (B * np, 3 P P), each row in (c, py, px) order. */
static void im2col(const struct embed_clip_config *c, const float *pixels, int B, float *patches)
{
    int S = c->image_size, P = c->patch, g = S / P;
    size_t K = 3 * (size_t)P * P;
    for (int b = 0; b < B; b++)
        for (int gy = 0; gy < g; gy++)
            for (int gx = 0; gx < g; gx++) {
                float *row = patches + (((size_t)b * g + gy) * g + gx) * K;
                for (int ch = 0; ch < 3; ch++)
                    for (int py = 0; py < P; py++)
                        memcpy(row + ((size_t)ch * P + py) * P,
                               pixels + (((size_t)b * 3 + ch) * S + (size_t)gy * P + py) * S + (size_t)gx * P,
                               (size_t)P * sizeof(float));
            }
}

void embed_clip_forward(const struct embed_clip_model *m, struct embed_clip_ws *ws, const float *pixels, int B,
                  float *out)
{
    const struct embed_clip_config *c = &m->cfg;
    HM_ASSERT(B >= 1 && B <= ws->max_batch);
    int T = c->tokens, D = c->width, M = c->mlp, P = c->patch, np = T - 1, E = c->proj;
    int K = 3 * P * P;
    int BT = B * T;

    /* patch embedding: h (B * np, D) = patches (B * np, K) patch_w^T (K, D) */
    im2col(c, pixels, B, ws->patches);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B * np, D, K, 1.0f, ws->patches, K,
                m->patch_w, K, 0.0f, ws->h, D);
    /* x (B, T, D) = [class; patches] + pos */
    for (int b = 0; b < B; b++) {
        float *x = ws->x + (size_t)b * T * D;
        for (int i = 0; i < D; i++)
            x[i] = m->class_emb[i] + m->pos_emb[i];
        for (int t = 1; t < T; t++) {
            const float *p = ws->h + ((size_t)b * np + t - 1) * D;
            for (int i = 0; i < D; i++)
                x[(size_t)t * D + i] = p[i] + m->pos_emb[(size_t)t * D + i];
        }
    }
    layernorm_forward(ws->x, ws->x, m->pre_ln_w, m->pre_ln_b, (size_t)BT, D);

    for (int l = 0; l < c->layers; l++) {
        const struct embed_clip_layer *ly = &m->layers[l];
        /* attention block */
        layernorm_forward(ws->h, ws->x, ly->ln1_w, ly->ln1_b, (size_t)BT, D);
        fill_bias(ws->qkv, ly->qkv_b, (size_t)BT, 3 * (size_t)D);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BT, 3 * D, D, 1.0f, ws->h, D,
                    ly->qkv_w, D, 1.0f, ws->qkv, 3 * D);
        attention_forward(c, ws->att, ws->qkv, ws->scores, B);
        add_bias(ws->x, ly->out_b, (size_t)BT, (size_t)D);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BT, D, D, 1.0f, ws->att, D,
                    ly->out_w, D, 1.0f, ws->x, D);
        /* MLP block */
        layernorm_forward(ws->h, ws->x, ly->ln2_w, ly->ln2_b, (size_t)BT, D);
        fill_bias(ws->fc, ly->fc1_b, (size_t)BT, (size_t)M);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BT, M, D, 1.0f, ws->h, D,
                    ly->fc1_w, D, 1.0f, ws->fc, M);
        hm_parallel_for(0, (size_t)BT * M, c->act == EMBED_CLIP_ACT_GELU ? gelu_range : quick_gelu_range,
                        ws->fc);
        add_bias(ws->x, ly->fc2_b, (size_t)BT, (size_t)D);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BT, D, M, 1.0f, ws->fc, M,
                    ly->fc2_w, M, 1.0f, ws->x, D);
    }

    /* class token -> post_layernorm -> projection -> L2 normalise */
    for (int b = 0; b < B; b++)
        memcpy(ws->cls + (size_t)b * D, ws->x + (size_t)b * T * D, (size_t)D * sizeof(float));
    layernorm_forward(ws->cls, ws->cls, m->post_ln_w, m->post_ln_b, (size_t)B, D);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, E, D, 1.0f, ws->cls, D, m->proj_w, D,
                0.0f, out, E);
    for (int b = 0; b < B; b++) {
        float *e = out + (size_t)b * E;
        double ss = 0;
        for (int i = 0; i < E; i++)
            ss += (double)e[i] * e[i];
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (int i = 0; i < E; i++)
            e[i] *= inv;
    }
}
