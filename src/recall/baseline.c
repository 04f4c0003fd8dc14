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

uint32_t recall_top_articles(const struct data_set *ds, int32_t start, int32_t cutoff, double tau,
                             uint32_t k, uint32_t *out)
{
    uint32_t na = ds->articles.n, n = 0;
    double *score = hm_xcalloc(na + 1, sizeof(double));
    recall_article_counts(ds, start, cutoff, tau, score, NULL);
    struct hm_hit *hits = hm_xmalloc_array((size_t)k + 1, sizeof *hits);
    struct hm_topk top;
    hm_topk_init(&top, hits, k);
    for (uint32_t a = 0; a < na; a++)
        if (score[a] > 0)
            hm_topk_push(&top, (float)score[a], a);
    n = hm_topk_sort(&top);
    for (uint32_t i = 0; i < n; i++)
        out[i] = hits[i].id;
    free(hits);
    free(score);
    return n;
}

/* ---- per-customer predictions ---------------------------------------------------------- */

struct pred_job {
    const struct data_set *ds;
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
    struct recall_hist h;
    recall_hist_init(&h);
    for (size_t i = begin; i < end; i++) {
        uint32_t *o = j->out + i * RECALL_K, n = 0;
        if (j->kind == RECALL_RECENT) {
            /* the customer's own purchases by recency x frequency (repurchase.c) */
            recall_hist_build(&h, j->ds, j->users[i], 0, j->cutoff, j->p->recent_tau);
            for (; n < h.n && n < RECALL_K; n++)
                o[n] = h.item[n];
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
    recall_hist_release(&h);
    return 0;
}

int recall_baseline_predict(const struct data_set *ds, int kind, const struct recall_base_params *p,
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
