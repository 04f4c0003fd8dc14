/* The baselines: popular, decayed popularity, and recent purchases + popular. */
#include "recall/recall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const recall_baseline_name[RECALL_NBASELINES] = {"popular", "decayed", "recent"};

const struct hm_setting recall_base_settings[] = {
    {"baseline.pop_days", HM_SET_INT, offsetof(struct recall_base_params, pop_days), "7", 1, 3650, 0,
     "days of sales that make the popular list"},
    {"baseline.decay_weeks", HM_SET_INT, offsetof(struct recall_base_params, decay_weeks), "4", 1, 520, 0,
     "weeks of sales for decayed popularity"},
    {"baseline.decay_tau", HM_SET_DOUBLE, offsetof(struct recall_base_params, decay_tau), "7", 0.01, 1e6, 0,
     "time constant (days) of decayed popularity"},
    {"baseline.recent_tau", HM_SET_DOUBLE, offsetof(struct recall_base_params, recent_tau), "30", 0.01, 1e6,
     0, "time constant (days) of a customer's own purchases"},
};
const size_t recall_base_n_settings = sizeof recall_base_settings / sizeof recall_base_settings[0];

int recall_baseline_find(const char *name)
{
    for (int i = 0; i < RECALL_NBASELINES; i++)
        if (!strcmp(name, recall_baseline_name[i]))
            return i;
    return -1;
}

/* ---- popularity ------------------------------------------------------------------- */

struct pop_job {
    const struct hm_dataset *ds;
    int32_t start, cutoff;
    double tau;
    double *score; /* (n_articles) */
};

static int pop_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct pop_job *j = ud;
    const struct hm_transactions *tx = &j->ds->tx;
    for (size_t a = begin; a < end; a++) {
        double s = 0;
        for (uint64_t k = tx->art_off[a]; k < tx->art_off[a + 1]; k++) {
            int32_t d = tx->day[tx->art_rows[k]];
            if (d >= j->start && d < j->cutoff)
                s += j->tau > 0 ? exp(-(double)(j->cutoff - 1 - d) / j->tau) : 1.0;
        }
        j->score[a] = s;
    }
    return 0;
}

/* Inserts (score, item) into a best-first list of at most k; ties: lower item first. */
static void top_insert(double *sc, uint32_t *it, uint32_t *n, uint32_t k, double s, uint32_t item)
{
    uint32_t i = *n;
    if (i == k) {
        if (s < sc[k - 1] || (s == sc[k - 1] && item > it[k - 1]))
            return;
        i = k - 1;
    } else {
        (*n)++;
    }
    while (i > 0 && (sc[i - 1] < s || (sc[i - 1] == s && it[i - 1] > item))) {
        sc[i] = sc[i - 1];
        it[i] = it[i - 1];
        i--;
    }
    sc[i] = s;
    it[i] = item;
}

uint32_t recall_top_articles(const struct hm_dataset *ds, int32_t start, int32_t cutoff, double tau,
                             uint32_t k, uint32_t *out)
{
    uint32_t na = ds->articles.n, n = 0;
    struct pop_job j = {ds, start, cutoff, tau, hm_xcalloc(na + 1, sizeof(double))};
    hm_parallel_chunks(0, na, 2048, pop_range, &j);
    double *sc = hm_xmalloc_array(k + 1, sizeof(double));
    for (uint32_t a = 0; a < na; a++)
        if (j.score[a] > 0)
            top_insert(sc, out, &n, k, j.score[a], a);
    free(sc);
    free(j.score);
    return n;
}

/* ---- per-customer predictions ---------------------------------------------------------- */

struct pred_job {
    const struct hm_dataset *ds;
    const struct recall_base_params *p;
    int kind;
    int32_t cutoff;
    const uint32_t *users;
    const uint32_t *fill; /* popular list */
    uint32_t n_fill;
    uint32_t *out;
    uint8_t *n_out;
};

static int pred_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct pred_job *j = ud;
    const struct hm_transactions *tx = &j->ds->tx;
    uint32_t cap = 256, *items = hm_xmalloc(cap * sizeof *items);
    double *sc = hm_xmalloc(cap * sizeof *sc);
    for (size_t i = begin; i < end; i++) {
        uint32_t *o = j->out + i * RECALL_K, n = 0;
        if (j->kind == RECALL_RECENT) {
            uint32_t c = j->users[i], m = 0;
            uint64_t b = tx->cust_off[c], e = tx->cust_off[c + 1];
            /* aggregate the customer's rows before the cutoff by article (rows are by day) */
            for (uint64_t r = b; r < e && (int32_t)tx->day[r] < j->cutoff; r++) {
                double w = exp(-(double)(j->cutoff - 1 - (int32_t)tx->day[r]) / j->p->recent_tau);
                uint32_t a = tx->article[r], x = 0;
                while (x < m && items[x] != a)
                    x++;
                if (x == m) {
                    if (m == cap) {
                        cap *= 2;
                        items = hm_xrealloc(items, cap * sizeof *items);
                        sc = hm_xrealloc(sc, cap * sizeof *sc);
                    }
                    items[m] = a;
                    sc[m++] = 0;
                }
                sc[x] += w;
            }
            double top_sc[RECALL_K];
            for (uint32_t x = 0; x < m; x++)
                top_insert(top_sc, o, &n, RECALL_K, sc[x], items[x]);
        }
        for (uint32_t f = 0; f < j->n_fill && n < RECALL_K; f++) {
            uint32_t a = j->fill[f], x = 0;
            while (x < n && o[x] != a)
                x++;
            if (x == n)
                o[n++] = a;
        }
        for (uint32_t x = n; x < RECALL_K; x++)
            o[x] = UINT32_MAX;
        j->n_out[i] = (uint8_t)n;
    }
    free(items);
    free(sc);
    return 0;
}

int recall_baseline_predict(const struct hm_dataset *ds, int kind, const struct recall_base_params *p,
                            int32_t cutoff, const uint32_t *users, uint32_t n, uint32_t *out,
                            uint8_t *n_out)
{
    if (kind < 0 || kind >= RECALL_NBASELINES)
        return hm_error(HM_EINVAL, "unknown baseline %d", kind);
    uint32_t fill[RECALL_K];
    uint32_t n_fill;
    if (kind == RECALL_DECAYED)
        n_fill = recall_top_articles(ds, cutoff - 7 * (int32_t)p->decay_weeks, cutoff, p->decay_tau,
                                     RECALL_K, fill);
    else
        n_fill = recall_top_articles(ds, cutoff - (int32_t)p->pop_days, cutoff, 0, RECALL_K, fill);
    struct pred_job j = {ds, p, kind, cutoff, users, fill, n_fill, out, n_out};
    return hm_parallel_chunks(0, n, 4096, pred_range, &j);
}
