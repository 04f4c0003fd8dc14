/* The ranks of a run and their collectives over MPI; with one rank every call is local. */
#include "comm/comm.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int g_started;   /* MPI_Init was called */
static int g_rank, g_size = 1, g_local = 1;
static uint64_t g_sent;
static char g_label[32];

/* Bytes per round of a large exchange (split between the ranks): every round's buffers and
 * displacements stay far below MPI's int limits. */
#define COMM_ROUND_BYTES ((uint64_t)1 << 30)
static uint64_t g_round = COMM_ROUND_BYTES;

void comm_set_round_bytes(uint64_t bytes)
{
    g_round = bytes ? bytes : COMM_ROUND_BYTES;
}

int comm_init(int *argc, char ***argv)
{
    if (g_started || (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK")))
        return 0;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return hm_error(HM_EIO, "MPI_Init failed: is this run started by Open MPI's mpirun?");
    g_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &g_local);
    MPI_Comm_free(&local);
    if (g_size > 1)
        snprintf(g_label, sizeof g_label, "rank %d/%d", g_rank, g_size);
    return 0;
}

void comm_finalize(void)
{
    if (g_started) {
        MPI_Finalize();
        g_started = 0;
    }
}

void comm_abort(int code)
{
    if (g_started && g_size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
}

int comm_rank(void) { return g_rank; }
int comm_size(void) { return g_size; }
int comm_local_size(void) { return g_local; }
const char *comm_label(void) { return g_label; }

int comm_customer_owner(const uint8_t id[32], int size)
{
    return size <= 1 ? 0 : (int)(hm_hash64(id, 32, 0x5ba7d0c1ULL) % (uint64_t)size);
}

/* ---- waiting ------------------------------------------------------------------------------ */

/* Waits for a request: a busy phase of a few milliseconds (short exchanges), then tests with
 * growing sleeps up to a millisecond, so that a rank waiting for a slower one gives its core
 * back. */
static void wait_req(MPI_Request *req)
{
    int done = 0;
    int64_t t0 = hm_now_ns();
    long pause = 20000;
    for (;;) {
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
        if (hm_now_ns() - t0 < 5000000)
            continue;
        struct timespec ts = {0, pause};
        nanosleep(&ts, NULL);
        if (pause < 1000000)
            pause *= 2;
    }
}

void comm_barrier(void)
{
    if (g_size == 1)
        return;
    MPI_Request r;
    MPI_Ibarrier(MPI_COMM_WORLD, &r);
    wait_req(&r);
}

/* ---- allreduce ------------------------------------------------------------------------------- */

static MPI_Op mpi_op(enum comm_op op)
{
    return op == COMM_SUM ? MPI_SUM : op == COMM_MAX ? MPI_MAX : MPI_MIN;
}

static void allreduce(void *v, size_t n, size_t elem, MPI_Datatype type, enum comm_op op)
{
    if (g_size == 1 || n == 0)
        return;
    const size_t step = (size_t)1 << 26;
    for (size_t i = 0; i < n; i += step) {
        int m = (int)(n - i < step ? n - i : step);
        MPI_Request r;
        MPI_Iallreduce(MPI_IN_PLACE, (char *)v + i * elem, m, type, mpi_op(op), MPI_COMM_WORLD, &r);
        wait_req(&r);
        g_sent += (uint64_t)m * elem * (uint64_t)(g_size - 1);
    }
}

void comm_allreduce_u64(uint64_t *v, size_t n, enum comm_op op) { allreduce(v, n, 8, MPI_UINT64_T, op); }
void comm_allreduce_u32(uint32_t *v, size_t n, enum comm_op op) { allreduce(v, n, 4, MPI_UINT32_T, op); }
void comm_allreduce_i32(int32_t *v, size_t n, enum comm_op op) { allreduce(v, n, 4, MPI_INT32_T, op); }
void comm_allreduce_f64(double *v, size_t n, enum comm_op op) { allreduce(v, n, 8, MPI_DOUBLE, op); }
void comm_allreduce_f32(float *v, size_t n, enum comm_op op) { allreduce(v, n, 4, MPI_FLOAT, op); }

/* ---- broadcast ----------------------------------------------------------------------------- */

void comm_bcast(void *buf, size_t bytes, int root)
{
    if (g_size == 1 || bytes == 0)
        return;
    for (size_t i = 0; i < bytes; i += g_round) {
        int m = (int)(bytes - i < g_round ? bytes - i : g_round);
        MPI_Request r;
        MPI_Ibcast((char *)buf + i, m, MPI_BYTE, root, MPI_COMM_WORLD, &r);
        wait_req(&r);
    }
    if (g_rank == root)
        g_sent += (uint64_t)bytes * (uint64_t)(g_size - 1);
}

/* ---- gathers ------------------------------------------------------------------------------- */

/* Every rank's counts[rank] bytes at send go to out + displ[r] on root (every rank when root
 * is -1), in rounds of at most COMM_ROUND_BYTES / size bytes per rank through a staging
 * buffer. */
static void gather_rounds(const void *send, void *out, const uint64_t *counts, const uint64_t *displ, int root)
{
    int n = g_size;
    uint64_t per = g_round / (uint64_t)n, most = 0;
    for (int r = 0; r < n; r++)
        if (counts[r] > most)
            most = counts[r];
    int *cnt = hm_xmalloc_array((size_t)n, sizeof *cnt), *dis = hm_xmalloc_array((size_t)n, sizeof *dis);
    int receive = root < 0 || root == g_rank;
    char *stage = receive ? hm_xmalloc(per * (uint64_t)n + 1) : NULL;
    for (uint64_t done = 0; done < most; done += per) {
        int total = 0;
        for (int r = 0; r < n; r++) {
            uint64_t left = counts[r] > done ? counts[r] - done : 0;
            cnt[r] = (int)(left < per ? left : per);
            dis[r] = total;
            total += cnt[r];
        }
        const char *src = (const char *)send + (counts[g_rank] > done ? done : counts[g_rank]);
        MPI_Request q;
        if (root < 0)
            MPI_Iallgatherv(src, cnt[g_rank], MPI_BYTE, stage, cnt, dis, MPI_BYTE, MPI_COMM_WORLD, &q);
        else
            MPI_Igatherv(src, cnt[g_rank], MPI_BYTE, stage, cnt, dis, MPI_BYTE, root, MPI_COMM_WORLD, &q);
        wait_req(&q);
        if (receive)
            for (int r = 0; r < n; r++)
                if (cnt[r] && (char *)out + displ[r] + done != stage + dis[r])
                    memmove((char *)out + displ[r] + done, stage + dis[r], (size_t)cnt[r]);
    }
    free(stage);
    free(cnt);
    free(dis);
}

/* Every rank's byte count, on every rank. */
static uint64_t *all_counts(uint64_t bytes)
{
    uint64_t *counts = hm_xcalloc((size_t)g_size, sizeof *counts);
    counts[g_rank] = bytes;
    MPI_Request r;
    MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, counts, 1, MPI_UINT64_T, MPI_COMM_WORLD, &r);
    wait_req(&r);
    return counts;
}

static void *gather_any(const void *buf, size_t bytes, int root, uint64_t *counts_out)
{
    if (g_size == 1) {
        if (counts_out)
            counts_out[0] = bytes;
        void *out = hm_xmalloc(bytes + 1);
        if (bytes)
            memcpy(out, buf, bytes);
        return out;
    }
    uint64_t *counts = all_counts(bytes);
    uint64_t *displ = hm_xmalloc_array((size_t)g_size, sizeof *displ), total = 0;
    for (int r = 0; r < g_size; r++) {
        displ[r] = total;
        total += counts[r];
    }
    void *out = root < 0 || root == g_rank ? hm_xmalloc(total + 1) : NULL;
    gather_rounds(buf, out, counts, displ, root);
    if (root < 0)
        g_sent += (uint64_t)bytes * (uint64_t)(g_size - 1);
    else if (root != g_rank)
        g_sent += bytes;
    if (counts_out && (root < 0 || root == g_rank))
        memcpy(counts_out, counts, (size_t)g_size * sizeof *counts);
    free(counts);
    free(displ);
    return out;
}

void *comm_allgatherv(const void *buf, size_t bytes, uint64_t *counts)
{
    return gather_any(buf, bytes, -1, counts);
}

void *comm_gatherv(const void *buf, size_t bytes, int root, uint64_t *counts)
{
    return gather_any(buf, bytes, root, counts);
}

void comm_allgather_ranges(void *out, size_t row_bytes, uint64_t lo, uint64_t hi)
{
    if (g_size == 1)
        return;
    uint64_t *lohi = hm_xcalloc((size_t)g_size * 2, sizeof *lohi);
    lohi[2 * g_rank] = lo;
    lohi[2 * g_rank + 1] = hi;
    MPI_Request r;
    MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, lohi, 2, MPI_UINT64_T, MPI_COMM_WORLD, &r);
    wait_req(&r);
    uint64_t *counts = hm_xmalloc_array((size_t)g_size, sizeof *counts);
    uint64_t *displ = hm_xmalloc_array((size_t)g_size, sizeof *displ);
    for (int k = 0; k < g_size; k++) {
        counts[k] = (lohi[2 * k + 1] - lohi[2 * k]) * row_bytes;
        displ[k] = lohi[2 * k] * row_bytes;
    }
    gather_rounds((char *)out + lo * row_bytes, out, counts, displ, -1);
    g_sent += counts[g_rank] * (uint64_t)(g_size - 1);
    free(lohi);
    free(counts);
    free(displ);
}

/* ---- alltoallv ------------------------------------------------------------------------------ */

void *comm_alltoallv(const void *send, const uint64_t *send_counts, uint64_t *recv_counts)
{
    int n = g_size;
    if (n == 1) {
        recv_counts[0] = send_counts[0];
        void *out = hm_xmalloc(send_counts[0] + 1);
        if (send_counts[0])
            memcpy(out, send, send_counts[0]);
        return out;
    }
    MPI_Request q;
    MPI_Ialltoall(send_counts, 1, MPI_UINT64_T, recv_counts, 1, MPI_UINT64_T, MPI_COMM_WORLD, &q);
    wait_req(&q);
    uint64_t *sdis = hm_xmalloc_array((size_t)n, sizeof *sdis), *rdis = hm_xmalloc_array((size_t)n, sizeof *rdis);
    uint64_t stotal = 0, rtotal = 0, most = 0;
    for (int r = 0; r < n; r++) {
        sdis[r] = stotal;
        rdis[r] = rtotal;
        stotal += send_counts[r];
        rtotal += recv_counts[r];
        if (send_counts[r] > most)
            most = send_counts[r];
        if (recv_counts[r] > most)
            most = recv_counts[r];
        if (r != g_rank)
            g_sent += send_counts[r];
    }
    comm_allreduce_u64(&most, 1, COMM_MAX);
    char *out = hm_xmalloc(rtotal + 1);
    uint64_t per = g_round / (uint64_t)n;
    int *sc = hm_xmalloc_array((size_t)n, sizeof *sc), *sd = hm_xmalloc_array((size_t)n, sizeof *sd);
    int *rc = hm_xmalloc_array((size_t)n, sizeof *rc), *rd = hm_xmalloc_array((size_t)n, sizeof *rd);
    if (most <= per) {
        /* one round: the buffers themselves (every displacement below 2^30) */
        for (int r = 0; r < n; r++) {
            sc[r] = (int)send_counts[r];
            sd[r] = (int)sdis[r];
            rc[r] = (int)recv_counts[r];
            rd[r] = (int)rdis[r];
        }
        if (stotal <= g_round && rtotal <= g_round) {
            MPI_Ialltoallv(send, sc, sd, MPI_BYTE, out, rc, rd, MPI_BYTE, MPI_COMM_WORLD, &q);
            wait_req(&q);
            goto done;
        }
    }
    {
        char *sstage = hm_xmalloc(per * (uint64_t)n + 1), *rstage = hm_xmalloc(per * (uint64_t)n + 1);
        for (uint64_t d = 0; d < most; d += per) {
            int st = 0, rt = 0;
            for (int r = 0; r < n; r++) {
                uint64_t sl = send_counts[r] > d ? send_counts[r] - d : 0, rl = recv_counts[r] > d ? recv_counts[r] - d : 0;
                sc[r] = (int)(sl < per ? sl : per);
                rc[r] = (int)(rl < per ? rl : per);
                sd[r] = st;
                rd[r] = rt;
                if (sc[r])
                    memcpy(sstage + st, (const char *)send + sdis[r] + d, (size_t)sc[r]);
                st += sc[r];
                rt += rc[r];
            }
            MPI_Ialltoallv(sstage, sc, sd, MPI_BYTE, rstage, rc, rd, MPI_BYTE, MPI_COMM_WORLD, &q);
            wait_req(&q);
            for (int r = 0; r < n; r++)
                if (rc[r])
                    memcpy(out + rdis[r] + d, rstage + rd[r], (size_t)rc[r]);
        }
        free(sstage);
        free(rstage);
    }
done:
    free(sdis);
    free(rdis);
    free(sc);
    free(sd);
    free(rc);
    free(rd);
    return out;
}

/* ---- selection ----------------------------------------------------------------------------- */

uint64_t comm_kth_smallest(const uint64_t *keys, uint64_t n, uint64_t k)
{
    uint64_t *hist = hm_xcalloc((size_t)1 << 16, sizeof *hist);
    for (uint64_t i = 0; i < n; i++)
        hist[keys[i] >> 48]++;
    comm_allreduce_u64(hist, (size_t)1 << 16, COMM_SUM);
    uint64_t below = 0;
    uint32_t b = 0;
    while (b < 0xffff && below + hist[b] < k)
        below += hist[b++];
    free(hist);
    HM_VEC(uint64_t) edge = {0};
    for (uint64_t i = 0; i < n; i++)
        if (keys[i] >> 48 == b)
            HM_VEC_PUSH(&edge, keys[i]);
    uint64_t *counts = hm_xcalloc((size_t)g_size, sizeof *counts), m = 0;
    uint64_t *all = comm_allgatherv(edge.v, edge.n * sizeof *edge.v, counts);
    free(edge.v);
    for (int r = 0; r < g_size; r++)
        m += counts[r] / sizeof *all;
    free(counts);
    hm_sort_u64(all, m);
    HM_ASSERT(k > below && k - below <= m);
    uint64_t key = all[k - below - 1];
    free(all);
    return key;
}

/* ---- errors ---------------------------------------------------------------------------------- */

int comm_agree(int rc)
{
    if (g_size == 1)
        return rc;
    int32_t first = rc ? g_rank : g_size;
    comm_allreduce_i32(&first, 1, COMM_MIN);
    if (first == g_size)
        return 0;
    struct {
        int32_t code;
        char msg[2048];
    } m;
    memset(&m, 0, sizeof m);
    if (g_rank == first) {
        m.code = rc;
        snprintf(m.msg, sizeof m.msg, "%s", hm_last_error());
    }
    comm_bcast(&m, sizeof m, first);
    if (rc)
        return rc;
    return hm_error(m.code ? m.code : HM_EIO, "rank %d: %s", (int)first, m.msg);
}

uint64_t comm_bytes_sent(void)
{
    return g_sent;
}
