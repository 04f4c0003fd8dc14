/* synth/oracle.c: the oracle's files. For each of the last K weeks of the data and the
 * held-out test week after it (when simulated):
 *   oracle/week_<first day>_oracle.csv  customer_id,prediction  (the Kaggle submission format,
 *        one row per customer who buys in that week: the model's top-12 for that customer)
 *   oracle/week_<first day>_truth.csv   customer_id,purchases   (unique articles bought that
 *        week, space separated, in order of first purchase)
 *   oracle/summary.tsv                  week, buyers, MAP@12 of the oracle and of the baselines,
 *                                       and whether the week is in the data ("data") or the
 *                                       held-out week after it ("test")
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

/* Rows [lo, hi) of recs that fall in week w (recs sorted by day). */
static void week_rows(const struct synth_rec *recs, size_t n, int w, size_t *lo, size_t *hi)
{
    size_t a = 0;
    while (a < n && (int32_t)recs[a].day < 7 * w)
        a++;
    size_t b = a;
    while (b < n && (int32_t)recs[b].day < 7 * w + 7)
        b++;
    *lo = a, *hi = b;
}

/* Week w's two files (the oracle's top-12 and the purchases of every buyer, customer order)
 * and the oracle's MAP@12 against those purchases into res. */
static int write_week(const struct synth_model *m, const struct synth_rec *recs, size_t n,
                      const uint32_t *oracle_top, const uint8_t *oracle_n, int K, int k, int w,
                      const char *odir, struct synth_week_result *res, char *line)
{
    const struct synth_catalogue *c = m->cat;
    size_t lo, hi;
    week_rows(recs, n, w, &lo, &hi);
    struct wrow *wr = hm_xmalloc_array(hi - lo + 1, sizeof *wr);
    for (size_t i = lo; i < hi; i++)
        wr[i - lo] = (struct wrow){recs[i].customer, (uint32_t)i, recs[i].article};
    qsort(wr, hi - lo, sizeof *wr, cmp_wrow);
    char d0[11], name[64];
    hm_date_format(res->first_day, d0);
    struct hm_awriter wo, wt;
    snprintf(name, sizeof name, "week_%s_oracle.csv", d0);
    int rc = open_in(&wo, odir, name);
    if (rc) {
        free(wr);
        return rc;
    }
    snprintf(name, sizeof name, "week_%s_truth.csv", d0);
    if ((rc = open_in(&wt, odir, name))) {
        hm_awriter_abort(&wo);
        free(wr);
        return rc;
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
    if ((rc = hm_awriter_commit(&wo))) {
        hm_awriter_abort(&wt);
        return rc;
    }
    if ((rc = hm_awriter_commit(&wt)))
        return rc;
    res->n_buyers = buyers;
    res->map_oracle = buyers ? s / buyers : 0;
    return 0;
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
                             "map12_own_last12_then_prev_top12\tmap12_alltime_top12\tweek\n";
    hm_awriter_write(&ws, sh, sizeof sh - 1);
    sum->n_weeks = K;
    char *line = hm_xmalloc(4096);
    for (int k = 0; k < K && !rc; k++) {
        int w = first_week + k, held = w >= m->wk->n_data;
        struct synth_week_result *res = &sum->weeks[k];
        res->first_day = m->wk->day0 + 7 * w;
        if ((rc = write_week(m, recs, n, oracle_top, oracle_n, K, k, w, odir, res, line)))
            break;
        struct synth_baselines bl;
        synth_baselines_compute(&tx, res->first_day, &bl);
        res->map_prev_top12 = bl.prev_top12;
        res->map_own_pop = bl.own_pop;
        res->map_alltime_top12 = bl.alltime_top12;
        char d0[11], d1[11];
        hm_date_format(res->first_day, d0);
        hm_date_format(res->first_day + 6, d1);
        int len = snprintf(line, 4096, "%s\t%s\t%llu\t%.6f\t%.6f\t%.6f\t%.6f\t%s\n", d0, d1,
                           (unsigned long long)res->n_buyers, res->map_oracle, res->map_prev_top12,
                           res->map_own_pop, res->map_alltime_top12, held ? "test" : "data");
        hm_awriter_write(&ws, line, (size_t)len);
        hm_info("synth: %s %s: %llu buyers, MAP@12 oracle %.4f, previous week's top-12 %.4f, "
                "own last 12 + top-12 %.4f, all-time top-12 %.4f", held ? "held-out test week" : "week", d0,
                (unsigned long long)res->n_buyers, res->map_oracle, res->map_prev_top12, res->map_own_pop,
                res->map_alltime_top12);
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
