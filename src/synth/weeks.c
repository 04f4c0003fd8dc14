/* synth/weeks.c: the weekly popularity of every article (attractiveness x life cycle x
 * season), its prefix sums for fast range sampling, each week's trending set, and the
 * calendar (day-of-week, yearly and sales-peak multipliers of the visit rate). */
#include "synth/synth_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Day of year (0-based) and month/day of a day number. */
static void calendar(int32_t day, int *doy, int *month, int *mday)
{
    char buf[16];
    hm_date_format(day, buf);
    int y = atoi(buf);
    *month = atoi(buf + 5);
    *mday = atoi(buf + 8);
    char jan1[16];
    snprintf(jan1, sizeof jan1, "%04d-01-01", y);
    int32_t d0;
    if (hm_date_parse(jan1, 10, &d0) != 0)
        HM_BUG("bad date");
    *doy = (int)(day - d0);
}

/* +1 in mid-July, -1 in mid-January. */
static double summerness(int doy)
{
    return cos(2 * M_PI * (doy - 196) / 365.25);
}

/* The visit-rate multiplier of one day, and whether the day is in a sale period. */
static double day_factor(int32_t day, int *sale)
{
    static const double wd[7] = {0.95, 0.94, 0.96, 1.0, 1.06, 1.10, 1.0}; /* Mon..Sun */
    int doy, m, md;
    calendar(day, &doy, &m, &md);
    double f = wd[hm_date_weekday(day)] * (1 + 0.20 * cos(2 * M_PI * (doy - 172) / 365.25));
    *sale = 0;
    /* Black Friday: the Friday in 23..29 November, and the weekend after it */
    if (m == 11 && md >= 23) {
        int wdx = hm_date_weekday(day);
        int32_t friday = day - ((wdx - 4 + 7) % 7);
        int fm, fmd, fdoy;
        calendar(friday, &fdoy, &fm, &fmd);
        if (fm == 11 && fmd >= 23 && fmd <= 29 && day - friday <= 3) {
            f *= day == friday ? 2.2 : 1.5;
            *sale = 1;
        }
    }
    char ymd[16];
    hm_date_format(day, ymd);
    if (strcmp(ymd, "2020-03-01") < 0)
        f *= 1.24; /* the shop was busier before 2020 */
    else if (strcmp(ymd, "2020-03-15") >= 0 && strcmp(ymd, "2020-05-15") < 0)
        f *= 0.8;  /* a spring-2020 dip */
    if ((m == 6 && md >= 20) || m == 7) {
        *sale = 1;
        if (m == 6 && md <= 30)
            f *= 1.25;
    }
    if ((m == 12 && md >= 26) || (m == 1 && md <= 20)) {
        *sale = 1;
        if (m == 12 || md <= 3)
            f *= 1.2;
    }
    return f;
}

struct build_ctx {
    struct synth_weeks *wk;
    const struct synth_catalogue *c;
    const struct synth_params *p;
};

struct top_item { float v; uint32_t a; };

static int cmp_top(const void *x, const void *y)
{
    const struct top_item *a = x, *b = y;
    if (a->v != b->v)
        return a->v > b->v ? -1 : 1;
    return a->a < b->a ? -1 : a->a > b->a;
}

static int build_weeks(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct build_ctx *x = ud;
    struct synth_weeks *wk = x->wk;
    const struct synth_catalogue *c = x->c;
    size_t n = c->n;
    struct top_item *top = hm_xmalloc_array(n, sizeof *top);
    for (size_t w = begin; w < end; w++) {
        int doy, m, md;
        calendar(wk->day0 + (int32_t)w * 7 + 3, &doy, &m, &md);
        double s = summerness(doy) * x->p->season_amp;
        float *pw = wk->popw + w * n;
        for (size_t a = 0; a < n; a++) {
            int age = (int)w - c->launch_week[a];
            if (age < 0) {
                pw[a] = 0;
                continue;
            }
            double life = (age == 0 ? 0.5 : 1.0) * exp(-(age > 1 ? age - 1 : 0) / c->life_tau[a]);
            double season = c->season[a] == 1 ? 1 + s : c->season[a] == 2 ? 1 - s : 1;
            if (season < 0.05)
                season = 0.05;
            pw[a] = life < 0.004 ? 0.0f : (float)(c->attract[a] * life * season);
        }
        double *cu = wk->cum + w * (n + 1);
        cu[0] = 0;
        for (size_t k = 0; k < n; k++)
            cu[k + 1] = cu[k] + pw[c->perm[k]];
        /* each sublist's on-sale articles, most popular first (the oracle's candidates) */
        uint32_t *live = wk->live + w * n, *live_n = wk->live_n + w * wk->n_sub;
        for (size_t sub = 0; sub < wk->n_sub; sub++) {
            uint32_t lo = c->sub_first[sub], hi = c->sub_first[sub + 1], cnt = 0;
            for (uint32_t k = lo; k < hi; k++)
                if (pw[c->perm[k]] > 0)
                    top[cnt].v = pw[c->perm[k]], top[cnt].a = c->perm[k], cnt++;
            qsort(top, cnt, sizeof *top, cmp_top);
            for (uint32_t k = 0; k < cnt; k++)
                live[lo + k] = top[k].a;
            live_n[sub] = cnt;
        }
        /* the trending set: the week's most popular articles */
        for (size_t a = 0; a < n; a++)
            top[a].v = pw[a], top[a].a = (uint32_t)a;
        qsort(top, n, sizeof *top, cmp_top);
        uint32_t *ids = wk->trend_ids + w * (size_t)wk->trend_size;
        double *tc = wk->trend_cum + w * (size_t)wk->trend_size, tot = 0;
        for (int k = 0; k < wk->trend_size; k++) {
            ids[k] = top[k].a;
            tot += pow(top[k].v > 0 ? top[k].v : 1e-12, x->p->trend_power);
            tc[k] = tot;
        }
        for (int k = 0; k < wk->trend_size; k++)
            tc[k] /= tot;
        tc[wk->trend_size - 1] = 1.0;
    }
    free(top);
    return 0;
}

void synth_weeks_build(struct synth_weeks *wk, const struct synth_catalogue *c,
                       const struct synth_params *p, int32_t day0, int n_data, int n_held)
{
    memset(wk, 0, sizeof *wk);
    int n_weeks = n_data + n_held;
    wk->n_weeks = n_weeks;
    wk->n_data = n_data;
    wk->day0 = day0;
    wk->n = c->n;
    wk->trend_size = (int)(p->trend_size < (long)c->n ? p->trend_size : (long)c->n);
    wk->popw = hm_xmalloc_array((size_t)n_weeks * c->n, sizeof(float));
    wk->cum = hm_xmalloc_array((size_t)n_weeks * (c->n + 1), sizeof(double));
    wk->trend_ids = hm_xmalloc_array((size_t)n_weeks * wk->trend_size, sizeof(uint32_t));
    wk->trend_cum = hm_xmalloc_array((size_t)n_weeks * wk->trend_size, sizeof(double));
    wk->n_sub = (size_t)c->n_cells * SYNTH_STYLES * SYNTH_TIERS;
    wk->live = hm_xmalloc_array((size_t)n_weeks * c->n, sizeof(uint32_t));
    wk->live_n = hm_xmalloc_array((size_t)n_weeks * wk->n_sub, sizeof(uint32_t));
    wk->day_factor = hm_xmalloc_array((size_t)n_weeks * 7, sizeof(float));
    wk->discount = hm_xcalloc((size_t)n_weeks, sizeof(float));
    int32_t first;
    if (hm_date_parse(p->first_day, strlen(p->first_day), &first) != 0)
        first = day0;
    for (int d = 0; d < n_weeks * 7; d++) {
        int sale = 0;
        wk->day_factor[d] = day0 + d < first ? 0.0f : (float)day_factor(day0 + d, &sale);
        if (sale)
            wk->discount[d / 7] = 1.0f;
    }
    struct build_ctx x = {wk, c, p};
    hm_parallel_chunks(0, (size_t)n_weeks, 1, build_weeks, &x);
}

void synth_weeks_release(struct synth_weeks *wk)
{
    free(wk->popw);
    free(wk->cum);
    free(wk->trend_ids);
    free(wk->trend_cum);
    free(wk->live);
    free(wk->live_n);
    free(wk->day_factor);
    free(wk->discount);
    memset(wk, 0, sizeof *wk);
}
