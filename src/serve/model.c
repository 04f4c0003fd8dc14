/* The loaded work directory, and the scoring of a block of customers by the submission's own
 * predictor (pipeline/predict.h): candidates as of the day after the data (recall, the
 * two-stage cut), their features, the model's scores, each customer's 12 best, the fill.
 * Every scoring thread has a worker: its own copy of the data set (whose overlay shows the
 * block's customers their posted purchases) and a predictor sharing the model's. */
#include "serve/serve_internal.h"
#include "pipeline/predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const serve_similar_name[SERVE_NSIMILAR] = {"image", "text", "copurchase", "basket"};
const char *const serve_similar_label[SERVE_NSIMILAR] = {"looks alike", "described alike",
                                                         "bought by the same customers", "bought in the same basket"};

int serve_model_open(struct serve_model *m, struct pipeline *p)
{
    memset(m, 0, sizeof *m);
    m->p = p;
    struct pipeline_predict_opts o;
    int rc = pipeline_data(p, &m->ds);
    if (rc || (rc = pipeline_submit_model(p, m->model, sizeof m->model)) != 0)
        return rc;
    if (recall_baseline_find(m->model) >= 0)
        return hm_error(HM_EINVAL, "the work directory's submission comes from the baseline %s: hmrec serve serves a "
                                   "model or an ensemble of the rank stage",
                        m->model);
    if ((rc = pipeline_submit_opts(p, m->model, &o)) != 0 || (rc = pipeline_predictor_open(p, &o, &m->pred)) != 0 ||
        (rc = pipeline_inputs(p, &m->text, &m->image)) != 0)
        return rc;
    const struct recall_engine *e;
    if ((rc = pipeline_predictor_engine(m->pred, &e)) != 0) /* made now, not on the first request */
        return rc;
    m->retrained = o.final;
    m->cutoff = o.cutoff;
    m->start = prep_history_start(m->ds, &p->c.prep, m->cutoff);
    const struct data_set *ds = m->ds;
    data_id_index_init(&m->ids, ds);
    for (uint64_t r = 0; r < ds->tx.n; r++)
        if (ds->tx.price[r] > m->max_price)
            m->max_price = ds->tx.price[r];
    if (!(m->max_price > 0))
        m->max_price = 1;
    return 0;
}

void serve_model_close(struct serve_model *m)
{
    pipeline_predictor_close(&m->pred);
    if (m->ds)
        data_id_index_release(&m->ids);
    memset(m, 0, sizeof *m);
}

/* ---- workers ------------------------------------------------------------------------------ */

struct serve_worker {
    const struct serve_model *m;
    struct data_set view;             /* the store, with the block's overlay */
    struct pipeline_predictor *pred;  /* sharing the model's, reading view */
    struct serve_job **jobs;          /* the block being scored */
    uint32_t done;                    /* its customers handed over so far */
};

int serve_worker_new(const struct serve_model *m, struct serve_worker **out)
{
    struct serve_worker *w = hm_xcalloc(1, sizeof *w);
    w->m = m;
    w->view = *m->ds;
    int rc = pipeline_predictor_share(m->pred, &w->view, &w->pred);
    if (rc) {
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void serve_worker_free(struct serve_worker **pw)
{
    struct serve_worker *w = *pw;
    if (!w)
        return;
    pipeline_predictor_close(&w->pred);
    free(w);
    *pw = NULL;
}

/* A scored block: each customer's articles, with their scores and strategies. */
static int take_block(void *ud, const struct recall_candidates *c, const uint32_t *top, const uint8_t *n)
{
    struct serve_worker *w = ud;
    const float *score = pipeline_predictor_scores(w->pred);
    for (uint32_t i = 0; i < c->n_users; i++) {
        struct serve_job *j = w->jobs[w->done++];
        uint32_t k = n[i] < j->k ? n[i] : j->k;
        for (uint32_t x = 0; x < k; x++) {
            uint32_t a = top[(size_t)i * 12 + x];
            j->rec[x] = (struct serve_rec){a, NAN, 0};
            for (uint64_t r = c->off[i]; r < c->off[i + 1]; r++)
                if (c->item[r] == a) {
                    j->rec[x].score = score[r];
                    j->rec[x].flags = c->flags[r];
                    break;
                }
        }
        j->n_rec = k;
        uint64_t lo, hi;
        const struct data_transactions *tx =
            prep_customer_rows(&w->view, j->customer, w->m->start, w->m->cutoff - 1, &lo, &hi);
        (void)tx;
        j->history = (uint32_t)(hi - lo);
    }
    return 0;
}

int serve_worker_score(struct serve_worker *w, const struct data_overlay *ov, struct serve_job **jobs, uint32_t n)
{
    w->view.overlay = ov && ov->n_customers ? ov : NULL;
    uint32_t *users = hm_xmalloc_array(n + 1, sizeof *users);
    for (uint32_t i = 0; i < n; i++)
        users[i] = jobs[i]->customer;
    w->jobs = jobs;
    w->done = 0;
    int rc = pipeline_predict_users(w->pred, users, n, NULL, take_block, w);
    free(users);
    w->view.overlay = NULL;
    return rc;
}

/* ---- similar articles ----------------------------------------------------------------------- */

uint32_t serve_model_similar(const struct serve_model *m, int kind, uint32_t a, uint32_t k, uint32_t *ids, float *scores)
{
    const uint32_t *nbr = NULL;
    const float *w = NULL;
    uint32_t n = 0;
    if (kind == SERVE_SIMILAR_COPURCHASE || kind == SERVE_SIMILAR_BASKET) {
        const struct recall_engine *e;
        int s = recall_strategy_find(kind == SERVE_SIMILAR_COPURCHASE ? "copurchase" : "basket");
        if (s < 0 || pipeline_predictor_engine(m->pred, &e) || !recall_engine_uses(e, s) || !e->state[s])
            return 0;
        n = kind == SERVE_SIMILAR_COPURCHASE ? recall_copurchase_neighbours(e, s, a, &nbr, &w)
                                             : recall_basket_neighbours(e, s, a, &nbr, &w);
        n = n < k ? n : k;
        memcpy(ids, nbr, n * sizeof *ids);
        memcpy(scores, w, n * sizeof *scores);
        return n;
    }
    /* the nearest embeddings by cosine, over every article that has one */
    const float *x;
    uint32_t dim;
    const uint8_t *missing;
    if (kind == SERVE_SIMILAR_IMAGE) {
        if (!m->image)
            return 0;
        x = m->image->emb;
        dim = m->image->dim;
        missing = m->image->missing;
    } else {
        x = m->text->x;
        dim = m->text->dim;
        missing = m->text->missing;
    }
    if (missing[a])
        return 0;
    uint32_t na = m->ds->articles.n;
    struct hm_hit *store = hm_xmalloc_array(k + 1, sizeof *store);
    struct hm_topk t;
    hm_topk_init(&t, store, k);
    const float *q = x + (size_t)a * dim;
    double qq = 0;
    for (uint32_t d = 0; d < dim; d++)
        qq += (double)q[d] * q[d];
    for (uint32_t b = 0; b < na; b++) {
        if (b == a || missing[b])
            continue;
        const float *v = x + (size_t)b * dim;
        double dot = 0, vv = 0;
        for (uint32_t d = 0; d < dim; d++) {
            dot += (double)q[d] * v[d];
            vv += (double)v[d] * v[d];
        }
        if (vv > 0 && qq > 0)
            hm_topk_push(&t, (float)(dot / sqrt(qq * vv)), b);
    }
    n = hm_topk_sort(&t);
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = store[i].id;
        scores[i] = store[i].score;
    }
    free(store);
    return n;
}
