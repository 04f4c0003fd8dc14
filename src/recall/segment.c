/* Segment popularity: what sells now within the customer's own fine-grained preferences.
 *
 * A customer's purchases concentrate in a few cells (product type x index group: "trousers,
 * ladieswear"), and within a cell on colours, patterns and price levels they like. A
 * segment is the articles of one cell with one perceived colour master, one graphical
 * appearance (the pattern) and one price level (recall_price_levels: the level of the
 * article's list price within its cell). The strategy reads a customer as a nested choice:
 *     P(a) = p(k) * P(segment g | k) * pop(a) / pop(g)
 *     p(k)  = the cell's share of the customer's purchases (each row weighs
 *             exp(-age / seg_tau))
 *     P(g | k) = prior(g) * L_colour^w_colour * L_pattern^w_pattern * L_price^w_price
 *             * S(g)^w_style, normalised over the segments of cell k
 *     prior(g) = pop(g)^alpha * (product of the shop's shares of g's values)^(1 - alpha)
 *     L(v)  = [(W_v + kappa g_v) / (W + kappa)] / g_v, the customer's lift of value v: how
 *             much more of their weight W_v (of W) is on v than the shop's share g_v of
 *             current sales; kappa shrinks short histories towards 1
 *     S(g)  = the customer's style lift of g's colour x pattern pair (style.c)
 * where pop is current popularity (decayed rows of the last seg_days days, optionally times
 * the last week's growth), times seg_launch for the articles first sold within the last
 * week: a launch sells about half its rate in its first week, so its rows so far understate
 * what it sells next. Cell expansion: a cell j the customer never bought weighs
 *     W_j = seg_expand * sum over their cells i of (W_i / W) * P(j | i)
 * next to their own cells' W_i, P(j | i) the share of the customers with cell i who also have
 * j (the best seg_expand_cells j of each i). Candidates: the listed articles (kept, selling
 * now; the `seg_per_segment` most popular of each segment) of the customer's best `seg_cells`
 * cells, excluding the articles they bought (repurchase proposes those). */
#include "recall/recall.h"
#include "comm/comm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct seg_params {
    struct recall_list_params list;
    long cells;       /* the customer's best cells searched (20) */
    long days;        /* days of sales behind current popularity (14) */
    double pop_tau;   /* time constant (days) of that popularity (7) */
    double tau;       /* time constant (days) of a customer's preferences (365) */
    double kappa;     /* prior weight of the shop's shares in a customer's (3) */
    long levels;      /* price levels within a cell (3) */
    double w_colour, w_pattern, w_price; /* exponents of the lifts (0.25, 0, 0.75) */
    double alpha;     /* weight of a segment's own popularity in its prior (1) */
    double trend;     /* exponent of the last week's growth in current popularity (0) */
    long per_segment; /* most popular articles listed per segment (20) */
    double expand;    /* prior weight (in purchases) of the cells their cells' buyers buy (0.5) */
    long expand_cells; /* neighbour cells kept per cell (10) */
    double w_style;   /* exponent of the style lift (1) */
    double launch;    /* factor of the current popularity of articles first sold within the last week (2) */
};
_Static_assert(sizeof(struct seg_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct seg_params, f)
static const struct hm_setting seg_settings[] = {
    {"recall.seg_n", HM_SET_INT, P(list.n), "200", 0, 255, 0, "segment popularity: candidates per customer"},
    {"recall.seg_cells", HM_SET_INT, P(cells), "20", 1, 64, 0,
     "segment popularity: the customer's best cells (product type x index group) searched"},
    {"recall.seg_days", HM_SET_INT, P(days), "14", 1, 3650, 0,
     "segment popularity: days of sales behind current popularity"},
    {"recall.seg_pop_tau", HM_SET_DOUBLE, P(pop_tau), "7", 0, 1e6, 0,
     "segment popularity: time constant (days) of current popularity (0: every row weighs 1)"},
    {"recall.seg_tau", HM_SET_DOUBLE, P(tau), "365", 0.01, 1e6, 0,
     "segment popularity: time constant (days) of a customer's preferences"},
    {"recall.seg_kappa", HM_SET_DOUBLE, P(kappa), "3", 0, 1e6, 0,
     "segment popularity: prior weight of the shop's shares in a customer's attribute shares"},
    {"recall.seg_levels", HM_SET_INT, P(levels), "3", 1, 16, 0,
     "segment popularity: price levels within a cell"},
    {"recall.seg_w_colour", HM_SET_DOUBLE, P(w_colour), "0.25", 0, 10, 0,
     "segment popularity: exponent of the colour lift"},
    {"recall.seg_w_pattern", HM_SET_DOUBLE, P(w_pattern), "0", 0, 10, 0,
     "segment popularity: exponent of the pattern (graphical appearance) lift"},
    {"recall.seg_w_price", HM_SET_DOUBLE, P(w_price), "0.75", 0, 10, 0,
     "segment popularity: exponent of the price level lift"},
    {"recall.seg_alpha", HM_SET_DOUBLE, P(alpha), "1", 0, 1, 0,
     "segment popularity: a segment's prior share is pop^alpha x (product of its values' shares)^(1 - alpha)"},
    {"recall.seg_trend", HM_SET_DOUBLE, P(trend), "0", 0, 10, 0,
     "segment popularity: current popularity x ((last week's rows + 1) / (the week before's + 1))^trend"},
    {"recall.seg_per_segment", HM_SET_INT, P(per_segment), "20", 1, 4000, 0,
     "segment popularity: most popular articles listed per segment"},
    {"recall.seg_expand", HM_SET_DOUBLE, P(expand), "0.5", 0, 1e6, 0,
     "segment popularity: weight of the cells bought by customers who buy the customer's cells (0: only their own)"},
    {"recall.seg_expand_cells", HM_SET_INT, P(expand_cells), "10", 1, 64, 0,
     "segment popularity: neighbour cells kept per cell"},
    {"recall.seg_w_style", HM_SET_DOUBLE, P(w_style), "1", 0, 10, 0,
     "segment popularity: exponent of the style lift (recall.style_*; 0: off)"},
    {"recall.seg_launch", HM_SET_DOUBLE, P(launch), "2", 0, 100, 0,
     "segment popularity: factor of the current popularity of articles first sold within the last week (1: none)"},
    {"recall.seg_w", HM_SET_DOUBLE, P(list.w), "2", 0, 1e6, 0, "segment popularity: merge weight"},
};
#undef P

#define SEG_ATTRS 3       /* colour, pattern, price level */
#define SEG_VALUES RECALL_CAPPED_VALUES
#define SEG_EXPAND_MAX_CELLS 4096 /* more cells than this: no expansion (its table is cells^2) */

/* A segment: the listed articles of one cell with one value of every attribute. */
struct seg_segment {
    uint32_t begin, end;          /* its articles: item[begin .. end), most popular first */
    float prior;                  /* pop(segment)^alpha x (product of value shares)^(1 - alpha) */
    float pop;                    /* sum of its articles' current popularity */
    uint8_t v[SEG_ATTRS];         /* its attribute values */
};

struct seg_state {
    uint32_t *cell;               /* (n_articles) dense cell id */
    uint8_t *attr[SEG_ATTRS];     /* (n_articles) value id of each attribute */
    uint32_t n_values[SEG_ATTRS];
    float share[SEG_ATTRS][SEG_VALUES]; /* the shop's share of current popularity per value */
    uint32_t *cell_off;           /* (n_cells + 1) into seg */
    struct seg_segment *seg;      /* segments of each cell */
    uint32_t *item;               /* articles of each segment, most popular first */
    float *pop;                   /* (listed) their current popularity */
    uint32_t n_cells;
    uint32_t *nbr;                /* (n_cells, expand_cells) neighbour cells, best first */
    float *nbr_p;                 /* (n_cells, expand_cells) P(neighbour | cell), 0 = none */
};

static void seg_release(void *state)
{
    struct seg_state *m = state;
    if (!m)
        return;
    free(m->cell);
    for (int d = 0; d < SEG_ATTRS; d++)
        free(m->attr[d]);
    free(m->cell_off);
    free(m->seg);
    free(m->item);
    free(m->pop);
    free(m->nbr);
    free(m->nbr_p);
    free(m);
}

/* Current popularity: rows of the last `days` days (decayed by pop_tau), times the last
 * week's growth over the week before raised to `trend`. */
static double *current_pop(const struct recall_engine *e, const struct seg_params *p)
{
    uint32_t na = e->ds->articles.n;
    double *pop = hm_xcalloc((size_t)na + 1, sizeof *pop);
    int32_t from = e->cutoff - (int32_t)p->days;
    recall_article_counts(e->ds, from > e->start ? from : e->start, e->cutoff, p->pop_tau, pop, NULL);
    if (p->trend > 0) {
        double *w1 = hm_xcalloc((size_t)na + 1, sizeof *w1), *w0 = hm_xcalloc((size_t)na + 1, sizeof *w0);
        int32_t d1 = e->cutoff - 7, d0 = e->cutoff - 14;
        recall_article_counts(e->ds, d1 > e->start ? d1 : e->start, e->cutoff, 0, w1, NULL);
        recall_article_counts(e->ds, d0 > e->start ? d0 : e->start, d1 > e->start ? d1 : e->start, 0, w0, NULL);
        for (uint32_t a = 0; a < na; a++)
            if (pop[a] > 0)
                pop[a] *= pow((w1[a] + 1) / (w0[a] + 1), p->trend);
        free(w1);
        free(w0);
    }
    if (p->launch != 1) {
        int32_t *first = hm_xmalloc_array((size_t)na + 1, sizeof *first);
        recall_article_first_sale(e->ds, e->start, e->cutoff, first);
        for (uint32_t a = 0; a < na; a++)
            if (first[a] != INT32_MAX && first[a] >= e->cutoff - 7)
                pop[a] *= p->launch;
        free(first);
    }
    return pop;
}

/* Cell neighbours: for every cell i, the cells j most often bought by the customers who
 * bought i (both within [start, cutoff)), as P(j | i) = customers with both / customers with
 * i. Customers of one taste share most cells, so a customer's unbought cells that their
 * cells' buyers buy are where their taste is likely to go next. */
static void cell_neighbours(const struct recall_engine *e, const struct seg_params *p, struct seg_state *m)
{
    const struct data_set *ds = e->ds;
    uint32_t nc = m->n_cells, k = (uint32_t)p->expand_cells;
    uint32_t *both = hm_xcalloc((size_t)nc * nc + 1, sizeof *both);
    uint32_t *with = hm_xcalloc((size_t)nc + 1, sizeof *with);
    uint32_t *cells = hm_xmalloc_array((size_t)nc + 1, sizeof *cells);
    uint8_t *seen = hm_xcalloc((size_t)nc + 1, 1);
    for (uint32_t c = 0; c < ds->customers.n; c++) {
        uint64_t lo, hi;
        const struct data_transactions *tx = prep_customer_rows(ds, c, e->start, e->cutoff - 1, &lo, &hi);
        uint32_t n = 0;
        for (uint64_t r = lo; r < hi; r++) {
            uint32_t x = m->cell[tx->article[r]];
            if (!seen[x]) {
                seen[x] = 1;
                cells[n++] = x;
            }
        }
        for (uint32_t i = 0; i < n; i++) {
            with[cells[i]] += 1;
            for (uint32_t j = 0; j < n; j++)
                if (j != i)
                    both[(size_t)cells[i] * nc + cells[j]] += 1;
        }
        for (uint32_t i = 0; i < n; i++)
            seen[cells[i]] = 0;
    }
    /* every rank's customers (integer counts: any order) */
    comm_allreduce_u32(with, nc, COMM_SUM);
    comm_allreduce_u32(both, (size_t)nc * nc, COMM_SUM);
    m->nbr = hm_xcalloc((size_t)nc * k + 1, sizeof *m->nbr);
    m->nbr_p = hm_xcalloc((size_t)nc * k + 1, sizeof *m->nbr_p);
    uint32_t *ids = hm_xmalloc_array((size_t)nc + 1, sizeof *ids);
    for (uint32_t j = 0; j < nc; j++)
        ids[j] = j;
    float *row = hm_xmalloc_array((size_t)nc + 1, sizeof *row);
    for (uint32_t i = 0; i < nc; i++) {
        for (uint32_t j = 0; j < nc; j++)
            row[j] = with[i] > 0 ? (float)both[(size_t)i * nc + j] / (float)with[i] : 0;
        uint32_t got = hm_select_top(ids, row, nc, k, m->nbr + (size_t)i * k, m->nbr_p + (size_t)i * k);
        for (uint32_t t = got; t < k; t++)
            m->nbr_p[(size_t)i * k + t] = 0;
    }
    free(row);
    free(ids);
    free(both);
    free(with);
    free(cells);
    free(seen);
}

static int seg_init(const struct recall_engine *e, int s, void **state)
{
    const struct seg_params *p = recall_params_of(&e->p, s);
    const struct data_articles *art = &e->ds->articles;
    uint32_t na = art->n;
    struct seg_state *m = hm_xcalloc(1, sizeof *m);
    m->cell = hm_xmalloc_array((size_t)na + 1, sizeof *m->cell);
    uint32_t n_cells = recall_cells(art, m->cell);
    for (int d = 0; d < SEG_ATTRS; d++)
        m->attr[d] = hm_xmalloc((size_t)na + 1);
    m->n_values[0] = recall_capped_ids(art->num[IO_ART_PERCEIVED_COLOUR_MASTER_ID], na, m->attr[0]);
    m->n_values[1] = recall_capped_ids(art->num[IO_ART_GRAPHICAL_APPEARANCE_NO], na, m->attr[1]);
    recall_price_levels(e->ds, e->start, e->cutoff, m->cell, n_cells, (uint32_t)p->levels, m->attr[2]);
    m->n_values[2] = (uint32_t)p->levels + 1;
    /* the listed articles (kept, selling now) and the shop's shares of current popularity */
    double *pop = current_pop(e, p);
    double total = 0, by_value[SEG_ATTRS][SEG_VALUES];
    memset(by_value, 0, sizeof by_value);
    uint64_t *keys = hm_xmalloc_array((size_t)na + 1, sizeof *keys);
    uint32_t n = 0;
    for (uint32_t a = 0; a < na; a++)
        if (e->keep[a] && pop[a] > 0) {
            total += pop[a];
            for (int d = 0; d < SEG_ATTRS; d++)
                by_value[d][m->attr[d][a]] += pop[a];
            keys[n++] = a;
        }
    for (int d = 0; d < SEG_ATTRS; d++)
        for (uint32_t v = 0; v < SEG_VALUES; v++)
            m->share[d][v] = total > 0 ? (float)(by_value[d][v] / total) : 0;
    /* order: by segment (cell, colour, pattern, level), then popularity descending, then
     * article: a two-key sort through the popularity rank */
    uint32_t *by_pop = hm_xmalloc_array((size_t)n + 1, sizeof *by_pop);
    float *pf = hm_xmalloc_array((size_t)n + 1, sizeof *pf), *tmp = hm_xmalloc_array((size_t)n + 1, sizeof *tmp);
    uint32_t *ids = hm_xmalloc_array((size_t)n + 1, sizeof *ids);
    for (uint32_t x = 0; x < n; x++) {
        ids[x] = (uint32_t)keys[x];
        pf[x] = (float)pop[ids[x]];
    }
    hm_select_top(ids, pf, n, n, by_pop, tmp); /* best first, ties: lower article */
    uint32_t *seg_id = hm_xmalloc_array((size_t)n + 1, sizeof *seg_id);
    for (uint32_t r = 0; r < n; r++) {
        uint32_t a = by_pop[r];
        keys[r] = (uint64_t)m->cell[a] << 24 | (uint64_t)m->attr[0][a] << 16 | (uint64_t)m->attr[1][a] << 8 |
                  m->attr[2][a];
    }
    recall_dense_u64(keys, n, seg_id); /* segments of a cell are consecutive ids */
    for (uint32_t r = 0; r < n; r++)
        keys[r] = (uint64_t)seg_id[r] << 32 | r;
    free(seg_id);
    hm_sort_u64(keys, n);
    /* segments, at most per_segment articles each */
    m->cell_off = hm_xcalloc((size_t)n_cells + 1, sizeof *m->cell_off);
    m->seg = hm_xmalloc_array((size_t)n + 1, sizeof *m->seg);
    m->item = hm_xmalloc_array((size_t)n + 1, sizeof *m->item);
    m->pop = hm_xmalloc_array((size_t)n + 1, sizeof *m->pop);
    uint32_t ns = 0, o = 0;
    for (uint32_t x = 0; x < n;) {
        uint64_t seg = keys[x] >> 32;
        uint32_t y = x;
        struct seg_segment *g = &m->seg[ns++];
        g->begin = o;
        double sp = 0;
        for (; y < n && keys[y] >> 32 == seg; y++) {
            uint32_t a = by_pop[(uint32_t)keys[y]];
            sp += pop[a];
            if (y - x < (uint32_t)p->per_segment) {
                m->item[o] = a;
                m->pop[o++] = (float)pop[a];
            }
        }
        g->end = o;
        g->pop = (float)sp;
        uint32_t a0 = m->item[g->begin];
        double marg = 1;
        for (int d = 0; d < SEG_ATTRS; d++) {
            g->v[d] = m->attr[d][a0];
            marg *= m->share[d][g->v[d]];
        }
        g->prior = (float)(pow(sp, p->alpha) * pow(marg, 1 - p->alpha));
        m->cell_off[m->cell[a0] + 1]++;
        x = y;
    }
    for (uint32_t c = 0; c < n_cells; c++)
        m->cell_off[c + 1] += m->cell_off[c];
    m->n_cells = n_cells;
    if (p->expand > 0 && n_cells <= SEG_EXPAND_MAX_CELLS)
        cell_neighbours(e, p, m);
    free(ids);
    free(pf);
    free(tmp);
    free(by_pop);
    free(keys);
    free(pop);
    *state = m;
    return 0;
}

/* A segment's unnormalised P(segment | cell) for one customer: prior x lifts. */
static double seg_weight(const struct recall_engine *e, struct recall_scratch *sc, uint32_t c,
                         const struct seg_state *m, const struct seg_params *p, const struct recall_style *st,
                         const struct seg_segment *sg, float wv[SEG_ATTRS][SEG_VALUES])
{
    double v = sg->prior * wv[0][sg->v[0]] * wv[1][sg->v[1]] * wv[2][sg->v[2]];
    if (st)
        v *= recall_scratch_lift(e, sc, c, st->pair[m->item[sg->begin]], p->w_style);
    return v;
}

static uint32_t seg_user(const struct recall_engine *e, int strat, struct recall_scratch *sc, uint32_t c,
                         uint32_t *items, float *scores)
{
    const struct seg_params *p = recall_params_of(&e->p, strat);
    const struct seg_state *m = e->state[strat];
    uint64_t lo, hi;
    const struct data_transactions *tx = prep_customer_rows(e->ds, c, e->start, e->cutoff - 1, &lo, &hi);
    if (hi <= lo)
        return 0;
    /* the customer's weights per cell (a short list) and per attribute value */
    float wv[SEG_ATTRS][SEG_VALUES];
    for (int d = 0; d < SEG_ATTRS; d++)
        memset(wv[d], 0, m->n_values[d] * sizeof(float));
    uint32_t *cells = sc->tmp_items, nc = 0;
    float *cw = sc->tmp_scores, total = 0;
    for (uint64_t r = lo; r < hi; r++) {
        uint32_t a = tx->article[r], k = m->cell[a];
        float w = (float)exp(-(double)(e->cutoff - 1 - tx->day[r]) / p->tau);
        total += w;
        for (int d = 0; d < SEG_ATTRS; d++)
            wv[d][m->attr[d][a]] += w;
        sc->mark[a] = 1;
        uint32_t x = recall_cell_slot(cells, cw, &nc, sc->tmp_cap, k);
        if (x != UINT32_MAX)
            cw[x] += w;
    }
    if (p->expand > 0 && m->nbr) {
        /* the cells their cells' buyers buy, weighted by P(j | i) and the weight of i */
        uint32_t k = (uint32_t)p->expand_cells, seen = nc;
        for (uint32_t i = 0; i < seen; i++)
            for (uint32_t t = 0; t < k; t++) {
                float pj = m->nbr_p[(size_t)cells[i] * k + t];
                if (!(pj > 0))
                    break;
                uint32_t x = recall_cell_slot(cells, cw, &nc, sc->tmp_cap, m->nbr[(size_t)cells[i] * k + t]);
                if (x != UINT32_MAX && x >= seen) /* not one of their own cells */
                    cw[x] += (float)p->expand * cw[i] / total * pj;
            }
    }
    const struct recall_style *st = p->w_style > 0 && e->style.k ? &e->style : NULL;
    uint32_t n = 0;
    if (total > 0) {
        /* lifts raised to their exponents */
        const double ex[SEG_ATTRS] = {p->w_colour, p->w_pattern, p->w_price};
        for (int d = 0; d < SEG_ATTRS; d++)
            for (uint32_t v = 0; v < m->n_values[d]; v++) {
                double g = m->share[d][v];
                wv[d][v] = recall_lift(wv[d][v], total, g, p->kappa, ex[d]);
            }
        uint32_t top_c[64];
        float top_w[64];
        uint32_t nt = hm_select_top(cells, cw, nc, (uint32_t)p->cells, top_c, top_w);
        for (uint32_t t = 0; t < nt; t++) {
            uint32_t k = top_c[t];
            /* P(segment | cell) = prior x lifts / the cell's sum; P(article | segment) = its
             * share of the segment's popularity */
            /* (the segments' weights are kept in the scratch, free once the cells are chosen) */
            uint32_t g0 = m->cell_off[k], ng = m->cell_off[k + 1] - g0;
            float *gw = ng <= sc->tmp_cap ? sc->tmp_scores : NULL;
            double z = 0;
            for (uint32_t g = 0; g < ng; g++) {
                double v = seg_weight(e, sc, c, m, p, st, &m->seg[g0 + g], wv);
                z += v;
                if (gw)
                    gw[g] = (float)v;
            }
            if (!(z > 0))
                continue;
            double pk = top_w[t] / total / z;
            for (uint32_t g = m->cell_off[k]; g < m->cell_off[k + 1]; g++) {
                const struct seg_segment *sg = &m->seg[g];
                double v = gw ? gw[g - g0] : seg_weight(e, sc, c, m, p, st, sg, wv);
                float f = (float)(pk * v / sg->pop);
                for (uint32_t x = sg->begin; x < sg->end; x++)
                    if (!sc->mark[m->item[x]])
                        hm_acc_add(&sc->items, m->item[x], f * m->pop[x]);
            }
        }
        n = hm_acc_top(&sc->items, (uint32_t)p->list.n, items, scores, NULL);
    }
    for (uint64_t r = lo; r < hi; r++)
        sc->mark[tx->article[r]] = 0;
    return n;
}

const struct recall_strategy recall_segment = {
    .name = "segment",
    .help = "current best sellers of the customer's cells, weighted by their colour, pattern and price lifts",
    .settings = seg_settings,
    .n_settings = sizeof seg_settings / sizeof seg_settings[0],
    .params_size = sizeof(struct seg_params),
    .needs = RECALL_NEEDS_STYLE,
    .init = seg_init,
    .release = seg_release,
    .user = seg_user,
};
