/* Scoring a boosted model: XGBoost's own prediction (gbm_predict_xgboost, on XGBoost's
 * threads) against gbm_predict (the compiled forest when it reproduces XGBoost exactly, rows
 * split over HMREC_THREADS threads), on the rows of a features table the pipeline wrote.
 * Prints rows per second of each (best of RUNS) and the largest difference of their margins.
 *
 *   bench_forest MODEL FEATURES.hmt [ROWS]
 */
#include "features/features.h"
#include "rank/gbm.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_forest MODEL FEATURES.hmt [ROWS]\n");
        return 2;
    }
    struct gbm_model *m;
    struct feat_table t;
    if (gbm_load(argv[1], &m) != 0 || feat_table_read(&t, argv[2]) != 0) {
        fprintf(stderr, "bench_forest: %s\n", hm_last_error());
        return 1;
    }
    uint64_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : t.n;
    if (n > t.n)
        n = t.n;
    uint32_t nc = t.n_cols;
    float *x = hm_xmalloc_array(n * nc + 1, sizeof *x);
    feat_table_rows(&t, 0, n, x);
    float *a = hm_xmalloc_array(n + 1, sizeof *a), *b = hm_xmalloc_array(n + 1, sizeof *b);
    int64_t t0 = hm_now_ns();
    if (gbm_predict(m, x, n < 2000 ? n : 2000, nc, b) != 0) { /* compiles the forest */
        fprintf(stderr, "bench_forest: %s\n", hm_last_error());
        return 1;
    }
    double compile = hm_seconds_since(t0);
    int runs = getenv("RUNS") ? atoi(getenv("RUNS")) : 3;
    double best_x = 1e30, best_f = 1e30;
    for (int r = 0; r < runs; r++) {
        t0 = hm_now_ns();
        if (gbm_predict_xgboost(m, x, n, nc, a) != 0) {
            fprintf(stderr, "bench_forest: %s\n", hm_last_error());
            return 1;
        }
        double s = hm_seconds_since(t0);
        best_x = s < best_x ? s : best_x;
        t0 = hm_now_ns();
        if (gbm_predict(m, x, n, nc, b) != 0) {
            fprintf(stderr, "bench_forest: %s\n", hm_last_error());
            return 1;
        }
        s = hm_seconds_since(t0);
        best_f = s < best_f ? s : best_f;
    }
    double diff = 0;
    uint64_t n_diff = 0;
    for (uint64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        diff = d > diff ? d : diff;
        n_diff += a[i] != b[i];
    }
    printf("model %s: %u rounds, %u columns; %llu rows, %d threads\n", argv[1], gbm_model_rounds(m), nc,
           (unsigned long long)n, hm_threads());
    printf("first call (compiles and checks the forest) %.3f s\n", compile);
    printf("xgboost      %.3f s  %.3f M rows/s\n", best_x, n / best_x / 1e6);
    printf("gbm_predict  %.3f s  %.3f M rows/s  (%.2fx; %s)\n", best_f, n / best_f / 1e6, best_x / best_f,
           gbm_predictor(m));
    printf("largest margin difference %.3g (%llu rows differ)\n", diff, (unsigned long long)n_diff);
    gbm_free(&m);
    feat_table_release(&t);
    free(x);
    free(a);
    free(b);
    return 0;
}
