/* Tests for core: errors, dates, hashing, rng, parallel loops, atomic writes, top-k selection. */
#include "core/core.h"
#include "test.h"

#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(test_error_messages)
{
    CHECK_EQ_INT(hm_error(HM_EIO, "could not open '%s'", "x.csv"), HM_EIO);
    CHECK_STR(hm_last_error(), "could not open 'x.csv'");
    hm_error_wrap(HM_EIO, "ingest");
    CHECK_STR(hm_last_error(), "ingest: could not open 'x.csv'");
}

TEST(test_dates)
{
    int32_t d;
    CHECK_EQ_INT(hm_date_parse("1970-01-01", 10, &d), 0);
    CHECK_EQ_INT(d, 0);
    CHECK_EQ_INT(hm_date_parse("2018-09-20", 10, &d), 0);
    CHECK_EQ_INT(d, 17794);
    char buf[11];
    hm_date_format(d, buf);
    CHECK_STR(buf, "2018-09-20");
    CHECK_EQ_INT(hm_date_weekday(d), 3); /* a Thursday */
    CHECK_EQ_INT(hm_date_parse("2020-02-29", 10, &d), 0);
    CHECK(hm_date_parse("2019-02-29", 10, &d) != 0);
    CHECK(hm_date_parse("2020-13-01", 10, &d) != 0);
    CHECK(hm_date_parse("2020-1-01", 9, &d) != 0);
    CHECK(hm_date_parse("2020/01/01", 10, &d) != 0);
    /* every day of 1970..2150 round-trips */
    for (int32_t day = 0; day < 65535; day += 1) {
        int32_t back;
        hm_date_format(day, buf);
        CHECK_EQ_INT(hm_date_parse(buf, 10, &back), 0);
        CHECK_EQ_INT(back, day);
    }
}

TEST(test_hash)
{
    const char *s = "the quick brown fox jumps over the lazy dog, twice over";
    uint64_t h = hm_hash64(s, strlen(s), 0);
    CHECK(h == hm_hash64(s, strlen(s), 0));
    CHECK(h != hm_hash64(s, strlen(s), 1));
    CHECK(h != hm_hash64(s, strlen(s) - 1, 0));
    char t[64];
    memcpy(t, s, 56);
    t[40] ^= 1;
    CHECK(h != hm_hash64(t, strlen(s), 0));
}

TEST(test_rng)
{
    struct hm_rng a, b;
    hm_rng_seed(&a, 42);
    hm_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        CHECK(hm_rng_u64(&a) == hm_rng_u64(&b));
    double sum = 0, sum2 = 0, g = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double x = hm_rng_normal(&a);
        sum += x;
        sum2 += x * x;
        g += hm_rng_gamma(&a, 0.5);
        CHECK(hm_rng_below(&a, 7) < 7);
    }
    CHECK_NEAR(sum / n, 0.0, 0.01);
    CHECK_NEAR(sum2 / n, 1.0, 0.02);
    CHECK_NEAR(g / n, 0.5, 0.01);
}

static int sum_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    uint64_t *out = ud;
    for (size_t i = begin; i < end; i++)
        out[i] = i * i;
    return 0;
}

static int fail_at_seven(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    (void)ud;
    return begin <= 7 && 7 < end ? -5 : 0;
}

TEST(test_parallel)
{
    uint64_t out[1000] = {0};
    CHECK_EQ_INT(hm_parallel_for(3, 1000, sum_range, out), 0);
    for (int i = 0; i < 1000; i++)
        CHECK(out[i] == (uint64_t)i * i);
    memset(out, 0, sizeof out);
    CHECK_EQ_INT(hm_parallel_chunks(4, 1000, 7, sum_range, out), 0);
    for (int i = 0; i < 1000; i++)
        CHECK(out[i] == (uint64_t)i * i);
    CHECK_EQ_INT(hm_parallel_chunks(2, 100, 3, fail_at_seven, NULL), -5);
    CHECK_EQ_INT(hm_parallel_for(2, 0, fail_at_seven, NULL), 0);
}

TEST(test_atomic_writer)
{
    char path[] = "/tmp/hm_test_core_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    write(fd, "old", 3);
    close(fd);
    struct hm_awriter w;
    CHECK_EQ_INT(hm_awriter_open(&w, path), 0);
    hm_awriter_write(&w, "new contents", 12);
    hm_awriter_abort(&w);
    char *buf;
    size_t len;
    CHECK_EQ_INT(hm_read_file(path, &buf, &len), 0);
    CHECK_STR(buf, "old"); /* an aborted write leaves the old file */
    free(buf);
    CHECK_EQ_INT(hm_awriter_open(&w, path), 0);
    hm_awriter_write(&w, "new contents", 12);
    CHECK_EQ_INT(hm_awriter_commit(&w), 0);
    CHECK_EQ_INT(hm_read_file(path, &buf, &len), 0);
    CHECK_STR(buf, "new contents");
    free(buf);
    unlink(path);
    CHECK(hm_awriter_open(&w, "/nonexistent-dir/x") == HM_EIO);
    CHECK(strstr(hm_last_error(), "/nonexistent-dir/x") != NULL);
}

struct demo_settings {
    long weeks, users;
    double share;
    char name[HM_SETTING_STRLEN];
};

static const struct hm_setting demo_table[] = {
    {"prepare.weeks", HM_SET_INT, offsetof(struct demo_settings, weeks), "11", 1, 100, 0, "weeks"},
    {"prepare.users", HM_SET_INT, offsetof(struct demo_settings, users), "50000", 1, 1e9, 1, "users"},
    {"prepare.share", HM_SET_DOUBLE, offsetof(struct demo_settings, share), "0.15", 0, 1, 0, "share"},
    {"run.name", HM_SET_STRING, offsetof(struct demo_settings, name), "demo", 0, 0, 0, "name"},
};
#define N_DEMO (sizeof demo_table / sizeof demo_table[0])

TEST(test_settings)
{
    struct demo_settings d;
    hm_settings_defaults(demo_table, N_DEMO, &d);
    CHECK_EQ_INT(d.weeks, 11);
    CHECK_STR(d.name, "demo");
    char path[] = "/tmp/hm_test_conf_XXXXXX";
    int fd = mkstemp(path);
    const char *conf = "# a comment\n[prepare]\nweeks = 3  # trailing\nusers = all\n\n[run]\nname = x y\n";
    write(fd, conf, strlen(conf));
    close(fd);
    CHECK_EQ_INT(hm_settings_parse_file(demo_table, N_DEMO, &d, path), 0);
    CHECK_EQ_INT(d.weeks, 3);
    CHECK_EQ_INT(d.users, -1);
    CHECK_STR(d.name, "x y");
    CHECK_EQ_INT(hm_settings_override(demo_table, N_DEMO, &d, "prepare.share=0.25"), 0);
    char *text = hm_settings_format(demo_table, N_DEMO, &d, "prepare.");
    CHECK_STR(text, "prepare.weeks = 3\nprepare.users = all\nprepare.share = 0.25\n");
    free(text);
    CHECK_EQ_INT(hm_settings_override(demo_table, N_DEMO, &d, "prepare.weeks=0"), HM_EINVAL);
    CHECK_STR(hm_last_error(), "--set: prepare.weeks: expected a value in [1, 100], found 0");
    CHECK_EQ_INT(hm_settings_override(demo_table, N_DEMO, &d, "prepare.nope=1"), HM_ENOTFOUND);
    fd = open(path, O_WRONLY | O_TRUNC);
    conf = "[prepare]\nweeks = 3\nshare = lots\n";
    write(fd, conf, strlen(conf));
    close(fd);
    CHECK_EQ_INT(hm_settings_parse_file(demo_table, N_DEMO, &d, path), HM_EINVAL);
    char want[256];
    snprintf(want, sizeof want, "%s:3: prepare.share: expected a number, found \"lots\"", path);
    CHECK_STR(hm_last_error(), want);
    /* a key given twice in one file is a mistake (which one was meant?), with both lines */
    fd = open(path, O_WRONLY | O_TRUNC);
    conf = "[prepare]\nweeks = 3\nusers = 10\n[run]\nname = a\n[prepare]\nweeks = 4\n";
    write(fd, conf, strlen(conf));
    close(fd);
    CHECK_EQ_INT(hm_settings_parse_file(demo_table, N_DEMO, &d, path), HM_EINVAL);
    snprintf(want, sizeof want, "%s:7: prepare.weeks is given twice in this file (first on line 2): keep one", path);
    CHECK_STR(hm_last_error(), want);
    /* integer ranges print as integers */
    CHECK_EQ_INT(hm_settings_override(demo_table, N_DEMO, &d, "prepare.users=0"), HM_EINVAL);
    CHECK_STR(hm_last_error(), "--set: prepare.users: expected a value in [1, 1000000000], found 0");
    unlink(path);
}

TEST(test_lines_and_fields)
{
    char text[] = "a\tb\tc\n\n# x\nlast";
    char *cur = text, *l, *f[3];
    CHECK_STR(hm_next_line(&cur), "a\tb\tc");
    CHECK_STR(hm_next_line(&cur), "");
    CHECK_STR(hm_next_line(&cur), "# x");
    CHECK_STR((l = hm_next_line(&cur)), "last");
    CHECK(hm_next_line(&cur) == NULL);
    char row[] = "a\tb\tc", more[] = "1\t2\t3\t4", one[] = "";
    CHECK_EQ_INT(hm_split_fields(row, '\t', f, 3), 3);
    CHECK_STR(f[2], "c");
    CHECK_EQ_INT(hm_split_fields(more, '\t', f, 3), 4);
    CHECK_EQ_INT(hm_split_fields(one, '\t', f, 3), 1);
    CHECK_STR(f[0], "");
}

/* A directory's lock: a second taker fails at once naming the holder; shared takers share;
 * the lock goes with its holder. */
TEST(test_directory_lock)
{
    char dir[] = "/tmp/hm_test_lock_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct hm_lock a, b, c;
    CHECK_EQ_INT(hm_lock_dir(&a, dir, 1, "the work directory"), 0);
    CHECK_EQ_INT(hm_lock_dir(&b, dir, 1, "the work directory"), HM_EBUSY);
    char want[64];
    snprintf(want, sizeof want, "the work directory is in use by process %ld", (long)getpid());
    CHECK(strstr(hm_last_error(), want) != NULL);
    CHECK_EQ_INT(hm_lock_dir(&b, dir, 0, "it"), HM_EBUSY);
    hm_lock_release(&a);
    CHECK_EQ_INT(hm_lock_dir(&b, dir, 0, "it"), 0);
    CHECK_EQ_INT(hm_lock_dir(&c, dir, 0, "it"), 0);
    CHECK_EQ_INT(hm_lock_dir(&a, dir, 1, "it"), HM_EBUSY);
    hm_lock_release(&b);
    hm_lock_release(&c);
    CHECK_EQ_INT(hm_lock_dir(&a, dir, 1, "it"), 0);
    hm_lock_release(&a);
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, HM_LOCK_FILE);
    unlink(path);
    rmdir(dir);
}

/* The sweep removes only hmrec's temporaries (of the listed names, when a list is given),
 * whatever the process id in their names; everything else stays. */
TEST(test_remove_temporaries)
{
    char dir[] = "/tmp/hm_test_tmp_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    static const char *const files[] = {
        "a.hmt" HM_TMP_MARK "1",  "b.csv.gz" HM_TMP_MARK "999999", "notes.tmp.31999", "backup.tar.tmp.4242",
        "c" HM_TMP_MARK "x1",     HM_TMP_MARK "5",                 "d.hmt",           "e" HM_TMP_MARK "7.bak",
    };
    static const int hmrec_made[] = {1, 1, 0, 0, 0, 0, 0, 0};
    char path[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        close(open(path, O_CREAT | O_WRONLY, 0644));
    }
    static const char *const only_b[] = {"b.csv.gz", NULL};
    uint64_t n = 9, bytes = 9;
    CHECK_EQ_INT(hm_remove_temporaries(dir, only_b, &n, &bytes), 0);
    CHECK_EQ_INT(n, 1);
    snprintf(path, sizeof path, "%s/a.hmt" HM_TMP_MARK "1", dir);
    CHECK(access(path, F_OK) == 0);
    CHECK_EQ_INT(hm_remove_temporaries(dir, NULL, &n, &bytes), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(bytes, 0);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        CHECK_EQ_INT(access(path, F_OK) == 0, !hmrec_made[i]);
        unlink(path);
    }
    rmdir(dir);
    CHECK_EQ_INT(hm_remove_temporaries("/nonexistent-dir", NULL, NULL, NULL), 0);
}

/* The k best of (ids, scores) by brute force: every pair ranked by (score desc, id asc). */
static int better(float sa, uint32_t ia, float sb, uint32_t ib)
{
    sa = sa > 0 ? sa : 0;
    sb = sb > 0 ? sb : 0;
    return sa > sb || (sa == sb && ia < ib);
}

/* hm_select_top and hm_acc_top against brute force, over sizes that take the sampled
 * threshold (n >= 512, k <= n / 8), the plain selection and whole sorts, with ties, zeros
 * and negative scores, sorted and reversed scores, and an order that makes the sample misjudge. */
TEST(test_top_selection)
{
    struct hm_rng r;
    hm_rng_seed(&r, 7);
    static const uint32_t ns[] = {1, 30, 511, 512, 600, 3000, 20000};
    static const uint32_t ks[] = {1, 10, 64, 150, 400, 5000};
    uint32_t cap = 20000;
    uint32_t *ids = malloc(sizeof *ids * cap), *got = malloc(sizeof *got * cap), *want = malloc(sizeof *want * cap);
    float *sc = malloc(sizeof *sc * cap), *gs = malloc(sizeof *gs * cap);
    struct hm_acc acc;
    hm_acc_init(&acc, 3 * cap);
    for (int order = 0; order < 4; order++)
        for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
            for (size_t b = 0; b < sizeof ks / sizeof *ks; b++) {
                uint32_t n = ns[a], k = ks[b];
                for (uint32_t i = 0; i < n; i++) {
                    ids[i] = 3 * i + (uint32_t)hm_rng_below(&r, 3); /* distinct, increasing */
                    double u = hm_rng_uniform(&r);
                    /* order 3: the best scores every n / 64 rows, where a sample of 64 would
                     * look, so that it misjudges */
                    uint32_t step = n / 64 ? n / 64 : 1;
                    sc[i] = order == 1 ? (float)i : order == 2 ? (float)(n - i)
                          : order == 3 && i % step == step / 2 ? (float)(1000 + i)
                          : u < 0.1 ? 0.0f : u < 0.15 ? -1.0f : (float)hm_rng_below(&r, 50); /* ties */
                }
                /* want: k rounds of picking the best not yet taken (n and k small enough) */
                uint32_t m = n < k ? n : k;
                uint8_t *taken = calloc(n, 1);
                for (uint32_t x = 0; x < m && n <= 3000; x++) {
                    uint32_t best = UINT32_MAX;
                    for (uint32_t i = 0; i < n; i++)
                        if (!taken[i] && (best == UINT32_MAX || better(sc[i], ids[i], sc[best], ids[best])))
                            best = i;
                    taken[best] = 1;
                    want[x] = ids[best];
                }
                free(taken);
                CHECK_EQ_INT(hm_select_top(ids, sc, n, k, got, gs), m);
                int same = 1;
                for (uint32_t x = 0; x < m; x++) {
                    if (n <= 3000 && got[x] != want[x])
                        same = 0;
                    if (x && better(gs[x], got[x], gs[x - 1], got[x - 1])) /* best first */
                        same = 0;
                }
                CHECK(same);
                /* the accumulator: the same scores as sums of two halves, the same best */
                for (uint32_t i = 0; i < n; i++) {
                    hm_acc_add(&acc, ids[i], sc[i] / 2);
                    hm_acc_add(&acc, ids[i], sc[i] - sc[i] / 2);
                }
                /* (want and sc reused: the brute force is done) every slot is touched, a sum
                 * of 0 weighs 1e-30, so the order agrees where the scores are positive */
                float *asc = malloc(sizeof *asc * (m + 1));
                uint32_t got_n = hm_acc_top(&acc, k, want, asc, NULL);
                CHECK_EQ_INT(got_n, m);
                int agree = 1;
                for (uint32_t x = 0; x < m; x++)
                    if (gs[x] > 0 && (want[x] != got[x] || asc[x] != gs[x]))
                        agree = 0;
                free(asc);
                CHECK(agree);
            }
    hm_acc_release(&acc);
    free(ids);
    free(got);
    free(want);
    free(sc);
    free(gs);
}

int main(void)
{
    RUN(test_error_messages);
    RUN(test_dates);
    RUN(test_hash);
    RUN(test_rng);
    RUN(test_parallel);
    RUN(test_atomic_writer);
    RUN(test_settings);
    RUN(test_lines_and_fields);
    RUN(test_directory_lock);
    RUN(test_remove_temporaries);
    RUN(test_top_selection);
    TEST_EXIT();
}
