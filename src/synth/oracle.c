/* synth/oracle.c: the oracle's files. For each of the last K weeks:
 *   oracle/week_<first day>_oracle.csv  customer_id,prediction  (the Kaggle submission format,
 *        one row per customer who buys in that week: the model's top-12 for that customer)
 *   oracle/week_<first day>_truth.csv   customer_id,purchases   (unique articles bought that
 *        week, space separated, in order of first purchase)
 *   oracle/summary.tsv                  week, buyers, MAP@12 of the oracle and of the baselines
 * The oracle's MAP@12 is measured here against the rows actually generated. */
#include "synth/synth_internal.h"
#include "eval/eval.h"

#include <stdlib.h>
#include <string.h>

struct wrow { uint32_t c, idx, a; };

static int cmp_wrow(const void *x, const void *y)
{
    const struct wrow *a = x, *b = y;
    if (a->c != b->c)
        return a->c < b->c ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int open_in(struct hm_awriter *w, const char *dir, const char *name)
{
    char *path = hm_path_join(dir, name);
    int rc = hm_awriter_open(w, path);
    free(path);
    return rc;
}

int synth_oracle_write(const struct synth_model *m, const struct synth_rec *recs, size_t n,
                       const uint32_t *oracle_top, const uint8_t *oracle_n, int first_week, int K,
                       const char *dir, struct synth_summary *sum)
{
    const struct synth_catalogue *c = m->cat;
    char *odir = hm_path_join(dir, "oracle");
    int rc = hm_mkdirs(odir);
    if (rc) {
        free(odir);
        return rc;
    }
    /* plain columns for the baselines */
    int32_t *day = hm_xmalloc_array(n ? n : 1, sizeof(int32_t));
    uint32_t *cust = hm_xmalloc_array(n ? n : 1, sizeof(uint32_t));
    uint32_t *art = hm_xmalloc_array(n ? n : 1, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        day[i] = m->wk->day0 + recs[i].day;
        cust[i] = recs[i].customer;
        art[i] = recs[i].article;
    }
    struct synth_txcols tx = {n, day, cust, art, NULL, NULL, m->cu->n, c->n};
    struct hm_awriter ws;
    if ((rc = open_in(&ws, odir, "summary.tsv")))
        goto out;
    static const char sh[] = "week_first_day\tweek_last_day\tbuyers\tmap12_oracle\tmap12_prev_week_top12\t"
                             "map12_own_last12_then_prev_top12\tmap12_alltime_top12\n";
    hm_awriter_write(&ws, sh, sizeof sh - 1);
    sum->n_weeks = K;
    char *line = hm_xmalloc(4096);
    for (int k = 0; k < K; k++) {
        int w = first_week + k;
        int32_t wd = m->wk->day0 + 7 * w;
        struct synth_week_result *res = &sum->weeks[k];
        res->first_day = wd;
        /* rows of the week, grouped by customer */
        size_t lo = 0, hi = 0;
        while (lo < n && (int32_t)recs[lo].day < 7 * w)
            lo++;
        hi = lo;
        while (hi < n && (int32_t)recs[hi].day < 7 * w + 7)
            hi++;
        struct wrow *wr = hm_xmalloc_array(hi - lo + 1, sizeof *wr);
        for (size_t i = lo; i < hi; i++)
            wr[i - lo] = (struct wrow){recs[i].customer, (uint32_t)i, recs[i].article};
        qsort(wr, hi - lo, sizeof *wr, cmp_wrow);
        char d0[11], d1[11], name[64];
        hm_date_format(wd, d0);
        hm_date_format(wd + 6, d1);
        struct hm_awriter wo, wt;
        snprintf(name, sizeof name, "week_%s_oracle.csv", d0);
        if ((rc = open_in(&wo, odir, name))) {
            free(wr);
            break;
        }
        snprintf(name, sizeof name, "week_%s_truth.csv", d0);
        if ((rc = open_in(&wt, odir, name))) {
            hm_awriter_abort(&wo);
            free(wr);
            break;
        }
        hm_awriter_write(&wo, "customer_id,prediction\n", 23);
        hm_awriter_write(&wt, "customer_id,purchases\n", 22);
        uint32_t truth[512];
        double s = 0;
        size_t buyers = 0;
        for (size_t i = 0; i < hi - lo;) {
            uint32_t cc = wr[i].c;
            size_t nt = 0;
            for (; i < hi - lo && wr[i].c == cc; i++) {
                int dup = 0;
                for (size_t q = 0; q < nt; q++)
                    dup |= truth[q] == wr[i].a;
                if (!dup && nt < 512)
                    truth[nt++] = wr[i].a;
            }
            const uint32_t *top = oracle_top + ((size_t)cc * K + k) * 12;
            int no = oracle_n[(size_t)cc * K + k];
            HM_ASSERT(no > 0); /* every buyer of an oracle week was scored by the oracle */
            s += eval_ap_at_k(top, (size_t)no, truth, nt, 12);
            buyers++;
            char *q = line;
            synth_customer_hex(m->cu, cc, q);
            q += 64;
            *q++ = ',';
            for (int j = 0; j < no; j++) {
                synth_article_id(c, top[j], q);
                q += 10;
                *q++ = j + 1 < no ? ' ' : '\n';
            }
            hm_awriter_write(&wo, line, (size_t)(q - line));
            q = line + 65;
            for (size_t j = 0; j < nt && j < 300; j++) {
                synth_article_id(c, truth[j], q);
                q += 10;
                *q++ = j + 1 < nt && j + 1 < 300 ? ' ' : '\n';
            }
            hm_awriter_write(&wt, line, (size_t)(q - line));
        }
        free(wr);
        if ((rc = hm_awriter_commit(&wo)) || (rc = hm_awriter_commit(&wt)))
            break;
        res->n_buyers = buyers;
        res->map_oracle = buyers ? s / buyers : 0;
        struct synth_baselines bl;
        synth_baselines_compute(&tx, wd, &bl);
        res->map_prev_top12 = bl.prev_top12;
        res->map_own_pop = bl.own_pop;
        res->map_alltime_top12 = bl.alltime_top12;
        int len = snprintf(line, 4096, "%s\t%s\t%llu\t%.6f\t%.6f\t%.6f\t%.6f\n", d0, d1,
                           (unsigned long long)buyers, res->map_oracle, res->map_prev_top12,
                           res->map_own_pop, res->map_alltime_top12);
        hm_awriter_write(&ws, line, (size_t)len);
        hm_info("synth: week %s: %zu buyers, MAP@12 oracle %.4f, previous week's top-12 %.4f, "
                "own last 12 + top-12 %.4f, all-time top-12 %.4f", d0, buyers, res->map_oracle,
                res->map_prev_top12, res->map_own_pop, res->map_alltime_top12);
    }
    free(line);
    if (rc)
        hm_awriter_abort(&ws);
    else
        rc = hm_awriter_commit(&ws);
out:
    free(day);
    free(cust);
    free(art);
    free(odir);
    return rc;
}
