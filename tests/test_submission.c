/* Tests for io/submission: writing plain and gzip files, reading them back, strict errors. */
#include "io/submission.h"
#include "test.h"

#include <unistd.h>

static char dir[64];

static const char *CID = "00000dbacae5abe5e23885899a1fa44253a17956c6d1c3d25f88aa139fdfc657";
static const char *CID2 = "000058a12d5b43e67d225668fa1f8d618c13dc232df0cad8ffe7ad4a1091e318";

struct collected {
    int rows;
    uint32_t first[12];
    size_t n_first;
    char last_id[65];
};

static int collect(const struct io_subrow *row, void *ud)
{
    struct collected *c = ud;
    if (c->rows++ == 0) {
        memcpy(c->first, row->articles, row->n * sizeof *row->articles);
        c->n_first = row->n;
    }
    snprintf(c->last_id, sizeof c->last_id, "%s", row->customer_id);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

TEST(test_write_and_read)
{
    const char *suffixes[] = {"sub.csv", "sub.csv.gz"};
    for (int k = 0; k < 2; k++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, suffixes[k]);
        struct io_subwriter w;
        CHECK_EQ_INT(io_subwriter_open(&w, path), 0);
        uint32_t a[14] = {706016001, 108775015, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        CHECK_EQ_INT(io_subwriter_add(&w, CID, a, 14), 0); /* cut to 12 */
        CHECK_EQ_INT(io_subwriter_add(&w, CID2, NULL, 0), 0);
        CHECK_EQ_INT(io_subwriter_commit(&w), 0);
        struct collected c = {0};
        CHECK_EQ_INT(io_submission_read(path, 12, collect, &c), 0);
        CHECK_EQ_INT(c.rows, 2);
        CHECK_EQ_INT(c.n_first, 12);
        CHECK_EQ_INT(c.first[0], 706016001);
        CHECK_EQ_INT(c.first[11], 10);
        CHECK_STR(c.last_id, CID2);
    }
    char path[128], *text;
    snprintf(path, sizeof path, "%s/sub.csv", dir);
    CHECK_EQ_INT(hm_read_file(path, &text, NULL), 0);
    CHECK(strncmp(text, "customer_id,prediction\n00000dbacae5", 35) == 0);
    CHECK(strstr(text, ",0706016001 0108775015 0000000001 ") != NULL);
    free(text);
}

TEST(test_reader_errors)
{
    char path[128], want[256];
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    struct collected c = {0};
    write_text(path, "customer,prediction\n");
    CHECK_EQ_INT(io_submission_read(path, 12, collect, &c), HM_EPARSE);
    snprintf(want, sizeof want, "%s:1:1: expected header \"customer_id,prediction\", found \"customer,prediction\"", path);
    CHECK_STR(hm_last_error(), want);
    write_text(path, "customer_id,prediction\r\n00000dbacae5abe5e23885899a1fa44253a17956c6d1c3d25f88aa139fdfc657,0706016001 07060x6002\r\n");
    CHECK_EQ_INT(io_submission_read(path, 12, collect, &c), HM_EPARSE);
    snprintf(want, sizeof want, "%s:2:77: expected an article id of up to 10 digits, found \"07060x6002\"", path);
    CHECK_STR(hm_last_error(), want);
    write_text(path, "customer_id,prediction\nABC,1\n");
    CHECK_EQ_INT(io_submission_read(path, 12, collect, &c), HM_EPARSE);
    CHECK(strstr(hm_last_error(), ":2:1: expected a 64-character hex customer id") != NULL);
    write_text(path, "");
    CHECK_EQ_INT(io_submission_read(path, 12, collect, &c), HM_EPARSE);
    CHECK_EQ_INT(io_submission_read("/nonexistent/x.csv", 12, collect, &c), HM_EIO);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/hm_test_sub_%d", (int)getpid());
    hm_mkdirs(dir);
    RUN(test_write_and_read);
    RUN(test_reader_errors);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    system(cmd);
    TEST_EXIT();
}
