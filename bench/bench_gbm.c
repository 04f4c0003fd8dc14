/* Benchmark of the boosted rankers at a realistic size: a synthetic candidate set of customer
 * groups (100 candidates each, 150 feature columns: customer, article and pair features, a
 * known utility, about 2% positives) is split and sampled as the pipeline does, then every
 * model kind trains on it, capped at ROUNDS rounds:
 *
 *   bench_gbm [ROWS] [ROUNDS] [KIND ...]     (defaults: 2000000, 100, every kind)
 *
 * ROWS is the size of the rankers' training set aimed at (the held-out 15% and the groups
 * without a positive come on top). Environment: HMREC_THREADS (threads), NEG_SHARE (sampling:
 * share of negatives kept in the training set, default 1 = all), SEED, GBM_SET (settings
 * overrides "gbm.key=value" separated by spaces, e.g. "gbm.depth=6 gbm.xendcg_order=3").
 *
 * Prints one line of key=value figures per model: training time, the time inside XGBoost,
 * the share outside it (our sampling, metric, objective and copies), held-out MAP@12, and
 * MAP@12 on an independent test set (a fifth as many customers), and prediction speed with
 * gbm_predict (rows/s over the test set, best of 3). */
#include "rank/gbm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_PER_GROUP 100u
#define N_COLS 150u
#define N_USER 30u   /* columns 0..29: the customer's, the same on every row of a group */
#define N_ITEM 40u   /* columns 30..69: the article's, the same wherever it appears */
#define N_ITEMS 20000u

/* ---- synthetic candidates ---------------------------------------------------------------------- */

struct gen {
    uint64_t seed;
    uint32_t n_groups;
    float *x, *label;
    uint32_t *item, *truth, *user;
    uint64_t *off;
    double bias;
};

/* The article's features: a function of its id only. */
static void item_features(uint64_t seed, uint32_t item, float *v)
{
    struct hm_rng r;
    hm_rng_seed2(&r, seed ^ 0x17e3, item);
    for (uint32_t j = 0; j < N_ITEM; j++)
        v[j] = j % 3 == 0 ? (float)hm_rng_below(&r, 50) : (float)hm_rng_normal(&r);
}

static int gen_groups(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct gen *G = ud;
    for (size_t g = begin; g < end; g++) {
        struct hm_rng r;
        hm_rng_seed2(&r, G->seed, g);
        float user[N_USER];
        for (uint32_t j = 0; j < N_USER; j++)
            user[j] = j % 4 == 0 ? (float)hm_rng_below(&r, 100) : (float)hm_rng_normal(&r);
        uint32_t pos = 0;
        for (uint32_t i = 0; i < ROWS_PER_GROUP; i++) {
            uint64_t row = g * ROWS_PER_GROUP + i;
            float *v = G->x + row * N_COLS;
            memcpy(v, user, sizeof user);
            uint32_t it = (uint32_t)(hm_rng_uniform(&r) * hm_rng_uniform(&r) * N_ITEMS); /* skewed */
            item_features(G->seed, it, v + N_USER);
            for (uint32_t j = N_USER + N_ITEM; j < N_COLS; j++) {
                double z = hm_rng_normal(&r);
                v[j] = j % 5 == 0 && hm_rng_uniform(&r) < 0.05 ? NAN
                       : j % 7 == 0                            ? (float)floor(exp(z))
                                                               : (float)z;
            }
            /* the utility: pair, item and customer effects, thresholds and interactions */
            const float *p = v + N_USER + N_ITEM, *a = v + N_USER;
            double u = 1.2 * p[1] + 0.8 * a[1] + 0.6 * p[2] * user[1] + 0.5 * (p[3] > 1) -
                       0.4 * fabs(a[2]) + 0.3 * p[4] * a[4] + 0.02 * a[0] - 0.01 * user[0] +
                       (isnan(p[0]) ? 0.3 : 0.2 * p[0]);
            G->label[row] = hm_rng_uniform(&r) < 1 / (1 + exp(-(u - G->bias))) ? 1.0f : 0.0f;
            pos += G->label[row] > 0;
            G->item[row] = it;
        }
        G->truth[g] = pos + (uint32_t)(hm_rng_uniform(&r) < 0.5);
        G->user[g] = (uint32_t)g;
        G->off[g + 1] = (g + 1) * ROWS_PER_GROUP;
    }
    return 0;
}

/* Generates n_groups groups of candidates (seed decides everything). */
static void gen_init(struct gen *G, uint64_t seed, uint32_t n_groups)
{
    memset(G, 0, sizeof *G);
    G->seed = seed;
    G->n_groups = n_groups;
    uint64_t n = (uint64_t)n_groups * ROWS_PER_GROUP;
    G->x = hm_xmalloc_array(n * N_COLS, sizeof *G->x);
    G->label = hm_xmalloc_array(n, sizeof *G->label);
    G->item = hm_xmalloc_array(n, sizeof *G->item);
    G->truth = hm_xmalloc_array(n_groups, sizeof *G->truth);
    G->user = hm_xmalloc_array(n_groups, sizeof *G->user);
    G->off = hm_xcalloc((size_t)n_groups + 1, sizeof *G->off);
    G->bias = 4.9;
    hm_parallel_for(0, n_groups, gen_groups, G);
}

static void gen_release(struct gen *G)
{
    free(G->x);
    free(G->label);
    free(G->item);
    free(G->truth);
    free(G->user);
    free(G->off);
}

static struct rank_data gen_view(const struct gen *G, char **names)
{
    struct rank_data d = {(uint64_t)G->n_groups * ROWS_PER_GROUP, N_COLS, G->x,
                          (const char *const *)names, NULL, G->n_groups, G->off, G->user,
                          G->truth, G->item, G->label, NULL, 0, N_ITEMS};
    return d;
}

static char **col_names(void)
{
    char **n = malloc(N_COLS * sizeof *n);
    for (uint32_t c = 0; c < N_COLS; c++)
        n[c] = hm_xasprintf(c < N_USER ? "user_%u" : c < N_USER + N_ITEM ? "item_%u" : "pair_%u", c);
    return n;
}

/* ---- one model ------------------------------------------------------------------------------- */

static double best_of3_predict(const struct gbm_model *m, const struct rank_data *d, float *out)
{
    double best = INFINITY;
    for (int i = 0; i < 3; i++) {
        int64_t t0 = hm_now_ns();
        if (gbm_predict_data(m, d, out))
            return NAN;
        double s = hm_seconds_since(t0);
        best = s < best ? s : best;
    }
    return d->n_rows / best;
}

int main(int argc, char **argv)
{
    uint64_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 2000000;
    long rounds = argc > 2 ? atol(argv[2]) : 100;
    const char *t = getenv("HMREC_THREADS");
    if (t && atoi(t) > 0)
        hm_threads_set(atoi(t));
    double neg_share = getenv("NEG_SHARE") ? atof(getenv("NEG_SHARE")) : 1.0;
    uint64_t seed = getenv("SEED") ? strtoull(getenv("SEED"), NULL, 10) : 1;

    struct gbm_params p;
    gbm_params_defaults(&p);
    p.rounds = rounds;
    p.neg_share = neg_share;
    p.seed = (long)seed;
    if (getenv("GBM_SET")) {
        char *list = hm_xstrdup(getenv("GBM_SET")), *save = NULL;
        for (char *kv = strtok_r(list, " ", &save); kv; kv = strtok_r(NULL, " ", &save))
            if (hm_settings_override(gbm_settings, gbm_n_settings, &p, kv)) {
                fprintf(stderr, "bench_gbm: %s\n", hm_last_error());
                return 2;
            }
        free(list);
    }
    if (gbm_params_check(&p)) {
        fprintf(stderr, "bench_gbm: %s\n", hm_last_error());
        return 2;
    }
    enum gbm_kind kinds[8];
    int n_kinds = 0;
    for (int i = 3; i < argc && n_kinds < 8; i++)
        if (gbm_kind_parse(argv[i], &p, &kinds[n_kinds++])) {
            fprintf(stderr, "bench_gbm: %s\n", hm_last_error());
            return 2;
        }
    if (!n_kinds)
        for (int k = 0; k < GBM_NKINDS; k++)
            kinds[n_kinds++] = (enum gbm_kind)k;

    /* about 87% of groups have a positive; 85% of those train. The test set: other customers
     * from the same distribution, a fifth as many */
    int64_t t0 = hm_now_ns();
    struct gen G, T;
    uint32_t n_groups = (uint32_t)(rows / ROWS_PER_GROUP / 0.85 / 0.87) + 1;
    gen_init(&G, seed, n_groups);
    gen_init(&T, seed + 1000, n_groups / 5 > 1000 ? n_groups / 5 : 1000);
    char **names = col_names();
    struct rank_data all = gen_view(&G, names), test = gen_view(&T, names);
    uint64_t n = all.n_rows;
    uint64_t pos = 0;
    for (uint64_t r = 0; r < n; r++)
        pos += G.label[r] > 0;
    printf("data groups=%u rows=%llu cols=%u positives=%.4f threads=%d neg_share=%g gen_s=%.2f "
           "settings=\"%s\" peak_rss_mib=%.0f\n", G.n_groups, (unsigned long long)n, N_COLS,
           (double)pos / n, hm_threads(), neg_share, hm_seconds_since(t0),
           getenv("GBM_SET") ? getenv("GBM_SET") : "", hm_peak_rss() / 1048576.0);
    fflush(stdout);

    /* sampling and the binned datasets: one for the classifier, one for the rankers */
    struct rank_set train[2], hold[2];
    struct gbm_dataset *ds[2] = {NULL, NULL};
    double sample_s[2] = {0}, data_s[2] = {0};
    int have[2] = {0, 0};
    for (int i = 0; i < n_kinds; i++) {
        struct rank_sample_params sp;
        gbm_sample_params(&p, kinds[i], &sp);
        int w = sp.keep_empty;
        if (have[w])
            continue;
        t0 = hm_now_ns();
        if (rank_sample(&all, &sp, &train[w], &hold[w])) {
            fprintf(stderr, "bench_gbm: %s\n", hm_last_error());
            return 1;
        }
        sample_s[w] = hm_seconds_since(t0);
        double rss_sampled = hm_peak_rss() / 1048576.0;
        if (gbm_dataset_new(&p, &train[w].d, &hold[w].d, &ds[w])) {
            fprintf(stderr, "bench_gbm: %s\n", hm_last_error());
            return 1;
        }
        data_s[w] = gbm_dataset_seconds(ds[w]);
        have[w] = 1;
        printf("set keep_empty=%d train_rows=%llu train_groups=%u holdout_rows=%llu "
               "holdout_groups=%u sample_s=%.2f dataset_s=%.2f peak_rss_mib_sampled=%.0f "
               "peak_rss_mib_dataset=%.0f\n", w, (unsigned long long)train[w].d.n_rows,
               train[w].d.n_groups, (unsigned long long)hold[w].d.n_rows, hold[w].d.n_groups,
               sample_s[w], data_s[w], rss_sampled, hm_peak_rss() / 1048576.0);
        fflush(stdout);
    }

    double total = 0, outside = 0;
    for (int w = 0; w < 2; w++) {
        total += sample_s[w] + data_s[w];
        outside += sample_s[w];
    }
    for (int i = 0; i < n_kinds; i++) {
        struct rank_sample_params sp;
        gbm_sample_params(&p, kinds[i], &sp);
        int w = sp.keep_empty;
        struct gbm_model *m;
        struct gbm_report rep;
        if (gbm_train_on(kinds[i], &p, ds[w], &m, &rep)) {
            fprintf(stderr, "bench_gbm: %s\n", hm_last_error());
            return 1;
        }
        float *score = hm_xmalloc_array(test.n_rows, sizeof *score);
        double rps = best_of3_predict(m, &test, score);
        double test_map = rank_map12(&test, score, NULL);
        /* as if this model were trained alone: its sampling and dataset included */
        double alone = sample_s[w] + data_s[w] + rep.seconds;
        double ours = sample_s[w] + rep.seconds - rep.seconds_xgb;
        printf("model=%s rounds=%u kept=%u map12=%.5f test_map12=%.5f train_s=%.2f "
               "per_round_s=%.3f xgb_s=%.2f holdout_predict_s=%.2f objective_s=%.2f metric_s=%.2f "
               "alone_s=%.2f outside_share=%.4f predict_rows_per_s=%.0f peak_rss_mib=%.0f\n",
               gbm_kind_name(kinds[i]), rep.rounds, rep.best_rounds, rep.best_map12, test_map,
               rep.seconds, rep.seconds / rep.rounds, rep.seconds_xgb, rep.seconds_holdout,
               rep.seconds_objective, rep.seconds_metric, alone, ours / alone, rps,
               hm_peak_rss() / 1048576.0);
        fflush(stdout);
        total += rep.seconds;
        outside += rep.seconds - rep.seconds_xgb;
        free(score);
        gbm_free(&m);
        gbm_report_release(&rep);
    }
    printf("total_s=%.2f outside_s=%.2f outside_share=%.4f peak_rss_mib=%.0f\n", total, outside,
           outside / total, hm_peak_rss() / 1048576.0);
    for (int w = 0; w < 2; w++)
        if (have[w]) {
            gbm_dataset_free(&ds[w]);
            rank_set_release(&train[w]);
            rank_set_release(&hold[w]);
        }
    for (uint32_t c = 0; c < N_COLS; c++)
        free(names[c]);
    free(names);
    gen_release(&G);
    gen_release(&T);
    return 0;
}
