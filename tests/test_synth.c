/* Tests for synth: formats, determinism (seeds and threads), speed of the tiny preset, the
 * statistics over hand-made columns, the embeddings' structure, calibration on the small
 * preset and the oracle against the simple baselines. */
#include "io/npy.h"
#include "synth/synth.h"
#include "synth/synth_internal.h"
#include "test.h"

#include <ctype.h>
#include <jpeglib.h>
#include <unistd.h>

static char root[64];

static char *dir_in(const char *name)
{
    return hm_path_join(root, name);
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char *path = hm_path_join(dir, name), *data = NULL;
    if (hm_read_file(path, &data, len) != 0)
        data = NULL;
    free(path);
    return data;
}

static int same_file(const char *d1, const char *d2, const char *name)
{
    size_t n1, n2;
    char *a = slurp(d1, name, &n1), *b = slurp(d2, name, &n2);
    int same = a && b && n1 == n2 && memcmp(a, b, n1) == 0;
    free(a);
    free(b);
    return same;
}

static int generate(const char *preset, long seed, int threads, const char *dir,
                    struct synth_summary *s)
{
    struct synth_params p;
    synth_params_init(&p);
    if (synth_params_preset(&p, preset))
        return -1;
    p.seed = seed;
    hm_threads_set(threads);
    int rc = synth_generate(&p, dir, s);
    hm_threads_set(0);
    return rc;
}

/* Fields of one CSV line with quotes (pandas style); advances *p past the line. */
static int csv_fields(const char **p, const char *end, char fields[][600], int max)
{
    int n = 0;
    const char *s = *p;
    for (;;) {
        char *out = n < max ? fields[n] : NULL;
        size_t k = 0;
        if (s < end && *s == '"') {
            s++;
            while (s < end) {
                if (*s == '"' && s + 1 < end && s[1] == '"')
                    s++;
                else if (*s == '"')
                    break;
                if (out && k < 599)
                    out[k++] = *s;
                s++;
            }
            s++; /* closing quote */
        } else {
            while (s < end && *s != ',' && *s != '\n') {
                if (out && k < 599)
                    out[k++] = *s;
                s++;
            }
        }
        if (out)
            out[k] = 0;
        n++;
        if (s >= end || *s == '\n')
            break;
        s++; /* comma */
    }
    *p = s < end ? s + 1 : end;
    return n;
}

static int is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

static int is_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* ---- tests ------------------------------------------------------------------------------ */

TEST(test_tiny_formats)
{
    char *dir = dir_in("tiny");
    struct synth_summary s;
    CHECK_EQ_INT(generate("tiny", 7, 2, dir, &s), 0);
    CHECK(s.n_rows > 1000);
    CHECK_EQ_INT(s.n_customers, 400);
    CHECK_EQ_INT(s.n_articles, 600);
    size_t len;
    static char f[32][600];
    /* transactions */
    char *tx = slurp(dir, "transactions_train.csv", &len);
    CHECK(tx != NULL);
    const char *p = tx, *end = tx + len;
    CHECK(csv_fields(&p, end, f, 32) == 5);
    CHECK_STR(f[0], "t_dat");
    CHECK_STR(f[4], "sales_channel_id");
    size_t rows = 0;
    char prev_day[16] = "";
    while (p < end) {
        CHECK_EQ_INT(csv_fields(&p, end, f, 32), 5);
        int32_t d;
        CHECK(hm_date_parse(f[0], strlen(f[0]), &d) == 0);
        CHECK(strcmp(prev_day, f[0]) <= 0); /* sorted by day */
        memcpy(prev_day, f[0], 11); /* a parsed date: 10 characters and a terminator */
        CHECK(is_hex64(f[1]));
        CHECK(is_digits(f[2], 10) && f[2][0] == '0');
        CHECK(atof(f[3]) > 0 && atof(f[3]) < 1 && strlen(f[3]) > 10);
        CHECK(!strcmp(f[4], "1") || !strcmp(f[4], "2"));
        rows++;
    }
    CHECK_EQ_INT(rows, s.n_rows);
    CHECK(!strcmp(prev_day, "2020-09-22"));
    free(tx);
    /* articles: 25 columns, quoted commas, some empty descriptions in larger sets */
    char *ar = slurp(dir, "articles.csv", &len);
    CHECK(ar != NULL);
    p = ar, end = ar + len;
    CHECK_EQ_INT(csv_fields(&p, end, f, 32), 25);
    CHECK_STR(f[24], "detail_desc");
    size_t n_art = 0, quoted = strstr(ar, "\"Womens") != NULL || strstr(ar, "\"Men") != NULL ||
                                   strstr(ar, "\"Baby") != NULL || strstr(ar, "\"Kids") != NULL;
    while (p < end) {
        CHECK_EQ_INT(csv_fields(&p, end, f, 32), 25);
        CHECK(is_digits(f[0], 10));
        CHECK(is_digits(f[1], 7) && !strncmp(f[0], f[1], 7));
        CHECK(strlen(f[8]) == 2); /* colour_group_code "09" */
        n_art++;
    }
    CHECK_EQ_INT(n_art, 600);
    CHECK(quoted);
    free(ar);
    /* customers */
    char *cu = slurp(dir, "customers.csv", &len);
    CHECK(cu != NULL);
    p = cu, end = cu + len;
    CHECK_EQ_INT(csv_fields(&p, end, f, 32), 7);
    CHECK_STR(f[6], "postal_code");
    size_t n_cu = 0;
    char prev_id[600] = "";
    while (p < end) {
        CHECK_EQ_INT(csv_fields(&p, end, f, 32), 7);
        CHECK(is_hex64(f[0]) && strcmp(prev_id, f[0]) < 0);
        snprintf(prev_id, sizeof prev_id, "%s", f[0]);
        CHECK(!*f[1] || !strcmp(f[1], "1.0"));
        CHECK(!*f[2] || !strcmp(f[2], "1.0"));
        CHECK(!*f[3] || !strcmp(f[3], "ACTIVE") || !strcmp(f[3], "PRE-CREATE") || !strcmp(f[3], "LEFT CLUB"));
        CHECK(!*f[4] || !strcmp(f[4], "NONE") || !strcmp(f[4], "None") || !strcmp(f[4], "Regularly") ||
              !strcmp(f[4], "Monthly"));
        CHECK(!*f[5] || (atof(f[5]) >= 16 && strstr(f[5], ".0")));
        CHECK(is_hex64(f[6]));
        n_cu++;
    }
    CHECK_EQ_INT(n_cu, 400);
    free(cu);
    /* embeddings and their id order */
    char *npy = hm_path_join(dir, "image_embeddings.npy");
    struct io_npy a;
    CHECK_EQ_INT(io_npy_open(&a, npy), 0);
    CHECK_EQ_INT(a.rows, 600);
    CHECK_EQ_INT(a.cols, 512);
    for (size_t i = 0; i < a.rows; i += 37) {
        double ss = 0;
        for (size_t k = 0; k < 512; k++)
            ss += (double)a.data[i * 512 + k] * a.data[i * 512 + k];
        CHECK_NEAR(ss, 1.0, 1e-4);
    }
    io_npy_release(&a);
    free(npy);
    char *ids = slurp(dir, "image_embeddings_ids.txt", &len);
    CHECK(ids && len == 600 * 11);
    free(ids);
    /* oracle and manifest */
    char *sum = slurp(dir, "oracle/summary.tsv", &len);
    CHECK(sum && strstr(sum, "map12_oracle"));
    free(sum);
    char *man = slurp(dir, "manifest.txt", &len);
    CHECK(man && strstr(man, "synth.seed = 7") && strstr(man, "rows.transactions = "));
    free(man);
    free(dir);
}

TEST(test_determinism)
{
    char *d1 = dir_in("det1"), *d2 = dir_in("det2"), *d3 = dir_in("det3");
    struct synth_summary s1, s2, s3;
    CHECK_EQ_INT(generate("tiny", 11, 1, d1, &s1), 0);
    CHECK_EQ_INT(generate("tiny", 11, 2, d2, &s2), 0);
    CHECK_EQ_INT(generate("tiny", 12, 2, d3, &s3), 0);
    const char *files[] = {"transactions_train.csv", "articles.csv", "customers.csv",
                           "image_embeddings.npy", "image_embeddings_ids.txt",
                           "oracle/summary.tsv", "oracle/week_2020-09-16_oracle.csv",
                           "oracle/week_2020-09-16_truth.csv", "oracle/week_2020-09-23_oracle.csv",
                           "oracle/week_2020-09-23_truth.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (!same_file(d1, d2, files[i]))
            fprintf(stderr, "  differs with 1 and 2 threads: %s\n", files[i]);
        CHECK(same_file(d1, d2, files[i]));
    }
    CHECK(!same_file(d1, d3, "transactions_train.csv"));
    free(d1);
    free(d2);
    free(d3);
}

/* Article ids of one line of a "customer_id,<ids>" file into a set of strings. */
static int line_has_id(const char *line, const char *id)
{
    const char *e = strchr(line, '\n');
    const char *hit = strstr(line, id);
    return hit && (!e || hit < e);
}

/* The held-out week: simulated after the data from streams of its own, so every file of the
 * data (and the data weeks' oracle) is the same with and without it; its purchases are only
 * in oracle/, by customers of customers.csv, and its oracle scores as summary.tsv says. */
TEST(test_held_out_week)
{
    char *d1 = dir_in("held1"), *d0 = dir_in("held0");
    struct synth_params p;
    synth_params_init(&p);
    CHECK_EQ_INT(synth_params_preset(&p, "tiny"), 0);
    p.seed = 3;
    p.n_customers = 3000;
    struct synth_summary s1, s0;
    CHECK_EQ_INT(synth_generate(&p, d1, &s1), 0);
    p.test_week = 0;
    CHECK_EQ_INT(synth_generate(&p, d0, &s0), 0);
    const char *same[] = {"transactions_train.csv", "articles.csv", "customers.csv", "image_embeddings.npy",
                          "image_embeddings_ids.txt", "oracle/week_2020-09-09_oracle.csv",
                          "oracle/week_2020-09-09_truth.csv", "oracle/week_2020-09-16_oracle.csv",
                          "oracle/week_2020-09-16_truth.csv"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        if (!same_file(d1, d0, same[i]))
            fprintf(stderr, "  differs with and without the held-out week: %s\n", same[i]);
        CHECK(same_file(d1, d0, same[i]));
    }
    CHECK_EQ_INT(s1.n_rows, s0.n_rows);
    CHECK_EQ_INT(s1.test_week, 1);
    CHECK_EQ_INT(s0.test_week, 0);
    CHECK_EQ_INT(s1.n_weeks, 3);
    CHECK_EQ_INT(s0.n_weeks, 2);
    CHECK(s1.n_test_rows > 0);
    size_t len;
    char *t0 = slurp(d0, "oracle/week_2020-09-23_truth.csv", &len);
    CHECK(t0 == NULL);
    free(t0);
    /* the summary's last row is the test week, the others data weeks */
    char *sum = slurp(d1, "oracle/summary.tsv", &len);
    CHECK(sum && strstr(sum, "\tweek\n") && strstr(sum, "2020-09-16\t2020-09-22\t") &&
          strstr(sum, "2020-09-23\t2020-09-29\t"));
    if (sum) {
        const char *last = strstr(sum, "2020-09-23\t");
        CHECK(last && !strncmp(last + strlen(last) - 5, "test\n", 5));
        CHECK(strstr(sum, "\tdata\n") && strstr(sum, "\tdata\n") < last);
    }
    free(sum);
    /* the test week's buyers are customers of customers.csv, none of its purchases is in the
     * transactions (which end on the last day), and the oracle re-scores to the summary's */
    char *truth = slurp(d1, "oracle/week_2020-09-23_truth.csv", &len);
    char *orc = slurp(d1, "oracle/week_2020-09-23_oracle.csv", &len);
    char *cust = slurp(d1, "customers.csv", &len);
    char *tx = slurp(d1, "transactions_train.csv", &len);
    CHECK(truth && orc && cust && tx);
    if (truth && orc && cust && tx) {
        CHECK(!strstr(tx, "2020-09-23,"));
        const char *tl = strchr(truth, '\n') + 1, *ol = strchr(orc, '\n') + 1;
        double ap = 0;
        size_t buyers = 0;
        while (*tl && *ol) {
            CHECK(!strncmp(tl, ol, 64)); /* same customers, same order */
            char id[65];
            memcpy(id, tl, 64);
            id[64] = 0;
            CHECK(strstr(cust, id) != NULL);
            /* AP@12 of the oracle's line against the truth line */
            double hits = 0, s = 0;
            size_t nt = 0;
            for (const char *q = tl + 65; q < strchr(tl, '\n'); q += 11)
                nt++;
            int k = 0;
            for (const char *q = ol + 65; k < 12 && q < strchr(ol, '\n'); q += 11, k++) {
                char a[11];
                memcpy(a, q, 10);
                a[10] = 0;
                if (line_has_id(tl + 65, a)) {
                    hits++;
                    s += hits / (k + 1);
                }
            }
            ap += s / (double)(nt < 12 ? nt : 12);
            buyers++;
            tl = strchr(tl, '\n') + 1;
            ol = strchr(ol, '\n') + 1;
        }
        CHECK(!*tl && !*ol);
        CHECK_EQ_INT(buyers, s1.weeks[2].n_buyers);
        CHECK(buyers > 20);
        CHECK_NEAR(ap / (double)buyers, s1.weeks[2].map_oracle, 1e-9);
        CHECK(s1.weeks[2].map_oracle > 2 * s1.weeks[2].map_prev_top12);
    }
    free(truth);
    free(orc);
    free(cust);
    free(tx);
    /* --check reads the held-out files back and scores the oracle to the same figure */
    struct synth_check_report rep;
    CHECK_EQ_INT(synth_check(d1, &rep), 0);
    CHECK_EQ_INT(rep.test_buyers, s1.weeks[2].n_buyers);
    CHECK_NEAR(rep.map_test_oracle, s1.weeks[2].map_oracle, 1e-9);
    CHECK_EQ_INT(synth_check(d0, &rep), 0);
    CHECK_EQ_INT(rep.test_buyers, 0);
    char *man = slurp(d1, "manifest.txt", &len);
    CHECK(man && strstr(man, "synth.test_week = 1") && strstr(man, "test_week.first_day = 2020-09-23") &&
          strstr(man, "oracle.weeks = 2\n"));
    free(man);
    free(d1);
    free(d0);
}

static const struct synth_check_row *find_row(const struct synth_check_report *rep, const char *name)
{
    for (int i = 0; i < rep->n_rows; i++)
        if (!strcmp(rep->rows[i].name, name))
            return &rep->rows[i];
    return NULL;
}

TEST(test_stats_by_hand)
{
    /* 3 customers; the last week is 2020-09-16..22 */
    int32_t E;
    hm_date_parse("2020-09-22", 10, &E);
    int32_t day[] = {E - 200, E - 10, E - 10, E - 3, E - 3, E - 3, E - 1};
    uint32_t cust[] = {0, 1, 1, 0, 0, 1, 1};
    uint32_t art[] = {5, 6, 6, 5, 7, 6, 8};
    double price[] = {0.01, 0.02, 0.02, 0.03, 0.04, 0.02, 0.05};
    uint8_t chan[] = {2, 2, 2, 1, 1, 2, 2};
    float ages[] = {25, -1, 50};
    struct synth_txcols tx = {7, day, cust, art, price, chan, 3, 10};
    struct synth_check_report rep;
    synth_stats_compute(&tx, ages, &rep);
    CHECK(rep.n_rows > 10);
    for (int i = 0; i < rep.n_rows; i++) {
        const struct synth_check_row *r = &rep.rows[i];
        if (!strcmp(r->name, "rows per buyer (last week)"))
            CHECK_NEAR(r->measured, 2.0, 1e-12); /* 4 rows, 2 buyers */
        if (!strcmp(r->name, "repurchase share of unique pairs"))
            CHECK_NEAR(r->measured, 2.0 / 4.0, 1e-12); /* (0,5) and (1,6) of 4 pairs */
        if (!strcmp(r->name, "duplicate-row share"))
            CHECK_NEAR(r->measured, 1.0 / 7.0, 1e-12);
        if (!strcmp(r->name, "previous week's top-12 share of rows"))
            CHECK_NEAR(r->measured, 1.0 / 4.0, 1e-12); /* article 6 */
        if (!strcmp(r->name, "customers who never bought"))
            CHECK_NEAR(r->measured, 1.0 / 3.0, 1e-12);
        if (!strcmp(r->name, "age missing share"))
            CHECK_NEAR(r->measured, 1.0 / 3.0, 1e-12);
        if (!strcmp(r->name, "online channel share"))
            CHECK_NEAR(r->measured, 5.0 / 7.0, 1e-12);
    }
    /* the breadth row: 4 distinct articles for 2 buyers, not compared at this scale */
    const struct synth_check_row *br = find_row(&rep, "distinct articles / 1000 buyers (last week)");
    CHECK(br != NULL);
    if (br) {
        CHECK_NEAR(br->measured, 2000.0, 1e-9);
        CHECK_EQ_INT(br->compared, 0);
        CHECK_EQ_INT(br->pass, 0);
    }
    CHECK_EQ_INT(rep.n_not_compared, 1);
    int failed = 0;
    for (int i = 0; i < rep.n_rows; i++)
        failed += rep.rows[i].compared && !rep.rows[i].pass;
    CHECK_EQ_INT(rep.n_failed, failed);
    struct synth_baselines b;
    synth_baselines_compute(&tx, E - 6, &b);
    CHECK_EQ_INT(b.n_buyers, 2);
    /* prev week top-12 = {6}: customer 0 bought {5, 7}: AP 0; customer 1 bought {6, 8}: AP 1/2 */
    CHECK_NEAR(b.prev_top12, 0.25, 1e-12);
    /* own recent: customer 0 -> [5, 6]: hit at 1 -> 1/2; customer 1 -> [6]: 1/2 */
    CHECK_NEAR(b.own_pop, 0.5, 1e-12);
}

TEST(test_breadth_at_real_scale)
{
    /* the real set's numbers of customers and articles: the breadth row is compared. 1,000
     * buyers in the last week, buyer i buys article i % k (and one row the week before). */
    int32_t E;
    hm_date_parse("2020-09-22", 10, &E);
    enum { BUYERS = 1000 };
    int32_t day[BUYERS + 1];
    uint32_t cust[BUYERS + 1], art[BUYERS + 1];
    double price[BUYERS + 1];
    uint8_t chan[BUYERS + 1];
    const uint32_t ks[3] = {261, 150, 400}; /* pass, below, above the accepted range */
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < BUYERS; i++) {
            day[i] = E - i % 7;
            cust[i] = (uint32_t)i;
            art[i] = (uint32_t)i % ks[t];
            price[i] = 0.02;
            chan[i] = 2;
        }
        day[BUYERS] = E - 10, cust[BUYERS] = 5000, art[BUYERS] = 9000, price[BUYERS] = 0.02, chan[BUYERS] = 1;
        struct synth_txcols tx = {BUYERS + 1, day, cust, art, price, chan, SYNTH_REAL_CUSTOMERS,
                                  SYNTH_REAL_ARTICLES};
        struct synth_check_report rep;
        synth_stats_compute(&tx, NULL, &rep);
        const struct synth_check_row *br = find_row(&rep, "distinct articles / 1000 buyers (last week)");
        CHECK(br != NULL);
        if (!br)
            continue;
        CHECK_NEAR(br->measured, (double)ks[t], 1e-9);
        CHECK_EQ_INT(br->compared, 1);
        CHECK_EQ_INT(br->pass, t == 0);
        CHECK_EQ_INT(rep.n_not_compared, 0);
    }
}

/* Mean cosine of the image embeddings of article pairs with the same product type, colour
 * master and pattern, minus that of other pairs (the first 600 articles of dir). */
static double attribute_gap(const char *dir)
{
    char *npy = hm_path_join(dir, "image_embeddings.npy");
    struct io_npy a;
    double gap = -1;
    size_t len;
    char *ar = slurp(dir, "articles.csv", &len);
    if (io_npy_open(&a, npy) != 0 || !ar) {
        free(npy);
        free(ar);
        return gap;
    }
    static char f[32][600];
    static char key[600][1900];
    const char *p = ar, *end = ar + len;
    csv_fields(&p, end, f, 32);
    size_t n = 0;
    for (; n < 600 && n < a.rows && p < end; n++) {
        csv_fields(&p, end, f, 32);
        snprintf(key[n], sizeof key[n], "%s|%s|%s", f[4], f[13], f[7]); /* type, colour master, pattern */
    }
    double same = 0, other = 0;
    size_t n_same = 0, n_other = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double dot = 0;
            for (size_t k = 0; k < 512; k++)
                dot += (double)a.data[i * 512 + k] * a.data[j * 512 + k];
            if (!strcmp(key[i], key[j]))
                same += dot, n_same++;
            else
                other += dot, n_other++;
        }
    if (n_same > 10 && n_other)
        gap = same / n_same - other / n_other;
    io_npy_release(&a);
    free(ar);
    free(npy);
    return gap;
}

TEST(test_embeddings_follow_attributes)
{
    /* articles of the same product type and colour are nearer than random pairs */
    char *dir = dir_in("tiny");
    CHECK(attribute_gap(dir) > 0.3);
    free(dir);
}

/* The side-signal knobs: image_noise blurs the embeddings (nothing else changes), code_noise
 * makes product codes follow a noisy launch order (still distinct and increasing). */
TEST(test_signal_knobs)
{
    struct synth_params p;
    synth_params_init(&p);
    CHECK_EQ_INT(synth_params_preset(&p, "tiny"), 0);
    p.n_articles = 3000;
    static struct synth_taxonomy tax;
    synth_taxonomy_load(&tax);
    int inversions[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        p.code_noise = k ? 8 : 0;
        struct synth_catalogue cat;
        synth_catalogue_build(&cat, &tax, &p, 105);
        CHECK_EQ_INT(cat.n, 3000);
        for (size_t i = 1; i < cat.n_products; i++) {
            CHECK(cat.product_code[i] > cat.product_code[i - 1]);
            /* a product's first colour launches with the product */
            inversions[k] += cat.launch_week[cat.prod_first[i]] < cat.launch_week[cat.prod_first[i - 1]];
        }
        synth_catalogue_release(&cat);
    }
    CHECK_EQ_INT(inversions[0], 0);
    CHECK(inversions[1] > 100);
    char *d0 = dir_in("tiny"), *d1 = dir_in("blur");
    synth_params_init(&p);
    CHECK_EQ_INT(synth_params_preset(&p, "tiny"), 0);
    p.seed = 7; /* the tiny test's data set */
    p.image_noise = 3;
    struct synth_summary s;
    CHECK_EQ_INT(synth_generate(&p, d1, &s), 0);
    CHECK(same_file(d0, d1, "transactions_train.csv") && same_file(d0, d1, "articles.csv"));
    CHECK(!same_file(d0, d1, "image_embeddings.npy"));
    double g0 = attribute_gap(d0), g1 = attribute_gap(d1);
    fprintf(stderr, "  same attributes minus others, mean cosine: %.3f, with image_noise 3: %.3f\n", g0, g1);
    CHECK(g1 >= 0 && g1 < g0 / 2);
    free(d0);
    free(d1);
}

TEST(test_small_calibration_and_oracle)
{
    if (getenv("HMREC_SKIP_SLOW")) {
        fprintf(stderr, "  (HMREC_SKIP_SLOW set, skipped)\n");
        return;
    }
    char *dir = dir_in("small");
    struct synth_summary s;
    CHECK_EQ_INT(generate("small", 42, 0, dir, &s), 0);
    CHECK(s.n_rows > 1500000 && s.n_rows < 2600000);
    for (int k = 0; k < s.n_weeks; k++) {
        fprintf(stderr, "  week %d: MAP@12 oracle %.4f, prev-week top-12 %.4f, own + top-12 %.4f, "
                        "all-time top-12 %.4f\n", k, s.weeks[k].map_oracle, s.weeks[k].map_prev_top12,
                s.weeks[k].map_own_pop, s.weeks[k].map_alltime_top12);
        CHECK(s.weeks[k].map_oracle >= 2 * s.weeks[k].map_prev_top12);
        CHECK(s.weeks[k].map_oracle >= 1.5 * s.weeks[k].map_own_pop);
        CHECK(s.weeks[k].map_oracle >= 1.5 * s.weeks[k].map_alltime_top12);
    }
    struct synth_check_report rep;
    CHECK_EQ_INT(synth_check(dir, &rep), 0);
    for (int i = 0; i < rep.n_rows; i++)
        fprintf(stderr, "  %-44s %10s %12.5g %s\n", rep.rows[i].name, rep.rows[i].target,
                rep.rows[i].measured, !rep.rows[i].compared ? "not compared" : rep.rows[i].pass ? "pass" : "FAIL");
    CHECK_EQ_INT(rep.n_failed, 0);
    CHECK_EQ_INT(rep.n_not_compared, 1); /* the breadth: a target only at the real scale */
    CHECK(rep.map_oracle > 0);
    CHECK_EQ_INT(s.test_week, 1);
    CHECK_NEAR(rep.map_oracle, s.weeks[s.n_weeks - 2].map_oracle, 1e-9); /* the last data week */
    CHECK_EQ_INT(rep.test_buyers, s.weeks[s.n_weeks - 1].n_buyers);     /* the held-out week */
    CHECK_NEAR(rep.map_test_oracle, s.weeks[s.n_weeks - 1].map_oracle, 1e-9);
    free(dir);
}

TEST(test_images)
{
    char *dir = dir_in("img");
    struct synth_params p;
    synth_params_init(&p);
    CHECK_EQ_INT(synth_params_preset(&p, "tiny"), 0);
    p.images = 1;
    p.image_size = 48;
    p.n_articles = 80;
    p.n_customers = 60;
    struct synth_summary s;
    CHECK_EQ_INT(synth_generate(&p, dir, &s), 0);
    /* every article has a decodable 48x48 picture at images/0XX/0XXXXXXXXX.jpg */
    size_t len;
    char *ids = slurp(dir, "image_embeddings_ids.txt", &len);
    CHECK(ids && len == 80 * 11);
    for (size_t i = 0; i < 80; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "images/%.3s/%.10s.jpg", ids + i * 11, ids + i * 11);
        char *path = hm_path_join(dir, rel);
        FILE *f = fopen(path, "rb");
        free(path);
        CHECK(f != NULL);
        struct jpeg_decompress_struct ci;
        struct jpeg_error_mgr jerr;
        ci.err = jpeg_std_error(&jerr);
        jpeg_create_decompress(&ci);
        jpeg_stdio_src(&ci, f);
        CHECK(jpeg_read_header(&ci, TRUE) == JPEG_HEADER_OK);
        jpeg_start_decompress(&ci);
        int w = (int)ci.output_width, h = (int)ci.output_height, nc = ci.output_components;
        unsigned char row[48 * 3];
        JSAMPROW rp = row;
        jpeg_read_scanlines(&ci, &rp, 1);
        jpeg_abort_decompress(&ci);
        jpeg_destroy_decompress(&ci);
        fclose(f);
        CHECK_EQ_INT(w, 48);
        CHECK_EQ_INT(h, 48);
        CHECK_EQ_INT(nc, 3);
        CHECK(row[0] > 200 && row[1] > 200 && row[2] > 200); /* light background corner */
    }
    free(ids);
    free(dir);
}

/* The oracle's first-draw probabilities are the generator's: sample the generator's own
 * first-item draw many times and compare the frequencies with the oracle's M_uw(a). */
TEST(test_oracle_matches_generator)
{
    struct synth_params p;
    synth_params_init(&p);
    CHECK_EQ_INT(synth_params_preset(&p, "tiny"), 0);
    p.n_articles = 3000;
    p.n_customers = 40;
    static struct synth_taxonomy tax;
    synth_taxonomy_load(&tax);
    int32_t last;
    CHECK(hm_date_parse(p.last_day, strlen(p.last_day), &last) == 0);
    int n_weeks = 105, w = n_weeks - 1;
    struct synth_catalogue cat;
    synth_catalogue_build(&cat, &tax, &p, n_weeks);
    struct synth_weeks wk;
    synth_weeks_build(&wk, &cat, &p, last - 7 * n_weeks + 1, n_weeks, 0);
    struct synth_customers cu;
    synth_customers_build(&cu, &p);
    struct synth_model m;
    synth_model_init(&m, &p, &tax, &cat, &wk, &cu);
    struct synth_scratch s;
    synth_scratch_init(&s, cat.n);
    double *prob = hm_xcalloc(cat.n, sizeof(double));
    uint32_t *count = hm_xcalloc(cat.n, sizeof(uint32_t));
    int tested = 0;
    for (size_t c = 0; c < cu.n && tested < 3; c++) {
        struct synth_taste t;
        synth_taste_make(&m, c, &t);
        if (t.never)
            continue;
        /* a history: two trending articles of the week (exercises the novelty rule) and a
         * few from earlier weeks' trends (the repurchase pool) */
        struct synth_hist h;
        memset(&h, 0, sizeof h);
        h.in_hist = hm_xcalloc(cat.n, 1);
        h.art = hm_xmalloc_array(8, sizeof(uint32_t));
        h.week = hm_xmalloc_array(8, sizeof(int16_t));
        for (int k = 0; k < 6; k++) {
            int hw = k < 2 ? w : w - 1 - k;
            uint32_t a = wk.trend_ids[(size_t)hw * wk.trend_size + (size_t)(k + c) % 5];
            h.art[h.n] = a;
            h.week[h.n++] = (int16_t)(k < 2 ? w - 1 : hw);
            h.in_hist[a] = 1;
        }
        h.n_committed = h.n;
        synth_oracle_scores(&m, &t, &h, w, &s, 0);
        double total = 0;
        for (size_t i = 0; i < s.n_touched; i++) {
            prob[s.touched[i]] = s.score[s.touched[i]];
            total += s.score[s.touched[i]];
        }
        size_t n_cand = s.n_touched;
        uint32_t *cand = hm_xmalloc_array(n_cand, sizeof(uint32_t));
        memcpy(cand, s.touched, n_cand * sizeof(uint32_t));
        synth_scratch_clear(&s);
        CHECK(total <= 1 + 1e-9);
        struct hm_rng r;
        hm_rng_seed2(&r, 99, c);
        const int N = 400000;
        for (int i = 0; i < N; i++)
            count[synth_draw_first(&m, &t, &h, w, &r)]++;
        int checked = 0;
        for (size_t i = 0; i < n_cand; i++) {
            uint32_t a = cand[i];
            double pa = prob[a], f = (double)count[a] / N;
            if (pa > 0.002) {
                double tol = 5 * sqrt(pa * (1 - pa) / N) + 1e-4;
                if (fabs(f - pa) > tol)
                    fprintf(stderr, "  customer %zu article %u: oracle %.5f, generator %.5f\n", c, a, pa, f);
                CHECK(fabs(f - pa) <= tol);
                checked++;
            }
        }
        fprintf(stderr, "  customer %zu: %d articles compared (candidates %zu, mass %.3f)\n", c, checked, n_cand, total);
        CHECK(checked >= 5);
        for (size_t i = 0; i < n_cand; i++)
            prob[cand[i]] = 0;
        memset(count, 0, cat.n * sizeof(uint32_t));
        free(cand);
        free(h.in_hist);
        free(h.art);
        free(h.week);
        tested++;
    }
    CHECK_EQ_INT(tested, 3);
    free(prob);
    free(count);
    synth_scratch_release(&s);
    synth_model_release(&m);
    synth_customers_release(&cu);
    synth_weeks_release(&wk);
    synth_catalogue_release(&cat);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/hmrec_test_synth_XXXXXX");
    if (!mkdtemp(root))
        return 1;
    RUN(test_tiny_formats);
    RUN(test_determinism);
    RUN(test_held_out_week);
    RUN(test_stats_by_hand);
    RUN(test_breadth_at_real_scale);
    RUN(test_embeddings_follow_attributes);
    RUN(test_signal_knobs);
    RUN(test_images);
    RUN(test_oracle_matches_generator);
    RUN(test_small_calibration_and_oracle);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        return 1;
    TEST_EXIT();
}
