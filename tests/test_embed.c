/* Tests for embed: the safetensors reader (valid and malformed files, exact messages), the
 * ViT forward pass against golden vectors from scripts/make_embed_golden.py (an independent
 * NumPy implementation), preprocessing against Pillow, image errors, article lists, and
 * `hmrec embed` end to end with an interrupted and resumed run.
 *
 * Golden data: tests/embed/ (regenerate with /usr/bin/python3 scripts/make_embed_golden.py). */
#include "embed/embed.h"
#include "io/npy.h"
#include "test.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GOLD "embed/"
#define N_IMAGES 5
static const char *images[N_IMAGES] = {"img_rgb.jpg", "img_rgb.png", "img_gray.jpg", "img_rgba.png",
                                       "img_big.jpg"};
static char tmp[128];   /* a scratch file */
static char tmpdir[128];

/* Relative L2 error |a - b| / |b| of n values, and the largest absolute difference. */
static double rel_err(const float *a, const float *b, size_t n, double *maxabs)
{
    double d = 0, nb = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        double e = (double)a[i] - b[i];
        d += e * e;
        nb += (double)b[i] * b[i];
        mx = fabs(e) > mx ? fabs(e) : mx;
    }
    if (maxabs)
        *maxabs = mx;
    return sqrt(d / (nb > 0 ? nb : 1));
}

static char *slurp(const char *path, size_t *len)
{
    char *d;
    if (hm_read_file(path, &d, len))
        return NULL;
    return d;
}

static void write_bytes(const char *p, const void *data, size_t n)
{
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

/* Writes tiny.safetensors to tmp with `from` replaced by `to` (same length) in the header. */
static int write_edited(const char *from, const char *to)
{
    size_t len;
    char *d = slurp(GOLD "tiny.safetensors", &len);
    if (!d || strlen(from) != strlen(to))
        return -1;
    char *p = memmem(d + 8, 5000, from, strlen(from));
    if (!p)
        return -1;
    memcpy(p, to, strlen(to));
    write_bytes(tmp, d, len);
    free(d);
    return 0;
}

static const char *expect_msg(const char *fmt, const char *arg)
{
    static char buf[512];
    snprintf(buf, sizeof buf, fmt, arg);
    return buf;
}

/* ---- safetensors --------------------------------------------------------------------------- */

TEST(test_st_reads_tiny)
{
    struct embed_st st;
    CHECK_EQ_INT(embed_st_open(&st, GOLD "tiny.safetensors"), 0);
    CHECK_EQ_INT(st.n_tensors, 2 + 3 + 2 + 2 * 16 + 2 + 1);
    CHECK_STR(embed_st_meta(&st, "num_attention_heads"), "4");
    CHECK_STR(embed_st_meta(&st, "format"), "pt");
    const struct embed_st_tensor *t = embed_st_find(&st, "visual_projection.weight");
    CHECK(t != NULL);
    CHECK_EQ_INT(t->dtype, EMBED_ST_F16);
    CHECK_EQ_INT(t->ndim, 2);
    CHECK_EQ_INT(t->shape[0], 512);
    CHECK_EQ_INT(t->shape[1], 64);
    t = embed_st_find(&st, "vision_model.embeddings.position_ids");
    CHECK(t != NULL && t->dtype == EMBED_ST_I64);
    float buf[17];
    CHECK_EQ_INT(embed_st_read_f32(&st, t, buf), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "has dtype I64, expected F32 or F16"));
    embed_st_release(&st);
}

/* A hand-written file: header text h, data bytes. */
static int st_file(const char *h, size_t data_len)
{
    size_t n = strlen(h);
    uint8_t *b = calloc(1, 8 + n + data_len);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(b + 8, h, n);
    write_bytes(tmp, b, 8 + n + data_len);
    free(b);
    struct embed_st st;
    int rc = embed_st_open(&st, tmp);
    if (rc == 0)
        embed_st_release(&st);
    return rc;
}

TEST(test_st_malformed)
{
    struct embed_st st;
    write_bytes(tmp, "\x05\0\0", 3);
    CHECK_EQ_INT(embed_st_open(&st, tmp), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': truncated: 3 bytes, not even the 8-byte header length", tmp));
    write_bytes(tmp, "\xe8\x03\0\0\0\0\0\0{}", 10);
    CHECK_EQ_INT(embed_st_open(&st, tmp), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': truncated: header length 1000 but only 2 bytes follow", tmp));
    write_bytes(tmp, "\0\0\0\0\0\0\0\x40{}", 10);
    CHECK_EQ_INT(embed_st_open(&st, tmp), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "not a safetensors file: header length 4611686018427387904 exceeds the 100 MiB limit"));
    /* syntax */
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header, byte 60: expected ',' or '}', found end of header", tmp));
    CHECK_EQ_INT(st_file("[1, 2]", 0), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header, byte 0: expected '{' (the header object), found '['", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2,], \"data_offsets\": [0, 8]}}", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header, byte 35: expected a non-negative integer, found ']'", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header, byte 33: expected a non-negative integer, found '-'", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}} x", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header, byte 62: expected the end of the header, found 'x'", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", 8), HM_EFORMAT);
    CHECK_EQ_INT(st_file("{\"a", 0), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header, byte 3: expected the end of a string, found end of header", tmp));
    /* semantics */
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F99\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header, byte 16: tensor 'a': unknown dtype \"F99\"", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': tensor 'a': F32 shape needs 12 bytes, data offsets [0, 8] hold 8", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': tensor 'a': data offsets [8, 0] are reversed", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header: tensor 'a' lacks \"data_offsets\"", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8], \"x\": 1}}", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header, byte 61: tensor 'a': unexpected key \"x\"", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, "
                         "\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': safetensors header, byte 62: duplicate tensor 'a'", tmp));
    CHECK_EQ_INT(st_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': truncated: tensor 'a' data ends at byte 8 of the data section, which has 4 bytes", tmp));
    /* valid: metadata, escapes, empty shape (a scalar), whitespace */
    CHECK_EQ_INT(st_file(" {\"__metadata__\": {\"k\\u00e9\": \"v\\n\"}, \"s\\\"c\": {\"dtype\": \"F16\", "
                         "\"shape\": [], \"data_offsets\": [0, 2]}}  ", 2), 0);
    CHECK_EQ_INT(embed_st_open(&st, tmp), 0);
    CHECK_STR(embed_st_meta(&st, "k\xc3\xa9"), "v\n");
    CHECK(embed_st_find(&st, "s\"c") != NULL);
    embed_st_release(&st);
    CHECK_EQ_INT(embed_st_open(&st, "/nonexistent.safetensors"), HM_EIO);
}

TEST(test_model_validation)
{
    struct embed_clip_model *m = NULL;
    /* truncated: the last tensor's data are cut short */
    size_t len;
    char *d = slurp(GOLD "tiny.safetensors", &len);
    CHECK(d != NULL);
    write_bytes(tmp, d, len - 100);
    free(d);
    CHECK_EQ_INT(embed_clip_model_load(&m, tmp, 0, EMBED_CLIP_ACT_DEFAULT), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': truncated: tensor 'visual_projection.weight' data ends at "
                                          "byte 536712 of the data section, which has 536612 bytes", tmp));
    /* wrong shape (same number of elements) */
    CHECK_EQ_INT(write_edited("\"shape\":[64,256],\"data_offsets\":[237320", "\"shape\":[256,64],\"data_offsets\":[237320"), 0);
    CHECK_EQ_INT(embed_clip_model_load(&m, tmp, 0, EMBED_CLIP_ACT_DEFAULT), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': tensor 'vision_model.encoder.layers.0.mlp.fc2.weight' has "
                                          "shape (256, 64), expected (64, 256)", tmp));
    /* wrong dtype (same size) */
    CHECK_EQ_INT(write_edited("pre_layrnorm.weight\":{\"dtype\":\"F32\"", "pre_layrnorm.weight\":{\"dtype\":\"I32\""), 0);
    CHECK_EQ_INT(embed_clip_model_load(&m, tmp, 0, EMBED_CLIP_ACT_DEFAULT), HM_EFORMAT);
    CHECK_STR(hm_last_error(), expect_msg("'%s': tensor 'vision_model.pre_layrnorm.weight' has dtype I32, "
                                          "expected F32 or F16", tmp));
    /* missing tensor */
    CHECK_EQ_INT(write_edited("\"vision_model.post_layernorm.bias\"", "\"vision_model.post_layernorm.bia_\""), 0);
    CHECK_EQ_INT(embed_clip_model_load(&m, tmp, 0, EMBED_CLIP_ACT_DEFAULT), HM_ENOTFOUND);
    CHECK_STR(hm_last_error(), expect_msg("'%s': missing tensor 'vision_model.post_layernorm.bias' (not a "
                                          "CLIP vision model?)", tmp));
    /* bad head counts */
    CHECK_EQ_INT(embed_clip_model_load(&m, GOLD "tiny.safetensors", 3, EMBED_CLIP_ACT_DEFAULT), HM_EINVAL);
    CHECK_STR(hm_last_error(), "'embed/tiny.safetensors': width 64 is not divisible by 3 attention heads");
    CHECK_EQ_INT(write_edited("\"num_attention_heads\":\"4\"", "\"num_attention_heads\":\"x\""), 0);
    CHECK_EQ_INT(embed_clip_model_load(&m, tmp, 0, EMBED_CLIP_ACT_DEFAULT), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "__metadata__ num_attention_heads \"x\" is not a positive integer"));
    CHECK_EQ_INT(write_edited("\"num_attention_heads\":\"4\"", "\"hidden_act\":\"gelu_xxxxx\""), 0);
    CHECK_EQ_INT(embed_clip_model_load(&m, tmp, 0, EMBED_CLIP_ACT_DEFAULT), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "__metadata__ hidden_act \"gelu_xxxxx\" is not \"quick_gelu\" or \"gelu\""));
    /* no metadata: head_dim 64 -> 1 head for width 64 */
    CHECK_EQ_INT(write_edited("\"num_attention_heads\":\"4\"", "\"num_attention_hexds\":\"4\""), 0);
    CHECK_EQ_INT(embed_clip_model_load(&m, tmp, 0, EMBED_CLIP_ACT_DEFAULT), 0);
    CHECK_EQ_INT(m->cfg.heads, 1);
    embed_clip_model_free(&m);
    CHECK(m == NULL);
}

/* ---- the model against the NumPy reference ------------------------------------------------ */

TEST(test_forward_golden)
{
    struct embed_clip_model *m = NULL;
    CHECK_EQ_INT(embed_clip_model_load(&m, GOLD "tiny.safetensors", 0, EMBED_CLIP_ACT_DEFAULT), 0);
    CHECK_EQ_INT(m->cfg.layers, 2);
    CHECK_EQ_INT(m->cfg.width, 64);
    CHECK_EQ_INT(m->cfg.heads, 4);
    CHECK_EQ_INT(m->cfg.patch, 16);
    CHECK_EQ_INT(m->cfg.image_size, 64);
    CHECK_EQ_INT(m->cfg.mlp, 256);
    CHECK_EQ_INT(m->cfg.tokens, 17);
    CHECK_EQ_INT(m->cfg.proj, 512);
    struct io_npy pre, emb;
    CHECK_EQ_INT(io_npy_open(&pre, GOLD "pre64.npy"), 0);
    CHECK_EQ_INT(io_npy_open(&emb, GOLD "emb.npy"), 0);
    CHECK_EQ_INT(pre.rows, N_IMAGES);
    CHECK_EQ_INT(pre.cols, 3 * 64 * 64);
    CHECK_EQ_INT(emb.cols, 512);
    struct embed_clip_ws ws;
    embed_clip_ws_init(&ws, &m->cfg, N_IMAGES);
    float out[N_IMAGES * 512], one[512];
    embed_clip_forward(m, &ws, pre.data, N_IMAGES, out);
    double worst = 0, worst_abs = 0;
    for (int i = 0; i < N_IMAGES; i++) {
        double mx;
        double e = rel_err(out + i * 512, emb.data + i * 512, 512, &mx);
        worst = e > worst ? e : worst;
        worst_abs = mx > worst_abs ? mx : worst_abs;
        /* one image at a time gives the same result */
        embed_clip_forward(m, &ws, pre.data + (size_t)i * pre.cols, 1, one);
        CHECK(rel_err(one, out + i * 512, 512, NULL) < 1e-6);
    }
    fprintf(stderr, "  forward vs NumPy: max relative L2 error %.3g, max abs error %.3g\n", worst, worst_abs);
    CHECK(worst < 1e-4);
    CHECK(worst_abs < 1e-4);
    /* the exact GELU, against its own golden vectors */
    struct io_npy eg;
    CHECK_EQ_INT(io_npy_open(&eg, GOLD "emb_gelu.npy"), 0);
    struct embed_clip_model *mg = NULL;
    CHECK_EQ_INT(embed_clip_model_load(&mg, GOLD "tiny.safetensors", 0, EMBED_CLIP_ACT_GELU), 0);
    embed_clip_forward(mg, &ws, pre.data, N_IMAGES, out);
    double eg_err = rel_err(out, eg.data, N_IMAGES * 512, NULL);
    fprintf(stderr, "  forward (gelu) vs NumPy: relative L2 error %.3g\n", eg_err);
    CHECK(eg_err < 1e-4);
    CHECK(rel_err(out, emb.data, N_IMAGES * 512, NULL) > 1e-3);
    embed_clip_model_free(&mg);
    io_npy_release(&eg);
    /* a different head count changes the result (heads are really used) */
    struct embed_clip_model *m2 = NULL;
    CHECK_EQ_INT(embed_clip_model_load(&m2, GOLD "tiny.safetensors", 2, EMBED_CLIP_ACT_DEFAULT), 0);
    embed_clip_forward(m2, &ws, pre.data, 1, one);
    CHECK(rel_err(one, emb.data, 512, NULL) > 1e-3);
    embed_clip_model_free(&m2);
    embed_clip_ws_release(&ws);
    io_npy_release(&pre);
    io_npy_release(&emb);
    embed_clip_model_free(&m);
}

/* ---- preprocessing against Pillow ----------------------------------------------------------- */

TEST(test_preprocess_vs_pil)
{
    struct io_npy pre;
    CHECK_EQ_INT(io_npy_open(&pre, GOLD "pre64.npy"), 0);
    float *p = malloc(3 * 64 * 64 * sizeof(float));
    double worst = 0;
    for (int i = 0; i < N_IMAGES; i++) {
        char path[128];
        snprintf(path, sizeof path, GOLD "%s", images[i]);
        struct embed_image img;
        CHECK_EQ_INT(embed_image_load(&img, path), 0);
        embed_image_preprocess(&img, 64, p);
        embed_image_release(&img);
        double mx;
        rel_err(p, pre.data + (size_t)i * pre.cols, pre.cols, &mx);
        worst = mx > worst ? mx : worst;
    }
    fprintf(stderr, "  preprocessing at 64 vs PIL: max abs difference %.3g (normalised units)\n", worst);
    CHECK(worst < 1e-5);
    io_npy_release(&pre);
    /* at 224: the resized, cropped pixels are identical to PIL's */
    size_t len;
    uint8_t *want = (uint8_t *)slurp(GOLD "crop224.u8", &len);
    CHECK(want && len == 224 * 224 * 3);
    struct embed_image img;
    CHECK_EQ_INT(embed_image_load(&img, GOLD "img_big.jpg"), 0);
    CHECK_EQ_INT(img.w, 233);
    CHECK_EQ_INT(img.h, 350);
    uint8_t *crop = malloc(224 * 224 * 3);
    embed_image_crop(&img, 224, crop);
    size_t differ = 0;
    for (size_t i = 0; i < len; i++)
        differ += crop[i] != want[i];
    fprintf(stderr, "  crop at 224 vs PIL: %zu of %zu bytes differ\n", differ, len);
    CHECK_EQ_INT(differ, 0);
    float *p224 = malloc(3 * 224 * 224 * sizeof(float));
    embed_image_preprocess(&img, 224, p224);
    struct io_npy head;
    CHECK_EQ_INT(io_npy_open(&head, GOLD "pre224_head.npy"), 0);
    double mx;
    rel_err(p224, head.data, head.cols, &mx);
    CHECK(mx < 1e-5);
    io_npy_release(&head);
    embed_image_release(&img);
    free(p);
    free(p224);
    free(crop);
    free(want);
}

TEST(test_resize_identity_and_one_axis)
{
    uint8_t px[4 * 3 * 3];
    for (int i = 0; i < 36; i++)
        px[i] = (uint8_t)(i * 7);
    struct embed_image in = {4, 3, px}, out;
    embed_image_resize(&in, 4, 3, &out); /* same size: a copy */
    CHECK(memcmp(out.rgb, px, sizeof px) == 0);
    embed_image_release(&out);
    embed_image_resize(&in, 4, 6, &out); /* vertical only */
    CHECK_EQ_INT(out.w, 4);
    CHECK_EQ_INT(out.h, 6);
    embed_image_release(&out);
    embed_image_resize(&in, 2, 3, &out); /* horizontal only */
    CHECK_EQ_INT(out.w, 2);
    embed_image_release(&out);
}

/* ---- the whole pipeline ----------------------------------------------------------------------- */

TEST(test_pipeline_golden)
{
    struct embed_clip_model *m = NULL;
    CHECK_EQ_INT(embed_clip_model_load(&m, GOLD "tiny.safetensors", 0, EMBED_CLIP_ACT_DEFAULT), 0);
    struct io_npy emb;
    CHECK_EQ_INT(io_npy_open(&emb, GOLD "emb.npy"), 0);
    struct embed_clip_ws ws;
    embed_clip_ws_init(&ws, &m->cfg, 1);
    float *p = malloc(3 * 64 * 64 * sizeof(float)), out[512];
    double worst = 0;
    for (int i = 0; i < N_IMAGES; i++) {
        char path[128];
        snprintf(path, sizeof path, GOLD "%s", images[i]);
        struct embed_image img;
        CHECK_EQ_INT(embed_image_load(&img, path), 0);
        embed_image_preprocess(&img, 64, p);
        embed_image_release(&img);
        embed_clip_forward(m, &ws, p, 1, out);
        double e = rel_err(out, emb.data + i * 512, 512, NULL);
        worst = e > worst ? e : worst;
    }
    fprintf(stderr, "  image file -> embedding vs NumPy/PIL: max relative L2 error %.3g\n", worst);
    CHECK(worst < 1e-4);
    free(p);
    embed_clip_ws_release(&ws);
    io_npy_release(&emb);
    embed_clip_model_free(&m);
}

/* ---- image errors ----------------------------------------------------------------------------- */

TEST(test_image_errors)
{
    struct embed_image img;
    size_t len;
    char *d = slurp(GOLD "img_big.jpg", &len);
    CHECK(d != NULL);
    CHECK_EQ_INT(embed_image_decode(&img, (const uint8_t *)d, len / 2, "half.jpg"), HM_EFORMAT);
    CHECK_STR(hm_last_error(), "'half.jpg': bad JPEG: the data end before the image does (truncated file)");
    CHECK_EQ_INT(embed_image_decode(&img, (const uint8_t *)d, 10, "tiny.jpg"), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "'tiny.jpg': bad JPEG: "));
    free(d);
    d = slurp(GOLD "img_rgb.png", &len);
    CHECK(d != NULL);
    CHECK_EQ_INT(embed_image_decode(&img, (const uint8_t *)d, len / 2, "half.png"), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "'half.png': bad PNG: "));
    d[20] ^= 0x55; /* damage the IHDR: CRC error */
    CHECK_EQ_INT(embed_image_decode(&img, (const uint8_t *)d, len, "bad.png"), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "'bad.png': bad PNG: "));
    free(d);
    CHECK_EQ_INT(embed_image_decode(&img, (const uint8_t *)"GIF89a....", 10, "x.gif"), HM_EFORMAT);
    CHECK_STR(hm_last_error(), "'x.gif': not a JPEG or PNG image");
    CHECK_EQ_INT(embed_image_decode(&img, (const uint8_t *)"", 0, "empty.jpg"), HM_EFORMAT);
    CHECK_STR(hm_last_error(), "'empty.jpg': empty file");
    CHECK_EQ_INT(embed_image_load(&img, "/nonexistent.jpg"), HM_EIO);
}

/* ---- article lists ---------------------------------------------------------------------------- */

TEST(test_articles)
{
    char *p = embed_article_path("imgs", 108775015);
    CHECK_STR(p, "imgs/010/0108775015.jpg");
    free(p);
    p = embed_ids_path("out/e.npy");
    CHECK_STR(p, "out/e.ids.txt");
    free(p);
    p = embed_missing_path("e");
    CHECK_STR(p, "e.missing.txt");
    free(p);
    int64_t *ids;
    size_t n;
    const char *csv = "article_id,product_code\n0108775015,108775\n\n108775044,1\r\n";
    write_bytes(tmp, csv, strlen(csv));
    CHECK_EQ_INT(embed_read_articles(tmp, &ids, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(ids[0], 108775015);
    CHECK_EQ_INT(ids[1], 108775044);
    free(ids);
    write_bytes(tmp, "1\n2x\n", 5);
    CHECK_EQ_INT(embed_read_articles(tmp, &ids, &n), HM_EPARSE);
    CHECK_STR(hm_last_error(), expect_msg("%s:2: expected an article id (up to 10 digits), found \"2x\"", tmp));
    write_bytes(tmp, "5\n7\n5\n", 6);
    CHECK_EQ_INT(embed_read_articles(tmp, &ids, &n), HM_EINVAL);
    CHECK_STR(hm_last_error(), expect_msg("%s: article 0000000005 is listed twice", tmp));
}

/* ---- hmrec embed end to end ------------------------------------------------------------------- */

static int run(const char *fmt, const char *a, const char *b)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *d = slurp(from, &len);
    write_bytes(to, d, len);
    free(d);
}

TEST(test_cli_resume)
{
    const char *bin = getenv("HMREC_BIN");
    if (!bin) {
        fprintf(stderr, "  (HMREC_BIN not set, skipped)\n");
        return;
    }
    char dir[200], path[600], out1[300], out2[300];
    snprintf(dir, sizeof dir, "%s/images", tmpdir);
    const int64_t ids[] = {108775015, 108775044, 110065001, 110065002, 111565001, 111586001, 120129001};
    const char *src[] = {"img_rgb.jpg", "img_rgb.png", NULL, "img_gray.jpg", "img_rgba.png", "img_big.jpg", "img_rgb.jpg"};
    for (int i = 0; i < 7; i++) {
        char *f = embed_article_path(dir, ids[i]);
        snprintf(path, sizeof path, "%.*s", (int)(strrchr(f, '/') - f), f);
        hm_mkdirs(path);
        if (src[i]) {
            snprintf(path, sizeof path, GOLD "%s", src[i]);
            copy_file(path, f);
        } else {
            write_bytes(f, "\xff\xd8\xff garbage", 12); /* unreadable */
        }
        free(f);
    }
    snprintf(out1, sizeof out1, "%s/full/e.npy", tmpdir);
    snprintf(out2, sizeof out2, "%s/resumed/e.npy", tmpdir);
    char args[700];
    snprintf(args, sizeof args, "--weights " GOLD "tiny.safetensors --images %s --batch 2", dir);
    CHECK_EQ_INT(run("HMREC_QUIET=1 %s embed %s 2>/dev/null", bin, args), 2); /* no --out */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "HMREC_QUIET=1 %s embed %s --out %s 2>/dev/null", bin, args, out1);
    CHECK_EQ_INT(run("%s%s", cmd, ""), 0);
    /* interrupted after 2 batches (4 rows), then resumed */
    snprintf(cmd, sizeof cmd, "HMREC_QUIET=1 HMREC_EMBED_STOP_AFTER=2 %s embed %s --out %s 2>/dev/null", bin, args, out2);
    CHECK_EQ_INT(run("%s%s", cmd, ""), 1);
    snprintf(path, sizeof path, "%s.partial", out2);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_size, 64 + 4 * 512 * 4);
    CHECK(access(out2, F_OK) != 0); /* no output before the run is complete */
    /* a torn tail (half a row) is cut off when resuming */
    FILE *f = fopen(path, "ab");
    fwrite("garbage", 1, 7, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s embed %s --out %s 2>%s/resume.log", bin, args, out2, tmpdir);
    CHECK_EQ_INT(run("%s%s", cmd, ""), 0);
    CHECK(access(path, F_OK) != 0); /* checkpoint removed */
    snprintf(cmd, sizeof cmd, "grep -q 'resuming: 4 of 7 rows done' %s/resume.log", tmpdir);
    CHECK_EQ_INT(run("%s%s", cmd, ""), 0);
    struct io_npy a, b;
    CHECK_EQ_INT(io_npy_open(&a, out1), 0);
    CHECK_EQ_INT(io_npy_open(&b, out2), 0);
    CHECK_EQ_INT(a.rows, 7);
    CHECK_EQ_INT(a.cols, 512);
    CHECK(rel_err(b.data, a.data, 7 * 512, NULL) < 1e-6);
    /* rows match the golden vectors; the unreadable one is zero */
    struct io_npy emb;
    CHECK_EQ_INT(io_npy_open(&emb, GOLD "emb.npy"), 0);
    const int gold[] = {0, 1, -1, 2, 3, 4, 0};
    for (int i = 0; i < 7; i++) {
        if (gold[i] < 0) {
            for (int k = 0; k < 512; k++)
                CHECK(a.data[i * 512 + k] == 0.0f);
        } else {
            CHECK(rel_err(a.data + i * 512, emb.data + gold[i] * 512, 512, NULL) < 1e-4);
        }
    }
    io_npy_release(&emb);
    io_npy_release(&a);
    io_npy_release(&b);
    size_t len;
    snprintf(path, sizeof path, "%s/resumed/e.ids.txt", tmpdir);
    char *txt = slurp(path, &len);
    CHECK_STR(txt, "0108775015\n0108775044\n0110065001\n0110065002\n0111565001\n0111586001\n0120129001\n");
    free(txt);
    snprintf(path, sizeof path, "%s/resumed/e.missing.txt", tmpdir);
    txt = slurp(path, &len);
    char want[1024];
    snprintf(want, sizeof want, "0110065001\t'%s/011/0110065001.jpg': bad JPEG: ", dir);
    CHECK(txt && strncmp(txt, want, strlen(want)) == 0);
    free(txt);
    /* an explicit article list: its order, and an absent image */
    snprintf(path, sizeof path, "%s/list.txt", tmpdir);
    write_bytes(path, "111586001\n999999999\n108775015\n", 30);
    snprintf(cmd, sizeof cmd, "HMREC_QUIET=1 %s embed %s --articles %s --out %s/list/e.npy 2>/dev/null", bin,
             args, path, tmpdir);
    CHECK_EQ_INT(run("%s%s", cmd, ""), 0);
    snprintf(path, sizeof path, "%s/list/e.npy", tmpdir);
    CHECK_EQ_INT(io_npy_open(&a, path), 0);
    CHECK_EQ_INT(a.rows, 3);
    CHECK(a.data[512] == 0.0f && a.data[1023] == 0.0f);
    CHECK(a.data[0] != 0.0f && a.data[1024] != 0.0f);
    io_npy_release(&a);
    snprintf(path, sizeof path, "%s/list/e.missing.txt", tmpdir);
    txt = slurp(path, &len);
    snprintf(want, sizeof want, "0999999999\tcould not open '%s/099/0999999999.jpg': No such file or directory\n", dir);
    CHECK_STR(txt, want);
    free(txt);
}

int main(int argc, char **argv)
{
    (void)argc;
    hm_blas_ensure_coretype(argv);
    fprintf(stderr, "blas kernel: %s\n", hm_blas_corename());
    snprintf(tmp, sizeof tmp, "/tmp/hm_test_embed_%d.bin", (int)getpid());
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hm_test_embed_%d.d", (int)getpid());
    RUN(test_st_reads_tiny);
    RUN(test_st_malformed);
    RUN(test_model_validation);
    RUN(test_forward_golden);
    RUN(test_preprocess_vs_pil);
    RUN(test_resize_identity_and_one_axis);
    RUN(test_pipeline_golden);
    RUN(test_image_errors);
    RUN(test_articles);
    RUN(test_cli_resume);
    unlink(tmp);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_EXIT();
}
