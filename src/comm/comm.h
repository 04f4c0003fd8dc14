/* comm: the ranks of a run started by mpirun (Open MPI), and what they send each other
 * (docs/scale.md).
 *
 * hmrec started without mpirun is one rank: nothing is started, every call below returns at
 * once (a collective over one rank is a copy or nothing), so the one-process run is the same
 * code path as a run on N ranks. Under mpirun (its environment names the ranks) comm_init
 * starts MPI and every rank runs the same program on its shard of the customers.
 *
 * Collectives must be called by every rank in the same order. They wait without spinning (a
 * test-and-sleep loop after a short busy phase), so ranks waiting for another do not take its
 * cores. Sizes are 64-bit: messages larger than MPI's int counts go in rounds. Every call
 * counts the bytes this rank sends to other ranks (comm_bytes_sent), which the pipeline prints
 * per stage. Only src/comm/comm.c includes mpi.h.
 *
 * Errors: MPI failures abort the run (MPI's default handler); comm_agree turns an error on one
 * rank into an error on every rank that names it. */
#ifndef HM_COMM_H
#define HM_COMM_H

#include "core/core.h"

/* Starts MPI when mpirun launched this process (OMPI_COMM_WORLD_SIZE or PMIX_RANK in the
 * environment); otherwise the run is one rank. Call once, from main, before any thread. */
int comm_init(int *argc, char ***argv);
/* Ends MPI when it was started (every rank calls it at the end). */
void comm_finalize(void);
/* Ends every rank of the run with this exit code (MPI_Abort) when there is more than one;
 * returns when there is one. For the command layer only. */
void comm_abort(int code);

int comm_rank(void);        /* 0 .. comm_size() - 1 */
int comm_size(void);        /* ranks of the run (1 without mpirun) */
int comm_local_size(void);  /* ranks on this machine (1 without mpirun) */
/* "rank 2/3" (a static string; "" with one rank), to prefix diagnostics. */
const char *comm_label(void);

/* The rank that owns a customer: a hash of the 32 bytes of their id, modulo the ranks. */
int comm_customer_owner(const uint8_t id[32], int size);

/* ---- collectives ------------------------------------------------------------------------- */

void comm_barrier(void);

enum comm_op { COMM_SUM, COMM_MAX, COMM_MIN };
/* v[0..n) combined over the ranks, on every rank. Floating-point sums are exact only when the
 * values are integers (below 2^24 for floats, 2^53 for doubles) or one rank holds a non-zero
 * value; callers that need a fixed order of other sums gather the terms instead. */
void comm_allreduce_u64(uint64_t *v, size_t n, enum comm_op op);
void comm_allreduce_u32(uint32_t *v, size_t n, enum comm_op op);
void comm_allreduce_i32(int32_t *v, size_t n, enum comm_op op);
void comm_allreduce_f64(double *v, size_t n, enum comm_op op);
void comm_allreduce_f32(float *v, size_t n, enum comm_op op);

/* buf[0..bytes) of root copied to every rank. */
void comm_bcast(void *buf, size_t bytes, int root);

/* Every rank's bytes, concatenated in rank order, in a new buffer (the caller frees it;
 * never NULL). counts (comm_size(), may be NULL): the bytes from each rank. */
void *comm_allgatherv(const void *buf, size_t bytes, uint64_t *counts);
/* The same, on root only (NULL elsewhere). */
void *comm_gatherv(const void *buf, size_t bytes, int root, uint64_t *counts);
/* Rows of fixed size spread over the ranks by range: rank r holds rows [lo_r, hi_r) of an
 * array of n rows (the ranges in rank order cover [0, n)); on return every rank holds all of
 * them in out (n rows). Rank r's rows are read from out + lo_r * row_bytes. */
void comm_allgather_ranges(void *out, size_t row_bytes, uint64_t lo, uint64_t hi);

/* Personalised exchange: send holds, for every rank r in order, send_counts[r] bytes for it;
 * returns what every rank sent this one, concatenated in source rank order (a new buffer,
 * never NULL; the caller frees it), with recv_counts (comm_size()) the bytes from each. */
void *comm_alltoallv(const void *send, const uint64_t *send_counts, uint64_t *recv_counts);

/* For tests: exchanges in rounds of at most this many bytes (0: the default, 1 GiB). */
void comm_set_round_bytes(uint64_t bytes);

/* The k-th smallest (k from 1) of every rank's keys, which must be distinct over the ranks
 * (e.g. a hash with the row in its low bits), 1 <= k <= their number: a histogram of the keys'
 * top 16 bits finds the bucket that holds it, and only that bucket's keys are gathered. */
uint64_t comm_kth_smallest(const uint64_t *keys, uint64_t n, uint64_t k);

/* ---- errors ---------------------------------------------------------------------------- */

/* Collective: 0 when rc is 0 on every rank. Otherwise every rank returns an error: the rank
 * with the lowest number among those that failed keeps its message, the others get
 * "rank K: <its message>". */
int comm_agree(int rc);

/* ---- volume ------------------------------------------------------------------------------ */

/* Bytes this rank has sent to other ranks so far. */
uint64_t comm_bytes_sent(void);

#endif
