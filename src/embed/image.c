/* image: JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit RGB, and CLIP's
 * preprocessing with a resampler that reproduces Pillow's bicubic ImagingResample bit for
 * bit (separable convolution, kernel support scaled by the downscale factor, coefficients
 * normalised then quantised to 22-bit fixed point, 8-bit rounding after each pass). */
#include "embed.h"

#include <jpeglib.h>
#include <jerror.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* ---- JPEG ------------------------------------------------------------------------------- */

struct jpeg_err {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    int truncated;  /* libjpeg warned that the data ended early */
};

static void jpeg_fail(j_common_ptr cinfo)
{
    longjmp(((struct jpeg_err *)cinfo->err)->jump, 1);
}

static void jpeg_message(j_common_ptr cinfo, int level)
{
    struct jpeg_err *e = (struct jpeg_err *)cinfo->err;
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
        e->truncated = 1;
}

static int decode_jpeg(struct embed_image *img, const uint8_t *data, size_t len, const char *name)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_err err;
    uint8_t *volatile rgb = NULL;
    uint8_t *volatile row = NULL;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    err.mgr.emit_message = jpeg_message;
    err.truncated = 0;
    if (setjmp(err.jump)) {
        char msg[JMSG_LENGTH_MAX];
        err.mgr.format_message((j_common_ptr)&cinfo, msg);
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(row);
        return hm_error(HM_EFORMAT, "'%s': bad JPEG: %s", name, msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    if ((size_t)cinfo.image_width * cinfo.image_height > (size_t)1 << 26) {
        jpeg_destroy_decompress(&cinfo);
        return hm_error(HM_EFORMAT, "'%s': unsupported JPEG size %ux%u (more than 2^26 pixels)", name,
                        (unsigned)cinfo.image_width, (unsigned)cinfo.image_height);
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB; /* grayscale is replicated to RGB */
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height, nc = cinfo.output_components;
    if (w < 1 || h < 1 || (size_t)w * (size_t)h > (size_t)1 << 26) {
        jpeg_destroy_decompress(&cinfo);
        return hm_error(HM_EFORMAT, "'%s': unsupported JPEG size %dx%d", name, w, h);
    }
    rgb = hm_xmalloc((size_t)w * h * 3);
    row = hm_xmalloc((size_t)w * (size_t)nc);
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *dst = rgb + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW rp = row;
        jpeg_read_scanlines(&cinfo, &rp, 1);
        if (!cmyk) {
            memcpy(dst, row, (size_t)w * 3);
            continue;
        }
        /* Pillow: Adobe CMYK JPEGs are stored inverted ("CMYK;I"), then cmyk2rgb */
        for (int x = 0; x < w; x++) {
            int k[4];
            for (int i = 0; i < 4; i++)
                k[i] = cinfo.saw_Adobe_marker ? 255 - row[4 * x + i] : row[4 * x + i];
            int nk = 255 - k[3];
            for (int i = 0; i < 3; i++) {
                int t = k[i] * nk + 128;
                int v = nk - (((t >> 8) + t) >> 8);
                dst[3 * x + i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    int truncated = err.truncated;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    if (truncated) {
        free(rgb);
        return hm_error(HM_EFORMAT, "'%s': bad JPEG: the data end before the image does "
                        "(truncated file)", name);
    }
    img->w = w;
    img->h = h;
    img->rgb = rgb;
    return 0;
}

/* ---- PNG -------------------------------------------------------------------------------- */

struct png_src {
    const uint8_t *data;
    size_t len, pos;
    char msg[200];
};

static void png_read_mem(png_structp png, png_bytep out, png_size_t n)
{
    struct png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->pos) {
        snprintf(s->msg, sizeof s->msg, "the data end before the image does (truncated file)");
        png_longjmp(png, 1);
    }
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
    struct png_src *s = png_get_io_ptr(png);
    if (s && !s->msg[0])
        snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static int decode_png(struct embed_image *img, const uint8_t *data, size_t len, const char *name)
{
    struct png_src src = {data, len, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_on_error, png_on_warning);
    if (!png)
        return hm_error(HM_ENOMEM, "'%s': could not create a PNG reader", name);
    png_infop info = png_create_info_struct(png);
    uint8_t *volatile rgb = NULL;
    png_bytep *volatile rows = NULL;
    png_set_read_fn(png, &src, png_read_mem);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        free(rgb);
        free(rows);
        return hm_error(HM_EFORMAT, "'%s': bad PNG: %s", name, src.msg[0] ? src.msg : "unknown error");
    }
    png_set_user_limits(png, 1u << 16, 1u << 16);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((size_t)w * h > (size_t)1 << 26) {
        snprintf(src.msg, sizeof src.msg, "image %ux%u too large", (unsigned)w, (unsigned)h);
        png_longjmp(png, 1);
    }
    /* like Pillow's convert("RGB"): palettes expanded, gray replicated, alpha dropped,
     * 16-bit samples reduced to their high byte */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) {
        snprintf(src.msg, sizeof src.msg, "unexpected row layout");
        png_longjmp(png, 1);
    }
    rgb = hm_xmalloc((size_t)w * h * 3);
    rows = hm_xmalloc_array(h, sizeof *rows);
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = rgb + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    img->w = (int)w;
    img->h = (int)h;
    img->rgb = rgb;
    return 0;
}

/* ---- decoding entry points -------------------------------------------------------------- */

int embed_image_decode(struct embed_image *img, const uint8_t *data, size_t len, const char *name)
{
    memset(img, 0, sizeof *img);
    if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return decode_jpeg(img, data, len, name);
    if (len >= 8 && !memcmp(data, "\x89PNG\r\n\x1a\n", 8))
        return decode_png(img, data, len, name);
    if (len == 0)
        return hm_error(HM_EFORMAT, "'%s': empty file", name);
    return hm_error(HM_EFORMAT, "'%s': not a JPEG or PNG image", name);
}

int embed_image_load(struct embed_image *img, const char *path)
{
    char *data;
    size_t len;
    memset(img, 0, sizeof *img);
    int rc = hm_read_file(path, &data, &len);
    if (rc)
        return rc;
    rc = embed_image_decode(img, (const uint8_t *)data, len, path);
    free(data);
    return rc;
}

void embed_image_release(struct embed_image *img)
{
    free(img->rgb);
    memset(img, 0, sizeof *img);
}

/* ---- Pillow's bicubic resampling -------------------------------------------------------- */

#define PRECISION_BITS (32 - 8 - 2)

static double bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

/* Coefficients for resampling in_size samples to out_size: per output sample its first
 * input (bounds[2i]), count (bounds[2i+1]) and ksize fixed-point weights. Returns ksize. */
static int coeffs(int in_size, int out_size, int **bounds_out, int32_t **kk_out)
{
    double scale = (double)in_size / out_size, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *k = hm_xmalloc_array((size_t)ksize, sizeof(double));
    int32_t *kk = hm_xcalloc((size_t)out_size * ksize, sizeof(int32_t));
    int *bounds = hm_xmalloc_array((size_t)out_size * 2, sizeof(int));
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0)
            xmin = 0;
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++) {
            k[x] = bicubic((x + xmin - center + 0.5) * ss);
            ww += k[x];
        }
        for (int x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? k[x] / ww : k[x];
            kk[(size_t)xx * ksize + x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                                               : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        bounds[2 * xx] = xmin;
        bounds[2 * xx + 1] = xmax;
    }
    free(k);
    *bounds_out = bounds;
    *kk_out = kk;
    return ksize;
}

static uint8_t clip8(int32_t v)
{
    v >>= PRECISION_BITS; /* arithmetic shift, as Pillow's lookup table assumes */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* The two passes are written so that the compiler vectorises them: RB rows (horizontal)
 * or RB samples (vertical) at a time in fixed-length inner loops. Integer arithmetic is
 * exact, so every code path gives Pillow's bytes; on x86-64 an AVX2 clone is picked at
 * load time when the CPU has it. */
#define RB 8
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HM_CLONES __attribute__((target_clones("avx2", "default"), optimize("O3")))
#else
#define HM_CLONES
#endif

/* Horizontal pass over rows [0, nrows) of src (src_w x 3 bytes each, stride in_stride) into
 * dst (w x 3 each). tb: scratch of src_w * 3 * RB bytes. */
HM_CLONES static void hpass(const uint8_t *src, size_t in_stride, int src_w, int nrows, uint8_t *dst,
                            int w, const int *bounds, const int32_t *kk, int ksize, uint8_t *tb)
{
    for (int y0 = 0; y0 < nrows; y0 += RB) {
        int nr = nrows - y0 < RB ? nrows - y0 : RB;
        /* transpose: tb[(x * 3 + c) * RB + r] = sample c of pixel x in row y0 + r */
        for (int r = 0; r < RB; r++) {
            const uint8_t *row = src + (size_t)(y0 + (r < nr ? r : 0)) * in_stride;
            for (int i = 0; i < src_w * 3; i++)
                tb[(size_t)i * RB + r] = row[i];
        }
        for (int xx = 0; xx < w; xx++) {
            int xmin = bounds[2 * xx], n = bounds[2 * xx + 1];
            const int32_t *k = kk + (size_t)xx * ksize;
            int32_t a0[RB], a1[RB], a2[RB];
            for (int r = 0; r < RB; r++)
                a0[r] = a1[r] = a2[r] = 1 << (PRECISION_BITS - 1);
            for (int x = 0; x < n; x++) {
                const uint8_t *p = tb + (size_t)(x + xmin) * 3 * RB;
                int32_t kx = k[x];
                for (int r = 0; r < RB; r++)
                    a0[r] += p[r] * kx;
                for (int r = 0; r < RB; r++)
                    a1[r] += p[RB + r] * kx;
                for (int r = 0; r < RB; r++)
                    a2[r] += p[2 * RB + r] * kx;
            }
            for (int r = 0; r < nr; r++) {
                uint8_t *d = dst + (size_t)(y0 + r) * w * 3 + (size_t)xx * 3;
                d[0] = clip8(a0[r]);
                d[1] = clip8(a1[r]);
                d[2] = clip8(a2[r]);
            }
        }
    }
}

/* Vertical pass: dst (h rows of n samples) from src rows (n samples each). acc: n + RB int32. */
HM_CLONES static void vpass(const uint8_t *src, int n, uint8_t *dst, int h, const int *bounds,
                            const int32_t *kk, int ksize, int32_t *acc)
{
    for (int yy = 0; yy < h; yy++) {
        int ymin = bounds[2 * yy], taps = bounds[2 * yy + 1];
        const int32_t *k = kk + (size_t)yy * ksize;
        int nb = (n + RB - 1) / RB * RB;
        for (int i = 0; i < nb; i++)
            acc[i] = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < taps; y++) {
            const uint8_t *row = src + (size_t)(y + ymin) * n;
            int32_t ky = k[y];
            int i = 0;
            for (; i + RB <= n; i += RB)
                for (int r = 0; r < RB; r++)
                    acc[i + r] += row[i + r] * ky;
            for (; i < n; i++)
                acc[i] += row[i] * ky;
        }
        uint8_t *d = dst + (size_t)yy * n;
        for (int i = 0; i < n; i++)
            d[i] = clip8(acc[i]);
    }
}

void embed_image_resize(const struct embed_image *in, int w, int h, struct embed_image *out)
{
    int *bh, *bv;
    int32_t *kh, *kv;
    int ksh = coeffs(in->w, w, &bh, &kh);
    int ksv = coeffs(in->h, h, &bv, &kv);
    const uint8_t *src = in->rgb;
    uint8_t *tmp = NULL;
    int y_first = bv[0], y_last = bv[2 * h - 2] + bv[2 * h - 1];
    if (w != in->w) {
        /* horizontal pass over the rows the vertical pass will use */
        int rows = y_last - y_first;
        tmp = hm_xmalloc((size_t)w * rows * 3);
        uint8_t *tb = hm_xmalloc((size_t)in->w * 3 * RB);
        hpass(in->rgb + (size_t)y_first * in->w * 3, (size_t)in->w * 3, in->w, rows, tmp, w, bh,
              kh, ksh, tb);
        free(tb);
        for (int i = 0; i < h; i++)
            bv[2 * i] -= y_first;
        src = tmp;
    }
    out->w = w;
    out->h = h;
    out->rgb = hm_xmalloc((size_t)w * h * 3);
    if (h != in->h) {
        int32_t *acc = hm_xmalloc_array((size_t)w * 3 + RB, sizeof(int32_t));
        vpass(src, w * 3, out->rgb, h, bv, kv, ksv, acc);
        free(acc);
    } else {
        /* no vertical pass: the horizontal result (or a copy) is the output */
        memcpy(out->rgb, src, (size_t)w * h * 3);
    }
    free(tmp);
    free(bh);
    free(bv);
    free(kh);
    free(kv);
}

/* ---- CLIP preprocessing ----------------------------------------------------------------- */

/* Python's round() for x.0 and x.5 values: half to even. */
static int round_half_even(int twice)
{
    /* value = twice / 2 */
    if (twice % 2 == 0)
        return twice / 2;
    int lo = (twice - 1) / 2;
    return lo % 2 == 0 ? lo : lo + 1;
}

void embed_image_crop(const struct embed_image *img, int size, uint8_t *out)
{
    int w = img->w, h = img->h, nw, nh;
    if (w <= h) {
        nw = size;
        nh = (int)((double)size * h / w);
    } else {
        nh = size;
        nw = (int)((double)size * w / h);
    }
    struct embed_image r;
    const struct embed_image *src = img;
    if (nw != w || nh != h) {
        embed_image_resize(img, nw, nh, &r);
        src = &r;
    }
    int top = round_half_even(nh - size), left = round_half_even(nw - size);
    for (int y = 0; y < size; y++)
        memcpy(out + (size_t)y * size * 3, src->rgb + ((size_t)(y + top) * nw + left) * 3,
               (size_t)size * 3);
    if (src == &r)
        embed_image_release(&r);
}

void embed_image_preprocess(const struct embed_image *img, int size, float *out)
{
    static const double mean[3] = {0.48145466, 0.4578275, 0.40821073};
    static const double std[3] = {0.26862954, 0.26130258, 0.27577711};
    uint8_t *crop = hm_xmalloc((size_t)size * size * 3);
    embed_image_crop(img, size, crop);
    float lut[3][256];
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            lut[c][v] = (float)((v / 255.0 - mean[c]) / std[c]);
    size_t n = (size_t)size * size;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            out[c * n + i] = lut[c][crop[3 * i + c]];
    free(crop);
}
