/* Benchmark of the three-tower network at the reference profile's size:
 *
 *   bench_nn [train_rows] [score_rows]      (defaults 700000 and 3000000)
 *
 * 1. sgemm peak: the best of 3 square 4096 sgemm calls on hm_threads() OpenBLAS threads; and
 *    the forward and backward GEMMs of one training batch at the reference shapes, for 2 s
 *    each way: one caller with OpenBLAS on hm_threads() threads, and hm_threads() threads each
 *    computing its share of every product's columns with OpenBLAS on one (what training does).
 * 2. One training epoch (default settings: batch 2048, the reference widths) on synthetic rows
 *    with 43 user, 29 item and 8 pair columns and 512-d image embeddings of 105,542 articles:
 *    the FLOPs of the forward and backward GEMMs (nn_arch_train_flops) over the epoch's wall
 *    time, next to the peak.
 * 3. Scoring: nn_score over score_rows candidate rows in groups of 150 (user columns equal
 *    within a group, item columns equal per article): the time of the per-article parts and of
 *    the per-row part, rows per second, and the time for the full data set's ~200 M pairs.
 *
 * Prints one line of key=value figures; bench/bench_nn.sh runs it several times under the
 * bench lock and prints medians. Like hmrec it sets OPENBLAS_CORETYPE and re-executes itself
 * when this CPU needs it; HMREC_THREADS sets the threads. */
#include "rank/nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_ARTICLES 105542
#define N_USER 43
#define N_ITEM 29
#define N_PAIR 8
#define IMAGE_DIM 512
#define FULL_PAIRS 200e6

static double t_setup, t_art, t_rows; /* from nn_score's debug line */

static void log_hook(int level, const char *msg, void *ud)
{
    (void)ud;
    unsigned long long rows;
    unsigned groups, arts;
    if (sscanf(msg, "nn: scored %llu rows of %u groups: setup %lf s, %u distinct articles %lf s, rows %lf s",
               &rows, &groups, &t_setup, &arts, &t_art, &t_rows) == 6)
        return;
    if (level <= HM_LOG_INFO)
        fprintf(stderr, "%s\n", msg);
}

/* CPU seconds of the whole process (all threads) */
static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static double sgemm_peak(void)
{
    int n = 4096;
    float *a = hm_xmalloc_array((size_t)n * n, sizeof *a), *b = hm_xmalloc_array((size_t)n * n, sizeof *b);
    float *c = hm_xmalloc_array((size_t)n * n, sizeof *c);
    for (size_t i = 0; i < (size_t)n * n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    openblas_set_num_threads(hm_threads());
    double best = 0;
    for (int k = 0; k < 3; k++) {
        int64_t t0 = hm_now_ns();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double g = 2.0 * n * n * (double)n / hm_seconds_since(t0) / 1e9;
        best = g > best ? g : best;
    }
    free(a);
    free(b);
    free(c);
    return best;
}

/* ---- the GEMMs of one training batch: OpenBLAS's threads against a split by columns ------- */

/* (in, out) of every Linear at the reference widths; first: a tower's first (no dinp) */
static const int gemm_shape[9][3] = {{43, 256, 1}, {256, 128, 0}, {29, 128, 1}, {128, 64, 0},
                                     {512, 256, 1}, {256, 128, 0}, {320, 256, 0}, {256, 128, 0},
                                     {128, 64, 0}};
#define GB 2048

struct gemm_run {
    float *a, *w, *c, *dw;
    int T;
    pthread_barrier_t bar;
    _Atomic int stop;
    int reps;
};

/* One batch's forward and backward GEMMs; thread t of T computes its share of the columns
 * (T = 1: all of them, with OpenBLAS free to use its own threads). */
static void batch_gemms(struct gemm_run *g, int t)
{
    for (int l = 0; l < 9; l++) {
        int C = gemm_shape[l][0], O = gemm_shape[l][1];
        int o0 = O * t / g->T, o1 = O * (t + 1) / g->T, c0 = C * t / g->T, c1 = C * (t + 1) / g->T;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, GB, o1 - o0, C, 1, g->a, C,
                    g->w + (size_t)o0 * C, C, 0, g->c + o0, O);
        if (g->T > 1)
            pthread_barrier_wait(&g->bar);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, C, GB, 1, g->c + o0, O, g->a, C,
                    1, g->dw + (size_t)o0 * C, C);
        if (!gemm_shape[l][2])
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, GB, c1 - c0, O, 1, g->c, O, g->w + c0,
                        C, 0, g->a + c0, C);
        if (g->T > 1)
            pthread_barrier_wait(&g->bar);
    }
}

static void *gemm_worker(void *arg)
{
    struct gemm_run *g = ((void **)arg)[0];
    int t = (int)(intptr_t)((void **)arg)[1];
    for (;;) {
        batch_gemms(g, t);
        pthread_barrier_wait(&g->bar);
        if (g->stop)
            return NULL;
        pthread_barrier_wait(&g->bar);
    }
}

/* GFLOP/s of the batch GEMMs for about 2 s: split = 0, one caller and OpenBLAS on hm_threads()
 * threads; split = 1, hm_threads() threads each on its columns with OpenBLAS on one. */
static double gemm_rate(int split)
{
    struct gemm_run g = {.T = split ? hm_threads() : 1};
    g.a = hm_xcalloc((size_t)GB * 512, sizeof *g.a);
    g.w = hm_xcalloc((size_t)512 * 512, sizeof *g.w);
    g.c = hm_xcalloc((size_t)GB * 512, sizeof *g.c);
    g.dw = hm_xcalloc((size_t)512 * 512, sizeof *g.dw);
    for (size_t i = 0; i < (size_t)GB * 512; i++)
        g.a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)512 * 512; i++)
        g.w[i] = (float)(i % 5) * 0.01f;
    double flop = 0;
    for (int l = 0; l < 9; l++)
        flop += (gemm_shape[l][2] ? 4.0 : 6.0) * GB * gemm_shape[l][0] * gemm_shape[l][1];
    openblas_set_num_threads(split ? 1 : hm_threads());
    pthread_t id[64];
    void *args[64][2];
    if (g.T > 64)
        g.T = 64;
    if (g.T > 1)
        pthread_barrier_init(&g.bar, NULL, (unsigned)g.T);
    for (int t = 1; t < g.T; t++) {
        args[t][0] = &g, args[t][1] = (void *)(intptr_t)t;
        pthread_create(&id[t], NULL, gemm_worker, args[t]);
    }
    int64_t t0 = hm_now_ns();
    for (;;) {
        batch_gemms(&g, 0);
        g.reps++;
        int done = hm_seconds_since(t0) > 2;
        if (g.T > 1) {
            g.stop = done;
            pthread_barrier_wait(&g.bar);
            if (done)
                break;
            pthread_barrier_wait(&g.bar);
        } else if (done) {
            break;
        }
    }
    double rate = flop * g.reps / hm_seconds_since(t0) / 1e9;
    for (int t = 1; t < g.T; t++)
        pthread_join(id[t], NULL);
    if (g.T > 1)
        pthread_barrier_destroy(&g.bar);
    free(g.a);
    free(g.w);
    free(g.c);
    free(g.dw);
    return rate;
}

/* Synthetic rows in groups of group_rows: user columns from a per-group vector, item columns
 * from a per-article vector, pair columns per row. The arrays are owned by the caller. */
struct data {
    struct rank_data d;
    float *x, *label;
    uint64_t *off;
    uint32_t *user, *truth, *item;
};

static char *names[N_USER + N_ITEM + N_PAIR];
static uint8_t towers[N_USER + N_ITEM + N_PAIR];

static void make(struct data *s, uint64_t rows, uint32_t group_rows, const float *item_feat,
                 const float *image, uint64_t seed)
{
    uint32_t nc = N_USER + N_ITEM + N_PAIR, ng = (uint32_t)((rows + group_rows - 1) / group_rows);
    struct hm_rng r;
    hm_rng_seed(&r, seed);
    s->x = hm_xmalloc_array(rows * nc, sizeof *s->x);
    s->label = hm_xmalloc_array(rows, sizeof *s->label);
    s->item = hm_xmalloc_array(rows, sizeof *s->item);
    s->off = hm_xmalloc_array((size_t)ng + 1, sizeof *s->off);
    s->user = hm_xmalloc_array(ng, sizeof *s->user);
    s->truth = hm_xmalloc_array(ng, sizeof *s->truth);
    float u[N_USER];
    for (uint32_t g = 0; g < ng; g++) {
        uint64_t b = (uint64_t)g * group_rows, e = b + group_rows < rows ? b + group_rows : rows;
        s->off[g] = b;
        s->user[g] = g;
        s->truth[g] = 0;
        for (int j = 0; j < N_USER; j++)
            u[j] = (float)hm_rng_normal(&r);
        for (uint64_t i = b; i < e; i++) {
            float *x = s->x + i * nc;
            uint32_t a = (uint32_t)hm_rng_below(&r, N_ARTICLES);
            s->item[i] = a;
            memcpy(x, u, sizeof u);
            memcpy(x + N_USER, item_feat + (size_t)a * N_ITEM, N_ITEM * sizeof *x);
            for (int j = 0; j < N_PAIR; j++)
                x[N_USER + N_ITEM + j] = (float)hm_rng_uniform(&r);
            /* about 3% positives, more likely when u0 and the article's first feature agree */
            double z = u[0] * x[N_USER] - 3.5 + 0.5 * hm_rng_normal(&r);
            s->label[i] = z > -1.6f;
            s->truth[g] += s->label[i] > 0;
        }
    }
    s->off[ng] = rows;
    s->d = (struct rank_data){.n_rows = rows, .n_cols = nc, .x = s->x,
                              .col_name = (const char *const *)names, .col_tower = towers,
                              .n_groups = ng, .group_off = s->off, .group_user = s->user,
                              .group_truth = s->truth, .item = s->item, .label = s->label,
                              .image = image, .image_dim = IMAGE_DIM, .n_articles = N_ARTICLES};
}

static void release(struct data *s)
{
    free(s->x);
    free(s->label);
    free(s->item);
    free(s->off);
    free(s->user);
    free(s->truth);
}

int main(int argc, char **argv)
{
    hm_blas_ensure_coretype(argv);
    uint64_t train_rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 700000;
    uint64_t score_rows = argc > 2 ? strtoull(argv[2], NULL, 10) : 3000000;
    if (getenv("HMREC_THREADS"))
        hm_threads_set(atoi(getenv("HMREC_THREADS")));
    hm_log_set_hook(log_hook, NULL);
    for (int c = 0; c < N_USER + N_ITEM + N_PAIR; c++) {
        towers[c] = c < N_USER ? RANK_TOWER_USER : c < N_USER + N_ITEM ? RANK_TOWER_ITEM : RANK_TOWER_PAIR;
        names[c] = hm_xasprintf("%s%d", c < N_USER ? "u" : c < N_USER + N_ITEM ? "i" : "p", c);
    }
    /* per-article features and L2-normalised image embeddings */
    struct hm_rng r;
    hm_rng_seed(&r, 1);
    float *item_feat = hm_xmalloc_array((size_t)N_ARTICLES * N_ITEM, sizeof *item_feat);
    float *image = hm_xmalloc_array((size_t)N_ARTICLES * IMAGE_DIM, sizeof *image);
    for (size_t i = 0; i < (size_t)N_ARTICLES * N_ITEM; i++)
        item_feat[i] = (float)hm_rng_normal(&r);
    for (size_t a = 0; a < N_ARTICLES; a++) {
        double n2 = 0;
        float *e = image + a * IMAGE_DIM;
        for (int j = 0; j < IMAGE_DIM; j++)
            e[j] = (float)hm_rng_normal(&r), n2 += (double)e[j] * e[j];
        for (int j = 0; j < IMAGE_DIM; j++)
            e[j] = (float)(e[j] / sqrt(n2));
    }

    double peak = sgemm_peak();
    double gemm_blas = gemm_rate(0), gemm_split = gemm_rate(1);

    /* one training epoch */
    struct data tr;
    make(&tr, train_rows, 20, item_feat, image, 2);
    struct nn_params p;
    hm_settings_defaults(nn_settings, nn_n_settings, &p);
    p.epochs = 1;
    struct nn_model *m;
    struct nn_curve curve;
    double c0 = cpu_seconds();
    if (nn_train(&p, &tr.d, NULL, &m, &curve) != 0) {
        fprintf(stderr, "bench_nn: %s\n", hm_last_error());
        return 1;
    }
    double epoch_s = curve.epoch[0].seconds, flops = nn_arch_train_flops(&m->a, train_rows);
    double gflops = flops / epoch_s / 1e9, train_cpu = cpu_seconds() - c0;
    release(&tr);

    /* scoring */
    struct data sc;
    make(&sc, score_rows, 150, item_feat, image, 3);
    float *out = hm_xmalloc_array(score_rows, sizeof *out);
    int64_t t0 = hm_now_ns();
    c0 = cpu_seconds();
    if (nn_score(m, &sc.d, out) != 0) {
        fprintf(stderr, "bench_nn: %s\n", hm_last_error());
        return 1;
    }
    double score_cpu = cpu_seconds() - c0;
    double score_s = hm_seconds_since(t0), rate = (double)score_rows / t_rows;
    double full_s = t_setup * FULL_PAIRS / (double)score_rows + t_art + FULL_PAIRS / rate;

    printf("kernel=%s threads=%d sgemm_peak_gflops=%.1f batch_gemms_openblas_threads_gflops=%.1f "
           "batch_gemms_split_gflops=%.1f params=%zu train_rows=%llu epoch_s=%.3f "
           "train_gflop=%.1f train_gflops=%.1f share_of_peak=%.3f train_cpu_s=%.2f loss=%.5f "
           "score_rows=%llu score_s=%.3f score_cpu_s=%.2f setup_s=%.3f articles_s=%.3f rows_s=%.3f rows_per_s=%.0f full_200m_s=%.1f "
           "peak_rss_mib=%.0f\n",
           hm_blas_corename(), hm_threads(), peak, gemm_blas, gemm_split, nn_n_params(m), (unsigned long long)train_rows,
           epoch_s, flops / 1e9, gflops, gflops / peak, train_cpu, curve.epoch[0].loss,
           (unsigned long long)score_rows, score_s, score_cpu, t_setup, t_art, t_rows, rate, full_s,
           hm_peak_rss() / 1048576.0);
    free(out);
    release(&sc);
    nn_curve_release(&curve);
    nn_free(&m);
    free(item_feat);
    free(image);
    for (int c = 0; c < N_USER + N_ITEM + N_PAIR; c++)
        free(names[c]);
    return 0;
}
