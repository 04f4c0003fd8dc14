/* The context of one cutoff: article attribute codes and their frequencies, the customer
 * tables' fixed encodings, the decay table and the global figures, and (item.c) the
 * per-article statistics. Everything that depends on transactions uses rows with
 * day < cutoff only. */
#include "features/feat_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const int feat_attr_col[FEAT_NATTR] = {
    IO_ART_PRODUCT_TYPE_NO,   IO_ART_PRODUCT_GROUP_NAME, IO_ART_COLOUR_GROUP_CODE,
    IO_ART_PERCEIVED_COLOUR_VALUE_ID, IO_ART_GRAPHICAL_APPEARANCE_NO, IO_ART_DEPARTMENT_NO,
    IO_ART_INDEX_CODE,        IO_ART_INDEX_GROUP_NO,     IO_ART_SECTION_NO,
    IO_ART_GARMENT_GROUP_NO,
};
const int feat_share_attr[FEAT_NSHARE] = {FEAT_A_TYPE,    FEAT_A_DEPARTMENT, FEAT_A_SECTION,
                                          FEAT_A_COLOUR,  FEAT_A_GARMENT,    FEAT_A_INDEX_GROUP};
const int32_t feat_index_groups[FEAT_NIG] = {1, 2, 3, 4, 26};

/* ---- attribute codes ------------------------------------------------------------------- */

/* Dense codes of an integer column: distinct values ascending -> 1..n; missing -> 0. */
static uint32_t code_numbers(const int32_t *v, uint32_t na, uint32_t *code)
{
    uint64_t *keys = hm_xmalloc_array((size_t)na + 1, sizeof *keys);
    uint32_t m = 0;
    for (uint32_t a = 0; a < na; a++) {
        code[a] = 0;
        if (v[a] != IO_MISSING_I32)
            keys[m++] = (uint64_t)((uint32_t)v[a] ^ 0x80000000u) << 32 | a; /* signed order */
    }
    hm_sort_u64(keys, m);
    uint32_t n = 0;
    for (uint32_t i = 0; i < m; i++) {
        if (i == 0 || keys[i] >> 32 != keys[i - 1] >> 32)
            n++;
        code[keys[i] & 0xffffffffu] = n;
    }
    free(keys);
    return n;
}

/* 1 when dictionary string x sorts after y (bytewise, then shorter first). */
static int dict_after(const struct data_dict *d, uint32_t x, uint32_t y)
{
    uint32_t lx, ly;
    const char *sx = data_dict_get(d, x, &lx), *sy = data_dict_get(d, y, &ly);
    int c = memcmp(sx, sy, lx < ly ? lx : ly);
    return c > 0 || (c == 0 && lx > ly);
}

/* Dense codes of a dictionary-encoded text column: the used non-empty strings bytewise
 * ascending -> 1..n; "" -> 0. */
static uint32_t code_strings(const uint32_t *v, const struct data_dict *d, uint32_t na, uint32_t *code)
{
    uint32_t nd = d->n;
    uint32_t *map = hm_xcalloc((size_t)nd + 1, sizeof *map), *order = hm_xmalloc_array((size_t)nd + 1, sizeof *order);
    for (uint32_t a = 0; a < na; a++)
        if (v[a] < nd)
            map[v[a]] = 1;
    uint32_t n = 0;
    for (uint32_t k = 1; k < nd; k++) /* insertion sort: dictionaries of attributes are small */
        if (map[k] && d->off[k + 1] > d->off[k]) {
            uint32_t i = n++;
            while (i > 0 && dict_after(d, order[i - 1], k)) {
                order[i] = order[i - 1];
                i--;
            }
            order[i] = k;
        }
    memset(map, 0, ((size_t)nd + 1) * sizeof *map);
    for (uint32_t i = 0; i < n; i++)
        map[order[i]] = i + 1;
    for (uint32_t a = 0; a < na; a++)
        code[a] = v[a] < nd ? map[v[a]] : 0;
    free(map);
    free(order);
    return n;
}

static int attr_codes(struct feat_ctx *ctx)
{
    const struct data_articles *art = &ctx->in.ds->articles;
    uint32_t na = art->n, *code = hm_xmalloc_array((size_t)na + 1, sizeof *code);
    for (int k = 0; k < FEAT_NATTR; k++) {
        int col = feat_attr_col[k];
        uint32_t n;
        if (art->num[col])
            n = code_numbers(art->num[col], na, code);
        else if (art->code[col])
            n = code_strings(art->code[col], &art->dict[col], na, code);
        else
            HM_BUG("articles column %s is not loaded", io_art_col_name[col]);
        if (n > UINT16_MAX - 1) {
            free(code);
            return hm_error(HM_EINVAL, "articles: %u distinct values of %s; the features support at most %u",
                            n, io_art_col_name[col], UINT16_MAX - 1);
        }
        ctx->n_values[k] = n;
        ctx->attr[k] = hm_xmalloc_array((size_t)na + 1, sizeof(uint16_t));
        ctx->attr_count[k] = hm_xcalloc((size_t)n + 1, sizeof(uint32_t));
        for (uint32_t a = 0; a < na; a++) {
            ctx->attr[k][a] = (uint16_t)code[a];
            ctx->attr_count[k][code[a]]++;
        }
    }
    /* product codes: dense ids; an article without one is a product of its own */
    ctx->product = hm_xmalloc_array((size_t)na + 1, sizeof *ctx->product);
    uint32_t n = code_numbers(art->num[IO_ART_PRODUCT_CODE], na, code);
    for (uint32_t a = 0; a < na; a++)
        ctx->product[a] = code[a] ? code[a] - 1 : n++;
    ctx->n_products = n;
    ctx->ig_slot = hm_xmalloc_array((size_t)na + 1, 1);
    for (uint32_t a = 0; a < na; a++) {
        ctx->ig_slot[a] = -1;
        for (int g = 0; g < FEAT_NIG; g++)
            if (art->num[IO_ART_INDEX_GROUP_NO][a] == feat_index_groups[g])
                ctx->ig_slot[a] = (int8_t)g;
    }
    free(code);
    return 0;
}

/* ---- customers ---------------------------------------------------------------------------- */

static int dict_is(const struct data_dict *d, uint32_t k, const char *s)
{
    uint32_t len;
    const char *v = data_dict_get(d, k, &len);
    return len == strlen(s) && memcmp(v, s, len) == 0;
}

/* A float as an unsigned key with the same order (finite values). */
static uint64_t float_key(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}

static float key_float(uint64_t k)
{
    uint32_t u = (uint32_t)k & 0x80000000u ? (uint32_t)k & 0x7fffffffu : ~(uint32_t)k;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void customer_tables(struct feat_ctx *ctx)
{
    const struct data_customers *cu = &ctx->in.ds->customers;
    ctx->club_code = hm_xcalloc((size_t)cu->club_dict.n + 1, 1);
    for (uint32_t k = 0; k < cu->club_dict.n; k++)
        ctx->club_code[k] = dict_is(&cu->club_dict, k, "ACTIVE") ? 1
                            : dict_is(&cu->club_dict, k, "PRE-CREATE") ? 2
                            : dict_is(&cu->club_dict, k, "LEFT CLUB") ? 3 : 0;
    ctx->news_code = hm_xcalloc((size_t)cu->news_dict.n + 1, 1);
    for (uint32_t k = 0; k < cu->news_dict.n; k++)
        ctx->news_code[k] = dict_is(&cu->news_dict, k, "NONE") || dict_is(&cu->news_dict, k, "None") ? 1
                            : dict_is(&cu->news_dict, k, "Regularly") ? 2
                            : dict_is(&cu->news_dict, k, "Monthly") ? 3 : 0;
    ctx->postal_n = hm_xcalloc((size_t)cu->postal_dict.n + 1, sizeof *ctx->postal_n);
    for (uint32_t c = 0; c < cu->n; c++)
        if (cu->postal[c] && cu->postal[c] < cu->postal_dict.n)
            ctx->postal_n[cu->postal[c]]++;
    uint64_t *ages = hm_xmalloc_array((size_t)cu->n + 1, sizeof *ages);
    uint32_t m = 0;
    for (uint32_t c = 0; c < cu->n; c++)
        if (isfinite(cu->age[c]))
            ages[m++] = float_key(cu->age[c]);
    hm_sort_u64(ages, m);
    ctx->age_median = m == 0 ? 0.0f
                      : m % 2 ? key_float(ages[m / 2])
                              : 0.5f * (key_float(ages[m / 2 - 1]) + key_float(ages[m / 2]));
    free(ages);
}

int feat_age_band(const struct feat_ctx *ctx, uint32_t c)
{
    float age = ctx->in.ds->customers.age[c];
    if (!isfinite(age))
        return 0;
    return age < 20 ? 1 : age < 25 ? 2 : age < 30 ? 3 : age < 40 ? 4 : age < 50 ? 5 : age < 60 ? 6 : 7;
}

/* ---- init / release ----------------------------------------------------------------------- */

int feat_ctx_init(struct feat_ctx *ctx, const struct feat_inputs *in, int32_t cutoff,
                  const struct feat_params *p)
{
    memset(ctx, 0, sizeof *ctx);
    if (!in || !in->ds)
        return hm_error(HM_EINVAL, "features: no data set");
    if (!(p->tau > 0) || !isfinite(p->tau))
        return hm_error(HM_EINVAL, "features.tau: expected a positive number of days, found %g", p->tau);
    if (p->age_weeks < 1)
        return hm_error(HM_EINVAL, "features.age_weeks: expected at least 1, found %ld", p->age_weeks);
    const struct data_set *ds = in->ds;
    if (in->text && (in->text_dim == 0 || in->text_rows != ds->articles.n))
        return hm_error(HM_EINVAL, "features: text embeddings (%llu, %u) for a data set of %u articles",
                        (unsigned long long)in->text_rows, in->text_dim, ds->articles.n);
    if (in->image && (in->image->n_articles != ds->articles.n || in->image->dim == 0))
        return hm_error(HM_EINVAL, "features: image embeddings for %u articles, the data set has %u",
                        in->image->n_articles, ds->articles.n);
    if (cutoff <= 0 || cutoff > UINT16_MAX)
        return hm_error(HM_EINVAL, "features: cutoff day %d out of range", (int)cutoff);
    ctx->in = *in;
    ctx->p = *p;
    ctx->cutoff = cutoff;
    ctx->n_articles = ds->articles.n;
    ctx->n_customers = ds->customers.n;
    ctx->hist_days = ds->tx.n_all && ds->tx.day_min < cutoff ? cutoff - ds->tx.day_min : 1;
    ctx->decay = hm_xmalloc_array((size_t)ctx->hist_days + 1, sizeof *ctx->decay);
    for (int32_t age = 0; age <= ctx->hist_days; age++)
        ctx->decay[age] = (float)exp(-(double)age / p->tau);
    int rc = attr_codes(ctx);
    if (rc) {
        feat_ctx_release(ctx);
        return rc;
    }
    customer_tables(ctx);
    if (in->text) {
        ctx->text_inv = hm_xmalloc_array((size_t)ctx->n_articles + 1, sizeof *ctx->text_inv);
        for (uint32_t a = 0; a < ctx->n_articles; a++) {
            const float *v = in->text + (size_t)a * in->text_dim;
            double ss = 0;
            for (uint32_t k = 0; k < in->text_dim; k++)
                ss += (double)v[k] * v[k];
            if (!isfinite(ss)) {
                feat_ctx_release(ctx);
                return hm_error(HM_EINVAL, "features: the text embedding of article row %u is not finite", a);
            }
            ctx->text_inv[a] = ss > 0 ? (float)(1 / sqrt(ss)) : 0.0f;
        }
    }
    feat_item_stats(ctx);
    return 0;
}

void feat_ctx_view(struct feat_ctx *view, const struct feat_ctx *ctx, const struct data_set *ds)
{
    *view = *ctx;
    view->in.ds = ds;
}

void feat_ctx_release(struct feat_ctx *ctx)
{
    free(ctx->decay);
    for (int k = 0; k < FEAT_NATTR; k++) {
        free(ctx->attr[k]);
        free(ctx->attr_count[k]);
    }
    free(ctx->product);
    free(ctx->ig_slot);
    free(ctx->item);
    free(ctx->price_mean);
    free(ctx->first_day);
    free(ctx->type_price);
    free(ctx->age_pop);
    free(ctx->age_lift);
    free(ctx->postal_n);
    free(ctx->club_code);
    free(ctx->news_code);
    free(ctx->text_inv);
    memset(ctx, 0, sizeof *ctx);
}
