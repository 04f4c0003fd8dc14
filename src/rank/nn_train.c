/* Training: shuffled mini-batches, BCE, AdamW, and per epoch the validation MAP@12 over every
 * validation customer's full candidate list, which drives ReduceLROnPlateau and early
 * stopping; the best epoch's weights are kept. */
#include "rank/nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void nn_curve_release(struct nn_curve *c)
{
    free(c->epoch);
    memset(c, 0, sizeof *c);
}

static int check_labelled(const struct rank_data *d, const char *what, int need_truth)
{
    if (!d->label)
        return hm_error(HM_EINVAL, "nn: the %s data has no labels", what);
    if (need_truth && !d->group_truth)
        return hm_error(HM_EINVAL, "nn: the %s data has no group_truth (purchases per customer)", what);
    for (uint64_t r = 0; r < d->n_rows; r++)
        if (!(d->label[r] >= 0 && d->label[r] <= 1))
            return hm_error(HM_EINVAL, "nn: %s row %llu has label %g, expected 0 to 1", what,
                            (unsigned long long)r, (double)d->label[r]);
    return 0;
}

/* The state of one training run. */
struct trainer {
    const struct nn_params *p;
    const struct rank_data *d;
    struct nn_model *m;
    uint32_t *col;              /* (m->n_in) columns of d */
    struct nn_acts w;           /* activations of one batch */
    float *grads, *mom1, *mom2; /* (n_params) each */
    float *label;               /* (batch) */
    uint32_t *art;              /* (batch) articles of the batch's rows */
    uint64_t *order;            /* (n_rows) shuffled rows */
    uint64_t nb;                /* batches per epoch */
    struct nn_adamw opt;
    uint64_t step;
};

/* Fills the activations' inputs and the labels for rows rows[0..n). */
static void load_batch(struct trainer *tr, const uint64_t *rows, size_t n)
{
    const struct nn_model *m = tr->m;
    for (int t = 0; t < NN_NTOWERS; t++) {
        if (!m->a.in[t] || t == NN_IMAGE)
            continue;
        /* infinite values were rejected by the standardisation fit */
        if (nn_gather(m, tr->col, tr->d, t, rows, 0, n, tr->w.x[t]) != n)
            HM_BUG("nn: an infinite value in training data after the checks");
    }
    if (m->a.in[NN_IMAGE]) {
        for (size_t i = 0; i < n; i++)
            tr->art[i] = tr->d->item[rows[i]];
        nn_gather_image(m, tr->d, tr->art, n, tr->w.x[NN_IMAGE], 0);
    }
    for (size_t i = 0; i < n; i++)
        tr->label[i] = tr->d->label[rows[i]];
}

/* One epoch at learning rate lr; returns the mean loss over the batches (weighted by rows). */
static double run_epoch(struct trainer *tr, uint32_t epoch, double lr)
{
    uint64_t n = tr->d->n_rows;
    struct hm_rng r;
    hm_rng_seed2(&r, (uint64_t)tr->p->seed, 0x5eed0000ULL + epoch);
    for (uint64_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        uint64_t j = hm_rng_below(&r, i + 1), t = tr->order[i];
        tr->order[i] = tr->order[j];
        tr->order[j] = t;
    }
    uint64_t nb = tr->nb;
    tr->opt.lr = lr;
    double loss = 0;
    struct hm_progress prog;
    hm_progress_begin(&prog, "nn epoch", n);
    for (uint64_t b = 0; b < nb; b++) {
        uint64_t lo = n * b / nb, hi = n * (b + 1) / nb;
        size_t B = (size_t)(hi - lo);
        load_batch(tr, tr->order + lo, B);
        memset(tr->grads, 0, tr->m->a.n_params * sizeof *tr->grads);
        nn_net_forward(&tr->m->a, tr->m->params, tr->m->running, &tr->w, B, 1,
                       (uint64_t)tr->p->seed, tr->step++);
        loss += nn_net_backward(&tr->m->a, tr->m->params, tr->grads, &tr->w, tr->label, B) * (double)B;
        nn_adamw_step(&tr->opt, tr->m->params, tr->grads, tr->mom1, tr->mom2, tr->m->a.n_params);
        hm_progress_add(&prog, B);
    }
    hm_progress_end(&prog);
    return loss / (double)n;
}

int nn_train(const struct nn_params *p, const struct rank_data *train, const struct rank_data *valid,
             struct nn_model **out, struct nn_curve *curve)
{
    *out = NULL;
    if (curve)
        memset(curve, 0, sizeof *curve);
    int64_t t0 = hm_now_ns();
    int rc;
    if (train->n_rows < 2)
        return hm_error(HM_EINVAL, "nn: %llu training rows, need at least 2",
                        (unsigned long long)train->n_rows);
    if ((rc = check_labelled(train, "training", 0)) || (valid && (rc = check_labelled(valid, "validation", 1))))
        return rc;
    struct trainer tr = {.p = p, .d = train};
    if ((rc = nn_new(p, train, &tr.m)) != 0)
        return rc;
    struct nn_model *m = tr.m;
    tr.col = hm_xcalloc((size_t)m->n_in + 1, sizeof *tr.col);
    uint32_t *vcol = hm_xcalloc((size_t)m->n_in + 1, sizeof *vcol);
    if ((rc = nn_map_columns(m, train, tr.col)) || (rc = nn_fit_standardisation(m, train, tr.col)) ||
        (valid && (rc = nn_map_columns(m, valid, vcol)) && hm_error_wrap(rc, "validation data"))) {
        free(vcol);
        free(tr.col);
        nn_free(&tr.m);
        return rc;
    }
    free(vcol);
    hm_info("nn: %llu training rows, %u user, %u item, %u image, %u pair inputs, %zu parameters",
            (unsigned long long)train->n_rows, m->a.in[NN_USER], m->a.in[NN_ITEM], m->a.in[NN_IMAGE],
            m->a.in[NN_PAIR], m->a.n_params);
    uint32_t unused = train->n_cols - m->n_in;
    if (unused)
        hm_info("nn: %u pair columns not used (nn.pair_tower = 0)", unused);
    if (!train->image && p->image_tower)
        hm_info("nn: no image embeddings: no image tower");

    /* nb batches of nearly equal size (they differ by at most one row), none below 2 rows */
    uint64_t n = train->n_rows;
    tr.nb = (n + (uint64_t)p->batch - 1) / (uint64_t)p->batch;
    while (tr.nb > 1 && n / tr.nb < 2)
        tr.nb--;
    size_t np = m->a.n_params, batch = (size_t)((n + tr.nb - 1) / tr.nb);
    nn_acts_init(&tr.w, &m->a, batch);
    tr.grads = hm_xcalloc(np, sizeof *tr.grads);
    tr.mom1 = hm_xcalloc(np, sizeof *tr.mom1);
    tr.mom2 = hm_xcalloc(np, sizeof *tr.mom2);
    tr.label = hm_xmalloc_array(batch, sizeof *tr.label);
    tr.art = hm_xmalloc_array(batch, sizeof *tr.art);
    tr.order = hm_xmalloc_array(train->n_rows, sizeof *tr.order);
    for (uint64_t r = 0; r < train->n_rows; r++)
        tr.order[r] = r;
    nn_adamw_init(&tr.opt, p->lr, p->weight_decay);
    float *best = hm_xmalloc_array(np + m->a.n_running + 1, sizeof *best);
    float *vscore = valid ? hm_xmalloc_array(valid->n_rows + 1, sizeof *vscore) : NULL;
    struct nn_plateau plateau;
    struct nn_early early;
    nn_plateau_init(&plateau, p->lr_factor, p->lr_patience, p->lr_min);
    nn_early_init(&early, p->patience);
    HM_VEC(struct nn_epoch) ep = {0};
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(hm_threads());
    double fit_seconds = hm_seconds_since(t0), lr = p->lr;
    int stopped = 0;
    for (uint32_t e = 0; e < (uint32_t)p->epochs; e++) {
        int64_t te = hm_now_ns();
        struct nn_epoch rec = {.lr = lr, .map12 = NAN};
        rec.loss = run_epoch(&tr, e, lr);
        rec.seconds = hm_seconds_since(te);
        if (!isfinite(rec.loss)) {
            rc = hm_error(HM_EINVAL, "nn: the training loss is %g in epoch %u (try a lower nn.lr)",
                          rec.loss, e + 1);
            break;
        }
        int improved = 1;
        if (valid) {
            if ((rc = nn_score(m, valid, vscore)) != 0)
                break;
            openblas_set_num_threads(hm_threads());
            rec.map12 = rank_map12(valid, vscore, NULL);
            stopped = nn_early_step(&early, e, rec.map12, &improved);
            lr = nn_plateau_step(&plateau, rec.map12, lr);
        }
        HM_VEC_PUSH(&ep, rec);
        hm_info("nn: epoch %u: loss %.6f, validation MAP@12 %.6f, lr %.3g, %.1f s%s", e + 1, rec.loss,
                rec.map12, rec.lr, rec.seconds, improved && valid ? " (best)" : "");
        if (improved) {
            memcpy(best, m->params, np * sizeof *best);
            memcpy(best + np, m->running, m->a.n_running * sizeof *best);
        }
        if (stopped)
            break;
    }
    openblas_set_num_threads(blas_threads);
    if (!rc) {
        memcpy(m->params, best, np * sizeof *best);
        memcpy(m->running, best + np, m->a.n_running * sizeof *best);
    }
    if (!rc && curve) {
        curve->n = (uint32_t)ep.n;
        curve->epoch = ep.v;
        curve->best = valid ? (uint32_t)early.best_epoch : (uint32_t)ep.n - 1;
        curve->stopped_early = stopped;
        curve->fit_seconds = fit_seconds;
        ep.v = NULL;
    }
    free(ep.v);
    free(vscore);
    free(best);
    free(tr.order);
    free(tr.art);
    free(tr.label);
    free(tr.mom2);
    free(tr.mom1);
    free(tr.grads);
    nn_acts_release(&tr.w);
    free(tr.col);
    if (rc)
        nn_free(&tr.m);
    *out = tr.m;
    return rc;
}
