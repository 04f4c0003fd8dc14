/* Style topics: a topic model (probabilistic latent semantic analysis) of the customers'
 * purchases over colour x pattern pairs (perceived colour master x graphical appearance).
 *
 * A shopper's look is not one colour or one pattern but a family of combinations (muted
 * solids, bright prints, dark denim, ...), and a family is not the product of its colours'
 * and its patterns' shares. The model reads every customer as a mix theta of k styles, each
 * a distribution phi over the pairs:
 *     P(pair | customer) = sum_t theta_t phi_t(pair)
 * fitted by expectation-maximisation on a pseudo-random share of the customers (every row
 * weighs exp(-age / tau)). A customer's own mix is then estimated with phi fixed, starting
 * from, and shrunk towards, the shop's mix with a prior weight of kappa rows. Their lift of a
 * pair is P(pair | customer) / P(pair): how much more of that combination they are likely to
 * buy than the shop's purchases hold. Deterministic: the sample is a hash of the customer row
 * and phi starts from a fixed seed. */
#include "recall/recall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STYLE_SEED 0x5717EULL
#define STYLE_FOLD_ITERS 10   /* EM steps of one customer's mix */
#define STYLE_ALPHA 0.1       /* Dirichlet smoothing of a fitted customer's mix */
#define STYLE_BETA 1e-3       /* ... and of a style's pairs */
#define STYLE_CUSTOMER_PAIRS 512 /* distinct pairs of one customer read (the first ones) */

void recall_style_release(struct recall_style *st)
{
    free(st->pair);
    free(st->phi);
    free(st->phi_pair);
    free(st->mix);
    free(st->marg);
    memset(st, 0, sizeof *st);
}

static int in_sample(uint32_t c, double share)
{
    return (double)(hm_mix64((uint64_t)c ^ STYLE_SEED) >> 11) * 0x1.0p-53 < share;
}

/* One customer's E step: the responsibilities of their rows under theta and phi, added to
 * acc (k); returns the rows' total weight. phi_acc (k, n_pairs), when not NULL, receives
 * them too. */
static double e_step(const struct recall_style *st, const struct data_transactions *tx, uint64_t lo, uint64_t hi,
                     int32_t cutoff, double tau, const float *theta, double *acc, double *phi_acc)
{
    uint32_t k = st->k;
    double r[RECALL_STYLE_MAX], total = 0;
    for (uint64_t x = lo; x < hi; x++) {
        uint32_t p = st->pair[tx->article[x]];
        double w = exp(-(double)(cutoff - 1 - tx->day[x]) / tau), z = 0;
        for (uint32_t t = 0; t < k; t++)
            z += r[t] = (double)theta[t] * st->phi[(size_t)t * st->n_pairs + p];
        if (!(z > 0))
            continue;
        total += w;
        for (uint32_t t = 0; t < k; t++) {
            double v = w * r[t] / z;
            acc[t] += v;
            if (phi_acc)
                phi_acc[(size_t)t * st->n_pairs + p] += v;
        }
    }
    return total;
}

void recall_style_fit(const struct data_set *ds, int32_t start, int32_t cutoff, const struct recall_style_params *sp,
                      struct recall_style *st)
{
    const struct data_transactions *tx = &ds->tx;
    const struct data_articles *art = &ds->articles;
    uint32_t na = art->n, nc = ds->customers.n, k = (uint32_t)sp->k;
    memset(st, 0, sizeof *st);
    st->k = k;
    uint8_t *colour = hm_xmalloc((size_t)na + 1), *pattern = hm_xmalloc((size_t)na + 1);
    recall_capped_ids(art->num[IO_ART_PERCEIVED_COLOUR_MASTER_ID], na, colour);
    uint32_t n_patterns = recall_capped_ids(art->num[IO_ART_GRAPHICAL_APPEARANCE_NO], na, pattern);
    st->n_pairs = RECALL_CAPPED_VALUES * n_patterns;
    st->pair = hm_xmalloc_array((size_t)na + 1, sizeof *st->pair);
    for (uint32_t a = 0; a < na; a++)
        st->pair[a] = (uint32_t)colour[a] * n_patterns + pattern[a];
    free(colour);
    free(pattern);
    size_t np = st->n_pairs;
    st->phi = hm_xmalloc_array((size_t)k * np, sizeof *st->phi);
    st->mix = hm_xmalloc_array(k, sizeof *st->mix);
    st->marg = hm_xcalloc(np, sizeof *st->marg);
    struct hm_rng rng;
    hm_rng_seed(&rng, STYLE_SEED);
    for (size_t x = 0; x < (size_t)k * np; x++)
        st->phi[x] = (float)(0.5 + hm_rng_uniform(&rng));
    /* the sample: customers with rows in [start, cutoff) */
    uint32_t *users = hm_xmalloc_array((size_t)nc + 1, sizeof *users), nu = 0;
    for (uint32_t c = 0; c < nc; c++) {
        uint64_t lo, hi;
        prep_customer_rows(ds, c, start, cutoff - 1, &lo, &hi);
        if (hi > lo && in_sample(c, sp->share))
            users[nu++] = c;
    }
    float *theta = hm_xmalloc_array((size_t)nu * k + 1, sizeof *theta);
    for (size_t x = 0; x < (size_t)nu * k; x++)
        theta[x] = 1.0f / (float)k;
    double *phi_acc = hm_xmalloc_array((size_t)k * np, sizeof *phi_acc);
    double *mix = hm_xcalloc(k, sizeof *mix);
    for (uint32_t it = 0; it <= (uint32_t)sp->iters; it++) {
        /* normalise phi (the random start, then each M step's sums) */
        for (uint32_t t = 0; t < k; t++) {
            double s = 0;
            float *row = st->phi + (size_t)t * np;
            for (size_t p = 0; p < np; p++)
                s += row[p];
            for (size_t p = 0; p < np; p++)
                row[p] = (float)(row[p] / s);
        }
        if (it == (uint32_t)sp->iters)
            break;
        memset(phi_acc, 0, (size_t)k * np * sizeof *phi_acc);
        memset(mix, 0, k * sizeof *mix);
        for (uint32_t u = 0; u < nu; u++) {
            uint64_t lo, hi;
            prep_customer_rows(ds, users[u], start, cutoff - 1, &lo, &hi);
            double acc[RECALL_STYLE_MAX] = {0};
            float *th = theta + (size_t)u * k;
            double total = e_step(st, tx, lo, hi, cutoff, sp->tau, th, acc, phi_acc);
            for (uint32_t t = 0; t < k; t++) {
                th[t] = (float)((acc[t] + STYLE_ALPHA) / (total + k * STYLE_ALPHA));
                mix[t] += acc[t];
            }
        }
        for (size_t x = 0; x < (size_t)k * np; x++)
            st->phi[x] = (float)(phi_acc[x] + STYLE_BETA);
    }
    double mt = 0;
    for (uint32_t t = 0; t < k; t++)
        mt += mix[t];
    for (uint32_t t = 0; t < k; t++)
        st->mix[t] = mt > 0 ? (float)(mix[t] / mt) : 1.0f / (float)k;
    for (uint32_t t = 0; t < k; t++)
        for (size_t p = 0; p < np; p++)
            st->marg[p] += st->mix[t] * st->phi[(size_t)t * np + p];
    st->phi_pair = hm_xmalloc_array((size_t)k * np, sizeof *st->phi_pair);
    for (uint32_t t = 0; t < k; t++)
        for (size_t p = 0; p < np; p++)
            st->phi_pair[p * k + t] = st->phi[(size_t)t * np + p];
    st->n_fitted = nu;
    free(users);
    free(theta);
    free(phi_acc);
    free(mix);
}

void recall_style_customer(const struct recall_style *st, const struct recall_style_params *sp,
                           const struct data_transactions *tx, uint64_t lo, uint64_t hi, int32_t cutoff,
                           float *theta)
{
    uint32_t k = st->k, pairs[STYLE_CUSTOMER_PAIRS], n = 0;
    double w[STYLE_CUSTOMER_PAIRS], total = 0;
    /* their distinct pairs and weights (once: the EM steps below revisit only these) */
    for (uint64_t x = lo; x < hi; x++) {
        uint32_t p = st->pair[tx->article[x]], i = 0;
        while (i < n && pairs[i] != p)
            i++;
        if (i == n) {
            if (n == STYLE_CUSTOMER_PAIRS)
                continue;
            pairs[n] = p;
            w[n++] = 0;
        }
        double v = exp(-(double)(cutoff - 1 - tx->day[x]) / sp->tau);
        w[i] += v;
        total += v;
    }
    for (uint32_t t = 0; t < k; t++)
        theta[t] = st->mix[t];
    if (!(total + sp->kappa > 0))
        return;
    for (int it = 0; it < STYLE_FOLD_ITERS && n > 0; it++) {
        double acc[RECALL_STYLE_MAX] = {0}, r[RECALL_STYLE_MAX];
        for (uint32_t i = 0; i < n; i++) {
            double z = 0;
            const float *ph = st->phi_pair + (size_t)pairs[i] * k;
            for (uint32_t t = 0; t < k; t++)
                z += r[t] = (double)theta[t] * ph[t];
            if (z > 0)
                for (uint32_t t = 0; t < k; t++)
                    acc[t] += w[i] * r[t] / z;
        }
        for (uint32_t t = 0; t < k; t++)
            theta[t] = (float)((acc[t] + sp->kappa * st->mix[t]) / (total + sp->kappa));
    }
}

float recall_style_lift(const struct recall_style *st, const float *theta, uint32_t pair)
{
    double m = st->marg[pair], v = 0;
    if (!(m > 0))
        return 1.0f;
    const float *ph = st->phi_pair + (size_t)pair * st->k;
    for (uint32_t t = 0; t < st->k; t++)
        v += (double)theta[t] * ph[t];
    return (float)(v / m);
}
