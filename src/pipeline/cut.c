/* The two-stage scorer's driver (recall.wide > 0; the cut itself is recall/cut.h): trained once
 * per run of the candidates stage (or command) on training week pipeline_cut_week, earlier
 * than every week the pipeline scores, and written to <work>/candidates_scorer.model; whoever
 * streams pools later (the features export, the submission, serving) loads it. */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

char *pipeline_cut_path(const struct pipeline *p) { return pipeline_path(p, "candidates_scorer.model"); }

int pipeline_cut_week(const struct pipeline *p)
{
    return (int)(p->c.recall.cut_week ? p->c.recall.cut_week : p->c.prep.train_weeks + 1);
}

int pipeline_cut_train(struct pipeline *p, const struct recall_inputs *base)
{
    const struct recall_params *rp = &p->c.recall;
    if (rp->wide <= 0 || p->cut)
        return 0;
    int w = pipeline_cut_week(p), rc = recall_cut_check(rp);
    if (rc)
        return rc;
    if (w <= p->c.prep.train_weeks)
        return hm_error(HM_EINVAL, "recall.cut_week (%d) must be earlier than every training week (prepare.train_weeks %ld)",
                        w, p->c.prep.train_weeks);
    const struct data_set *ds;
    struct prep_week val;
    rc = pipeline_data(p, &ds);
    if (rc || (rc = pipeline_week_days(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0}, &val)) != 0)
        return rc;
    struct prep_week week = {val.start - 7 * w, val.end - 7 * w};
    struct recall_cut_report rep;
    struct recall_cut_scorer *s = NULL;
    char *path = pipeline_cut_path(p);
    if ((rc = recall_cut_train(ds, &p->c.prep, rp, week, w, base, &s, &rep)) == 0 && (rc = hm_mkdirs(p->work)) == 0 &&
        (rc = recall_cut_save(s, path)) == 0) {
        char day[11];
        hm_date_format(week.start, day);
        hm_report("candidates: two-stage scorer trained on training week %d (cutoff %s): %u of its %u buyers, "
                  "wide pools of %ld (%llu rows; rows %ld-%ld, which the scorer orders, hold %.4f of their %llu "
                  "purchases), %llu training rows "
                  "(%llu bought), %u trees of depth %ld in %.1fs (%.1fs building the pools); wrote %s",
                  w, day, rep.users, rep.buyers, rp->wide, (unsigned long long)rep.rows, rp->cut_keep + 1, rp->wide,
                  rep.truth_pairs ? (double)rep.positives / (double)rep.truth_pairs : 0,
                  (unsigned long long)rep.truth_pairs, (unsigned long long)rep.train_rows,
                  (unsigned long long)rep.positives, rep.trees, rp->cut_depth, rep.seconds, rep.seconds_pools, path);
        char *imp = recall_cut_importance(s, 10);
        if (imp[0])
            hm_info("candidates: the two-stage scorer's features by gain:\n%s", imp);
        free(imp);
        p->cut = s;
        s = NULL;
    }
    recall_cut_free(&s);
    free(path);
    return rc;
}

int pipeline_cut_load(struct pipeline *p)
{
    if (p->c.recall.wide <= 0 || p->cut)
        return 0;
    char *path = pipeline_cut_path(p);
    int rc = recall_cut_load(path, &p->cut);
    if (rc)
        rc = hm_error_wrap(rc, "recall.wide is set: the candidates stage's scorer %s", path);
    free(path);
    return rc;
}

int pipeline_cut_begin(struct pipeline *p, const struct recall_engine *e, struct recall_cut_ctx **ctx,
                       struct recall_cut *hook)
{
    *ctx = NULL;
    memset(hook, 0, sizeof *hook);
    if (p->c.recall.wide <= 0)
        return 0;
    int rc = recall_cut_check(&p->c.recall);
    if (rc)
        return rc;
    if (!p->cut)
        return hm_error(HM_EINVAL, "recall.wide is set but the two-stage scorer is neither trained nor loaded");
    return recall_cut_begin(p->cut, e, ctx, hook);
}
