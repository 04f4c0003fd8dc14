/* Per-article statistics as of the cutoff: the item feature rows (ctx->item), the article
 * mean prices and first sale days the user features use, the product types' mean prices,
 * and the popularity of every article within each customer age band. One pass over each
 * article's transaction rows (the article side: rows by customer, then day), parallel over
 * articles with per-article output slots; in a shard the pass covers its range of articles
 * and the ranks then share their rows (data_article_share). */
#include "features/feat_internal.h"

#include <stdlib.h>
#include <string.h>

struct item_job {
    struct feat_ctx *ctx;
    double *price_sum;     /* (n_articles) */
    double *last_sum;      /* (n_articles) prices on the last sale day */
    uint32_t *last_n;      /* (n_articles) rows on the last sale day */
    uint32_t *online;      /* (n_articles) */
    uint32_t *band_rows;   /* (FEAT_NBANDS, n_articles) rows in the age window */
    uint8_t *band;         /* (n_customers) age band of each customer */
};

static int item_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct item_job *j = ud;
    struct feat_ctx *ctx = j->ctx;
    const struct data_transactions *tx = &ctx->in.ds->art.tx;
    const int32_t T = ctx->cutoff, age_start = T - 7 * (int32_t)ctx->p.age_weeks;
    const uint32_t na = ctx->n_articles;
    for (size_t a = begin; a < end; a++) {
        float *f = ctx->item + a * FEAT_NITEM;
        uint32_t n_all = 0, n1 = 0, n2 = 0, n4 = 0, n_prev = 0, b1 = 0, b4 = 0, b_all = 0, rep = 0;
        uint32_t online = 0, last_n = 0;
        double psum = 0, last_sum = 0;
        int32_t first = INT32_MAX, last = -1;
        uint32_t cust = UINT32_MAX;
        int seen1 = 0, seen4 = 0, days = 0;
        int32_t prev_day = -1;
        const uint64_t k_end = tx->art_off[a + 1];
        for (uint64_t k = tx->art_off[a]; k < k_end; k++) {
            if (k + 16 < k_end) { /* the rows are scattered over the columns: fetch ahead */
                uint64_t ahead = tx->art_rows[k + 16];
                __builtin_prefetch(&tx->day[ahead]);
                __builtin_prefetch(&tx->customer[ahead]);
                __builtin_prefetch(&tx->price[ahead]);
                __builtin_prefetch(&tx->channel[ahead]);
            }
            uint64_t r = tx->art_rows[k];
            int32_t d = tx->day[r];
            if (d >= T)
                continue;
            uint32_t c = tx->customer[r];
            if (c != cust) { /* a new buyer (rows of a customer are contiguous) */
                rep += days >= 2;
                cust = c;
                seen1 = seen4 = days = 0;
                prev_day = -1;
                b_all++;
            }
            if (d != prev_day) {
                days++;
                prev_day = d;
            }
            n_all++;
            psum += tx->price[r];
            online += tx->channel[r] == 2;
            if (d < first)
                first = d;
            if (d > last) {
                last = d;
                last_sum = 0;
                last_n = 0;
            }
            if (d == last) {
                last_sum += tx->price[r];
                last_n++;
            }
            if (d >= T - 7) {
                n1++;
                b1 += !seen1;
                seen1 = 1;
            }
            if (d >= T - 14)
                n2++;
            if (d >= T - 28) {
                n4++;
                b4 += !seen4;
                seen4 = 1;
                if (d < T - 7)
                    n_prev++;
            }
            if (d >= age_start)
                j->band_rows[(size_t)j->band[c] * na + a]++;
        }
        rep += days >= 2;
        for (int k = 0; k < FEAT_NATTR; k++)
            f[I_TYPE + k] = ctx->attr[k][a];
        f[I_TYPE_N] = (float)ctx->attr_count[FEAT_A_TYPE][ctx->attr[FEAT_A_TYPE][a]];
        f[I_DEPARTMENT_N] = (float)ctx->attr_count[FEAT_A_DEPARTMENT][ctx->attr[FEAT_A_DEPARTMENT][a]];
        f[I_SECTION_N] = (float)ctx->attr_count[FEAT_A_SECTION][ctx->attr[FEAT_A_SECTION][a]];
        f[I_ROWS_1W] = (float)n1;
        f[I_ROWS_2W] = (float)n2;
        f[I_ROWS_4W] = (float)n4;
        f[I_ROWS_ALL] = (float)n_all;
        f[I_BUYERS_1W] = (float)b1;
        f[I_BUYERS_4W] = (float)b4;
        f[I_BUYERS_ALL] = (float)b_all;
        f[I_DAYS_FIRST] = (float)(n_all ? T - first : ctx->hist_days + 1);
        f[I_DAYS_LAST] = (float)(n_all ? T - last : ctx->hist_days + 1);
        int32_t span = n_all && T - first < 28 ? T - first : 28;
        f[I_VELOCITY] = (float)((double)n4 / span);
        f[I_TREND] = (float)((n1 + 1.0) / (n_prev / 3.0 + 1.0));
        f[I_REPURCHASE] = b_all ? (float)((double)rep / b_all) : 0.0f;
        ctx->first_day[a] = n_all ? (uint16_t)first : 0;
        j->price_sum[a] = psum;
        j->last_sum[a] = last_sum;
        j->last_n[a] = last_n;
        j->online[a] = online;
    }
    return 0;
}

void feat_item_stats(struct feat_ctx *ctx)
{
    const uint32_t na = ctx->n_articles, nc = ctx->n_customers;
    struct item_job j = {ctx,
                         hm_xmalloc_array((size_t)na + 1, sizeof(double)),
                         hm_xmalloc_array((size_t)na + 1, sizeof(double)),
                         hm_xmalloc_array((size_t)na + 1, sizeof(uint32_t)),
                         hm_xmalloc_array((size_t)na + 1, sizeof(uint32_t)),
                         hm_xcalloc((size_t)FEAT_NBANDS * na + 1, sizeof(uint32_t)),
                         hm_xmalloc_array((size_t)nc + 1, 1)};
    for (uint32_t c = 0; c < nc; c++)
        j.band[c] = (uint8_t)feat_age_band(ctx, c);
    ctx->item = hm_xmalloc_array((size_t)na * FEAT_NITEM + 1, sizeof(float));
    ctx->first_day = hm_xmalloc_array((size_t)na + 1, sizeof(uint16_t));
    /* the article side's articles, then every rank's (a shard's pass covers its range) */
    const struct data_set *ds = ctx->in.ds;
    data_article_pass(ds, 0, 1024, item_range, &j);
    data_article_share(ds, ctx->item, FEAT_NITEM * sizeof *ctx->item);
    data_article_share(ds, ctx->first_day, sizeof *ctx->first_day);
    data_article_share(ds, j.price_sum, sizeof *j.price_sum);
    data_article_share(ds, j.last_sum, sizeof *j.last_sum);
    data_article_share(ds, j.last_n, sizeof *j.last_n);
    data_article_share(ds, j.online, sizeof *j.online);
    for (int b = 0; b < FEAT_NBANDS; b++)
        data_article_share(ds, j.band_rows + (size_t)b * na, sizeof *j.band_rows);

    /* global figures and the product types' mean prices (sums in article order) */
    uint32_t nt = ctx->n_values[FEAT_A_TYPE];
    double *tsum = hm_xcalloc((size_t)nt + 1, sizeof *tsum), *tn = hm_xcalloc((size_t)nt + 1, sizeof *tn);
    double all_sum = 0, all_n = 0, all_online = 0;
    for (uint32_t a = 0; a < na; a++) {
        double n = ctx->item[(size_t)a * FEAT_NITEM + I_ROWS_ALL];
        tsum[ctx->attr[FEAT_A_TYPE][a]] += j.price_sum[a];
        tn[ctx->attr[FEAT_A_TYPE][a]] += n;
        all_sum += j.price_sum[a];
        all_n += n;
        all_online += j.online[a];
    }
    ctx->price_all = all_n > 0 ? all_sum / all_n : 0;
    ctx->online_all = all_n > 0 ? all_online / all_n : 0;
    ctx->type_price = hm_xmalloc_array((size_t)nt + 1, sizeof *ctx->type_price);
    for (uint32_t t = 0; t <= nt; t++)
        ctx->type_price[t] = (float)(tn[t] > 0 ? tsum[t] / tn[t] : ctx->price_all);
    ctx->price_mean = hm_xmalloc_array((size_t)na + 1, sizeof *ctx->price_mean);
    for (uint32_t a = 0; a < na; a++) {
        float *f = ctx->item + (size_t)a * FEAT_NITEM;
        double n = f[I_ROWS_ALL];
        float mean = n > 0 ? (float)(j.price_sum[a] / n) : ctx->type_price[ctx->attr[FEAT_A_TYPE][a]];
        float last = j.last_n[a] ? (float)(j.last_sum[a] / j.last_n[a]) : mean;
        ctx->price_mean[a] = mean;
        f[I_PRICE_MEAN] = mean;
        f[I_PRICE_LAST] = last;
        f[I_PRICE_RATIO] = n > 0 && mean > 0 ? last / mean : 1.0f;
        f[I_ONLINE] = n > 0 ? (float)(j.online[a] / n) : (float)ctx->online_all;
    }
    free(tsum);
    free(tn);

    /* popularity within each age band over the last age_weeks weeks */
    double band_tot[FEAT_NBANDS] = {0}, tot = 0;
    for (int b = 0; b < FEAT_NBANDS; b++) {
        for (uint32_t a = 0; a < na; a++)
            band_tot[b] += j.band_rows[(size_t)b * na + a];
        tot += band_tot[b];
    }
    ctx->age_pop = hm_xmalloc_array((size_t)FEAT_NBANDS * na + 1, sizeof(float));
    ctx->age_lift = hm_xmalloc_array((size_t)FEAT_NBANDS * na + 1, sizeof(float));
    for (uint32_t a = 0; a < na; a++) {
        double all = 0;
        for (int b = 0; b < FEAT_NBANDS; b++)
            all += j.band_rows[(size_t)b * na + a];
        double share = tot > 0 ? all / tot : 0;
        for (int b = 0; b < FEAT_NBANDS; b++) {
            double cnt = j.band_rows[(size_t)b * na + a];
            ctx->age_pop[(size_t)b * na + a] = band_tot[b] > 0 ? (float)(cnt / band_tot[b]) : 0.0f;
            ctx->age_lift[(size_t)b * na + a] = (float)((cnt + 1) / (band_tot[b] * share + 1));
        }
    }
    free(j.price_sum);
    free(j.last_sum);
    free(j.last_n);
    free(j.online);
    free(j.band_rows);
    free(j.band);
}
