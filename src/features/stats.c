/* Column means and standard deviations of a feature matrix (the statistics a neural network
 * standardises its inputs with), two passes in double precision over fixed row chunks whose
 * partial sums are added in chunk order, so the result does not depend on the threads. */
#include "features/feat_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct stats_job {
    const float *x;
    uint64_t n, chunk;
    uint32_t n_cols;
    const double *mean;   /* NULL in the first pass */
    double *part;         /* (n_chunks, n_cols) */
};

static int stats_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct stats_job *j = ud;
    for (size_t c = begin; c < end; c++) {
        double *s = j->part + c * j->n_cols;
        memset(s, 0, j->n_cols * sizeof *s);
        uint64_t r1 = (c + 1) * j->chunk < j->n ? (c + 1) * j->chunk : j->n;
        for (uint64_t r = c * j->chunk; r < r1; r++) {
            const float *row = j->x + r * j->n_cols;
            if (j->mean)
                for (uint32_t k = 0; k < j->n_cols; k++) {
                    double d = row[k] - j->mean[k];
                    s[k] += d * d;
                }
            else
                for (uint32_t k = 0; k < j->n_cols; k++)
                    s[k] += row[k];
        }
    }
    return 0;
}

void feat_stats(const float *x, uint64_t n, uint32_t n_cols, double *mean, double *std)
{
    memset(mean, 0, n_cols * sizeof *mean);
    memset(std, 0, n_cols * sizeof *std);
    if (n == 0 || n_cols == 0)
        return;
    uint64_t chunk = (n + 1023) / 1024;
    if (chunk < 1024)
        chunk = 1024;
    uint64_t n_chunks = (n + chunk - 1) / chunk;
    struct stats_job j = {x, n, chunk, n_cols, NULL, hm_xmalloc_array(n_chunks * n_cols, sizeof(double))};
    for (int pass = 0; pass < 2; pass++) {
        double *out = pass ? std : mean;
        j.mean = pass ? mean : NULL;
        hm_parallel_chunks(0, n_chunks, 1, stats_range, &j);
        for (uint64_t c = 0; c < n_chunks; c++)
            for (uint32_t k = 0; k < n_cols; k++)
                out[k] += j.part[c * n_cols + k];
        for (uint32_t k = 0; k < n_cols; k++)
            out[k] /= (double)n;
    }
    for (uint32_t k = 0; k < n_cols; k++)
        std[k] = sqrt(std[k]);
    free(j.part);
}
