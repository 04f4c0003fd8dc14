/* Tests for Stage 2 (recall): each strategy on a hand-made data set with hand-computed
 * expectations, the merge (flags, ranks, counts, pool cap), the cutoff (transactions on or
 * after it change nothing), determinism across thread counts, and the artifact. */
#include "fixture.h"
#include "pipeline/pipeline.h"
#include "prep/prep.h"
#include "recall/recall.h"
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <math.h>
#include <unistd.h>

static char dir[128], store[160], dir2[128], store2[160];

/* 30 customers, 12 articles (0-5 product type 100, 6-11 type 200), days from 2020-01-01.
 * The cutoff is day 70; the strategies' windows: popular [63, 70), category [42, 70),
 * co-purchase / user-KNN index [14, 70). Article 11 is outside the item universe.
 *   customer 0:      article 1 on day 40, article 0 on days 60 and 65
 *   customers 1-3:   article 5 on day 64
 *   customer 4:      article 4 four times on day 66
 *   customer 5:      article 11 ten times on day 66 (not in the universe)
 *   customers 10-12: articles 6 and 7 on days 50 and 52
 *   customer 13:     articles 6 and 8 on day 55
 *   customer 14:     article 6 on day 68
 *   customers 15-18: baskets long ago (days 5-10, before every window above but inside the
 *                    same-basket window of 12 weeks, [-14, 70)): 15 buys 2, 3, 9 on day 5;
 *                    16 buys 2, 3 on day 6 and 9 on day 8; 17 buys 2, 9 on day 7; 18 buys 3
 *                    on day 10
 *   customers 20-29: nothing (cold)
 * Articles 2a and 2a + 1 are the colours of one product; every row costs the same; customer c
 * is 20 + c years old. */
#define CUTOFF 70
static struct fixture_tx txs[1000];
static int n_txs;
static const int types[12] = {100, 100, 100, 100, 100, 100, 200, 200, 200, 200, 200, 200};
static uint8_t keep[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};

static void make_data(void)
{
    n_txs = 0;
#define T(d, c, a) txs[n_txs++] = (struct fixture_tx){d, c, a}
    T(40, 0, 1); T(60, 0, 0); T(65, 0, 0);
    for (int c = 1; c <= 3; c++)
        T(64, c, 5);
    for (int k = 0; k < 4; k++)
        T(66, 4, 4);
    for (int k = 0; k < 10; k++)
        T(66, 5, 11);
    for (int c = 10; c <= 12; c++) {
        T(50, c, 6);
        T(52, c, 7);
    }
    T(55, 13, 6); T(55, 13, 8);
    T(68, 14, 6);
    T(5, 15, 2); T(5, 15, 3); T(5, 15, 9);
    T(6, 16, 2); T(6, 16, 3); T(8, 16, 9);
    T(7, 17, 2); T(7, 17, 9);
    T(10, 18, 3);
#undef T
}

static int32_t day0(void)
{
    int32_t d;
    hm_date_parse("2020-01-01", 10, &d);
    return d;
}

/* The strategies' rows in the table. */
static int S_REP, S_POP, S_CO, S_KNN, S_CAT, S_TEXT, S_SEG, S_IMG, S_BSK, S_COL, S_AGE, S_NEW;

static void set(struct recall_params *p, const char *key, const char *value)
{
    size_t n;
    const struct hm_setting *t = recall_settings_table(&n);
    HM_ASSERT(hm_settings_set(t, n, p, key, value, "test") == 0);
}

static struct recall_params defaults(void)
{
    struct recall_params p;
    size_t n;
    const struct hm_setting *t = recall_settings_table(&n);
    hm_settings_defaults(t, n, &p);
    set(&p, "recall.pop_trend_periods", "0"); /* no trend: volume and buyers only (hand-checkable) */
    set(&p, "recall.tau", "30");              /* the expectations below are computed with these */
    set(&p, "recall.window_weeks", "8");
    set(&p, "recall.rep_w", "3");
    /* the merge's hand-checked expectations use these weights and lengths (not the tuned
     * defaults), and every strategy on */
    set(&p, "recall.merge_k", "20");
    set(&p, "recall.pop_w", "1");
    set(&p, "recall.co_w", "1.5");
    set(&p, "recall.knn_w", "1");
    set(&p, "recall.cat_w", "1");
    set(&p, "recall.cat_n", "40");
    set(&p, "recall.text_n", "30");
    set(&p, "recall.cat_w_department", "0"); /* product type only */
    set(&p, "recall.cat_w_section", "0");
    set(&p, "recall.cat_w_colour", "0");
    set(&p, "recall.cat_w_garment", "0");
    set(&p, "recall.style_k", "0"); /* no style lifts (test_style checks them) */
    set(&p, "recall.seg_launch", "1"); /* no launch factor, no early sellers, no upper bound */
    set(&p, "recall.new_recent", "-1"); /* (test_segment and test_new_arrivals check them) */
    set(&p, "recall.new_ahead", "0");
    return p;
}

/* The article rows of a list as article numbers (ids - 100000001). */
static int art(const struct data_set *ds, uint32_t a) { return (int)ds->articles.article_id[a] - 100000001; }

struct one {
    uint32_t items[256];
    float scores[256];
    uint32_t n;
};

/* Runs strategy s for customer c. */
static void run_one(const struct recall_engine *e, int s, uint32_t c, struct one *o)
{
    HM_ASSERT(recall_strategy_run(e, s, &c, 1, o->items, o->scores, &o->n) == 0);
}

/* The text stage's article embeddings of the store in `dir`, through the pipeline's text
 * stage (written under the work directory `work`). */
static int text_embeddings(const char *store_dir, const char *work, struct data_article_matrix *m)
{
    struct pipeline_config cfg;
    int rc = pipeline_config_load(&cfg, NULL, NULL, 0);
    if (rc)
        return rc;
    snprintf(cfg.run.store, sizeof cfg.run.store, "%s", store_dir);
    snprintf(cfg.run.work, sizeof cfg.run.work, "%s", work);
    struct pipeline p;
    pipeline_init(&p, &cfg);
    rc = pipeline_text(&p);
    if (!rc)
        rc = pipeline_text_load(&p, m);
    pipeline_release(&p);
    return rc;
}

static struct data_article_matrix text1, text2; /* of the two stores */

/* Image embeddings of the hand-made store (12 x 3): type 100 along the first axis, type 200
 * along the second, a little of the third by article; and of the larger store (40 x 8), a
 * direction per product type plus noise. */
static float img1[12 * 3], img2[40 * 8];

static void make_images(void)
{
    for (int a = 0; a < 12; a++) {
        img1[a * 3 + (types[a] == 100 ? 0 : 1)] = 1.0f;
        img1[a * 3 + 2] = 0.05f * (float)(a % 3);
    }
    struct hm_rng r;
    hm_rng_seed(&r, 11);
    for (int a = 0; a < 40; a++)
        for (int k = 0; k < 8; k++)
            img2[a * 8 + k] = (k == a % 4 ? 1.0f : 0.0f) + 0.2f * (float)hm_rng_normal(&r);
}

static int open_engine_in(struct data_set *ds, struct recall_engine *e, const struct recall_params *p,
                          const float *image, const uint8_t *image_missing)
{
    int rc = data_set_open(ds, store, 0);
    if (rc)
        return rc;
    struct recall_inputs in = {.keep = keep, .text_emb = text1.x, .text_dim = text1.dim, .image_emb = image,
                               .image_missing = image_missing, .image_dim = 3};
    return recall_engine_init(e, ds, p, ds->tx.day_min, day0() + CUTOFF, &in);
}

static int open_engine(struct data_set *ds, struct recall_engine *e, const struct recall_params *p)
{
    return open_engine_in(ds, e, p, img1, NULL);
}

TEST(test_repurchase)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    struct one o;
    run_one(&e, S_REP, 0, &o);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 0);
    CHECK_NEAR(o.scores[0], exp(-9.0 / 30) + exp(-4.0 / 30), 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 1);
    CHECK_NEAR(o.scores[1], exp(-29.0 / 30), 1e-6);
    run_one(&e, S_REP, 5, &o); /* article 11 is outside the universe */
    CHECK_EQ_INT(o.n, 0);
    run_one(&e, S_REP, 20, &o); /* cold */
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_popular)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    struct one o;
    run_one(&e, S_POP, 20, &o);
    /* in [63, 70): 5: 3 rows, 3 buyers; 4: 4 rows, 1 buyer; 0 and 6: 1 row, 1 buyer; 11 is out.
     * score = rows / 4 + buyers / 3 */
    CHECK_EQ_INT(o.n, 4);
    CHECK_EQ_INT(art(&ds, o.items[0]), 5);
    CHECK_NEAR(o.scores[0], 3.0 / 4 + 1, 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 4);
    CHECK_NEAR(o.scores[1], 1 + 1.0 / 3, 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[2]), 0); /* tie with 6: the lower article first */
    CHECK_EQ_INT(art(&ds, o.items[3]), 6);
    CHECK_NEAR(o.scores[3], 1.0 / 4 + 1.0 / 3, 1e-6);
    struct one o2;
    run_one(&e, S_POP, 0, &o2); /* the same list for everyone */
    CHECK(memcmp(o.items, o2.items, o.n * 4) == 0);
    recall_engine_release(&e);
    /* the trend: with 3 earlier weeks, none of which sold anything, every trend is log(rows + 1);
     * with only the trend weighing, article 4 (4 rows) leads */
    set(&p, "recall.pop_trend_periods", "3");
    set(&p, "recall.pop_w_volume", "0");
    set(&p, "recall.pop_w_buyers", "0");
    set(&p, "recall.pop_w_trend", "1");
    data_set_release(&ds);
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_POP, 20, &o);
    CHECK_EQ_INT(art(&ds, o.items[0]), 4);
    CHECK_NEAR(o.scores[0], 1, 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 5);
    CHECK_NEAR(o.scores[1], log(4.0) / log(5.0), 1e-6);
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_copurchase)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* buyers in [14, 70): B6 = {10..14}, B7 = {10, 11, 12}, B8 = {13}:
     * J(6,7) = 3/5, J(6,8) = 1/5, J(7,8) = 0 */
    uint32_t a6 = 6; /* article rows follow articles.csv order */
    CHECK_EQ_INT(art(&ds, a6), 6);
    const uint32_t *nbr;
    const float *sim;
    CHECK_EQ_INT(recall_copurchase_neighbours(&e, S_CO, a6, &nbr, &sim), 2);
    CHECK_EQ_INT(art(&ds, nbr[0]), 7);
    CHECK_NEAR(sim[0], 0.6, 1e-6);
    CHECK_NEAR(sim[1], 0.2, 1e-6);
    CHECK_EQ_INT(recall_copurchase_neighbours(&e, S_CO, 7, &nbr, &sim), 1); /* 7's only neighbour is 6 */
    struct one o;
    run_one(&e, S_CO, 14, &o);
    double w6 = exp(-1.0 / 30); /* customer 14 bought 6 one day before the cutoff */
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 7);
    CHECK_NEAR(o.scores[0], 0.6 * w6, 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 8);
    CHECK_NEAR(o.scores[1], 0.2 * w6, 1e-6);
    /* customer 0: B0 = B1 = {0}, so J(0,1) = 1; scores are the other item's history weight */
    run_one(&e, S_CO, 0, &o);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 1);
    CHECK_NEAR(o.scores[0], exp(-9.0 / 30) + exp(-4.0 / 30), 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 0);
    run_one(&e, S_CO, 20, &o);
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_userknn)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* customer 14's query {6}; 6's other buyers 10-13 each share it (weight 1/log2(2 + 5))
     * and have 2 window items: sim = 1/log2(7)/sqrt(1 * 2). 10-12 vote for 7, 13 for 8;
     * 6 is 14's own item and is not proposed. */
    struct one o;
    run_one(&e, S_KNN, 14, &o);
    double sim = 1.0 / log2(7.0) / sqrt(2.0);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 7);
    CHECK_NEAR(o.scores[0], 3 * sim, 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 8);
    CHECK_NEAR(o.scores[1], sim, 1e-6);
    /* with a fan-out of 1, one buyer of 6 is visited (never customer 14 itself counted) */
    recall_engine_release(&e);
    set(&p, "recall.knn_fanout", "1");
    data_set_release(&ds);
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_KNN, 14, &o);
    CHECK(o.n <= 1);
    run_one(&e, S_KNN, 20, &o);
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_category)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* customer 14 bought only type 200: its list is the type's items sold in [42, 70),
     * ranked by decayed sales (6: 5 rows, 7: 3, 8: 1); 11 is outside the universe */
    struct one o;
    run_one(&e, S_CAT, 14, &o);
    CHECK_EQ_INT(o.n, 3);
    CHECK_EQ_INT(art(&ds, o.items[0]), 6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 7);
    CHECK_EQ_INT(art(&ds, o.items[2]), 8);
    double tau = 14, d6 = 3 * exp(-19 / tau) + exp(-14 / tau) + exp(-1 / tau), d7 = 3 * exp(-17 / tau);
    CHECK_NEAR(o.scores[1] / o.scores[0], d7 / d6, 1e-5);
    /* customer 0 bought type 100 only: 4, 5 and 0 (1 was sold on day 40, before the window) */
    run_one(&e, S_CAT, 0, &o);
    CHECK_EQ_INT(o.n, 3);
    for (uint32_t i = 0; i < o.n; i++)
        CHECK(types[art(&ds, o.items[i])] == 100);
    CHECK_EQ_INT(art(&ds, o.items[0]), 4);
    run_one(&e, S_CAT, 20, &o);
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_text)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* searched: kept articles sold in [42, 70) = 0, 4, 5, 6, 7, 8. Articles of one product type
     * differ only in their number, so customer 14 (article 6, type 200) is closest to 7 and 8
     * (cosine ~1); 6 itself is excluded; type 100 follows, further away */
    struct one o;
    run_one(&e, S_TEXT, 14, &o);
    CHECK_EQ_INT(o.n, 5);
    CHECK(art(&ds, o.items[0]) == 7 || art(&ds, o.items[0]) == 8);
    CHECK(art(&ds, o.items[1]) == 7 || art(&ds, o.items[1]) == 8);
    CHECK(o.scores[1] > 0.95f);
    for (uint32_t i = 2; i < o.n; i++) {
        CHECK(types[art(&ds, o.items[i])] == 100);
        CHECK(o.scores[i] < o.scores[1] - 0.05f);
    }
    for (uint32_t i = 0; i < o.n; i++)
        CHECK(art(&ds, o.items[i]) != 6);
    run_one(&e, S_TEXT, 20, &o); /* cold: no embedding, no candidates */
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_segment)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    set(&p, "recall.seg_days", "14"); /* current popularity: [56, 70), rows decayed by exp(-age / 7) */
    set(&p, "recall.seg_expand", "0");  /* the customer's own cells first; expansion below */
    set(&p, "recall.seg_pop_tau", "7");
    set(&p, "recall.seg_tau", "365");
    set(&p, "recall.seg_kappa", "1");
    set(&p, "recall.seg_levels", "3");
    set(&p, "recall.seg_alpha", "1");
    set(&p, "recall.seg_trend", "0");
    set(&p, "recall.seg_w_colour", "1");
    set(&p, "recall.seg_w_pattern", "1");
    set(&p, "recall.seg_w_price", "1");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* listed (kept, sold in [56, 70)): 0, 4, 5 (cell "type 100") and 6 (cell "type 200").
     * Price levels: every row costs the same, so articles rank by row within their cell among
     * those ever sold: cell 100 has 0-5 (levels 0 0 1 1 2 2), cell 200 has 6, 7, 8, 9, 11
     * (levels 0 0 1 1 2). Segments of cell 100: {0} (level 0) and {4, 5} (level 2). One colour
     * and one pattern: their lifts are 1. */
    double pop0 = exp(-9.0 / 7) + exp(-4.0 / 7), pop4 = 4 * exp(-3.0 / 7), pop5 = 3 * exp(-5.0 / 7),
           pop6 = exp(-1.0 / 7), tot = pop0 + pop4 + pop5 + pop6;
    double g0 = (pop0 + pop6) / tot, g2 = (pop4 + pop5) / tot;
    /* customer 0: articles 1 (day 40) and 0 (days 60, 65), all level 0 of cell 100 */
    double W = exp(-29.0 / 365) + exp(-9.0 / 365) + exp(-4.0 / 365);
    double L0 = (W + g0) / (W + 1) / g0, L2 = (0 + g2) / (W + 1) / g2;
    double z = pop0 * L0 + (pop4 + pop5) * L2;
    struct one o;
    run_one(&e, S_SEG, 0, &o);
    CHECK_EQ_INT(o.n, 2); /* 0 is their own */
    CHECK_EQ_INT(art(&ds, o.items[0]), 4);
    CHECK_NEAR(o.scores[0], pop4 * L2 / z, 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 5);
    CHECK_NEAR(o.scores[1], pop5 * L2 / z, 1e-6);
    /* customer 4: article 4 four times on day 66 (level 2): level 2 is lifted, level 0 not */
    W = 4 * exp(-3.0 / 365);
    L0 = g0 / (W + 1) / g0;
    L2 = (W + g2) / (W + 1) / g2;
    z = pop0 * L0 + (pop4 + pop5) * L2;
    run_one(&e, S_SEG, 4, &o);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 5);
    CHECK_NEAR(o.scores[0], pop5 * L2 / z, 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 0);
    CHECK_NEAR(o.scores[1], pop0 * L0 / z, 1e-6);
    run_one(&e, S_SEG, 14, &o); /* cell 200 lists only 6, their own */
    CHECK_EQ_INT(o.n, 0);
    run_one(&e, S_SEG, 20, &o);
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    /* without the price lift, the order within cell 100 is popularity: 4, 5 for customer 4 too */
    set(&p, "recall.seg_w_price", "0");
    data_set_release(&ds);
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_SEG, 4, &o);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 5); /* 4 is their own: 5, then 0 */
    CHECK_NEAR(o.scores[0], pop5 / (pop0 + pop4 + pop5), 1e-6);
    CHECK_NEAR(o.scores[1], pop0 / (pop0 + pop4 + pop5), 1e-6);
    recall_engine_release(&e);
    /* launches: 4 (day 66) and 5 (day 64) were first sold within the last week, [63, 70), so
     * their current popularity counts seg_launch times; 0 (day 60) is older */
    set(&p, "recall.seg_launch", "2");
    data_set_release(&ds);
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_SEG, 4, &o);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 5);
    CHECK_NEAR(o.scores[0], 2 * pop5 / (pop0 + 2 * pop4 + 2 * pop5), 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 0);
    CHECK_NEAR(o.scores[1], pop0 / (pop0 + 2 * pop4 + 2 * pop5), 1e-6);
    recall_engine_release(&e);
    set(&p, "recall.seg_launch", "1");
    /* cell expansion: of the nine customers with cell 100 and the nine with cell 200, three
     * (15-17) have both: P(200 | 100) = P(100 | 200) = 1/3. With seg_expand 1 a customer's
     * unbought cell j weighs sum over their cells i of share(i) P(j | i), one purchase's worth */
    set(&p, "recall.seg_expand", "1");
    data_set_release(&ds);
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* customer 14 (only cell 200, whose one listed article 6 is their own) gets cell 100 at
     * weight 1/3: its listed articles 4, 5, 0, whose scores sum to (1/3) / W_14 */
    run_one(&e, S_SEG, 14, &o);
    CHECK_EQ_INT(o.n, 3);
    CHECK_NEAR(o.scores[0] + o.scores[1] + o.scores[2], 1.0 / 3 / exp(-1.0 / 365), 1e-5);
    CHECK_EQ_INT(art(&ds, o.items[0]), 4); /* popularity order within the cell */
    CHECK_EQ_INT(art(&ds, o.items[1]), 5);
    CHECK_EQ_INT(art(&ds, o.items[2]), 0);
    /* customer 4 keeps 5 and 0 with their scores and adds cell 200's 6 at (1/3) / W_4 */
    run_one(&e, S_SEG, 4, &o);
    CHECK_EQ_INT(o.n, 3);
    CHECK_EQ_INT(art(&ds, o.items[0]), 5);
    CHECK_NEAR(o.scores[0], pop5 / (pop0 + pop4 + pop5), 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 0);
    CHECK_EQ_INT(art(&ds, o.items[2]), 6);
    CHECK_NEAR(o.scores[2], 1.0 / 3 / (4 * exp(-3.0 / 365)), 1e-6);
    run_one(&e, S_SEG, 20, &o); /* nothing to expand from */
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
}

/* The style topics on an in-memory data set. Eight articles: colour master 1 + (a & 1) and
 * pattern 10 + 10 ((a >> 1) & 1), so four colour x pattern pairs of two articles each.
 * Customers 0-19 buy the pairs (1, 10) and (2, 20) (articles 0, 3, 4, 7), customers 20-39
 * the pairs (1, 20) and (2, 10) (articles 1, 2, 5, 6): each colour and each pattern holds half
 * of every customer's rows, so colour and pattern lifts are 1 for everyone, while the pairs
 * are two styles. Customer 40 buys (1, 10) once; customer 41 buys nothing. */
TEST(test_style)
{
    enum { NA = 8, NC = 42, NROWS = 40 * 4 + 1 };
    static int32_t colour[NA], pattern[NA];
    static uint16_t day[NROWS];
    static uint32_t cust[NROWS], article[NROWS];
    static uint64_t off[NC + 1];
    static const uint32_t style_a[4] = {0, 3, 4, 7}, style_b[4] = {1, 2, 5, 6};
    for (int a = 0; a < NA; a++) {
        colour[a] = 1 + (a & 1);
        pattern[a] = 10 + 10 * ((a >> 1) & 1);
    }
    uint32_t n = 0;
    for (uint32_t c = 0; c < NC; c++) {
        off[c] = n;
        for (uint32_t j = 0; j < 4 && c < 40; j++, n++) {
            day[n] = (uint16_t)(18000 + j);
            cust[n] = c;
            article[n] = (c < 20 ? style_a : style_b)[(c + j) % 4];
        }
        if (c == 40) {
            day[n] = 18003;
            cust[n] = c;
            article[n++] = 0;
        }
    }
    off[NC] = n;
    CHECK_EQ_INT(n, NROWS);
    struct data_set ds;
    memset(&ds, 0, sizeof ds);
    ds.customers.n = NC;
    ds.articles.n = NA;
    ds.articles.num[IO_ART_PERCEIVED_COLOUR_MASTER_ID] = colour;
    ds.articles.num[IO_ART_GRAPHICAL_APPEARANCE_NO] = pattern;
    ds.tx.n = n;
    ds.tx.day = day;
    ds.tx.customer = cust;
    ds.tx.article = article;
    ds.tx.cust_off = off;
    struct recall_style_params sp = {.k = 2, .iters = 100, .share = 1, .tau = 1e6, .kappa = 1};
    struct recall_style st, st2;
    recall_style_fit(&ds, 0, 18010, &sp, &st);
    CHECK_EQ_INT(st.k, 2);
    CHECK_EQ_INT(st.n_fitted, 41);
    double msum = 0, mix = 0;
    for (uint32_t q = 0; q < st.n_pairs; q++)
        msum += st.marg[q];
    for (uint32_t t = 0; t < st.k; t++)
        mix += st.mix[t];
    CHECK_NEAR(msum, 1, 1e-5);
    CHECK_NEAR(mix, 1, 1e-5);
    uint32_t p_1_10 = st.pair[0], p_2_20 = st.pair[3], p_1_20 = st.pair[2], p_2_10 = st.pair[1];
    CHECK(p_1_10 != p_2_20 && p_1_10 != p_1_20 && p_1_10 != p_2_10 && st.pair[4] == p_1_10);
    /* the two styles are found: one holds the first style's pairs, the other the second's */
#define PHI(pair, t) st.phi[(size_t)(pair) * st.k + (t)]
    uint32_t ta = PHI(p_1_10, 0) > PHI(p_1_10, 1) ? 0 : 1, tb = 1 - ta;
    CHECK(PHI(p_1_10, ta) > 0.45f && PHI(p_2_20, ta) > 0.45f && PHI(p_1_20, ta) < 1e-3f && PHI(p_2_10, ta) < 1e-3f);
    CHECK(PHI(p_1_20, tb) > 0.45f && PHI(p_2_10, tb) > 0.45f && PHI(p_1_10, tb) < 1e-3f && PHI(p_2_20, tb) < 1e-3f);
#undef PHI
    /* a customer of the first style (4 rows, all of it), shrunk by kappa 1 towards the shop's
     * mix: theta = (4 + mix) / 5; their other pair is lifted towards 2 (half of their rows
     * against a quarter of the shop's), the other style's pairs towards 0 */
    float th0[RECALL_STYLE_MAX], th40[RECALL_STYLE_MAX], th41[RECALL_STYLE_MAX];
    recall_style_customer(&st, &sp, &ds.tx, off[0], off[1], 18010, th0);
    CHECK_NEAR(th0[ta], (4 + st.mix[ta]) / 5, 1e-3);
    CHECK(recall_style_lift(&st, th0, p_2_20) > 1.75f);
    CHECK(recall_style_lift(&st, th0, p_1_10) > 1.75f);
    CHECK(recall_style_lift(&st, th0, p_1_20) < 0.25f);
    CHECK(recall_style_lift(&st, th0, p_2_10) < 0.25f);
    /* one purchase of (1, 10), shrunk towards the shop's mix: (2, 20) is lifted, less so */
    recall_style_customer(&st, &sp, &ds.tx, off[40], off[41], 18010, th40);
    float l40 = recall_style_lift(&st, th40, p_2_20);
    CHECK(l40 > 1.1f && l40 < recall_style_lift(&st, th0, p_2_20));
    CHECK(recall_style_lift(&st, th40, p_1_20) < 0.9f);
    /* no purchases: the shop's mix, every lift 1 */
    recall_style_customer(&st, &sp, &ds.tx, off[41], off[42], 18010, th41);
    for (uint32_t a = 0; a < NA; a++)
        CHECK_NEAR(recall_style_lift(&st, th41, st.pair[a]), 1, 1e-5);
    /* rows on or after the cutoff are not read: with the cutoff before every row nobody is
     * fitted and every customer has the shop's mix */
    recall_style_fit(&ds, 0, 18000, &sp, &st2);
    CHECK_EQ_INT(st2.n_fitted, 0);
    recall_style_release(&st2);
    /* deterministic */
    recall_style_fit(&ds, 0, 18010, &sp, &st2);
    CHECK(memcmp(st.phi, st2.phi, (size_t)st.k * st.n_pairs * sizeof *st.phi) == 0);
    CHECK(memcmp(st.mix, st2.mix, st.k * sizeof *st.mix) == 0);
    recall_style_release(&st2);
    /* a share of 0.5 fits about half of the customers */
    sp.share = 0.5;
    recall_style_fit(&ds, 0, 18010, &sp, &st2);
    CHECK(st2.n_fitted > 8 && st2.n_fitted < 33);
    recall_style_release(&st2);
    recall_style_release(&st);
    CHECK(st.phi == NULL && st.k == 0);
}

TEST(test_basket)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    set(&p, "recall.bsk_weeks", "12");
    set(&p, "recall.bsk_shrink", "2");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* baskets with 2: (15, day 5), (16, 6), (17, 7); with 3: (15, 5), (16, 6), (18, 10); with 9:
     * (15, 5), (16, 8), (17, 7). P(3|2) = 2 / (3 + 2), P(9|2) = 2/5, P(9|3) = 1/5, P(2|9) = 2/5.
     * 6 is in 5 baskets, once with 8 (customer 13, day 55); 6 and 7 were never bought on one
     * day. Article 4's four rows on day 66 are one basket and no pair. */
    const uint32_t *nbr;
    const float *pr;
    CHECK_EQ_INT(recall_basket_neighbours(&e, S_BSK, 2, &nbr, &pr), 2);
    CHECK_EQ_INT(art(&ds, nbr[0]), 3); /* a tie: the lower article first */
    CHECK_NEAR(pr[0], 0.4, 1e-6);
    CHECK_EQ_INT(art(&ds, nbr[1]), 9);
    CHECK_NEAR(pr[1], 0.4, 1e-6);
    CHECK_EQ_INT(recall_basket_neighbours(&e, S_BSK, 6, &nbr, &pr), 1);
    CHECK_EQ_INT(art(&ds, nbr[0]), 8);
    CHECK_NEAR(pr[0], 1.0 / 7, 1e-6);
    CHECK_EQ_INT(recall_basket_neighbours(&e, S_BSK, 4, &nbr, &pr), 0);
    /* customer 17 (2 and 9 on day 7) gets 3: P(3|2) w_2 + P(3|9) w_9 */
    struct one o;
    run_one(&e, S_BSK, 17, &o);
    CHECK_EQ_INT(o.n, 1);
    CHECK_EQ_INT(art(&ds, o.items[0]), 3);
    CHECK_NEAR(o.scores[0], (0.4 + 0.2) * exp(-62.0 / 30), 1e-6);
    /* customer 18 (3 on day 10): 2 then 9 */
    run_one(&e, S_BSK, 18, &o);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 2);
    CHECK_NEAR(o.scores[0], 0.4 * exp(-59.0 / 30), 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 9);
    CHECK_NEAR(o.scores[1], 0.2 * exp(-59.0 / 30), 1e-6);
    run_one(&e, S_BSK, 16, &o); /* every neighbour is their own */
    CHECK_EQ_INT(o.n, 0);
    run_one(&e, S_BSK, 20, &o);
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    /* a window of 6 weeks, [28, 70), keeps only the basket (13, day 55): P(8|6) = 1 / (3 + 2) */
    set(&p, "recall.bsk_weeks", "6");
    data_set_release(&ds);
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    CHECK_EQ_INT(recall_basket_neighbours(&e, S_BSK, 2, &nbr, &pr), 0);
    CHECK_EQ_INT(recall_basket_neighbours(&e, S_BSK, 6, &nbr, &pr), 1);
    CHECK_NEAR(pr[0], 1.0 / 7, 1e-6); /* 6's baskets: 10, 11, 12 (day 50), 13 (55), 14 (68) */
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_colours)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    set(&p, "recall.col_weeks", "4"); /* [42, 70), rows decayed by exp(-age / 14) */
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    struct one o;
    /* customer 4 (article 4, four rows on day 66) gets 5, the other colour of product 4-5:
     * w_4 (1 + pop_5 / max(pop_4, pop_5)) */
    double pop4 = 4 * exp(-3.0 / 14), pop5 = 3 * exp(-5.0 / 14);
    run_one(&e, S_COL, 4, &o);
    CHECK_EQ_INT(o.n, 1);
    CHECK_EQ_INT(art(&ds, o.items[0]), 5);
    CHECK_NEAR(o.scores[0], 4 * exp(-3.0 / 30) * (1 + pop5 / pop4), 1e-5);
    /* customer 18 (article 3, day 10): 2, which did not sell lately: w_3 (1 + 0) */
    run_one(&e, S_COL, 18, &o);
    CHECK_EQ_INT(o.n, 1);
    CHECK_EQ_INT(art(&ds, o.items[0]), 2);
    CHECK_NEAR(o.scores[0], exp(-59.0 / 30), 1e-6);
    run_one(&e, S_COL, 0, &o); /* 0 and 1, both colours, are their own */
    CHECK_EQ_INT(o.n, 0);
    run_one(&e, S_COL, 5, &o); /* 11 is outside the universe, its other colour 10 is not */
    CHECK_EQ_INT(o.n, 1);
    CHECK_EQ_INT(art(&ds, o.items[0]), 10);
    run_one(&e, S_COL, 20, &o);
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_ageband)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    set(&p, "recall.age_width", "5");
    set(&p, "recall.age_days", "14");
    set(&p, "recall.age_tau", "7");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* band 20-24 (customers 0-4) bought in [56, 70): 4 (4 rows, day 66), 5 (3 rows, day 64),
     * 0 (days 60, 65); customer 2 (22) gets that list, 4 first */
    struct one o;
    run_one(&e, S_AGE, 2, &o);
    CHECK_EQ_INT(o.n, 3);
    CHECK_EQ_INT(art(&ds, o.items[0]), 4);
    CHECK_NEAR(o.scores[0], 4 * exp(-3.0 / 7), 1e-5);
    CHECK_EQ_INT(art(&ds, o.items[1]), 5);
    CHECK_NEAR(o.scores[1], 3 * exp(-5.0 / 7), 1e-5);
    CHECK_EQ_INT(art(&ds, o.items[2]), 0);
    CHECK_NEAR(o.scores[2], exp(-9.0 / 7) + exp(-4.0 / 7), 1e-5);
    /* band 30-34 (customers 10-14): only 14's article 6 on day 68 (13's day 55 is too early);
     * customer 20 (40) is the cold start the strategy serves, but band 40-44 bought nothing */
    run_one(&e, S_AGE, 11, &o);
    CHECK_EQ_INT(o.n, 1);
    CHECK_EQ_INT(art(&ds, o.items[0]), 6);
    run_one(&e, S_AGE, 20, &o);
    CHECK_EQ_INT(o.n, 0);
    /* a band of 10 years joins 20-29: customers 5 (25; article 11 is outside the universe) add
     * nothing, so customer 9 gets the list of customer 2 */
    recall_engine_release(&e);
    set(&p, "recall.age_width", "10");
    data_set_release(&ds);
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_AGE, 9, &o);
    CHECK_EQ_INT(o.n, 3);
    CHECK_EQ_INT(art(&ds, o.items[0]), 4);
    CHECK_EQ_INT(art(&ds, o.items[2]), 0);
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_new_arrivals)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    set(&p, "recall.new_days", "14");
    set(&p, "recall.new_quantile", "0.75");
    /* first sales within [56, 70): 0 (day 60, product 1000), 5 (day 64, 1002), 4 (66, 1002),
     * 11 (66, 1005): the frontier, the 0.75 quantile of 1000, 1002, 1002, 1005, is 1002. With 2
     * (product 1001, last sold on day 7) and 10 (1005, never sold) also outside the universe,
     * the new arrivals are 10 and 11 (both type 200); 2 is older than the frontier. */
    keep[2] = 0;
    keep[10] = 0;
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* launch: the median current popularity of the articles first sold in [63, 70) (5, 4, 11);
     * cell 200 sells 6 (day 68) and 11 (ten rows on day 66) now */
    double launch = 4 * exp(-3.0 / 7), pop200 = exp(-1.0 / 7) + 10 * exp(-3.0 / 7);
    double pop100 = exp(-9.0 / 7) + exp(-4.0 / 7) + 4 * exp(-3.0 / 7) + 3 * exp(-5.0 / 7);
    struct one o;
    run_one(&e, S_NEW, 14, &o); /* only cell 200; colours and patterns are all alike: lifts 1 */
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 10); /* a tie: the lower article first */
    CHECK_NEAR(o.scores[0], launch / (pop200 + launch), 1e-6);
    CHECK_EQ_INT(art(&ds, o.items[1]), 11);
    CHECK_NEAR(o.scores[1], launch / (pop200 + launch), 1e-6);
    run_one(&e, S_NEW, 5, &o); /* 11 is their own */
    CHECK_EQ_INT(o.n, 1);
    CHECK_EQ_INT(art(&ds, o.items[0]), 10);
    /* customer 16 (2 and 3 on day 6, cell 100; 9 on day 8, cell 200): cell 200's share of
     * their history */
    double w2 = exp(-63.0 / 30), w9 = exp(-61.0 / 30);
    run_one(&e, S_NEW, 16, &o);
    CHECK_EQ_INT(o.n, 2);
    CHECK_NEAR(o.scores[0], w9 / (2 * w2 + w9) * launch / (pop200 + launch), 1e-6);
    run_one(&e, S_NEW, 0, &o); /* cell 100 has no new arrival */
    CHECK_EQ_INT(o.n, 0);
    run_one(&e, S_NEW, 20, &o); /* cold */
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
    /* quantile 0: the frontier is 1000, so 2 is new too; customer 0 (cell 100) gets it, and
     * customer 16 does not (their own) */
    set(&p, "recall.new_quantile", "0");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_NEW, 0, &o);
    CHECK_EQ_INT(o.n, 1);
    CHECK_EQ_INT(art(&ds, o.items[0]), 2);
    CHECK_NEAR(o.scores[0], launch / (pop100 + launch), 1e-6);
    run_one(&e, S_NEW, 16, &o);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 10);
    recall_engine_release(&e);
    data_set_release(&ds);
    /* the quantile 1 frontier is 1005: 10 and 11 still (the newest product) */
    set(&p, "recall.new_quantile", "1");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_NEW, 14, &o);
    CHECK_EQ_INT(o.n, 2);
    recall_engine_release(&e);
    data_set_release(&ds);
    /* early sellers: at the 0.75 frontier (1002), 4 (four rows in [63, 70)) and 5 (three) are
     * in the universe; with new_recent 3 only 5 counts as a new arrival, with 4 both do.
     * Customer 0 (cell 100, articles 0 and 1) gets them at the cell's launch share */
    set(&p, "recall.new_quantile", "0.75");
    set(&p, "recall.new_recent", "3");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_NEW, 0, &o);
    CHECK_EQ_INT(o.n, 1);
    CHECK_EQ_INT(art(&ds, o.items[0]), 5);
    CHECK_NEAR(o.scores[0], launch / (pop100 + launch), 1e-6);
    recall_engine_release(&e);
    data_set_release(&ds);
    set(&p, "recall.new_recent", "4");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_NEW, 0, &o);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(art(&ds, o.items[0]), 4); /* a tie: the lower article first */
    CHECK_EQ_INT(art(&ds, o.items[1]), 5);
    recall_engine_release(&e);
    data_set_release(&ds);
    set(&p, "recall.new_recent", "-1");
    /* the launch pace: the median code first sold in [63, 70) (5, 4, 11: 1002, 1002, 1005) is
     * 1002, in [56, 63) (0) 1000, so the pace is 2 codes a week. new_ahead 2 bounds the codes
     * at 1006 (10 and 11 stay), 1 at 1004 (both are launches of weeks to come) */
    set(&p, "recall.new_ahead", "2");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_NEW, 14, &o);
    CHECK_EQ_INT(o.n, 2);
    recall_engine_release(&e);
    data_set_release(&ds);
    set(&p, "recall.new_ahead", "1");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    run_one(&e, S_NEW, 14, &o);
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
    set(&p, "recall.new_ahead", "0");
    keep[2] = 1;
    keep[10] = 1;
}

TEST(test_image)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    set(&p, "recall.image_weeks", "4");
    set(&p, "recall.image_dim", "3");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    /* searched: kept articles sold in [42, 70) = 0, 4, 5, 6, 7, 8. Centred, the two product
     * types point in opposite directions: customer 14 (article 6, type 200) is closest to 7
     * and 8 (cosine ~1), 6 itself is excluded, type 100 follows with a negative cosine */
    struct one o;
    run_one(&e, S_IMG, 14, &o);
    CHECK_EQ_INT(o.n, 5);
    CHECK(art(&ds, o.items[0]) == 7 || art(&ds, o.items[0]) == 8);
    CHECK(art(&ds, o.items[1]) == 7 || art(&ds, o.items[1]) == 8);
    CHECK(o.scores[1] > 0.95f);
    for (uint32_t i = 2; i < o.n; i++) {
        CHECK(types[art(&ds, o.items[i])] == 100);
        CHECK(o.scores[i] < -0.5f);
    }
    run_one(&e, S_IMG, 20, &o); /* cold: no profile, no candidates */
    CHECK_EQ_INT(o.n, 0);
    recall_engine_release(&e);
    data_set_release(&ds);
    /* an article without an image is never proposed */
    uint8_t missing[12] = {0};
    missing[8] = 1;
    CHECK_EQ_INT(open_engine_in(&ds, &e, &p, img1, missing), 0);
    run_one(&e, S_IMG, 14, &o);
    CHECK_EQ_INT(o.n, 4);
    CHECK_EQ_INT(art(&ds, o.items[0]), 7);
    for (uint32_t i = 0; i < o.n; i++)
        CHECK(art(&ds, o.items[i]) != 8);
    recall_engine_release(&e);
    data_set_release(&ds);
    /* without image embeddings the strategy is off: no error, no candidates */
    CHECK_EQ_INT(open_engine_in(&ds, &e, &p, NULL, NULL), 0);
    CHECK(!recall_engine_uses(&e, S_IMG));
    CHECK(recall_engine_uses(&e, S_SEG));
    run_one(&e, S_IMG, 14, &o);
    CHECK_EQ_INT(o.n, 0);
    uint32_t users[2] = {14, 0};
    struct recall_candidates c;
    recall_candidates_init(&c);
    CHECK_EQ_INT(recall_candidates_build(&e, users, 2, 0, &c, NULL), 0);
    for (uint64_t r = 0; r < c.n; r++)
        CHECK_EQ_INT(c.flags[r] >> S_IMG & 1, 0);
    recall_candidates_release(&c);
    recall_engine_release(&e);
    data_set_release(&ds);
}

static uint64_t row_of(const struct recall_candidates *c, uint32_t ui, int article, const struct data_set *ds)
{
    for (uint64_t r = c->off[ui]; r < c->off[ui + 1]; r++)
        if (art(ds, c->item[r]) == article)
            return r;
    return UINT64_MAX;
}

/* A score for the learned cut's tests: a scramble of the article (ties are possible). */
static float cut_test_score(uint32_t item) { return (float)(hm_mix64(item) % 97); }

static int cut_test_hook(void *ud, const struct recall_candidates *c, uint32_t wide, float *score)
{
    (void)ud;
    for (uint32_t i = 0; i < c->n_users; i++)
        for (uint64_t r = c->off[i]; r < c->off[i + 1] && r - c->off[i] < wide; r++)
            score[r] = cut_test_score(c->item[r]);
    return 0;
}

/* The rows of dst's customer i are src's first `first` rows, then the best of its rows
 * first..wide-1 by score (ties: the earlier row), best first, each with its own columns;
 * returns 1 when they are. */
static int cut_is_right(const struct recall_candidates *dst, const struct recall_candidates *src, uint32_t wide,
                        uint32_t first, uint32_t pool)
{
    if (dst->n_users != src->n_users)
        return 0;
    for (uint32_t i = 0; i < src->n_users; i++) {
        uint64_t n = src->off[i + 1] - src->off[i], scored = n < wide ? n : wide;
        uint64_t want = pool ? (scored < pool ? scored : pool) : n, got = dst->off[i + 1] - dst->off[i];
        if (dst->user[i] != src->user[i] || got != want)
            return 0;
        uint64_t prev = 0;
        for (uint64_t x = 0; x < got; x++) {
            uint64_t w = dst->off[i] + x, r = UINT64_MAX;
            for (uint64_t k = src->off[i]; k < src->off[i + 1]; k++)
                if (src->item[k] == dst->item[w])
                    r = k;
            if (r == UINT64_MAX || dst->merged[w] != src->merged[r] || dst->flags[w] != src->flags[r] ||
                dst->n_strat[w] != src->n_strat[r])
                return 0;
            for (int s = 0; s < recall_n_strategies; s++)
                if (dst->rank[s][w] != src->rank[s][r] || dst->score[s][w] != src->score[s][r] ||
                    ((dst->flags[w] >> s & 1) != (dst->rank[s][w] > 0)))
                    return 0;
            uint64_t pos = r - src->off[i], fixed = first < got ? first : got;
            if (x < fixed) {
                if (pos != x)
                    return 0; /* the merge's first rows keep their place */
            } else if (x < scored) {
                if (pos >= scored || pos < fixed)
                    return 0;
                if (x > fixed) { /* ranked: a lower score, or the same and a later row */
                    float a = cut_test_score(src->item[src->off[i] + prev]), b = cut_test_score(src->item[r]);
                    if (b > a || (b == a && pos < prev))
                        return 0;
                }
                /* nothing left out beats it */
                for (uint64_t k = fixed; k < scored && x + 1 == got && got < scored; k++) {
                    int kept = 0;
                    for (uint64_t y = dst->off[i]; y < dst->off[i + 1]; y++)
                        kept |= dst->item[y] == src->item[src->off[i] + k];
                    if (!kept && cut_test_score(src->item[src->off[i] + k]) > cut_test_score(src->item[r]))
                        return 0;
                }
            } else if (pos != x) {
                return 0; /* the rows after the wide ones keep their place */
            }
            prev = pos;
        }
    }
    return 1;
}

TEST(test_learned_cut)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    uint32_t n = ds.customers.n;
    uint32_t *users = malloc(sizeof *users * n);
    for (uint32_t i = 0; i < n; i++)
        users[i] = i;
    struct recall_candidates all, cut;
    recall_candidates_init(&all);
    recall_candidates_init(&cut);
    CHECK_EQ_INT(recall_candidates_build(&e, users, n, 0, &all, NULL), 0);
    float *score = malloc(sizeof(float) * (all.n + 1));
    for (uint64_t r = 0; r < all.n; r++)
        score[r] = cut_test_score(all.item[r]);
    /* the cut, and with pool 0 the reordered wide rows followed by the rest */
    static const uint32_t wides[6] = {8, 5, 3, 8, 8, 6}, keeps[6] = {0, 0, 0, 3, 2, 6}, pools[6] = {4, 0, 3, 5, 0, 4};
    for (int k = 0; k < 6; k++) {
        recall_candidates_cut(&cut, &all, score, wides[k], keeps[k], pools[k]);
        CHECK(cut_is_right(&cut, &all, wides[k], keeps[k], pools[k]));
    }
    /* the stream with a cut: the same rows as the cut of the wide merge, block by block, for
     * 1 and 2 threads */
    struct recall_cut hook = {8, cut_test_hook, NULL, 0};
    struct recall_candidates streamed[2];
    for (int t = 0; t < 2; t++) {
        hm_threads_set(t + 1);
        recall_candidates_init(&streamed[t]);
        struct recall_stream st;
        recall_stream_init_cut(&st, &e, users, n, 7, 4, &hook, NULL);
        const struct recall_candidates *b;
        int rc;
        while ((rc = recall_stream_next(&st, &b)) > 0)
            recall_candidates_append(&streamed[t], b, 0);
        CHECK_EQ_INT(rc, 0);
        recall_stream_release(&st);
    }
    hm_threads_set(0);
    CHECK(cut_is_right(&streamed[0], &all, 8, 0, 4));
    CHECK_EQ_INT(streamed[0].n, streamed[1].n);
    CHECK(memcmp(streamed[0].item, streamed[1].item, streamed[0].n * sizeof(uint32_t)) == 0);
    /* with pool 0 (statistics) the stream keeps every row, the wide ones reordered */
    struct recall_candidates whole;
    recall_candidates_init(&whole);
    struct recall_stream st;
    recall_stream_init_cut(&st, &e, users, n, 0, 0, &hook, NULL);
    const struct recall_candidates *b;
    while (recall_stream_next(&st, &b) > 0)
        recall_candidates_append(&whole, b, 0);
    recall_stream_release(&st);
    CHECK(cut_is_right(&whole, &all, 8, 0, 0));
    /* keeping the merge's first 2 rows, in place and cut */
    struct recall_cut hook_keep = {8, cut_test_hook, NULL, 2};
    for (int pool = 0; pool <= 4; pool += 4) {
        struct recall_candidates kept;
        recall_candidates_init(&kept);
        recall_stream_init_cut(&st, &e, users, n, 7, (uint32_t)pool, &hook_keep, NULL);
        while (recall_stream_next(&st, &b) > 0)
            recall_candidates_append(&kept, b, 0);
        recall_stream_release(&st);
        CHECK(cut_is_right(&kept, &all, 8, 2, (uint32_t)pool));
        recall_candidates_release(&kept);
    }
    CHECK_EQ_INT(whole.n, all.n);
    for (int t = 0; t < 2; t++)
        recall_candidates_release(&streamed[t]);
    recall_candidates_release(&whole);
    recall_candidates_release(&cut);
    recall_candidates_release(&all);
    free(score);
    free(users);
    recall_engine_release(&e);
    data_set_release(&ds);
}

TEST(test_merge)
{
    struct data_set ds;
    struct recall_engine e;
    struct recall_params p = defaults();
    set(&p, "recall.text_n", "0"); /* hand-checked with the first five strategies (the others are tested above) */
    set(&p, "recall.seg_n", "0");
    set(&p, "recall.image_n", "0");
    set(&p, "recall.bsk_n", "0");
    set(&p, "recall.col_n", "0");
    set(&p, "recall.age_n", "0");
    set(&p, "recall.new_n", "0");
    CHECK_EQ_INT(open_engine(&ds, &e, &p), 0);
    uint32_t users[3] = {14, 20, 0};
    struct recall_candidates c;
    recall_candidates_init(&c);
    CHECK_EQ_INT(recall_candidates_build(&e, users, 3, 0, &c, NULL), 0);
    CHECK_EQ_INT(c.n_users, 3);
    CHECK_EQ_INT(c.user[0], 14);
    /* customer 14: 6 (repurchase 1, popular 4, category 1), 7 (co-purchase 1, KNN 1,
     * category 2), 8 (co-purchase 2, KNN 2, category 3), then the popular 5, 4, 0 */
    const int order[6] = {6, 7, 8, 5, 4, 0};
    CHECK_EQ_INT(c.off[1] - c.off[0], 6);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(art(&ds, c.item[c.off[0] + i]), order[i]);
    uint64_t r = c.off[0];
    CHECK_EQ_INT(c.flags[r], (1 << S_REP) | (1 << S_POP) | (1 << S_CAT));
    CHECK_EQ_INT(c.n_strat[r], 3);
    CHECK_EQ_INT(c.rank[S_REP][r], 1);
    CHECK_EQ_INT(c.rank[S_POP][r], 4);
    CHECK_EQ_INT(c.rank[S_CAT][r], 1);
    CHECK_EQ_INT(c.rank[S_CO][r], 0);
    CHECK_NEAR(c.score[S_REP][r], exp(-1.0 / 30), 1e-6);
    CHECK_EQ_INT(c.score[S_CO][r], 0);
    CHECK_NEAR(c.merged[r], 3.0 / 21 + 1.0 / 24 + 1.0 / 21, 1e-6);
    r = row_of(&c, 0, 8, &ds);
    CHECK_EQ_INT(c.flags[r], (1 << S_CO) | (1 << S_KNN) | (1 << S_CAT));
    CHECK_EQ_INT(c.rank[S_CO][r], 2);
    CHECK_EQ_INT(c.rank[S_KNN][r], 2);
    CHECK_EQ_INT(c.rank[S_CAT][r], 3);
    CHECK_NEAR(c.merged[r], 1.5 / 22 + 1.0 / 22 + 1.0 / 23, 1e-6);
    r = row_of(&c, 0, 5, &ds);
    CHECK_EQ_INT(c.flags[r], 1 << S_POP);
    CHECK_EQ_INT(c.n_strat[r], 1);
    /* cold customer 20: the popular list only, ranks 1..4 */
    CHECK_EQ_INT(c.off[2] - c.off[1], 4);
    for (uint64_t k = c.off[1]; k < c.off[2]; k++) {
        CHECK_EQ_INT(c.flags[k], 1 << S_POP);
        CHECK_EQ_INT(c.rank[S_POP][k], k - c.off[1] + 1);
    }
    /* no article twice for a customer; merged scores descending */
    for (uint32_t u = 0; u < c.n_users; u++)
        for (uint64_t a = c.off[u]; a < c.off[u + 1]; a++)
            for (uint64_t b = c.off[u]; b < a; b++) {
                CHECK(c.item[a] != c.item[b]);
                CHECK(c.merged[b] >= c.merged[a]);
            }
    /* the pool cap keeps the best rows */
    struct recall_candidates capped;
    recall_candidates_init(&capped);
    CHECK_EQ_INT(recall_candidates_build(&e, users, 3, 4, &capped, NULL), 0);
    CHECK_EQ_INT(capped.off[1], 4);
    CHECK_EQ_INT(capped.off[3] - capped.off[2], 4);
    CHECK(memcmp(capped.item, c.item, 4 * 4) == 0);
    /* stats: customer 14 "buys" 7 and 11 in a made-up week */
    struct prep_truth t = {0};
    uint32_t tu[1] = {14}, ti[2] = {7, 11};
    uint64_t toff[2] = {0, 2};
    t.n_users = 1, t.user = tu, t.off = toff, t.items = ti;
    struct recall_stats st;
    memset(&st, 0, sizeof st);
    st.pool = 150;
    recall_stats_add(&st, &c, &t);
    CHECK_EQ_INT(st.truth_pairs, 2);
    CHECK_EQ_INT(st.hits, 1);
    CHECK_EQ_INT(st.hits_strategy[S_CO], 1);
    CHECK_EQ_INT(st.hits_strategy[S_POP], 0);
    CHECK_EQ_INT(st.unique[S_CO], 0); /* three strategies proposed 7 */
    CHECK_EQ_INT(st.hits_size[0], 1);
    char *text = recall_stats_format(&st), *svg = recall_stats_svg(&st);
    CHECK(strstr(text, "merged pool") != NULL);
    CHECK(strstr(svg, "<svg") != NULL && strstr(svg, "</svg>") != NULL);
    /* the pool of 150 sits between the sizes 100 and 200: 1 of 2 pairs */
    CHECK(strstr(svg, ">configured pool: 0.5 at 150</text>") != NULL);
    char *bars = recall_stats_strategy_svg(&st);
    CHECK(strstr(bars, ">merged pool 0.5</text>") != NULL);
    CHECK(strstr(bars, recall_strategies[S_CO]->name) != NULL);
    free(bars);
    free(text);
    free(svg);
    recall_candidates_release(&capped);
    recall_candidates_release(&c);
    /* a customer row out of range is an error, not a crash */
    uint32_t bad = 1000;
    recall_candidates_init(&c);
    CHECK_EQ_INT(recall_candidates_build(&e, &bad, 1, 0, &c, NULL), HM_EINVAL);
    recall_candidates_release(&c);
    recall_engine_release(&e);
    data_set_release(&ds);
}

static int same_candidates(const struct recall_candidates *a, const struct recall_candidates *b)
{
    if (a->n != b->n || a->n_users != b->n_users || a->cutoff != b->cutoff)
        return 0;
    int same = !memcmp(a->user, b->user, a->n_users * 4) && !memcmp(a->off, b->off, (a->n_users + 1) * 8) &&
               !memcmp(a->item, b->item, a->n * 4) && !memcmp(a->merged, b->merged, a->n * 4) &&
               !memcmp(a->flags, b->flags, a->n * 2) && !memcmp(a->n_strat, b->n_strat, a->n);
    for (int s = 0; s < recall_n_strategies && same; s++)
        same = !memcmp(a->score[s], b->score[s], a->n * 4) && !memcmp(a->rank[s], b->rank[s], a->n * 2);
    return same;
}

/* Candidates for every customer of the store in dir2 at its validation cutoff, with the
 * item universe from prep's filter. */
static int all_candidates(struct recall_candidates *c, uint32_t pool)
{
    struct data_set ds;
    int rc = data_set_open(&ds, store2, 0);
    if (rc)
        return rc;
    struct prep_params pp;
    hm_settings_defaults(prep_settings, prep_n_settings, &pp);
    int32_t cutoff = day0() + 133; /* fixed: the cutoff test adds rows on and after it */
    struct prep_items it;
    prep_items_filter(&it, &ds, ds.tx.day_min, cutoff, 2);
    struct recall_params p = defaults();
    size_t nt;
    const struct hm_setting *t = recall_settings_table(&nt);
    hm_settings_defaults(t, nt, &p);
    set(&p, "recall.knn_fanout", "8"); /* make the fan-out cap matter */
    set(&p, "recall.cat_n", "40");     /* every strategy on (category and text are off by default) */
    set(&p, "recall.text_n", "30");
    set(&p, "recall.merge_style", "0.25"); /* the style lift on the merged score too */
    struct recall_engine e;
    struct recall_inputs in = {.keep = it.keep, .text_emb = text2.x, .text_dim = text2.dim, .image_emb = img2,
                               .image_dim = 8};
    uint32_t *users = malloc(ds.customers.n * sizeof *users);
    for (uint32_t i = 0; i < ds.customers.n; i++)
        users[i] = ds.customers.n - 1 - i; /* any order is allowed */
    recall_candidates_init(c);
    if ((rc = recall_engine_init(&e, &ds, &p, ds.tx.day_min, cutoff, &in)) == 0) {
        rc = recall_candidates_build(&e, users, ds.customers.n, pool, c, NULL);
        recall_engine_release(&e);
    }
    free(users);
    prep_items_release(&it);
    data_set_release(&ds);
    return rc;
}

/* A larger pseudo-random data set: 400 customers, 40 articles, days 0..139. */
static struct fixture_tx big[20000];
static int n_big;
static int types_big[40];

static void make_big(void)
{
    struct hm_rng r;
    hm_rng_seed(&r, 7);
    n_big = 0;
    for (int a = 0; a < 40; a++)
        types_big[a] = 100 + a % 4;
    for (int c = 0; c < 400; c++) {
        int n = (int)hm_rng_below(&r, 30);
        int taste = (int)hm_rng_below(&r, 40);
        for (int k = 0; k < n; k++) {
            int a = hm_rng_uniform(&r) < 0.6 ? (taste + (int)hm_rng_below(&r, 6)) % 40 : (int)hm_rng_below(&r, 40);
            big[n_big++] = (struct fixture_tx){(int)hm_rng_below(&r, 133), c, a >= 38 ? a - 4 : a};
        }
    }
    /* the newest product (articles 38 and 39) was launched lately: one row of 38, none of 39,
     * both below the universe's two purchases (the new arrivals strategy's) */
    big[n_big++] = (struct fixture_tx){130, 0, 38};
}

TEST(test_determinism)
{
    struct recall_candidates a, b;
    hm_threads_set(1);
    CHECK_EQ_INT(all_candidates(&a, 50), 0);
    hm_threads_set(2);
    CHECK_EQ_INT(all_candidates(&b, 50), 0);
    hm_threads_set(0);
    CHECK(a.n > 400 * 20);
    CHECK(same_candidates(&a, &b));
    /* every strategy proposed something somewhere */
    uint64_t seen[RECALL_MAX_STRATEGIES] = {0};
    for (uint64_t r = 0; r < a.n; r++)
        for (int s = 0; s < recall_n_strategies; s++)
            seen[s] += a.flags[r] >> s & 1;
    for (int s = 0; s < recall_n_strategies; s++)
        CHECK(seen[s] > 0);
    recall_candidates_release(&a);
    recall_candidates_release(&b);
}

/* Candidates at a cutoff must not change when transactions on or after it change. */
TEST(test_cutoff_leaks_nothing)
{
    struct recall_candidates before, after;
    CHECK_EQ_INT(all_candidates(&before, 0), 0);
    /* a flood of purchases on and after the cutoff (day 133), then rebuild the store */
    int extra = 0;
    struct hm_rng r;
    hm_rng_seed(&r, 99);
    for (int c = 0; c < 400; c++)
        for (int k = 0; k < 4; k++)
            big[n_big + extra++] = (struct fixture_tx){133 + (int)hm_rng_below(&r, 7), c, (int)hm_rng_below(&r, 40)};
    CHECK_EQ_INT(fixture_build_typed(dir2, 400, 40, big, n_big + extra, types_big), 0);
    CHECK_EQ_INT(all_candidates(&after, 0), 0);
    CHECK(same_candidates(&before, &after));
    recall_candidates_release(&before);
    recall_candidates_release(&after);
    /* ... while a change before the cutoff does change them */
    big[n_big + extra++] = (struct fixture_tx){132, 0, 1};
    big[n_big + extra++] = (struct fixture_tx){132, 0, 1};
    CHECK_EQ_INT(fixture_build_typed(dir2, 400, 40, big, n_big + extra, types_big), 0);
    CHECK_EQ_INT(all_candidates(&after, 0), 0);
    CHECK_EQ_INT(fixture_build_typed(dir2, 400, 40, big, n_big, types_big), 0); /* restore */
    CHECK_EQ_INT(all_candidates(&before, 0), 0);
    CHECK(!same_candidates(&before, &after));
    recall_candidates_release(&before);
    recall_candidates_release(&after);
}

TEST(test_artifact)
{
    struct recall_candidates c, back;
    CHECK_EQ_INT(all_candidates(&c, 30), 0);
    char path[200];
    snprintf(path, sizeof path, "%s/candidates.hmt", dir2);
    CHECK_EQ_INT(recall_candidates_write(&c, 30, path), 0);
    CHECK_EQ_INT(recall_candidates_read(&back, path), 0);
    CHECK(same_candidates(&c, &back));
    recall_candidates_release(&back);
    /* a flipped byte in the column data: the checksum catches it */
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    off_t at = st.st_size - 100;
    unsigned char byte;
    CHECK_EQ_INT(pread(fd, &byte, 1, at), 1);
    byte ^= 0x5a;
    CHECK_EQ_INT(pwrite(fd, &byte, 1, at), 1);
    close(fd);
    CHECK_EQ_INT(recall_candidates_read(&back, path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), path) != NULL);
    /* truncated */
    CHECK_EQ_INT(recall_candidates_write(&c, 30, path), 0);
    CHECK_EQ_INT(truncate(path, st.st_size / 2), 0);
    CHECK(recall_candidates_read(&back, path) != 0);
    CHECK(strstr(hm_last_error(), path) != NULL);
    /* another table's file */
    CHECK(recall_candidates_read(&back, store2) != 0);
    recall_candidates_release(&c);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/hm_test_recall_%d", (int)getpid());
    snprintf(store, sizeof store, "%s/store", dir);
    snprintf(dir2, sizeof dir2, "/tmp/hm_test_recall2_%d", (int)getpid());
    snprintf(store2, sizeof store2, "%s/store", dir2);
    make_data();
    make_big();
    make_images();
    if (fixture_build_typed(dir, 30, 12, txs, n_txs, types) != 0 ||
        fixture_build_typed(dir2, 400, 40, big, n_big, types_big) != 0) {
        fprintf(stderr, "fixture: %s\n", hm_last_error());
        return 1;
    }
    S_REP = recall_strategy_find("repurchase");
    S_POP = recall_strategy_find("popular");
    S_CO = recall_strategy_find("copurchase");
    S_KNN = recall_strategy_find("userknn");
    S_CAT = recall_strategy_find("category");
    S_TEXT = recall_strategy_find("text");
    S_SEG = recall_strategy_find("segment");
    S_IMG = recall_strategy_find("image");
    S_BSK = recall_strategy_find("basket");
    S_COL = recall_strategy_find("colours");
    S_AGE = recall_strategy_find("ageband");
    S_NEW = recall_strategy_find("new");
    if (S_SEG < 0 || S_IMG < 0 || S_BSK < 0 || S_COL < 0 || S_AGE < 0 || S_NEW < 0) {
        fprintf(stderr, "a strategy is missing from the table\n");
        return 1;
    }
    char work[200];
    snprintf(work, sizeof work, "%s/work", dir);
    if (text_embeddings(store, work, &text1) != 0) {
        fprintf(stderr, "text: %s\n", hm_last_error());
        return 1;
    }
    snprintf(work, sizeof work, "%s/work", dir2);
    if (text_embeddings(store2, work, &text2) != 0) {
        fprintf(stderr, "text: %s\n", hm_last_error());
        return 1;
    }
    RUN(test_repurchase);
    RUN(test_popular);
    RUN(test_copurchase);
    RUN(test_userknn);
    RUN(test_category);
    RUN(test_text);
    RUN(test_segment);
    RUN(test_basket);
    RUN(test_colours);
    RUN(test_ageband);
    RUN(test_new_arrivals);
    RUN(test_style);
    RUN(test_image);
    RUN(test_merge);
    RUN(test_learned_cut);
    RUN(test_determinism);
    RUN(test_cutoff_leaks_nothing);
    RUN(test_artifact);
    data_article_matrix_release(&text1);
    data_article_matrix_release(&text2);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, dir2);
    system(cmd);
    TEST_EXIT();
}
