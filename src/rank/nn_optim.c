/* The optimizer (AdamW) and the two schedules that follow the validation MAP@12:
 * ReduceLROnPlateau and early stopping. */
#include "rank/nn_internal.h"

#include <math.h>

/* ---- AdamW ---------------------------------------------------------------------------------- */

void nn_adamw_init(struct nn_adamw *o, double lr, double weight_decay)
{
    /* PyTorch's defaults for the rest */
    *o = (struct nn_adamw){.lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
                           .weight_decay = weight_decay, .t = 0};
}

void nn_adamw_step(struct nn_adamw *o, float *p, const float *g, float *m, float *v, size_t n)
{
    o->t++;
    nn_adamw_apply(o, o->t, p, g, m, v, n);
}

void nn_adamw_apply(const struct nn_adamw *o, uint64_t t, float *p, const float *g, float *m,
                    float *v, size_t n)
{
    /* p <- p (1 - lr wd); m, v <- moving averages of g, g^2;
     * p <- p - lr mhat / (sqrt(vhat) + eps) with the bias corrections mhat = m / (1 - beta1^t),
     * vhat = v / (1 - beta2^t), written as step = lr / c1 and a denominator scaled by sqrt(c2) */
    double c1 = 1 - pow(o->beta1, (double)t), c2 = 1 - pow(o->beta2, (double)t);
    float decay = (float)(1 - o->lr * o->weight_decay);
    float b1 = (float)o->beta1, b2 = (float)o->beta2;
    float ob1 = (float)(1 - o->beta1), ob2 = (float)(1 - o->beta2); /* in double, then rounded */
    float step = (float)(o->lr / c1), rc2 = (float)(1 / sqrt(c2)), eps = (float)o->eps;
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + ob1 * g[i];
        v[i] = b2 * v[i] + ob2 * g[i] * g[i];
        p[i] = p[i] * decay - step * m[i] / (sqrtf(v[i]) * rc2 + eps);
    }
}

/* ---- ReduceLROnPlateau ----------------------------------------------------------------------- */

void nn_plateau_init(struct nn_plateau *s, double factor, long patience, double min_lr)
{
    *s = (struct nn_plateau){.factor = factor, .threshold = 1e-4, .min_lr = min_lr,
                             .patience = patience, .best = -INFINITY, .bad = 0};
}

double nn_plateau_step(struct nn_plateau *s, double score, double lr)
{
    if (score > s->best * (1 + s->threshold) || s->best == -INFINITY) {
        s->best = score;
        s->bad = 0;
    } else {
        s->bad++;
    }
    if (s->bad > s->patience) {
        s->bad = 0;
        double next = fmax(lr * s->factor, s->min_lr);
        if (lr - next > 1e-8) /* PyTorch ignores cuts smaller than its eps */
            lr = next;
    }
    return lr;
}

/* ---- early stopping ---------------------------------------------------------------------------- */

void nn_early_init(struct nn_early *e, long patience)
{
    *e = (struct nn_early){.patience = patience, .best = -INFINITY, .best_epoch = -1, .bad = 0};
}

int nn_early_step(struct nn_early *e, long epoch, double score, int *improved)
{
    *improved = score > e->best || e->best_epoch < 0;
    if (*improved) {
        e->best = score;
        e->best_epoch = epoch;
        e->bad = 0;
    } else {
        e->bad++;
    }
    return e->bad >= e->patience;
}
