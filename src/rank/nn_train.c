/* Training: shuffled mini-batches, BCE, AdamW, and per epoch the validation MAP@12 over every
 * validation customer's full candidate list, which drives ReduceLROnPlateau and early
 * stopping; the best epoch's weights are kept. */
#include "rank/nn_internal.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
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
    uint64_t step;              /* batches done before this epoch */
};

/* Fills rows [r0, r1) of the batch whose rows of the data are rows[0..): the activations'
 * inputs, the articles and the labels. */
static void load_batch(struct trainer *tr, const uint64_t *rows, size_t r0, size_t r1)
{
    const struct nn_model *m = tr->m;
    size_t n = r1 - r0;
    for (int t = 0; t < NN_NTOWERS; t++) {
        if (!m->a.in[t] || t == NN_IMAGE)
            continue;
        /* infinite values were rejected by the standardisation fit */
        if (nn_gather(m, tr->col, tr->d, t, rows + r0, 0, n, tr->w.x[t] + r0 * m->a.in[t]) != n)
            HM_BUG("nn: an infinite value in training data after the checks");
    }
    for (size_t i = r0; i < r1; i++) {
        tr->art[i] = tr->d->item[rows[i]];
        tr->label[i] = tr->d->label[rows[i]];
    }
    if (m->a.in[NN_IMAGE])
        nn_gather_image(m, tr->d, tr->art + r0, n, tr->w.x[NN_IMAGE] + r0 * m->image_dim, 0);
}

/* ---- an epoch, run by a team of threads ------------------------------------------------------ */

/* One epoch: every thread of the team loads its rows of each batch, does its share of the
 * forward and backward passes (columns of every block: nn_kernels.inc) and the AdamW update of
 * its range of the parameters. Threads meet at a barrier between dependent steps. */
struct epoch_run {
    struct trainer *tr;
    int T;                  /* threads in the team */
    pthread_barrier_t bar;
    pthread_mutex_t lock;   /* the start gate: T is known once every thread is started */
    pthread_cond_t cond;
    int go;
    double loss;            /* sum over batches of the batch loss times its rows (thread 0) */
    struct hm_progress prog;
};

static void epoch_sync(void *ctx)
{
    pthread_barrier_wait(&((struct epoch_run *)ctx)->bar);
}

static void epoch_part(struct epoch_run *er, int t)
{
    struct trainer *tr = er->tr;
    struct nn_model *m = tr->m;
    struct nn_team team = {t, er->T, epoch_sync, er};
    uint64_t n = tr->d->n_rows, nb = tr->nb;
    size_t p0, p1, np = m->a.n_params;
    nn_team_range(&team, np, &p0, &p1);
    for (uint64_t b = 0; b < nb; b++) {
        uint64_t lo = n * b / nb, hi = n * (b + 1) / nb, step = tr->step + b;
        size_t B = (size_t)(hi - lo), r0, r1;
        nn_team_range(&team, B, &r0, &r1);
        load_batch(tr, tr->order + lo, r0, r1);
        epoch_sync(er);
        nn_net_forward(&m->a, m->params, m->running, &tr->w, B, 1, (uint64_t)tr->p->seed, step, &team);
        double loss = nn_net_backward(&m->a, m->params, tr->grads, &tr->w, tr->label, B, &team);
        /* the backward pass ends at a barrier: every gradient is complete */
        nn_adamw_apply(&tr->opt, step + 1, m->params + p0, tr->grads + p0, tr->mom1 + p0,
                       tr->mom2 + p0, p1 - p0);
        memset(tr->grads + p0, 0, (p1 - p0) * sizeof *tr->grads);
        if (t == 0) {
            er->loss += loss * (double)B;
            hm_progress_add(&er->prog, B);
        }
        epoch_sync(er); /* parameters updated before the next forward pass */
    }
}

struct worker {
    struct epoch_run *er;
    int t;
    pthread_t id;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->er->lock);
    while (!w->er->go)
        pthread_cond_wait(&w->er->cond, &w->er->lock);
    pthread_mutex_unlock(&w->er->lock);
    epoch_part(w->er, w->t);
    return NULL;
}

/* One epoch at learning rate lr on hm_threads() threads; returns the mean loss over the
 * batches (weighted by rows). */
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
    tr->opt.lr = lr;
    struct epoch_run er = {.tr = tr};
    pthread_mutex_init(&er.lock, NULL);
    pthread_cond_init(&er.cond, NULL);
    int want = hm_threads() < 64 ? hm_threads() : 64, started = 0;
    struct worker w[64];
    for (int t = 1; t < want; t++) {
        w[t] = (struct worker){.er = &er, .t = t};
        if (pthread_create(&w[t].id, NULL, worker_main, &w[t]) != 0)
            break;
        started++;
    }
    if (started + 1 < want)
        hm_warn("nn: could not start %d threads; training on %d", want, started + 1);
    er.T = started + 1;
    pthread_barrier_init(&er.bar, NULL, (unsigned)er.T);
    hm_progress_begin(&er.prog, "nn epoch", n);
    pthread_mutex_lock(&er.lock);
    er.go = 1;
    pthread_cond_broadcast(&er.cond);
    pthread_mutex_unlock(&er.lock);
    epoch_part(&er, 0);
    for (int t = 1; t <= started; t++)
        pthread_join(w[t].id, NULL);
    hm_progress_end(&er.prog);
    pthread_barrier_destroy(&er.bar);
    pthread_cond_destroy(&er.cond);
    pthread_mutex_destroy(&er.lock);
    tr->step += tr->nb;
    return er.loss / (double)n;
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
    /* the team splits the GEMMs itself: OpenBLAS on one thread in each */
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
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
