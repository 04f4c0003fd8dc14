/* Recommendations as of one cutoff: candidates, features, a scorer's scores, each customer's
 * 12 best and the fill (pipeline/predict.h). */
#include "pipeline/predict.h"

#include <stdlib.h>
#include <string.h>

struct pipeline_predictor {
    struct pipeline *p;
    const struct data_set *ds;
    const struct data_article_matrix *text;
    const struct feat_image *image;
    int32_t cutoff, start;
    int shared;                 /* 1: scorer, ctx, e and items are another predictor's */
    struct rank_scorer scorer;
    struct feat_ctx ctx;
    int have_ctx;
    uint32_t fill[12], n_fill;
    /* the recall engine and the two-stage cut, made on first use */
    struct prep_items items;
    int have_items;
    struct recall_engine e;
    struct recall_cut_ctx *cut_ctx;
    struct recall_cut cut;
    /* block buffers */
    float *x, *score;
    uint64_t cap;
    uint32_t *top;
    uint8_t *n_top;
    uint32_t cap_users;
};

void pipeline_predictor_close(struct pipeline_predictor **ppr)
{
    struct pipeline_predictor *pr = *ppr;
    if (!pr)
        return;
    recall_cut_end(&pr->cut_ctx);
    if (!pr->shared) {
        if (pr->e.ds)
            recall_engine_release(&pr->e);
        if (pr->have_items)
            prep_items_release(&pr->items);
        if (pr->have_ctx)
            feat_ctx_release(&pr->ctx);
        rank_scorer_release(&pr->scorer);
    }
    free(pr->x);
    free(pr->score);
    free(pr->top);
    free(pr->n_top);
    free(pr);
    *ppr = NULL;
}

int pipeline_predictor_open(struct pipeline *p, const struct pipeline_predict_opts *o, struct pipeline_predictor **out)
{
    *out = NULL;
    struct pipeline_predictor *pr = hm_xcalloc(1, sizeof *pr);
    pr->p = p;
    pr->cutoff = o->cutoff;
    int rc = pipeline_data(p, &pr->ds);
    if (!rc)
        rc = pipeline_inputs(p, &pr->text, &pr->image);
    if (!rc) {
        char *dir = pipeline_models_dir(p, o->final);
        rc = rank_scorer_load(dir, o->model, &pr->scorer);
        free(dir);
    }
    if (!rc) {
        pr->start = prep_history_start(pr->ds, &p->c.prep, pr->cutoff);
        struct feat_inputs fin = {.ds = pr->ds, .text = pr->text->x, .text_rows = pr->ds->articles.n,
                                  .text_dim = pr->text->dim, .image = pr->image};
        if ((rc = feat_ctx_init(&pr->ctx, &fin, pr->cutoff, &p->c.feat)) == 0)
            pr->have_ctx = 1;
    }
    if (!rc && o->fill)
        pr->n_fill = recall_top_articles(pr->ds, pr->cutoff - 7 > pr->start ? pr->cutoff - 7 : pr->start, pr->cutoff,
                                         0, 12, pr->fill);
    if (rc)
        pipeline_predictor_close(&pr);
    *out = pr;
    return rc;
}

const char *pipeline_predictor_model(const struct pipeline_predictor *pr) { return pr->scorer.name; }

const float *pipeline_predictor_scores(const struct pipeline_predictor *pr) { return pr->score; }

/* ---- a block of candidates ------------------------------------------------------------------ */

int pipeline_predict_block(struct pipeline_predictor *pr, const struct recall_candidates *c, uint32_t *top,
                           uint8_t *n, float *scores)
{
    uint32_t nc = feat_n_cols();
    if (c->n > pr->cap) {
        pr->cap = hm_grow_cap(pr->cap, c->n);
        pr->x = hm_xrealloc(pr->x, pr->cap * nc * sizeof *pr->x);
        pr->score = hm_xrealloc(pr->score, pr->cap * sizeof *pr->score);
    }
    float *score = scores ? scores : pr->score;
    int rc = feat_block(&pr->ctx, c, pr->x);
    struct rank_data d = {.n_rows = c->n, .n_cols = nc, .x = pr->x, .col_name = feat_column_names(),
                          .col_tower = pipeline_column_towers(), .n_groups = c->n_users, .group_off = c->off,
                          .group_user = c->user, .item = c->item,
                          .image = pr->image ? pr->image->emb : NULL, .image_dim = pr->image ? pr->image->dim : 0,
                          .n_articles = pr->ds->articles.n};
    if (!rc && c->n)
        rc = rank_scorer_score(&pr->scorer, &d, score);
    for (uint32_t i = 0; i < c->n_users && !rc; i++) {
        uint64_t rows[12];
        uint32_t k = rank_group_top12(&d, i, score, rows), *ids = top + (size_t)i * 12;
        for (uint32_t j = 0; j < k; j++)
            ids[j] = c->item[rows[j]];
        for (uint32_t f = 0; f < pr->n_fill && k < 12; f++) {
            uint32_t a = pr->fill[f], dup = 0;
            for (uint32_t j = 0; j < k; j++)
                dup |= ids[j] == a;
            if (!dup)
                ids[k++] = a;
        }
        n[i] = (uint8_t)k;
    }
    return rc;
}

/* ---- any customers, candidates made here ------------------------------------------------------ */

/* The recall engine and the two-stage cut of the cutoff, once. */
static int engine_open(struct pipeline_predictor *pr)
{
    if (pr->e.ds)
        return 0;
    struct pipeline *p = pr->p;
    int rc = prep_items_filter(&pr->items, pr->ds, pr->start, pr->cutoff, p->c.prep.min_item_purchases);
    if (rc)
        return rc;
    pr->have_items = 1;
    struct recall_inputs in = pipeline_recall_inputs(pr->items.keep, pr->text, pr->image);
    if ((rc = recall_engine_init(&pr->e, pr->ds, &p->c.recall, pr->start, pr->cutoff, &in)) != 0)
        return rc;
    if ((rc = pipeline_cut_load(p)) == 0)
        rc = pipeline_cut_begin(p, &pr->e, &pr->cut_ctx, &pr->cut);
    return rc;
}

int pipeline_predictor_engine(struct pipeline_predictor *pr, const struct recall_engine **e)
{
    int rc = engine_open(pr);
    *e = rc ? NULL : &pr->e;
    return rc;
}

int pipeline_predictor_share(struct pipeline_predictor *pr, const struct data_set *ds, struct pipeline_predictor **out)
{
    *out = NULL;
    int rc = engine_open(pr);
    if (rc)
        return rc;
    struct pipeline_predictor *q = hm_xcalloc(1, sizeof *q);
    q->p = pr->p;
    q->ds = ds;
    q->text = pr->text;
    q->image = pr->image;
    q->cutoff = pr->cutoff;
    q->start = pr->start;
    q->shared = 1;
    q->scorer = pr->scorer;
    feat_ctx_view(&q->ctx, &pr->ctx, ds);
    q->have_ctx = 1;
    memcpy(q->fill, pr->fill, sizeof q->fill);
    q->n_fill = pr->n_fill;
    q->items = pr->items;
    q->have_items = 1;
    recall_engine_view(&q->e, &pr->e, ds);
    if ((rc = pipeline_cut_begin(q->p, &q->e, &q->cut_ctx, &q->cut)) != 0) {
        pipeline_predictor_close(&q);
        return rc;
    }
    *out = q;
    return 0;
}

int pipeline_predict_users(struct pipeline_predictor *pr, const uint32_t *users, uint32_t n, struct hm_progress *prog,
                           pipeline_predict_emit emit, void *ud)
{
    int rc = engine_open(pr);
    if (rc)
        return rc;
    const struct pipeline *p = pr->p;
    long sp = p->c.rank.score_pool;
    uint32_t pool = (uint32_t)(sp > 0 && sp < p->c.recall.pool ? sp : p->c.recall.pool);
    struct recall_stream st;
    recall_stream_init_cut(&st, &pr->e, users, n, (uint32_t)p->c.rank.block, pool, &pr->cut, prog);
    const struct recall_candidates *c;
    while ((rc = recall_stream_next(&st, &c)) > 0) {
        if (c->n_users > pr->cap_users) {
            pr->cap_users = (uint32_t)hm_grow_cap(pr->cap_users, c->n_users);
            pr->top = hm_xrealloc(pr->top, (size_t)pr->cap_users * 12 * sizeof *pr->top);
            pr->n_top = hm_xrealloc(pr->n_top, pr->cap_users);
        }
        if ((rc = pipeline_predict_block(pr, c, pr->top, pr->n_top, NULL)) != 0 ||
            (rc = emit(ud, c, pr->top, pr->n_top)) != 0)
            break;
    }
    recall_stream_release(&st);
    return rc;
}
