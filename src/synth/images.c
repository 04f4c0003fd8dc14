/* synth/images.c: small JPEG product pictures, images/0XX/0XXXXXXXXX.jpg. A simple garment
 * silhouette by product group and type, filled with the article's colour (perceived master
 * colour and value) and pattern (graphical appearance), on a light background. Every image
 * depends only on its article, so the bytes do not depend on the thread count. */
#include "synth/synth_internal.h"

#include <jpeglib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct rgb { double r, g, b; };

static struct rgb master_rgb(const char *m)
{
    static const struct { const char *name; struct rgb c; } t[] = {
        {"Black", {22, 22, 24}}, {"White", {242, 242, 238}}, {"Blue", {45, 75, 160}},
        {"Beige", {215, 195, 160}}, {"Grey", {128, 128, 130}}, {"Pink", {232, 150, 180}},
        {"Red", {190, 32, 42}}, {"Khaki green", {118, 120, 78}}, {"Green", {42, 132, 64}},
        {"Brown", {112, 72, 42}}, {"Lilac Purple", {170, 130, 200}}, {"Orange", {240, 140, 40}},
        {"Yellow", {240, 210, 60}}, {"Turquoise", {60, 190, 190}}, {"Metal", {182, 182, 192}},
        {"Mole", {140, 122, 110}}, {"Yellowish Green", {170, 200, 70}}, {"Bluish Green", {50, 150, 130}},
        {"Yellowish Brown", {170, 130, 60}},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(m, t[i].name))
            return t[i].c;
    return (struct rgb){150, 150, 150};
}

static struct rgb shade(struct rgb c, const char *value)
{
    double k = 1, mix = 0;
    struct rgb to = {255, 255, 255};
    if (!strcmp(value, "Dark"))
        k = 0.6;
    else if (!strcmp(value, "Light"))
        mix = 0.4;
    else if (!strcmp(value, "Dusty Light"))
        mix = 0.35, to = (struct rgb){200, 195, 190};
    else if (!strcmp(value, "Medium Dusty"))
        mix = 0.25, to = (struct rgb){150, 145, 140};
    c.r = (c.r * k) * (1 - mix) + to.r * mix;
    c.g = (c.g * k) * (1 - mix) + to.g * mix;
    c.b = (c.b * k) * (1 - mix) + to.b * mix;
    return c;
}

/* 1 when pixel (x, y) in [0, 1)^2 belongs to the garment's silhouette. */
static int inside(const char *group, const char *type, double x, double y)
{
    double cx = fabs(x - 0.5);
    if (!strcmp(group, "Garment Upper body")) {
        if (y > 0.18 && y < 0.85 && cx < 0.22)
            return 1;                                      /* torso */
        int long_sleeves = strcmp(type, "Vest top") && strcmp(type, "T-shirt");
        double sl = long_sleeves ? 0.75 : 0.42;
        return y > 0.18 && y < sl && cx < 0.22 + 0.5 * (y - 0.18) && cx > 0.2 && cx < 0.42 &&
               strcmp(type, "Vest top");                   /* sleeves */
    }
    if (!strcmp(group, "Garment Lower body")) {
        if (!strcmp(type, "Skirt"))
            return y > 0.15 && y < 0.75 && cx < 0.15 + 0.25 * (y - 0.15);
        double len = !strcmp(type, "Shorts") ? 0.5 : 0.92;
        if (y > 0.1 && y < 0.25 && cx < 0.22)
            return 1;                                      /* waist */
        return y >= 0.25 && y < len && cx > 0.02 && cx < 0.22; /* legs */
    }
    if (!strcmp(group, "Garment Full body"))
        return (y > 0.1 && y < 0.35 && cx < 0.16) || (y >= 0.35 && y < 0.92 && cx < 0.16 + 0.3 * (y - 0.35));
    if (!strcmp(group, "Shoes"))
        return (y > 0.55 && y < 0.8 && x > 0.15 && x < 0.85 && (y > 0.68 || x < 0.45));
    if (!strcmp(group, "Underwear") || !strcmp(group, "Swimwear") || !strcmp(group, "Nightwear"))
        return (y > 0.25 && y < 0.42 && cx < 0.25 && cx > 0.03) || (y > 0.55 && y < 0.75 && cx < 0.22 - 0.4 * (y - 0.55));
    if (!strcmp(group, "Socks & Tights"))
        return (x > 0.4 && x < 0.6 && y > 0.1 && y < 0.8) || (y >= 0.7 && y < 0.85 && x > 0.4 && x < 0.78);
    /* accessories and the rest: a round or boxy object */
    if (!strcmp(type, "Bag"))
        return (y > 0.35 && y < 0.85 && cx < 0.3) || (y > 0.2 && y <= 0.35 && cx > 0.12 && cx < 0.18);
    return (x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5) < 0.09;
}

/* The garment's colour at (x, y) given its pattern. */
static struct rgb pattern(const char *app, struct rgb c, double x, double y, uint64_t h)
{
    struct rgb alt = {255 - c.r * 0.6, 255 - c.g * 0.6, 255 - c.b * 0.6};
    double f = 0.6 + 0.8 * ((h >> 8) & 255) / 255.0; /* per-article scale */
    int on = 0;
    if (!strcmp(app, "Stripe"))
        on = (int)(y * 14 * f) % 2;
    else if (!strcmp(app, "Check"))
        on = ((int)(x * 10 * f) + (int)(y * 10 * f)) % 2;
    else if (!strcmp(app, "Dot"))
        on = pow(fmod(x * 12 * f, 1) - 0.5, 2) + pow(fmod(y * 12 * f, 1) - 0.5, 2) < 0.06;
    else if (!strcmp(app, "All over pattern") || !strcmp(app, "Other pattern"))
        on = (hm_mix64(h ^ ((uint64_t)(x * 9 * f) << 8) ^ (uint64_t)(y * 9 * f)) & 3) == 0;
    else if (!strcmp(app, "Front print") || !strcmp(app, "Placement print"))
        on = fabs(x - 0.5) < 0.1 && y > 0.35 && y < 0.55;
    else if (!strcmp(app, "Melange") || !strcmp(app, "Denim") || !strcmp(app, "Slub")) {
        double n = (double)(hm_mix64(h ^ (uint64_t)(x * 1000) * 7919 ^ (uint64_t)(y * 1000)) & 63) / 63.0 - 0.5;
        return (struct rgb){c.r * (1 + 0.25 * n), c.g * (1 + 0.25 * n), c.b * (1 + 0.25 * n)};
    } else if (!strcmp(app, "Colour blocking") || !strcmp(app, "Mixed solid/pattern"))
        on = y > 0.55;
    return on ? alt : c;
}

struct img_ctx {
    const struct synth_catalogue *c;
    const struct synth_taxonomy *t;
    const struct synth_params *p;
    const char *dir;
};

static int draw_one(const struct img_ctx *x, size_t a)
{
    const struct synth_taxonomy *t = x->t;
    const struct synth_catalogue *c = x->c;
    int S = (int)x->p->image_size;
    const struct synth_tx_colour *co = &t->colours[c->colour[a]];
    struct rgb base = shade(master_rgb(co->master_name), co->value_name);
    const char *group = t->types[c->type[a]].group, *type = t->types[c->type[a]].name;
    const char *app = t->app[c->app[a]].name;
    uint64_t h = hm_mix64((uint64_t)x->p->seed ^ ((uint64_t)c->product[a] << 16));
    unsigned char *px = hm_xmalloc((size_t)S * S * 3);
    for (int yy = 0; yy < S; yy++)
        for (int xx = 0; xx < S; xx++) {
            double fx = (xx + 0.5) / S, fy = (yy + 0.5) / S;
            struct rgb v = {236, 234, 230};
            if (inside(group, type, fx, fy))
                v = pattern(app, base, fx, fy, h);
            unsigned char *o = px + ((size_t)yy * S + xx) * 3;
            o[0] = (unsigned char)(v.r < 0 ? 0 : v.r > 255 ? 255 : v.r);
            o[1] = (unsigned char)(v.g < 0 ? 0 : v.g > 255 ? 255 : v.g);
            o[2] = (unsigned char)(v.b < 0 ? 0 : v.b > 255 ? 255 : v.b);
        }
    char id[11], rel[40];
    synth_article_id(c, a, id);
    snprintf(rel, sizeof rel, "images/%.3s/%s.jpg", id, id);
    char *path = hm_path_join(x->dir, rel);
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    free(path);
    if (rc == 0) {
        struct jpeg_compress_struct ci;
        struct jpeg_error_mgr jerr;
        ci.err = jpeg_std_error(&jerr);
        jpeg_create_compress(&ci);
        jpeg_stdio_dest(&ci, w.f);
        ci.image_width = (JDIMENSION)S;
        ci.image_height = (JDIMENSION)S;
        ci.input_components = 3;
        ci.in_color_space = JCS_RGB;
        jpeg_set_defaults(&ci);
        jpeg_set_quality(&ci, 85, TRUE);
        jpeg_start_compress(&ci, TRUE);
        while (ci.next_scanline < ci.image_height) {
            JSAMPROW row = px + (size_t)ci.next_scanline * S * 3;
            jpeg_write_scanlines(&ci, &row, 1);
        }
        jpeg_finish_compress(&ci);
        jpeg_destroy_compress(&ci);
        rc = hm_awriter_commit(&w);
    }
    free(px);
    return rc;
}

static int draw_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    const struct img_ctx *x = ud;
    for (size_t a = begin; a < end; a++)
        if (draw_one(x, a) != 0)
            return -1;
    return 0;
}

int synth_write_images(const struct synth_catalogue *c, const struct synth_taxonomy *t,
                       const struct synth_params *p, const char *dir)
{
    /* the folders first (one per 3-digit prefix), then the pictures in parallel */
    char id[11], rel[32];
    for (size_t a = 0; a < c->n; a++) {
        synth_article_id(c, a, id);
        if (a > 0) {
            char prev[11];
            synth_article_id(c, a - 1, prev);
            if (!memcmp(prev, id, 3))
                continue;
        }
        snprintf(rel, sizeof rel, "images/%.3s", id);
        char *path = hm_path_join(dir, rel);
        int rc = hm_mkdirs(path);
        free(path);
        if (rc)
            return rc;
    }
    struct img_ctx x = {c, t, p, dir};
    if (hm_parallel_chunks(0, c->n, 256, draw_range, &x) != 0)
        return hm_error(HM_EIO, "synth: could not write an image under '%s/images'", dir);
    return 0;
}
