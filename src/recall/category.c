/* Category: the customer's preferred values of a few article attributes (product type,
 * department, section, colour group, garment group), each combined with the popularity of
 * the items within that value. For attribute d with weight w_d, the customer's preference
 * pref_d(v) is the share of their history score (recency x frequency) on value v; for each
 * of their best `cat_values` values, the `cat_items` most popular items of v score
 *     w_d * pref_d(v) * pop(item)
 * summed over attributes (pop: decayed sales over `cat_weeks` weeks, scaled to max 1). */
#include "recall/recall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cat_params {
    struct recall_list_params list;
    long weeks;             /* weeks of decayed popularity within a category (4) */
    long values;            /* preferred values per attribute (3) */
    long items;             /* most popular items kept per attribute value (40) */
    double w_type, w_department, w_section, w_colour, w_garment; /* (1, 1, 0.5, 0.5, 0.5) */
};
_Static_assert(sizeof(struct cat_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct cat_params, f)
static const struct hm_setting cat_settings[] = {
    {"recall.cat_n", HM_SET_INT, P(list.n), "0", 0, 255, 0, "category: candidates per customer"},
    {"recall.cat_weeks", HM_SET_INT, P(weeks), "4", 1, 520, 0,
     "category: weeks of (decayed) sales that rank items within a category"},
    {"recall.cat_values", HM_SET_INT, P(values), "3", 1, 64, 0,
     "category: preferred values per attribute"},
    {"recall.cat_items", HM_SET_INT, P(items), "40", 1, 10000, 0,
     "category: most popular items per attribute value"},
    {"recall.cat_w_type", HM_SET_DOUBLE, P(w_type), "1", 0, 1e6, 0, "category: weight of product type"},
    {"recall.cat_w_department", HM_SET_DOUBLE, P(w_department), "1", 0, 1e6, 0,
     "category: weight of department"},
    {"recall.cat_w_section", HM_SET_DOUBLE, P(w_section), "0.5", 0, 1e6, 0, "category: weight of section"},
    {"recall.cat_w_colour", HM_SET_DOUBLE, P(w_colour), "0.5", 0, 1e6, 0,
     "category: weight of colour group"},
    {"recall.cat_w_garment", HM_SET_DOUBLE, P(w_garment), "0.5", 0, 1e6, 0,
     "category: weight of garment group"},
    {"recall.cat_w", HM_SET_DOUBLE, P(list.w), "0.25", 0, 1e6, 0, "category: merge weight"},
};
#undef P

#define CAT_DIMS 5
struct cat_state {
    int n_dims;
    int attr[CAT_DIMS];            /* enum io_art_col of each used dimension */
    float weight[CAT_DIMS];
    uint32_t *value[CAT_DIMS];     /* (n_articles) dense value id of each article */
    uint32_t n_values[CAT_DIMS];
    uint64_t *off[CAT_DIMS];       /* (n_values + 1) into items/pop */
    uint32_t *items[CAT_DIMS];     /* most popular kept items per value, best first */
    float *pop[CAT_DIMS];          /* their popularity, scaled to max 1 */
};

static void cat_release(void *state)
{
    struct cat_state *m = state;
    if (!m)
        return;
    for (int d = 0; d < m->n_dims; d++) {
        free(m->value[d]);
        free(m->off[d]);
        free(m->items[d]);
        free(m->pop[d]);
    }
    free(m);
}

static int cat_init(const struct recall_engine *e, int s, void **state)
{
    struct cat_state *m = hm_xcalloc(1, sizeof *m);
    const struct cat_params *p = recall_params_of(&e->p, s);
    const struct data_articles *art = &e->ds->articles;
    uint32_t na = art->n;
    const int attrs[CAT_DIMS] = {IO_ART_PRODUCT_TYPE_NO, IO_ART_DEPARTMENT_NO, IO_ART_SECTION_NO,
                                       IO_ART_COLOUR_GROUP_CODE, IO_ART_GARMENT_GROUP_NO};
    const double ws[CAT_DIMS] = {p->w_type, p->w_department, p->w_section, p->w_colour, p->w_garment};
    double *pop = hm_xcalloc((size_t)na + 1, sizeof *pop);
    int32_t from = e->cutoff - 7 * (int32_t)p->weeks;
    recall_article_counts(e->ds, from > e->start ? from : e->start, e->cutoff, 7.0 * (double)p->weeks / 2,
                          pop, NULL);
    double max = 0;
    for (uint32_t a = 0; a < na; a++)
        if (e->keep[a] && pop[a] > max)
            max = pop[a];
    uint32_t k = (uint32_t)p->items;
    for (int d = 0; d < CAT_DIMS; d++) {
        if (ws[d] <= 0 || !art->num[attrs[d]])
            continue;
        int x = m->n_dims++;
        m->attr[x] = attrs[d];
        m->weight[x] = (float)ws[d];
        m->value[x] = hm_xmalloc_array((size_t)na + 1, sizeof(uint32_t));
        uint32_t nv = m->n_values[x] = recall_dense_ids(art->num[attrs[d]], na, m->value[x]);
        /* the k most popular kept items of each value */
        struct hm_hit *hits = hm_xmalloc_array((size_t)nv * k + 1, sizeof *hits);
        struct hm_topk *top = hm_xmalloc_array((size_t)nv + 1, sizeof *top);
        uint32_t *cnt = hm_xcalloc((size_t)nv + 1, sizeof *cnt);
        for (uint32_t v = 0; v < nv; v++)
            hm_topk_init(&top[v], hits + (size_t)v * k, k);
        for (uint32_t a = 0; a < na; a++)
            if (e->keep[a] && pop[a] > 0)
                hm_topk_push(&top[m->value[x][a]], (float)(pop[a] / max), a);
        for (uint32_t v = 0; v < nv; v++)
            cnt[v] = hm_topk_sort(&top[v]);
        m->off[x] = hm_xmalloc_array((size_t)nv + 1, sizeof(uint64_t));
        uint64_t total = 0;
        for (uint32_t v = 0; v < nv; v++) {
            m->off[x][v] = total;
            total += cnt[v];
        }
        m->off[x][nv] = total;
        m->items[x] = hm_xmalloc_array(total + 1, sizeof(uint32_t));
        m->pop[x] = hm_xmalloc_array(total + 1, sizeof(float));
        for (uint32_t v = 0; v < nv; v++)
            for (uint32_t r = 0; r < cnt[v]; r++) {
                m->items[x][m->off[x][v] + r] = hits[(size_t)v * k + r].id;
                m->pop[x][m->off[x][v] + r] = hits[(size_t)v * k + r].score;
            }
        free(cnt);
        free(top);
        free(hits);
    }
    free(pop);
    *state = m;
    return 0;
}

static uint32_t cat_user(const struct recall_engine *e, int strat, struct recall_scratch *s, uint32_t c,
                         uint32_t *items, float *scores)
{
    (void)c;
    const struct cat_params *p = recall_params_of(&e->p, strat);
    const struct recall_hist *h = &s->hist;
    const struct cat_state *m = e->state[strat];
    if (!h->n)
        return 0;
    uint32_t nv = (uint32_t)p->values;
    float total = 0;
    for (uint32_t i = 0; i < h->n; i++)
        total += h->score[i];
    if (!(total > 0))
        return 0;
    for (int d = 0; d < m->n_dims; d++) {
        /* preference per value: sum of history scores (values gathered in s->users' slots
         * would be overkill: a customer's history names few values, so a small list) */
        uint32_t n = 0;
        uint32_t *val = s->tmp_items;
        float *pref = s->tmp_scores;
        for (uint32_t i = 0; i < h->n && n < s->tmp_cap; i++) {
            uint32_t v = m->value[d][h->item[i]], x = 0;
            while (x < n && val[x] != v)
                x++;
            if (x == n) {
                val[n] = v;
                pref[n++] = 0;
            }
            pref[x] += h->score[i];
        }
        uint32_t top_v[64];
        float top_p[64];
        uint32_t nt = hm_select_top(val, pref, n, nv < 64 ? nv : 64, top_v, top_p);
        for (uint32_t t = 0; t < nt; t++) {
            uint32_t v = top_v[t];
            float wgt = m->weight[d] * top_p[t] / total;
            for (uint64_t k = m->off[d][v]; k < m->off[d][v + 1]; k++)
                hm_acc_add(&s->items, m->items[d][k], wgt * m->pop[d][k]);
        }
    }
    return hm_acc_top(&s->items, (uint32_t)p->list.n, items, scores, NULL);
}

const struct recall_strategy recall_category = {
    .name = "category",
    .help = "popular items of the customer's preferred categories",
    .settings = cat_settings,
    .n_settings = sizeof cat_settings / sizeof cat_settings[0],
    .params_size = sizeof(struct cat_params),
    .init = cat_init,
    .release = cat_release,
    .user = cat_user,
};
