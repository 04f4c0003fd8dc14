/* New arrivals: articles the shop is launching, which have hardly sold yet, proposed within
 * the customer's own cells, colours and patterns.
 *
 * The catalogue (articles.csv) lists an article before it sells much, and product codes grow
 * with launches. The launch frontier is the `new_quantile` quantile of the product codes of
 * the articles whose first sale fell within the last `new_days` days (what the shop launched
 * lately); the launch pace is how far the median code of a week's first sales moved from the
 * week before to the last week, and codes more than `new_ahead` paces above last week's
 * median are launches of weeks to come. A new arrival is an article between the two that
 * has fewer rows than the universe asks for (outside prepare.min_item_purchases; without a
 * universe, no row at all) or at most `new_recent` rows in the last week (a few early sales).
 * A customer reads as a nested choice, as for segment popularity:
 *     score(a) = p(k) * L_colour(a)^w_colour * L_pattern(a)^w_pattern * S(a)^w_style
 *                * launch / (pop(k) + launch)
 *     p(k)     = the share of cell k (product type x index group) in the customer's history
 *                (their history items weighted by recency x frequency, recall.tau)
 *     L(v)     = [(W_v + kappa g_v) / (W + kappa)] / g_v, the customer's lift of value v over
 *                the shop's share g_v of current sales (kappa shrinks short histories)
 *     S(a)     = the customer's style lift of the article's colour x pattern pair (style.c)
 *     pop(k)   = current popularity of the cell (rows of the last new_days days, decayed by
 *                a week); launch = the median current popularity of the articles whose first
 *                sale fell within the last week: the share a launch takes of its cell.
 * The customer's best `new_cells` cells are searched; the articles they bought are not
 * proposed. */
#include "recall/recall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct new_params {
    struct recall_list_params list;
    long days;          /* days behind the frontier and current popularity (14) */
    double quantile;    /* quantile of recent launches' product codes that is the frontier (0.85) */
    long cells;         /* the customer's best cells searched (20) */
    double kappa;       /* prior weight of the shop's shares in a customer's (3) */
    double w_colour, w_pattern; /* exponents of the lifts (0.25, 0) */
    double w_style;             /* exponent of the style lift (recall.style_*) */
    long recent;                /* most rows in the last week of a new arrival in the universe (10; -1: none) */
    double ahead;               /* weeks of launches above last week's that still count (2; 0: no bound) */
};
_Static_assert(sizeof(struct new_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct new_params, f)
static const struct hm_setting new_settings[] = {
    {"recall.new_n", HM_SET_INT, P(list.n), "20", 0, 255, 0,
     "new arrivals: candidates per customer (launches that have hardly sold yet)"},
    {"recall.new_days", HM_SET_INT, P(days), "14", 1, 3650, 0,
     "new arrivals: days of first sales that place the launch frontier, and of current popularity"},
    {"recall.new_quantile", HM_SET_DOUBLE, P(quantile), "0.85", 0, 1, 0,
     "new arrivals: the frontier is this quantile of the product codes first sold in those days"},
    {"recall.new_cells", HM_SET_INT, P(cells), "20", 1, 64, 0,
     "new arrivals: the customer's best cells (product type x index group) searched"},
    {"recall.new_kappa", HM_SET_DOUBLE, P(kappa), "3", 0, 1e6, 0,
     "new arrivals: prior weight of the shop's shares in a customer's colour and pattern shares"},
    {"recall.new_w_colour", HM_SET_DOUBLE, P(w_colour), "0.25", 0, 10, 0,
     "new arrivals: exponent of the colour lift"},
    {"recall.new_w_pattern", HM_SET_DOUBLE, P(w_pattern), "0", 0, 10, 0,
     "new arrivals: exponent of the pattern (graphical appearance) lift"},
    {"recall.new_w_style", HM_SET_DOUBLE, P(w_style), "1", 0, 10, 0,
     "new arrivals: exponent of the style lift (recall.style_*; 0: off)"},
    {"recall.new_recent", HM_SET_INT, P(recent), "10", -1, 1000000, 0,
     "new arrivals: an article in the universe at or above the frontier with at most this many rows in the last week is one too (-1: none)"},
    {"recall.new_ahead", HM_SET_DOUBLE, P(ahead), "2", 0, 1000, 0,
     "new arrivals: product codes at most this many weeks' launch pace above the median code first sold last week (0: no bound)"},
    {"recall.new_w", HM_SET_DOUBLE, P(list.w), "0.85", 0, 1e6, 0, "new arrivals: merge weight"},
};
#undef P

#define NEW_ATTRS 2       /* colour, pattern */

struct new_state {
    uint32_t *cell;               /* (n_articles) dense cell id */
    uint8_t *attr[NEW_ATTRS];     /* (n_articles) value id of each attribute */
    uint32_t n_values[NEW_ATTRS];
    float share[NEW_ATTRS][RECALL_CAPPED_VALUES]; /* the shop's share of current popularity */
    struct recall_groups g;       /* the new arrivals of each cell */
    float *take;                  /* (n_cells) launch / (pop(cell) + launch) */
};

static void new_release(void *state)
{
    struct new_state *m = state;
    if (!m)
        return;
    free(m->cell);
    for (int d = 0; d < NEW_ATTRS; d++)
        free(m->attr[d]);
    recall_groups_release(&m->g);
    free(m->take);
    free(m);
}

/* Product codes as keys that hm_sort_u64 orders like the codes. */
static uint64_t code_key(int32_t code) { return (uint64_t)((int64_t)code - INT32_MIN); }
static int64_t key_code(uint64_t key) { return (int64_t)key + INT32_MIN; }

/* The new arrivals (out: n_articles, 1 for each) and the median current popularity of the
 * articles first sold within the last week. Needs product codes. last7: each article's rows
 * in the last week. */
static void find_new(const struct recall_engine *e, const struct new_params *p, const double *pop,
                     const double *last7, uint8_t *out, double *launch)
{
    uint32_t na = e->ds->articles.n;
    const int32_t *code = e->ds->articles.num[IO_ART_PRODUCT_CODE];
    int32_t *first = hm_xmalloc_array((size_t)na + 1, sizeof *first);
    recall_article_first_sale(e->ds, e->start, e->cutoff, first);
    /* codes first sold within the last `days` days (the frontier), in the last week and in
     * the week before (the launch pace); popularity (>= 0) sorts like its bits */
    uint64_t *recent = hm_xmalloc_array((size_t)na + 1, sizeof *recent);
    uint64_t *week[2] = {hm_xmalloc_array((size_t)na + 1, sizeof(uint64_t)),
                         hm_xmalloc_array((size_t)na + 1, sizeof(uint64_t))};
    uint64_t *lp = hm_xmalloc_array((size_t)na + 1, sizeof *lp);
    uint32_t nr = 0, nw[2] = {0, 0};
    for (uint32_t a = 0; a < na; a++) {
        if (first[a] == INT32_MAX)
            continue;
        if (first[a] >= e->cutoff - (int32_t)p->days)
            recent[nr++] = code_key(code[a]);
        if (first[a] >= e->cutoff - 7) {
            week[1][nw[1]] = code_key(code[a]);
            memcpy(&lp[nw[1]++], &pop[a], sizeof *lp);
        } else if (first[a] >= e->cutoff - 14)
            week[0][nw[0]++] = code_key(code[a]);
    }
    /* the upper bound: the median code first sold last week plus `ahead` times how far that
     * median moved in a week (codes far above it are launches of weeks to come) */
    int64_t upper = INT64_MAX;
    if (p->ahead > 0 && nw[0] > 0 && nw[1] > 0) {
        int64_t med[2];
        for (int w = 0; w < 2; w++) {
            hm_sort_u64(week[w], nw[w]);
            med[w] = key_code(week[w][nw[w] / 2]);
        }
        if (med[1] > med[0])
            upper = med[1] + (int64_t)(p->ahead * (double)(med[1] - med[0]));
    }
    memset(out, 0, (size_t)na);
    if (nr > 0) {
        hm_sort_u64(recent, nr);
        uint32_t q = (uint32_t)(p->quantile * (double)(nr - 1) + 0.5);
        int64_t frontier = key_code(recent[q < nr ? q : nr - 1]);
        for (uint32_t a = 0; a < na; a++) {
            if (code[a] < frontier || code[a] > upper)
                continue;
            int unlisted = e->keep ? !e->keep[a] : first[a] == INT32_MAX;
            out[a] = unlisted || (p->recent >= 0 && last7[a] <= (double)p->recent);
        }
    }
    *launch = 1;
    if (nw[1] > 0) {
        hm_sort_u64(lp, nw[1]);
        memcpy(launch, &lp[nw[1] / 2], sizeof *launch);
        if (!(*launch > 0))
            *launch = 1;
    }
    free(first);
    free(recent);
    free(week[0]);
    free(week[1]);
    free(lp);
}

static int new_init(const struct recall_engine *e, int s, void **state)
{
    const struct new_params *p = recall_params_of(&e->p, s);
    const struct data_articles *art = &e->ds->articles;
    uint32_t na = art->n;
    struct new_state *m = hm_xcalloc(1, sizeof *m);
    m->cell = hm_xmalloc_array((size_t)na + 1, sizeof *m->cell);
    uint32_t n_cells = recall_cells(art, m->cell);
    for (int d = 0; d < NEW_ATTRS; d++)
        m->attr[d] = hm_xmalloc((size_t)na + 1);
    m->n_values[0] = recall_capped_ids(art->num[IO_ART_PERCEIVED_COLOUR_MASTER_ID], na, m->attr[0]);
    m->n_values[1] = recall_capped_ids(art->num[IO_ART_GRAPHICAL_APPEARANCE_NO], na, m->attr[1]);
    /* current popularity: the shop's shares of each value, each cell's total */
    double *pop = hm_xcalloc((size_t)na + 1, sizeof *pop);
    int32_t from = e->cutoff - (int32_t)p->days;
    recall_article_counts(e->ds, from > e->start ? from : e->start, e->cutoff, 7, pop, NULL);
    double total = 0, by_value[NEW_ATTRS][RECALL_CAPPED_VALUES];
    memset(by_value, 0, sizeof by_value);
    double *cell_pop = hm_xcalloc((size_t)n_cells + 1, sizeof *cell_pop);
    for (uint32_t a = 0; a < na; a++)
        if (pop[a] > 0) {
            total += pop[a];
            cell_pop[m->cell[a]] += pop[a];
            for (int d = 0; d < NEW_ATTRS; d++)
                by_value[d][m->attr[d][a]] += pop[a];
        }
    for (int d = 0; d < NEW_ATTRS; d++)
        for (uint32_t v = 0; v < RECALL_CAPPED_VALUES; v++)
            m->share[d][v] = total > 0 ? (float)(by_value[d][v] / total) : 0;
    uint8_t *is_new = hm_xmalloc((size_t)na + 1);
    double launch = 1;
    double *last7 = hm_xcalloc((size_t)na + 1, sizeof *last7);
    int32_t w7 = e->cutoff - 7;
    recall_article_counts(e->ds, w7 > e->start ? w7 : e->start, e->cutoff, 0, last7, NULL);
    if (art->num[IO_ART_PRODUCT_CODE])
        find_new(e, p, pop, last7, is_new, &launch);
    else
        memset(is_new, 0, (size_t)na + 1); /* no product codes: no launch order */
    recall_groups_init(&m->g, m->cell, n_cells, na, is_new);
    m->take = hm_xmalloc_array((size_t)n_cells + 1, sizeof *m->take);
    for (uint32_t k = 0; k < n_cells; k++)
        m->take[k] = (float)(launch / (cell_pop[k] + launch));
    free(is_new);
    free(last7);
    free(cell_pop);
    free(pop);
    *state = m;
    return 0;
}

static uint32_t new_user(const struct recall_engine *e, int s, struct recall_scratch *sc, uint32_t c,
                         uint32_t *items, float *scores)
{
    const struct new_params *p = recall_params_of(&e->p, s);
    const struct new_state *m = e->state[s];
    const struct recall_hist *h = &sc->hist;
    if (h->n == 0 || m->g.off[m->g.n] == 0)
        return 0;
    /* the customer's weights per cell (a short list) and per attribute value */
    float wv[NEW_ATTRS][RECALL_CAPPED_VALUES];
    for (int d = 0; d < NEW_ATTRS; d++)
        memset(wv[d], 0, m->n_values[d] * sizeof(float));
    uint32_t *cells = sc->tmp_items, nc = 0;
    float *cw = sc->tmp_scores, total = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        uint32_t a = h->item[i], k = m->cell[a];
        float w = h->score[i];
        total += w;
        for (int d = 0; d < NEW_ATTRS; d++)
            wv[d][m->attr[d][a]] += w;
        sc->mark[a] = 1;
        uint32_t x = recall_cell_slot(cells, cw, &nc, sc->tmp_cap, k);
        if (x != UINT32_MAX)
            cw[x] += w;
    }
    const struct recall_style *st = p->w_style > 0 && e->style.k ? &e->style : NULL;
    uint32_t n = 0;
    if (total > 0) {
        const double ex[NEW_ATTRS] = {p->w_colour, p->w_pattern};
        for (int d = 0; d < NEW_ATTRS; d++)
            for (uint32_t v = 0; v < m->n_values[d]; v++) {
                double g = m->share[d][v];
                wv[d][v] = recall_lift(wv[d][v], total, g, p->kappa, ex[d]);
            }
        uint32_t top_c[64];
        float top_w[64];
        uint32_t nt = hm_select_top(cells, cw, nc, (uint32_t)p->cells, top_c, top_w);
        for (uint32_t t = 0; t < nt; t++) {
            uint32_t k = top_c[t];
            float pk = top_w[t] / total * m->take[k];
            for (uint32_t x = m->g.off[k]; x < m->g.off[k + 1]; x++) {
                uint32_t a = m->g.item[x];
                if (sc->mark[a])
                    continue;
                float v = pk * wv[0][m->attr[0][a]] * wv[1][m->attr[1][a]];
                if (st)
                    v *= recall_scratch_lift(e, sc, c, st->pair[a], p->w_style);
                hm_acc_add(&sc->items, a, v);
            }
        }
        n = hm_acc_top(&sc->items, (uint32_t)p->list.n, items, scores, NULL);
    }
    for (uint32_t i = 0; i < h->n; i++)
        sc->mark[h->item[i]] = 0;
    return n;
}

const struct recall_strategy recall_newarrivals = {
    .name = "new",
    .help = "the latest launches, which have hardly sold yet, in the customer's cells, colours and patterns",
    .settings = new_settings,
    .n_settings = sizeof new_settings / sizeof new_settings[0],
    .params_size = sizeof(struct new_params),
    .needs = RECALL_NEEDS_STYLE,
    .init = new_init,
    .release = new_release,
    .user = new_user,
};
