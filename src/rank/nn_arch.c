/* The network's architecture: the parameter layout from the input and block widths, the
 * model struct, PyTorch's initialisation and the summary text. */
#include "rank/nn_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const nn_tower_name[NN_NTOWERS] = {"user", "item", "image", "pair"};

/* ---- layout ------------------------------------------------------------------------------- */

static size_t take(size_t *n, size_t count)
{
    size_t at = *n;
    *n += count;
    return at;
}

static void add_block(struct nn_arch *a, uint32_t in, uint32_t out)
{
    struct nn_block *b = &a->blk[a->n_blocks++];
    b->in = in;
    b->out = out;
    b->w = take(&a->n_params, (size_t)out * in);
    b->b = take(&a->n_params, out);
    b->gamma = take(&a->n_params, out);
    b->beta = take(&a->n_params, out);
    b->rmean = take(&a->n_running, out);
    b->rvar = take(&a->n_running, out);
    if (in > a->widest)
        a->widest = in;
    if (out > a->widest)
        a->widest = out;
}

int nn_arch_build(struct nn_arch *a, const uint32_t in[NN_NTOWERS],
                  const uint32_t hidden[NN_NTOWERS + 1][NN_MAX_DEPTH],
                  const uint32_t depth[NN_NTOWERS + 1], float dropout, float bn_momentum,
                  float bn_eps)
{
    memset(a, 0, sizeof *a);
    a->widest = 1;
    for (int t = 0; t < NN_NTOWERS; t++) {
        if (!in[t])
            continue;
        if (depth[t] < 1 || depth[t] > NN_MAX_DEPTH || in[t] > NN_MAX_WIDTH)
            return hm_error(HM_EINVAL, "nn: the %s tower needs 1 to %d blocks and at most %d inputs",
                            nn_tower_name[t], NN_MAX_DEPTH, NN_MAX_WIDTH);
        a->in[t] = in[t];
        a->first[t] = a->n_blocks;
        a->depth[t] = depth[t];
        uint32_t prev = in[t];
        for (uint32_t i = 0; i < depth[t]; i++) {
            add_block(a, prev, hidden[t][i]);
            prev = hidden[t][i];
        }
        a->out[t] = prev;
        a->off[t] = a->concat;
        a->concat += prev;
    }
    if (!a->concat)
        return hm_error(HM_EINVAL, "nn: no tower has inputs (no user, item, image or pair columns)");
    if (depth[NN_NTOWERS] < 1 || depth[NN_NTOWERS] > NN_MAX_DEPTH)
        return hm_error(HM_EINVAL, "nn: the fusion needs 1 to %d blocks", NN_MAX_DEPTH);
    a->fusion_first = a->n_blocks;
    a->fusion_depth = depth[NN_NTOWERS];
    uint32_t prev = a->concat;
    for (uint32_t i = 0; i < a->fusion_depth; i++) {
        add_block(a, prev, hidden[NN_NTOWERS][i]);
        prev = hidden[NN_NTOWERS][i];
    }
    a->head_in = prev;
    a->head_w = take(&a->n_params, prev);
    a->head_b = take(&a->n_params, 1);
    a->dropout = dropout;
    a->bn_momentum = bn_momentum;
    a->bn_eps = bn_eps;
    return 0;
}

double nn_arch_train_flops(const struct nn_arch *a, size_t B)
{
    /* per Linear: forward 2 B in out, dW 2 B in out, dinp 2 B in out (not for a tower's
     * first block, whose input is data) */
    double f = 0;
    for (uint32_t k = 0; k < a->n_blocks; k++) {
        int data_input = 0;
        for (int t = 0; t < NN_NTOWERS; t++)
            data_input |= a->in[t] && k == a->first[t];
        f += (data_input ? 4.0 : 6.0) * (double)B * a->blk[k].in * a->blk[k].out;
    }
    return f + 6.0 * (double)B * a->head_in;
}

/* ---- the model ------------------------------------------------------------------------------ */

struct nn_model *nn_model_alloc(const struct nn_arch *a, uint32_t n_in, uint32_t image_dim)
{
    struct nn_model *m = hm_xcalloc(1, sizeof *m);
    m->a = *a;
    m->n_in = n_in;
    m->in_name = hm_xcalloc((size_t)n_in + 1, sizeof *m->in_name);
    m->in_tower = hm_xcalloc((size_t)n_in + 1, 1);
    m->in_mean = hm_xcalloc((size_t)n_in + 1, sizeof *m->in_mean);
    m->in_scale = hm_xcalloc((size_t)n_in + 1, sizeof *m->in_scale);
    m->image_dim = image_dim;
    m->img_mean = hm_xcalloc((size_t)image_dim + 1, sizeof *m->img_mean);
    m->img_scale = hm_xcalloc((size_t)image_dim + 1, sizeof *m->img_scale);
    m->params = hm_xcalloc(a->n_params, sizeof *m->params);
    m->running = hm_xcalloc(a->n_running + 1, sizeof *m->running);
    return m;
}

void nn_free(struct nn_model **pm)
{
    struct nn_model *m = *pm;
    if (!m)
        return;
    for (uint32_t i = 0; i < m->n_in; i++)
        free(m->in_name[i]);
    free(m->in_name);
    free(m->in_tower);
    free(m->in_mean);
    free(m->in_scale);
    free(m->img_mean);
    free(m->img_scale);
    free(m->params);
    free(m->running);
    free(m);
    *pm = NULL;
}

static void uniform(struct hm_rng *r, float *p, size_t n, double bound)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2 * hm_rng_uniform(r) - 1) * bound);
}

void nn_model_init_weights(struct nn_model *m, uint64_t seed)
{
    const struct nn_arch *a = &m->a;
    struct hm_rng r;
    hm_rng_seed(&r, seed);
    for (uint32_t k = 0; k < a->n_blocks; k++) {
        const struct nn_block *b = &a->blk[k];
        double bound = 1 / sqrt((double)b->in);
        uniform(&r, m->params + b->w, (size_t)b->out * b->in, bound);
        uniform(&r, m->params + b->b, b->out, bound);
        for (uint32_t o = 0; o < b->out; o++) {
            m->params[b->gamma + o] = 1;
            m->params[b->beta + o] = 0;
            m->running[b->rmean + o] = 0;
            m->running[b->rvar + o] = 1;
        }
    }
    double bound = 1 / sqrt((double)a->head_in);
    uniform(&r, m->params + a->head_w, a->head_in, bound);
    uniform(&r, m->params + a->head_b, 1, bound);
}

size_t nn_n_params(const struct nn_model *m) { return m->a.n_params; }

int nn_new(const struct nn_params *p, const struct rank_data *d, struct nn_model **out)
{
    *out = NULL;
    int rc = nn_params_check(p);
    if (rc)
        return rc;
    uint32_t in[NN_NTOWERS] = {0}, hidden[NN_NTOWERS + 1][NN_MAX_DEPTH], depth[NN_NTOWERS + 1];
    const char *widths[NN_NTOWERS + 1] = {p->user_hidden, p->item_hidden, p->image_hidden,
                                          p->pair_hidden, p->fusion_hidden};
    for (int t = 0; t <= NN_NTOWERS; t++)
        depth[t] = (uint32_t)nn_parse_widths(widths[t], hidden[t]);
    for (uint32_t c = 0; c < d->n_cols; c++) {
        uint8_t tag = d->col_tower ? d->col_tower[c] : 255;
        if (tag > RANK_TOWER_PAIR)
            return hm_error(HM_EINVAL, "nn: column '%s' has no tower tag (user, item or pair)",
                            d->col_name[c]);
        if (tag == RANK_TOWER_USER)
            in[NN_USER]++;
        else if (tag == RANK_TOWER_ITEM)
            in[NN_ITEM]++;
        else if (p->pair_tower)
            in[NN_PAIR]++;
    }
    if (p->image_tower && d->image) {
        if (!d->image_dim)
            return hm_error(HM_EINVAL, "nn: the data has image embeddings of dimension 0");
        in[NN_IMAGE] = d->image_dim;
    }
    struct nn_arch a;
    if ((rc = nn_arch_build(&a, in, (const uint32_t(*)[NN_MAX_DEPTH])hidden, depth,
                            (float)p->dropout, (float)p->bn_momentum, 1e-5f)) != 0)
        return rc;
    uint32_t n_in = in[NN_USER] + in[NN_ITEM] + in[NN_PAIR];
    struct nn_model *m = nn_model_alloc(&a, n_in, in[NN_IMAGE]);
    /* model order: user columns, then item, then pair, each in data order */
    uint32_t i = 0;
    for (uint8_t tag = RANK_TOWER_USER; tag <= RANK_TOWER_PAIR; tag++) {
        if (tag == RANK_TOWER_PAIR && !p->pair_tower)
            break;
        for (uint32_t c = 0; c < d->n_cols; c++)
            if (d->col_tower[c] == tag) {
                m->in_name[i] = hm_xstrdup(d->col_name[c]);
                m->in_tower[i++] = tag;
            }
    }
    for (i = 0; i < n_in; i++)
        m->in_scale[i] = 1;
    for (i = 0; i < m->image_dim; i++)
        m->img_scale[i] = 1;
    nn_model_init_weights(m, (uint64_t)p->seed);
    *out = m;
    return 0;
}

/* ---- summary --------------------------------------------------------------------------------- */

/* n with thousands separators ("346,689") into buf (at least 32 bytes). */
static const char *thousands(size_t n, char *buf)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%zu", n), j = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = tmp[i];
    }
    buf[j] = 0;
    return buf;
}

static void summary_blocks(struct hm_buf *s, const struct nn_arch *a, const char *name, uint32_t first,
                           uint32_t depth)
{
    char n1[32], shape[64];
    for (uint32_t k = first; k < first + depth; k++) {
        const struct nn_block *b = &a->blk[k];
        snprintf(shape, sizeof shape, "%u -> %u", b->in, b->out);
        hm_buf_printf(s, "%-8s %u  %-22s %-12s %12s\n", name, k - first + 1, "Linear", shape,
                      thousands((size_t)b->in * b->out + b->out, n1));
        snprintf(shape, sizeof shape, "%u", b->out);
        hm_buf_printf(s, "%-8s %u  %-22s %-12s %12s\n", name, k - first + 1, "BatchNorm1d", shape,
                      thousands(2 * (size_t)b->out, n1));
        char act[48];
        snprintf(act, sizeof act, "ReLU, Dropout(%.2g)", (double)a->dropout);
        hm_buf_printf(s, "%-8s %u  %-22s %-12s %12s\n", name, k - first + 1, act, shape, "0");
    }
}

char *nn_arch_summary(const struct nn_arch *a)
{
    struct hm_buf s = {0};
    char n1[32], shape[64];
    hm_buf_printf(&s, "%-11s %-22s %-12s %12s\n", "layer", "kind", "shape", "parameters");
    size_t tower_params[NN_NTOWERS] = {0};
    for (int t = 0; t < NN_NTOWERS; t++) {
        if (!a->in[t])
            continue;
        hm_buf_printf(&s, "%-11s %-22s %-12u\n", nn_tower_name[t], "input", a->in[t]);
        summary_blocks(&s, a, nn_tower_name[t], a->first[t], a->depth[t]);
        for (uint32_t k = a->first[t]; k < a->first[t] + a->depth[t]; k++)
            tower_params[t] += (size_t)a->blk[k].in * a->blk[k].out + 3 * (size_t)a->blk[k].out;
    }
    struct hm_buf cat = {0};
    for (int t = 0; t < NN_NTOWERS; t++)
        if (a->in[t])
            hm_buf_printf(&cat, "%s%s %u", cat.len ? " + " : "", nn_tower_name[t], a->out[t]);
    hm_buf_printf(&s, "%-11s %-22s %-12u (%s)\n", "fusion", "concat", a->concat, cat.s);
    hm_buf_release(&cat);
    summary_blocks(&s, a, "fusion", a->fusion_first, a->fusion_depth);
    snprintf(shape, sizeof shape, "%u -> 1", a->head_in);
    hm_buf_printf(&s, "%-11s %-22s %-12s %12s\n", "head", "Linear", shape,
                  thousands(a->head_in + 1, n1));
    hm_buf_printf(&s, "%-11s %-22s %-12s %12s\n", "head", "Sigmoid", "1", "0");
    size_t fusion = a->n_params;
    for (int t = 0; t < NN_NTOWERS; t++)
        if (a->in[t]) {
            hm_buf_printf(&s, "%-11s %-35s %12s\n", "", nn_tower_name[t], thousands(tower_params[t], n1));
            fusion -= tower_params[t];
        }
    hm_buf_printf(&s, "%-11s %-35s %12s\n", "", "fusion and head", thousands(fusion, n1));
    hm_buf_printf(&s, "total trainable parameters %31s\n", thousands(a->n_params, n1));
    hm_buf_printf(&s, "BatchNorm running statistics (not trained) %15s\n", thousands(a->n_running, n1));
    return hm_buf_take(&s);
}

char *nn_summary(const struct nn_model *m) { return nn_arch_summary(&m->a); }
