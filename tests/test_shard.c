/* Sharded ingest: `hmrec ingest` under mpirun on 2 and 3 ranks (loopback, bounded in time)
 * against the one-process store of the same files. Every shard must hold exactly its
 * customers' rows, in the whole store's order, and its article side exactly the whole store's
 * rows of its articles, in the article-side index's order; errors are the one-process run's. */
#include "comm/comm.h"
#include "data/data.h"
#include "mpirun.h"
#include "test.h"

#include <unistd.h>

static const char *bin;
static char tmp[512];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}


/* Every shard of store (n of them) against the whole store. */
static void check_shards(const char *whole, const char *store, int n)
{
    struct data_set w;
    CHECK(data_set_open(&w, whole, 0) == 0);
    CHECK_EQ_INT(w.n_shards, 1);
    const struct data_transactions *wt = &w.tx;
    uint64_t rows = 0;
    uint32_t next_a0 = 0;
    for (int k = 0; k < n; k++) {
        char *dir = data_shard_dir(store, k, n);
        struct data_set s;
        int rc = data_set_open(&s, dir, 0);
        free(dir);
        if (rc)
            fprintf(stderr, "%s\n", hm_last_error());
        CHECK(rc == 0);
        CHECK_EQ_INT(s.shard, k);
        CHECK_EQ_INT(s.n_shards, n);
        CHECK_EQ_INT(s.customers.n, w.customers.n);
        CHECK_EQ_INT(s.articles.n, w.articles.n);
        CHECK_EQ_INT(s.tx.n_all, wt->n);
        CHECK_EQ_INT(s.tx.day_min, wt->day_min);
        CHECK_EQ_INT(s.tx.day_max, wt->day_max);
        rows += s.tx.n;
        for (uint32_t c = 0; c < w.customers.n; c++) {
            uint64_t wb = wt->cust_off[c], we = wt->cust_off[c + 1];
            uint64_t sb = s.tx.cust_off[c], se = s.tx.cust_off[c + 1];
            if (comm_customer_owner(w.customers.id[c], n) != k) {
                CHECK_EQ_INT(se - sb, 0);
                continue;
            }
            CHECK_EQ_INT(se - sb, we - wb);
            for (uint64_t i = 0; i < we - wb; i++) {
                CHECK_EQ_INT(s.tx.customer[sb + i], c);
                CHECK_EQ_INT(s.tx.day[sb + i], wt->day[wb + i]);
                CHECK_EQ_INT(s.tx.article[sb + i], wt->article[wb + i]);
                CHECK(s.tx.price[sb + i] == wt->price[wb + i]);
                CHECK_EQ_INT(s.tx.channel[sb + i], wt->channel[wb + i]);
            }
        }
        /* the article side: the ranges follow each other; each article's rows as the whole
         * store's article-side index lists them */
        const struct data_transactions *at = &s.art.tx;
        CHECK_EQ_INT(s.art.a0, next_a0);
        next_a0 = s.art.a1;
        for (uint32_t a = 0; a < w.articles.n; a++) {
            uint64_t sb = at->art_off[a], se = at->art_off[a + 1];
            if (a < s.art.a0 || a >= s.art.a1) {
                CHECK_EQ_INT(se - sb, 0);
                continue;
            }
            uint64_t wb = wt->art_off[a], we = wt->art_off[a + 1];
            CHECK_EQ_INT(se - sb, we - wb);
            for (uint64_t i = 0; i < we - wb; i++) {
                uint32_t r = wt->art_rows[wb + i], q = at->art_rows[sb + i];
                CHECK_EQ_INT(at->customer[q], wt->customer[r]);
                CHECK_EQ_INT(at->day[q], wt->day[r]);
                CHECK(at->price[q] == wt->price[r]);
                CHECK_EQ_INT(at->channel[q], wt->channel[r]);
            }
        }
        data_set_release(&s);
    }
    CHECK_EQ_INT(next_a0, w.articles.n);
    CHECK_EQ_INT(rows, wt->n);
    data_set_release(&w);
}

TEST(test_shards_of_tiny)
{
    CHECK(sh("%s synth --preset tiny %s/tiny >/dev/null 2>&1", bin, tmp) == 0);
    CHECK(sh("%s ingest --data %s/tiny --out %s/tiny/whole >/dev/null 2>&1", bin, tmp, tmp) == 0);
    for (int n = 2; n <= 3; n++) {
        CHECK(sh("%s %d %s ingest --data %s/tiny --out %s/tiny/sharded >%s/out.txt 2>&1", test_mpirun(300), n, bin,
                 tmp, tmp, tmp) == 0);
        char whole[600], store[600];
        snprintf(whole, sizeof whole, "%s/tiny/whole", tmp);
        snprintf(store, sizeof store, "%s/tiny/sharded", tmp);
        check_shards(whole, store, n);
    }
}

/* A file whose cut points fall inside quoted fields that hold line breaks (bad rows, skipped)
 * and that has blank lines: the parts are found again, and every shard still matches. */
TEST(test_shards_quoted_cuts)
{
    char d[600], path[700];
    snprintf(d, sizeof d, "%s/quoted", tmp);
    CHECK(sh("%s synth --preset tiny %s >/dev/null 2>&1", bin, d) == 0);
    /* after every 7th row, a row whose quoted customer id spreads over 400 lines */
    snprintf(path, sizeof path, "%s/transactions_train.csv", d);
    CHECK(sh("awk 'NR > 1 && NR %% 7 == 0 { printf \"2020-01-01,\\\"x\"; for (i = 0; i < 400; i++) printf \"\\n\"; "
             "print \"\\\",0108775015,0.01,1\"; print \"\" } { print }' %s > %s.new && mv %s.new %s",
             path, path, path, path) == 0);
    CHECK(sh("%s ingest --data %s --out %s/whole --bad-rows skip >/dev/null 2>&1", bin, d, d) == 0);
    for (int n = 2; n <= 5; n += 1 + (n == 3)) {
        CHECK(sh("%s %d -x HMREC_DEBUG=1 %s ingest --data %s --out %s/sharded --bad-rows skip >%s/out.txt 2>&1",
                 test_mpirun(300), n, bin, d, d, tmp) == 0);
        if (n == 5) /* these files' cuts: two parts start inside a quoted field and are read again */
            CHECK(sh("grep -c 'starts at .* (a quoted line break)' %s/out.txt | grep -qx 2", tmp) == 0);
        char whole[700], store[700];
        snprintf(whole, sizeof whole, "%s/whole", d);
        snprintf(store, sizeof store, "%s/sharded", d);
        check_shards(whole, store, n);
    }
}

/* The first bad row in file order is the error, whichever rank read it; the job fails. */
TEST(test_shards_error)
{
    char d[600], path[700];
    snprintf(d, sizeof d, "%s/bad", tmp);
    CHECK(sh("%s synth --preset tiny %s >/dev/null 2>&1", bin, d) == 0);
    snprintf(path, sizeof path, "%s/transactions_train.csv", d);
    /* two bad rows: in the last third, and in the second half */
    CHECK(sh("n=$(wc -l < %s); awk -v a=$((n * 5 / 6)) -v b=$((n * 3 / 5)) "
             "'NR == a { $0 = \"2020-13-01\" substr($0, 11) } NR == b { $0 = \"2020-02-30\" substr($0, 11) } { print }' "
             "%s > %s.new && mv %s.new %s",
             path, path, path, path, path) == 0);
    char want[4096];
    CHECK(sh("%s ingest --data %s --out %s/whole > %s/one.txt 2>&1", bin, d, d, tmp) == 1);
    CHECK(sh("grep -o 'transactions_train.csv:[0-9]*:[0-9]*: expected t_dat as a date YYYY-MM-DD, found \"2020-02-30\"' "
             "%s/one.txt > %s/want.txt",
             tmp, tmp) == 0);
    FILE *f;
    snprintf(want, sizeof want, "%s/want.txt", tmp);
    CHECK((f = fopen(want, "r")) != NULL);
    char line[1024] = "";
    CHECK(fgets(line, sizeof line, f) != NULL);
    fclose(f);
    line[strcspn(line, "\n")] = 0;
    for (int n = 2; n <= 3; n++) {
        CHECK(sh("%s %d %s ingest --data %s --out %s/sharded > %s/many.txt 2>&1", test_mpirun(300), n, bin, d, d,
                 tmp) != 0);
        CHECK(sh("grep -qF '%s' %s/many.txt", line, tmp) == 0);
    }
}

int main(void)
{
    bin = getenv("HMREC_BIN");
    if (!bin) {
        fprintf(stderr, "HMREC_BIN is not set (run through ctest)\n");
        return 1;
    }
    snprintf(tmp, sizeof tmp, "/tmp/hmrec_test_shard.%d", (int)getpid());
    sh("rm -rf %s && mkdir -p %s", tmp, tmp);
    RUN(test_shards_of_tiny);
    RUN(test_shards_quoted_cuts);
    RUN(test_shards_error);
    if (!test_failures)
        sh("rm -rf %s", tmp);
    TEST_EXIT();
}
