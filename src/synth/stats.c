/* synth/stats.c: the statistics of docs/data.md's "How customers behave", and the
 * simple baselines, computed over plain transaction columns (any reader can feed them). */
#include "synth/synth.h"
#include "eval/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------------------- */

/* LSD radix sort of 64-bit keys (16 bits per pass). */
static void radix_sort_u64(uint64_t *a, size_t n)
{
    uint64_t *tmp = hm_xmalloc_array(n ? n : 1, sizeof(uint64_t));
    size_t *cnt = hm_xmalloc_array(65536 + 1, sizeof(size_t));
    for (int pass = 0; pass < 4; pass++) {
        int sh = 16 * pass;
        memset(cnt, 0, (65536 + 1) * sizeof(size_t));
        for (size_t i = 0; i < n; i++)
            cnt[((a[i] >> sh) & 0xFFFF) + 1]++;
        for (size_t k = 0; k < 65536; k++)
            cnt[k + 1] += cnt[k];
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(a[i] >> sh) & 0xFFFF]++] = a[i];
        memcpy(a, tmp, n * sizeof(uint64_t));
    }
    free(cnt);
    free(tmp);
}

/* An open-addressing set of 64-bit keys (key 0 is reserved: callers add 1). */
struct u64set { uint64_t *k; size_t mask; };
static void set_init(struct u64set *s, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 16)
        cap <<= 1;
    s->k = hm_xcalloc(cap, sizeof(uint64_t));
    s->mask = cap - 1;
}
static uint64_t *set_slot(const struct u64set *s, uint64_t key)
{
    size_t i = hm_mix64(key) & s->mask;
    while (s->k[i] && s->k[i] != key)
        i = (i + 1) & s->mask;
    return &s->k[i];
}

/* The k most frequent articles (ties: lower index), best first; returns how many. */
static int top_k(const uint32_t *count, size_t n_articles, int k, uint32_t *out)
{
    int m = 0;
    for (size_t a = 0; a < n_articles; a++) {
        if (!count[a])
            continue;
        if (m == k && count[a] <= count[out[k - 1]])
            continue;
        int j = m < k ? m++ : k - 1;
        while (j > 0 && count[out[j - 1]] < count[a])
            out[j] = out[j - 1], j--;
        out[j] = (uint32_t)a;
    }
    return m;
}

static int32_t max_day(const struct synth_txcols *tx)
{
    int32_t e = INT32_MIN;
    for (size_t i = 0; i < tx->n; i++)
        if (tx->day[i] > e)
            e = tx->day[i];
    return e;
}

/* Appends a row; compared = 0 records the measurement without a verdict. */
static void row_cmp(struct synth_check_report *rep, int compared, const char *name, const char *target,
                    double v, double lo, double hi)
{
    HM_ASSERT(rep->n_rows < SYNTH_CHECK_MAX_ROWS);
    struct synth_check_row *r = &rep->rows[rep->n_rows++];
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->target, sizeof r->target, "%s", target);
    r->measured = v;
    r->lo = lo;
    r->hi = hi;
    r->compared = compared;
    r->pass = compared && v >= lo && v <= hi;
    rep->n_failed += compared && !r->pass;
    rep->n_not_compared += !compared;
}

static void row(struct synth_check_report *rep, const char *name, const char *target, double v,
                double lo, double hi)
{
    row_cmp(rep, 1, name, target, v, lo, hi);
}

/* 1 when the numbers of articles and customers are the real set's (within the tolerance). */
static int at_real_scale(const struct synth_txcols *tx)
{
    double ra = (double)tx->n_articles / SYNTH_REAL_ARTICLES;
    double rc = (double)tx->n_customers / SYNTH_REAL_CUSTOMERS;
    return fabs(ra - 1) <= SYNTH_REAL_SCALE_TOL && fabs(rc - 1) <= SYNTH_REAL_SCALE_TOL;
}

/* ---- statistics -------------------------------------------------------------------------- */

/* Per customer: weeks bought among the last four, rows in the last week, last day bought and
 * last day bought before the last week. */
struct cust_days {
    int32_t E, w0;            /* the last day; the last week is w0 .. E */
    uint8_t *wk;              /* bit k: bought in week E-7k-6 .. E-7k */
    uint32_t *rows_last;
    int32_t *last_day, *last_before;
    size_t buyers;            /* customers with a row in the last week */
};

static void cust_days_compute(const struct synth_txcols *tx, struct cust_days *cd)
{
    size_t n = tx->n, nc = tx->n_customers;
    cd->E = max_day(tx);
    cd->w0 = cd->E - 6;
    cd->wk = hm_xcalloc(nc, 1);
    cd->rows_last = hm_xcalloc(nc, sizeof(uint32_t));
    cd->last_day = hm_xmalloc_array(nc, sizeof(int32_t));
    cd->last_before = hm_xmalloc_array(nc, sizeof(int32_t));
    for (size_t i = 0; i < nc; i++)
        cd->last_day[i] = cd->last_before[i] = INT32_MIN;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = tx->customer[i];
        int32_t back = (cd->E - tx->day[i]) / 7;
        if (back < 4)
            cd->wk[c] |= (uint8_t)(1 << back);
        if (tx->day[i] >= cd->w0)
            cd->rows_last[c]++;
        if (tx->day[i] > cd->last_day[c])
            cd->last_day[c] = tx->day[i];
        if (tx->day[i] < cd->w0 && tx->day[i] > cd->last_before[c])
            cd->last_before[c] = tx->day[i];
    }
    cd->buyers = 0;
    for (size_t i = 0; i < nc; i++)
        cd->buyers += cd->rows_last[i] > 0;
}

static void cust_days_release(struct cust_days *cd)
{
    free(cd->wk);
    free(cd->rows_last);
    free(cd->last_day);
    free(cd->last_before);
}

/* Weekly buyers, rows per buyer (mean and median), and how recently the buyers bought before. */
static void rows_buyers(struct synth_check_report *rep, const struct cust_days *cd, size_t nc)
{
    double share = 0;
    for (int k = 0; k < 4; k++) {
        size_t b = 0;
        for (size_t i = 0; i < nc; i++)
            b += (cd->wk[i] >> k) & 1;
        share += (double)b / nc / 4;
    }
    row(rep, "weekly buyer share (last 4 weeks)", "0.050-0.055", share, 0.042, 0.062);
    size_t buyers = cd->buyers, rows_b = 0;
    uint32_t *hist = hm_xcalloc(1025, sizeof(uint32_t));
    for (size_t i = 0; i < nc; i++)
        if (cd->rows_last[i]) {
            rows_b += cd->rows_last[i];
            hist[cd->rows_last[i] > 1024 ? 1024 : cd->rows_last[i]]++;
        }
    row(rep, "rows per buyer (last week)", "3.48", buyers ? (double)rows_b / buyers : 0, 3.0, 4.0);
    size_t acc = 0;
    double median = 0;
    for (int k = 1; k <= 1024; k++) {
        acc += hist[k];
        if (2 * acc >= buyers) {
            median = k;
            break;
        }
    }
    free(hist);
    row(rep, "median rows per buyer (last week)", "2", median, 2, 2);
    size_t gap1 = 0, gap4 = 0;
    for (size_t i = 0; i < nc; i++)
        if (cd->rows_last[i] && cd->last_before[i] != INT32_MIN) {
            gap1 += cd->last_before[i] >= cd->w0 - 7;
            gap4 += cd->last_before[i] >= cd->w0 - 28;
        }
    row(rep, "buyers who last bought the week before", "about 0.20", buyers ? (double)gap1 / buyers : 0,
        0.12, 0.28);
    row(rep, "buyers who last bought within 4 weeks", "about 0.48", buyers ? (double)gap4 / buyers : 0,
        0.36, 0.60);
}

/* Repurchase: unique (customer, article) pairs of the last week bought before it. */
static void repurchase_row(struct synth_check_report *rep, const struct synth_txcols *tx, int32_t w0,
                           size_t n_last)
{
    size_t n = tx->n;
    struct u64set pairs;
    set_init(&pairs, n_last);
    uint8_t *seen_before = hm_xcalloc(pairs.mask + 1, 1);
    size_t n_pairs = 0;
    for (size_t i = 0; i < n; i++)
        if (tx->day[i] >= w0) {
            uint64_t *s = set_slot(&pairs, ((uint64_t)tx->customer[i] << 32 | tx->article[i]) + 1);
            if (!*s)
                *s = ((uint64_t)tx->customer[i] << 32 | tx->article[i]) + 1, n_pairs++;
        }
    size_t rep_pairs = 0;
    for (size_t i = 0; i < n; i++)
        if (tx->day[i] < w0) {
            uint64_t key = ((uint64_t)tx->customer[i] << 32 | tx->article[i]) + 1;
            uint64_t *s = set_slot(&pairs, key);
            if (*s == key && !seen_before[s - pairs.k]) {
                seen_before[s - pairs.k] = 1;
                rep_pairs++;
            }
        }
    row(rep, "repurchase share of unique pairs", "0.035-0.040", n_pairs ? (double)rep_pairs / n_pairs : 0,
        0.025, 0.050);
    free(pairs.k);
    free(seen_before);
}

/* Popularity: the previous week's top-12 / top-60 in the last week's rows; breadth: distinct
 * articles sold in the last week per 1,000 of its buyers (real: 17,986 articles for 68,984
 * buyers). Breadth grows with the catalogue and falls with the number of buyers, so the real
 * figure is a target only at the real set's scale. */
static void popularity_rows(struct synth_check_report *rep, const struct synth_txcols *tx, int32_t w0,
                            size_t n_last, size_t buyers)
{
    size_t n = tx->n;
    uint32_t *cnt = hm_xcalloc(tx->n_articles, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        if (tx->day[i] >= w0 - 7 && tx->day[i] < w0)
            cnt[tx->article[i]]++;
    uint32_t top[60];
    int nt = top_k(cnt, tx->n_articles, 60, top);
    uint8_t *in = hm_xcalloc(tx->n_articles, 1);
    for (int k = 0; k < nt; k++)
        in[top[k]] = k < 12 ? 1 : 2;
    size_t h12 = 0, h60 = 0;
    for (size_t i = 0; i < n; i++)
        if (tx->day[i] >= w0 && in[tx->article[i]]) {
            h12 += in[tx->article[i]] == 1;
            h60++;
        }
    row(rep, "previous week's top-12 share of rows", "0.0235", n_last ? (double)h12 / n_last : 0, 0.015, 0.032);
    row(rep, "previous week's top-60 share of rows", "0.078", n_last ? (double)h60 / n_last : 0, 0.055, 0.10);
    free(in);
    free(cnt);
    uint8_t *sold = hm_xcalloc(tx->n_articles, 1);
    size_t n_sold = 0;
    for (size_t i = 0; i < n; i++)
        if (tx->day[i] >= w0 && !sold[tx->article[i]]) {
            sold[tx->article[i]] = 1;
            n_sold++;
        }
    free(sold);
    row_cmp(rep, at_real_scale(tx), "distinct articles / 1000 buyers (last week)", "261",
            buyers ? 1000.0 * (double)n_sold / (double)buyers : 0, 222, 300);
}

/* Channel, price mean and quartiles, exact duplicate rows. */
static void row_value_rows(struct synth_check_report *rep, const struct synth_txcols *tx)
{
    size_t n = tx->n, online = 0;
    uint64_t *keys = hm_xmalloc_array(n, sizeof(uint64_t));
    double psum = 0;
    for (size_t i = 0; i < n; i++) {
        online += tx->channel[i] == 2;
        psum += tx->price[i];
        memcpy(&keys[i], &tx->price[i], 8); /* positive doubles sort as integers */
    }
    row(rep, "online channel share", "0.704", (double)online / n, 0.67, 0.74);
    row(rep, "price mean", "0.0278", psum / n, 0.0248, 0.0308);
    radix_sort_u64(keys, n);
    const char *qn[3] = {"price first quartile", "price median", "price third quartile"};
    const char *qt[3] = {"0.0158", "0.0254", "0.0339"};
    double qv[3] = {0.0158, 0.0254, 0.0339};
    for (int q = 0; q < 3; q++) {
        double v;
        memcpy(&v, &keys[(size_t)((q + 1) * 0.25 * (double)(n - 1))], 8);
        row(rep, qn[q], qt[q], v, qv[q] - 0.003, qv[q] + 0.003);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t pb;
        memcpy(&pb, &tx->price[i], 8);
        keys[i] = hm_mix64(hm_mix64(((uint64_t)(uint32_t)tx->day[i] << 40) ^ ((uint64_t)tx->channel[i] << 32) ^
                                    tx->article[i]) ^ ((uint64_t)tx->customer[i] << 17) ^ pb);
    }
    radix_sort_u64(keys, n);
    size_t dups = 0;
    for (size_t i = 1; i < n; i++)
        dups += keys[i] == keys[i - 1];
    free(keys);
    row(rep, "duplicate-row share", "0.094", (double)dups / n, 0.079, 0.109);
}

/* Customers: inactive for 3 months, never bought, ages. */
static void customer_rows(struct synth_check_report *rep, const struct cust_days *cd, size_t nc,
                          const float *ages)
{
    size_t inactive = 0, never = 0;
    for (size_t i = 0; i < nc; i++) {
        inactive += cd->last_day[i] <= cd->E - 91;
        never += cd->last_day[i] == INT32_MIN;
    }
    row(rep, "customers inactive in the last 3 months", ">= 0.5", (double)inactive / nc, 0.45, 0.80);
    row(rep, "customers who never bought", "0.0071", (double)never / nc, 0.004, 0.010);
    if (!ages)
        return;
    size_t known = 0, a20 = 0, missing = 0, mid = 0, peak2 = 0;
    for (size_t i = 0; i < nc; i++) {
        if (ages[i] < 0) {
            missing++;
            continue;
        }
        known++;
        a20 += ages[i] >= 20 && ages[i] < 30;
        mid += ages[i] >= 36 && ages[i] < 43;
        peak2 += ages[i] >= 45 && ages[i] < 56;
    }
    row(rep, "age 20-29 share", "0.385", known ? (double)a20 / known : 0, 0.345, 0.425);
    row(rep, "age missing share", "0.0116", (double)missing / nc, 0.006, 0.017);
    /* bimodal: the density at 45-55 is above the trough at 36-42 */
    row(rep, "age second mode (45-55 vs 36-42 per year)", "> 1",
        mid ? ((double)peak2 / 11) / ((double)mid / 7) : 0, 1.05, 100);
}

void synth_stats_compute(const struct synth_txcols *tx, const float *ages,
                         struct synth_check_report *rep)
{
    memset(rep, 0, sizeof *rep);
    size_t n = tx->n, nc = tx->n_customers;
    if (n == 0)
        return;
    struct cust_days cd;
    cust_days_compute(tx, &cd);
    rows_buyers(rep, &cd, nc);
    size_t n_last = 0;
    for (size_t i = 0; i < n; i++)
        n_last += tx->day[i] >= cd.w0;
    repurchase_row(rep, tx, cd.w0, n_last);
    popularity_rows(rep, tx, cd.w0, n_last, cd.buyers);
    row_value_rows(rep, tx);
    customer_rows(rep, &cd, nc, ages);
    cust_days_release(&cd);
}

/* ---- baselines ------------------------------------------------------------------------------ */

struct crow { uint32_t c; int32_t day; uint32_t idx; uint32_t a; };

static int cmp_crow_asc(const void *x, const void *y)
{
    const struct crow *a = x, *b = y;
    if (a->c != b->c)
        return a->c < b->c ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int cmp_crow_recent(const void *x, const void *y)
{
    const struct crow *a = x, *b = y;
    if (a->c != b->c)
        return a->c < b->c ? -1 : 1;
    if (a->day != b->day)
        return a->day > b->day ? -1 : 1;
    return a->idx > b->idx ? -1 : a->idx < b->idx;
}

void synth_baselines_compute(const struct synth_txcols *tx, int32_t wd, struct synth_baselines *out)
{
    memset(out, 0, sizeof *out);
    size_t n = tx->n, na = tx->n_articles;
    uint32_t *prev = hm_xcalloc(na, sizeof(uint32_t)), *all = hm_xcalloc(na, sizeof(uint32_t));
    uint8_t *buyer = hm_xcalloc(tx->n_customers, 1);
    size_t n_week = 0, n_hist = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t d = tx->day[i];
        if (d >= wd && d < wd + 7) {
            buyer[tx->customer[i]] = 1;
            n_week++;
        } else if (d < wd) {
            all[tx->article[i]]++;
            if (d >= wd - 7)
                prev[tx->article[i]]++;
        }
    }
    for (size_t i = 0; i < n; i++)
        n_hist += tx->day[i] < wd && buyer[tx->customer[i]];
    uint32_t ptop[12], atop[12];
    int np = top_k(prev, na, 12, ptop), nat = top_k(all, na, 12, atop);
    struct crow *wr = hm_xmalloc_array(n_week + 1, sizeof *wr), *hr = hm_xmalloc_array(n_hist + 1, sizeof *hr);
    size_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t d = tx->day[i];
        struct crow r = {tx->customer[i], d, (uint32_t)i, tx->article[i]};
        if (d >= wd && d < wd + 7)
            wr[a++] = r;
        else if (d < wd && buyer[tx->customer[i]])
            hr[b++] = r;
    }
    qsort(wr, a, sizeof *wr, cmp_crow_asc);
    qsort(hr, b, sizeof *hr, cmp_crow_recent);
    uint32_t *truth = hm_xmalloc_array(n_week + 1, sizeof(uint32_t));
    double s_prev = 0, s_own = 0, s_all = 0;
    size_t j = 0;
    for (size_t i = 0; i < a;) {
        uint32_t c = wr[i].c;
        size_t nt = 0;
        for (; i < a && wr[i].c == c; i++) {
            int dup = 0;
            for (size_t k = 0; k < nt; k++)
                dup |= truth[k] == wr[i].a;
            if (!dup)
                truth[nt++] = wr[i].a;
        }
        while (j < b && hr[j].c < c)
            j++;
        uint32_t own[24];
        int no = 0;
        for (; j < b && hr[j].c == c; j++) {
            int dup = 0;
            for (int k = 0; k < no; k++)
                dup |= own[k] == hr[j].a;
            if (!dup && no < 12)
                own[no++] = hr[j].a;
        }
        for (int k = 0; k < np; k++)
            own[no++] = ptop[k];
        s_prev += eval_ap_at_k(ptop, (size_t)np, truth, nt, 12);
        s_all += eval_ap_at_k(atop, (size_t)nat, truth, nt, 12);
        s_own += eval_ap_at_k(own, (size_t)no, truth, nt, 12);
        out->n_buyers++;
    }
    if (out->n_buyers) {
        out->prev_top12 = s_prev / out->n_buyers;
        out->own_pop = s_own / out->n_buyers;
        out->alltime_top12 = s_all / out->n_buyers;
    }
    free(truth);
    free(wr);
    free(hr);
    free(prev);
    free(all);
    free(buyer);
}
