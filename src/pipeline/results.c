/* Metric sums of named rows (models, ensembles, baselines, ceilings) as tab-separated text:
 * rank_results.tsv (the rank stage) and metrics.tsv (the evaluate stage), docs/formats.md. */
#include "pipeline/pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void pipeline_result_format(struct hm_buf *b, const char *name, const char *kind, const struct eval_sum *s)
{
    hm_buf_printf(b, "%s\t%s\t%llu", name, kind, (unsigned long long)s->users);
    for (int k = 0; k < EVAL_NK; k++)
        hm_buf_printf(b, "\t%.17g\t%.17g\t%.17g\t%.17g", s->ap[k], s->precision[k], s->recall[k], s->ndcg[k]);
    hm_buf_puts(b, "\n");
}

/* A number field: the whole text, finite, in [lo, hi]. */
static int number_field(const char *path, int line, const char *what, const char *text, double lo, double hi,
                        double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !isfinite(v) || v < lo || v > hi)
        return hm_error(HM_EFORMAT, "%s:%d: %s: expected a finite number in [%.17g, %.17g], found \"%s\"", path, line,
                        what, lo, hi, text);
    *out = v;
    return 0;
}

/* the validation week's kinds, then the held-out test week's (metrics.tsv) */
static const char *const result_kinds[] = {"model", "ensemble", "ceiling", "baseline", "oracle",
                                           "test oracle", "test submission", "test baseline"};
static const char *const metric_names[] = {"AP", "precision", "recall", "NDCG"};

int pipeline_results_read(const char *path, struct pipeline_result **out, int *n)
{
    *out = NULL;
    *n = 0;
    char *text = NULL;
    int rc = hm_read_file(path, &text, NULL);
    if (rc)
        return rc;
    HM_VEC(struct pipeline_result) v = {0};
    int line = 0;
    for (char *cur = text, *l; !rc && (l = hm_next_line(&cur)) != NULL;) {
        line++;
        if (l[0] == '#' || !l[0])
            continue;
        struct pipeline_result r;
        memset(&r, 0, sizeof r);
        char *f[3 + 4 * EVAL_NK];
        int nf = hm_split_fields(l, '\t', f, 3 + 4 * EVAL_NK);
        if (nf != 3 + 4 * EVAL_NK) {
            rc = hm_error(HM_EFORMAT, "%s:%d: expected %d tab-separated fields, found %s%d", path, line,
                          3 + 4 * EVAL_NK, nf > 3 + 4 * EVAL_NK ? "more than " : "",
                          nf > 3 + 4 * EVAL_NK ? 3 + 4 * EVAL_NK : nf);
            break;
        }
        int kind_ok = 0;
        for (size_t k = 0; k < sizeof result_kinds / sizeof result_kinds[0]; k++)
            kind_ok |= !strcmp(f[1], result_kinds[k]);
        char *end;
        unsigned long long users = strtoull(f[2], &end, 10);
        if (!f[0][0] || strlen(f[0]) >= sizeof r.name) {
            rc = hm_error(HM_EFORMAT, "%s:%d: expected a name of 1 to %zu characters, found \"%s\"", path, line,
                          sizeof r.name - 1, f[0]);
        } else if (!kind_ok) {
            rc = hm_error(HM_EFORMAT, "%s:%d: expected a kind (model, ensemble, ceiling, baseline, oracle, test "
                                      "oracle, test submission, test baseline), found \"%s\"", path, line, f[1]);
        } else if (end == f[2] || *end || f[2][0] == '-' || users > UINT32_MAX) {
            rc = hm_error(HM_EFORMAT, "%s:%d: expected a count of customers, found \"%s\"", path, line, f[2]);
        }
        snprintf(r.name, sizeof r.name, "%s", f[0]);
        snprintf(r.kind, sizeof r.kind, "%s", f[1]);
        r.sum.users = users;
        /* each is a sum over the customers of a value in [0, 1] */
        double hi = (double)users * (1 + 1e-9) + 1e-9;
        for (int k = 0; k < EVAL_NK && !rc; k++) {
            double *dst[4] = {&r.sum.ap[k], &r.sum.precision[k], &r.sum.recall[k], &r.sum.ndcg[k]};
            for (int m = 0; m < 4 && !rc; m++) {
                char what[64];
                snprintf(what, sizeof what, "%s, %s at %d (a sum over %llu customers)", r.name, metric_names[m],
                         eval_ks[k], users);
                rc = number_field(path, line, what, f[3 + 4 * k + m], 0, hi, dst[m]);
            }
        }
        if (!rc)
            HM_VEC_PUSH(&v, r);
    }
    free(text);
    if (rc) {
        free(v.v);
        return rc;
    }
    *out = v.v;
    *n = (int)v.n;
    return 0;
}

int pipeline_submit_model(const struct pipeline *p, char *name, size_t n)
{
    if (strcmp(p->c.run.submit_model, "best")) {
        snprintf(name, n, "%s", p->c.run.submit_model);
        return 0;
    }
    int rc = pipeline_best_model(p, name, n);
    return rc ? hm_error_wrap(rc, "run.submit_model = best needs the rank stage's results") : 0;
}

int pipeline_submit_models(const struct pipeline *p, const char *dir, char (*models)[32], int *n)
{
    *n = 0;
    char name[HM_SETTING_STRLEN];
    int rc = pipeline_submit_model(p, name, sizeof name);
    if (rc || recall_baseline_find(name) >= 0)
        return rc;
    if (strcmp(name, "ensemble") && strcmp(name, "average")) {
        if (strlen(name) >= 32)
            return hm_error(HM_EINVAL, "run.submit_model: no model is called \"%s\"", name);
        memcpy(models[0], name, strlen(name) + 1);
        *n = 1;
        return 0;
    }
    double w[RANK_MAX_MODELS];
    char *file = hm_xasprintf("%s/ensemble.tsv", dir), *path = pipeline_path(p, file);
    rc = rank_ensemble_read(path, name, models, w, n);
    free(file);
    free(path);
    return rc;
}
