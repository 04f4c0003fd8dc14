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
    const struct data_transactions *tx = &j->ds->tx;
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
    hm_parallel_chunks(0, ds->articles.n, 2048, count_range, &j);
}

int recall_popular_init(struct recall_popular *m, const struct recall_engine *e)
{
    memset(m, 0, sizeof *m);
    const struct recall_params *p = &e->p;
    uint32_t na = e->ds->articles.n;
    int32_t days = (int32_t)p->pop_days, periods = (int32_t)p->pop_trend_periods;
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
    uint32_t k = (uint32_t)p->pop_n;
    struct hm_hit *hits = hm_xmalloc_array((size_t)k + 1, sizeof *hits);
    struct hm_topk top;
    hm_topk_init(&top, hits, k);
    for (uint32_t a = 0; a < na; a++) {
        if (!e->keep[a] || vol[a] <= 0)
            continue; /* nothing sold in the last period: not trending */
        double s = p->pop_w_volume * (max_vol > 0 ? vol[a] / max_vol : 0) +
                   p->pop_w_buyers * (max_buy > 0 ? buyers[a] / max_buy : 0) +
                   p->pop_w_trend * (max_trend > 0 ? prev[a] / max_trend : 0);
        hm_topk_push(&top, (float)s, a);
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
    return 0;
}

void recall_popular_release(struct recall_popular *m)
{
    free(m->item);
    free(m->score);
    memset(m, 0, sizeof *m);
}

uint32_t recall_popular_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                             uint32_t *items, float *scores)
{
    (void)s;
    (void)c;
    memcpy(items, e->pop.item, e->pop.n * sizeof *items);
    memcpy(scores, e->pop.score, e->pop.n * sizeof *scores);
    return e->pop.n;
}
