/* The submission: 12 articles for every customer for the week after the data, from a baseline
 * or from a model or ensemble of the rank stage. A model's submission streams every customer
 * through the pipeline as of the day after the data: the merged candidate pool (Stage 2),
 * their features (Stage 3) and the model's scores, block by block, keeping each customer's 12
 * best; nothing of the week exists whole. Customers with fewer than 12 candidates get the
 * last week's best sellers after them. */
#include "pipeline/predict.h"
#include "io/submission.h"

#include <stdlib.h>
#include <string.h>

/* One block of customers: their 12 articles written. */
struct submit_job {
    const struct data_set *ds;
    struct io_subwriter *w;
};

static int submit_block(void *ud, const struct recall_candidates *c, const uint32_t *top, const uint8_t *n)
{
    struct submit_job *j = ud;
    int rc = 0;
    for (uint32_t i = 0; i < c->n_users && !rc; i++) {
        uint32_t ids[12];
        for (uint32_t k = 0; k < n[i]; k++)
            ids[k] = j->ds->articles.article_id[top[(size_t)i * 12 + k]];
        char hex[65];
        data_customer_hex(j->ds, c->user[i], hex);
        rc = io_subwriter_add(j->w, hex, ids, n[i]);
    }
    return rc;
}

int pipeline_submit_opts(struct pipeline *p, const char *model, struct pipeline_predict_opts *o)
{
    struct prep_week week;
    int rc = pipeline_week_days(p, (struct pipeline_week){PIPELINE_WEEK_TEST, 0}, &week);
    /* the retrained models when the retrain stage made them */
    if (!rc)
        *o = (struct pipeline_predict_opts){.model = model, .final = p->c.rank.retrain && !pipeline_reference_labels(p),
                                            .cutoff = week.start, .fill = 1};
    return rc;
}

static int submit_model(struct pipeline *p, const char *model, const char *path)
{
    const struct data_set *ds;
    struct pipeline_predict_opts o;
    int rc = pipeline_data(p, &ds);
    if (rc || (rc = pipeline_submit_opts(p, model, &o)) != 0)
        return rc;
    int retrained = o.final;
    struct prep_week week = {o.cutoff, o.cutoff + 6};
    struct pipeline_predictor *pr;
    if ((rc = pipeline_predictor_open(p, &o, &pr)) != 0)
        return rc;
    int64_t t0 = hm_now_ns();
    struct io_subwriter w;
    if ((rc = io_subwriter_open(&w, path)) == 0) {
        uint32_t n = ds->customers.n;
        uint32_t *users = hm_xmalloc_array((size_t)n + 1, sizeof *users);
        for (uint32_t i = 0; i < n; i++)
            users[i] = i;
        struct hm_progress prog;
        hm_progress_begin(&prog, "submission", n);
        struct submit_job j = {ds, &w};
        rc = pipeline_predict_users(pr, users, n, &prog, submit_block, &j);
        hm_progress_end(&prog);
        free(users);
        if (rc)
            io_subwriter_abort(&w);
        else
            rc = io_subwriter_commit(&w);
    }
    if (!rc) {
        char day[11];
        hm_date_format(week.start, day);
        hm_report("submit: wrote %u customers to %s (model %s%s: candidates, features and scores of every "
                  "customer as of %s) in %.1fs",
                  ds->customers.n, path, model, retrained ? ", retrained with the validation week" : "",
                  day, hm_seconds_since(t0));
    }
    pipeline_predictor_close(&pr);
    return rc;
}

int pipeline_submit(struct pipeline *p, const char *path)
{
    const struct data_set *ds;
    /* the models it reads: up to date (the stages that make them run first when they are
     * not), and not changing under it */
    char model[HM_SETTING_STRLEN];
    int rc = pipeline_lock(p);
    if (!rc && recall_baseline_find(p->c.run.submit_model) < 0 && (rc = pipeline_check(p)) == 0)
        rc = pipeline_require(p, "retrain");
    if (rc || (rc = pipeline_data(p, &ds)) != 0 || (rc = pipeline_submit_model(p, model, sizeof model)) != 0)
        return rc;
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
