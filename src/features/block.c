/* The features of a block of candidates: per customer, the user features and markers once
 * (user.c), then per candidate row the user features, the article's precomputed item row,
 * and the user-item, recall, text and image features. Parallel over customers with
 * per-thread markers; every output row is written by one thread in a fixed order. */
#include "features/feat_internal.h"

#include <stdlib.h>
#include <string.h>

/* The columns after the item features of one candidate row (o: the row). */
static void pair_row(const struct feat_ctx *ctx, const struct feat_user *s,
                     const struct recall_candidates *b, uint64_t row, uint64_t position, float *o)
{
    const uint32_t a = b->item[row];
    const int32_t T = ctx->cutoff, H = ctx->hist_days;
    const float n = s->u[U_N_ROWS];
    /* user-item */
    float *p = o + FEAT_PAIR0;
    uint32_t cnt = s->cnt[a], prod = s->prod_cnt[ctx->product[a]] - cnt;
    p[P_BOUGHT] = cnt > 0;
    p[P_ROWS] = (float)cnt;
    p[P_DAYS_SINCE] = (float)(cnt ? T - s->last[a] : H + 1);
    p[P_DECAYED] = s->dec[a];
    p[P_PRODUCT] = prod > 0;
    p[P_PRODUCT_ROWS] = (float)prod;
    for (int k = 0; k < FEAT_NSHARE; k++) {
        uint16_t v = ctx->attr[feat_share_attr[k]][a];
        p[P_SHARE_TYPE + k] = v && n > 0 ? (float)((double)s->share[k][v] / n) : 0.0f;
    }
    float ip = ctx->price_mean[a];
    p[P_PRICE_DIFF] = n > 0 ? (float)(ip - s->price_mean) : 0.0f;
    p[P_PRICE_RATIO] = n > 0 && s->price_mean > 0 ? (float)(ip / s->price_mean) : 1.0f;
    uint16_t type = ctx->attr[FEAT_A_TYPE][a];
    p[P_DAYS_TYPE] = (float)(type && s->share[0][type] ? T - s->type_last[type] : H + 1);
    size_t bi = (size_t)s->band * ctx->n_articles + a;
    p[P_AGE_POP] = ctx->age_pop[bi];
    p[P_AGE_LIFT] = ctx->age_lift[bi];
    /* recall: every strategy's flag, score and reciprocal rank, then the merge */
    float *r = o + FEAT_RECALL0;
    const int ns = recall_n_strategies;
    for (int k = 0; k < ns; k++) {
        int on = (b->flags[row] >> k) & 1;
        uint16_t rank = b->rank[k][row];
        r[3 * k + R_FLAG] = (float)on;
        r[3 * k + R_SCORE] = on ? b->score[k][row] : 0.0f;
        r[3 * k + R_RRANK] = on && rank ? 1.0f / rank : 0.0f;
    }
    r[3 * ns + R_N_STRAT] = b->n_strat[row];
    r[3 * ns + R_MERGED] = b->merged[row];
    r[3 * ns + R_POSITION] = (float)position;
    /* text and image: cosines with the profile and with the last purchase; a customer
     * without one uses a zero vector (cosine 0) */
    float *t = o + FEAT_TEXT0;
    t[T_SIM] = t[T_SIM_LAST] = 0;
    t[T_DIVERSITY] = s->t_div;
    if (ctx->in.text && ctx->text_inv[a] > 0 && s->last_art != UINT32_MAX) {
        uint32_t td = ctx->in.text_dim;
        float sim, last;
        feat_dot2(ctx->in.text + (size_t)a * td, s->tprof, ctx->in.text + (size_t)s->last_art * td, td, &sim, &last);
        t[T_SIM] = sim * ctx->text_inv[a];
        t[T_SIM_LAST] = last * ctx->text_inv[a] * ctx->text_inv[s->last_art];
    }
    float *m = o + FEAT_IMAGE0;
    const struct feat_image *im = ctx->in.image;
    m[M_SIM] = m[M_SIM_LAST] = 0;
    m[M_DIVERSITY] = s->m_div;
    m[M_MISSING] = im ? im->missing[a] : 1;
    if (im && im->inv_norm[a] > 0 && s->last_img != UINT32_MAX) {
        uint32_t md = im->dim;
        float sim, last;
        feat_dot2(im->emb + (size_t)a * md, s->mprof, im->emb + (size_t)s->last_img * md, md, &sim, &last);
        m[M_SIM] = sim * im->inv_norm[a];
        m[M_SIM_LAST] = last * im->inv_norm[a] * im->inv_norm[s->last_img];
    }
}

/* ---- the parallel driver ------------------------------------------------------------- */

struct block_job {
    const struct feat_ctx *ctx;
    const struct recall_candidates *b;
    float *out;            /* (b->n, nc) */
    uint32_t nc;
    struct feat_user *s; /* (threads) */
};

static int block_range(size_t begin, size_t end, int tid, void *ud)
{
    struct block_job *j = ud;
    const struct feat_ctx *ctx = j->ctx;
    const struct recall_candidates *b = j->b;
    struct feat_user *s = &j->s[tid];
    for (size_t i = begin; i < end; i++) {
        if (b->off[i] == b->off[i + 1])
            continue;
        feat_user_begin(s, ctx, b->user[i]);
        const struct feat_image *im = ctx->in.image;
        for (uint64_t row = b->off[i]; row < b->off[i + 1]; row++) {
            float *o = j->out + row * j->nc;
            if (im && row + 2 < b->off[i + 1]) /* the image row two candidates ahead */
                feat_prefetch(im->emb + (size_t)b->item[row + 2] * im->dim, im->dim * sizeof(float));
            memcpy(o + FEAT_USER0, s->u, FEAT_NUSER * sizeof(float));
            memcpy(o + FEAT_ITEM0, ctx->item + (size_t)b->item[row] * FEAT_NITEM, FEAT_NITEM * sizeof(float));
            pair_row(ctx, s, b, row, row - b->off[i] + 1, o);
        }
        feat_user_end(s, ctx);
    }
    return 0;
}

int feat_block(const struct feat_ctx *ctx, const struct recall_candidates *b, float *out)
{
    if (b->cutoff != ctx->cutoff) {
        char d1[11], d2[11];
        hm_date_format(b->cutoff, d1);
        hm_date_format(ctx->cutoff, d2);
        return hm_error(HM_EINVAL, "features: the candidates' cutoff %s differs from the context's %s", d1, d2);
    }
    if (b->off[0] != 0 || b->off[b->n_users] != b->n)
        return hm_error(HM_EINVAL, "features: the candidates' offsets do not cover their %llu rows",
                        (unsigned long long)b->n);
    for (uint32_t i = 0; i < b->n_users; i++) {
        if (b->user[i] >= ctx->n_customers)
            return hm_error(HM_EINVAL, "features: customer row %u out of range (%u customers)", b->user[i],
                            ctx->n_customers);
        if (b->off[i] > b->off[i + 1])
            return hm_error(HM_EINVAL, "features: the candidates' offsets decrease at customer %u", i);
    }
    for (uint64_t r = 0; r < b->n; r++)
        if (b->item[r] >= ctx->n_articles)
            return hm_error(HM_EINVAL, "features: article row %u out of range (%u articles) at candidate %llu",
                            b->item[r], ctx->n_articles, (unsigned long long)r);
    if (b->n_users == 0)
        return 0;
    int nt = hm_threads();
    if (nt > 256)
        nt = 256;
    if ((uint32_t)nt > b->n_users)
        nt = (int)b->n_users;
    struct block_job j = {ctx, b, out, feat_n_cols(), hm_xcalloc((size_t)nt, sizeof(struct feat_user))};
    for (int t = 0; t < nt; t++)
        feat_user_init(&j.s[t], ctx);
    int rc = hm_parallel_chunks(nt, b->n_users, 16, block_range, &j);
    for (int t = 0; t < nt; t++)
        feat_user_release(&j.s[t]);
    free(j.s);
    return rc;
}
