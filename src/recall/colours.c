/* Other colours: the other articles (colours) of the products the customer bought recently.
 * For each of the customer's best `query_items` history items h (score w_h, recency x
 * frequency), every other kept article a of h's product (product_code) scores
 *     w_h * (1 + pop(a) / max pop of the product's articles)
 * (pop: decayed sales of the last `col_weeks` weeks), so recent and frequent products come
 * first and, within a product, the colours that sell. The customer's own articles are not
 * proposed (repurchase has them). */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

struct col_params {
    struct recall_list_params list;
    long weeks;          /* weeks of (decayed) sales that rank the colours (4) */
};
_Static_assert(sizeof(struct col_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct col_params, f)
static const struct hm_setting col_settings[] = {
    {"recall.col_n", HM_SET_INT, P(list.n), "40", 0, 255, 0,
     "other colours: candidates per customer (other articles of their products)"},
    {"recall.col_weeks", HM_SET_INT, P(weeks), "4", 1, 520, 0,
     "other colours: weeks of (decayed) sales that rank a product's colours"},
    {"recall.col_w", HM_SET_DOUBLE, P(list.w), "0.44", 0, 1e6, 0, "other colours: merge weight"},
};
#undef P

struct col_state {
    uint32_t *product;        /* (n_articles) dense product id */
    struct recall_groups g;   /* kept articles of each product */
    float *rel;               /* (n_articles) 1 + pop / the product's max pop */
};

static void col_release(void *state)
{
    struct col_state *m = state;
    if (!m)
        return;
    free(m->product);
    recall_groups_release(&m->g);
    free(m->rel);
    free(m);
}

static int col_init(const struct recall_engine *e, int s, void **state)
{
    const struct col_params *p = recall_params_of(&e->p, s);
    const struct data_articles *art = &e->ds->articles;
    uint32_t na = art->n;
    struct col_state *m = hm_xcalloc(1, sizeof *m);
    m->product = hm_xmalloc_array((size_t)na + 1, sizeof *m->product);
    uint32_t np;
    if (art->num[IO_ART_PRODUCT_CODE])
        np = recall_dense_ids(art->num[IO_ART_PRODUCT_CODE], na, m->product);
    else { /* no product codes: every article is its own product */
        for (uint32_t a = 0; a < na; a++)
            m->product[a] = a;
        np = na;
    }
    recall_groups_init(&m->g, m->product, np, na, e->keep);
    double *pop = hm_xcalloc((size_t)na + 1, sizeof *pop);
    int32_t from = e->cutoff - 7 * (int32_t)p->weeks;
    recall_article_counts(e->ds, from > e->start ? from : e->start, e->cutoff, 7.0 * (double)p->weeks / 2, pop, NULL);
    m->rel = hm_xcalloc((size_t)na + 1, sizeof *m->rel);
    for (uint32_t v = 0; v < np; v++) {
        double max = 0;
        for (uint32_t x = m->g.off[v]; x < m->g.off[v + 1]; x++)
            if (pop[m->g.item[x]] > max)
                max = pop[m->g.item[x]];
        for (uint32_t x = m->g.off[v]; x < m->g.off[v + 1]; x++)
            m->rel[m->g.item[x]] = (float)(1.0 + (max > 0 ? pop[m->g.item[x]] / max : 0));
    }
    free(pop);
    *state = m;
    return 0;
}

static uint32_t col_user(const struct recall_engine *e, int s, struct recall_scratch *sc, uint32_t c,
                         uint32_t *items, float *scores)
{
    (void)c;
    const struct recall_hist *h = &sc->hist;
    const struct col_state *m = e->state[s];
    for (uint32_t i = 0; i < h->n; i++)
        sc->mark[h->item[i]] = 1;
    for (uint32_t i = 0; i < h->n && i < (uint32_t)e->p.query_items; i++) {
        uint32_t v = m->product[h->item[i]];
        for (uint32_t x = m->g.off[v]; x < m->g.off[v + 1]; x++) {
            uint32_t a = m->g.item[x];
            if (!sc->mark[a])
                hm_acc_add(&sc->items, a, h->score[i] * m->rel[a]);
        }
    }
    uint32_t n = hm_acc_top(&sc->items, (uint32_t)recall_list_of(&e->p, s)->n, items, scores, NULL);
    for (uint32_t i = 0; i < h->n; i++)
        sc->mark[h->item[i]] = 0;
    return n;
}

const struct recall_strategy recall_colours = {
    .name = "colours",
    .help = "other colours of the products the customer bought",
    .settings = col_settings,
    .n_settings = sizeof col_settings / sizeof col_settings[0],
    .params_size = sizeof(struct col_params),
    .init = col_init,
    .release = col_release,
    .user = col_user,
};
