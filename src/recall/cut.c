/* The two-stage pool's learned cut: the scorer's features, its training on one week, its file,
 * and the hook a stream cuts through (recall/cut.h). */
#include "recall/cut.h"
#include "rank/gbm.h"
#include "rank/label.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CUT_ABSENT_RANK 10000.0f  /* the rank feature of a strategy that did not propose the row */
#define CUT_NO_HISTORY 10000.0f   /* days since the last purchase of a customer without one */
#define CUT_BLOCK 2048            /* customers per training block */
#define CUT_CHECK_ROWS 2000       /* training rows the compiled forest is checked on */

enum { C_N_STRAT, C_MERGED, C_POSITION, C_ART_7D, C_ART_28D, C_CUST_ROWS, C_CUST_DAYS, C_NFIXED };
static const char *const fixed_names[C_NFIXED] = {"n_strat", "merged", "position", "article_rows_7d",
                                                  "article_rows_28d", "customer_rows", "customer_days"};

struct recall_cut_scorer {
    struct gbm_model *model;
    struct gbm_forest *forest;
};

void recall_cut_free(struct recall_cut_scorer **pc)
{
    struct recall_cut_scorer *c = *pc;
    if (!c)
        return;
    gbm_forest_free(&c->forest);
    gbm_free(&c->model);
    free(c);
    *pc = NULL;
}

uint32_t recall_cut_n_cols(void) { return 2 * (uint32_t)recall_n_strategies + C_NFIXED; }

/* The columns' names (malloc'ed array of malloc'ed strings, n_cols of them). */
static char **cut_col_names(void)
{
    uint32_t nc = recall_cut_n_cols(), k = 0;
    char **names = hm_xcalloc(nc + 1, sizeof *names);
    for (int s = 0; s < recall_n_strategies; s++) {
        names[k++] = hm_xasprintf("%s_rank", recall_strategies[s]->name);
        names[k++] = hm_xasprintf("%s_score", recall_strategies[s]->name);
    }
    for (int f = 0; f < C_NFIXED; f++)
        names[k++] = hm_xstrdup(fixed_names[f]);
    return names;
}

static void free_names(char **names)
{
    for (uint32_t c = 0; c < recall_cut_n_cols(); c++)
        free(names[c]);
    free(names);
}


/* ---- the features of one cutoff ------------------------------------------------------------- */

struct recall_cut_ctx {
    const struct data_set *ds;
    int32_t cutoff;
    float *art7, *art28;          /* (n_articles) rows of the last 7 and 28 days */
    const struct gbm_forest *forest;
    uint32_t n_cols, wide, keep;
    int nt;
    float *buf;                   /* (nt, wide, n_cols) each thread's rows of one customer */
    /* the block being scored */
    const struct recall_candidates *c;
    float *score;
};

/* Features of the rows from..n-1 of customer i of c into x (n - from, n_cols). */
static void cut_features(const struct recall_cut_ctx *ctx, const struct recall_candidates *c, uint32_t i,
                         uint64_t from, uint64_t n, float *x)
{
    uint32_t u = c->user[i];
    uint64_t lo, hi; /* the customer's rows before the cutoff */
    const struct data_transactions *tx = prep_customer_rows(ctx->ds, u, 0, ctx->cutoff - 1, &lo, &hi);
    float rows = (float)(hi - lo), days = hi > lo ? (float)(ctx->cutoff - tx->day[hi - 1]) : CUT_NO_HISTORY;
    const int ns = recall_n_strategies;
    const uint32_t nc = ctx->n_cols;
    uint64_t b = c->off[i];
    for (uint64_t r = from; r < n; r++) {
        float *o = x + (r - from) * nc;
        uint64_t row = b + r;
        for (int s = 0; s < ns; s++) {
            uint16_t rk = c->rank[s][row];
            o[2 * s] = rk ? (float)rk : CUT_ABSENT_RANK;
            o[2 * s + 1] = rk ? c->score[s][row] : 0.0f;
        }
        float *f = o + 2 * ns;
        uint32_t a = c->item[row];
        f[C_N_STRAT] = c->n_strat[row];
        f[C_MERGED] = c->merged[row];
        f[C_POSITION] = (float)(r + 1);
        f[C_ART_7D] = ctx->art7[a];
        f[C_ART_28D] = ctx->art28[a];
        f[C_CUST_ROWS] = rows;
        f[C_CUST_DAYS] = days;
    }
}

static void ctx_free(struct recall_cut_ctx *ctx)
{
    free(ctx->art7);
    free(ctx->art28);
    free(ctx->buf);
    free(ctx);
}

static struct recall_cut_ctx *ctx_new(const struct recall_engine *e, const struct gbm_forest *forest)
{
    struct recall_cut_ctx *ctx = hm_xcalloc(1, sizeof *ctx);
    const struct data_set *ds = e->ds;
    ctx->ds = ds;
    ctx->cutoff = e->cutoff;
    ctx->forest = forest;
    ctx->n_cols = recall_cut_n_cols();
    ctx->wide = (uint32_t)e->p.wide;
    ctx->keep = (uint32_t)e->p.cut_keep;
    uint32_t na = ds->articles.n;
    double *cnt = hm_xmalloc_array((size_t)na + 1, sizeof *cnt);
    ctx->art7 = hm_xmalloc_array((size_t)na + 1, sizeof *ctx->art7);
    ctx->art28 = hm_xmalloc_array((size_t)na + 1, sizeof *ctx->art28);
    int32_t s7 = e->cutoff - 7 > e->start ? e->cutoff - 7 : e->start;
    int32_t s28 = e->cutoff - 28 > e->start ? e->cutoff - 28 : e->start;
    recall_article_counts(ds, s7, e->cutoff, 0, cnt, NULL);
    for (uint32_t a = 0; a < na; a++)
        ctx->art7[a] = (float)cnt[a];
    recall_article_counts(ds, s28, e->cutoff, 0, cnt, NULL);
    for (uint32_t a = 0; a < na; a++)
        ctx->art28[a] = (float)cnt[a];
    free(cnt);
    ctx->nt = hm_threads() > 256 ? 256 : hm_threads();
    ctx->buf = hm_xmalloc_array((size_t)ctx->nt * ((size_t)ctx->wide + 1) * ctx->n_cols, sizeof(float));
    return ctx;
}

/* ---- scoring a block (the stream's cut) ------------------------------------------------------ */

static int score_range(size_t begin, size_t end, int tid, void *ud)
{
    struct recall_cut_ctx *ctx = ud;
    const struct recall_candidates *c = ctx->c;
    float *x = ctx->buf + (size_t)tid * ((size_t)ctx->wide + 1) * ctx->n_cols;
    for (size_t i = begin; i < end; i++) {
        uint64_t n = c->off[i + 1] - c->off[i];
        if (n > ctx->wide)
            n = ctx->wide;
        if (n <= ctx->keep)
            continue;
        cut_features(ctx, c, (uint32_t)i, ctx->keep, n, x);
        gbm_forest_predict(ctx->forest, x, n - ctx->keep, ctx->score + c->off[i] + ctx->keep);
    }
    return 0;
}

static int cut_score(void *ud, const struct recall_candidates *c, uint32_t wide, float *score)
{
    struct recall_cut_ctx *ctx = ud;
    if (wide != ctx->wide)
        HM_BUG("the cut scores %u rows per customer, the stream asks for %u", ctx->wide, wide);
    ctx->c = c;
    ctx->score = score;
    return hm_parallel_chunks(ctx->nt, c->n_users, 64, score_range, ctx);
}

int recall_cut_check(const struct recall_params *rp)
{
    if (rp->wide < rp->pool)
        return hm_error(HM_EINVAL, "recall.wide (%ld) must be at least recall.pool (%ld), or 0", rp->wide, rp->pool);
    if (rp->cut_keep >= rp->pool)
        return hm_error(HM_EINVAL, "recall.cut_keep (%ld) must be less than recall.pool (%ld)", rp->cut_keep, rp->pool);
    return 0;
}

int recall_cut_begin(const struct recall_cut_scorer *s, const struct recall_engine *e, struct recall_cut_ctx **out,
                     struct recall_cut *hook)
{
    int rc = recall_cut_check(&e->p);
    *out = NULL;
    memset(hook, 0, sizeof *hook);
    if (rc)
        return rc;
    *out = ctx_new(e, s->forest);
    *hook = (struct recall_cut){(uint32_t)e->p.wide, cut_score, *out, (uint32_t)e->p.cut_keep};
    return 0;
}

void recall_cut_end(struct recall_cut_ctx **ctx)
{
    if (*ctx)
        ctx_free(*ctx);
    *ctx = NULL;
}

/* ---- training ---------------------------------------------------------------------------------- */

struct train_block {
    struct recall_cut_ctx *ctx;
    const struct recall_candidates *c;
    float *x;     /* (rows of c, n_cols) */
};

static int features_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct train_block *tb = ud;
    for (size_t i = begin; i < end; i++) { /* the rows the scorer orders */
        uint64_t n = tb->c->off[i + 1] - tb->c->off[i], from = n < tb->ctx->keep ? n : tb->ctx->keep;
        cut_features(tb->ctx, tb->c, (uint32_t)i, from, n, tb->x + (tb->c->off[i] + from) * tb->ctx->n_cols);
    }
    return 0;
}

/* A fixed sample of at most k of users[0..n) (the smallest hashes of the customer rows),
 * ascending, in place; returns how many. */
static uint32_t sample_users(uint32_t *users, uint32_t n, uint32_t k)
{
    if (n <= k)
        return n;
    uint64_t *key = hm_xmalloc_array(n, sizeof *key);
    for (uint32_t i = 0; i < n; i++)
        key[i] = (hm_mix64(users[i] ^ 0x2c1b3c6d5e4f7081ULL) >> 32) << 32 | users[i];
    hm_sort_u64(key, n);
    for (uint32_t i = 0; i < k; i++)
        key[i] = (uint32_t)key[i];
    hm_sort_u64(key, k);
    for (uint32_t i = 0; i < k; i++)
        users[i] = (uint32_t)key[i];
    free(key);
    return k;
}

/* The training rows of a week: the rows the scorer orders (after the first cut_keep) of the
 * sampled buyers' wide pools, every positive and the negatives whose hash falls below
 * recall.cut_negatives; the first CUT_CHECK_ROWS also kept to check the compiled forest. */
struct cut_rows {
    struct rank_set set;
    float *check;
    uint32_t n_check;
    uint64_t rows, positives, truth_pairs;
};

/* Adds the rows of block c (features x, labels label, group truths gt) to r. */
static void add_block(struct cut_rows *r, const struct recall_cut_ctx *ctx, const struct recall_candidates *c,
                      const float *x, const float *label, const uint32_t *gt, uint64_t thr)
{
    const uint32_t nc = ctx->n_cols;
    float *gx = NULL, *gl = NULL;
    uint32_t *gi = NULL;
    size_t gxcap = 0, glcap = 0, gicap = 0;
    r->rows += c->n;
    for (uint32_t i = 0; i < c->n_users; i++) {
        uint64_t b = c->off[i], n = c->off[i + 1] - b, m = 0;
        r->truth_pairs += gt[i];
        HM_GROW(gx, gxcap, n * nc + 1);
        HM_GROW(gl, glcap, n + 1);
        HM_GROW(gi, gicap, n + 1);
        for (uint64_t row = b + (n < ctx->keep ? n : ctx->keep); row < b + n; row++) {
            int pos = label[row] > 0;
            if (!pos && hm_mix64((uint64_t)c->user[i] << 32 ^ c->item[row] ^ 0x7f4a7c159e3779b9ULL) > thr)
                continue;
            memcpy(gx + m * nc, x + row * nc, nc * sizeof *gx);
            gl[m] = label[row];
            gi[m++] = c->item[row];
            r->positives += pos;
            if (r->n_check < CUT_CHECK_ROWS)
                memcpy(r->check + (size_t)r->n_check++ * nc, x + row * nc, nc * sizeof *r->check);
        }
        if (m)
            rank_set_add_group(&r->set, c->user[i], gt[i], m, gx, gi, gl);
    }
    free(gx);
    free(gl);
    free(gi);
}

/* The wide pools of users[0..n) from engine e, labelled by truth, into r. */
static int collect_rows(const struct recall_engine *e, const struct prep_truth *truth, const uint32_t *users,
                        uint32_t n, struct cut_rows *r)
{
    struct recall_cut_ctx *ctx = ctx_new(e, NULL);
    const uint32_t nc = ctx->n_cols;
    const uint64_t thr = (uint64_t)(e->p.cut_negatives * 18446744073709551615.0);
    struct recall_stream st;
    recall_stream_init(&st, e, users, n, CUT_BLOCK, (uint32_t)e->p.wide, NULL);
    const struct recall_candidates *c;
    float *x = NULL, *label = NULL;
    uint32_t *gt = NULL;
    size_t cap = 0, lcap = 0, gcap = 0;
    int rc;
    while ((rc = recall_stream_next(&st, &c)) > 0) {
        HM_GROW(x, cap, c->n * nc + 1);
        HM_GROW(label, lcap, c->n + 1);
        HM_GROW(gt, gcap, (size_t)c->n_users + 1);
        struct train_block tb = {ctx, c, x};
        if ((rc = hm_parallel_chunks(ctx->nt, c->n_users, 64, features_range, &tb)) != 0)
            break;
        rank_label(truth, c->n_users, c->off, c->user, c->item, label, gt);
        add_block(r, ctx, c, x, label, gt, thr);
    }
    recall_stream_release(&st);
    free(x);
    free(label);
    free(gt);
    ctx_free(ctx);
    return rc;
}

/* The boosted classifier on the rows, and its compiled trees checked on the first of them. */
static int fit(const struct recall_params *rp, const struct cut_rows *r, struct recall_cut_scorer **out)
{
    struct gbm_params gp;
    gbm_params_defaults(&gp);
    gp.rounds = rp->cut_rounds;
    gp.depth = rp->cut_depth;
    gp.eta = 0.2;
    gp.subsample = 1;
    gp.colsample = 1;
    gp.seed = 42;
    struct gbm_report rep;
    memset(&rep, 0, sizeof rep);
    struct gbm_model *model = NULL;
    struct gbm_forest *forest = NULL;
    int rc = gbm_train(GBM_CLASSIFIER, &gp, &r->set.d, NULL, &model, &rep);
    if (!rc && (rc = gbm_forest_new(model, r->check, r->n_check, &forest)) == 0) {
        *out = hm_xcalloc(1, sizeof **out);
        (*out)->model = model;
        (*out)->forest = forest;
        model = NULL;
    }
    gbm_free(&model);
    gbm_report_release(&rep);
    return rc;
}

int recall_cut_train(const struct data_set *ds, const struct prep_params *pp, const struct recall_params *rp,
                     struct prep_week week, int week_no, const struct recall_inputs *base,
                     struct recall_cut_scorer **out, struct recall_cut_report *rep)
{
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    int rc = recall_cut_check(rp);
    if (rc)
        return rc;
    if (week.start <= (int32_t)ds->tx.day_min)
        return hm_error(HM_EINVAL, "recall.cut_week %d: the week starts before the transactions' first day", week_no);
    int64_t t0 = hm_now_ns();
    int32_t cutoff = week.start, start = prep_history_start(ds, pp, cutoff);
    struct prep_items items;
    struct prep_truth truth;
    if ((rc = prep_items_filter(&items, ds, start, cutoff, pp->min_item_purchases)) != 0)
        return rc;
    if ((rc = prep_truth_build(&truth, ds, week)) != 0) {
        prep_items_release(&items);
        return rc;
    }
    uint32_t *users = hm_xmalloc_array((size_t)truth.n_users + 1, sizeof *users);
    memcpy(users, truth.user, (size_t)truth.n_users * sizeof *users);
    rep->buyers = truth.n_users;
    rep->users = sample_users(users, truth.n_users, (uint32_t)rp->cut_users);
    struct recall_inputs in = *base;
    in.keep = items.keep;
    const uint32_t nc = recall_cut_n_cols();
    char **names = cut_col_names();
    uint8_t *towers = hm_xcalloc(nc, 1);
    struct cut_rows r;
    memset(&r, 0, sizeof r);
    rank_set_init(&r.set, nc, (const char *const *)names, towers, NULL, 0, ds->articles.n);
    r.check = hm_xmalloc_array((size_t)CUT_CHECK_ROWS * nc, sizeof *r.check);
    struct recall_engine e;
    memset(&e, 0, sizeof e);
    if (!rep->users)
        rc = hm_error(HM_EINVAL, "recall.cut_week %d: nobody bought in that week", week_no);
    if (!rc && (rc = recall_engine_init(&e, ds, rp, start, cutoff, &in)) == 0)
        rc = collect_rows(&e, &truth, users, rep->users, &r);
    if (e.ds)
        recall_engine_release(&e);
    rep->seconds_pools = hm_seconds_since(t0);
    if (!rc && !r.positives)
        rc = hm_error(HM_EINVAL, "recall.cut_week %d: no purchase of the sampled buyers is in their wide pools", week_no);
    if (!rc && (rc = fit(rp, &r, out)) == 0) {
        rep->rows = r.rows;
        rep->train_rows = r.set.d.n_rows;
        rep->positives = r.positives;
        rep->truth_pairs = r.truth_pairs;
        rep->trees = gbm_forest_n_trees((*out)->forest);
        rep->seconds = hm_seconds_since(t0);
    }
    free(r.check);
    rank_set_release(&r.set);
    free(towers);
    free_names(names);
    free(users);
    prep_truth_release(&truth);
    prep_items_release(&items);
    return rc;
}

/* ---- files -------------------------------------------------------------------------------------- */

int recall_cut_save(const struct recall_cut_scorer *s, const char *path) { return gbm_save(s->model, path); }

int recall_cut_load(const char *path, struct recall_cut_scorer **out)
{
    *out = NULL;
    struct gbm_model *model = NULL;
    struct gbm_forest *forest = NULL;
    int rc = gbm_load(path, &model);
    if (!rc && gbm_model_n_cols(model) != recall_cut_n_cols())
        rc = hm_error(HM_EFORMAT, "%s: a two-stage scorer of %u columns, this hmrec's has %u", path,
                      gbm_model_n_cols(model), recall_cut_n_cols());
    if (!rc && (rc = gbm_forest_new(model, NULL, 0, &forest)) == 0) {
        *out = hm_xcalloc(1, sizeof **out);
        (*out)->model = model;
        (*out)->forest = forest;
        model = NULL;
    }
    gbm_free(&model);
    return rc;
}

char *recall_cut_importance(const struct recall_cut_scorer *s, uint32_t top)
{
    char *text = gbm_importance_format(s->model, top);
    return text ? text : hm_xstrdup("");
}
