/* Tests for Stage 3 (features): the column table; hand-computed values of every group for
 * given customers and articles of a tiny data set; the cutoff (transactions on or after it
 * change no byte of the output; a change before it does); 1 vs 2 threads on the synthetic
 * tiny preset; image embeddings (the three formats and every bad input); the artifact
 * (round trip, another feature set rejected); the statistics and the CSV export. */
#include "features/feat_internal.h"
#include "fixture.h"
#include "io/npy.h"
#include "io/parse.h"
#include "prep/prep.h"
#include "recall/recall.h"
#include "synth/synth.h"
#include "test.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir_a[128], dir_b[128], dir_c[128], dir_s[128];

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
    b->flags = hm_xmalloc_array(n + 1, 1);
    b->n_strat = hm_xmalloc_array(n + 1, 1);
    for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
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
            uint8_t flags = 0, ns = 0;
            for (int s = 0; s < RECALL_NSTRATEGIES; s++)
                if ((a + (uint32_t)s) % 3 == 0) {
                    flags |= (uint8_t)(1u << s);
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
    return x[r * FEAT_NCOLS + (uint64_t)k];
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
    struct feat_inputs in = {&ds, with_embeddings ? &text2[0][0] : NULL, 2, with_embeddings ? &im : NULL};
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
    CHECK_EQ_INT(feat_n_cols(), FEAT_NCOLS);
    CHECK_EQ_INT(FEAT_NUSER, 43);
    CHECK_EQ_INT(FEAT_NITEM, 29);
    int count[FEAT_NGROUPS] = {0};
    for (int i = 0; i < FEAT_NCOLS; i++) {
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
    CHECK_EQ_INT(count[FEAT_G_RECALL], 3 * RECALL_NSTRATEGIES + 3);
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
    CHECK_STR(c[FEAT_RECALL0 + 3].name, "r_popular_flag");
    CHECK_STR(c[FEAT_RECALL0 + R_POSITION].name, "r_position");
    CHECK_STR(c[FEAT_TEXT0 + T_DIVERSITY].name, "t_diversity");
    CHECK_STR(c[FEAT_IMAGE0 + M_MISSING].name, "im_missing");
    CHECK_EQ_INT(feat_column_find("no_such_feature"), -1);
    /* the list */
    char *list = feat_list_format(0);
    CHECK(strstr(list, "u_n_rows") && strstr(list, "r_text_rrank") && strstr(list, "im_missing"));
    int lines = 0;
    for (const char *s = list; *s; s++)
        lines += *s == '\n';
    CHECK_EQ_INT(lines, FEAT_NCOLS + 2);
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

static float X[6 * FEAT_NCOLS];

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
        CHECK(X[0 * FEAT_NCOLS + k] == X[1 * FEAT_NCOLS + k]);
        CHECK(X[0 * FEAT_NCOLS + k] == X[2 * FEAT_NCOLS + k]);
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
    struct feat_inputs in = {&ds, NULL, 0, NULL};
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
        CHECK(X[0 * FEAT_NCOLS + k] == X[5 * FEAT_NCOLS + k]);
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
        for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
            int on = (a + (uint32_t)s) % 3 == 0;
            ns += on;
            CHECK_NEAR(x[r * FEAT_NCOLS + FEAT_RECALL0 + 3 * s], on, 0);
            CHECK_NEAR(x[r * FEAT_NCOLS + FEAT_RECALL0 + 3 * s + 1], on ? 10.0 * s + a + 0.5 : 0, 1e-6);
            CHECK_NEAR(x[r * FEAT_NCOLS + FEAT_RECALL0 + 3 * s + 2], on ? 1.0 / (s + 1 + a) : 0, 1e-7);
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
    float y[6 * FEAT_NCOLS];
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
    for (size_t i = 0; i < sizeof X / sizeof X[0]; i++)
        CHECK(isfinite(X[i]));
}

/* ---- the cutoff ----------------------------------------------------------------------------- */

TEST(test_cutoff)
{
    static float y[6 * FEAT_NCOLS], z[6 * FEAT_NCOLS];
    /* store b: X's store plus rows on or after the cutoff (also for a cold customer and an
     * unsold article); store c: plus one row the day before */
    CHECK_EQ_INT(features_of(dir_b, y, 1), 0);
    CHECK(memcmp(X, y, sizeof y) == 0);
    CHECK_EQ_INT(features_of(dir_c, z, 1), 0);
    CHECK(memcmp(X, z, sizeof z) != 0);
    CHECK_NEAR(val(z, 3, "u_n_rows"), 1, 0); /* customer 5 bought article 6 on day 99 */
    CHECK_NEAR(val(z, 3, "ui_bought"), 1, 0);
    CHECK_NEAR(val(z, 4, "i_rows_all"), 2, 0);
    /* the block's cutoff must be the context's */
    struct data_set ds;
    CHECK_EQ_INT(open_store(dir_a, &ds), 0);
    struct feat_inputs in = {&ds, NULL, 0, NULL};
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
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s %s %s", dir_a, dir_b, dir_c, dir_s);
    system(cmd);
    TEST_EXIT();
}
