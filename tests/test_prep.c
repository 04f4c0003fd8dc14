/* Tests for prep (Stage 1) and the baselines: windows, week purchases, sampling, item
 * filter, the artifact, and that nothing on or after a cutoff changes what it predicts. */
#include "fixture.h"
#include "prep/prep.h"
#include "recall/recall.h"
#include "test.h"

#include <unistd.h>

static char dir[128], store[160];

/* 40 customers, 30 articles, days 0..139 (2020-01-01 .. 2020-05-19). Customer c buys
 * article (c + k) % 30 on day 7k + c % 7 for k < c % 20 + 1 ... a deterministic pattern. */
static struct fixture_tx txs[4000];
static int n_txs;

static void make_data(void)
{
    n_txs = 0;
    for (int c = 0; c < 40; c++) {
        int n = c < 4 ? c % 2 : c % 20 + 1; /* customers 0..3 are cold (0 or 1 purchase) */
        for (int k = 0; k < n; k++)
            txs[n_txs++] = (struct fixture_tx){139 - 7 * k - c % 7, c, (c + k) % 30};
    }
    /* article 29 is the best seller of the last week, article 28 second */
    for (int c = 4; c < 14; c++)
        txs[n_txs++] = (struct fixture_tx){136, c, 29};
    for (int c = 4; c < 9; c++)
        txs[n_txs++] = (struct fixture_tx){134, c, 28};
    txs[n_txs++] = (struct fixture_tx){139, 5, 29}; /* a duplicate-like repeat */
}

static int open_ds(struct data_set *ds) { return data_set_open(ds, store, 0); }

static struct prep_params defaults(void)
{
    struct prep_params p;
    hm_settings_defaults(prep_settings, prep_n_settings, &p);
    return p;
}

TEST(test_windows)
{
    struct data_set ds;
    CHECK_EQ_INT(open_ds(&ds), 0);
    struct prep_params p = defaults();
    struct prep_windows w;
    CHECK_EQ_INT(prep_windows_init(&w, &ds, &p), 0);
    char s[11];
    hm_date_format(w.val.start, s);
    CHECK_STR(s, "2020-05-13");
    hm_date_format(w.val.end, s);
    CHECK_STR(s, "2020-05-19");
    CHECK_EQ_INT(w.n_train, 11);
    CHECK_EQ_INT(w.train[0].end, w.val.start - 1);
    CHECK_EQ_INT(w.train[10].start, w.val.start - 77);
    CHECK_EQ_INT(w.test.start, w.val.end + 1);
    prep_windows_release(&w);
    p.train_weeks = 30; /* more weeks than the data has */
    CHECK_EQ_INT(prep_windows_init(&w, &ds, &p), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "prepare.train_weeks = 30 needs data") != NULL);
    data_set_release(&ds);
}

TEST(test_truth)
{
    struct data_set ds;
    CHECK_EQ_INT(open_ds(&ds), 0);
    struct prep_truth t;
    struct prep_week val = {ds.tx.day_max - 6, ds.tx.day_max};
    CHECK_EQ_INT(prep_truth_build(&t, &ds, val), 0);
    /* every customer with >= 1 purchase buys in the last week (day 139 - c % 7) */
    int buyers = 0;
    for (int c = 0; c < 40; c++)
        buyers += c < 4 ? c % 2 : 1;
    CHECK_EQ_INT(t.n_users, buyers);
    /* customer 5 on day 134: own article 5, then 28 (file order); 29 on days 136 and 139 */
    uint32_t u = 0;
    while (u < t.n_users && t.user[u] != 5)
        u++;
    CHECK(u < t.n_users);
    CHECK_EQ_INT(t.off[u + 1] - t.off[u], 3);
    CHECK_EQ_INT(ds.articles.article_id[t.items[t.off[u]]], 100000001 + 5);
    CHECK_EQ_INT(ds.articles.article_id[t.items[t.off[u] + 1]], 100000001 + 28);
    CHECK_EQ_INT(ds.articles.article_id[t.items[t.off[u] + 2]], 100000001 + 29);
    prep_truth_release(&t);
    data_set_release(&ds);
}

TEST(test_sample)
{
    struct data_set ds;
    CHECK_EQ_INT(open_ds(&ds), 0);
    struct prep_params p = defaults();
    p.users = 20;
    p.cold_share = 0.1;
    struct prep_sample a, b;
    int32_t cutoff = ds.tx.day_max - 6;
    CHECK_EQ_INT(prep_sample_draw(&a, &ds, &p, cutoff), 0);
    CHECK_EQ_INT(a.n, 20);
    CHECK_EQ_INT(a.got[PREP_COLD], 2);
    /* customers 0..3, and 20 and 21 (one purchase each is in the validation week) */
    CHECK_EQ_INT(a.pop[PREP_COLD], 6);
    uint64_t total = 0;
    for (int k = 0; k < PREP_NBINS; k++) {
        CHECK(a.got[k] <= a.pop[k]);
        total += a.got[k];
    }
    CHECK_EQ_INT(total, 20);
    for (uint32_t i = 1; i < a.n; i++)
        CHECK(a.user[i - 1] < a.user[i]);
    CHECK_EQ_INT(prep_sample_draw(&b, &ds, &p, cutoff), 0);
    CHECK(memcmp(a.user, b.user, a.n * 4) == 0); /* deterministic */
    prep_sample_release(&b);
    p.seed = 7;
    CHECK_EQ_INT(prep_sample_draw(&b, &ds, &p, cutoff), 0);
    CHECK(memcmp(a.user, b.user, a.n * 4) != 0); /* another seed, another sample */
    prep_sample_release(&b);
    hm_threads_set(1);
    p.seed = 42;
    CHECK_EQ_INT(prep_sample_draw(&b, &ds, &p, cutoff), 0);
    CHECK(memcmp(a.user, b.user, a.n * 4) == 0); /* same with one thread */
    hm_threads_set(0);
    prep_sample_release(&b);
    p.users = -1;
    CHECK_EQ_INT(prep_sample_draw(&b, &ds, &p, cutoff), 0);
    CHECK_EQ_INT(b.n, 40);
    prep_sample_release(&b);
    prep_sample_release(&a);
    data_set_release(&ds);
}

TEST(test_items_filter)
{
    struct data_set ds;
    CHECK_EQ_INT(open_ds(&ds), 0);
    struct prep_items it;
    int32_t cutoff = ds.tx.day_max - 6;
    CHECK_EQ_INT(prep_items_filter(&it, &ds, ds.tx.day_min, cutoff, 1), 0);
    /* article 28 and 29 extra sales are in the validation week; every article sold before */
    uint32_t n1 = it.n;
    prep_items_release(&it);
    CHECK_EQ_INT(prep_items_filter(&it, &ds, ds.tx.day_min, cutoff, 1000), 0);
    CHECK_EQ_INT(it.n, 0);
    prep_items_release(&it);
    CHECK_EQ_INT(prep_items_filter(&it, &ds, ds.tx.day_min, ds.tx.day_max + 1, 10), 0);
    CHECK(it.keep[29]); /* 10 extra sales in the last week */
    CHECK(n1 >= it.n);
    prep_items_release(&it);
    data_set_release(&ds);
}

TEST(test_artifact)
{
    struct data_set ds;
    CHECK_EQ_INT(open_ds(&ds), 0);
    struct prep_params p = defaults();
    p.train_weeks = 4;
    p.users = 25;
    struct prep_result r, back;
    CHECK_EQ_INT(prep_run(&r, &ds, &p), 0);
    char path[200];
    snprintf(path, sizeof path, "%s/prepare.hmt", dir);
    CHECK_EQ_INT(prep_result_write(&r, path), 0);
    CHECK_EQ_INT(prep_result_read(&back, path), 0);
    CHECK_EQ_INT(back.sample.n, r.sample.n);
    CHECK(memcmp(back.sample.user, r.sample.user, r.sample.n * 4) == 0);
    CHECK_EQ_INT(back.items.n, r.items.n);
    CHECK_EQ_INT(back.win.n_train, 4);
    CHECK_EQ_INT(back.win.train[3].start, r.win.train[3].start);
    CHECK_EQ_INT(back.val_buyers, r.val_buyers);
    prep_result_release(&back);
    prep_result_release(&r);
    CHECK_EQ_INT(truncate(path, 300), 0);
    CHECK(prep_result_read(&back, path) != 0);
    CHECK(strstr(hm_last_error(), path) != NULL);
    data_set_release(&ds);
}

TEST(test_baselines)
{
    struct data_set ds;
    CHECK_EQ_INT(open_ds(&ds), 0);
    struct recall_base_params bp;
    hm_settings_defaults(recall_base_settings, recall_base_n_settings, &bp);
    uint32_t users[3] = {4, 5, 39}, out[3 * RECALL_K];
    uint8_t n[3];
    int32_t end = ds.tx.day_max + 1;
    CHECK_EQ_INT(recall_baseline_predict(&ds, RECALL_POPULAR, &bp, end, users, 3, out, n), 0);
    CHECK_EQ_INT(ds.articles.article_id[out[0]], 100000001 + 29);
    CHECK_EQ_INT(ds.articles.article_id[out[1]], 100000001 + 28);
    CHECK(memcmp(out, out + RECALL_K, RECALL_K * 4) == 0); /* same list for everyone */
    CHECK_EQ_INT(recall_baseline_predict(&ds, RECALL_RECENT, &bp, end, users, 3, out, n), 0);
    CHECK_EQ_INT(n[0], RECALL_K);
    /* customer 5 bought 29 twice most recently: first */
    CHECK_EQ_INT(ds.articles.article_id[out[RECALL_K]], 100000001 + 29);
    for (int i = 0; i < 3; i++)
        for (int a = 0; a < RECALL_K; a++)
            for (int b = 0; b < a; b++)
                CHECK(out[i * RECALL_K + a] != out[i * RECALL_K + b]);
    data_set_release(&ds);
}

/* Predictions at a cutoff must not change when transactions on or after it change. */
TEST(test_cutoff_leaks_nothing)
{
    struct data_set ds;
    CHECK_EQ_INT(open_ds(&ds), 0);
    int32_t cutoff = ds.tx.day_max - 6;
    struct recall_base_params bp;
    hm_settings_defaults(recall_base_settings, recall_base_n_settings, &bp);
    uint32_t users[40], before[3][40 * RECALL_K], after[40 * RECALL_K];
    uint8_t n[40];
    for (int i = 0; i < 40; i++)
        users[i] = (uint32_t)i;
    for (int k = 0; k < RECALL_NBASELINES; k++)
        CHECK_EQ_INT(recall_baseline_predict(&ds, k, &bp, cutoff, users, 40, before[k], n), 0);
    struct prep_sample s1;
    struct prep_params p = defaults();
    p.users = 15;
    prep_sample_draw(&s1, &ds, &p, cutoff);
    data_set_release(&ds);
    /* add a flood of purchases in the validation week and rebuild the store */
    int extra = 0;
    for (int c = 0; c < 40; c++)
        for (int k = 0; k < 5; k++)
            txs[n_txs + extra++] = (struct fixture_tx){135 + k % 5, c, (c * 3 + k) % 30};
    CHECK_EQ_INT(fixture_build(dir, 40, 30, txs, n_txs + extra), 0);
    CHECK_EQ_INT(open_ds(&ds), 0);
    for (int k = 0; k < RECALL_NBASELINES; k++) {
        CHECK_EQ_INT(recall_baseline_predict(&ds, k, &bp, cutoff, users, 40, after, n), 0);
        CHECK(memcmp(before[k], after, sizeof after) == 0);
    }
    struct prep_sample s2;
    prep_sample_draw(&s2, &ds, &p, cutoff);
    CHECK_EQ_INT(s1.n, s2.n);
    CHECK(memcmp(s1.user, s2.user, s1.n * 4) == 0);
    prep_sample_release(&s1);
    prep_sample_release(&s2);
    data_set_release(&ds);
    CHECK_EQ_INT(fixture_build(dir, 40, 30, txs, n_txs), 0); /* restore */
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/hm_test_prep_%d", (int)getpid());
    snprintf(store, sizeof store, "%s/store", dir);
    make_data();
    if (fixture_build(dir, 40, 30, txs, n_txs) != 0) {
        fprintf(stderr, "fixture: %s\n", hm_last_error());
        return 1;
    }
    RUN(test_windows);
    RUN(test_truth);
    RUN(test_sample);
    RUN(test_items_filter);
    RUN(test_artifact);
    RUN(test_baselines);
    RUN(test_cutoff_leaks_nothing);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    system(cmd);
    TEST_EXIT();
}
