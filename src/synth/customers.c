/* synth/customers.c: customers.csv's columns (ids, ages, postal codes, club and news
 * fields with the real kinds of missing values), shared taste profiles ("personas") and
 * each customer's latent behaviour, derived from the customer's own random stream. */
#include "synth/synth_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_ID 0x1D5ULL
#define STREAM_ATTR 0xA77ULL
#define STREAM_TASTE 0x7A57EULL
#define STREAM_PERSONA 0xBE25ULL

static int cmp_id(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    for (int k = 0; k < 4; k++)
        if (x[k] != y[k])
            return x[k] < y[k] ? -1 : 1;
    return 0;
}

/* Age in years: two modes (around 24 and 51) and a broad base; < 0 when missing. */
static float draw_age(struct hm_rng *r)
{
    double u = hm_rng_uniform(r), a;
    if (u < 0.0116)
        return -1;
    u = hm_rng_uniform(r);
    if (u < 0.45)
        a = 24.5 + 4.2 * hm_rng_normal(r);
    else if (u < 0.82)
        a = 51 + 6.5 * hm_rng_normal(r);
    else
        a = 18 + 60 * pow(hm_rng_uniform(r), 1.3);
    if (a < 16)
        a = 16 + hm_rng_uniform(r) * 4;
    if (a > 99)
        a = 99;
    return (float)floor(a);
}

void synth_customers_build(struct synth_customers *cu, const struct synth_params *p)
{
    memset(cu, 0, sizeof *cu);
    size_t n = (size_t)p->n_customers;
    cu->n = n;
    cu->id = hm_xmalloc_array(n * 4, sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) {
        struct hm_rng r;
        hm_rng_seed2(&r, (uint64_t)p->seed ^ STREAM_ID, i);
        for (int k = 0; k < 4; k++)
            cu->id[i * 4 + k] = hm_rng_u64(&r);
    }
    qsort(cu->id, n, 4 * sizeof(uint64_t), cmp_id);
    cu->age = hm_xmalloc_array(n, sizeof(float));
    cu->postal = hm_xmalloc_array(n, sizeof(uint32_t));
    cu->fn = hm_xmalloc(n);
    cu->active = hm_xmalloc(n);
    cu->club = hm_xmalloc(n);
    cu->news = hm_xmalloc(n);
    cu->n_postal = n / 4 + 2;
    for (size_t i = 0; i < n; i++) {
        struct hm_rng r;
        hm_rng_seed2(&r, (uint64_t)p->seed ^ STREAM_ATTR, i);
        cu->age[i] = draw_age(&r);
        /* one code shared by very many customers, then a skewed spread over the rest */
        double u = hm_rng_uniform(&r);
        cu->postal[i] = u < 0.088 ? 0 : 1 + (uint32_t)((double)(cu->n_postal - 1) * pow(hm_rng_uniform(&r), 1.6));
        cu->fn[i] = hm_rng_uniform(&r) < 0.348;
        cu->active[i] = cu->fn[i] ? hm_rng_uniform(&r) < 0.974 : hm_rng_uniform(&r) < 0.0005;
        u = hm_rng_uniform(&r);
        cu->club[i] = u < 0.927 ? 0 : u < 0.9952 ? 1 : u < 0.9956 ? 2 : 3; /* ACTIVE PRE-CREATE LEFT CLUB empty */
        u = hm_rng_uniform(&r);
        if (cu->fn[i])
            cu->news[i] = u < 0.96 ? 1 : u < 0.962 ? 2 : u < 0.97 ? 0 : 4; /* Regularly Monthly NONE empty */
        else
            cu->news[i] = u < 0.975 ? 0 : u < 0.98 ? 1 : u < 0.9801 ? 2 : u < 0.98012 ? 3 : 4;
    }
}

void synth_customers_release(struct synth_customers *cu)
{
    free(cu->id);
    free(cu->age);
    free(cu->postal);
    free(cu->fn);
    free(cu->active);
    free(cu->club);
    free(cu->news);
    memset(cu, 0, sizeof *cu);
}

/* ---- personas and tastes ---------------------------------------------------------- */

static int ig_by_name(const struct synth_taxonomy *t, const char *name)
{
    for (int i = 0; i < t->n_ig; i++)
        if (!strcmp(t->ig[i].name, name))
            return i;
    return 0;
}

/* Index-group preferences of a persona of the given age (male: menswear leaning). */
static void ig_weights(const struct synth_taxonomy *t, double age, int male, double *w)
{
    int L = ig_by_name(t, "Ladieswear"), D = ig_by_name(t, "Divided"),
        M = ig_by_name(t, "Menswear"), B = ig_by_name(t, "Baby/Children"), S = ig_by_name(t, "Sport");
    for (int i = 0; i < t->n_ig; i++)
        w[i] = 0.02;
    if (male) {
        w[M] = 0.8, w[S] = 0.1, w[D] = 0.1;
    } else if (age < 28) {
        w[D] = 0.42, w[L] = 0.42, w[S] = 0.06, w[B] = 0.06, w[M] = 0.04;
    } else if (age < 45) {
        w[L] = 0.52, w[B] = 0.28, w[D] = 0.08, w[S] = 0.06, w[M] = 0.06;
    } else {
        w[L] = 0.70, w[B] = 0.12, w[D] = 0.04, w[S] = 0.04, w[M] = 0.10;
    }
}

static int draw_cell(const struct synth_model *m, const double *igw, struct hm_rng *r)
{
    const struct synth_taxonomy *t = m->tax;
    double tot = 0;
    for (int i = 0; i < t->n_ig; i++)
        tot += igw[i];
    double u = hm_rng_uniform(r) * tot;
    int ig = 0;
    for (ig = 0; ig < t->n_ig - 1; ig++) {
        u -= igw[ig];
        if (u < 0)
            break;
    }
    /* a cell of that index group, by its share of the catalogue (only non-empty cells) */
    double ctot = 0;
    for (int c = 0; c < t->n_cells; c++)
        if (t->cells[c].ig == ig && m->cat->cell_first[c + 1] > m->cat->cell_first[c])
            ctot += t->cells[c].count;
    if (ctot <= 0)
        return (int)m->cat->cell[hm_rng_below(r, m->cat->n)];
    u = hm_rng_uniform(r) * ctot;
    int last = 0;
    for (int c = 0; c < t->n_cells; c++)
        if (t->cells[c].ig == ig && m->cat->cell_first[c + 1] > m->cat->cell_first[c]) {
            last = c;
            u -= t->cells[c].count;
            if (u < 0)
                return c;
        }
    return last;
}

void synth_model_init(struct synth_model *m, const struct synth_params *p,
                      const struct synth_taxonomy *tax, const struct synth_catalogue *cat,
                      const struct synth_weeks *wk, const struct synth_customers *cu)
{
    memset(m, 0, sizeof *m);
    m->p = p, m->tax = tax, m->cat = cat, m->wk = wk, m->cu = cu;
    int P = (int)p->n_personas;
    m->n_personas = P;
    m->persona_cells = hm_xcalloc((size_t)P * SYNTH_MAX_CELLS, sizeof(uint16_t));
    m->persona_cell_w = hm_xcalloc((size_t)P * SYNTH_MAX_CELLS, sizeof(float));
    m->persona_n_cells = hm_xcalloc((size_t)P, sizeof(int));
    m->persona_style = hm_xcalloc((size_t)P * 2, 1);
    m->persona_age = hm_xcalloc((size_t)P, sizeof(float));
    m->persona_male = hm_xcalloc((size_t)P, 1);
    for (int k = 0; k < P; k++) {
        struct hm_rng r;
        hm_rng_seed2(&r, (uint64_t)p->seed ^ STREAM_PERSONA, (uint64_t)k);
        float age;
        do
            age = draw_age(&r);
        while (age < 0);
        m->persona_age[k] = age;
        m->persona_male[k] = hm_rng_uniform(&r) < 0.16;
        double igw[8];
        ig_weights(tax, age, m->persona_male[k], igw);
        int nc = (int)p->taste_cells;
        if (nc > SYNTH_MAX_CELLS - 4)
            nc = SYNTH_MAX_CELLS - 4;
        m->persona_n_cells[k] = nc;
        for (int j = 0; j < nc; j++) {
            m->persona_cells[k * SYNTH_MAX_CELLS + j] = (uint16_t)draw_cell(m, igw, &r);
            m->persona_cell_w[k * SYNTH_MAX_CELLS + j] = (float)hm_rng_gamma(&r, 0.8);
        }
        m->persona_style[2 * k] = (uint8_t)hm_rng_below(&r, SYNTH_STYLES);
        m->persona_style[2 * k + 1] = (uint8_t)hm_rng_below(&r, SYNTH_STYLES);
    }
}

void synth_model_release(struct synth_model *m)
{
    free(m->persona_cells);
    free(m->persona_cell_w);
    free(m->persona_n_cells);
    free(m->persona_style);
    free(m->persona_age);
    free(m->persona_male);
    memset(m, 0, sizeof *m);
}

/* A customer's persona: often the postal code's own, else one of a similar age. */
static int pick_persona(const struct synth_model *m, size_t i, struct hm_rng *r)
{
    uint32_t pc = m->cu->postal[i];
    if (pc != 0 && hm_rng_uniform(r) < m->p->postal_share)
        return (int)(hm_mix64((uint64_t)pc * 0x9E3779B97F4A7C15ULL ^ (uint64_t)m->p->seed) %
                     (uint64_t)m->n_personas);
    float age = m->cu->age[i] < 0 ? 35 : m->cu->age[i];
    int best = (int)hm_rng_below(r, (uint64_t)m->n_personas);
    for (int k = 0; k < 6; k++) {
        int c = (int)hm_rng_below(r, (uint64_t)m->n_personas);
        if (fabsf(m->persona_age[c] - age) < fabsf(m->persona_age[best] - age))
            best = c;
    }
    return best;
}

void synth_taste_make(const struct synth_model *m, size_t i, struct synth_taste *t)
{
    const struct synth_params *p = m->p;
    struct hm_rng r;
    hm_rng_seed2(&r, (uint64_t)p->seed ^ STREAM_TASTE, i);
    memset(t, 0, sizeof *t);
    int k = pick_persona(m, i, &r);
    /* cells: the persona's, re-weighted, plus a few personal ones */
    int nc = m->persona_n_cells[k];
    double tot = 0;
    for (int j = 0; j < nc; j++) {
        t->cells[j] = m->persona_cells[k * SYNTH_MAX_CELLS + j];
        t->cell_w[j] = m->persona_cell_w[k * SYNTH_MAX_CELLS + j] * hm_rng_gamma(&r, 1.5);
    }
    double igw[8];
    float age = m->cu->age[i] < 0 ? m->persona_age[k] : m->cu->age[i];
    ig_weights(m->tax, age, m->persona_male[k], igw);
    int extra = 3;
    for (int j = 0; j < extra; j++) {
        t->cells[nc + j] = (uint16_t)draw_cell(m, igw, &r);
        t->cell_w[nc + j] = 0.6 * hm_rng_gamma(&r, 0.8);
    }
    t->n_cells = nc + extra;
    for (int j = 0; j < t->n_cells; j++)
        tot += t->cell_w[j];
    for (int j = 0; j < t->n_cells; j++)
        t->cell_w[j] = tot > 0 ? t->cell_w[j] / tot : 1.0 / t->n_cells;
    /* styles: a main and a second style (mostly the persona's), a little of every style */
    int s1 = hm_rng_uniform(&r) < 0.7 ? m->persona_style[2 * k] : (int)hm_rng_below(&r, SYNTH_STYLES);
    int s2 = hm_rng_uniform(&r) < 0.5 ? m->persona_style[2 * k + 1] : (int)hm_rng_below(&r, SYNTH_STYLES);
    double f = p->style_focus;
    for (int s = 0; s < SYNTH_STYLES; s++)
        t->style_w[s] = (1 - f) * 0.3 / SYNTH_STYLES;
    t->style_w[s1] += f;
    t->style_w[s2] += (1 - f) * 0.7;
    /* price tiers from a price sensitivity */
    double sens = hm_rng_normal(&r), ttot = 0;
    for (int q = 0; q < SYNTH_TIERS; q++) {
        t->tier_w[q] = exp(-1.1 * sens * (q - 1));
        ttot += t->tier_w[q];
    }
    for (int q = 0; q < SYNTH_TIERS; q++)
        t->tier_w[q] /= ttot;
    /* mixture weights */
    t->w_rep = p->w_repurchase * hm_rng_gamma(&r, 2.0) / 2.0;
    t->w_trend = p->w_trend * hm_rng_gamma(&r, 2.0) / 2.0;
    if (t->w_rep > 0.5)
        t->w_rep = 0.5;
    if (t->w_trend > 0.5)
        t->w_trend = 0.5;
    t->w_taste = 1 - t->w_rep - t->w_trend;
    /* channel: Beta(1.2, 1.2 (1 - mean) / mean), e.g. Beta(1.2, 0.51) for mean 0.70 */
    double om = p->online_mean < 0.01 ? 0.01 : p->online_mean > 0.99 ? 0.99 : p->online_mean;
    double ga = hm_rng_gamma(&r, 1.2), gb = hm_rng_gamma(&r, 1.2 * (1 - om) / om);
    t->p_online = ga / (ga + gb);
    /* basket sizes: the mean varies between customers (exponential), which gives the
     * median of 2 rows per weekly buyer with a mean near 3.5 */
    t->basket_extra = p->basket_extra * hm_rng_gamma(&r, 1.0);
    /* activity */
    t->rate = p->visit_rate * exp(p->visit_sigma * hm_rng_normal(&r));
    t->never = hm_rng_uniform(&r) < p->never_share;
    int nw = m->wk->n_data;
    t->start_week = hm_rng_uniform(&r) < p->cold_share ? (int32_t)hm_rng_below(&r, (uint64_t)nw) : 0;
    t->end_week = nw - 1;
    t->churned = hm_rng_uniform(&r) < p->churn_share;
    if (t->churned)
        t->end_week = t->start_week + (int32_t)hm_rng_below(&r, (uint64_t)(nw - t->start_week));
}
