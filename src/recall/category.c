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

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Dense ids of the attribute's distinct values (in value order). */
static uint32_t dense_values(const int32_t *col, uint32_t na, uint32_t *out)
{
    int64_t *keys = hm_xmalloc_array((size_t)na + 1, sizeof *keys);
    for (uint32_t a = 0; a < na; a++)
        keys[a] = (int64_t)col[a] << 32 | a;
    qsort(keys, na, sizeof *keys, cmp_i64);
    uint32_t nv = 0;
    for (uint32_t i = 0; i < na; i++) {
        if (i && (keys[i] >> 32) != (keys[i - 1] >> 32))
            nv++;
        out[(uint32_t)keys[i]] = nv;
    }
    free(keys);
    return na ? nv + 1 : 0;
}

int recall_category_init(struct recall_category *m, const struct recall_engine *e)
{
    memset(m, 0, sizeof *m);
    const struct recall_params *p = &e->p;
    const struct data_articles *art = &e->ds->articles;
    uint32_t na = art->n;
    const int attrs[RECALL_CAT_DIMS] = {IO_ART_PRODUCT_TYPE_NO, IO_ART_DEPARTMENT_NO, IO_ART_SECTION_NO,
                                       IO_ART_COLOUR_GROUP_CODE, IO_ART_GARMENT_GROUP_NO};
    const double ws[RECALL_CAT_DIMS] = {p->cat_w_type, p->cat_w_department, p->cat_w_section,
                                        p->cat_w_colour, p->cat_w_garment};
    double *pop = hm_xcalloc((size_t)na + 1, sizeof *pop);
    int32_t s = e->cutoff - 7 * (int32_t)p->cat_weeks;
    recall_article_counts(e->ds, s > e->start ? s : e->start, e->cutoff, 7.0 * (double)p->cat_weeks / 2,
                          pop, NULL);
    double max = 0;
    for (uint32_t a = 0; a < na; a++)
        if (e->keep[a] && pop[a] > max)
            max = pop[a];
    uint32_t k = (uint32_t)p->cat_items;
    for (int d = 0; d < RECALL_CAT_DIMS; d++) {
        if (ws[d] <= 0 || !art->num[attrs[d]])
            continue;
        int x = m->n_dims++;
        m->attr[x] = attrs[d];
        m->weight[x] = (float)ws[d];
        m->value[x] = hm_xmalloc_array((size_t)na + 1, sizeof(uint32_t));
        uint32_t nv = m->n_values[x] = dense_values(art->num[attrs[d]], na, m->value[x]);
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
    return 0;
}

void recall_category_release(struct recall_category *m)
{
    for (int d = 0; d < m->n_dims; d++) {
        free(m->value[d]);
        free(m->off[d]);
        free(m->items[d]);
        free(m->pop[d]);
    }
    memset(m, 0, sizeof *m);
}

uint32_t recall_category_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                              uint32_t *items, float *scores)
{
    (void)c;
    const struct recall_hist *h = &s->hist;
    const struct recall_category *m = &e->cat;
    if (!h->n)
        return 0;
    uint32_t nv = (uint32_t)e->p.cat_values;
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
    return hm_acc_top(&s->items, (uint32_t)e->p.cat_n, items, scores, NULL);
}
