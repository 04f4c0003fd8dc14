/* Metric sums of named rows (models, ensembles, baselines, ceilings) as tab-separated text:
 * rank_results.tsv (the rank stage) and metrics.tsv (the evaluate stage), docs/formats.md. */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

void pipeline_result_format(struct hm_buf *b, const char *name, const char *kind, const struct eval_sum *s)
{
    hm_buf_printf(b, "%s\t%s\t%llu", name, kind, (unsigned long long)s->users);
    for (int k = 0; k < EVAL_NK; k++)
        hm_buf_printf(b, "\t%.17g\t%.17g\t%.17g\t%.17g", s->ap[k], s->precision[k], s->recall[k], s->ndcg[k]);
    hm_buf_puts(b, "\n");
}

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
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && !rc; l = strtok_r(NULL, "\n", &save)) {
        line++;
        if (l[0] == '#')
            continue;
        struct pipeline_result r;
        memset(&r, 0, sizeof r);
        char *f[3 + 4 * EVAL_NK];
        int nf = 0;
        for (char *s2 = NULL, *t = strtok_r(l, "\t", &s2); t && nf < 3 + 4 * EVAL_NK; t = strtok_r(NULL, "\t", &s2))
            f[nf++] = t;
        if (nf != 3 + 4 * EVAL_NK) {
            rc = hm_error(HM_EFORMAT, "%s:%d: expected %d tab-separated fields, found %d", path, line,
                          3 + 4 * EVAL_NK, nf);
            break;
        }
        snprintf(r.name, sizeof r.name, "%s", f[0]);
        snprintf(r.kind, sizeof r.kind, "%s", f[1]);
        r.sum.users = strtoull(f[2], NULL, 10);
        for (int k = 0; k < EVAL_NK; k++) {
            r.sum.ap[k] = strtod(f[3 + 4 * k], NULL);
            r.sum.precision[k] = strtod(f[4 + 4 * k], NULL);
            r.sum.recall[k] = strtod(f[5 + 4 * k], NULL);
            r.sum.ndcg[k] = strtod(f[6 + 4 * k], NULL);
        }
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

