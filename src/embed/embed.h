/* embed: the CLIP (FashionCLIP) image encoder: safetensors weights, JPEG/PNG decoding,
 * CLIP preprocessing (Pillow-exact bicubic resize, centre crop, normalisation), the vision
 * transformer forward pass (Hugging Face CLIPVisionModel + visual_projection semantics) and
 * the batch driver behind `hmrec embed`.
 *
 * Files: safetensors.c (weights file parser), image.c (decode + preprocess), vit.c (model),
 * embed.c (batch driver: article list, resume, output files), bench.c (speed measurement).
 * All functions return 0 or a negative HM_E* code with the message in hm_last_error().
 */
#ifndef HM_EMBED_H
#define HM_EMBED_H

#include "core/core.h"

/* ---- safetensors ------------------------------------------------------------------ */

enum embed_st_dtype {
    EMBED_ST_F64, EMBED_ST_F32, EMBED_ST_F16, EMBED_ST_BF16, EMBED_ST_I64, EMBED_ST_I32,
    EMBED_ST_I16, EMBED_ST_I8, EMBED_ST_U8, EMBED_ST_BOOL, EMBED_ST_U16, EMBED_ST_U32,
    EMBED_ST_U64, EMBED_ST_F8_E4M3, EMBED_ST_F8_E5M2,
};

#define EMBED_ST_MAXDIM 8

struct embed_st_tensor {
    char *name;
    enum embed_st_dtype dtype;
    int ndim;
    int64_t shape[EMBED_ST_MAXDIM];
    size_t begin, end;        /* byte range inside the data section */
};

/* An open safetensors file: 8-byte little-endian header length N, N bytes of JSON
 * ({"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}), then the
 * data section. The file is memory-mapped; tensors point into it by offset. */
struct embed_st {
    struct hm_map map;
    char *path;
    const uint8_t *data;      /* start of the data section */
    size_t data_size;
    struct embed_st_tensor *tensors;
    size_t n_tensors;
    char **meta;              /* __metadata__ as key, value, key, value, ... */
    size_t n_meta;            /* number of pairs */
    uint64_t header_hash;     /* hash of the JSON header (identifies the weights) */
};

/* Opens and validates path: header length, JSON syntax (strict), dtypes, shapes and data
 * offsets (inside the file, sizes consistent with dtype and shape). */
int embed_st_open(struct embed_st *st, const char *path);
/* The same over a caller's buffer, which must outlive st (name is for messages). */
int embed_st_open_buffer(struct embed_st *st, const uint8_t *data, size_t size, const char *name);
void embed_st_release(struct embed_st *st);
const struct embed_st_tensor *embed_st_find(const struct embed_st *st, const char *name);
/* The __metadata__ value of key, or NULL. */
const char *embed_st_meta(const struct embed_st *st, const char *key);
const char *embed_st_dtype_name(enum embed_st_dtype d);
/* Copies an F32 or F16 tensor into dst as float (numel values). */
int embed_st_read_f32(const struct embed_st *st, const struct embed_st_tensor *t, float *dst);

/* ---- the vision transformer ------------------------------------------------------- */

/* The MLP activation: CLIP (OpenAI) uses quick_gelu(a) = a * sigmoid(1.702 a); OpenCLIP
 * models converted to Hugging Face format (LAION checkpoints) may use the exact erf GELU. */
enum embed_clip_act { EMBED_CLIP_ACT_DEFAULT = 0, EMBED_CLIP_ACT_QUICK_GELU = 1, EMBED_CLIP_ACT_GELU = 2 };

struct embed_clip_config {
    int layers;      /* L, encoder blocks */
    int width;       /* D, hidden size */
    int heads;       /* H, attention heads, D % H == 0 */
    int patch;       /* P, patch size (conv kernel and stride) */
    int image_size;  /* S, input side, multiple of P */
    int mlp;         /* M, fc1 output width (4 D in CLIP) */
    int tokens;      /* T = (S / P)^2 + 1 */
    int proj;        /* E, embedding size (512 for ViT-B/32) */
    enum embed_clip_act act; /* quick_gelu (EMBED_CLIP_ACT_DEFAULT means the same) or gelu */
};

struct embed_clip_layer {
    float *ln1_w, *ln1_b;     /* (D) */
    float *qkv_w;             /* (3D, D): q_proj, k_proj, v_proj weights stacked */
    float *qkv_b;             /* (3D) */
    float *out_w, *out_b;     /* (D, D), (D) */
    float *ln2_w, *ln2_b;     /* (D) */
    float *fc1_w, *fc1_b;     /* (M, D), (M) */
    float *fc2_w, *fc2_b;     /* (D, M), (D) */
};

struct embed_clip_model {
    struct embed_clip_config cfg;
    float *params;            /* one allocation; the pointers below point into it */
    size_t n_params;
    float *class_emb;         /* (D) */
    float *patch_w;           /* (D, 3 P P): conv weight, (c, py, px) order */
    float *pos_emb;           /* (T, D) */
    float *pre_ln_w, *pre_ln_b;   /* (D) */
    struct embed_clip_layer *layers;    /* (L) */
    float *post_ln_w, *post_ln_b; /* (D) */
    float *proj_w;            /* (E, D), no bias */
    uint64_t weights_id;      /* identifies the weights (header hash, file size) */
};

/* Loads a CLIP vision model from a safetensors file (other tensors are ignored). The
 * configuration comes from the shapes; heads: heads_override if > 0, else __metadata__
 * "num_attention_heads", else width / 64 (CLIP ViT-B/32 has head_dim 64); activation:
 * act_override if not EMBED_CLIP_ACT_DEFAULT, else __metadata__ "hidden_act" ("quick_gelu" or
 * "gelu"), else quick_gelu. */
int embed_clip_model_load(struct embed_clip_model **out, const char *path, int heads_override,
                    enum embed_clip_act act_override);
/* Parses "quick_gelu" / "gelu"; returns EMBED_CLIP_ACT_DEFAULT for anything else. */
enum embed_clip_act embed_clip_act_parse(const char *s);
/* A model with random weights of the given shape (cfg.tokens is derived), for benchmarks. */
int embed_clip_model_random(struct embed_clip_model **out, const struct embed_clip_config *cfg, uint64_t seed);
void embed_clip_model_free(struct embed_clip_model **m);
/* Multiply-add FLOPs (2 per multiply-add) of one image's forward pass: GEMMs and attention. */
double embed_clip_flops_per_image(const struct embed_clip_config *cfg);

/* Scratch memory for forward passes of up to max_batch images. */
struct embed_clip_ws {
    int max_batch;
    float *patches;   /* (B * np, 3 P P) */
    float *x;         /* (B, T, D) residual stream */
    float *h;         /* (B, T, D) layer-norm output / attention output */
    float *qkv;       /* (B, T, 3D) */
    float *att;       /* (B, T, D) */
    float *scores;    /* (B * H, T, T) */
    float *fc;        /* (B, T, M) */
    float *cls;       /* (B, D) */
};
void embed_clip_ws_init(struct embed_clip_ws *ws, const struct embed_clip_config *cfg, int max_batch);
void embed_clip_ws_release(struct embed_clip_ws *ws);

/* pixels (B, 3, S, S) preprocessed -> out (B, E) L2-normalised embeddings. B <= ws->max_batch.
 * Matrix products use OpenBLAS; element-wise steps run on hm_threads() threads. */
void embed_clip_forward(const struct embed_clip_model *m, struct embed_clip_ws *ws, const float *pixels, int B,
                  float *out);

/* ---- images ------------------------------------------------------------------------ */

struct embed_image {
    int w, h;
    uint8_t *rgb;             /* (h, w, 3) */
};

/* Decodes a JPEG (libjpeg-turbo) or PNG (libpng) held in memory into 8-bit RGB, the way
 * Pillow's Image.open(...).convert("RGB") does: grayscale replicated, alpha dropped,
 * palettes expanded, 16-bit samples reduced to their high byte. name is for messages. */
int embed_image_decode(struct embed_image *img, const uint8_t *data, size_t len, const char *name);
int embed_image_load(struct embed_image *img, const char *path);
void embed_image_release(struct embed_image *img);
/* Pillow's bicubic resampling (ImagingResample, a = -0.5, support scaled by the
 * downscale factor, 8-bit fixed point, horizontal pass first): bit-identical output. */
void embed_image_resize(const struct embed_image *in, int w, int h, struct embed_image *out);
/* CLIP preprocessing: shorter side to size (longer side truncated as torchvision does),
 * bicubic, centre crop size x size (offsets rounded half to even), x / 255, normalised by
 * CLIP's mean and std. out: (3, size, size). */
void embed_image_preprocess(const struct embed_image *img, int size, float *out);
/* The resized and centre-cropped image before normalisation: out (size, size, 3). */
void embed_image_crop(const struct embed_image *img, int size, uint8_t *out);

/* ---- the batch driver -------------------------------------------------------------- */

/* Article ids are the H&M numbers (e.g. 108775015); images live at
 * <images>/<first 3 of 10 digits>/<10 digits>.jpg. */
char *embed_article_path(const char *images_dir, int64_t id);
/* Finds DIR/ddd/dddddddddd.jpg files; ids sorted ascending. */
int embed_scan_articles(const char *images_dir, int64_t **ids, size_t *n);
/* Reads ids from a text file: one per line, first comma- or space-separated field; a first
 * line that is not a number (a CSV header such as articles.csv's) is skipped. */
int embed_read_articles(const char *path, int64_t **ids, size_t *n);

struct embed_options {
    const char *weights;      /* safetensors file */
    const char *images;       /* H&M images directory */
    const char *out;          /* output .npy */
    const char *articles;     /* optional id list; NULL: scan images */
    int batch;                /* images per forward pass (default 32) */
    int heads;                /* > 0: override the number of attention heads */
    enum embed_clip_act act;        /* EMBED_CLIP_ACT_DEFAULT: from the file's metadata, else quick_gelu */
    long stop_after;          /* testing: stop with HM_EINTR after this many batches (0: off) */
};

struct embed_result {
    size_t rows;              /* articles in the output */
    size_t resumed;           /* rows taken from an earlier interrupted run */
    size_t missing;           /* unreadable or absent images (zero rows) */
    double seconds;
};

/* Output paths derived from out (stem = out without ".npy"). */
char *embed_ids_path(const char *out);       /* <stem>.ids.txt */
char *embed_missing_path(const char *out);   /* <stem>.missing.txt */
char *embed_partial_path(const char *out);   /* <out>.partial (checkpoint) */

int embed_run(const struct embed_options *o, struct embed_result *r);

/* ---- benchmark --------------------------------------------------------------------- */

struct embed_bench_result {
    const char *kernel;       /* OpenBLAS core name */
    int threads;
    double peak_gflops;       /* best of the n^3 sgemm runs interleaved with the forward passes */
    int peak_n;
    double images_per_s;      /* model forward only, best batch */
    double mean_images_per_s; /* model forward only, mean over the batches */
    double gflops;            /* achieved by the best forward pass */
    double flops_per_image;
    double decode_ms;         /* decode + preprocess, wall time per image on all threads, best of 3 (0: no image) */
    double est_seconds;       /* for n_articles: forward at the mean rate + decode */
};

int embed_bench_run(const struct embed_clip_config *cfg, int batch, int batches, int peak_n,
                    const char *image_path, size_t n_articles, struct embed_bench_result *r);

#endif
