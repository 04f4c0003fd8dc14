/* Tests of the communication layer: every collective with one rank (no mpirun), then the same
 * program under mpirun on 2 and 3 ranks (loopback, bounded in time), where each rank checks
 * what it received; exchanges also run in rounds of a few bytes. */
#include "comm/comm.h"
#include "mpirun.h"
#include "test.h"

#include <stdint.h>
#include <unistd.h>

static int me, n;

TEST(test_allreduce)
{
    uint64_t u[3] = {(uint64_t)me + 1, (uint64_t)me * 10, 7};
    comm_allreduce_u64(u, 1, COMM_SUM);
    comm_allreduce_u64(u + 1, 1, COMM_MAX);
    comm_allreduce_u64(u + 2, 1, COMM_MIN);
    CHECK_EQ_INT(u[0], (uint64_t)n * (n + 1) / 2);
    CHECK_EQ_INT(u[1], (uint64_t)(n - 1) * 10);
    CHECK_EQ_INT(u[2], 7);
    double d[2] = {(double)me + 0.5, -(double)me};
    comm_allreduce_f64(d, 2, COMM_SUM);
    CHECK(d[0] == (double)n * (n - 1) / 2 + 0.5 * n);
    float f = (float)me;
    comm_allreduce_f32(&f, 1, COMM_MAX);
    CHECK(f == (float)(n - 1));
    int32_t i = 5 - me;
    comm_allreduce_i32(&i, 1, COMM_MIN);
    CHECK_EQ_INT(i, 5 - (n - 1));
    uint32_t w = 1;
    comm_allreduce_u32(&w, 1, COMM_SUM);
    CHECK_EQ_INT(w, n);
}

TEST(test_bcast)
{
    int root = n - 1;
    char buf[100];
    memset(buf, me == root ? 'x' : 'y', sizeof buf);
    comm_bcast(buf, sizeof buf, root);
    for (size_t k = 0; k < sizeof buf; k++)
        CHECK(buf[k] == 'x');
}

/* rank r contributes r + 1 copies of 'a' + r (and nothing at all on rank 1). */
static size_t contribution(int r, char *out)
{
    size_t m = r == 1 ? 0 : (size_t)(r + 1) * 3;
    if (out)
        memset(out, 'a' + r, m);
    return m;
}

TEST(test_gathers)
{
    char mine[64];
    size_t m = contribution(me, mine);
    uint64_t counts[8];
    char *all = comm_allgatherv(mine, m, counts);
    size_t pos = 0;
    for (int r = 0; r < n; r++) {
        char want[64];
        size_t k = contribution(r, want);
        CHECK_EQ_INT(counts[r], k);
        CHECK(memcmp(all + pos, want, k) == 0);
        pos += k;
    }
    free(all);
    char *root = comm_gatherv(mine, m, 0, counts);
    if (me == 0) {
        pos = 0;
        for (int r = 0; r < n; r++) {
            char want[64];
            size_t k = contribution(r, want);
            CHECK(memcmp(root + pos, want, k) == 0);
            pos += k;
        }
    } else {
        CHECK(root == NULL);
    }
    free(root);
    /* rows by range: rank r fills rows [2r, 2r + 2) of 2n rows of 3 u32 */
    uint32_t rows[8 * 2 * 3];
    memset(rows, 0, sizeof rows);
    for (int k = 2 * me; k < 2 * me + 2; k++)
        for (int c = 0; c < 3; c++)
            rows[k * 3 + c] = (uint32_t)(k * 100 + c);
    comm_allgather_ranges(rows, 3 * sizeof(uint32_t), (uint64_t)(2 * me), (uint64_t)(2 * me + 2));
    for (int k = 0; k < 2 * n; k++)
        for (int c = 0; c < 3; c++)
            CHECK_EQ_INT(rows[k * 3 + c], k * 100 + c);
}

TEST(test_alltoallv)
{
    /* rank r sends rank q (q + 1) * (r + 1) bytes of 16 r + q, except nothing from 0 to 0 */
    uint64_t sc[8], rc[8], total = 0;
    for (int q = 0; q < n; q++)
        total += sc[q] = me == 0 && q == 0 ? 0 : (uint64_t)(q + 1) * (me + 1);
    char *send = malloc(total + 1), *p = send;
    for (int q = 0; q < n; q++) {
        memset(p, 16 * me + q, sc[q]);
        p += sc[q];
    }
    char *got = comm_alltoallv(send, sc, rc);
    p = got;
    for (int r = 0; r < n; r++) {
        uint64_t want = me == 0 && r == 0 ? 0 : (uint64_t)(me + 1) * (r + 1);
        CHECK_EQ_INT(rc[r], want);
        for (uint64_t k = 0; k < want; k++)
            CHECK_EQ_INT(p[k], 16 * r + me);
        p += want;
    }
    free(send);
    free(got);
}

TEST(test_agree)
{
    CHECK_EQ_INT(comm_agree(0), 0);
    int rc = me == n - 1 ? hm_error(HM_EPARSE, "bad row on the last rank") : 0;
    rc = comm_agree(rc);
    CHECK_EQ_INT(rc, HM_EPARSE);
    if (me == n - 1) {
        CHECK_STR(hm_last_error(), "bad row on the last rank");
    } else {
        char want[64];
        snprintf(want, sizeof want, "rank %d: bad row on the last rank", n - 1);
        CHECK_STR(hm_last_error(), want);
    }
}

TEST(test_owner)
{
    uint8_t id[32];
    int seen[3] = {0, 0, 0};
    for (int k = 0; k < 300; k++) {
        memset(id, 0, sizeof id);
        id[0] = (uint8_t)k;
        id[31] = (uint8_t)(k * 7);
        CHECK_EQ_INT(comm_customer_owner(id, 1), 0);
        int o = comm_customer_owner(id, 3);
        CHECK(o >= 0 && o < 3);
        seen[o]++;
    }
    for (int o = 0; o < 3; o++)
        CHECK(seen[o] > 60); /* a hash, not a constant */
}

static void run_all(void)
{
    RUN(test_allreduce);
    RUN(test_bcast);
    RUN(test_gathers);
    RUN(test_alltoallv);
    RUN(test_agree);
    RUN(test_owner);
}

/* Runs this program on `ranks` ranks under mpirun (loopback, at most 120 s). */
static int spawn(const char *self, int ranks)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %d %s --ranks 2>&1", test_mpirun(120), ranks, self);
    int st = system(cmd);
    return st;
}

int main(int argc, char **argv)
{
    if (comm_init(&argc, &argv) != 0) {
        fprintf(stderr, "comm_init: %s\n", hm_last_error());
        return 1;
    }
    me = comm_rank();
    n = comm_size();
    int child = argc > 1 && !strcmp(argv[1], "--ranks");
    run_all();
    comm_set_round_bytes(8); /* the same in rounds of a few bytes */
    run_all();
    comm_set_round_bytes(0);
    if (!child) {
        if (n != 1)
            test_failures++;
        char self[1024];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        if (len <= 0)
            return 1;
        self[len] = 0;
        for (int ranks = 2; ranks <= 3; ranks++) {
            int st = spawn(self, ranks);
            fprintf(stderr, "%s mpirun -np %d\n", st == 0 ? "ok  " : "FAIL", ranks);
            if (st != 0)
                test_failures++;
        }
    } else {
        uint64_t sent = comm_bytes_sent();
        if (n > 1 && sent == 0)
            test_failures++;
    }
    comm_finalize();
    TEST_EXIT();
}
