/* Popularity: the articles selling best just before the cutoff, by sales volume, unique
 * buyers and trend (the last period against the periods before). The per-article counts
 * here also make the popular and decayed baselines and the category strategy's ranking. */
#include "recall/recall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct count_job {
    const struct data_set *ds;
    int32_t start, cutoff;
    double tau;
    double *score;     /* (n_articles) or NULL */
    uint32_t *buyers;  /* (n_articles) or NULL */
};

static int count_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct count_job *j = ud;
    const struct data_transactions *tx = &j->ds->art.tx;
    for (size_t a = begin; a < end; a++) {
        double s = 0;
        uint32_t b = 0, last = UINT32_MAX;
        /* rows of an article are ascending, so by customer: distinct buyers are runs */
        for (uint64_t k = tx->art_off[a]; k < tx->art_off[a + 1]; k++) {
            uint32_t r = tx->art_rows[k];
            int32_t d = tx->day[r];
            if (d < j->start || d >= j->cutoff)
                continue;
            s += j->tau > 0 ? exp(-(double)(j->cutoff - 1 - d) / j->tau) : 1.0;
            if (tx->customer[r] != last) {
                last = tx->customer[r];
                b++;
            }
        }
        if (j->score)
            j->score[a] = s;
        if (j->buyers)
            j->buyers[a] = b;
    }
    return 0;
}

void recall_article_counts(const struct data_set *ds, int32_t start, int32_t cutoff, double tau,
                           double *score, uint32_t *buyers)
{
    struct count_job j = {ds, start, cutoff, tau, score, buyers};
    data_article_pass(ds, 0, 2048, count_range, &j);
    if (score)
        data_article_share(ds, score, sizeof *score);
    if (buyers)
        data_article_share(ds, buyers, sizeof *buyers);
}

struct first_job {
    const struct data_set *ds;
    int32_t start, cutoff;
    int32_t *first;
};

static int first_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct first_job *j = ud;
    const struct data_transactions *tx = &j->ds->art.tx;
    for (size_t a = begin; a < end; a++) {
        int32_t f = INT32_MAX;
        for (uint64_t k = tx->art_off[a]; k < tx->art_off[a + 1]; k++) {
            int32_t d = tx->day[tx->art_rows[k]];
            if (d >= j->start && d < j->cutoff && d < f)
                f = d;
        }
        j->first[a] = f;
    }
    return 0;
}

void recall_article_first_sale(const struct data_set *ds, int32_t start, int32_t cutoff, int32_t *first)
{
    struct first_job j = {ds, start, cutoff, first};
    data_article_pass(ds, 0, 2048, first_range, &j);
    data_article_share(ds, first, sizeof *first);
}

struct pop_params {
    struct recall_list_params list;
    long days;              /* days of the volume/buyer counts (7) */
    long trend_periods;     /* earlier periods of `days` that the trend compares with (3) */
    double w_volume, w_buyers, w_trend; /* score mix (1, 1, 0.5) */
};
_Static_assert(sizeof(struct pop_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct pop_params, f)
static const struct hm_setting pop_settings[] = {
    {"recall.pop_n", HM_SET_INT, P(list.n), "80", 0, 255, 0, "popularity: candidates (the same for everyone)"},
    {"recall.pop_days", HM_SET_INT, P(days), "7", 1, 3650, 0, "popularity: days of sales counted"},
    {"recall.pop_trend_periods", HM_SET_INT, P(trend_periods), "3", 0, 100, 0,
     "popularity: earlier periods of pop_days the trend compares the last one with"},
    {"recall.pop_w_volume", HM_SET_DOUBLE, P(w_volume), "1", 0, 1e6, 0, "popularity: weight of sales volume"},
    {"recall.pop_w_buyers", HM_SET_DOUBLE, P(w_buyers), "1", 0, 1e6, 0, "popularity: weight of unique buyers"},
    {"recall.pop_w_trend", HM_SET_DOUBLE, P(w_trend), "0.5", 0, 1e6, 0, "popularity: weight of the trend"},
    {"recall.pop_w", HM_SET_DOUBLE, P(list.w), "0.67", 0, 1e6, 0, "popularity: merge weight"},
};
#undef P

/* The list everyone gets. */
struct pop_state {
    uint32_t n;          /* listed articles */
    uint32_t *item;      /* (n) best first */
    float *score;        /* (n) */
};

static void pop_release(void *state)
{
    struct pop_state *m = state;
    if (!m)
        return;
    free(m->item);
    free(m->score);
    free(m);
}

static int pop_init(const struct recall_engine *e, int s, void **state)
{
    const struct pop_params *p = recall_params_of(&e->p, s);
    struct pop_state *m = hm_xcalloc(1, sizeof *m);
    uint32_t na = e->ds->articles.n;
    int32_t days = (int32_t)p->days, periods = (int32_t)p->trend_periods;
    double *vol = hm_xcalloc((size_t)na + 1, sizeof *vol);
    double *prev = hm_xcalloc((size_t)na + 1, sizeof *prev);
    uint32_t *buyers = hm_xcalloc((size_t)na + 1, sizeof *buyers);
    int32_t s0 = e->cutoff - days;
    recall_article_counts(e->ds, s0 > e->start ? s0 : e->start, e->cutoff, 0, vol, buyers);
    int32_t s1 = e->cutoff - days * (1 + periods);
    if (periods > 0)
        recall_article_counts(e->ds, s1 > e->start ? s1 : e->start, s0, 0, prev, NULL);
    /* trend: log((last + 1) / (mean of the earlier periods + 1)), when positive */
    double max_vol = 0, max_buy = 0, max_trend = 0;
    for (uint32_t a = 0; a < na; a++) {
        if (!e->keep[a])
            continue;
        double t = periods > 0 ? log((vol[a] + 1) / (prev[a] / periods + 1)) : 0;
        prev[a] = t > 0 ? t : 0;
        if (vol[a] > max_vol)
            max_vol = vol[a];
        if (buyers[a] > max_buy)
            max_buy = buyers[a];
        if (prev[a] > max_trend)
            max_trend = prev[a];
    }
    uint32_t k = (uint32_t)p->list.n;
    struct hm_hit *hits = hm_xmalloc_array((size_t)k + 1, sizeof *hits);
    struct hm_topk top;
    hm_topk_init(&top, hits, k);
    for (uint32_t a = 0; a < na; a++) {
        if (!e->keep[a] || vol[a] <= 0)
            continue; /* nothing sold in the last period: not trending */
        double sc = p->w_volume * (max_vol > 0 ? vol[a] / max_vol : 0) +
                    p->w_buyers * (max_buy > 0 ? buyers[a] / max_buy : 0) +
                    p->w_trend * (max_trend > 0 ? prev[a] / max_trend : 0);
        hm_topk_push(&top, (float)sc, a);
    }
    m->n = hm_topk_sort(&top);
    m->item = hm_xmalloc_array((size_t)m->n + 1, sizeof *m->item);
    m->score = hm_xmalloc_array((size_t)m->n + 1, sizeof *m->score);
    for (uint32_t i = 0; i < m->n; i++) {
        m->item[i] = hits[i].id;
        m->score[i] = hits[i].score;
    }
    free(hits);
    free(vol);
    free(prev);
    free(buyers);
    *state = m;
    return 0;
}

static uint32_t pop_user(const struct recall_engine *e, int s, struct recall_scratch *sc, uint32_t c,
                         uint32_t *items, float *scores)
{
    (void)sc;
    (void)c;
    const struct pop_state *m = e->state[s];
    memcpy(items, m->item, m->n * sizeof *items);
    memcpy(scores, m->score, m->n * sizeof *scores);
    return m->n;
}

const struct recall_strategy recall_popular = {
    .name = "popular",
    .help = "sales volume, unique buyers and trend of the last days",
    .settings = pop_settings,
    .n_settings = sizeof pop_settings / sizeof pop_settings[0],
    .params_size = sizeof(struct pop_params),
    .init = pop_init,
    .release = pop_release,
    .user = pop_user,
};
