/* Tests for what a run reads back from its work directory: rank_results.tsv / metrics.tsv rows
 * and ensemble weights are checked (finite, in range) with errors naming the file and line. */
#include "pipeline/pipeline.h"
#include "test.h"

#include <unistd.h>

static char dir[] = "/tmp/hm_test_runstate_XXXXXX";

static const char *write_text(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* A results file with one good row, then the line `bad` (NULL: none). */
static const char *results_with(const char *bad)
{
    struct eval_sum s;
    memset(&s, 0, sizeof s);
    s.users = 10;
    for (int k = 0; k < EVAL_NK; k++)
        s.ap[k] = s.precision[k] = s.recall[k] = s.ndcg[k] = 2.5;
    struct hm_buf b = {0};
    hm_buf_puts(&b, "# name\tkind\tusers\t...\n");
    pipeline_result_format(&b, "classifier", "model", &s);
    if (bad)
        hm_buf_printf(&b, "%s\n", bad);
    const char *path = write_text("rank_results.tsv", b.s);
    hm_buf_release(&b);
    return path;
}

/* A row "name kind users" then 20 copies of v, with field f (0-based among the 20) set to x. */
static char *row(const char *kind, const char *users, int f, const char *x)
{
    struct hm_buf b = {0};
    hm_buf_printf(&b, "nn\t%s\t%s", kind, users);
    for (int i = 0; i < 4 * EVAL_NK; i++)
        hm_buf_printf(&b, "\t%s", i == f ? x : "1");
    return hm_buf_take(&b);
}

static int read_fails_with(const char *bad_row, const char *want)
{
    struct pipeline_result *r = NULL;
    int n = 0;
    const char *path = results_with(bad_row);
    int rc = pipeline_results_read(path, &r, &n);
    free(r);
    if (rc == 0) {
        fprintf(stderr, "accepted: %s\n", bad_row);
        return 0;
    }
    if (!strstr(hm_last_error(), want) || !strstr(hm_last_error(), "rank_results.tsv:3:")) {
        fprintf(stderr, "message: %s\n(expected \"%s\" on line 3)\n", hm_last_error(), want);
        return 0;
    }
    return 1;
}

TEST(test_results_checked)
{
    struct pipeline_result *r = NULL;
    int n = 0;
    CHECK_EQ_INT(pipeline_results_read(results_with(NULL), &r, &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_STR(r[0].name, "classifier");
    CHECK(r[0].sum.users == 10 && r[0].sum.ap[4] == 2.5);
    free(r);
    char *a = row("model", "10", 0, "nan"), *b = row("model", "10", 4, "1e9"), *c = row("model", "10", 19, "-0.5"),
         *d = row("bogus", "10", 0, "1"), *e = row("model", "-1", 0, "1"), *f = row("model", "10", 3, "0.5x"),
         *g = row("model", "10", 0, "inf");
    CHECK(read_fails_with(a, "nn, AP at 1 (a sum over 10 customers): expected a finite number in [0, "));
    CHECK(read_fails_with(b, "found \"1e9\""));
    CHECK(read_fails_with(c, "NDCG at 12"));
    CHECK(read_fails_with(d, "expected a kind"));
    CHECK(read_fails_with(e, "expected a count of customers"));
    CHECK(read_fails_with(f, "found \"0.5x\""));
    CHECK(read_fails_with(g, "found \"inf\""));
    CHECK(read_fails_with("nn\tmodel\t10\t1", "expected 23 tab-separated fields, found 4"));
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    free(f);
    free(g);
}

static int ensemble_fails_with(const char *text, const char *name, const char *want)
{
    char models[RANK_MAX_MODELS][32];
    double w[RANK_MAX_MODELS];
    int n = 7;
    const char *path = write_text("ensemble.tsv", text);
    if (rank_ensemble_read(path, name, models, w, &n) == 0) {
        fprintf(stderr, "accepted: %s\n", text);
        return 0;
    }
    if (!strstr(hm_last_error(), want) || n != 0) {
        fprintf(stderr, "message: %s\n(expected \"%s\")\n", hm_last_error(), want);
        return 0;
    }
    return 1;
}

TEST(test_ensemble_checked)
{
    char models[RANK_MAX_MODELS][32];
    double w[RANK_MAX_MODELS];
    int n = 0;
    const char *good = "# ensemble\tmodel\tweight\nensemble\tclassifier\t0.25\nensemble\tnn\t0.75\n"
                       "average\tclassifier\t0.5\naverage\tnn\t0.5\n";
    const char *path = write_text("ensemble.tsv", good);
    CHECK_EQ_INT(rank_ensemble_read(path, "ensemble", models, w, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_STR(models[1], "nn");
    CHECK(w[0] == 0.25 && w[1] == 0.75);
    CHECK_EQ_INT(rank_ensemble_read(path, "average", models, w, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK(ensemble_fails_with("ensemble\tclassifier\tnan\nensemble\tnn\t1\n", "ensemble",
                              "ensemble.tsv:1: the weight of classifier in ensemble: expected a finite number"));
    CHECK(ensemble_fails_with("ensemble\tclassifier\t1\nensemble\tnn\t-0.5\n", "ensemble", "ensemble.tsv:2:"));
    CHECK(ensemble_fails_with("ensemble\tclassifier\t2\n", "ensemble", "found \"2\""));
    CHECK(ensemble_fails_with("ensemble\tclassifier\t0.5\nensemble\tnn\t0.4\n", "ensemble",
                              "the weights of ensemble sum to 0.9"));
    CHECK(ensemble_fails_with("ensemble\tnn\t0.5\nensemble\tnn\t0.5\n", "ensemble", "ensemble.tsv:2: ensemble names nn twice"));
    CHECK(ensemble_fails_with("ensemble\t../x\t1\n", "ensemble", "expected a model kind, found \"../x\""));
    CHECK(ensemble_fails_with("ensemble classifier 1\n", "ensemble", "ensemble.tsv:1: expected"));
    CHECK(ensemble_fails_with(good, "weighted", "has no weights of 'weighted'"));
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(test_results_checked);
    RUN(test_ensemble_checked);
    char path[256];
    snprintf(path, sizeof path, "%s/rank_results.tsv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/ensemble.tsv", dir);
    unlink(path);
    rmdir(dir);
    TEST_EXIT();
}
