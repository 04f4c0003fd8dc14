/* Metric averages over customers, candidate recall and the metrics table. */
#include "eval/eval.h"
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

const int eval_ks[EVAL_NK] = {1, 3, 5, 10, 12};

void eval_sum_add(struct eval_sum *s, const uint32_t *pred, size_t n_pred,
                     const uint32_t *truth, size_t n_truth)
{
    if (n_truth == 0)
        return;
    s->users++;
    for (int i = 0; i < EVAL_NK; i++) {
        struct eval_one m;
        eval_at_k(pred, n_pred, truth, n_truth, eval_ks[i], &m);
        s->ap[i] += m.ap;
        s->precision[i] += m.precision;
        s->recall[i] += m.recall;
        s->ndcg[i] += m.ndcg;
    }
}

void eval_sum_merge(struct eval_sum *a, const struct eval_sum *b)
{
    a->users += b->users;
    for (int i = 0; i < EVAL_NK; i++) {
        a->ap[i] += b->ap[i];
        a->precision[i] += b->precision[i];
        a->recall[i] += b->recall[i];
        a->ndcg[i] += b->ndcg[i];
    }
}

double eval_map12(const struct eval_sum *s)
{
    return s->users ? s->ap[EVAL_NK - 1] / (double)s->users : 0.0;
}

char *eval_table_format(const struct eval_row *rows, size_t n, double ref_map12)
{
    static const char *const name[1] = {"oracle"};
    return eval_table_format_refs(rows, n, &ref_map12, name, ref_map12 > 0);
}

char *eval_table_format_refs(const struct eval_row *rows, size_t n, const double *refs,
                             const char *const *ref_names, int n_refs)
{
    size_t w = 8;
    struct hm_buf b = {0};
    for (size_t r = 0; r < n; r++)
        if (strlen(rows[r].name) > w)
            w = strlen(rows[r].name);
    /* the headline: MAP@12 (and its share of the reference) */
    hm_buf_printf(&b, "%-*s %8s %7s", (int)w, "model", "users", "MAP@12");
    for (int k = 0; k < n_refs; k++) {
        char h[40];
        snprintf(h, sizeof h, "%%%s", ref_names[k]);
        hm_buf_printf(&b, " %8s", h);
    }
    hm_buf_printf(&b, " %7s %7s %7s\n", "P@12", "R@12", "NDCG@12");
    for (size_t r = 0; r < n; r++) {
        const struct eval_sum *s = &rows[r].sum;
        double u = s->users ? (double)s->users : 1.0;
        hm_buf_printf(&b, "%-*s %8llu %7.5f", (int)w, rows[r].name, (unsigned long long)s->users,
               eval_map12(s));
        for (int k = 0; k < n_refs; k++)
            if (refs[k] > 0)
                hm_buf_printf(&b, " %7.1f%%", 100.0 * eval_map12(s) / refs[k]);
            else
                hm_buf_printf(&b, " %8s", "-");
        hm_buf_printf(&b, " %7.4f %7.4f %7.4f\n", s->precision[EVAL_NK - 1] / u,
               s->recall[EVAL_NK - 1] / u, s->ndcg[EVAL_NK - 1] / u);
    }
    /* every metric at every cutoff: one block per metric, one column per k */
    static const char *const metric[4] = {"MAP", "precision", "recall", "NDCG"};
    for (int m = 0; m < 4; m++) {
        hm_buf_printf(&b, "\n%-*s", (int)w, metric[m]);
        for (int i = 0; i < EVAL_NK; i++) {
            char k[8];
            snprintf(k, sizeof k, "@%d", eval_ks[i]);
            hm_buf_printf(&b, " %8s", k);
        }
        hm_buf_printf(&b, "\n");
        for (size_t r = 0; r < n; r++) {
            const struct eval_sum *s = &rows[r].sum;
            double u = s->users ? (double)s->users : 1.0;
            const double *v = m == 0 ? s->ap : m == 1 ? s->precision : m == 2 ? s->recall : s->ndcg;
            hm_buf_printf(&b, "%-*s", (int)w, rows[r].name);
            for (int i = 0; i < EVAL_NK; i++)
                hm_buf_printf(&b, " %8.5f", v[i] / u);
            hm_buf_printf(&b, "\n");
        }
    }
    return hm_buf_take(&b);
}

void eval_recall_add(struct eval_recall *r, const uint32_t *cands, size_t n_cands,
                        const uint32_t *truth, size_t n_truth)
{
    for (size_t i = 0; i < n_truth; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = truth[j] == truth[i];
        if (dup)
            continue;
        r->total++;
        for (size_t j = 0; j < n_cands; j++)
            if (cands[j] == truth[i]) {
                r->hits++;
                break;
            }
    }
}
