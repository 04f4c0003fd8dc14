/* Tests for hmrec serve's request handling without a socket (serve_handle), on a finished run
 * of the synthetic tiny preset: every customer's recommendations are their row of
 * submission.csv.gz; every bad input gets its 4xx with a JSON error naming what was wrong
 * (ids, k, query, methods, the token, each field of a purchase) and changes nothing; a post
 * is in the log, counts at once for that customer (history, recent purchases, recommendations)
 * and again after a restart (the log replayed); a torn last line is cut off; the purchase log
 * folded in by ingest (the store's mark) is not replayed twice. */
#include "io/parse.h"
#include "pipeline/pipeline.h"
#include "serve/serve.h"
#include "synth/synth.h"
#include "test.h"

#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char dir[128], work[200], token_path[200];
#define TOKEN "a-token-of-the-tests-0123456789"

static struct pipeline p; /* of the server open (one at a time) */

static struct serve *open_server(void)
{
    struct pipeline_config cfg;
    HM_ASSERT(serve_config_of_work(&cfg, work, NULL, 0) == 0);
    pipeline_init(&p, &cfg);
    struct serve_opts o;
    serve_opts_default(&o);
    o.token_file = token_path;
    o.threads = 2;
    struct serve *s;
    if (serve_open(&s, &p, &o)) {
        fprintf(stderr, "serve_open: %s\n", hm_last_error());
        HM_ASSERT(0);
    }
    return s;
}

static void close_server(struct serve *s)
{
    serve_drain(s, 1);
    serve_close(s);
    pipeline_release(&p);
}

/* One request; the reply's body parsed as JSON (NULL when it is not JSON). */
static json_t *ask(struct serve *s, const char *method, const char *url, const char *query, const char *auth,
                   const char *body, int *status)
{
    struct serve_request rq = {method, url, query, auth, body, body ? strlen(body) : 0};
    struct serve_reply r;
    serve_handle(s, &rq, &r);
    *status = r.status;
    json_error_t err;
    json_t *j = r.len ? json_loadb(r.body, r.len, 0, &err) : NULL;
    free(r.body);
    return j;
}

/* The error message of a reply, or "" (the JSON freed). */
static char last_msg[600];
static const char *msg_of(json_t *j)
{
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    snprintf(last_msg, sizeof last_msg, "%s", m ? m : "");
    json_decref(j);
    return last_msg;
}

#define CHECK_ERR(s, method, url, query, auth, body, want_status, want_in)                          \
    do {                                                                                         \
        int st_;                                                                                 \
        const char *m_ = msg_of(ask(s, method, url, query, auth, body, &st_));                   \
        if (st_ != (want_status) || !strstr(m_, want_in)) {                                      \
            fprintf(stderr, "%s %s: status %d \"%s\", expected %d with \"%s\"\n", method, url, st_, m_, \
                    want_status, want_in);                                                       \
        }                                                                                        \
        CHECK_EQ_INT(st_, want_status);                                                          \
        CHECK(strstr(m_, want_in) != NULL);                                                      \
    } while (0)

/* The submission's rows: customer -> 12 articles (line order). */
static char (*sub_id)[65];
static char (*sub_items)[12 * 11];
static int n_sub;

static void read_submission(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/submission.csv.gz", work);
    gzFile f = gzopen(path, "rb");
    HM_ASSERT(f);
    char line[1024];
    HM_ASSERT(gzgets(f, line, sizeof line));
    sub_id = calloc(100000, sizeof *sub_id);
    sub_items = calloc(100000, sizeof *sub_items);
    while (gzgets(f, line, sizeof line) && n_sub < 100000) {
        line[strcspn(line, "\n")] = '\0';
        char *comma = strchr(line, ',');
        HM_ASSERT(comma && comma - line == 64);
        memcpy(sub_id[n_sub], line, 64);
        snprintf(sub_items[n_sub], sizeof sub_items[n_sub], "%s", comma + 1);
        n_sub++;
    }
    gzclose(f);
}

/* The recommended articles, joined by spaces. */
static void recs_of(struct serve *s, const char *id, char *out, size_t n, int *history)
{
    char url[128];
    snprintf(url, sizeof url, "/v1/customers/%s/recommendations", id);
    int st;
    json_t *j = ask(s, "GET", url, "k=12", NULL, NULL, &st);
    HM_ASSERT(st == 200 && j);
    out[0] = '\0';
    json_t *arr = json_object_get(j, "recommendations"), *e;
    size_t i;
    json_array_foreach(arr, i, e) {
        if (i)
            strncat(out, " ", n - strlen(out) - 1);
        strncat(out, json_string_value(json_object_get(e, "article_id")), n - strlen(out) - 1);
    }
    if (history)
        *history = (int)json_integer_value(json_object_get(j, "history"));
    json_decref(j);
}

TEST(test_every_customer_is_the_submission)
{
    struct serve *s = open_server();
    int same = 0;
    for (int i = 0; i < n_sub; i++) {
        char got[200];
        recs_of(s, sub_id[i], got, sizeof got, NULL);
        same += !strcmp(got, sub_items[i]);
        if (strcmp(got, sub_items[i]) && same + 3 > i)
            fprintf(stderr, "customer %s: served %s, submission %s\n", sub_id[i], got, sub_items[i]);
    }
    CHECK(n_sub >= 400);
    CHECK_EQ_INT(same, n_sub);
    close_server(s);
}

TEST(test_bad_requests)
{
    struct serve *s = open_server();
    char url[200];
    const char *c = sub_id[0];
    CHECK_ERR(s, "GET", "/nothing", NULL, NULL, NULL, 404, "no such endpoint");
    CHECK_ERR(s, "GET", "/v1/customers/../../etc/passwd", NULL, NULL, NULL, 404, "no such endpoint");
    CHECK_ERR(s, "DELETE", "/healthz", NULL, NULL, NULL, 405, "GET, HEAD");
    CHECK_ERR(s, "GET", "/v1/purchases", NULL, NULL, NULL, 405, "POST");
    CHECK_ERR(s, "GET", "/v1/customers/xyz", NULL, NULL, NULL, 400, "customer id: expected 64 hexadecimal digits");
    CHECK_ERR(s, "GET", "/v1/customers/0000000000000000000000000000000000000000000000000000000000000000", NULL, NULL,
              NULL, 404, "no customer");
    snprintf(url, sizeof url, "/v1/customers/%s/recommendations", c);
    CHECK_ERR(s, "GET", url, "k=0", NULL, NULL, 400, "k: expected an integer from 1 to 12");
    CHECK_ERR(s, "GET", url, "k=13", NULL, NULL, 400, "k: expected");
    CHECK_ERR(s, "GET", url, "k=1e2", NULL, NULL, 400, "k: expected");
    CHECK_ERR(s, "GET", url, "k=12&sort=up", NULL, NULL, 400, "unknown parameter \"sort\"");
    CHECK_ERR(s, "GET", url, NULL, NULL, "{}", 400, "body: a GET request takes none");
    CHECK_ERR(s, "GET", "/v1/articles/12x/image", NULL, NULL, NULL, 400, "article id: expected up to 10 digits");
    CHECK_ERR(s, "GET", "/v1/articles/..%2F..%2Fetc%2Fpasswd/image", NULL, NULL, NULL, 400, "article id");
    CHECK_ERR(s, "GET", "/v1/articles/0000000001/similar", NULL, NULL, NULL, 404, "no article 0000000001");
    CHECK_ERR(s, "GET", "/v1/articles/..", NULL, NULL, NULL, 400, "article id");
    /* the image route without --images */
    int st;
    json_t *a = ask(s, "GET", "/v1/customers/random", NULL, NULL, NULL, &st);
    CHECK_EQ_INT(st, 200);
    json_decref(a);
    /* the server still answers */
    recs_of(s, c, url, sizeof url, NULL);
    CHECK_STR(url, sub_items[0]);
    close_server(s);
}

/* A post of one purchase of customer c: the body. */
static char *post_body(const char *c, const char *article, const char *day, const char *price, const char *channel)
{
    return hm_xasprintf("{\"purchases\":[{\"customer\":\"%s\",\"article\":%s,\"day\":%s,\"price\":%s,\"channel\":%s}]}", c,
                        article, day, price, channel);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

TEST(test_purchases)
{
    struct serve *s = open_server();
    char log[256], url[200], before[200], after[200];
    snprintf(log, sizeof log, "%s/purchases.csv", work);
    const char *c = sub_id[1];
    /* an article the customer was not recommended */
    char art[16];
    snprintf(art, sizeof art, "\"%.10s\"", sub_items[1]);
    const char *bearer = "Bearer " TOKEN;
    char *ok = post_body(c, art, "\"2020-09-23\"", "0.0339", "2");
    long size0 = file_size(log);
    CHECK(size0 > 0);
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, NULL, ok, 401, "Authorization: Bearer");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, "Bearer wrong-token-0123456789abc", ok, 401, "token");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, "Bearer " TOKEN "x", ok, 401, "token");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, "{\"purchases\": [", 400, "body: malformed JSON");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, "[]", 400, "body: expected an object");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, "{\"purchases\":[],\"x\":1}", 400, "unknown field \"x\"");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, "{\"purchases\":[]}", 400, "purchases: expected an array of 1");
    char *b;
    b = post_body("12", art, "\"2020-09-23\"", "0.03", "2");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 400, "purchases[0].customer: expected 64 hexadecimal digits");
    free(b);
    b = post_body("0000000000000000000000000000000000000000000000000000000000000000", art, "\"2020-09-23\"", "0.03", "2");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 422, "purchases[0].customer: no customer");
    free(b);
    b = post_body(c, "\"0000000001\"", "\"2020-09-23\"", "0.03", "2");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 422, "purchases[0].article: no article 0000000001");
    free(b);
    b = post_body(c, "\"01x\"", "\"2020-09-23\"", "0.03", "2");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 400, "purchases[0].article: expected an article id");
    free(b);
    b = post_body(c, art, "\"2020-13-01\"", "0.03", "2");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 400, "purchases[0].day: expected a date");
    free(b);
    b = post_body(c, art, "\"2030-01-01\"", "0.03", "2");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 422, "purchases[0].day: expected a date from");
    free(b);
    b = post_body(c, art, "\"2020-09-23\"", "-1", "2");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 422, "purchases[0].price: expected a number above 0");
    free(b);
    b = post_body(c, art, "\"2020-09-23\"", "1e300", "2");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 422, "purchases[0].price");
    free(b);
    b = post_body(c, art, "\"2020-09-23\"", "\"cheap\"", "2");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 400, "purchases[0].price: expected a number");
    free(b);
    b = post_body(c, art, "\"2020-09-23\"", "0.03", "3");
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 400, "purchases[0].channel: expected 1 (store) or 2");
    free(b);
    b = hm_xasprintf("{\"purchases\":[{\"customer\":\"%s\",\"article\":%s,\"day\":\"2020-09-23\",\"price\":0.03}]}", c, art);
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 400, "purchases[0].channel: missing");
    free(b);
    /* a good purchase and a bad one: nothing of the post is taken */
    b = hm_xasprintf("{\"purchases\":[{\"customer\":\"%s\",\"article\":%s,\"day\":\"2020-09-23\",\"price\":0.03,"
                     "\"channel\":2},{\"customer\":\"%s\",\"article\":%s,\"day\":\"2020-09-23\",\"price\":0.03,"
                     "\"channel\":2,\"colour\":\"red\"}]}",
                     c, art, c, art);
    CHECK_ERR(s, "POST", "/v1/purchases", NULL, bearer, b, 400, "purchases[1]: unknown field \"colour\"");
    free(b);
    CHECK_EQ_INT(file_size(log), size0);
    int h0, h1, st;
    recs_of(s, c, before, sizeof before, &h0);
    /* the good one */
    json_t *j = ask(s, "POST", "/v1/purchases", NULL, bearer, ok, &st);
    CHECK_EQ_INT(st, 201);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "accepted")), 1);
    json_decref(j);
    CHECK(file_size(log) > size0);
    recs_of(s, c, after, sizeof after, &h1);
    CHECK_EQ_INT(h1, h0 + 1);
    snprintf(url, sizeof url, "/v1/customers/%s", c);
    j = ask(s, "GET", url, NULL, NULL, NULL, &st);
    CHECK_EQ_INT(st, 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "posted")), 1);
    json_t *first = json_array_get(json_object_get(j, "recent"), 0);
    CHECK(json_is_true(json_object_get(first, "posted")));
    CHECK_STR(json_string_value(json_object_get(first, "day")), "2020-09-23");
    json_decref(j);
    close_server(s);
    /* a restart replays it */
    s = open_server();
    int h2;
    char again[200];
    recs_of(s, c, again, sizeof again, &h2);
    CHECK_EQ_INT(h2, h1);
    CHECK_STR(again, after);
    close_server(s);
    /* a torn last line (a server killed while writing it) is cut off at the next start */
    FILE *f = fopen(log, "a");
    fputs("2020-09-24,", f);
    fclose(f);
    long torn = file_size(log);
    s = open_server();
    CHECK_EQ_INT(file_size(log), torn - 11);
    recs_of(s, c, again, sizeof again, &h2);
    CHECK_EQ_INT(h2, h1);
    close_server(s);
    free(ok);
}

TEST(test_info_and_metrics)
{
    struct serve *s = open_server();
    int st;
    json_t *j = ask(s, "GET", "/v1/info", NULL, NULL, NULL, &st);
    CHECK_EQ_INT(st, 200);
    CHECK(json_is_true(json_object_get(j, "posting")));
    CHECK_EQ_INT(strlen(json_string_value(json_object_get(j, "fingerprint"))), 16);
    CHECK(json_object_get(json_object_get(j, "strategies"), "repurchase") != NULL);
    json_decref(j);
    struct serve_request rq = {"GET", "/metrics", NULL, NULL, NULL, 0};
    struct serve_reply r;
    serve_handle(s, &rq, &r);
    CHECK_EQ_INT(r.status, 200);
    CHECK(strstr(r.body, "hmrec_requests_total{route=\"info\",status=\"200\"} 1\n") != NULL);
    CHECK(strstr(r.body, "hmrec_request_duration_seconds_bucket{route=\"info\",le=\"+Inf\"} 1\n") != NULL);
    CHECK(strstr(r.body, "hmrec_model_info{model=") != NULL);
    free(r.body);
    struct serve_request page = {"GET", "/", NULL, NULL, NULL, 0};
    serve_handle(s, &page, &r);
    CHECK_EQ_INT(r.status, 200);
    CHECK(strstr(r.content_type, "text/html") != NULL);
    CHECK(strstr(r.body, "<script src=\"/app.js\"") != NULL);
    CHECK(strstr(r.body, "http") == NULL); /* nothing from elsewhere */
    free(r.body);
    close_server(s);
}

/* A work directory whose submission is not what its record says is refused. */
TEST(test_refuses_a_changed_directory)
{
    char path[256];
    snprintf(path, sizeof path, "%s/submission.csv.gz", work);
    long size = file_size(path);
    FILE *f = fopen(path, "ab");
    fputc('x', f);
    fclose(f);
    struct pipeline_config cfg;
    CHECK_EQ_INT(serve_config_of_work(&cfg, work, NULL, 0), 0);
    pipeline_init(&p, &cfg);
    struct serve_opts o;
    serve_opts_default(&o);
    struct serve *s;
    int rc = serve_open(&s, &p, &o);
    serve_close(s);
    pipeline_release(&p);
    CHECK_EQ_INT(truncate(path, size), 0);
    CHECK(rc != 0);
    CHECK(strstr(hm_last_error(), "not finished, or not up to date") != NULL);
    CHECK(strstr(hm_last_error(), "submission.csv.gz") != NULL);
    char other[256];
    snprintf(other, sizeof other, "%s/nothing", dir);
    CHECK(serve_config_of_work(&cfg, other, NULL, 0) == HM_ENOTFOUND);
}

/* The fold: an ingest with a purchase log reads its complete lines after the transactions
 * and records how many bytes it read; a torn last line is left for the server to cut. */
TEST(test_fold)
{
    char log[256], store[256];
    snprintf(log, sizeof log, "%s/fold.csv", dir);
    snprintf(store, sizeof store, "%s/fold_store", dir);
    const char *text = "t_dat,customer_id,article_id,price,sales_channel_id\n";
    FILE *f = fopen(log, "w");
    fputs(text, f);
    fprintf(f, "2020-09-24,%s,%.10s,0.0339,2\n", sub_id[0], sub_items[0]);
    fprintf(f, "2020-09-25,%s,%.10s,0.01,1\n", sub_id[1], sub_items[1]);
    long whole = ftell(f);
    fprintf(f, "2020-09-26,%s,", sub_id[2]);
    fclose(f);
    struct data_ingest_opts o = {.data_dir = dir, .store_dir = store, .purchases = log};
    struct data_ingest_report rep;
    CHECK_EQ_INT(data_ingest(&o, &rep), 0);
    CHECK_EQ_INT(rep.purchases.rows, 2);
    struct data_set ds;
    CHECK_EQ_INT(data_set_open(&ds, store, 0), 0);
    CHECK_EQ_INT(ds.tx.n, rep.transactions.rows + 2);
    CHECK_EQ_INT(ds.tx.log_bytes, whole);
    char *bytes;
    size_t len;
    CHECK_EQ_INT(hm_read_file(log, &bytes, &len), 0);
    CHECK(ds.tx.log_hash == hm_hash64(bytes, (size_t)whole, 0));
    char day[11];
    hm_date_format(ds.tx.day_max, day);
    CHECK_STR(day, "2020-09-25");
    free(bytes);
    data_set_release(&ds);
}

int main(int argc, char **argv)
{
    (void)argc;
    hm_blas_ensure_coretype(argv);
    snprintf(dir, sizeof dir, "/tmp/hm_test_serve_%d", (int)getpid());
    snprintf(work, sizeof work, "%s/work", dir);
    snprintf(token_path, sizeof token_path, "%s/token", dir);
    struct synth_params sp;
    synth_params_init(&sp);
    synth_params_preset(&sp, "tiny");
    struct synth_summary sum;
    HM_ASSERT(synth_generate(&sp, dir, &sum) == 0);
    FILE *f = fopen(token_path, "w");
    fputs(TOKEN "\n", f);
    fclose(f);
    chmod(token_path, 0600);
    char *sets[] = {hm_xasprintf("run.data=%s", dir), hm_xasprintf("run.work=%s", work), "prepare.train_weeks=2",
                    "prepare.users=200", "rank.models=classifier", "recall.wide=120", "recall.cut_keep=40",
                    "recall.pool=80", "rank.score_pool=60"};
    struct pipeline_config cfg;
    HM_ASSERT(pipeline_config_load(&cfg, NULL, sets, (int)(sizeof sets / sizeof sets[0])) == 0);
    pipeline_init(&p, &cfg);
    if (pipeline_run(&p)) {
        fprintf(stderr, "run: %s\n", hm_last_error());
        return 1;
    }
    pipeline_release(&p);
    read_submission();
    RUN(test_every_customer_is_the_submission);
    RUN(test_bad_requests);
    RUN(test_purchases);
    RUN(test_info_and_metrics);
    RUN(test_refuses_a_changed_directory);
    RUN(test_fold);
    free(sub_id);
    free(sub_items);
    free(sets[0]);
    free(sets[1]);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    TEST_EXIT();
}
