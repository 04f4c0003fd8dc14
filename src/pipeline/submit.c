/* The submission: 12 articles for every customer for the week after the data. */
#include "pipeline/pipeline.h"

#include <stdlib.h>

int pipeline_submit(struct pipeline *p, const char *path)
{
    int kind = recall_baseline_find(p->c.run.submit_model);
    if (kind < 0)
        return hm_error(HM_EINVAL, "run.submit_model: unknown model '%s'", p->c.run.submit_model);
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    int64_t t0 = hm_now_ns();
    rc = pipeline_write_predictions(p, kind, ds->tx.day_max + 1, NULL, ds->customers.n, path);
    if (!rc)
        hm_report("submit: wrote %u customers to %s (model %s) in %.1fs", ds->customers.n, path,
                  p->c.run.submit_model, hm_seconds_since(t0));
    return rc;
}

int pipeline_submit_stage(struct pipeline *p)
{
    char *path = pipeline_submission_path(p);
    int rc = pipeline_submit(p, path);
    free(path);
    return rc;
}
