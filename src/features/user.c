/* One customer: the user features from their transaction rows before the cutoff, and the
 * per-thread markers (rows, last day, decayed weight per article; rows per product code and
 * per attribute value; text and image profiles) that the user-item features of their
 * candidates read. Everything is cleared again in O(history) by feat_user_end. */
#include "features/feat_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void feat_user_init(struct feat_user *s, const struct feat_ctx *ctx)
{
    memset(s, 0, sizeof *s);
    size_t na = (size_t)ctx->n_articles + 1;
    s->cnt = hm_xcalloc(na, sizeof *s->cnt);
    s->last = hm_xcalloc(na, sizeof *s->last);
    s->ndays = hm_xcalloc(na, sizeof *s->ndays);
    s->dec = hm_xcalloc(na, sizeof *s->dec);
    s->prod_cnt = hm_xcalloc((size_t)ctx->n_products + 1, sizeof *s->prod_cnt);
    for (int k = 0; k < FEAT_NSHARE; k++)
        s->share[k] = hm_xcalloc((size_t)ctx->n_values[feat_share_attr[k]] + 1, sizeof(uint32_t));
    s->type_last = hm_xcalloc((size_t)ctx->n_values[FEAT_A_TYPE] + 1, sizeof *s->type_last);
    s->types = hm_xcalloc((size_t)ctx->n_values[FEAT_A_TYPE] + 1, sizeof *s->types);
    uint32_t td = ctx->in.text ? ctx->in.text_dim : 0, md = ctx->in.image ? ctx->in.image->dim : 0;
    s->tprof = hm_xcalloc((size_t)td + 1, sizeof(float));
    s->tsum = hm_xcalloc((size_t)td + 1, sizeof(float));
    s->mprof = hm_xcalloc((size_t)md + 1, sizeof(float));
    s->msum = hm_xcalloc((size_t)md + 1, sizeof(float));
}

void feat_user_release(struct feat_user *s)
{
    free(s->cnt);
    free(s->last);
    free(s->ndays);
    free(s->dec);
    free(s->prod_cnt);
    for (int k = 0; k < FEAT_NSHARE; k++)
        free(s->share[k]);
    free(s->type_last);
    free(s->types);
    free(s->items);
    free(s->tprof);
    free(s->tsum);
    free(s->mprof);
    free(s->msum);
    memset(s, 0, sizeof *s);
}

/* Scales v (n) to unit length (a zero vector stays zero). */
static void unit(float *v, uint32_t n)
{
    double ss = 0;
    for (uint32_t k = 0; k < n; k++)
        ss += (double)v[k] * v[k];
    if (!(ss > 0))
        return;
    float inv = (float)(1 / sqrt(ss));
    for (uint32_t k = 0; k < n; k++)
        v[k] *= inv;
}

/* 1 - |sum| / n: how far the mean of n unit vectors is from a single direction. */
static float diversity(const float *sum, uint32_t dim, uint32_t n)
{
    if (n == 0)
        return 0.0f;
    double ss = 0;
    for (uint32_t k = 0; k < dim; k++)
        ss += (double)sum[k] * sum[k];
    double d = 1 - sqrt(ss) / n;
    return (float)(d > 0 ? d : 0);
}

void feat_user_begin(struct feat_user *s, const struct feat_ctx *ctx, uint32_t c)
{
    const struct data_set *ds = ctx->in.ds;
    const struct data_customers *cu = &ds->customers;
    const int32_t T = ctx->cutoff, H = ctx->hist_days;
    /* the rows before the cutoff: days ascend within a customer */
    uint64_t lo, hi;
    const struct data_transactions *tx = data_customer_rows(ds, c, &lo, &hi);
    {
        uint64_t l = lo, h = hi;
        while (l < h) {
            uint64_t m = l + (h - l) / 2;
            if ((int32_t)tx->day[m] < T)
                l = m + 1;
            else
                h = m;
        }
        hi = l;
    }
    s->c = c;
    s->tx = tx;
    s->lo = lo;
    s->hi = hi;
    s->band = feat_age_band(ctx, c);
    s->last_art = s->last_img = UINT32_MAX;
    const float *text = ctx->in.text;
    const struct feat_image *im = ctx->in.image;
    uint32_t td = text ? ctx->in.text_dim : 0, md = im ? im->dim : 0;
    memset(s->tprof, 0, td * sizeof(float));
    memset(s->tsum, 0, td * sizeof(float));
    memset(s->mprof, 0, md * sizeof(float));
    memset(s->msum, 0, md * sizeof(float));

    uint32_t n = (uint32_t)(hi - lo), n_items = 0, n_products = 0, repeat = 0, visits = 0, n_types = 0;
    uint32_t n1 = 0, n2 = 0, n4 = 0, n12 = 0, online = 0, online4 = 0, ig[FEAT_NIG] = {0};
    HM_GROW(s->items, s->items_cap, hi - lo + 1);
    double gsum = 0, gsq = 0, decayed = 0, psum = 0, tier = 0, rel = 0, newness = 0;
    float pmin = INFINITY, pmax = -INFINITY;
    int32_t prev = -1;
    for (uint64_t r = lo; r < hi; r++) {
        uint32_t a = tx->article[r];
        int32_t d = tx->day[r];
        float p = tx->price[r], w = ctx->decay[T - 1 - d];
        if (s->cnt[a] == 0) {
            s->items[n_items++] = a;
            if (s->prod_cnt[ctx->product[a]] == 0)
                n_products++;
        }
        if (s->cnt[a] == 0 || s->last[a] != d) {
            s->ndays[a]++;
            repeat += s->ndays[a] == 2;
        }
        s->cnt[a]++;
        s->last[a] = (uint16_t)d;
        s->dec[a] += w;
        s->prod_cnt[ctx->product[a]]++;
        for (int k = 0; k < FEAT_NSHARE; k++)
            s->share[k][ctx->attr[feat_share_attr[k]][a]]++;
        uint16_t type = ctx->attr[FEAT_A_TYPE][a];
        if (s->share[0][type] == 1)
            s->types[n_types++] = type;
        s->type_last[type] = (uint16_t)d;
        if (ctx->ig_slot[a] >= 0)
            ig[ctx->ig_slot[a]]++;
        if (d != prev) {
            if (prev >= 0) {
                gsum += d - prev;
                gsq += (double)(d - prev) * (d - prev);
            }
            visits++;
            prev = d;
        }
        decayed += w;
        n1 += d >= T - 7;
        n2 += d >= T - 14;
        n12 += d >= T - 84;
        if (d >= T - 28) {
            n4++;
            online4 += tx->channel[r] == 2;
        }
        online += tx->channel[r] == 2;
        psum += p;
        pmin = p < pmin ? p : pmin;
        pmax = p > pmax ? p : pmax;
        float tp = ctx->type_price[type], ap = ctx->price_mean[a];
        tier += tp > 0 ? p / tp : 1.0;
        rel += ap > 0 ? p / ap : 1.0;
        newness += d - ctx->first_day[a];
        if (im && !im->missing[a] && im->inv_norm[a] > 0)
            s->last_img = a;
        s->last_art = a;
    }
    /* the profiles: sum over the distinct articles (in order of first purchase) of their unit
     * vector times their rows' summed decay; and the sums of the unit vectors */
    uint32_t t_vec = 0, m_vec = 0;
    for (uint32_t i = 0; i < n_items; i++) {
        uint32_t a = s->items[i];
        if (im && i + 2 < n_items) /* two articles ahead: their vectors are usually cache misses */
            feat_prefetch(im->emb + (size_t)s->items[i + 2] * md, md * sizeof(float));
        if (text && ctx->text_inv[a] > 0) {
            float inv = ctx->text_inv[a];
            feat_axpy2(s->tprof, s->dec[a] * inv, s->tsum, inv, text + (size_t)a * td, td);
            t_vec++;
        }
        if (im && !im->missing[a] && im->inv_norm[a] > 0) {
            float inv = im->inv_norm[a];
            feat_axpy2(s->mprof, s->dec[a] * inv, s->msum, inv, im->emb + (size_t)a * md, md);
            m_vec++;
        }
    }

    float *u = s->u;
    memset(u, 0, sizeof s->u);
    u[U_N_ROWS] = (float)n;
    u[U_N_ITEMS] = (float)n_items;
    u[U_N_PRODUCTS] = (float)n_products;
    u[U_N_VISITS] = (float)visits;
    u[U_DECAYED] = (float)decayed;
    u[U_ROWS_1W] = (float)n1;
    u[U_ROWS_2W] = (float)n2;
    u[U_ROWS_4W] = (float)n4;
    u[U_ROWS_12W] = (float)n12;
    u[U_N_TYPES] = (float)n_types;
    /* demographics */
    float age = cu->age[c];
    u[U_AGE] = isfinite(age) ? age : ctx->age_median;
    u[U_AGE_MISSING] = !isfinite(age);
    u[U_FN] = cu->fn[c] == 1;
    u[U_ACTIVE] = cu->active[c] == 1;
    u[U_CLUB] = cu->club[c] < cu->club_dict.n ? ctx->club_code[cu->club[c]] : 0;
    u[U_NEWS] = cu->news[c] < cu->news_dict.n ? ctx->news_code[cu->news[c]] : 0;
    u[U_POSTAL_N] = cu->postal[c] && cu->postal[c] < cu->postal_dict.n ? (float)ctx->postal_n[cu->postal[c]] : 0;
    unit(s->tprof, td); /* a zero profile stays zero: its cosines are 0 */
    unit(s->mprof, md);
    s->t_div = diversity(s->tsum, td, t_vec);
    s->m_div = diversity(s->msum, md, m_vec);
    if (n == 0) {
        s->price_mean = 0;
        u[U_DAYS_FIRST] = u[U_DAYS_LAST] = u[U_GAP_MEAN] = (float)(H + 1);
        u[U_PRICE_MEAN] = u[U_PRICE_MIN] = u[U_PRICE_MAX] = (float)ctx->price_all;
        u[U_PRICE_TIER] = u[U_PRICE_REL] = 1;
        u[U_ONLINE] = u[U_ONLINE_4W] = (float)ctx->online_all;
        return;
    }
    int32_t first = tx->day[lo], last = tx->day[hi - 1];
    u[U_EXPLORE] = (float)((double)n_items / n);
    u[U_REPEAT_SHARE] = (float)((double)repeat / n_items);
    u[U_DAYS_FIRST] = (float)(T - first);
    u[U_DAYS_LAST] = (float)(T - last);
    if (visits >= 2) {
        double g = gsum / (visits - 1), var = gsq / (visits - 1) - g * g;
        u[U_GAP_MEAN] = (float)g;
        u[U_GAP_STD] = (float)sqrt(var > 0 ? var : 0);
    } else {
        u[U_GAP_MEAN] = (float)(H + 1);
    }
    u[U_VISITS_WEEK] = (float)(7.0 * visits / (T - first));
    double mean = psum / n, dev = 0;
    for (uint64_t r = lo; r < hi; r++)
        dev += ((double)tx->price[r] - mean) * ((double)tx->price[r] - mean);
    s->price_mean = mean;
    u[U_PRICE_MEAN] = (float)mean;
    u[U_PRICE_MIN] = pmin;
    u[U_PRICE_MAX] = pmax;
    u[U_PRICE_STD] = (float)sqrt(dev / n);
    u[U_SPEND] = (float)psum;
    u[U_PRICE_TIER] = (float)(tier / n);
    u[U_PRICE_REL] = (float)(rel / n);
    u[U_ONLINE] = (float)((double)online / n);
    u[U_ONLINE_4W] = n4 ? (float)((double)online4 / n4) : u[U_ONLINE];
    u[U_NEWNESS] = (float)(newness / n);
    /* category preferences: the most bought values (ties: the lower code), type entropy */
    uint32_t best[3] = {0, 0, 0}, best_n[3] = {0, 0, 0};
    static const int top_share[3] = {0, 5, 4}; /* type, index group, garment in feat_share_attr */
    for (uint64_t r = lo; r < hi; r++) {
        uint32_t a = tx->article[r];
        for (int k = 0; k < 3; k++) {
            uint32_t v = ctx->attr[feat_share_attr[top_share[k]]][a], cnt = s->share[top_share[k]][v];
            if (cnt > best_n[k] || (cnt == best_n[k] && v < best[k])) {
                best[k] = v;
                best_n[k] = cnt;
            }
        }
    }
    u[U_TOP_TYPE] = (float)best[0];
    u[U_TOP_INDEX_GROUP] = (float)best[1];
    u[U_TOP_GARMENT] = (float)best[2];
    double ent = 0;
    for (uint32_t i = 0; i < n_types; i++) {
        double q = (double)s->share[0][s->types[i]] / n;
        ent -= q * log(q);
    }
    u[U_TYPE_ENTROPY] = (float)(ent > 0 ? ent : 0);
    for (int g = 0; g < FEAT_NIG; g++)
        u[U_SHARE_LADIES + g] = (float)((double)ig[g] / n);
}

void feat_user_end(struct feat_user *s, const struct feat_ctx *ctx)
{
    const struct data_transactions *tx = s->tx;
    for (uint64_t r = s->lo; r < s->hi; r++) {
        uint32_t a = tx->article[r];
        s->cnt[a] = 0;
        s->last[a] = 0;
        s->ndays[a] = 0;
        s->dec[a] = 0;
        s->prod_cnt[ctx->product[a]] = 0;
        for (int k = 0; k < FEAT_NSHARE; k++)
            s->share[k][ctx->attr[feat_share_attr[k]][a]] = 0;
        s->type_last[ctx->attr[FEAT_A_TYPE][a]] = 0;
    }
    s->lo = s->hi = 0;
}
