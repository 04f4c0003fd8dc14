/* Stage 2 settings and the engine: the per-cutoff state every strategy reads. */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

const char *const recall_strategy_name[RECALL_NSTRATEGIES] = {"repurchase", "popular", "copurchase",
                                                              "userknn", "category", "text"};

#define P(f) offsetof(struct recall_params, f)
const struct hm_setting recall_settings[] = {
    {"recall.pool", HM_SET_INT, P(pool), "150", 1, 10000, 0, "candidates per customer after the merge"},
    {"recall.merge_k", HM_SET_DOUBLE, P(merge_k), "20", 0, 1e6, 0,
     "reciprocal rank fusion constant: merged score = sum of weight / (merge_k + rank)"},
    {"recall.window_weeks", HM_SET_INT, P(window_weeks), "26", 1, 520, 0,
     "weeks before the cutoff indexed for co-purchase and user-KNN"},
    {"recall.window_items", HM_SET_INT, P(window_items), "50", 1, 10000, 0,
     "most recent distinct items per customer in that index"},
    {"recall.query_items", HM_SET_INT, P(query_items), "30", 1, 10000, 0,
     "best history items of a customer that seed co-purchase and user-KNN"},
    {"recall.tau", HM_SET_DOUBLE, P(tau), "60", 0.01, 1e6, 0,
     "recency time constant (days) of a customer's history: each row weighs exp(-age / tau)"},
    {"recall.rep_n", HM_SET_INT, P(rep_n), "40", 0, 255, 0, "repurchase: candidates per customer"},
    {"recall.rep_w", HM_SET_DOUBLE, P(rep_w), "1.5", 0, 1e6, 0, "repurchase: merge weight"},
    {"recall.pop_n", HM_SET_INT, P(pop_n), "60", 0, 255, 0, "popularity: candidates (the same for everyone)"},
    {"recall.pop_days", HM_SET_INT, P(pop_days), "7", 1, 3650, 0, "popularity: days of sales counted"},
    {"recall.pop_trend_periods", HM_SET_INT, P(pop_trend_periods), "3", 0, 100, 0,
     "popularity: earlier periods of pop_days the trend compares the last one with"},
    {"recall.pop_w_volume", HM_SET_DOUBLE, P(pop_w_volume), "1", 0, 1e6, 0, "popularity: weight of sales volume"},
    {"recall.pop_w_buyers", HM_SET_DOUBLE, P(pop_w_buyers), "1", 0, 1e6, 0, "popularity: weight of unique buyers"},
    {"recall.pop_w_trend", HM_SET_DOUBLE, P(pop_w_trend), "0.5", 0, 1e6, 0, "popularity: weight of the trend"},
    {"recall.pop_w", HM_SET_DOUBLE, P(pop_w), "1", 0, 1e6, 0, "popularity: merge weight"},
    {"recall.co_n", HM_SET_INT, P(co_n), "60", 0, 255, 0, "co-purchase: candidates per customer"},
    {"recall.co_neighbours", HM_SET_INT, P(co_neighbours), "30", 1, 255, 0,
     "co-purchase: most similar items kept per item"},
    {"recall.co_w", HM_SET_DOUBLE, P(co_w), "1.5", 0, 1e6, 0, "co-purchase: merge weight"},
    {"recall.knn_n", HM_SET_INT, P(knn_n), "40", 0, 255, 0, "user-KNN: candidates per customer"},
    {"recall.knn_neighbours", HM_SET_INT, P(knn_neighbours), "40", 1, 1000, 0,
     "user-KNN: similar customers kept"},
    {"recall.knn_fanout", HM_SET_INT, P(knn_fanout), "64", 1, 100000, 0,
     "user-KNN: recent buyers visited per query item"},
    {"recall.knn_w", HM_SET_DOUBLE, P(knn_w), "1", 0, 1e6, 0, "user-KNN: merge weight"},
    {"recall.cat_n", HM_SET_INT, P(cat_n), "40", 0, 255, 0, "category: candidates per customer"},
    {"recall.cat_weeks", HM_SET_INT, P(cat_weeks), "4", 1, 520, 0,
     "category: weeks of (decayed) sales that rank items within a category"},
    {"recall.cat_values", HM_SET_INT, P(cat_values), "3", 1, 64, 0,
     "category: preferred values per attribute"},
    {"recall.cat_items", HM_SET_INT, P(cat_items), "40", 1, 10000, 0,
     "category: most popular items per attribute value"},
    {"recall.cat_w_type", HM_SET_DOUBLE, P(cat_w_type), "1", 0, 1e6, 0, "category: weight of product type"},
    {"recall.cat_w_department", HM_SET_DOUBLE, P(cat_w_department), "1", 0, 1e6, 0,
     "category: weight of department"},
    {"recall.cat_w_section", HM_SET_DOUBLE, P(cat_w_section), "0.5", 0, 1e6, 0, "category: weight of section"},
    {"recall.cat_w_colour", HM_SET_DOUBLE, P(cat_w_colour), "0.5", 0, 1e6, 0,
     "category: weight of colour group"},
    {"recall.cat_w_garment", HM_SET_DOUBLE, P(cat_w_garment), "0.5", 0, 1e6, 0,
     "category: weight of garment group"},
    {"recall.cat_w", HM_SET_DOUBLE, P(cat_w), "1", 0, 1e6, 0, "category: merge weight"},
    {"recall.text_n", HM_SET_INT, P(text_n), "30", 0, 255, 0, "text similarity: candidates per customer"},
    {"recall.text_dim", HM_SET_INT, P(text_dim), "64", 2, 1024, 0,
     "text similarity: SVD components of the TF-IDF article embeddings"},
    {"recall.text_items", HM_SET_INT, P(text_items), "10000", 1, 1e9, 0,
     "text similarity: most popular kept items searched"},
    {"recall.text_weeks", HM_SET_INT, P(text_weeks), "4", 1, 520, 0,
     "text similarity: weeks of (decayed) sales that choose the searched items"},
    {"recall.text_w", HM_SET_DOUBLE, P(text_w), "0.5", 0, 1e6, 0, "text similarity: merge weight"},
};
#undef P
const size_t recall_n_settings = sizeof recall_settings / sizeof recall_settings[0];

void recall_params_lists(const struct recall_params *p, uint32_t n[RECALL_NSTRATEGIES],
                         double w[RECALL_NSTRATEGIES])
{
    n[RECALL_S_REPURCHASE] = (uint32_t)p->rep_n;
    n[RECALL_S_POPULAR] = (uint32_t)p->pop_n;
    n[RECALL_S_COPURCHASE] = (uint32_t)p->co_n;
    n[RECALL_S_USERKNN] = (uint32_t)p->knn_n;
    n[RECALL_S_CATEGORY] = (uint32_t)p->cat_n;
    n[RECALL_S_TEXT] = (uint32_t)p->text_n;
    w[RECALL_S_REPURCHASE] = p->rep_w;
    w[RECALL_S_POPULAR] = p->pop_w;
    w[RECALL_S_COPURCHASE] = p->co_w;
    w[RECALL_S_USERKNN] = p->knn_w;
    w[RECALL_S_CATEGORY] = p->cat_w;
    w[RECALL_S_TEXT] = p->text_w;
}

int recall_engine_init(struct recall_engine *e, const struct data_set *ds, const struct recall_params *p,
                       int32_t start, int32_t cutoff, const uint8_t *keep)
{
    memset(e, 0, sizeof *e);
    e->ds = ds;
    e->p = *p;
    e->start = start;
    e->cutoff = cutoff;
    e->keep = keep;
    int64_t t0 = hm_now_ns();
    int rc = recall_popular_init(&e->pop, e);
    e->seconds_init[RECALL_S_POPULAR] = hm_seconds_since(t0);
    t0 = hm_now_ns();
    if (!rc && (p->co_n > 0 || p->knn_n > 0)) {
        rc = recall_window_init(&e->win, e);
        double sw = hm_seconds_since(t0);
        hm_debug("recall: window index in %.2fs (%llu entries)", sw,
                 (unsigned long long)e->win.uoff[ds->customers.n]);
        e->seconds_init[RECALL_S_USERKNN] = sw;
        t0 = hm_now_ns();
        if (!rc && p->co_n > 0)
            rc = recall_copurchase_init(&e->co, e);
        e->seconds_init[RECALL_S_COPURCHASE] = hm_seconds_since(t0);
    }
    t0 = hm_now_ns();
    if (!rc && p->cat_n > 0)
        rc = recall_category_init(&e->cat, e);
    e->seconds_init[RECALL_S_CATEGORY] = hm_seconds_since(t0);
    t0 = hm_now_ns();
    if (!rc && p->text_n > 0)
        rc = recall_text_init(&e->text, e);
    e->seconds_init[RECALL_S_TEXT] = hm_seconds_since(t0);
    if (rc)
        recall_engine_release(e);
    return rc;
}

void recall_engine_release(struct recall_engine *e)
{
    recall_popular_release(&e->pop);
    recall_window_release(&e->win);
    recall_copurchase_release(&e->co);
    recall_category_release(&e->cat);
    recall_text_release(&e->text);
}

void recall_scratch_init(struct recall_scratch *s, const struct recall_engine *e)
{
    memset(s, 0, sizeof *s);
    recall_hist_init(&s->hist);
    hm_acc_init(&s->items, e->ds->articles.n);
    hm_acc_init(&s->users, e->p.knn_n > 0 ? e->ds->customers.n : 0);
    s->mark = hm_xcalloc((size_t)e->ds->articles.n + 1, 1);
    s->tmp_cap = 4096;
    s->tmp_items = hm_xmalloc_array(s->tmp_cap, sizeof *s->tmp_items);
    s->tmp_scores = hm_xmalloc_array(s->tmp_cap, sizeof *s->tmp_scores);
}

void recall_scratch_release(struct recall_scratch *s)
{
    recall_hist_release(&s->hist);
    hm_acc_release(&s->items);
    hm_acc_release(&s->users);
    free(s->mark);
    free(s->tmp_items);
    free(s->tmp_scores);
    memset(s, 0, sizeof *s);
}
