/* Tests for Stage 3 (features): the column table; hand-computed values of every group for
 * given customers and articles of a tiny data set; the cutoff (transactions on or after it
 * change no byte of the output; a change before it does); 1 vs 2 threads on the synthetic
 * tiny preset; image embeddings (the three formats and every bad input); the artifact
 * (round trip, another feature set rejected); the statistics and the CSV export. */
#include "features/feat_internal.h"
#include "fixture.h"
#include "io/npy.h"
#include "io/parse.h"
#include "pipeline/pipeline.h"
#include "prep/prep.h"
#include "recall/recall.h"
#include "synth/synth.h"
#include "test.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir_a[128], dir_b[128], dir_c[128], dir_s[128];
static uint32_t NC; /* feat_n_cols() */

/* ---- the tiny data set ------------------------------------------------------------------ */

/* 8 articles. Product codes: 0 and 1 are one product in two colours. Types: 272 Trousers
 * (0, 1, 5), 255 T-shirt (2, 3), 306 Bra (4), 265 Dress (6, 7). Article 7 never sells. */
static const struct art {
    int product, type, colour, pcolour, dept, ig, section, garment;
    const char *group, *index;
} arts[8] = {
    {5001, 272, 9, 4, 1676, 1, 15, 1009, "Garment Lower body", "A"},
    {5001, 272, 10, 4, 1676, 1, 15, 1009, "Garment Lower body", "A"},
    {5002, 255, 9, 4, 1500, 1, 16, 1002, "Garment Upper body", "A"},
    {5003, 255, 73, 2, 1500, 3, 20, 1002, "Garment Upper body", "F"},
    {5004, 306, 10, 4, 1300, 1, 61, 1017, "Underwear", "B"},
    {5005, 272, 9, 4, 1676, 2, 53, 1009, "Garment Lower body", "D"},
    {5006, 265, 42, 4, 1600, 1, 15, 1013, "Garment Full body", "A"},
    {5007, 265, 42, 4, 1600, 26, 5, 1013, "Garment Full body", "S"},
};

/* 6 customers; customer 5 never buys. Postal codes: 0 and 1 share one. */
static const struct cust {
    const char *fn, *active, *club, *news, *age;
    int postal;
} custs[6] = {
    {"1.0", "1.0", "ACTIVE", "Regularly", "25.0", 1},
    {"", "", "PRE-CREATE", "NONE", "52.0", 1},
    {"", "", "LEFT CLUB", "Monthly", "", 2},
    {"", "", "ACTIVE", "NONE", "19.0", 3},
    {"", "", "", "", "33.0", 2},
    {"", "", "ACTIVE", "NONE", "45.0", 4},
};

struct tx {
    int day, customer, article;
    const char *price;
    int channel;
};

/* Days from 2020-01-01; the cutoff is day 100. */
#define CUTOFF 100
static const struct tx base_tx[] = {
    {10, 0, 0, "0.02", 2},  {10, 0, 0, "0.02", 2},  {40, 0, 2, "0.03", 1},  {80, 0, 1, "0.025", 2},
    {95, 0, 4, "0.01", 2},  {99, 0, 0, "0.018", 1}, {50, 1, 0, "0.022", 2}, {94, 1, 2, "0.03", 2},
    {96, 1, 5, "0.04", 1},  {97, 2, 3, "0.05", 2},  {98, 2, 0, "0.02", 2},  {20, 3, 6, "0.06", 1},
    {75, 4, 2, "0.03", 2},  {90, 4, 2, "0.028", 2},
};
#define N_BASE ((int)(sizeof base_tx / sizeof base_tx[0]))
/* On or after the cutoff: must change nothing. */
static const struct tx late_tx[] = {
    {100, 0, 3, "0.05", 2}, {105, 1, 0, "0.5", 1}, {100, 5, 6, "0.06", 2}, {130, 3, 7, "0.07", 2},
    {100, 0, 0, "0.01", 1},
};
/* Before the cutoff: must change something. */
static const struct tx early_tx[] = {{99, 5, 6, "0.06", 2}};

static int32_t day0(void)
{
    int32_t d;
    hm_date_parse("2020-01-01", 10, &d);
    return d;
}

static void postal_id(int p, char out[65])
{
    for (int i = 0; i < 64; i++)
        out[i] = "0123456789abcdef"[(p * 5 + i) & 15];
    out[64] = '\0';
}

static int write_store(const char *dir, const struct tx *extra, int n_extra)
{
    char path[512], cid[65], pid[65], date[11];
    hm_mkdirs(dir);
    snprintf(path, sizeof path, "%s/articles.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("article_id,product_code,prod_name,product_type_no,product_type_name,product_group_name,"
          "graphical_appearance_no,graphical_appearance_name,colour_group_code,colour_group_name,"
          "perceived_colour_value_id,perceived_colour_value_name,perceived_colour_master_id,"
          "perceived_colour_master_name,department_no,department_name,index_code,index_name,"
          "index_group_no,index_group_name,section_no,section_name,garment_group_no,garment_group_name,"
          "detail_desc\n", f);
    for (int a = 0; a < 8; a++) {
        const struct art *r = &arts[a];
        fprintf(f, "0%09d,%07d,Item %d,%d,Type %d,%s,1010016,Solid,%d,Colour %d,%d,Value %d,5,Black,%d,Dept %d,"
                   "%s,Index %s,%d,Group %d,%d,Section %d,%d,Garment %d,Text of item %d\n",
                100000001 + a, r->product, a, r->type, r->type, r->group, r->colour, r->colour, r->pcolour,
                r->pcolour, r->dept, r->dept, r->index, r->index, r->ig, r->ig, r->section, r->section, r->garment,
                r->garment, a);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/customers.csv", dir);
    f = fopen(path, "w");
    fputs("customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code\n", f);
    for (int c = 0; c < 6; c++) {
        fixture_cid(c, cid);
        postal_id(custs[c].postal, pid);
        fprintf(f, "%s,%s,%s,%s,%s,%s,%s\n", cid, custs[c].fn, custs[c].active, custs[c].club, custs[c].news,
                custs[c].age, pid);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/transactions_train.csv", dir);
    f = fopen(path, "w");
    fputs("t_dat,customer_id,article_id,price,sales_channel_id\n", f);
    for (int i = 0; i < N_BASE + n_extra; i++) {
        const struct tx *t = i < N_BASE ? &base_tx[i] : &extra[i - N_BASE];
        hm_date_format(day0() + t->day, date);
        fixture_cid(t->customer, cid);
        fprintf(f, "%s,%s,0%09d,%s,%d\n", date, cid, 100000001 + t->article, t->price, t->channel);
    }
    fclose(f);
    char store[512];
    snprintf(store, sizeof store, "%s/store", dir);
    struct data_ingest_opts o = {.data_dir = dir, .store_dir = store};
    struct data_ingest_report rep;
    return data_ingest(&o, &rep);
}

static int open_store(const char *dir, struct data_set *ds)
{
    char store[512];
    snprintf(store, sizeof store, "%s/store", dir);
    return data_set_open(ds, store, 0);
}

/* The text embeddings of the 8 articles (2 dimensions; article 6 has a zero vector). */
static const float text2[8][2] = {{1, 0}, {0.8f, 0.6f}, {0, 1}, {0, 2}, {1, 1}, {-1, 0}, {0, 0}, {3, 4}};

/* Image embeddings (3 dimensions): article 3 absent, article 4 an all-zero row (missing). */
static void make_image(struct feat_image *im)
{
    static const float e[7][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0}, {1, 1, 0}, {2, 0, 0}, {0, 0, -1}};
    static const uint32_t rows[7] = {0, 1, 2, 4, 5, 6, 7};
    HM_ASSERT(feat_image_from_rows(im, 8, 3, &e[0][0], rows, 7) == 0);
}

/* A block of candidates: customers users[0..nu), counts[i] articles each from items; the
 * strategy columns are filled from a simple rule (documented in test_recall_values). */
static void make_block(struct recall_candidates *b, int32_t cutoff, const uint32_t *users, uint32_t nu,
                       const uint32_t *counts, const uint32_t *items)
{
    recall_candidates_init(b);
    uint64_t n = 0;
    for (uint32_t i = 0; i < nu; i++)
        n += counts[i];
    b->cutoff = cutoff;
    b->n_users = nu;
    b->n = b->cap = n;
    b->user = hm_xmalloc_array(nu + 1, sizeof *b->user);
    b->off = hm_xrealloc(b->off, (nu + 1) * sizeof *b->off);
    b->item = hm_xmalloc_array(n + 1, sizeof *b->item);
    b->merged = hm_xmalloc_array(n + 1, sizeof *b->merged);
    b->flags = hm_xmalloc_array(n + 1, sizeof *b->flags);
    b->n_strat = hm_xmalloc_array(n + 1, 1);
    for (int s = 0; s < recall_n_strategies; s++) {
        b->score[s] = hm_xcalloc(n + 1, sizeof(float));
        b->rank[s] = hm_xcalloc(n + 1, sizeof(uint16_t));
    }
    uint64_t r = 0;
    b->off[0] = 0;
    for (uint32_t i = 0; i < nu; i++) {
        b->user[i] = users[i];
        for (uint32_t k = 0; k < counts[i]; k++, r++) {
            uint32_t a = items[r];
            b->item[r] = a;
            /* strategy s proposes article a when (a + s) % 3 == 0, at rank s + 1 + a, score
             * 10 s + a + 0.5 */
            uint16_t flags = 0;
            uint8_t ns = 0;
            for (int s = 0; s < recall_n_strategies; s++)
                if ((a + (uint32_t)s) % 3 == 0) {
                    flags |= (uint16_t)(1u << s);
                    ns++;
                    b->score[s][r] = 10.0f * (float)s + (float)a + 0.5f;
                    b->rank[s][r] = (uint16_t)(s + 1 + (int)a);
                }
            b->flags[r] = flags;
            b->n_strat[r] = ns;
            b->merged[r] = 1.0f / (float)(r + 1);
        }
        b->off[i + 1] = r;
    }
}

static struct feat_params defaults(void)
{
    struct feat_params p;
    hm_settings_defaults(feat_settings, feat_n_settings, &p);
    return p;
}

/* The value of feature `name` in row r of x. */
static double val(const float *x, uint64_t r, const char *name)
{
    int k = feat_column_find(name);
    if (k < 0)
        HM_BUG("no feature %s", name);
    return x[r * NC + (uint64_t)k];
}

/* The hand-made block: customer 0 with articles 0, 3, 7; customer 5 with 6; customer 3
 * with 6 and 0. Rows: 0 (c0, a0), 1 (c0, a3), 2 (c0, a7), 3 (c5, a6), 4 (c3, a6), 5 (c3, a0). */
static const uint32_t hb_users[3] = {0, 5, 3}, hb_counts[3] = {3, 1, 2}, hb_items[6] = {0, 3, 7, 6, 6, 0};

/* Features of the hand-made block on store dir, with text and image embeddings. */
static int features_of(const char *dir, float *x, int with_embeddings)
{
    struct data_set ds;
    int rc = open_store(dir, &ds);
    if (rc)
        return rc;
    struct feat_image im;
    make_image(&im);
    struct feat_inputs in = {&ds, with_embeddings ? &text2[0][0] : NULL, 8, 2, with_embeddings ? &im : NULL};
    struct feat_params p = defaults();
    struct feat_ctx ctx;
    rc = feat_ctx_init(&ctx, &in, day0() + CUTOFF, &p);
    if (!rc) {
        struct recall_candidates b;
        make_block(&b, day0() + CUTOFF, hb_users, 3, hb_counts, hb_items);
        rc = feat_block(&ctx, &b, x);
        recall_candidates_release(&b);
        feat_ctx_release(&ctx);
    }
    feat_image_release(&im);
    data_set_release(&ds);
    return rc;
}

/* ---- the column table --------------------------------------------------------------------- */

TEST(test_columns)
{
    const struct feat_column *c = feat_columns();
    CHECK_EQ_INT(feat_n_cols(), FEAT_RECALL0 + 3 * recall_n_strategies + 3);
    CHECK_EQ_INT(feat_n_cols(), 135); /* with the twelve strategies of today's table */
    CHECK_EQ_INT(FEAT_NUSER, 43);
    CHECK_EQ_INT(FEAT_NITEM, 29);
    int count[FEAT_NGROUPS] = {0};
    for (int i = 0; i < (int)NC; i++) {
        CHECK(c[i].name && c[i].meaning && c[i].impute && *c[i].meaning && *c[i].impute);
        CHECK(c[i].group >= 0 && c[i].group < FEAT_NGROUPS);
        CHECK(i == 0 || c[i].group >= c[i - 1].group); /* groups contiguous, in order */
        count[c[i].group]++;
        CHECK_EQ_INT(feat_column_find(c[i].name), i);  /* unique */
        for (const char *s = c[i].name; *s; s++)
            CHECK((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_');
    }
    CHECK_EQ_INT(count[FEAT_G_USER], 43);
    CHECK_EQ_INT(count[FEAT_G_ITEM], 29);
    CHECK_EQ_INT(count[FEAT_G_PAIR], FEAT_NPAIR);
    CHECK_EQ_INT(count[FEAT_G_RECALL], 3 * recall_n_strategies + 3);
    CHECK_EQ_INT(count[FEAT_G_TEXT], FEAT_NTEXT);
    CHECK_EQ_INT(count[FEAT_G_IMAGE], FEAT_NIMAGE);
    /* the internal indexes agree with the table */
    CHECK_STR(c[FEAT_USER0 + U_DAYS_LAST].name, "u_days_last");
    CHECK_STR(c[FEAT_USER0 + U_SHARE_SPORT].name, "u_share_sport");
    CHECK_STR(c[FEAT_USER0 + U_ONLINE_4W].name, "u_online_4w");
    CHECK_STR(c[FEAT_ITEM0 + I_SECTION].name, "i_section");
    CHECK_STR(c[FEAT_ITEM0 + I_BUYERS_ALL].name, "i_buyers_all");
    CHECK_STR(c[FEAT_ITEM0 + I_REPURCHASE].name, "i_repurchase");
    CHECK_STR(c[FEAT_PAIR0 + P_SHARE_INDEX_GROUP].name, "ui_share_index_group");
    CHECK_STR(c[FEAT_PAIR0 + P_AGE_LIFT].name, "ui_age_lift");
    char name[64];
    snprintf(name, sizeof name, "r_%s_flag", recall_strategies[1]->name);
    CHECK_STR(c[FEAT_RECALL0 + 3].name, name);
    snprintf(name, sizeof name, "r_%s_rrank", recall_strategies[recall_n_strategies - 1]->name);
    CHECK_STR(c[FEAT_RECALL0 + 3 * recall_n_strategies - 1].name, name);
    CHECK_STR(c[FEAT_RECALL0 + 3 * recall_n_strategies + R_POSITION].name, "r_position");
    CHECK_STR(c[FEAT_TEXT0 + T_DIVERSITY].name, "t_diversity");
    CHECK_STR(c[FEAT_IMAGE0 + M_MISSING].name, "im_missing");
    CHECK_EQ_INT(feat_column_find("no_such_feature"), -1);
    /* the list */
    char *list = feat_list_format(0);
    CHECK(strstr(list, "u_n_rows") && strstr(list, "r_text_rrank") && strstr(list, "im_missing"));
    int lines = 0;
    for (const char *s = list; *s; s++)
        lines += *s == '\n';
    CHECK_EQ_INT(lines, (int)NC + 2);
    free(list);
}

/* docs/features.md holds the table feat_list_format(1) prints: they must not drift apart. */
TEST(test_docs_table)
{
    char *doc;
    size_t len;
    CHECK_EQ_INT(hm_read_file("../docs/features.md", &doc, &len), 0);
    char *table = feat_list_format(1);
    CHECK(strstr(doc, table) != NULL);
    free(table);
    free(doc);
}

/* ---- hand-computed values ---------------------------------------------------------------------- */

static float X[6 * FEAT_MAX_COLS];

/* Customer 0 (rows before day 100: days 10, 10, 40, 80, 95, 99; articles 0, 0, 2, 1, 4, 0;
 * prices .02 .02 .03 .025 .01 .018; channels 2 2 1 2 2 1; age 25, FN, Active, ACTIVE,
 * Regularly, a postal code shared with customer 1). The first day of the data is day 10,
 * so H = 90. */
TEST(test_user_values)
{
    const float *x = X;
    CHECK_NEAR(val(x, 0, "u_n_rows"), 6, 0);
    CHECK_NEAR(val(x, 0, "u_n_items"), 4, 0);
    CHECK_NEAR(val(x, 0, "u_n_products"), 3, 0);
    CHECK_NEAR(val(x, 0, "u_explore"), 4.0 / 6, 1e-6);
    CHECK_NEAR(val(x, 0, "u_repeat_share"), 0.25, 1e-7); /* article 0 on days 10 and 99 */
    CHECK_NEAR(val(x, 0, "u_days_first"), 90, 0);
    CHECK_NEAR(val(x, 0, "u_days_last"), 1, 0);
    CHECK_NEAR(val(x, 0, "u_n_visits"), 5, 0);
    CHECK_NEAR(val(x, 0, "u_gap_mean"), 89.0 / 4, 1e-5);      /* gaps 30 40 15 4 */
    CHECK_NEAR(val(x, 0, "u_gap_std"), sqrt(760.75 / 4), 1e-5);
    CHECK_NEAR(val(x, 0, "u_visits_week"), 7.0 * 5 / 90, 1e-6);
    double dec = 2 * exp(-89.0 / 30) + exp(-59.0 / 30) + exp(-19.0 / 30) + exp(-4.0 / 30) + 1;
    CHECK_NEAR(val(x, 0, "u_decayed"), dec, 1e-5);
    CHECK_NEAR(val(x, 0, "u_rows_1w"), 2, 0);
    CHECK_NEAR(val(x, 0, "u_rows_2w"), 2, 0);
    CHECK_NEAR(val(x, 0, "u_rows_4w"), 3, 0);
    CHECK_NEAR(val(x, 0, "u_rows_12w"), 4, 0);
    CHECK_NEAR(val(x, 0, "u_age"), 25, 0);
    CHECK_NEAR(val(x, 0, "u_age_missing"), 0, 0);
    CHECK_NEAR(val(x, 0, "u_fn"), 1, 0);
    CHECK_NEAR(val(x, 0, "u_active"), 1, 0);
    CHECK_NEAR(val(x, 0, "u_club"), 1, 0);
    CHECK_NEAR(val(x, 0, "u_news"), 2, 0);
    CHECK_NEAR(val(x, 0, "u_postal_n"), 2, 0);
    CHECK_NEAR(val(x, 0, "u_price_mean"), 0.123 / 6, 1e-7);
    CHECK_NEAR(val(x, 0, "u_price_min"), 0.01, 1e-8);
    CHECK_NEAR(val(x, 0, "u_price_max"), 0.03, 1e-8);
    CHECK_NEAR(val(x, 0, "u_price_std"), sqrt(2.275e-4 / 6), 1e-7);
    CHECK_NEAR(val(x, 0, "u_spend"), 0.123, 1e-7);
    /* type mean prices: 272 (articles 0, 1, 5) 0.165 / 7, 255 0.168 / 5, 306 0.01;
     * article means: 0 0.02, 1 0.025, 2 0.118 / 4, 4 0.01 */
    double t272 = 0.165 / 7, t255 = 0.168 / 5;
    CHECK_NEAR(val(x, 0, "u_price_tier"), (0.02 / t272 * 2 + 0.03 / t255 + 0.025 / t272 + 1 + 0.018 / t272) / 6, 1e-5);
    CHECK_NEAR(val(x, 0, "u_price_rel"), (1 + 1 + 0.03 / 0.0295 + 1 + 1 + 0.018 / 0.02) / 6, 1e-5);
    CHECK_NEAR(val(x, 0, "u_online"), 4.0 / 6, 1e-6);
    CHECK_NEAR(val(x, 0, "u_online_4w"), 2.0 / 3, 1e-6);
    CHECK_NEAR(val(x, 0, "u_newness"), 89.0 / 6, 1e-5); /* article 0 first sold on day 10 */
    CHECK_NEAR(val(x, 0, "u_top_type"), 3, 0);          /* codes: 255 -> 1, 265 -> 2, 272 -> 3, 306 -> 4 */
    CHECK_NEAR(val(x, 0, "u_top_index_group"), 1, 0);
    CHECK_NEAR(val(x, 0, "u_top_garment"), 2, 0);       /* 1002 -> 1, 1009 -> 2 */
    CHECK_NEAR(val(x, 0, "u_n_types"), 3, 0);
    CHECK_NEAR(val(x, 0, "u_type_entropy"), -(4.0 / 6 * log(4.0 / 6) + 2 * (1.0 / 6) * log(1.0 / 6)), 1e-6);
    CHECK_NEAR(val(x, 0, "u_share_ladies"), 1, 0);
    CHECK_NEAR(val(x, 0, "u_share_mens"), 0, 0);
    /* the same user features on every row of the customer */
    for (int k = FEAT_USER0; k < FEAT_USER0 + FEAT_NUSER; k++) {
        CHECK(X[0 * NC + k] == X[1 * NC + k]);
        CHECK(X[0 * NC + k] == X[2 * NC + k]);
    }
    /* customer 3: one row (day 20, article 6, price .06, store), age 19 */
    CHECK_NEAR(val(x, 4, "u_gap_mean"), 91, 0); /* H + 1 */
    CHECK_NEAR(val(x, 4, "u_gap_std"), 0, 0);
    CHECK_NEAR(val(x, 4, "u_online"), 0, 0);
    CHECK_NEAR(val(x, 4, "u_online_4w"), 0, 0); /* no rows in 28 days: u_online */
    CHECK_NEAR(val(x, 4, "u_club"), 1, 0);
    CHECK_NEAR(val(x, 4, "u_news"), 1, 0);
    CHECK_NEAR(val(x, 4, "u_fn"), 0, 0);
}

/* Customer 5 never bought: every user feature takes its imputation. */
TEST(test_cold_customer)
{
    const float *x = X;
    CHECK_NEAR(val(x, 3, "u_n_rows"), 0, 0);
    CHECK_NEAR(val(x, 3, "u_days_first"), 91, 0);
    CHECK_NEAR(val(x, 3, "u_days_last"), 91, 0);
    CHECK_NEAR(val(x, 3, "u_gap_mean"), 91, 0);
    /* all rows before the cutoff: prices sum 0.403 over 14 rows, 10 online */
    CHECK_NEAR(val(x, 3, "u_price_mean"), 0.403 / 14, 1e-7);
    CHECK_NEAR(val(x, 3, "u_price_min"), 0.403 / 14, 1e-7);
    CHECK_NEAR(val(x, 3, "u_price_tier"), 1, 0);
    CHECK_NEAR(val(x, 3, "u_online"), 10.0 / 14, 1e-6);
    CHECK_NEAR(val(x, 3, "u_age"), 45, 0);
    CHECK_NEAR(val(x, 3, "ui_bought"), 0, 0);
    CHECK_NEAR(val(x, 3, "ui_days_since"), 91, 0);
    CHECK_NEAR(val(x, 3, "ui_price_ratio"), 1, 0);
    CHECK_NEAR(val(x, 3, "ui_price_diff"), 0, 0);
    CHECK_NEAR(val(x, 3, "ui_share_type"), 0, 0);
    CHECK_NEAR(val(x, 3, "t_sim"), 0, 0);
    CHECK_NEAR(val(x, 3, "im_sim"), 0, 0);
    CHECK_NEAR(val(x, 3, "t_diversity"), 0, 0);
    /* customer 2 has no age: the median of 25, 52, 19, 33, 45 */
    struct data_set ds;
    CHECK_EQ_INT(open_store(dir_a, &ds), 0);
    struct feat_inputs in = {&ds, NULL, 0, 0, NULL};
    struct feat_params p = defaults();
    struct feat_ctx ctx;
    CHECK_EQ_INT(feat_ctx_init(&ctx, &in, day0() + CUTOFF, &p), 0);
    CHECK_NEAR(ctx.age_median, 33, 0);
    CHECK_EQ_INT(feat_age_band(&ctx, 2), 0);
    CHECK_EQ_INT(feat_age_band(&ctx, 0), 3);
    feat_ctx_release(&ctx);
    data_set_release(&ds);
}

/* Article 0: rows before day 100 on days 10, 10, 99 (customer 0), 50 (1), 98 (2); prices
 * .02 .02 .018 .022 .02; channels 2 2 1 2 2. Article 7 never sold. */
TEST(test_item_values)
{
    const float *x = X;
    CHECK_NEAR(val(x, 0, "i_type"), 3, 0);
    CHECK_NEAR(val(x, 0, "i_group"), 2, 0);   /* bytewise: Full body, Lower body, Upper body, Underwear */
    CHECK_NEAR(val(x, 0, "i_colour"), 1, 0);  /* 9 10 42 73 */
    CHECK_NEAR(val(x, 0, "i_pcolour"), 2, 0); /* 2 4 */
    CHECK_NEAR(val(x, 0, "i_graphic"), 1, 0);
    CHECK_NEAR(val(x, 0, "i_department"), 4, 0); /* 1300 1500 1600 1676 */
    CHECK_NEAR(val(x, 0, "i_index"), 1, 0);      /* A B D F S */
    CHECK_NEAR(val(x, 0, "i_index_group"), 1, 0);
    CHECK_NEAR(val(x, 0, "i_section"), 2, 0);    /* 5 15 16 20 53 61 */
    CHECK_NEAR(val(x, 0, "i_garment"), 2, 0);
    CHECK_NEAR(val(x, 2, "i_index"), 5, 0);      /* article 7: S */
    CHECK_NEAR(val(x, 2, "i_index_group"), 4, 0); /* 1 2 3 26 */
    CHECK_NEAR(val(x, 0, "i_type_n"), 3, 0);
    CHECK_NEAR(val(x, 0, "i_department_n"), 3, 0);
    CHECK_NEAR(val(x, 0, "i_section_n"), 3, 0);
    CHECK_NEAR(val(x, 0, "i_rows_1w"), 2, 0);
    CHECK_NEAR(val(x, 0, "i_rows_2w"), 2, 0);
    CHECK_NEAR(val(x, 0, "i_rows_4w"), 2, 0);
    CHECK_NEAR(val(x, 0, "i_rows_all"), 5, 0);
    CHECK_NEAR(val(x, 0, "i_buyers_1w"), 2, 0);
    CHECK_NEAR(val(x, 0, "i_buyers_4w"), 2, 0);
    CHECK_NEAR(val(x, 0, "i_buyers_all"), 3, 0);
    CHECK_NEAR(val(x, 0, "i_days_first"), 90, 0);
    CHECK_NEAR(val(x, 0, "i_days_last"), 1, 0);
    CHECK_NEAR(val(x, 0, "i_velocity"), 2.0 / 28, 1e-7);
    CHECK_NEAR(val(x, 0, "i_trend"), 3, 1e-7);
    CHECK_NEAR(val(x, 0, "i_price_mean"), 0.02, 1e-8);
    CHECK_NEAR(val(x, 0, "i_price_last"), 0.018, 1e-8);
    CHECK_NEAR(val(x, 0, "i_price_ratio"), 0.9, 1e-6);
    CHECK_NEAR(val(x, 0, "i_online"), 0.8, 1e-7);
    CHECK_NEAR(val(x, 0, "i_repurchase"), 1.0 / 3, 1e-7);
    /* article 3: one row, day 97; customer 2 */
    CHECK_NEAR(val(x, 1, "i_velocity"), 1.0 / 3, 1e-7); /* first sold 3 days before the cutoff */
    CHECK_NEAR(val(x, 1, "i_trend"), 2, 1e-7);
    /* article 7, never sold: imputations */
    CHECK_NEAR(val(x, 2, "i_rows_all"), 0, 0);
    CHECK_NEAR(val(x, 2, "i_days_first"), 91, 0);
    CHECK_NEAR(val(x, 2, "i_days_last"), 91, 0);
    CHECK_NEAR(val(x, 2, "i_velocity"), 0, 0);
    CHECK_NEAR(val(x, 2, "i_trend"), 1, 0);
    CHECK_NEAR(val(x, 2, "i_price_mean"), 0.06, 1e-8); /* type 265: article 6's one row */
    CHECK_NEAR(val(x, 2, "i_price_last"), 0.06, 1e-8);
    CHECK_NEAR(val(x, 2, "i_price_ratio"), 1, 0);
    CHECK_NEAR(val(x, 2, "i_online"), 10.0 / 14, 1e-6);
    CHECK_NEAR(val(x, 2, "i_repurchase"), 0, 0);
    /* the same item features wherever the article appears */
    for (int k = FEAT_ITEM0; k < FEAT_ITEM0 + FEAT_NITEM; k++)
        CHECK(X[0 * NC + k] == X[5 * NC + k]);
}

/* Customer 0 with article 0 (bought on days 10, 10, 99; another colour, article 1, on day
 * 80) and with article 3 (type 255: article 2 bought on day 40). Age bands over days
 * [72, 100): customer 0 (band 25-29) bought 1, 4, 0; customer 1 (50-59) 2, 5; customer 2
 * (no age) 3, 0; customer 4 (30-39) 2, 2: 9 rows, article 0 twice. */
TEST(test_pair_values)
{
    const float *x = X;
    CHECK_NEAR(val(x, 0, "ui_bought"), 1, 0);
    CHECK_NEAR(val(x, 0, "ui_rows"), 3, 0);
    CHECK_NEAR(val(x, 0, "ui_days_since"), 1, 0);
    CHECK_NEAR(val(x, 0, "ui_decayed"), 2 * exp(-89.0 / 30) + 1, 1e-6);
    CHECK_NEAR(val(x, 0, "ui_product"), 1, 0);
    CHECK_NEAR(val(x, 0, "ui_product_rows"), 1, 0);
    CHECK_NEAR(val(x, 0, "ui_share_type"), 4.0 / 6, 1e-6);
    CHECK_NEAR(val(x, 0, "ui_share_department"), 4.0 / 6, 1e-6);
    CHECK_NEAR(val(x, 0, "ui_share_section"), 4.0 / 6, 1e-6);
    CHECK_NEAR(val(x, 0, "ui_share_colour"), 4.0 / 6, 1e-6); /* colour 9: articles 0 and 2 */
    CHECK_NEAR(val(x, 0, "ui_share_garment"), 4.0 / 6, 1e-6);
    CHECK_NEAR(val(x, 0, "ui_share_index_group"), 1, 1e-6);
    CHECK_NEAR(val(x, 0, "ui_price_diff"), 0.02 - 0.0205, 1e-7);
    CHECK_NEAR(val(x, 0, "ui_price_ratio"), 0.02 / 0.0205, 1e-5);
    CHECK_NEAR(val(x, 0, "ui_days_type"), 1, 0);
    CHECK_NEAR(val(x, 0, "ui_age_pop"), 1.0 / 3, 1e-6);
    CHECK_NEAR(val(x, 0, "ui_age_lift"), 2 / (3 * 2.0 / 9 + 1), 1e-6);
    /* article 3 */
    CHECK_NEAR(val(x, 1, "ui_bought"), 0, 0);
    CHECK_NEAR(val(x, 1, "ui_days_since"), 91, 0);
    CHECK_NEAR(val(x, 1, "ui_decayed"), 0, 0);
    CHECK_NEAR(val(x, 1, "ui_product"), 0, 0);
    CHECK_NEAR(val(x, 1, "ui_share_type"), 1.0 / 6, 1e-6);
    CHECK_NEAR(val(x, 1, "ui_share_department"), 1.0 / 6, 1e-6);
    CHECK_NEAR(val(x, 1, "ui_share_section"), 0, 0);
    CHECK_NEAR(val(x, 1, "ui_share_colour"), 0, 0);
    CHECK_NEAR(val(x, 1, "ui_share_garment"), 1.0 / 6, 1e-6);
    CHECK_NEAR(val(x, 1, "ui_share_index_group"), 0, 0);
    CHECK_NEAR(val(x, 1, "ui_days_type"), 60, 0);
    CHECK_NEAR(val(x, 1, "ui_age_pop"), 0, 0);
    CHECK_NEAR(val(x, 1, "ui_age_lift"), 1 / (3 * 1.0 / 9 + 1), 1e-6);
    /* customer 3 (band < 20: no rows in the window) with article 0 */
    CHECK_NEAR(val(x, 5, "ui_age_pop"), 0, 0);
    CHECK_NEAR(val(x, 5, "ui_age_lift"), 1, 0);
}

/* make_block's rule: strategy s proposes article a when (a + s) % 3 == 0, at rank s + 1 + a
 * with score 10 s + a + 0.5; the merged score of row r is 1 / (r + 1). */
TEST(test_recall_values)
{
    const float *x = X;
    const char *const *names = feat_column_names();
    for (uint64_t r = 0; r < 6; r++) {
        uint32_t a = hb_items[r];
        int ns = 0;
        for (int s = 0; s < recall_n_strategies; s++) {
            int on = (a + (uint32_t)s) % 3 == 0;
            ns += on;
            CHECK_NEAR(x[r * NC + FEAT_RECALL0 + 3 * s], on, 0);
            CHECK_NEAR(x[r * NC + FEAT_RECALL0 + 3 * s + 1], on ? 10.0 * s + a + 0.5 : 0, 1e-6);
            CHECK_NEAR(x[r * NC + FEAT_RECALL0 + 3 * s + 2], on ? 1.0 / (s + 1 + a) : 0, 1e-7);
        }
        CHECK_NEAR(val(x, r, "r_n_strat"), ns, 0);
        CHECK_NEAR(val(x, r, "r_merged"), 1.0 / (r + 1), 1e-7);
    }
    CHECK_STR(names[FEAT_RECALL0], "r_repurchase_flag");
    CHECK_NEAR(val(x, 0, "r_repurchase_flag"), 1, 0); /* article 0, strategy 0 */
    CHECK_NEAR(val(x, 0, "r_repurchase_rrank"), 1, 0);
    CHECK_NEAR(val(x, 0, "r_position"), 1, 0);
    CHECK_NEAR(val(x, 2, "r_position"), 3, 0);
    CHECK_NEAR(val(x, 3, "r_position"), 1, 0);
    CHECK_NEAR(val(x, 5, "r_position"), 2, 0);
}

/* Text (2 dimensions): customer 0's rows have unit vectors a0 (1, 0) on days 10, 10, 99;
 * a2 (0, 1) on day 40; a1 (.8, .6) on day 80; a4 (1, 1)/sqrt 2 on day 95. Image (3
 * dimensions): a0 e1, a1 e2, a2 e3, a4 missing (zero row), a3 missing (absent); the mean of
 * the present rows (a0 a1 a2 a5 (1,1,0) a6 (2,0,0) a7 (0,0,-1)) is (4/6, 2/6, 0). */
TEST(test_embedding_values)
{
    const float *x = X;
    double e10 = exp(-89.0 / 30), e40 = exp(-59.0 / 30), e80 = exp(-19.0 / 30), e95 = exp(-4.0 / 30);
    double r2 = sqrt(0.5);
    double px = 2 * e10 + 0.8 * e80 + r2 * e95 + 1, py = e40 + 0.6 * e80 + r2 * e95;
    double pn = sqrt(px * px + py * py);
    CHECK_NEAR(val(x, 0, "t_sim"), px / pn, 1e-6);
    CHECK_NEAR(val(x, 1, "t_sim"), py / pn, 1e-6); /* a3 = (0, 2): unit (0, 1) */
    CHECK_NEAR(val(x, 2, "t_sim"), (3 * px + 4 * py) / 5 / pn, 1e-6);
    CHECK_NEAR(val(x, 0, "t_sim_last"), 1, 1e-6); /* last purchase: a0 */
    CHECK_NEAR(val(x, 1, "t_sim_last"), 0, 1e-6);
    CHECK_NEAR(val(x, 2, "t_sim_last"), 0.6, 1e-6);
    double sx = 1 + 0 + 0.8 + r2, sy = 0 + 1 + 0.6 + r2;
    CHECK_NEAR(val(x, 0, "t_diversity"), 1 - sqrt(sx * sx + sy * sy) / 4, 1e-6);
    CHECK_NEAR(val(x, 4, "t_sim"), 0, 0); /* customer 3 bought only a6 (zero vector) */
    CHECK_NEAR(val(x, 4, "t_diversity"), 0, 0);
    /* image: profile over a0 (days 10, 10, 99), a2 (40), a1 (80); a4 has none */
    double mx = 2 * e10 + 1, my = e80, mz = e40, mn = sqrt(mx * mx + my * my + mz * mz);
    CHECK_NEAR(val(x, 0, "im_sim"), mx / mn, 1e-6);
    double ix = 4.0 / 6, iy = 2.0 / 6, in = sqrt(ix * ix + iy * iy);
    CHECK_NEAR(val(x, 1, "im_sim"), (ix * mx + iy * my) / in / mn, 1e-6); /* a3 imputed */
    CHECK_NEAR(val(x, 2, "im_sim"), -mz / mn, 1e-6);                     /* a7 (0, 0, -1) */
    CHECK_NEAR(val(x, 0, "im_sim_last"), 1, 1e-6);
    CHECK_NEAR(val(x, 1, "im_sim_last"), ix / in, 1e-6);
    CHECK_NEAR(val(x, 0, "im_diversity"), 1 - sqrt(3.0) / 3, 1e-6);
    CHECK_NEAR(val(x, 0, "im_missing"), 0, 0);
    CHECK_NEAR(val(x, 1, "im_missing"), 1, 0);
    CHECK_NEAR(val(x, 2, "im_missing"), 0, 0);
    /* customer 3 bought a6 (2, 0, 0) */
    CHECK_NEAR(val(x, 4, "im_sim"), 1, 1e-6);
    CHECK_NEAR(val(x, 5, "im_sim"), 1, 1e-6);
    /* without embeddings: zeros, and every article flagged */
    static float y[6 * FEAT_MAX_COLS];
    CHECK_EQ_INT(features_of(dir_a, y, 0), 0);
    for (uint64_t r = 0; r < 6; r++) {
        CHECK_NEAR(val(y, r, "t_sim"), 0, 0);
        CHECK_NEAR(val(y, r, "im_sim"), 0, 0);
        CHECK_NEAR(val(y, r, "im_missing"), 1, 0);
        CHECK_NEAR(val(y, r, "u_n_rows"), val(x, r, "u_n_rows"), 0);
    }
}

TEST(test_all_finite)
{
    for (size_t i = 0; i < 6 * NC; i++)
        CHECK(isfinite(X[i]));
}

/* ---- the cutoff ----------------------------------------------------------------------------- */

TEST(test_cutoff)
{
    static float y[6 * FEAT_MAX_COLS], z[6 * FEAT_MAX_COLS];
    /* store b: X's store plus rows on or after the cutoff (also for a cold customer and an
     * unsold article); store c: plus one row the day before */
    CHECK_EQ_INT(features_of(dir_b, y, 1), 0);
    CHECK(memcmp(X, y, 6 * NC * sizeof(float)) == 0);
    CHECK_EQ_INT(features_of(dir_c, z, 1), 0);
    CHECK(memcmp(X, z, 6 * NC * sizeof(float)) != 0);
    CHECK_NEAR(val(z, 3, "u_n_rows"), 1, 0); /* customer 5 bought article 6 on day 99 */
    CHECK_NEAR(val(z, 3, "ui_bought"), 1, 0);
    CHECK_NEAR(val(z, 4, "i_rows_all"), 2, 0);
    /* the block's cutoff must be the context's */
    struct data_set ds;
    CHECK_EQ_INT(open_store(dir_a, &ds), 0);
    struct feat_inputs in = {&ds, NULL, 0, 0, NULL};
    struct feat_params p = defaults();
    struct feat_ctx ctx;
    CHECK_EQ_INT(feat_ctx_init(&ctx, &in, day0() + CUTOFF, &p), 0);
    struct recall_candidates b;
    make_block(&b, day0() + CUTOFF - 7, hb_users, 3, hb_counts, hb_items);
    CHECK_EQ_INT(feat_block(&ctx, &b, y), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "cutoff 2020-04-03 differs from the context's 2020-04-10"));
    b.cutoff = ctx.cutoff;
    b.item[2] = 8;
    CHECK_EQ_INT(feat_block(&ctx, &b, y), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "article row 8 out of range"));
    recall_candidates_release(&b);
    feat_ctx_release(&ctx);
    p.tau = 0;
    CHECK_EQ_INT(feat_ctx_init(&ctx, &in, day0() + CUTOFF, &p), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "features.tau"));
    p = defaults();
    in.text = &text2[0][0];
    in.text_rows = 7; /* the data set has 8 articles */
    in.text_dim = 2;
    CHECK_EQ_INT(feat_ctx_init(&ctx, &in, day0() + CUTOFF, &p), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "text embeddings (7, 2) for a data set of 8 articles"));
    struct feat_image im;
    make_image(&im);
    in = (struct feat_inputs){&ds, NULL, 0, 0, &im};
    im.n_articles = 9;
    CHECK_EQ_INT(feat_ctx_init(&ctx, &in, day0() + CUTOFF, &p), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "image embeddings for 9 articles, the data set has 8"));
    im.n_articles = 8;
    feat_image_release(&im);
    data_set_release(&ds);
}

/* ---- threads, blocks: the synthetic tiny preset with real candidates --------------------- */

/* A block holding rows [off[u0], off[u1]) of customers u0..u1-1 of c (copied). */
static void sub_block(struct recall_candidates *out, const struct recall_candidates *c, uint32_t u0, uint32_t u1)
{
    recall_candidates_init(out);
    uint64_t r0 = c->off[u0], n = c->off[u1] - r0;
    out->cutoff = c->cutoff;
    out->n_users = u1 - u0;
    out->n = out->cap = n;
    out->user = hm_xmalloc_array(out->n_users + 1, sizeof *out->user);
    memcpy(out->user, c->user + u0, out->n_users * sizeof *out->user);
    out->off = hm_xrealloc(out->off, (out->n_users + 1) * sizeof *out->off);
    for (uint32_t i = 0; i <= out->n_users; i++)
        out->off[i] = c->off[u0 + i] - r0;
#define COPY(f, size) (out->f = hm_xmalloc(n * (size) + 1), memcpy(out->f, c->f + r0, n * (size)))
    COPY(item, 4);
    COPY(merged, 4);
    COPY(flags, sizeof *c->flags);
    COPY(n_strat, 1);
    for (int s = 0; s < recall_n_strategies; s++) {
        COPY(score[s], 4);
        COPY(rank[s], 2);
    }
#undef COPY
}

/* The tiny preset's article text embeddings, made by the pipeline's text stage (in main). */
static struct data_article_matrix text_s;

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

/* Features of every customer's candidates (built once, on 2 threads) at the validation
 * cutoff of the tiny preset, with the text stage's embeddings and synth's image
 * embeddings, computed on `threads` threads in `blocks` blocks (features of a customer must
 * not depend on the block or on the threads). Returns the matrix (malloc'ed) and its rows. */
static float *synth_features(int threads, uint32_t blocks, uint64_t *rows)
{
    char store[512], emb[512];
    snprintf(store, sizeof store, "%s/store", dir_s);
    snprintf(emb, sizeof emb, "%s/image_embeddings.npy", dir_s);
    struct data_set ds;
    HM_ASSERT(data_set_open(&ds, store, 0) == 0);
    struct prep_params pp;
    hm_settings_defaults(prep_settings, prep_n_settings, &pp);
    struct prep_windows win;
    HM_ASSERT(prep_windows_init(&win, &ds, &pp) == 0);
    int32_t cutoff = win.val.start;
    prep_windows_release(&win);
    struct prep_items items;
    HM_ASSERT(prep_items_filter(&items, &ds, ds.tx.day_min, cutoff, 2) == 0);
    struct recall_params rp;
    size_t nset;
    const struct hm_setting *set = recall_settings_table(&nset);
    hm_settings_defaults(set, nset, &rp);
    hm_threads_set(2);
    struct recall_engine e;
    struct recall_inputs rin = {.keep = items.keep, .text_emb = text_s.x, .text_dim = text_s.dim};
    HM_ASSERT(recall_engine_init(&e, &ds, &rp, ds.tx.day_min, cutoff, &rin) == 0);
    uint32_t nu = ds.customers.n, *users = hm_xmalloc_array(nu, sizeof *users);
    for (uint32_t i = 0; i < nu; i++)
        users[i] = i;
    struct recall_candidates c;
    recall_candidates_init(&c);
    HM_ASSERT(recall_candidates_build(&e, users, nu, 150, &c, NULL) == 0);
    struct feat_image im;
    HM_ASSERT(feat_image_load(&im, &ds, emb, FEAT_IMAGE_DIM) == 0);
    struct feat_inputs in = {&ds, text_s.x, ds.articles.n, text_s.dim, &im};
    struct feat_params p = defaults();
    struct feat_ctx ctx;
    hm_threads_set(threads);
    HM_ASSERT(feat_ctx_init(&ctx, &in, cutoff, &p) == 0);
    float *x = hm_xmalloc_array(c.n * NC + 1, sizeof(float));
    for (uint32_t k = 0; k < blocks; k++) {
        struct recall_candidates part;
        uint32_t u0 = (uint32_t)((uint64_t)nu * k / blocks), u1 = (uint32_t)((uint64_t)nu * (k + 1) / blocks);
        sub_block(&part, &c, u0, u1);
        HM_ASSERT(feat_block(&ctx, &part, x + c.off[u0] * NC) == 0);
        recall_candidates_release(&part);
    }
    hm_threads_set(0);
    *rows = c.n;
    recall_candidates_release(&c);
    feat_ctx_release(&ctx);
    feat_image_release(&im);
    free(users);
    recall_engine_release(&e);
    prep_items_release(&items);
    data_set_release(&ds);
    return x;
}

TEST(test_threads)
{
    uint64_t n1, n2, n3;
    float *x1 = synth_features(1, 1, &n1), *x2 = synth_features(2, 1, &n2), *x3 = synth_features(3, 7, &n3);
    CHECK(n1 > 10000);
    CHECK_EQ_INT(n1, n2);
    CHECK_EQ_INT(n1, n3);
    CHECK(memcmp(x1, x2, n1 * NC * sizeof(float)) == 0);
    CHECK(memcmp(x1, x3, n1 * NC * sizeof(float)) == 0);
    uint64_t bought = 0, text = 0, image = 0;
    for (uint64_t i = 0; i < n1 * NC; i++)
        CHECK(isfinite(x1[i]));
    for (uint64_t r = 0; r < n1; r++) {
        bought += val(x1, r, "ui_bought") > 0;
        text += val(x1, r, "t_sim") != 0;
        image += val(x1, r, "im_sim") != 0;
        CHECK(val(x1, r, "im_missing") == 0); /* synth embeds every article */
    }
    CHECK(bought > 0 && text > n1 / 2 && image > n1 / 2);
    free(x1);
    free(x2);
    free(x3);
}

/* ---- image embeddings ------------------------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* Loads path (dim 4) and expects failure with a message containing `what` and the file's
 * directory (messages name the file at fault by its path). */
static int load_fails(const struct data_set *ds, const char *path, const char *what)
{
    struct feat_image im;
    int rc = feat_image_load(&im, ds, path, 4);
    const char *msg = hm_last_error();
    if (rc == 0 || !strstr(msg, what) || !strstr(msg, dir_a)) {
        fprintf(stderr, "  %s: rc %d, message \"%s\", expected \"%s\"\n", path, rc, msg, what);
        if (rc == 0)
            feat_image_release(&im);
        return 0;
    }
    return 1;
}

TEST(test_image_files)
{
    struct data_set ds;
    CHECK_EQ_INT(open_store(dir_a, &ds), 0);
    char npy[300], ids[300], csv[300], syn[300], syn_ids[300];
    snprintf(npy, sizeof npy, "%s/image_emb.npy", dir_a);
    snprintf(ids, sizeof ids, "%s/image_emb.ids.txt", dir_a);
    snprintf(csv, sizeof csv, "%s/emb.csv", dir_a);
    snprintf(syn, sizeof syn, "%s/image_embeddings.npy", dir_a);
    snprintf(syn_ids, sizeof syn_ids, "%s/image_embeddings_ids.txt", dir_a);
    /* rows: article 2, article 0, article 5 (all zero: no image) */
    const float e[3][4] = {{0, 0, 1, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}};
    CHECK_EQ_INT(io_npy_write(npy, &e[0][0], 3, 4), 0);
    write_text(ids, "0100000003\n0100000001\n0100000006\n");
    CHECK_EQ_INT(io_npy_write(syn, &e[0][0], 3, 4), 0);
    write_text(syn_ids, "100000003\r\n100000001\r\n100000006\r\n"); /* no leading zero, CRLF */
    write_text(csv, "article_id,e0,e1,e2,e3\n100000003,0,0,1,0\n0100000001,1,0,0,0\n100000006,0,0,0,0\n");
    struct feat_image a, b, c;
    CHECK_EQ_INT(feat_image_load(&a, &ds, npy, 4), 0);
    CHECK_EQ_INT(feat_image_load(&b, &ds, syn, 4), 0);
    CHECK_EQ_INT(feat_image_load(&c, &ds, csv, 4), 0);
    CHECK_EQ_INT(a.n_articles, 8);
    CHECK_EQ_INT(a.n_missing, 6);
    CHECK(!a.missing[0] && !a.missing[2] && a.missing[5] && a.missing[7]);
    CHECK_NEAR(a.emb[0 * 4 + 0], 1, 0);
    CHECK_NEAR(a.emb[2 * 4 + 2], 1, 0);
    CHECK_NEAR(a.emb[5 * 4 + 0], 0.5, 0); /* the mean of the two present rows */
    CHECK_NEAR(a.emb[5 * 4 + 2], 0.5, 0);
    CHECK_NEAR(a.inv_norm[5], 1 / sqrt(0.5), 1e-6);
    CHECK(memcmp(a.emb, b.emb, 8 * 4 * sizeof(float)) == 0 && memcmp(a.emb, c.emb, 8 * 4 * sizeof(float)) == 0);
    CHECK(memcmp(a.missing, b.missing, 8) == 0 && memcmp(a.missing, c.missing, 8) == 0);
    feat_image_release(&a);
    feat_image_release(&b);
    feat_image_release(&c);

    /* the ids do not match the articles */
    write_text(ids, "0100000003\n0999999999\n0100000006\n");
    CHECK(load_fails(&ds, npy, "image_emb.ids.txt:2: article 0999999999 is not in the store's articles"));
    write_text(ids, "0100000003\n0100000001\n0100000003\n");
    CHECK(load_fails(&ds, npy, "image_emb.ids.txt:3: article 0100000003 appears twice"));
    write_text(ids, "0100000003\n0100000001\n");
    CHECK(load_fails(&ds, npy, "2 ids for the 3 rows of"));
    write_text(ids, "0100000003\n0100000001\n0100000006\n0100000007\n");
    CHECK(load_fails(&ds, npy, "more ids than the 3 rows of"));
    write_text(ids, "0100000003\nabc\n0100000006\n");
    CHECK(load_fails(&ds, npy, "image_emb.ids.txt:2: expected an article id"));
    unlink(ids);
    unlink(syn_ids);
    CHECK(load_fails(&ds, npy, "no ids file"));
    write_text(ids, "0100000003\n0100000001\n0100000006\n");
    /* a wrong shape */
    const float wide[3][5] = {{0}};
    CHECK_EQ_INT(io_npy_write(npy, &wide[0][0], 3, 5), 0);
    CHECK(load_fails(&ds, npy, "image_emb.npy: expected 4 dimensions per article, found 5"));
    /* NaN and infinite values */
    float bad[3][4];
    memcpy(bad, e, sizeof bad);
    bad[1][2] = NAN;
    CHECK_EQ_INT(io_npy_write(npy, &bad[0][0], 3, 4), 0);
    CHECK(load_fails(&ds, npy, "image_emb.npy: row 1 (article 0100000001) column 2 is NaN"));
    bad[1][2] = 0;
    bad[2][3] = -INFINITY;
    CHECK_EQ_INT(io_npy_write(npy, &bad[0][0], 3, 4), 0);
    CHECK(load_fails(&ds, npy, "column 3 is infinite"));
    /* absurd values: an error naming the file, not infinite features later */
    bad[2][3] = 1e20f;
    CHECK_EQ_INT(io_npy_write(npy, &bad[0][0], 3, 4), 0);
    CHECK(load_fails(&ds, npy, "image_emb.npy: row 2 (article 0100000006) column 3 is 1e+20: expected a value within +-10000"));
    bad[2][3] = -2e4f;
    CHECK_EQ_INT(io_npy_write(npy, &bad[0][0], 3, 4), 0);
    CHECK(load_fails(&ds, npy, "column 3 is -20000"));
    /* a missing .npy is named as such */
    CHECK(unlink(npy) == 0);
    CHECK(load_fails(&ds, npy, "image_emb.npy: no such file"));
    /* a truncated file */
    CHECK_EQ_INT(io_npy_write(npy, &e[0][0], 3, 4), 0);
    CHECK_EQ_INT(truncate(npy, 128 + 40), 0);
    CHECK(load_fails(&ds, npy, "expected 48 data bytes"));
    /* CSV */
    write_text(csv, "article_id,e0,x,e2,e3\n100000003,0,0,1,0\n");
    CHECK(load_fails(&ds, csv, "emb.csv:1:15: expected e1, found \"x\" (header)"));
    write_text(csv, "article_id,e0,e1,e2\n100000003,0,0,1\n");
    CHECK(load_fails(&ds, csv, "expected 5 columns (article_id,e0,...,e3), found 4"));
    write_text(csv, "article_id,e0,e1,e2,e3\n100000003,0,0,1,0\n100000001,1,nan,0,0\n");
    CHECK(load_fails(&ds, csv, "emb.csv:3:13: expected a finite number within +-10000 (e1), found \"nan\""));
    write_text(csv, "article_id,e0,e1,e2,e3\n100000003,0,0,1,0\n100000001,1,1e20,0,0\n");
    CHECK(load_fails(&ds, csv, "emb.csv:3:13: expected a finite number within +-10000 (e1), found \"1e20\""));
    write_text(csv, "article_id,e0,e1,e2,e3\n100000003,0,0,1,0\n100000001,1,inf,0,0\n");
    CHECK(load_fails(&ds, csv, "found \"inf\""));
    write_text(csv, "article_id,e0,e1,e2,e3\n100000003,0,0,1,0\n100000001,1,0");
    CHECK(load_fails(&ds, csv, "emb.csv:3: expected 5 fields (article_id and 4 values), found 3 (truncated file?)"));
    write_text(csv, "article_id,e0,e1,e2,e3\n100000003,0,0,1,0\n123,1,0,0,0\n");
    CHECK(load_fails(&ds, csv, "emb.csv:3: article id 0000000123 is not an article of the data set"));
    write_text(csv, "");
    CHECK(load_fails(&ds, csv, "empty file"));
    CHECK(load_fails(&ds, ids, "expected an image embeddings file ending in .npy or .csv"));
    /* from rows in memory */
    const float m[2][4] = {{1, 0, 0, 0}, {0, 1, 0, NAN}};
    const uint32_t rows[2] = {0, 1}, dup[2] = {3, 3};
    CHECK_EQ_INT(feat_image_from_rows(&a, 8, 4, &m[0][0], rows, 2), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "row 1, dimension 3 is NaN"));
    const float big[1][4] = {{1, 0, 3e5f, 0}};
    CHECK_EQ_INT(feat_image_from_rows(&a, 8, 4, &big[0][0], rows, 1), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "row 0, dimension 2 is 300000: expected a value within +-10000"));
    CHECK_EQ_INT(feat_image_from_rows(&a, 8, 4, &m[0][0], dup, 1), 0);
    CHECK_EQ_INT(a.n_missing, 7);
    feat_image_release(&a);
    CHECK_EQ_INT(feat_image_from_rows(&a, 8, 4, &e[0][0], dup, 2), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "article row 3 appears twice"));
    data_set_release(&ds);
}

/* ---- the artifact ------------------------------------------------------------------------ */

TEST(test_table)
{
    char path[300];
    snprintf(path, sizeof path, "%s/features.hmt", dir_a);
    struct recall_candidates b;
    make_block(&b, day0() + CUTOFF, hb_users, 3, hb_counts, hb_items);
    CHECK_EQ_INT(feat_table_write(path, &b, X), 0);
    struct feat_table t;
    CHECK_EQ_INT(feat_table_read(&t, path), 0);
    CHECK_EQ_INT(t.cutoff, day0() + CUTOFF);
    CHECK_EQ_INT(t.n_users, 3);
    CHECK_EQ_INT(t.n, 6);
    CHECK(memcmp(t.user, hb_users, sizeof hb_users) == 0);
    CHECK(memcmp(t.item, hb_items, sizeof hb_items) == 0);
    CHECK(t.off[0] == 0 && t.off[1] == 3 && t.off[2] == 4 && t.off[3] == 6);
    static float y[6 * FEAT_MAX_COLS];
    CHECK_EQ_INT(t.n_cols, NC);
    feat_table_rows(&t, 0, 6, y);
    CHECK(memcmp(X, y, 6 * NC * sizeof(float)) == 0);
    feat_table_rows(&t, 4, 6, y);
    CHECK(memcmp(X + 4 * NC, y, 2 * NC * sizeof(float)) == 0);
    CHECK(t.col[FEAT_USER0 + U_N_ROWS][0] == 6);
    feat_table_release(&t);

    /* another feature set: one column fewer, then one column renamed */
    const char *const *names = feat_column_names();
    struct io_column_desc d[3 + FEAT_MAX_COLS] = {
        {"user", IO_U32, 4, 3, b.user}, {"user_off", IO_U64, 8, 4, b.off}, {"item", IO_U32, 4, 6, b.item}};
    float zeros[6] = {0};
    for (uint32_t k = 0; k < NC; k++)
        d[3 + k] = (struct io_column_desc){names[k], IO_F32, 4, 6, zeros};
    uint64_t meta[IO_TABLE_META] = {(uint64_t)b.cutoff, NC - 1, 0, 3};
    CHECK_EQ_INT(io_table_write(path, "features", 6, meta, d, 3 + (int)NC - 1), 0);
    CHECK_EQ_INT(feat_table_read(&t, path), HM_EFORMAT);
    char want[200];
    snprintf(want, sizeof want, "%u feature columns, this build computes %u: written with another feature set",
             NC - 1, NC);
    CHECK(strstr(hm_last_error(), want) && strstr(hm_last_error(), path));
    meta[1] = NC;
    meta[2] = feat_set_hash();
    d[3 + 3].name = "u_exploration";
    CHECK_EQ_INT(io_table_write(path, "features", 6, meta, d, 3 + (int)NC), 0);
    CHECK_EQ_INT(feat_table_read(&t, path), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "feature column 3 is 'u_exploration', this build's is 'u_explore'"));
    /* a truncated file */
    CHECK_EQ_INT(feat_table_write(path, &b, X), 0);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(truncate(path, st.st_size - 100), 0);
    CHECK(feat_table_read(&t, path) != 0);
    CHECK(strstr(hm_last_error(), path));
    recall_candidates_release(&b);
}

/* ---- statistics ----------------------------------------------------------------------------- */

TEST(test_stats)
{
    const float x[3 * 2] = {1, 2, 3, 2, 5, 2};
    double mean[2], std[2];
    feat_stats(x, 3, 2, mean, std);
    CHECK_NEAR(mean[0], 3, 0);
    CHECK_NEAR(mean[1], 2, 0);
    CHECK_NEAR(std[0], sqrt(8.0 / 3), 1e-12);
    CHECK_NEAR(std[1], 0, 0);
    feat_stats(x, 0, 2, mean, std);
    CHECK(mean[0] == 0 && std[0] == 0);
    /* many rows: the same bytes for 1 and 2 threads */
    uint64_t n = 100003;
    float *big = hm_xmalloc_array(n * 3, sizeof(float));
    struct hm_rng r;
    hm_rng_seed(&r, 7);
    for (uint64_t i = 0; i < n * 3; i++)
        big[i] = (float)(hm_rng_normal(&r) * (double)(i % 3 + 1) + (double)(i % 3));
    double m1[3], s1[3], m2[3], s2[3];
    hm_threads_set(1);
    feat_stats(big, n, 3, m1, s1);
    hm_threads_set(2);
    feat_stats(big, n, 3, m2, s2);
    hm_threads_set(0);
    CHECK(memcmp(m1, m2, sizeof m1) == 0 && memcmp(s1, s2, sizeof s1) == 0);
    CHECK_NEAR(m1[2], 2, 0.03);
    CHECK_NEAR(s1[2], 3, 0.03);
    free(big);
}

/* ---- the CSV export -------------------------------------------------------------------------- */

TEST(test_export)
{
    struct data_set ds;
    CHECK_EQ_INT(open_store(dir_a, &ds), 0);
    struct feat_image im;
    make_image(&im);
    struct feat_inputs in = {&ds, &text2[0][0], 8, 2, &im};
    struct feat_params p = defaults();
    struct feat_ctx ctx;
    CHECK_EQ_INT(feat_ctx_init(&ctx, &in, day0() + CUTOFF, &p), 0);
    struct recall_candidates b;
    make_block(&b, day0() + CUTOFF, hb_users, 3, hb_counts, hb_items);
    char path[300];
    snprintf(path, sizeof path, "%s/features.csv", dir_a);
    CHECK_EQ_INT(feat_export_csv(&ctx, &b, NULL, path), 0);
    char *text;
    size_t len;
    CHECK_EQ_INT(hm_read_file(path, &text, &len), 0);
    /* header, then 6 rows of 2 + NC + 3 fields */
    CHECK(strncmp(text, "customer_id,article_id,u_n_rows,u_n_items,", 42) == 0);
    char *nl = strchr(text, '\n');
    CHECK(nl && strncmp(nl - 9, ",e0,e1,e2", 9) == 0);
    int lines = 0;
    for (char *s = text; *s; s++)
        lines += *s == '\n';
    CHECK_EQ_INT(lines, 7);
    char *row = nl + 1, *end = strchr(row, '\n');
    int fields = 1;
    for (char *s = row; s < end; s++)
        fields += *s == ',';
    CHECK_EQ_INT(fields, 2 + (int)NC + 3);
    char cid[65];
    fixture_cid(0, cid);
    CHECK(strncmp(row, cid, 64) == 0 && strncmp(row + 64, ",0100000001,6,4,3,", 18) == 0);
    /* every value reads back as the float of the matrix */
    char *s = row;
    for (int k = 0; k < 2; k++)
        s = strchr(s, ',') + 1;
    for (uint32_t k = 0; k < NC; k++) {
        char *e = strchr(s, ',');
        float v;
        CHECK_EQ_INT(io_parse_f32(s, (size_t)(e - s), &v), 0);
        CHECK(v == X[k]);
        s = e + 1;
    }
    CHECK(strncmp(s, "1,0,0\n", 6) == 0); /* article 0's image embedding */
    /* row 2 is article 3: the imputed mean embedding */
    char *row2 = strchr(row, '\n') + 1, *end2 = strchr(row2, '\n');
    CHECK(end2 - row2 > 20 && strncmp(end2 - 18, ",0.6666667,0.33333334,0", 18) != 0);
    CHECK(strstr(row2, ",0.6666667,0.33333334,0\n") == end2 - 23);
    free(text);
    recall_candidates_release(&b);
    feat_ctx_release(&ctx);
    feat_image_release(&im);
    data_set_release(&ds);
}

int main(int argc, char **argv)
{
    (void)argc;
    hm_blas_ensure_coretype(argv);
    snprintf(dir_a, sizeof dir_a, "/tmp/hm_test_features_a_%d", (int)getpid());
    snprintf(dir_b, sizeof dir_b, "/tmp/hm_test_features_b_%d", (int)getpid());
    snprintf(dir_c, sizeof dir_c, "/tmp/hm_test_features_c_%d", (int)getpid());
    snprintf(dir_s, sizeof dir_s, "/tmp/hm_test_features_s_%d", (int)getpid());
    if (write_store(dir_a, NULL, 0) || write_store(dir_b, late_tx, (int)(sizeof late_tx / sizeof late_tx[0])) ||
        write_store(dir_c, early_tx, 1)) {
        fprintf(stderr, "fixture: %s\n", hm_last_error());
        return 1;
    }
    struct synth_params sp;
    synth_params_init(&sp);
    synth_params_preset(&sp, "tiny");
    struct synth_summary sum;
    char store[200];
    snprintf(store, sizeof store, "%s/store", dir_s);
    struct data_ingest_opts io = {.data_dir = dir_s, .store_dir = store};
    struct data_ingest_report rep;
    if (synth_generate(&sp, dir_s, &sum) || data_ingest(&io, &rep)) {
        fprintf(stderr, "synth: %s\n", hm_last_error());
        return 1;
    }
    char work[200];
    snprintf(work, sizeof work, "%s/work", dir_s);
    if (text_embeddings(store, work, &text_s)) {
        fprintf(stderr, "text: %s\n", hm_last_error());
        return 1;
    }
    NC = feat_n_cols();
    if (features_of(dir_a, X, 1)) {
        fprintf(stderr, "features: %s\n", hm_last_error());
        return 1;
    }
    RUN(test_columns);
    RUN(test_docs_table);
    RUN(test_user_values);
    RUN(test_cold_customer);
    RUN(test_item_values);
    RUN(test_pair_values);
    RUN(test_recall_values);
    RUN(test_embedding_values);
    RUN(test_all_finite);
    RUN(test_cutoff);
    RUN(test_threads);
    RUN(test_image_files);
    RUN(test_table);
    RUN(test_stats);
    RUN(test_export);
    data_article_matrix_release(&text_s);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s %s %s", dir_a, dir_b, dir_c, dir_s);
    system(cmd);
    TEST_EXIT();
}
