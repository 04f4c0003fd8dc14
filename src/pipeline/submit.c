/* The submission: 12 articles for every customer for the week after the data, from a baseline
 * or from a model or ensemble of the rank stage. A model's submission streams every customer
 * through the pipeline as of the day after the data: the merged candidate pool (Stage 2),
 * their features (Stage 3) and the model's scores, block by block, keeping each customer's 12
 * best; nothing of the week exists whole. Customers with fewer than 12 candidates get the
 * last week's best sellers after them. */
#include "pipeline/pipeline.h"
#include "io/submission.h"

#include <stdlib.h>
#include <string.h>

/* One block: features, scores, each customer's 12 best, written. */
struct submit_job {
    const struct data_set *ds;
    const struct feat_ctx *ctx;
    const struct pipeline_scorer *scorer;
    const struct feat_image *image;
    const uint32_t *fill;  /* (n_fill) the week before's best sellers */
    uint32_t n_fill;
    struct io_subwriter *w;
    float *x, *score;
    uint64_t cap;
};

static int submit_block(struct submit_job *j, const struct recall_candidates *c)
{
    uint32_t nc = feat_n_cols();
    if (c->n > j->cap) {
        j->cap = hm_grow_cap(j->cap, c->n);
        j->x = hm_xrealloc(j->x, j->cap * nc * sizeof *j->x);
        j->score = hm_xrealloc(j->score, j->cap * sizeof *j->score);
    }
    int rc = feat_block(j->ctx, c, j->x);
    const uint8_t *towers = pipeline_column_towers();
    struct rank_data d = {.n_rows = c->n, .n_cols = nc, .x = j->x, .col_name = feat_column_names(),
                          .col_tower = towers, .n_groups = c->n_users, .group_off = c->off,
                          .group_user = c->user, .item = c->item,
                          .image = j->image ? j->image->emb : NULL, .image_dim = j->image ? j->image->dim : 0,
                          .n_articles = j->ds->articles.n};
    if (!rc && c->n)
        rc = pipeline_scorer_score(j->scorer, &d, j->score);
    for (uint32_t i = 0; i < c->n_users && !rc; i++) {
        uint64_t top[12];
        uint32_t n = rank_group_top12(&d, i, j->score, top), ids[12];
        for (uint32_t k = 0; k < n; k++)
            ids[k] = c->item[top[k]];
        for (uint32_t f = 0; f < j->n_fill && n < 12; f++) {
            uint32_t a = j->fill[f], dup = 0;
            for (uint32_t k = 0; k < n; k++)
                dup |= ids[k] == a;
            if (!dup)
                ids[n++] = a;
        }
        for (uint32_t k = 0; k < n; k++)
            ids[k] = j->ds->articles.article_id[ids[k]];
        char hex[65];
        data_customer_hex(j->ds, c->user[i], hex);
        rc = io_subwriter_add(j->w, hex, ids, n);
    }
    return rc;
}

static int submit_model(struct pipeline *p, const char *model, const char *path)
{
    const struct data_set *ds;
    const struct data_article_matrix *text;
    const struct feat_image *image;
    int rc = pipeline_data(p, &ds);
    if (rc || (rc = pipeline_inputs(p, &text, &image)) != 0)
        return rc;
    struct pipeline_scorer scorer;
    /* the retrained models when the retrain stage made them */
    int retrained = p->c.rank.retrain && !pipeline_reference_labels(p);
    if ((rc = pipeline_scorer_load(p, retrained ? "models/final" : "models", model, &scorer)) != 0)
        return rc;
    int64_t t0 = hm_now_ns();
    struct prep_week week;
    if ((rc = pipeline_week_days(p, (struct pipeline_week){PIPELINE_WEEK_TEST, 0}, &week)) != 0) {
        pipeline_scorer_release(&scorer);
        return rc;
    }
    int32_t cutoff = week.start, start = prep_history_start(ds, &p->c.prep, cutoff);
    struct prep_items items;
    struct recall_engine e;
    struct feat_ctx ctx;
    memset(&e, 0, sizeof e);
    int have_items = 0, have_ctx = 0;
    if ((rc = prep_items_filter(&items, ds, start, cutoff, p->c.prep.min_item_purchases)) == 0) {
        have_items = 1;
        struct recall_inputs in = pipeline_recall_inputs(items.keep, text, image);
        rc = recall_engine_init(&e, ds, &p->c.recall, start, cutoff, &in);
    }
    struct feat_inputs fin = {.ds = ds, .text = text->x, .text_rows = ds->articles.n, .text_dim = text->dim,
                              .image = image};
    if (!rc && (rc = feat_ctx_init(&ctx, &fin, cutoff, &p->c.feat)) == 0)
        have_ctx = 1;
    uint32_t fill[12], n_fill = 0;
    if (!rc)
        n_fill = recall_top_articles(ds, cutoff - 7 > start ? cutoff - 7 : start, cutoff, 0, 12, fill);
    struct io_subwriter w;
    if (!rc && (rc = io_subwriter_open(&w, path)) == 0) {
        uint32_t n = ds->customers.n;
        uint32_t *users = hm_xmalloc_array((size_t)n + 1, sizeof *users);
        for (uint32_t i = 0; i < n; i++)
            users[i] = i;
        struct hm_progress prog;
        hm_progress_begin(&prog, "submission", n);
        struct recall_stream st;
        long sp = p->c.rank.score_pool;
        uint32_t pool = (uint32_t)(sp > 0 && sp < p->c.recall.pool ? sp : p->c.recall.pool);
        struct pipeline_cut_ctx *cut_ctx = NULL;
        struct recall_cut cut;
        if ((rc = pipeline_cut_load(p)) == 0)
            rc = pipeline_cut_begin(p, &e, &cut_ctx, &cut);
        recall_stream_init_cut(&st, &e, users, n, (uint32_t)p->c.rank.block, pool, rc ? NULL : &cut, &prog);
        struct submit_job j = {ds, &ctx, &scorer, image, fill, n_fill, &w, NULL, NULL, 0};
        const struct recall_candidates *c;
        while (!rc && (rc = recall_stream_next(&st, &c)) > 0)
            if ((rc = submit_block(&j, c)) != 0)
                break;
        recall_stream_release(&st);
        pipeline_cut_end(&cut_ctx);
        hm_progress_end(&prog);
        free(j.x);
        free(j.score);
        free(users);
        if (rc)
            io_subwriter_abort(&w);
        else
            rc = io_subwriter_commit(&w);
    }
    if (!rc) {
        char day[11];
        hm_date_format(cutoff, day);
        hm_report("submit: wrote %u customers to %s (model %s%s: candidates, features and scores of every "
                  "customer as of %s) in %.1fs",
                  ds->customers.n, path, model, retrained ? ", retrained with the validation week" : "",
                  day, hm_seconds_since(t0));
    }
    if (have_ctx)
        feat_ctx_release(&ctx);
    if (e.ds)
        recall_engine_release(&e);
    if (have_items)
        prep_items_release(&items);
    pipeline_scorer_release(&scorer);
    return rc;
}

int pipeline_submit(struct pipeline *p, const char *path)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    const char *model = p->c.run.submit_model;
    char best[32];
    if (!strcmp(model, "best")) {
        if ((rc = pipeline_best_model(p, best, sizeof best)) != 0)
            return hm_error_wrap(rc, "run.submit_model = best needs the rank stage's results");
        model = best;
    }
    int kind = recall_baseline_find(model);
    if (kind < 0)
        return submit_model(p, model, path);
    int64_t t0 = hm_now_ns();
    rc = pipeline_write_predictions(p, kind, ds->tx.day_max + 1, NULL, ds->customers.n, path);
    if (!rc)
        hm_report("submit: wrote %u customers to %s (baseline %s) in %.1fs", ds->customers.n, path, model,
                  hm_seconds_since(t0));
    return rc;
}

int pipeline_submit_stage(struct pipeline *p)
{
    char *path = pipeline_submission_path(p);
    int rc = pipeline_submit(p, path);
    free(path);
    return rc;
}
