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
#include "comm/comm.h"

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
    free(st->mix);
    free(st->marg);
    memset(st, 0, sizeof *st);
}

static int in_sample(uint32_t c, double share)
{
    return (double)(hm_mix64((uint64_t)c ^ STYLE_SEED) >> 11) * 0x1.0p-53 < share;
}

/* A customer's distinct pairs (at most STYLE_CUSTOMER_PAIRS, the first ones) and their
 * weights, each row weighing exp(-age / tau), from their rows [lo, hi); returns how many. */
static uint32_t customer_pairs(const struct recall_style *st, const struct data_transactions *tx, uint64_t lo,
                               uint64_t hi, int32_t cutoff, double tau, uint32_t *pairs, double *w)
{
    uint32_t n = 0;
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
        w[i] += exp(-(double)(cutoff - 1 - tx->day[x]) / tau);
    }
    return n;
}

/* One E step for one customer: the responsibilities of their weighted pairs under theta and
 * phi, added to acc (k) and, when not NULL, to phi_acc (n_pairs, k); returns the weights'
 * total. */
static double e_step(const struct recall_style *st, const uint32_t *pairs, const double *w, uint32_t n,
                     const float *theta, double *acc, double *phi_acc)
{
    uint32_t k = st->k;
    double r[RECALL_STYLE_MAX], total = 0;
    for (uint32_t i = 0; i < n; i++) {
        const float *ph = st->phi + (size_t)pairs[i] * k;
        double z = 0;
        for (uint32_t t = 0; t < k; t++)
            z += r[t] = (double)theta[t] * ph[t];
        total += w[i];
        if (!(z > 0))
            continue;
        for (uint32_t t = 0; t < k; t++) {
            double v = w[i] * r[t] / z;
            acc[t] += v;
            if (phi_acc)
                phi_acc[(size_t)pairs[i] * k + t] += v;
        }
    }
    return total;
}

/* The fit's sample: customers, their pairs and weights. */
struct style_sample {
    HM_VEC(size_t) off;     /* (customers + 1) into pairs and w */
    HM_VEC(uint32_t) pairs;
    HM_VEC(double) w;
    HM_VEC(uint32_t) cust;  /* customer rows, ascending */
};

/* A customer's record: customer, pairs, then the pairs and their weights. */
struct sample_rec {
    uint32_t customer, n;
    const uint8_t *p;
};

static int sample_rec_cmp(const void *a, const void *b)
{
    const struct sample_rec *x = a, *y = b;
    return x->customer < y->customer ? -1 : x->customer > y->customer;
}

/* Every rank's sample to rank 0, in customer order (the one-process order of the fit's sums);
 * the other ranks' samples are emptied. */
static void sample_to_root(struct style_sample *sm)
{
    struct hm_buf b = {0};
    uint32_t nu = (uint32_t)sm->cust.n;
    for (uint32_t u = 0; u < nu; u++) {
        uint32_t head[2] = {sm->cust.v[u], (uint32_t)(sm->off.v[u + 1] - sm->off.v[u])};
        hm_buf_append(&b, (const char *)head, sizeof head);
        hm_buf_append(&b, (const char *)(sm->pairs.v + sm->off.v[u]), head[1] * sizeof *sm->pairs.v);
        hm_buf_append(&b, (const char *)(sm->w.v + sm->off.v[u]), head[1] * sizeof *sm->w.v);
    }
    uint64_t *counts = hm_xcalloc((size_t)comm_size(), sizeof *counts), total = 0;
    uint8_t *all = comm_gatherv(b.s, b.len, 0, counts);
    hm_buf_release(&b);
    sm->off.n = 1;
    sm->pairs.n = sm->w.n = sm->cust.n = 0;
    for (int r = 0; r < comm_size(); r++)
        total += counts[r];
    free(counts);
    if (!all)
        return;
    HM_VEC(struct sample_rec) recs = {0};
    for (uint64_t o = 0; o < total;) {
        struct sample_rec x;
        memcpy(&x.customer, all + o, 4);
        memcpy(&x.n, all + o + 4, 4);
        x.p = all + o + 8;
        HM_VEC_PUSH(&recs, x);
        o += 8 + (uint64_t)x.n * (sizeof(uint32_t) + sizeof(double));
    }
    qsort(recs.v, recs.n, sizeof *recs.v, sample_rec_cmp);
    for (size_t u = 0; u < recs.n; u++) {
        uint32_t n = recs.v[u].n;
        HM_GROW(sm->pairs.v, sm->pairs.cap, sm->pairs.n + n + 1);
        HM_GROW(sm->w.v, sm->w.cap, sm->w.n + n + 1);
        memcpy(sm->pairs.v + sm->pairs.n, recs.v[u].p, n * sizeof *sm->pairs.v);
        memcpy(sm->w.v + sm->w.n, recs.v[u].p + n * sizeof *sm->pairs.v, n * sizeof *sm->w.v);
        sm->pairs.n += n;
        sm->w.n += n;
        HM_VEC_PUSH(&sm->off, sm->pairs.n);
        HM_VEC_PUSH(&sm->cust, recs.v[u].customer);
    }
    free(recs.v);
    free(all);
}

void recall_style_fit(const struct data_set *ds, int32_t start, int32_t cutoff, const struct recall_style_params *sp,
                      struct recall_style *st)
{
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
    for (uint32_t t = 0; t < k; t++) /* style by style: the draws of the first fits */
        for (size_t p = 0; p < np; p++)
            st->phi[p * k + t] = (float)(0.5 + hm_rng_uniform(&rng));
    /* the sample (customers with rows in [start, cutoff)) and their weighted pairs, once; on
     * shards every rank's, in customer order, on rank 0, which fits the model */
    struct style_sample sm = {0};
    HM_VEC_PUSH(&sm.off, 0);
    for (uint32_t c = 0; c < nc; c++) {
        uint64_t lo, hi;
        const struct data_transactions *tx = prep_customer_rows(ds, c, start, cutoff - 1, &lo, &hi);
        if (hi <= lo || !in_sample(c, sp->share))
            continue;
        HM_GROW(sm.pairs.v, sm.pairs.cap, sm.pairs.n + STYLE_CUSTOMER_PAIRS);
        HM_GROW(sm.w.v, sm.w.cap, sm.w.n + STYLE_CUSTOMER_PAIRS);
        uint32_t n = customer_pairs(st, tx, lo, hi, cutoff, sp->tau, sm.pairs.v + sm.pairs.n, sm.w.v + sm.w.n);
        sm.pairs.n += n;
        sm.w.n += n;
        HM_VEC_PUSH(&sm.off, sm.pairs.n);
        HM_VEC_PUSH(&sm.cust, c);
    }
    if (comm_size() > 1)
        sample_to_root(&sm);
    uint32_t nu = (uint32_t)sm.off.n - 1;
    float *theta = hm_xmalloc_array((size_t)nu * k + 1, sizeof *theta);
    for (size_t x = 0; x < (size_t)nu * k; x++)
        theta[x] = 1.0f / (float)k;
    double *phi_acc = hm_xmalloc_array((size_t)k * np, sizeof *phi_acc);
    double *mix = hm_xcalloc(k, sizeof *mix);
    for (uint32_t it = 0; it <= (uint32_t)sp->iters && comm_rank() == 0; it++) {
        /* normalise phi over the pairs (the random start, then each M step's sums) */
        for (uint32_t t = 0; t < k; t++) {
            double sum = 0;
            for (size_t p = 0; p < np; p++)
                sum += st->phi[p * k + t];
            for (size_t p = 0; p < np; p++)
                st->phi[p * k + t] = (float)(st->phi[p * k + t] / sum);
        }
        if (it == (uint32_t)sp->iters)
            break;
        memset(phi_acc, 0, (size_t)k * np * sizeof *phi_acc);
        memset(mix, 0, k * sizeof *mix);
        for (uint32_t u = 0; u < nu; u++) {
            double acc[RECALL_STYLE_MAX] = {0};
            float *th = theta + (size_t)u * k;
            size_t b = sm.off.v[u];
            double total = e_step(st, sm.pairs.v + b, sm.w.v + b, (uint32_t)(sm.off.v[u + 1] - b), th, acc, phi_acc);
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
    for (size_t p = 0; p < np; p++)
        for (uint32_t t = 0; t < k; t++)
            st->marg[p] += st->mix[t] * st->phi[p * k + t];
    st->n_fitted = nu;
    comm_bcast(st->phi, (size_t)k * np * sizeof *st->phi, 0);
    comm_bcast(st->mix, k * sizeof *st->mix, 0);
    comm_bcast(st->marg, np * sizeof *st->marg, 0);
    comm_bcast(&st->n_fitted, sizeof st->n_fitted, 0);
    free(sm.off.v);
    free(sm.pairs.v);
    free(sm.w.v);
    free(sm.cust.v);
    free(theta);
    free(phi_acc);
    free(mix);
}

void recall_style_customer(const struct recall_style *st, const struct recall_style_params *sp,
                           const struct data_transactions *tx, uint64_t lo, uint64_t hi, int32_t cutoff,
                           float *theta)
{
    uint32_t k = st->k, pairs[STYLE_CUSTOMER_PAIRS];
    double w[STYLE_CUSTOMER_PAIRS];
    uint32_t n = customer_pairs(st, tx, lo, hi, cutoff, sp->tau, pairs, w);
    for (uint32_t t = 0; t < k; t++)
        theta[t] = st->mix[t];
    for (int it = 0; it < STYLE_FOLD_ITERS && n > 0; it++) {
        double acc[RECALL_STYLE_MAX] = {0};
        double total = e_step(st, pairs, w, n, theta, acc, NULL);
        if (!(total + sp->kappa > 0))
            break;
        for (uint32_t t = 0; t < k; t++)
            theta[t] = (float)((acc[t] + sp->kappa * st->mix[t]) / (total + sp->kappa));
    }
}

float recall_style_lift(const struct recall_style *st, const float *theta, uint32_t pair)
{
    double m = st->marg[pair], v = 0;
    if (!(m > 0))
        return 1.0f;
    const float *ph = st->phi + (size_t)pair * st->k;
    for (uint32_t t = 0; t < st->k; t++)
        v += (double)theta[t] * ph[t];
    return (float)(v / m);
}
