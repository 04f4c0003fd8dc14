/* Benchmark of Stage 3 (features) on a store, one mode per process (so peak RSS belongs to
 * that mode):
 *
 *   bench_features train STORE [IMAGE]   the reference profile's training set: the prepare
 *       defaults' sample (50,000 customers) and 11 training weeks; for each week, the
 *       sample's customers who bought in it, their candidates (recall engine, pool 150, as
 *       hmrec candidates builds them), then their features; the weeks' matrices are stacked
 *       in memory as the rankers' training set would be.
 *   bench_features all STORE [IMAGE]     every customer's candidates as of the day after the
 *       data (the submission's cutoff), streamed in blocks of 8,192 customers (about 1.2 M rows, 0.55 GiB of features): candidates,
 *       then features into a reused buffer, then discarded.
 *
 *   bench_features signal STORE [IMAGE]  not a timing: the validation week's buyers, their
 *       candidates and features, and every feature's AUC for "bought in the week".
 *
 *   bench_features text STORE            (first, not timed) the pipeline's text stage: the
 *       article text embeddings (TF-IDF + SVD) into STORE/../bench_features_work, which
 *       the other modes read.
 *
 * IMAGE: image embeddings (.npy with its ids file, or .csv); hmrec synth writes
 * image_embeddings.npy. Prints
 * key=value figures; feature times are measured apart from candidate generation.
 * bench/bench_features.sh builds and runs it. HMREC_THREADS sets the worker threads. */
#include "core/core.h"
#include "data/data.h"
#include "features/features.h"
#include "pipeline/pipeline.h"
#include "prep/prep.h"
#include "recall/recall.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU seconds of the whole process (all threads). */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_features: %s: %s\n", what, hm_last_error());
    exit(1);
}

static void recall_defaults(struct recall_params *rp)
{
    size_t n;
    const struct hm_setting *t = recall_settings_table(&n);
    hm_settings_defaults(t, n, rp);
}

static struct data_article_matrix text; /* the text stage's article embeddings */

/* Engine + image + context for one cutoff. */
struct setup {
    struct prep_items items;
    struct recall_engine e;
    struct feat_ctx ctx;
    double s_engine, s_ctx;
};

static void setup_init(struct setup *s, const struct data_set *ds, const struct prep_params *pp,
                       const struct recall_params *rp, const struct feat_image *im, int32_t cutoff)
{
    int32_t start = prep_history_start(ds, pp, cutoff);
    if (prep_items_filter(&s->items, ds, start, cutoff, pp->min_item_purchases))
        die("items");
    int64_t t = hm_now_ns();
    struct recall_inputs rin = {.keep = s->items.keep, .text_emb = text.x, .text_dim = text.dim};
    if (recall_engine_init(&s->e, ds, rp, start, cutoff, &rin))
        die("recall engine");
    s->s_engine = hm_seconds_since(t);
    struct feat_inputs in = {ds, text.x, ds->articles.n, text.dim, im};
    struct feat_params fp;
    hm_settings_defaults(feat_settings, feat_n_settings, &fp);
    t = hm_now_ns();
    if (feat_ctx_init(&s->ctx, &in, cutoff, &fp))
        die("features context");
    s->s_ctx = hm_seconds_since(t);
}

static void setup_release(struct setup *s)
{
    feat_ctx_release(&s->ctx);
    recall_engine_release(&s->e);
    prep_items_release(&s->items);
}

/* ---- the training set --------------------------------------------------------------------- */

static void run_train(const struct data_set *ds, const struct feat_image *im)
{
    const uint32_t nc = feat_n_cols();
    struct prep_params pp;
    hm_settings_defaults(prep_settings, prep_n_settings, &pp);
    struct recall_params rp;
    recall_defaults(&rp);
    struct prep_windows win;
    if (prep_windows_init(&win, ds, &pp))
        die("windows");
    struct prep_sample sample;
    if (prep_sample_draw(&sample, ds, &pp, win.val.start))
        die("sample");
    float *x = NULL;
    uint64_t rows = 0, cap = 0, users_all = 0, hash = 0;
    double s_engine = 0, s_cand = 0, s_ctx = 0, s_feat = 0, cpu_feat = 0;
    int64_t t_all = hm_now_ns();
    for (int w = 0; w < win.n_train; w++) {
        struct prep_truth truth;
        if (prep_truth_build(&truth, ds, win.train[w]))
            die("truth");
        /* the sample's customers who bought in the week (both lists ascending) */
        uint32_t *users = hm_xmalloc_array((size_t)truth.n_users + 1, sizeof *users), n = 0;
        for (uint32_t i = 0, k = 0; i < sample.n && k < truth.n_users;) {
            if (sample.user[i] < truth.user[k])
                i++;
            else if (sample.user[i] > truth.user[k])
                k++;
            else
                users[n++] = sample.user[i++], k++;
        }
        struct setup s;
        setup_init(&s, ds, &pp, &rp, im, win.train[w].start);
        struct recall_candidates c;
        recall_candidates_init(&c);
        int64_t t = hm_now_ns();
        if (recall_candidates_build(&s.e, users, n, (uint32_t)rp.pool, &c, NULL))
            die("candidates");
        double sc = hm_seconds_since(t);
        if (rows + c.n > cap) {
            cap = (rows + c.n) * 3 / 2;
            x = hm_xrealloc(x, cap * nc * sizeof(float));
        }
        t = hm_now_ns();
        double cpu = cpu_seconds();
        if (feat_block(&s.ctx, &c, x + rows * nc))
            die("features");
        double sf = hm_seconds_since(t);
        cpu_feat += cpu_seconds() - cpu;
        hash = hm_hash64(x + rows * nc, c.n * nc * sizeof(float), hash);
        char day[11];
        hm_date_format(win.train[w].start, day);
        printf("week=%d cutoff=%s customers=%u rows=%llu engine_s=%.2f candidates_s=%.2f ctx_s=%.3f "
               "features_s=%.3f\n",
               w + 1, day, n, (unsigned long long)c.n, s.s_engine, sc, s.s_ctx, sf);
        fflush(stdout);
        rows += c.n;
        users_all += n;
        s_engine += s.s_engine;
        s_cand += sc;
        s_ctx += s.s_ctx;
        s_feat += sf;
        recall_candidates_release(&c);
        setup_release(&s);
        free(users);
        prep_truth_release(&truth);
    }
    double total = hm_seconds_since(t_all);
    printf("train weeks=%d customers=%llu rows=%llu cols=%d matrix_mib=%.0f engine_s=%.2f candidates_s=%.2f "
           "ctx_s=%.2f features_s=%.2f features_cpu_s=%.2f features_ctx_s=%.2f total_s=%.2f "
           "feature_rows_per_s=%.0f peak_rss_mib=%.0f hash=%016llx\n",
           win.n_train, (unsigned long long)users_all, (unsigned long long)rows, nc,
           (double)rows * nc * 4 / 1048576.0, s_engine, s_cand, s_ctx, s_feat, cpu_feat, s_ctx + s_feat,
           total, s_feat > 0 ? rows / s_feat : 0, (double)hm_peak_rss() / 1048576.0, (unsigned long long)hash);
    free(x);
    prep_sample_release(&sample);
    prep_windows_release(&win);
}

/* ---- signal: each feature's AUC against the validation week's purchases ------------------ */

static const float *auc_x;
static uint32_t auc_k, auc_nc;
static int cmp_row(const void *a, const void *b)
{
    float x = auc_x[*(const uint64_t *)a * auc_nc + auc_k], y = auc_x[*(const uint64_t *)b * auc_nc + auc_k];
    return (x > y) - (x < y);
}

/* The validation week's buyers, their candidates and features; for every column the AUC of
 * "bought the candidate in the week" (Mann-Whitney, ties averaged), strongest first. */
static void run_signal(const struct data_set *ds, const struct feat_image *im)
{
    struct prep_params pp;
    hm_settings_defaults(prep_settings, prep_n_settings, &pp);
    struct recall_params rp;
    recall_defaults(&rp);
    struct prep_windows win;
    if (prep_windows_init(&win, ds, &pp))
        die("windows");
    struct prep_truth truth;
    if (prep_truth_build(&truth, ds, win.val))
        die("truth");
    struct setup s;
    setup_init(&s, ds, &pp, &rp, im, win.val.start);
    struct recall_candidates c;
    recall_candidates_init(&c);
    if (recall_candidates_build(&s.e, truth.user, truth.n_users, (uint32_t)rp.pool, &c, NULL))
        die("candidates");
    const uint32_t nc = feat_n_cols();
    float *x = hm_xmalloc_array(c.n * nc + 1, sizeof(float));
    if (feat_block(&s.ctx, &c, x))
        die("features");
    uint8_t *label = hm_xcalloc(c.n + 1, 1);
    uint64_t pos = 0;
    for (uint32_t i = 0; i < c.n_users; i++) /* c.user == truth.user */
        for (uint64_t r = c.off[i]; r < c.off[i + 1]; r++)
            for (uint64_t k = truth.off[i]; k < truth.off[i + 1]; k++)
                if (truth.items[k] == c.item[r]) {
                    label[r] = 1;
                    pos++;
                    break;
                }
    uint64_t *order = hm_xmalloc_array(c.n + 1, sizeof *order);
    double auc[FEAT_MAX_COLS];
    auc_x = x;
    auc_nc = nc;
    for (uint32_t k = 0; k < nc; k++) {
        for (uint64_t r = 0; r < c.n; r++)
            order[r] = r;
        auc_k = k;
        qsort(order, c.n, sizeof *order, cmp_row);
        double rank_sum = 0;
        for (uint64_t i = 0; i < c.n;) {
            uint64_t j = i;
            while (j < c.n && x[order[j] * nc + k] == x[order[i] * nc + k])
                j++;
            double mid = (double)(i + 1 + j) / 2; /* average 1-based rank of the tie */
            for (uint64_t t = i; t < j; t++)
                if (label[order[t]])
                    rank_sum += mid;
            i = j;
        }
        double neg = (double)(c.n - pos);
        auc[k] = pos && neg ? (rank_sum - (double)pos * (pos + 1) / 2) / ((double)pos * neg) : 0.5;
    }
    printf("signal buyers=%u rows=%llu positives=%llu (AUC of each feature for \"bought in the week\")\n",
           c.n_users, (unsigned long long)c.n, (unsigned long long)pos);
    const char *const *names = feat_column_names();
    int idx[FEAT_MAX_COLS];
    for (int k = 0; k < (int)nc; k++)
        idx[k] = k;
    for (int i = 1; i < (int)nc; i++) /* by |AUC - 0.5|, descending */
        for (int j = i; j > 0 && fabs(auc[idx[j]] - 0.5) > fabs(auc[idx[j - 1]] - 0.5); j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    for (int i = 0; i < (int)nc; i++)
        printf("auc %-22s %.4f\n", names[idx[i]], auc[idx[i]]);
    free(order);
    free(label);
    free(x);
    recall_candidates_release(&c);
    setup_release(&s);
    prep_truth_release(&truth);
    prep_windows_release(&win);
}

/* ---- every customer, streamed -------------------------------------------------------------- */

static void run_all(const struct data_set *ds, const struct feat_image *im)
{
    struct prep_params pp;
    hm_settings_defaults(prep_settings, prep_n_settings, &pp);
    struct recall_params rp;
    recall_defaults(&rp);
    struct prep_windows win;
    if (prep_windows_init(&win, ds, &pp))
        die("windows");
    int32_t cutoff = win.test.start;
    prep_windows_release(&win);
    struct setup s;
    int64_t t0 = hm_now_ns();
    setup_init(&s, ds, &pp, &rp, im, cutoff);
    uint32_t nu = ds->customers.n, block = 8192;
    const char *lim = getenv("BENCH_CUSTOMERS"); /* a prefix of the customers (profiling) */
    if (lim && atol(lim) > 0 && (uint32_t)atol(lim) < nu)
        nu = (uint32_t)atol(lim);
    uint32_t *users = hm_xmalloc_array((size_t)nu + 1, sizeof *users);
    for (uint32_t i = 0; i < nu; i++)
        users[i] = i;
    const uint32_t nc = feat_n_cols();
    float *x = NULL;
    uint64_t cap = 0, rows = 0, hash = 0;
    double s_cand = 0, s_feat = 0, cpu_feat = 0;
    struct recall_stream st;
    recall_stream_init(&st, &s.e, users, nu, block, (uint32_t)rp.pool, NULL);
    for (;;) {
        const struct recall_candidates *c;
        int64_t t = hm_now_ns();
        int more = recall_stream_next(&st, &c);
        s_cand += hm_seconds_since(t);
        if (more < 0)
            die("candidates");
        if (more == 0)
            break;
        if (c->n > cap) {
            cap = c->n;
            free(x);
            x = hm_xmalloc_array(cap * nc + 1, sizeof(float));
        }
        t = hm_now_ns();
        double cpu = cpu_seconds();
        if (feat_block(&s.ctx, c, x))
            die("features");
        s_feat += hm_seconds_since(t);
        cpu_feat += cpu_seconds() - cpu;
        hash = hm_hash64(x, c->n * nc * sizeof(float), hash);
        rows += c->n;
    }
    recall_stream_release(&st);
    double total = hm_seconds_since(t0);
    char day[11];
    hm_date_format(cutoff, day);
    printf("all cutoff=%s customers=%u rows=%llu cols=%u block_customers=%u engine_s=%.2f ctx_s=%.2f "
           "candidates_s=%.2f features_s=%.2f features_cpu_s=%.2f total_s=%.2f feature_rows_per_s=%.0f "
           "feature_rows_per_cpu_s=%.0f peak_rss_mib=%.0f hash=%016llx\n",
           day, nu, (unsigned long long)rows, nc, block, s.s_engine, s.s_ctx, s_cand, s_feat, cpu_feat,
           total, s_feat > 0 ? rows / s_feat : 0, cpu_feat > 0 ? rows / cpu_feat : 0,
           (double)hm_peak_rss() / 1048576.0, (unsigned long long)hash);
    free(x);
    free(users);
    setup_release(&s);
}

int main(int argc, char **argv)
{
    hm_blas_ensure_coretype(argv);
    if (argc < 3 || (strcmp(argv[1], "train") && strcmp(argv[1], "all") && strcmp(argv[1], "signal") &&
                     strcmp(argv[1], "text"))) {
        fprintf(stderr, "usage: bench_features text|train|all|signal STORE [IMAGE]\n");
        return 2;
    }
    const char *env = getenv("HMREC_THREADS");
    if (env && atoi(env) > 0)
        hm_threads_set(atoi(env));
    struct data_set ds;
    if (data_set_open(&ds, argv[2], DATA_SET_NOVERIFY))
        die(argv[2]);
    /* the text stage's embeddings, in a work directory next to the store: written by mode
     * "text" (untimed, run first by the script), read back here */
    char work[200], npy[300], ids[300];
    snprintf(work, sizeof work, "%s/../bench_features_work", argv[2]);
    snprintf(npy, sizeof npy, "%s/text_emb.npy", work);
    snprintf(ids, sizeof ids, "%s/text_emb.ids.txt", work);
    if (!strcmp(argv[1], "text")) {
        struct pipeline_config cfg;
        if (pipeline_config_load(&cfg, NULL, NULL, 0))
            die("config");
        snprintf(cfg.run.store, sizeof cfg.run.store, "%s", argv[2]);
        snprintf(cfg.run.work, sizeof cfg.run.work, "%s", work);
        struct pipeline p;
        pipeline_init(&p, &cfg);
        if (pipeline_text(&p))
            die("text stage");
        pipeline_release(&p);
        data_set_release(&ds);
        printf("text embeddings: %s\n", npy);
        return 0;
    }
    if (data_article_matrix_load(&text, &ds, npy, ids))
        die("text embeddings (run 'bench_features text STORE' first)");
    struct feat_image im;
    int have_image = argc > 3;
    int64_t t = hm_now_ns();
    if (have_image && feat_image_load(&im, &ds, argv[3], FEAT_IMAGE_DIM))
        die(argv[3]);
    printf("threads=%d kernel=%s image_load_s=%.2f image_missing=%u\n", hm_threads(), hm_blas_corename(),
           hm_seconds_since(t), have_image ? im.n_missing : ds.articles.n);
    if (!strcmp(argv[1], "train"))
        run_train(&ds, have_image ? &im : NULL);
    else if (!strcmp(argv[1], "signal"))
        run_signal(&ds, have_image ? &im : NULL);
    else
        run_all(&ds, have_image ? &im : NULL);
    if (have_image)
        feat_image_release(&im);
    data_article_matrix_release(&text);
    data_set_release(&ds);
    return 0;
}
