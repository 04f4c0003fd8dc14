/* The network's inputs: finding the model's columns in a data set, the standardisation
 * statistics (training rows only) and gathering standardised rows into batches. */
#include "rank/nn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *tag_name(uint8_t tag)
{
    return tag == RANK_TOWER_USER ? "user" : tag == RANK_TOWER_ITEM ? "item" : "pair";
}

int nn_map_columns(const struct nn_model *m, const struct rank_data *d, uint32_t *col)
{
    if (m->n_in && (!d->col_name || !d->col_tower))
        return hm_error(HM_EINVAL, "nn: the data has no column names or tower tags");
    for (uint32_t i = 0; i < m->n_in; i++) {
        uint32_t c = 0;
        while (c < d->n_cols && strcmp(d->col_name[c], m->in_name[i]) != 0)
            c++;
        if (c == d->n_cols)
            return hm_error(HM_ENOTFOUND,
                            "nn: the data has no column '%s', one of the %u the network was trained on",
                            m->in_name[i], m->n_in);
        if (d->col_tower[c] != m->in_tower[i])
            return hm_error(HM_EINVAL,
                            "nn: column '%s' is tagged %s in the data but fed the %s tower in training",
                            m->in_name[i], tag_name(d->col_tower[c]), tag_name(m->in_tower[i]));
        col[i] = c;
    }
    if (!m->image_dim)
        return 0;
    if (!d->image)
        return hm_error(HM_EINVAL, "nn: the network has an image tower (%u-d embeddings) but the data "
                                   "has no image embeddings", m->image_dim);
    if (d->image_dim != m->image_dim)
        return hm_error(HM_EINVAL, "nn: the data's image embeddings have %u dimensions, the network's "
                                   "image tower %u", d->image_dim, m->image_dim);
    for (uint64_t r = 0; r < d->n_rows; r++)
        if (d->item[r] >= d->n_articles)
            return hm_error(HM_EINVAL, "nn: row %llu names article %u but there are image embeddings "
                                       "for %u articles", (unsigned long long)r, d->item[r], d->n_articles);
    return 0;
}

/* ---- standardisation --------------------------------------------------------------------------- */

int nn_fit_standardisation(struct nn_model *m, const struct rank_data *d, const uint32_t *col)
{
    uint32_t n_in = m->n_in;
    double *sum = hm_xcalloc(3 * (size_t)n_in + 1, sizeof *sum), *sq = sum + n_in, *cnt = sq + n_in;
    int rc = 0;
    /* two passes: means, then squared deviations (exact enough in double) */
    for (uint64_t r = 0; r < d->n_rows && !rc; r++) {
        const float *x = d->x + r * d->n_cols;
        for (uint32_t i = 0; i < n_in; i++) {
            float v = x[col[i]];
            if (isnan(v))
                continue;
            if (isinf(v)) {
                rc = hm_error(HM_EINVAL, "nn: training row %llu, column '%s' is infinite",
                              (unsigned long long)r, m->in_name[i]);
                break;
            }
            sum[i] += v;
            cnt[i]++;
        }
    }
    for (uint32_t i = 0; i < n_in; i++)
        sum[i] = cnt[i] ? sum[i] / cnt[i] : 0;
    for (uint64_t r = 0; r < d->n_rows && !rc; r++) {
        const float *x = d->x + r * d->n_cols;
        for (uint32_t i = 0; i < n_in; i++) {
            float v = x[col[i]];
            if (!isnan(v))
                sq[i] += (v - sum[i]) * (v - sum[i]);
        }
    }
    for (uint32_t i = 0; i < n_in && !rc; i++) {
        double sd = cnt[i] ? sqrt(sq[i] / cnt[i]) : 0;
        m->in_mean[i] = (float)sum[i];
        m->in_scale[i] = sd > 0 ? (float)(1 / sd) : 1;
    }
    free(sum);
    if (rc || !m->image_dim)
        return rc;

    /* image: each article weighted by its training rows */
    uint32_t dim = m->image_dim;
    uint64_t *rows = hm_xcalloc((size_t)d->n_articles + 1, sizeof *rows);
    for (uint64_t r = 0; r < d->n_rows; r++)
        rows[d->item[r]]++;
    double *mean = hm_xcalloc(3 * (size_t)dim, sizeof *mean), *var = mean + dim, *n = var + dim;
    for (uint32_t a = 0; a < d->n_articles && !rc; a++) {
        if (!rows[a])
            continue;
        const float *e = d->image + (size_t)a * dim;
        for (uint32_t j = 0; j < dim; j++) {
            if (!isfinite(e[j])) {
                rc = hm_error(HM_EINVAL, "nn: the image embedding of article %u has a value that is "
                                         "not finite (%g; a missing image is a zero row)", a, (double)e[j]);
                break;
            }
            mean[j] += (double)rows[a] * e[j];
        }
        for (uint32_t j = 0; j < dim; j++)
            n[j] += (double)rows[a];
    }
    for (uint32_t j = 0; j < dim; j++)
        mean[j] = n[j] ? mean[j] / n[j] : 0;
    for (uint32_t a = 0; a < d->n_articles && !rc; a++) {
        if (!rows[a])
            continue;
        const float *e = d->image + (size_t)a * dim;
        for (uint32_t j = 0; j < dim; j++)
            var[j] += (double)rows[a] * (e[j] - mean[j]) * (e[j] - mean[j]);
    }
    for (uint32_t j = 0; j < dim && !rc; j++) {
        double sd = n[j] ? sqrt(var[j] / n[j]) : 0;
        m->img_mean[j] = (float)mean[j];
        m->img_scale[j] = sd > 0 ? (float)(1 / sd) : 1;
    }
    free(mean);
    free(rows);
    return rc;
}

/* ---- gathering ------------------------------------------------------------------------------- */

size_t nn_gather(const struct nn_model *m, const uint32_t *col, const struct rank_data *d, int t,
                 const uint64_t *rows, uint64_t r0, size_t n, float *out)
{
    /* the model's inputs of tower t: user, item and pair columns follow each other */
    uint32_t lo = t == NN_USER ? 0 : t == NN_ITEM ? m->a.in[NN_USER] : m->a.in[NN_USER] + m->a.in[NN_ITEM];
    uint32_t w = m->a.in[t];
    const uint32_t *c = col + lo;
    const float *mu = m->in_mean + lo, *sc = m->in_scale + lo;
    for (size_t i = 0; i < n; i++) {
        const float *x = d->x + (rows ? rows[i] : r0 + i) * d->n_cols;
        float *y = out + i * w;
        int bad = 0;
        for (uint32_t j = 0; j < w; j++) {
            float v = x[c[j]];
            bad |= isinf(v);
            y[j] = isnan(v) ? 0.0f : (v - mu[j]) * sc[j];
        }
        if (bad)
            return i;
    }
    return n;
}

/* y (n) = (e - mu) * sc */
static void standardise(float *restrict y, const float *restrict e, const float *restrict mu,
                        const float *restrict sc, size_t n)
{
    NN_VLOOP(j, n, y[j] = (e[j] - mu[j]) * sc[j]);
}

size_t nn_gather_image(const struct nn_model *m, const struct rank_data *d, const uint32_t *art,
                       size_t n, float *out, int check)
{
    uint32_t dim = m->image_dim;
    for (size_t i = 0; i < n; i++) {
        const float *e = d->image + (size_t)art[i] * dim;
        if (check)
            for (uint32_t j = 0; j < dim; j++)
                if (!isfinite(e[j]))
                    return i;
        standardise(out + i * dim, e, m->img_mean, m->img_scale, dim);
    }
    return n;
}
