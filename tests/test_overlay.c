/* Tests for the overlay of customers' rows (data_overlay, data_customer_rows) and the views of
 * the recall engine and the feature context that read through it, on the synthetic tiny
 * preset: an overlay holding the store's own rows changes no byte of any pool or feature; an
 * overlay with one purchase more changes that customer's history (repurchase proposes the
 * article, the user and user-item features count it) and nothing of anyone else's; one
 * merger reused across two visits of the same customer sees the second visit's rows (no
 * stale per-customer state); prep_customer_rows cuts an overlay's rows by day. */
#include "features/features.h"
#include "pipeline/pipeline.h"
#include "prep/prep.h"
#include "recall/recall.h"
#include "synth/synth.h"
#include "test.h"

#include <unistd.h>

static char dir_s[128];
static struct data_set ds;
static struct data_article_matrix text;
static struct prep_items items;
static struct recall_engine engine;
static struct feat_ctx ctx;
static int32_t cutoff;
static uint32_t NC;

/* An overlay built like hmrec serve builds one: for each customer of `who` (ascending), their
 * store rows before the cutoff, then `extra` rows of that customer (day order kept). */
struct overlay_buf {
    struct data_overlay o;
    uint32_t *customer;
    uint64_t *off;
    uint16_t *day;
    uint32_t *cust, *article;
    float *price;
    uint8_t *channel;
};

struct extra_row {
    uint32_t customer, article;
    int32_t day;
};

static void overlay_build(struct overlay_buf *b, const uint32_t *who, uint32_t n, const struct extra_row *extra,
                          uint32_t n_extra)
{
    memset(b, 0, sizeof *b);
    uint64_t total = n_extra;
    for (uint32_t i = 0; i < n; i++)
        total += ds.tx.cust_off[who[i] + 1] - ds.tx.cust_off[who[i]];
    b->customer = hm_xmalloc_array(n + 1, sizeof *b->customer);
    b->off = hm_xmalloc_array(n + 1, sizeof *b->off);
    b->day = hm_xmalloc_array(total + 1, sizeof *b->day);
    b->cust = hm_xmalloc_array(total + 1, sizeof *b->cust);
    b->article = hm_xmalloc_array(total + 1, sizeof *b->article);
    b->price = hm_xmalloc_array(total + 1, sizeof *b->price);
    b->channel = hm_xmalloc_array(total + 1, sizeof *b->channel);
    uint64_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = who[i];
        b->customer[i] = c;
        b->off[i] = o;
        for (uint64_t r = ds.tx.cust_off[c]; r < ds.tx.cust_off[c + 1]; r++, o++) {
            b->day[o] = ds.tx.day[r];
            b->cust[o] = c;
            b->article[o] = ds.tx.article[r];
            b->price[o] = ds.tx.price[r];
            b->channel[o] = ds.tx.channel[r];
        }
        for (uint32_t k = 0; k < n_extra; k++)
            if (extra[k].customer == c) {
                b->day[o] = (uint16_t)extra[k].day;
                b->cust[o] = c;
                b->article[o] = extra[k].article;
                b->price[o] = 0.03f;
                b->channel[o++] = 2;
            }
    }
    b->off[n] = o;
    b->o = (struct data_overlay){.n_customers = n, .customer = b->customer, .off = b->off,
                                 .tx = {.n = o, .day = b->day, .customer = b->cust, .article = b->article,
                                        .price = b->price, .channel = b->channel}};
}

static void overlay_free(struct overlay_buf *b)
{
    free(b->customer);
    free(b->off);
    free(b->day);
    free(b->cust);
    free(b->article);
    free(b->price);
    free(b->channel);
}

/* Every customer's pool (pool 150) and features through the views over `view` (ds, or a copy
 * of it with an overlay). */
static void pools_and_features(const struct data_set *view, struct recall_candidates *c, float **x)
{
    struct recall_engine e;
    struct feat_ctx fc;
    recall_engine_view(&e, &engine, view);
    feat_ctx_view(&fc, &ctx, view);
    uint32_t n = ds.customers.n, *users = hm_xmalloc_array(n, sizeof *users);
    for (uint32_t i = 0; i < n; i++)
        users[i] = i;
    recall_candidates_init(c);
    HM_ASSERT(recall_candidates_build(&e, users, n, 150, c, NULL) == 0);
    *x = hm_xmalloc_array(c->n * NC + 1, sizeof(float));
    HM_ASSERT(feat_block(&fc, c, *x) == 0);
    free(users);
}

/* Rows of customer i of c (as an index range). */
static int same_customer(const struct recall_candidates *a, const float *xa, const struct recall_candidates *b,
                         const float *xb, uint32_t i)
{
    uint64_t n = a->off[i + 1] - a->off[i];
    if (n != b->off[i + 1] - b->off[i])
        return 0;
    return memcmp(a->item + a->off[i], b->item + b->off[i], n * 4) == 0 &&
           memcmp(a->merged + a->off[i], b->merged + b->off[i], n * 4) == 0 &&
           memcmp(xa + a->off[i] * NC, xb + b->off[i] * NC, n * NC * sizeof(float)) == 0;
}

TEST(test_own_rows_change_nothing)
{
    struct recall_candidates base, over;
    float *xb, *xo;
    pools_and_features(&ds, &base, &xb);
    /* every third customer's rows come from the overlay's table instead of the store's */
    uint32_t n = 0, *who = hm_xmalloc_array(ds.customers.n, sizeof *who);
    for (uint32_t c = 1; c < ds.customers.n; c += 3)
        who[n++] = c;
    struct overlay_buf b;
    overlay_build(&b, who, n, NULL, 0);
    struct data_set view = ds;
    view.overlay = &b.o;
    pools_and_features(&view, &over, &xo);
    CHECK(base.n > 10000);
    CHECK_EQ_INT(base.n, over.n);
    CHECK(memcmp(base.item, over.item, base.n * 4) == 0);
    CHECK(memcmp(base.merged, over.merged, base.n * 4) == 0);
    CHECK(memcmp(base.flags, over.flags, base.n * sizeof *base.flags) == 0);
    CHECK(memcmp(xb, xo, base.n * NC * sizeof(float)) == 0);
    overlay_free(&b);
    free(who);
    free(xb);
    free(xo);
    recall_candidates_release(&base);
    recall_candidates_release(&over);
}

/* A customer with history and a kept article they never bought. */
static void pick(uint32_t *cust, uint32_t *art)
{
    for (uint32_t c = 0; c < ds.customers.n; c++) {
        uint64_t lo, hi;
        const struct data_transactions *tx = prep_customer_rows(&ds, c, 0, cutoff - 1, &lo, &hi);
        if (hi - lo < 5)
            continue;
        for (uint32_t k = 0; k < items.n; k++) {
            uint32_t a = items.item[(k * 7919u) % items.n];
            int bought = 0;
            for (uint64_t r = lo; r < hi; r++)
                bought |= tx->article[r] == a;
            if (!bought) {
                *cust = c;
                *art = a;
                return;
            }
        }
    }
    HM_ASSERT(0 && "no customer to test with");
}

static float feature(const float *x, uint64_t row, const char *name)
{
    return x[row * NC + (uint32_t)feat_column_find(name)];
}

TEST(test_new_purchase_counts)
{
    uint32_t c, a;
    pick(&c, &a);
    struct recall_candidates base, over;
    float *xb, *xo;
    pools_and_features(&ds, &base, &xb);
    struct extra_row extra = {c, a, cutoff - 1};
    struct overlay_buf b;
    overlay_build(&b, &c, 1, &extra, 1);
    struct data_set view = ds;
    view.overlay = &b.o;
    pools_and_features(&view, &over, &xo);
    /* everyone else: the same bytes */
    CHECK_EQ_INT(base.n_users, over.n_users);
    for (uint32_t i = 0; i < base.n_users; i++)
        if (base.user[i] != c)
            CHECK(same_customer(&base, xb, &over, xo, i));
    /* the customer: repurchase proposes the article, the features count the purchase */
    int rep = recall_strategy_find("repurchase");
    uint64_t row = UINT64_MAX;
    for (uint64_t r = over.off[c]; r < over.off[c + 1]; r++)
        if (over.item[r] == a)
            row = r;
    CHECK(row != UINT64_MAX);
    CHECK(over.flags[row] & (1u << rep));
    CHECK_EQ_INT(feature(xo, row, "ui_bought"), 1);
    CHECK_EQ_INT(feature(xo, row, "ui_days_since"), 1);
    CHECK_EQ_INT(feature(xo, over.off[c], "u_n_rows"), feature(xb, base.off[c], "u_n_rows") + 1);
    CHECK_EQ_INT(feature(xo, over.off[c], "u_days_last"), 1);
    overlay_free(&b);
    free(xb);
    free(xo);
    recall_candidates_release(&base);
    recall_candidates_release(&over);
}

TEST(test_merger_revisit)
{
    uint32_t c, a;
    pick(&c, &a);
    struct extra_row extra[3] = {{c, a, cutoff - 1}, {c, a, cutoff - 1}, {c, a, cutoff - 2}};
    struct overlay_buf b;
    overlay_build(&b, &c, 1, extra, 3);
    /* one merger on a view whose overlay is switched on between two runs for the customer */
    struct data_set view = ds;
    struct recall_engine e;
    recall_engine_view(&e, &engine, &view);
    struct recall_merger *m = recall_merger_new(&e, 150);
    struct recall_candidates first, second, fresh;
    recall_candidates_init(&first);
    recall_candidates_init(&second);
    recall_candidates_init(&fresh);
    HM_ASSERT(recall_merger_run(m, &c, 1, &first, NULL) == 0);
    view.overlay = &b.o;
    HM_ASSERT(recall_merger_run(m, &c, 1, &second, NULL) == 0);
    HM_ASSERT(recall_candidates_build(&e, &c, 1, 150, &fresh, NULL) == 0);
    CHECK_EQ_INT(second.n, fresh.n);
    CHECK(memcmp(second.item, fresh.item, fresh.n * 4) == 0);
    CHECK(memcmp(second.merged, fresh.merged, fresh.n * 4) == 0);
    CHECK(first.n != second.n || memcmp(first.merged, second.merged, first.n * 4) != 0);
    recall_merger_free(&m);
    recall_candidates_release(&first);
    recall_candidates_release(&second);
    recall_candidates_release(&fresh);
    overlay_free(&b);
}

TEST(test_rows_by_day)
{
    uint32_t c, a;
    pick(&c, &a);
    struct extra_row extra[2] = {{c, a, cutoff - 1}, {c, a, cutoff + 3}};
    struct overlay_buf b;
    overlay_build(&b, &c, 1, extra, 2);
    struct data_set view = ds;
    view.overlay = &b.o;
    uint64_t lo, hi, slo, shi;
    const struct data_transactions *tx = prep_customer_rows(&view, c, 0, cutoff - 1, &lo, &hi);
    const struct data_transactions *st = prep_customer_rows(&ds, c, 0, cutoff - 1, &slo, &shi);
    CHECK(tx == &b.o.tx && st == &ds.tx);
    CHECK_EQ_INT(hi - lo, shi - slo + 1); /* the row after the cutoff is left out */
    CHECK_EQ_INT(tx->day[hi - 1], cutoff - 1);
    tx = prep_customer_rows(&view, c, cutoff, cutoff + 7, &lo, &hi);
    CHECK_EQ_INT(hi - lo, 1);
    CHECK_EQ_INT(tx->article[lo], a);
    /* another customer reads the store */
    uint32_t other = c ? c - 1 : c + 1;
    CHECK(data_customer_rows(&view, other, &lo, &hi) == &view.tx);
    CHECK_EQ_INT(lo, ds.tx.cust_off[other]);
    overlay_free(&b);
}

int main(int argc, char **argv)
{
    (void)argc;
    hm_blas_ensure_coretype(argv);
    snprintf(dir_s, sizeof dir_s, "/tmp/hm_test_overlay_%d", (int)getpid());
    struct synth_params sp;
    synth_params_init(&sp);
    synth_params_preset(&sp, "tiny");
    struct synth_summary sum;
    char store[200], work[200], emb[200];
    snprintf(store, sizeof store, "%s/store", dir_s);
    snprintf(work, sizeof work, "%s/work", dir_s);
    snprintf(emb, sizeof emb, "%s/image_embeddings.npy", dir_s);
    struct data_ingest_opts io = {.data_dir = dir_s, .store_dir = store};
    struct data_ingest_report rep;
    struct pipeline_config cfg;
    HM_ASSERT(synth_generate(&sp, dir_s, &sum) == 0 && data_ingest(&io, &rep) == 0);
    HM_ASSERT(pipeline_config_load(&cfg, NULL, NULL, 0) == 0);
    snprintf(cfg.run.store, sizeof cfg.run.store, "%s", store);
    snprintf(cfg.run.work, sizeof cfg.run.work, "%s", work);
    struct pipeline p;
    pipeline_init(&p, &cfg);
    HM_ASSERT(pipeline_text(&p) == 0 && pipeline_text_load(&p, &text) == 0);
    pipeline_release(&p);
    HM_ASSERT(data_set_open(&ds, store, 0) == 0);
    cutoff = ds.tx.day_max + 1;
    HM_ASSERT(prep_items_filter(&items, &ds, ds.tx.day_min, cutoff, 2) == 0);
    struct feat_image im;
    HM_ASSERT(feat_image_load(&im, &ds, emb, FEAT_IMAGE_DIM) == 0);
    struct recall_inputs rin = {.keep = items.keep, .text_emb = text.x, .text_dim = text.dim,
                                .image_emb = im.emb, .image_dim = im.dim, .image_missing = im.missing};
    HM_ASSERT(recall_engine_init(&engine, &ds, &cfg.recall, ds.tx.day_min, cutoff, &rin) == 0);
    struct feat_inputs in = {&ds, text.x, ds.articles.n, text.dim, &im};
    HM_ASSERT(feat_ctx_init(&ctx, &in, cutoff, &cfg.feat) == 0);
    NC = feat_n_cols();
    RUN(test_own_rows_change_nothing);
    RUN(test_new_purchase_counts);
    RUN(test_merger_revisit);
    RUN(test_rows_by_day);
    feat_ctx_release(&ctx);
    recall_engine_release(&engine);
    feat_image_release(&im);
    prep_items_release(&items);
    data_article_matrix_release(&text);
    data_set_release(&ds);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir_s);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir_s);
    TEST_EXIT();
}
