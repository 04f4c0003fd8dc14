/* synth/behaviour.c: the purchase model. One customer at a time, week by week: visits
 * (Poisson, day-of-week/seasonal/sales multipliers), baskets (first item from the
 * customer's mixture, later items a complement or another colour of the previous item),
 * quantities, channels and prices. The oracle scores articles with the very same mixture
 * (synth_oracle_top12), from the history before the week it predicts. */
#include "synth/synth_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_BEHAVIOUR 0xB0B0ULL
#define STREAM_HELD_OUT 0x7E57EEULL
#define NOVELTY_TRIES 20

/* The novelty rule's factor on a component's probability q(a): with Q the component's mass
 * on the history H, r the redraw probability and R tries,
 *   a not in H: sum_{j<R} (rQ)^j;   a in H: (1 - r) sum_{j<R-1} (rQ)^j + (rQ)^(R-1). */
static void novelty_factors(double r, double Q, double *f_new, double *f_old)
{
    double s = 0, x = 1;
    for (int j = 0; j < NOVELTY_TRIES - 1; j++, x *= r * Q)
        s += x;
    *f_new = s + x;
    *f_old = (1 - r) * s + x;
}

/* ---- sampling helpers ---------------------------------------------------------------- */

/* The first k in [lo, hi) with cu[k + 1] > x (cu non-decreasing); perm position. */
static uint32_t search_cum(const double *cu, uint32_t lo, uint32_t hi, double x)
{
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (cu[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int draw_from(const double *w, int n, double u)
{
    for (int i = 0; i < n; i++) {
        u -= w[i];
        if (u < 0)
            return i;
    }
    return n - 1;
}

/* The mixture weights for a customer with or without a repurchase pool. */
static void mixture(const struct synth_taste *t, int has_hist, double *rep, double *trend, double *taste)
{
    if (has_hist) {
        *rep = t->w_rep, *trend = t->w_trend, *taste = t->w_taste;
    } else {
        double s = t->w_trend + t->w_taste;
        *rep = 0, *trend = t->w_trend / s, *taste = t->w_taste / s;
    }
}

static uint32_t draw_trend(const struct synth_weeks *wk, int w, double u)
{
    const double *tc = wk->trend_cum + (size_t)w * wk->trend_size;
    int lo = 0, hi = wk->trend_size - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (tc[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return wk->trend_ids[(size_t)w * wk->trend_size + lo];
}

/* A random other colour of a's product, or a itself for a one-colour product. */
static uint32_t sibling_of(const struct synth_catalogue *c, uint32_t a, struct hm_rng *r)
{
    uint32_t p = c->product[a], lo = c->prod_first[p], hi = c->prod_first[p + 1];
    if (hi - lo < 2)
        return a;
    uint32_t b = lo + (uint32_t)hm_rng_below(r, hi - lo - 1);
    return b >= a ? b + 1 : b;
}

static double hist_weight(const struct synth_params *p, int w, int bought_week)
{
    return exp(-(double)(w - bought_week) / p->rep_decay_weeks);
}

static uint32_t draw_taste(const struct synth_model *m, const struct synth_taste *t, int w,
                           struct hm_rng *r);

const char *const synth_source_names[SYNTH_N_SOURCES] = {
    "repurchase", "repurchase_other_colour", "trend", "taste", "basket_complement", "basket_other_colour",
};

/* One draw from the customer's mixture in week w; *src receives its mechanism. */
static uint32_t draw_mixture(const struct synth_model *m, const struct synth_taste *t,
                             const struct synth_hist *h, int w, struct hm_rng *r, int *src)
{
    const struct synth_catalogue *c = m->cat;
    const struct synth_weeks *wk = m->wk;
    double w_rep, w_trend, w_taste;
    mixture(t, h->n_committed > 0, &w_rep, &w_trend, &w_taste);
    double u = hm_rng_uniform(r);
    if (u < w_rep) {
        double tot = 0;
        for (size_t i = 0; i < h->n_committed; i++)
            tot += hist_weight(m->p, w, h->week[i]);
        double x = hm_rng_uniform(r) * tot;
        size_t i = 0;
        for (; i + 1 < h->n_committed; i++) {
            x -= hist_weight(m->p, w, h->week[i]);
            if (x < 0)
                break;
        }
        uint32_t a = h->art[i];
        if (hm_rng_uniform(r) < m->p->rep_sibling) {
            uint32_t b = sibling_of(c, a, r);
            *src = b == a ? SYNTH_SRC_REPEAT : SYNTH_SRC_REPEAT_COLOUR;
            return b;
        }
        *src = SYNTH_SRC_REPEAT;
        return a;
    }
    int trend = u < w_rep + w_trend;
    *src = trend ? SYNTH_SRC_TREND : SYNTH_SRC_TASTE;
    uint32_t a = trend ? draw_trend(wk, w, hm_rng_uniform(r)) : draw_taste(m, t, w, r);
    /* prefer something new: an article bought before is redrawn (at most NOVELTY_TRIES - 1
     * times), each time with probability novelty */
    for (int k = 1; k < NOVELTY_TRIES && h->in_hist[a] && hm_rng_uniform(r) < m->p->novelty; k++)
        a = trend ? draw_trend(wk, w, hm_rng_uniform(r)) : draw_taste(m, t, w, r);
    return a;
}

/* One draw of the taste component: a cell, a style and a price tier from the customer's
 * preferences, then an article of that sublist by popularity (falling back to the cell,
 * then to the trend when nothing is on sale). */
static uint32_t draw_taste(const struct synth_model *m, const struct synth_taste *t, int w,
                           struct hm_rng *r)
{
    const struct synth_catalogue *c = m->cat;
    const struct synth_weeks *wk = m->wk;
    int ci = draw_from(t->cell_w, t->n_cells, hm_rng_uniform(r));
    int s = draw_from(t->style_w, SYNTH_STYLES, hm_rng_uniform(r));
    int q = draw_from(t->tier_w, SYNTH_TIERS, hm_rng_uniform(r));
    int cell = t->cells[ci];
    size_t sub = ((size_t)cell * SYNTH_STYLES + s) * SYNTH_TIERS + q;
    uint32_t lo = c->sub_first[sub], hi = c->sub_first[sub + 1];
    double mass = synth_range_mass(wk, w, lo, hi);
    if (mass <= 0) {
        lo = c->cell_first[cell], hi = c->cell_first[cell + 1];
        mass = synth_range_mass(wk, w, lo, hi);
        if (mass <= 0) /* nothing of this cell on sale: follow the trend */
            return draw_trend(wk, w, hm_rng_uniform(r));
    }
    const double *cu = wk->cum + (size_t)w * (c->n + 1);
    double x = cu[lo] + hm_rng_uniform(r) * mass;
    uint32_t k = search_cum(cu, lo, hi, x);
    while (k + 1 < hi && m->wk->popw[(size_t)w * c->n + c->perm[k]] <= 0)
        k++; /* rounding landed on an article that is not on sale */
    return c->perm[k];
}

/* ---- the oracle ------------------------------------------------------------------------ */

void synth_scratch_init(struct synth_scratch *s, size_t n)
{
    s->score = hm_xcalloc(n, sizeof(double));
    s->touched = hm_xmalloc_array(n, sizeof(uint32_t));
    s->mark = hm_xcalloc(n, 1);
    s->n_touched = 0;
}

void synth_scratch_release(struct synth_scratch *s)
{
    free(s->score);
    free(s->touched);
    free(s->mark);
    memset(s, 0, sizeof *s);
}

static void touch(struct synth_scratch *s, uint32_t a)
{
    if (!s->mark[a]) {
        s->mark[a] = 1;
        s->touched[s->n_touched++] = a;
        s->score[a] = 0;
    }
}

/* Per taste cell: the masses the taste draw divides by. */
struct cell_mass {
    double cmass;                               /* the cell's popularity in the week */
    double sub[SYNTH_STYLES][SYNTH_TIERS];      /* each sublist's */
    double fallback;                            /* style x tier weight of empty sublists */
};

/* The taste component's probability of drawing a (without the novelty rule and without the
 * fall-back to the trend), times w_taste. */
static double taste_prob(const struct synth_model *m, const struct synth_taste *t,
                         const struct cell_mass *cm, double w_taste, const float *pw, uint32_t a)
{
    const struct synth_catalogue *c = m->cat;
    if (pw[a] <= 0)
        return 0;
    double v = 0;
    for (int ci = 0; ci < t->n_cells; ci++) {
        if (t->cells[ci] != c->cell[a] || cm[ci].cmass <= 0)
            continue;
        double sm = cm[ci].sub[c->style[a]][c->tier[a]];
        v += t->cell_w[ci] * (t->style_w[c->style[a]] * t->tier_w[c->tier[a]] * pw[a] / sm +
                              cm[ci].fallback * pw[a] / cm[ci].cmass);
    }
    return w_taste * v;
}

/* Candidates: every article with a non-zero probability under the repurchase and trend
 * components, the most popular articles of each taste sublist (down to 12 not bought before:
 * within a sublist the taste probability is proportional to popularity, so no article further
 * down can enter the top 12), and the complements and other colours of all of them. Scores are
 * then exact for the mixture; the basket follow-up term is first order (docs/synth.md). */
void synth_oracle_scores(const struct synth_model *m, const struct synth_taste *t,
                         const struct synth_hist *h, int w, struct synth_scratch *s, int followups)
{
    const struct synth_catalogue *c = m->cat;
    const struct synth_weeks *wk = m->wk;
    const struct synth_params *p = m->p;
    const float *pw = wk->popw + (size_t)w * c->n;
    const double *tc = wk->trend_cum + (size_t)w * wk->trend_size;
    const uint32_t *ids = wk->trend_ids + (size_t)w * wk->trend_size;
    const uint32_t *live = wk->live + (size_t)w * c->n, *live_n = wk->live_n + (size_t)w * wk->n_sub;
    double w_rep, w_trend, w_taste, r_nov = p->novelty;
    mixture(t, h->n_committed > 0, &w_rep, &w_trend, &w_taste);
    s->n_touched = 0;

    /* taste masses, and the sublists' best articles */
    struct cell_mass cm[SYNTH_MAX_CELLS];
    double taste_to_trend = 0;
    for (int ci = 0; ci < t->n_cells; ci++) {
        int cell = t->cells[ci];
        cm[ci].cmass = synth_range_mass(wk, w, c->cell_first[cell], c->cell_first[cell + 1]);
        cm[ci].fallback = 0;
        if (cm[ci].cmass <= 0) {
            taste_to_trend += w_taste * t->cell_w[ci];
            continue;
        }
        for (int st = 0; st < SYNTH_STYLES; st++)
            for (int q = 0; q < SYNTH_TIERS; q++) {
                size_t sub = ((size_t)cell * SYNTH_STYLES + st) * SYNTH_TIERS + q;
                cm[ci].sub[st][q] = synth_range_mass(wk, w, c->sub_first[sub], c->sub_first[sub + 1]);
                if (cm[ci].sub[st][q] <= 0)
                    cm[ci].fallback += t->style_w[st] * t->tier_w[q];
                int fresh = 0;
                for (uint32_t k = 0; k < live_n[sub] && fresh < 12; k++) {
                    uint32_t a = live[c->sub_first[sub] + k];
                    touch(s, a);
                    fresh += !h->in_hist[a];
                }
            }
    }
    /* the other components' articles */
    for (int k = 0; k < wk->trend_size; k++)
        touch(s, ids[k]);
    for (size_t i = 0; i < h->n_committed; i++) {
        uint32_t a = h->art[i], pr = c->product[a];
        for (uint32_t b = c->prod_first[pr]; b < c->prod_first[pr + 1]; b++)
            touch(s, b);
    }
    size_t n_first = s->n_touched;
    for (size_t i = 0; i < n_first; i++) {
        uint32_t a = s->touched[i], pr = c->product[a];
        touch(s, c->partner[a]);
        for (uint32_t b = c->prod_first[pr]; b < c->prod_first[pr + 1]; b++)
            touch(s, b);
    }

    /* taste, its fall-back to the trend, and the novelty rule (novelty_factors) */
    double qh = 0;
    for (size_t i = 0; i < s->n_touched; i++) {
        uint32_t a = s->touched[i];
        s->score[a] = taste_prob(m, t, cm, w_taste, pw, a);
    }
    if (taste_to_trend > 0)
        for (int k = 0; k < wk->trend_size; k++)
            s->score[ids[k]] += taste_to_trend * (tc[k] - (k ? tc[k - 1] : 0));
    if (w_taste > 0 && r_nov > 0) {
        for (size_t i = 0; i < s->n_touched; i++)
            if (h->in_hist[s->touched[i]])
                qh += s->score[s->touched[i]] / w_taste;
        double fn, fo;
        novelty_factors(r_nov, qh, &fn, &fo);
        for (size_t i = 0; i < s->n_touched; i++) {
            uint32_t a = s->touched[i];
            s->score[a] *= h->in_hist[a] ? fo : fn;
        }
    }
    /* trend */
    if (w_trend > 0) {
        qh = 0;
        for (int k = 0; k < wk->trend_size; k++)
            if (h->in_hist[ids[k]])
                qh += tc[k] - (k ? tc[k - 1] : 0);
        double fn, fo;
        novelty_factors(r_nov, qh, &fn, &fo);
        for (int k = 0; k < wk->trend_size; k++)
            s->score[ids[k]] += w_trend * (tc[k] - (k ? tc[k - 1] : 0)) * (h->in_hist[ids[k]] ? fo : fn);
    }
    /* repurchase */
    if (w_rep > 0) {
        double tot = 0;
        for (size_t i = 0; i < h->n_committed; i++)
            tot += hist_weight(p, w, h->week[i]);
        for (size_t i = 0; i < h->n_committed; i++) {
            double v = w_rep * hist_weight(p, w, h->week[i]) / tot;
            uint32_t a = h->art[i], pr = c->product[a];
            uint32_t lo = c->prod_first[pr], hi = c->prod_first[pr + 1];
            if (hi - lo < 2) {
                s->score[a] += v;
                continue;
            }
            s->score[a] += v * (1 - p->rep_sibling);
            for (uint32_t b = lo; b < hi; b++)
                if (b != a)
                    s->score[b] += v * p->rep_sibling / (hi - lo - 1);
        }
    }
    if (!followups)
        return;
    /* later items of a basket: complements and other colours of first draws; a follow-up
     * that was bought before is replaced by a new draw with probability novelty */
    double follow = t->basket_extra / (1 + t->basket_extra);
    double *first = hm_xmalloc_array(s->n_touched ? s->n_touched : 1, sizeof(double));
    for (size_t i = 0; i < s->n_touched; i++)
        first[i] = s->score[s->touched[i]];
    for (size_t i = 0; i < s->n_touched; i++) {
        uint32_t a = s->touched[i];
        double v = first[i] * follow;
        if (v <= 0)
            continue;
        uint32_t pa = c->partner[a];
        if (s->mark[pa])
            s->score[pa] += v * p->w_partner * (h->in_hist[pa] ? 1 - r_nov : 1);
        uint32_t pr = c->product[a], lo = c->prod_first[pr], hi = c->prod_first[pr + 1];
        if (hi - lo >= 2) {
            for (uint32_t b = lo; b < hi; b++)
                if (b != a && s->mark[b])
                    s->score[b] += v * p->w_sibling / (hi - lo - 1) * (h->in_hist[b] ? 1 - r_nov : 1);
        } /* (a one-colour product's "other colour" is a fresh mixture draw: a rescale) */
    }
    free(first);
}

void synth_scratch_clear(struct synth_scratch *s)
{
    for (size_t i = 0; i < s->n_touched; i++) {
        s->score[s->touched[i]] = 0;
        s->mark[s->touched[i]] = 0;
    }
    s->n_touched = 0;
}

uint32_t synth_draw_first(const struct synth_model *m, const struct synth_taste *t,
                          const struct synth_hist *h, int w, struct hm_rng *r)
{
    int src;
    return draw_mixture(m, t, h, w, r, &src);
}

int synth_oracle_top12(const struct synth_model *m, const struct synth_taste *t,
                       const struct synth_hist *h, int w, struct synth_scratch *s, uint32_t *out)
{
    synth_oracle_scores(m, t, h, w, s, 1);
    /* top 12 (ties: lower article index first), and clear the scratch */
    int n_out = 0;
    double best[12];
    for (size_t i = 0; i < s->n_touched; i++) {
        uint32_t a = s->touched[i];
        double v = s->score[a];
        s->score[a] = 0;
        s->mark[a] = 0;
        if (v <= 0)
            continue;
        if (n_out == 12 && (v < best[11] || (v == best[11] && a > out[11])))
            continue;
        int k = n_out < 12 ? n_out++ : 11;
        while (k > 0 && (best[k - 1] < v || (best[k - 1] == v && out[k - 1] > a))) {
            best[k] = best[k - 1];
            out[k] = out[k - 1];
            k--;
        }
        best[k] = v;
        out[k] = a;
    }
    s->n_touched = 0;
    return n_out;
}

/* ---- one customer ---------------------------------------------------------------------- */

static void hist_push(struct synth_hist *h, uint32_t a, int w)
{
    if (h->n == h->cap) {
        h->cap = hm_grow_cap(h->cap, h->n + 1);
        h->art = hm_xrealloc(h->art, h->cap * sizeof *h->art);
        h->week = hm_xrealloc(h->week, h->cap * sizeof *h->week);
    }
    h->art[h->n] = a;
    h->week[h->n] = (int16_t)w;
    h->n++;
}

static void emit(struct synth_recbuf *b, const struct synth_rec *r)
{
    HM_GROW(b->r, b->cap, b->n + 1);
    b->r[b->n++] = *r;
}

static uint32_t poisson(struct hm_rng *r, double lambda)
{
    double L = exp(-lambda), prod = hm_rng_uniform(r);
    uint32_t k = 0;
    while (prod > L && k < 50) {
        prod *= hm_rng_uniform(r);
        k++;
    }
    return k;
}

/* The price of article a on a day of week w (öre): the list price, or in a sale period,
 * a discount for most articles older than four weeks. */
static uint32_t row_price(const struct synth_model *m, uint32_t a, int w)
{
    const struct synth_catalogue *c = m->cat;
    uint32_t list = c->price_ore[a];
    if (m->wk->discount[w] <= 0 || w - c->launch_week[a] < 4)
        return list;
    uint64_t h = hm_mix64(((uint64_t)a << 20) ^ (uint64_t)(w / 6) ^ (uint64_t)m->p->seed);
    if ((h & 1023) < 380)
        return list;
    double d = m->p->sale_discount * (0.6 + 0.8 * (double)((h >> 10) & 1023) / 1023.0);
    long units = lround((list + 1) / 100.0 * (1 - d));
    if (units < 1)
        units = 1;
    uint32_t p = (uint32_t)(units * 100 - 1);
    return p < list ? p : list;
}

/* One visit on a day of week w drawn by the day factors: a basket of rows into out. */
static void gen_visit(const struct synth_model *m, const struct synth_taste *t, struct synth_hist *h,
                      int w, uint32_t customer, struct hm_rng *r, struct synth_recbuf *out,
                      uint64_t *by_source)
{
    const struct synth_params *p = m->p;
    const struct synth_weeks *wk = m->wk;
    const struct synth_catalogue *c = m->cat;
    double follow_w = p->w_partner + p->w_sibling;
    double q_more = t->basket_extra / (1 + t->basket_extra); /* geometric continuation */
    double f = 0;
    for (int d = 0; d < 7; d++)
        f += wk->day_factor[w * 7 + d];
    double x = hm_rng_uniform(r) * f;
    int d = 0;
    for (; d < 6; d++) {
        x -= wk->day_factor[w * 7 + d];
        if (x < 0)
            break;
    }
    while (wk->day_factor[w * 7 + d] <= 0) /* a day before the data starts */
        d++;
    struct synth_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.customer = customer;
    rec.day = (uint16_t)(w * 7 + d);
    rec.channel = hm_rng_uniform(r) < t->p_online ? 2 : 1;
    uint32_t prev = 0;
    for (int j = 0;; j++) {
        uint32_t a;
        int src;
        double u = hm_rng_uniform(r);
        if (j > 0 && u < p->w_partner)
            a = c->partner[prev], src = SYNTH_SRC_PARTNER;
        else if (j > 0 && u < follow_w && c->prod_first[c->product[prev] + 1] - c->prod_first[c->product[prev]] > 1)
            a = sibling_of(c, prev, r), src = SYNTH_SRC_COLOUR;
        else
            a = draw_mixture(m, t, h, w, r, &src);
        if (j > 0 && u < follow_w && h->in_hist[a] && hm_rng_uniform(r) < p->novelty)
            a = draw_mixture(m, t, h, w, r, &src); /* a follow-up bought before: something new */
        by_source[src]++;
        rec.article = a;
        rec.price_ore = (uint16_t)row_price(m, a, w);
        int rows = 1;
        if (hm_rng_uniform(r) < p->dup_prob) {
            rows++;
            while (rows < 20 && hm_rng_uniform(r) < 0.22)
                rows++;
        }
        for (int k = 0; k < rows; k++)
            emit(out, &rec);
        hist_push(h, a, w);
        prev = a;
        if (hm_rng_uniform(r) >= q_more || j >= 40)
            break;
    }
}

/* Week w's visits: the history before w is committed, the oracle scores the week when it is
 * one of the oracle weeks, then the baskets are drawn. */
static void gen_week(const struct synth_model *m, const struct synth_taste *t, struct synth_hist *h,
                     int w, int visits, uint32_t customer, struct hm_rng *r, struct synth_scratch *s,
                     struct synth_recbuf *out, uint64_t *by_source, const struct synth_oracle_slots *o)
{
    for (size_t i = h->n_committed; i < h->n; i++)
        h->in_hist[h->art[i]] = 1;
    h->n_committed = h->n;
    if (w >= o->first_week && w < o->first_week + o->n_weeks) {
        int k = w - o->first_week;
        o->n[k] = (uint8_t)synth_oracle_top12(m, t, h, w, s, o->top + (size_t)k * 12);
    }
    for (int v = 0; v < visits; v++)
        gen_visit(m, t, h, w, customer, r, out, by_source);
}

void synth_customer_generate(const struct synth_model *m, size_t customer, struct synth_hist *h,
                             struct synth_scratch *s, struct synth_recbuf *out,
                             const struct synth_oracle_slots *o)
{
    const struct synth_params *p = m->p;
    const struct synth_weeks *wk = m->wk;
    struct synth_taste t;
    synth_taste_make(m, customer, &t);
    struct hm_rng r;
    hm_rng_seed2(&r, (uint64_t)p->seed ^ STREAM_BEHAVIOUR, customer);
    h->n = h->n_committed = 0;
    for (int k = 0; k < o->n_weeks; k++)
        o->n[k] = 0;
    if (t.never)
        return;
    int nw = wk->n_data;
    uint8_t visits[1024];
    HM_ASSERT(nw <= 1024);
    int total = 0;
    for (int w = 0; w < nw; w++) {
        visits[w] = 0;
        if (w < t.start_week || w > t.end_week)
            continue;
        double f = 0;
        for (int d = 0; d < 7; d++)
            f += wk->day_factor[w * 7 + d];
        uint32_t v = poisson(&r, t.rate * f / 7);
        visits[w] = (uint8_t)(v > 7 ? 7 : v);
        total += visits[w];
    }
    if (total == 0) { /* everyone in customers.csv (but the never-buyers) bought once */
        int w = t.start_week + (int)hm_rng_below(&r, (uint64_t)(t.end_week - t.start_week + 1));
        visits[w] = 1;
    }
    for (int w = 0; w < nw; w++)
        if (visits[w])
            gen_week(m, &t, h, w, visits[w], (uint32_t)customer, &r, s, out, out->by_source, o);
    /* the held-out weeks after the data, from a stream of their own (the data's rows do not
     * depend on them): every customer who has not churned stays active */
    for (int w = nw; w < wk->n_weeks && !t.churned; w++) {
        struct hm_rng rt;
        hm_rng_seed2(&rt, (uint64_t)p->seed ^ STREAM_HELD_OUT, customer * 64 + (size_t)(w - nw));
        double f = 0;
        for (int d = 0; d < 7; d++)
            f += wk->day_factor[w * 7 + d];
        uint32_t v = poisson(&rt, t.rate * f / 7);
        if (v)
            gen_week(m, &t, h, w, v > 7 ? 7 : (int)v, (uint32_t)customer, &rt, s, out, out->by_source_held,
                     o);
    }
    for (size_t i = 0; i < h->n; i++)
        h->in_hist[h->art[i]] = 0;
}
