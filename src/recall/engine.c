/* Stage 2's strategy table, its settings and the engine: the per-cutoff state every
 * strategy reads. */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

extern const struct recall_strategy recall_repurchase, recall_popular, recall_copurchase,
    recall_userknn, recall_category, recall_text, recall_segment, recall_image, recall_basket, recall_colours, recall_ageband,
    recall_newarrivals;

/* The strategies, one line each, in the order of flags bits and artifact columns. */
const struct recall_strategy *const recall_strategies[] = {
    &recall_repurchase,
    &recall_popular,
    &recall_copurchase,
    &recall_userknn,
    &recall_category,
    &recall_text,
    &recall_segment,
    &recall_image,
    &recall_basket,
    &recall_colours,
    &recall_ageband,
    &recall_newarrivals,
};
const int recall_n_strategies = (int)(sizeof recall_strategies / sizeof recall_strategies[0]);
_Static_assert(sizeof recall_strategies / sizeof recall_strategies[0] <= RECALL_MAX_STRATEGIES,
               "at most RECALL_MAX_STRATEGIES strategies (flags are 16 bits)");

int recall_strategy_find(const char *name)
{
    for (int s = 0; s < recall_n_strategies; s++)
        if (!strcmp(recall_strategies[s]->name, name))
            return s;
    return -1;
}

/* ---- settings ----------------------------------------------------------------------------- */

#define P(f) offsetof(struct recall_params, f)
static const struct hm_setting common_settings[] = {
    {"recall.pool", HM_SET_INT, P(pool), "150", 1, 10000, 0, "candidates per customer after the merge"},
    {"recall.merge_k", HM_SET_DOUBLE, P(merge_k), "60", 0, 1e6, 0,
     "reciprocal rank fusion constant: merged score = sum of weight / (merge_k + rank)"},
    {"recall.merge_style", HM_SET_DOUBLE, P(merge_style), "0", 0, 10, 0,
     "exponent of the customer's style lift (recall.style_*) on the merged score (0: none)"},
    {"recall.window_weeks", HM_SET_INT, P(window_weeks), "26", 1, 520, 0,
     "weeks before the cutoff indexed for co-purchase and user-KNN"},
    {"recall.window_items", HM_SET_INT, P(window_items), "50", 1, 10000, 0,
     "most recent distinct items per customer in that index"},
    {"recall.query_items", HM_SET_INT, P(query_items), "30", 1, 10000, 0,
     "best history items of a customer that seed co-purchase and user-KNN"},
    {"recall.tau", HM_SET_DOUBLE, P(tau), "60", 0.01, 1e6, 0,
     "recency time constant (days) of a customer's history: each row weighs exp(-age / tau)"},
    {"recall.wide", HM_SET_INT, P(wide), "0", 0, 10000, 0,
     "two-stage pool: rows the merge keeps before a learned scorer cuts them to recall.pool (0: off)"},
    {"recall.cut_keep", HM_SET_INT, P(cut_keep), "0", 0, 10000, 0,
     "two-stage pool: the merge's first rows kept as they are; the scorer orders only the rows after them (less than recall.pool)"},
    {"recall.cut_week", HM_SET_INT, P(cut_week), "0", 0, 520, 0,
     "training week of the two-stage scorer, counted back from the validation week (0: the one before the oldest training week)"},
    {"recall.cut_users", HM_SET_INT, P(cut_users), "20000", 1, 100000000, 0,
     "buyers of that week the scorer learns from (a fixed sample)"},
    {"recall.cut_negatives", HM_SET_DOUBLE, P(cut_negatives), "0.1", 0.001, 1, 0,
     "share of their candidates that were not bought kept for training the scorer"},
    {"recall.cut_rounds", HM_SET_INT, P(cut_rounds), "40", 1, 1000, 0, "boosting rounds of the two-stage scorer"},
    {"recall.cut_depth", HM_SET_INT, P(cut_depth), "4", 1, 10, 0, "depth of the two-stage scorer's trees"},
    {"recall.style_k", HM_SET_INT, P(style.k), "8", 0, RECALL_STYLE_MAX, 0,
     "style topics: styles of the topic model of colour x pattern pairs (0: no model, no style lifts)"},
    {"recall.style_iters", HM_SET_INT, P(style.iters), "30", 1, 1000, 0, "style topics: EM iterations of the fit"},
    {"recall.style_share", HM_SET_DOUBLE, P(style.share), "0.1", 0, 1, 0,
     "style topics: pseudo-random share of the customers the model is fitted on"},
    {"recall.style_tau", HM_SET_DOUBLE, P(style.tau), "365", 0.01, 1e6, 0,
     "style topics: time constant (days) of a purchase's weight"},
    {"recall.style_kappa", HM_SET_DOUBLE, P(style.kappa), "3", 0, 1e6, 0,
     "style topics: prior weight (purchases) of the shop's mix in a customer's"},
};
#undef P

const struct hm_setting *recall_settings_table(size_t *n)
{
    static struct hm_setting *table;
    static size_t table_n;
    if (!table) {
        hm_settings_append(&table, &table_n, common_settings, sizeof common_settings / sizeof common_settings[0], 0);
        for (int s = 0; s < recall_n_strategies; s++) {
            if (recall_strategies[s]->params_size > RECALL_PARAMS_BYTES)
                HM_BUG("recall strategy %s: params of %zu bytes", recall_strategies[s]->name,
                       recall_strategies[s]->params_size);
            hm_settings_append(&table, &table_n, recall_strategies[s]->settings, recall_strategies[s]->n_settings,
                               offsetof(struct recall_params, strategy) + (size_t)s * RECALL_PARAMS_BYTES);
        }
    }
    *n = table_n;
    return table;
}

/* ---- the engine --------------------------------------------------------------------------- */

int recall_engine_init(struct recall_engine *e, const struct data_set *ds, const struct recall_params *p,
                       int32_t start, int32_t cutoff, const struct recall_inputs *in)
{
    memset(e, 0, sizeof *e);
    e->ds = ds;
    e->p = *p;
    e->start = start;
    e->cutoff = cutoff;
    e->keep = in->keep;
    e->text_emb = in->text_emb;
    e->text_dim = in->text_dim;
    e->image_emb = in->image_emb;
    e->image_missing = in->image_missing;
    e->image_dim = in->image_emb ? in->image_dim : 0;
    for (int s = 0; s < recall_n_strategies; s++)
        if ((recall_strategies[s]->needs & RECALL_NEEDS_IMAGE) && !e->image_emb && recall_engine_uses(e, s)) {
            ((struct recall_list_params *)e->p.strategy[s])->n = 0;
            hm_debug("recall: %s is off (no image embeddings)", recall_strategies[s]->name);
        }
    unsigned needs = 0;
    for (int s = 0; s < recall_n_strategies; s++)
        if (recall_engine_uses(e, s))
            needs |= recall_strategies[s]->needs;
    int rc = 0;
    if (needs & RECALL_NEEDS_WINDOW) {
        int64_t t0 = hm_now_ns();
        rc = recall_window_init(&e->win, e);
        e->seconds_window = hm_seconds_since(t0);
        hm_debug("recall: window index in %.2fs (%llu entries)", e->seconds_window,
                 (unsigned long long)e->win.uoff[ds->customers.n]);
    }
    if (((needs & RECALL_NEEDS_STYLE) || e->p.merge_style > 0) && e->p.style.k > 0 && !rc) {
        int64_t t0 = hm_now_ns();
        recall_style_fit(ds, start, cutoff, &e->p.style, &e->style);
        e->seconds_style = hm_seconds_since(t0);
        hm_debug("recall: style topics in %.2fs (%u customers)", e->seconds_style, e->style.n_fitted);
    }
    for (int s = 0; s < recall_n_strategies && !rc; s++) {
        if (!recall_engine_uses(e, s) || !recall_strategies[s]->init)
            continue;
        int64_t t0 = hm_now_ns();
        rc = recall_strategies[s]->init(e, s, &e->state[s]);
        e->seconds_init[s] = hm_seconds_since(t0);
        if (rc)
            hm_error_wrap(rc, "recall: %s", recall_strategies[s]->name);
    }
    if (rc)
        recall_engine_release(e);
    return rc;
}

void recall_engine_release(struct recall_engine *e)
{
    for (int s = 0; s < recall_n_strategies; s++)
        if (e->state[s] && recall_strategies[s]->release)
            recall_strategies[s]->release(e->state[s]);
    recall_window_release(&e->win);
    recall_style_release(&e->style);
    memset(e->state, 0, sizeof e->state);
}

void recall_engine_view(struct recall_engine *view, const struct recall_engine *e, const struct data_set *ds)
{
    *view = *e;
    view->ds = ds;
}

void recall_scratch_init(struct recall_scratch *s, const struct recall_engine *e)
{
    memset(s, 0, sizeof *s);
    recall_hist_init(&s->hist);
    hm_acc_init(&s->items, e->ds->articles.n);
    hm_acc_init(&s->users, e->win.uoff ? e->ds->customers.n : 0);
    if (e->win.uoff) {
        s->knn_len = hm_xmalloc_array((size_t)e->ds->customers.n + 1, sizeof *s->knn_len);
        s->knn_item = hm_xmalloc_array((size_t)e->ds->customers.n + 1, sizeof *s->knn_item);
    }
    s->mark = hm_xcalloc((size_t)e->ds->articles.n + 1, 1);
    s->tmp_cap = 4096;
    s->tmp_items = hm_xmalloc_array(s->tmp_cap, sizeof *s->tmp_items);
    s->tmp_scores = hm_xmalloc_array(s->tmp_cap, sizeof *s->tmp_scores);
    if (e->style.k) {
        s->lift = hm_xmalloc_array(e->style.n_pairs, sizeof *s->lift);
        s->lift_visit = hm_xcalloc(e->style.n_pairs, sizeof *s->lift_visit);
    }
}

void recall_scratch_begin(struct recall_scratch *s, const struct recall_engine *e, uint32_t c)
{
    recall_hist_build(&s->hist, e->ds, c, e->start, e->cutoff, e->p.tau);
    if (++s->visit == 0) { /* wrapped: no visit's marks may survive */
        if (s->lift_visit)
            memset(s->lift_visit, 0, e->style.n_pairs * sizeof *s->lift_visit);
        s->theta_visit = 0;
        s->visit = 1;
    }
}

const float *recall_scratch_style(const struct recall_engine *e, struct recall_scratch *s, uint32_t c)
{
    if (s->theta_visit != s->visit) {
        uint64_t lo, hi;
        const struct data_transactions *tx = prep_customer_rows(e->ds, c, e->start, e->cutoff - 1, &lo, &hi);
        recall_style_customer(&e->style, &e->p.style, tx, lo, hi, e->cutoff, s->theta);
        s->theta_visit = s->visit;
    }
    return s->theta;
}

void recall_scratch_release(struct recall_scratch *s)
{
    recall_hist_release(&s->hist);
    hm_acc_release(&s->items);
    hm_acc_release(&s->users);
    free(s->knn_len);
    free(s->knn_item);
    free(s->mark);
    free(s->tmp_items);
    free(s->tmp_scores);
    free(s->lift);
    free(s->lift_visit);
    memset(s, 0, sizeof *s);
}

int recall_strategy_run(const struct recall_engine *e, int s, const uint32_t *users, uint32_t n,
                        uint32_t *ids, float *scores, uint32_t *count)
{
    const struct recall_strategy *st = recall_strategies[s];
    uint32_t w = (uint32_t)recall_list_of(&e->p, s)->n;
    if (!recall_engine_uses(e, s)) {
        memset(count, 0, (size_t)n * sizeof *count);
        return 0;
    }
    if (st->block) {
        int nt = hm_threads();
        struct recall_scratch *scr = hm_xcalloc((size_t)nt, sizeof *scr), **sc = hm_xcalloc((size_t)nt, sizeof *sc);
        for (int t = 0; t < nt; t++) {
            recall_scratch_init(&scr[t], e);
            sc[t] = &scr[t];
        }
        int rc = st->block(e, s, sc, nt, users, n, ids, scores, count);
        for (int t = 0; t < nt; t++)
            recall_scratch_release(&scr[t]);
        free(scr);
        free(sc);
        return rc;
    }
    struct recall_scratch sc;
    recall_scratch_init(&sc, e);
    for (uint32_t i = 0; i < n; i++) {
        recall_scratch_begin(&sc, e, users[i]);
        count[i] = st->user(e, s, &sc, users[i], ids + (size_t)i * w, scores + (size_t)i * w);
    }
    recall_scratch_release(&sc);
    return 0;
}
