/* data: ingest of generated CSV files, the dataset API's invariants against a reference
 * computed here, determinism over threads and segment sizes, export round trip, missing
 * references, bad rows, damaged stores. */
#include "data/data.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char tmpdir[256];

/* ---- a small generated data set ------------------------------------------------------------ */

#define NC 300
#define NA 120
#define NT 6000

struct ref_tx {
    int day, cust, art, channel;
    char price[40];
    int order;
};
static struct ref_tx ref[NT + 8];
static int n_ref;
static char cust_hex[NC][65];
static uint32_t art_id[NA];

static char *path2(const char *dir, const char *name) { return hm_path_join(dir, name); }

/* Writes the three files into dir; extra_tx is appended to the transactions. */
static void make_data(const char *dir, const char *extra_tx)
{
    hm_mkdirs(dir);
    struct hm_rng r;
    hm_rng_seed(&r, 99);
    char *p = path2(dir, "articles.csv");
    FILE *f = fopen(p, "wb");
    free(p);
    /* columns in a different order than Kaggle's, to test lookup by name */
    fprintf(f, "detail_desc");
    for (int k = 0; k < IO_ART_NCOLS - 1; k++)
        fprintf(f, ",%s", io_art_col_name[k]);
    fprintf(f, "\n");
    for (int i = 0; i < NA; i++) {
        art_id[i] = (uint32_t)(108775000 + i * 13 + (i % 3));
        if (i % 7 == 0)
            fprintf(f, "\"Soft \"\"jersey\"\",\nwith a line break\"");
        else if (i % 5)
            fprintf(f, "Text %d", i % 4);
        /* article id: with and without the leading zero */
        fprintf(f, i % 2 ? ",0%u" : ",%u", art_id[i]);
        for (int k = 1; k < IO_ART_NCOLS - 1; k++) {
            if (io_art_col_kind[k] == IO_KIND_INT)
                fprintf(f, ",%s%d", i % 4 == 0 && i % 9 ? "0" : "", (int)(i % 9) - 1);
            else
                fprintf(f, ",%s%d%s", k == IO_ART_SECTION_NAME ? "\"A, " : "N", (i * k) % 11,
                        k == IO_ART_SECTION_NAME ? "\"" : "");
        }
        fprintf(f, "\n");
    }
    fclose(f);

    p = path2(dir, "customers.csv");
    f = fopen(p, "wb");
    free(p);
    fprintf(f, "customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code\r\n");
    for (int i = 0; i < NC; i++) {
        for (int k = 0; k < 64; k++)
            cust_hex[i][k] = "0123456789abcdef"[hm_rng_below(&r, 16)];
        cust_hex[i][64] = '\0';
        fprintf(f, "%s,%s,%s,%s,%s,%s,p%d\r\n", cust_hex[i], i % 3 ? "" : "1.0",
                i % 4 ? "" : "1.0", i % 5 ? "ACTIVE" : "", i % 2 ? "NONE" : "Regularly",
                i % 9 ? (i % 2 ? "23.0" : "51") : "", i % 17);
    }
    fclose(f);

    p = path2(dir, "transactions_train.csv");
    f = fopen(p, "wb");
    free(p);
    fprintf(f, "price,t_dat,sales_channel_id,article_id,customer_id\n"); /* reordered */
    n_ref = 0;
    for (int i = 0; i < NT; i++) {
        struct ref_tx *t = &ref[n_ref];
        if (i > 0 && hm_rng_below(&r, 10) == 0) {
            *t = ref[n_ref - 1]; /* exact duplicate rows: quantities */
        } else {
            t->day = 17794 + (int)hm_rng_below(&r, 40);
            t->cust = (int)hm_rng_below(&r, NC);
            t->art = (int)hm_rng_below(&r, NA);
            t->channel = 1 + (int)hm_rng_below(&r, 2);
            snprintf(t->price, sizeof t->price, "%.17g", (double)(1 + hm_rng_below(&r, 3000)) / 59000.0);
        }
        t->order = n_ref++;
        char date[11];
        hm_date_format(t->day, date);
        fprintf(f, "%s,%s,%d,%010u,%s\n", t->price, date, t->channel, art_id[t->art],
                cust_hex[t->cust]);
    }
    if (extra_tx)
        fputs(extra_tx, f);
    fclose(f);
}

static int ref_cmp(const void *a, const void *b)
{
    const struct ref_tx *x = a, *y = b;
    if (x->cust != y->cust)
        return x->cust < y->cust ? -1 : 1;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int ingest(const char *data, const char *store, int threads, size_t seg, int bad, int refs)
{
    struct data_ingest_opts o = {data, store, bad, refs, threads, seg, NULL};
    struct data_ingest_report r;
    return data_ingest(&o, &r);
}

static int same_file(const char *a, const char *b)
{
    char *x, *y;
    size_t nx, ny;
    if (hm_read_file(a, &x, &nx))
        return 0;
    if (hm_read_file(b, &y, &ny)) {
        free(x);
        return 0;
    }
    int same = nx == ny && !memcmp(x, y, nx);
    free(x);
    free(y);
    return same;
}

static int same_store(const char *a, const char *b)
{
    const char *names[3] = {DATA_STORE_ARTICLES, DATA_STORE_CUSTOMERS, DATA_STORE_TRANSACTIONS};
    int same = 1;
    for (int i = 0; i < 3; i++) {
        char *pa = path2(a, names[i]), *pb = path2(b, names[i]);
        if (!same_file(pa, pb)) {
            fprintf(stderr, "  %s differs\n", names[i]);
            same = 0;
        }
        free(pa);
        free(pb);
    }
    return same;
}

static char data_dir[300], store_dir[300];

TEST(test_ingest_matches_reference)
{
    make_data(data_dir, NULL);
    if (ingest(data_dir, store_dir, 1, 0, 0, 0))
        fprintf(stderr, "  %s\n", hm_last_error());
    struct data_set ds;
    CHECK(data_set_open(&ds, store_dir, 0) == 0);
    CHECK_EQ_INT(ds.customers.n, NC);
    CHECK_EQ_INT(ds.articles.n, NA);
    CHECK_EQ_INT(ds.tx.n, n_ref);
    static struct ref_tx sorted[NT + 8];
    memcpy(sorted, ref, sizeof(struct ref_tx) * (size_t)n_ref);
    qsort(sorted, (size_t)n_ref, sizeof *sorted, ref_cmp);
    for (int i = 0; i < n_ref; i++) {
        const struct ref_tx *t = &sorted[i];
        CHECK_EQ_INT(ds.tx.customer[i], t->cust);
        CHECK_EQ_INT(ds.tx.day[i], t->day);
        CHECK_EQ_INT(ds.tx.article[i], t->art);
        CHECK_EQ_INT(ds.tx.channel[i], t->channel);
        CHECK(ds.tx.price[i] == strtof(t->price, NULL));
    }
    /* CSR by customer */
    for (uint32_t c = 0; c < ds.customers.n; c++)
        for (uint64_t i = ds.tx.cust_off[c]; i < ds.tx.cust_off[c + 1]; i++)
            CHECK_EQ_INT(ds.tx.customer[i], c);
    /* article index: every row once, grouped by article, ascending */
    uint64_t seen = 0;
    for (uint32_t a = 0; a < ds.articles.n; a++)
        for (uint64_t k = ds.tx.art_off[a]; k < ds.tx.art_off[a + 1]; k++) {
            uint32_t row = ds.tx.art_rows[k];
            CHECK_EQ_INT(ds.tx.article[row], a);
            if (k > ds.tx.art_off[a])
                CHECK(row > ds.tx.art_rows[k - 1]);
            seen++;
        }
    CHECK_EQ_INT(seen, ds.tx.n);
    /* ids and attributes */
    char hex[65], art[11];
    for (uint32_t c = 0; c < NC; c++) {
        data_customer_hex(&ds, c, hex);
        CHECK_STR(hex, cust_hex[c]);
        CHECK_EQ_INT(ds.customers.fn[c], c % 3 ? IO_MISSING_U8 : 1);
        CHECK_EQ_INT(ds.customers.active[c], c % 4 ? IO_MISSING_U8 : 1);
        if (c % 9)
            CHECK(ds.customers.age[c] == (c % 2 ? 23.0f : 51.0f));
        else
            CHECK(isnan(ds.customers.age[c]));
        uint32_t len;
        const char *s = data_dict_get(&ds.customers.club_dict, ds.customers.club[c], &len);
        CHECK(c % 5 ? (len == 6 && !memcmp(s, "ACTIVE", 6)) : len == 0);
    }
    for (uint32_t a = 0; a < NA; a++) {
        data_article_str(&ds, a, art);
        char want[11];
        snprintf(want, sizeof want, "%010u", art_id[a]);
        CHECK_STR(art, want);
        CHECK_EQ_INT(ds.articles.num[IO_ART_PRODUCT_TYPE_NO][a], (int)(a % 9) - 1);
        uint32_t len;
        const char *s = data_dict_get(&ds.articles.dict[IO_ART_DETAIL_DESC],
                                    ds.articles.code[IO_ART_DETAIL_DESC][a], &len);
        if (a % 7 == 0)
            CHECK(len == 32 && !memcmp(s, "Soft \"jersey\",\nwith a line break", 32));
        else if (a % 5 == 0)
            CHECK(len == 0);
        s = data_dict_get(&ds.articles.dict[IO_ART_SECTION_NAME],
                        ds.articles.code[IO_ART_SECTION_NAME][a], &len);
        CHECK(len >= 4 && !memcmp(s, "A, ", 3));
    }
    CHECK(ds.tx.day_min >= 17794 && ds.tx.day_max < 17794 + 40);
    struct data_id_index ix;
    data_id_index_init(&ix, &ds);
    CHECK_EQ_INT(data_id_index_customer(&ix, cust_hex[17], 64), 17);
    CHECK_EQ_INT(data_id_index_customer(&ix, "zz", 2), UINT32_MAX);
    CHECK_EQ_INT(data_id_index_article(&ix, art_id[5]), 5);
    CHECK_EQ_INT(data_id_index_article(&ix, 1), UINT32_MAX);
    data_id_index_release(&ix);
    data_set_release(&ds);
}

TEST(test_ingest_deterministic_over_threads)
{
    char other[400];
    snprintf(other, sizeof other, "%s/store_t", tmpdir);
    const int threads[] = {2, 3, 4};
    const size_t segs[] = {64, 1000, 0};
    for (int i = 0; i < 3; i++) {
        CHECK(ingest(data_dir, other, threads[i], segs[i], 0, 0) == 0);
        CHECK(same_store(store_dir, other));
    }
}

TEST(test_export_roundtrip)
{
    char out[400], again[400];
    snprintf(out, sizeof out, "%s/export", tmpdir);
    snprintf(again, sizeof again, "%s/store_again", tmpdir);
    struct data_set ds;
    CHECK(data_set_open(&ds, store_dir, 0) == 0);
    CHECK(data_set_export(&ds, out) == 0);
    data_set_release(&ds);
    CHECK(ingest(out, again, 2, 100, 0, 0) == 0);
    CHECK(same_store(store_dir, again));
    /* the export of the re-ingested store is the same text */
    char out2[400];
    snprintf(out2, sizeof out2, "%s/export2", tmpdir);
    CHECK(data_set_open(&ds, again, 0) == 0);
    CHECK(data_set_export(&ds, out2) == 0);
    data_set_release(&ds);
    char *a = path2(out, "transactions_train.csv"), *b = path2(out2, "transactions_train.csv");
    CHECK(same_file(a, b));
    free(a);
    free(b);
}

TEST(test_missing_refs)
{
    char dir[400], st[400];
    snprintf(dir, sizeof dir, "%s/refs", tmpdir);
    snprintf(st, sizeof st, "%s/store_refs", tmpdir);
    char extra[600];
    snprintf(extra, sizeof extra,
             "0.01,2018-10-01,1,0999999999,%s\n"
             "0.02,2018-10-02,2,%010u,ffff000000000000000000000000000000000000000000000000000000000000\n"
             "0.03,2018-10-03,2,0999999999,ffff000000000000000000000000000000000000000000000000000000000000\n",
             cust_hex[0], art_id[0]);
    make_data(dir, extra);
    CHECK(ingest(dir, st, 2, 0, 0, IO_REFS_FAIL) == HM_ENOTFOUND);
    const char *e = hm_last_error();
    CHECK(strstr(e, "transactions_train.csv:") != NULL);
    CHECK(strstr(e, "expected an article_id listed in articles.csv, found \"0999999999\"") != NULL);
    CHECK(strstr(e, "(2 rows name 1 customers missing from customers.csv, 2 rows name 1 articles "
                    "missing from articles.csv; see --missing-refs)") != NULL);
    CHECK(ingest(dir, st, 2, 0, 0, IO_REFS_DROP) == 0);
    struct data_set ds;
    CHECK(data_set_open(&ds, st, 0) == 0);
    CHECK_EQ_INT(ds.tx.n, n_ref);
    CHECK_EQ_INT(ds.customers.n_placeholder, 0);
    data_set_release(&ds);
    CHECK(ingest(dir, st, 3, 128, 0, IO_REFS_KEEP) == 0);
    CHECK(data_set_open(&ds, st, 0) == 0);
    CHECK_EQ_INT(ds.tx.n, n_ref + 3);
    CHECK_EQ_INT(ds.customers.n, NC + 1);
    CHECK_EQ_INT(ds.customers.n_placeholder, 1);
    CHECK_EQ_INT(ds.articles.n, NA + 1);
    CHECK_EQ_INT(ds.articles.n_placeholder, 1);
    CHECK_EQ_INT(ds.articles.article_id[NA], 999999999);
    CHECK_EQ_INT(ds.articles.num[IO_ART_PRODUCT_CODE][NA], IO_MISSING_I32);
    char hex[65];
    data_customer_hex(&ds, NC, hex);
    CHECK(!strncmp(hex, "ffff0000", 8));
    CHECK_EQ_INT(ds.tx.cust_off[NC + 1] - ds.tx.cust_off[NC], 2);
    CHECK(isnan(ds.customers.age[NC]));
    data_set_release(&ds);
}

TEST(test_bad_rows_skip)
{
    char dir[400], st[400];
    snprintf(dir, sizeof dir, "%s/bad", tmpdir);
    snprintf(st, sizeof st, "%s/store_bad", tmpdir);
    char extra[800];
    snprintf(extra, sizeof extra,
             "abc,2018-10-01,1,%010u,%s\n"
             "0.1,2018-13-01,1,%010u,%s\n"
             "0.1,2018-10-01,3,%010u,%s\n"
             "0.1,2018-10-01,1\n",
             art_id[0], cust_hex[0], art_id[0], cust_hex[0], art_id[0], cust_hex[0]);
    make_data(dir, extra);
    CHECK(ingest(dir, st, 2, 0, IO_BAD_FAIL, 0) == HM_EPARSE);
    char want[600];
    snprintf(want, sizeof want, "%s/transactions_train.csv:%d:1: expected price as a non-negative "
             "decimal number, found \"abc\"", dir, NT + 2);
    CHECK_STR(hm_last_error(), want);
    struct data_ingest_opts o = {dir, st, IO_BAD_SKIP, 0, 2, 0, NULL};
    struct data_ingest_report r;
    CHECK(data_ingest(&o, &r) == 0);
    CHECK_EQ_INT(r.transactions.bad_total, 4);
    CHECK_EQ_INT(r.transactions.bad[0], 1);
    CHECK_EQ_INT(r.transactions.bad[1 + IO_TX_PRICE], 1);
    CHECK_EQ_INT(r.transactions.bad[1 + IO_TX_DAY], 1);
    CHECK_EQ_INT(r.transactions.bad[1 + IO_TX_CHANNEL], 1);
    CHECK_EQ_INT(r.transactions.rows, n_ref);
    char *s = io_read_stats_bad_summary(&r.transactions, io_tx_col_name, IO_TX_NCOLS);
    CHECK_STR(s, "1 wrong field count, 1 bad t_dat, 1 bad price, 1 bad sales_channel_id");
    free(s);
}

TEST(test_damaged_store)
{
    char st[400];
    snprintf(st, sizeof st, "%s/store_damaged", tmpdir);
    CHECK(ingest(data_dir, st, 1, 0, 0, 0) == 0);
    char *p = path2(st, DATA_STORE_TRANSACTIONS);
    char *data;
    size_t len;
    CHECK(hm_read_file(p, &data, &len) == 0);
    data[len / 2] ^= 1;
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    struct data_set ds;
    CHECK(data_set_open(&ds, st, 0) == HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "checksum mismatch") != NULL);
    CHECK(strstr(hm_last_error(), "could not open store") != NULL);
    f = fopen(p, "wb");
    fwrite(data, 1, len / 3, f);
    fclose(f);
    CHECK(data_set_open(&ds, st, 0) == HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "truncated") != NULL);
    free(data);
    /* transactions of another store do not belong */
    char *src = path2(store_dir, DATA_STORE_TRANSACTIONS);
    char other[400];
    snprintf(other, sizeof other, "%s/store_refs", tmpdir); /* written with placeholders */
    char *q = path2(other, DATA_STORE_TRANSACTIONS);
    CHECK(hm_read_file(q, &data, &len) == 0);
    f = fopen(p, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    free(data);
    CHECK(data_set_open(&ds, st, 0) == HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "does not belong with the other store files") != NULL);
    unlink(p);
    CHECK(data_set_open(&ds, st, 0) == HM_EIO);
    free(p);
    free(q);
    free(src);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hm_test_data.%d", (int)getpid());
    snprintf(data_dir, sizeof data_dir, "%s/data", tmpdir);
    snprintf(store_dir, sizeof store_dir, "%s/store", tmpdir);
    RUN(test_ingest_matches_reference);
    RUN(test_ingest_deterministic_over_threads);
    RUN(test_export_roundtrip);
    RUN(test_missing_refs);
    RUN(test_bad_rows_skip);
    RUN(test_damaged_store);
    if (!test_failures) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    TEST_EXIT();
}
