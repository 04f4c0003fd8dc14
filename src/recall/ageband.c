/* Age band: what customers of the customer's age buy now. Customers are grouped in bands of
 * `age_width` years (age / width, rounded down); for every band, the kept articles bought by
 * its customers in the last `age_days` days, each row weighing exp(-(cutoff - 1 - day) /
 * age_tau), best first; a customer gets their band's list (nothing when their age is
 * missing). The list also serves customers without any history, whose only known trait may
 * be their age. */
#include "recall/recall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct age_params {
    struct recall_list_params list;
    double width;        /* years per band (5) */
    long days;           /* days of sales counted (14) */
    double tau;          /* time constant (days) of a row's weight (7) */
};
_Static_assert(sizeof(struct age_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct age_params, f)
static const struct hm_setting age_settings[] = {
    {"recall.age_n", HM_SET_INT, P(list.n), "150", 0, 255, 0,
     "age band: candidates per customer (the best sellers of their age band)"},
    {"recall.age_width", HM_SET_DOUBLE, P(width), "5", 1, 100, 0, "age band: years per band"},
    {"recall.age_days", HM_SET_INT, P(days), "14", 1, 3650, 0, "age band: days of sales counted"},
    {"recall.age_tau", HM_SET_DOUBLE, P(tau), "7", 0, 1e6, 0,
     "age band: time constant (days) of a row's weight (0: every row weighs 1)"},
    {"recall.age_w", HM_SET_DOUBLE, P(list.w), "0.06", 0, 1e6, 0, "age band: merge weight"},
};
#undef P

#define AGE_BANDS 128 /* bands beyond the last share it */

struct age_state {
    uint8_t *band;       /* (n_customers) band, AGE_BANDS when the age is missing */
    uint32_t nb;         /* bands in use */
    uint32_t *off;       /* (nb + 1) into item/score */
    uint32_t *item;      /* each band's articles, best first */
    float *score;
};

struct age_job {
    const struct recall_engine *e;
    const struct age_params *p;
    const uint8_t *band;
    uint32_t nb;
    int32_t from;
    float *count;        /* (n_articles, nb) */
};

static int age_count(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct age_job *j = ud;
    const struct data_transactions *tx = &j->e->ds->art.tx;
    for (size_t a = begin; a < end; a++) {
        float *row = j->count + a * j->nb;
        memset(row, 0, j->nb * sizeof *row);
        if (!j->e->keep[a])
            continue;
        for (uint64_t k = tx->art_off[a]; k < tx->art_off[a + 1]; k++) {
            uint32_t r = tx->art_rows[k];
            int32_t d = tx->day[r];
            uint8_t b = j->band[tx->customer[r]];
            if (d < j->from || d >= j->e->cutoff || b == AGE_BANDS)
                continue;
            row[b] += j->p->tau > 0 ? (float)exp(-(double)(j->e->cutoff - 1 - d) / j->p->tau) : 1.0f;
        }
    }
    return 0;
}

struct top_job {
    struct age_job *j;
    uint32_t na, k;
    uint32_t *ids;       /* (nb, k) */
    float *scores;       /* (nb, k) */
    uint32_t *n;         /* (nb) */
};

static int age_top(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct top_job *t = ud;
    struct hm_hit *h = hm_xmalloc_array((size_t)t->k + 1, sizeof *h);
    for (size_t b = begin; b < end; b++) {
        struct hm_topk top;
        hm_topk_init(&top, h, t->k);
        for (uint32_t a = 0; a < t->na; a++) {
            float v = t->j->count[(size_t)a * t->j->nb + b];
            if (v > 0)
                hm_topk_push(&top, v, a);
        }
        t->n[b] = hm_topk_sort(&top);
        for (uint32_t x = 0; x < t->n[b]; x++) {
            t->ids[b * t->k + x] = h[x].id;
            t->scores[b * t->k + x] = h[x].score;
        }
    }
    free(h);
    return 0;
}

static void age_release(void *state)
{
    struct age_state *m = state;
    if (!m)
        return;
    free(m->band);
    free(m->off);
    free(m->item);
    free(m->score);
    free(m);
}

static int age_init(const struct recall_engine *e, int s, void **state)
{
    const struct age_params *p = recall_params_of(&e->p, s);
    const struct data_customers *cu = &e->ds->customers;
    uint32_t na = e->ds->articles.n, k = (uint32_t)p->list.n;
    struct age_state *m = hm_xcalloc(1, sizeof *m);
    m->band = hm_xmalloc((size_t)cu->n + 1);
    for (uint32_t c = 0; c < cu->n; c++) {
        float age = cu->age ? cu->age[c] : NAN;
        if (!(age >= 0)) { /* missing (NaN) */
            m->band[c] = AGE_BANDS;
            continue;
        }
        double b = floor(age / p->width);
        m->band[c] = (uint8_t)(b < AGE_BANDS - 1 ? b : AGE_BANDS - 1);
        if (m->band[c] + 1u > m->nb)
            m->nb = m->band[c] + 1u;
    }
    int32_t from = e->cutoff - (int32_t)p->days;
    struct age_job j = {e, p, m->band, m->nb ? m->nb : 1, from > e->start ? from : e->start,
                        hm_xmalloc_array((size_t)na * (m->nb ? m->nb : 1) + 1, sizeof(float))};
    data_article_pass(e->ds, 0, 1024, age_count, &j);
    data_article_share(e->ds, j.count, (size_t)j.nb * sizeof *j.count);
    struct top_job t = {&j, na, k, hm_xmalloc_array((size_t)j.nb * k + 1, sizeof(uint32_t)),
                        hm_xmalloc_array((size_t)j.nb * k + 1, sizeof(float)),
                        hm_xcalloc((size_t)j.nb + 1, sizeof(uint32_t))};
    hm_parallel_chunks(0, m->nb, 1, age_top, &t);
    m->off = hm_xcalloc((size_t)j.nb + 1, sizeof *m->off);
    for (uint32_t b = 0; b < m->nb; b++)
        m->off[b + 1] = m->off[b] + t.n[b];
    m->item = hm_xmalloc_array((size_t)m->off[m->nb] + 1, sizeof *m->item);
    m->score = hm_xmalloc_array((size_t)m->off[m->nb] + 1, sizeof *m->score);
    for (uint32_t b = 0; b < m->nb; b++) {
        memcpy(m->item + m->off[b], t.ids + (size_t)b * k, t.n[b] * sizeof *m->item);
        memcpy(m->score + m->off[b], t.scores + (size_t)b * k, t.n[b] * sizeof *m->score);
    }
    free(t.ids);
    free(t.scores);
    free(t.n);
    free(j.count);
    *state = m;
    return 0;
}

static uint32_t age_user(const struct recall_engine *e, int s, struct recall_scratch *sc, uint32_t c,
                         uint32_t *items, float *scores)
{
    (void)sc;
    const struct age_state *m = e->state[s];
    uint8_t b = m->band[c];
    if (b >= m->nb)
        return 0;
    uint32_t n = m->off[b + 1] - m->off[b];
    memcpy(items, m->item + m->off[b], n * sizeof *items);
    memcpy(scores, m->score + m->off[b], n * sizeof *scores);
    return n;
}

const struct recall_strategy recall_ageband = {
    .name = "ageband",
    .help = "best sellers among customers of the customer's age band",
    .settings = age_settings,
    .n_settings = sizeof age_settings / sizeof age_settings[0],
    .params_size = sizeof(struct age_params),
    .init = age_init,
    .release = age_release,
    .user = age_user,
};
