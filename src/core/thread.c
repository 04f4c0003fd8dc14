/* Static and dynamic parallel loops over index ranges (pthreads). */
#include "core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static int threads_set;

int hm_threads(void)
{
    if (threads_set > 0)
        return threads_set;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void hm_threads_set(int n) { threads_set = n; }

struct job {
    hm_range_fn fn;
    void *ud;
    size_t n, chunk;
    int nthreads, tid, rc;
    _Atomic size_t *next;   /* dynamic scheduling cursor, or NULL for static ranges */
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    if (!j->next) {
        size_t begin = j->n * (size_t)j->tid / (size_t)j->nthreads;
        size_t end = j->n * (size_t)(j->tid + 1) / (size_t)j->nthreads;
        if (begin < end)
            j->rc = j->fn(begin, end, j->tid, j->ud);
        return NULL;
    }
    for (;;) {
        size_t begin = atomic_fetch_add(j->next, j->chunk);
        if (begin >= j->n)
            break;
        size_t end = begin + j->chunk < j->n ? begin + j->chunk : j->n;
        int rc = j->fn(begin, end, j->tid, j->ud);
        if (rc && !j->rc)
            j->rc = rc;
    }
    return NULL;
}

static int run(int nthreads, size_t n, size_t chunk, _Atomic size_t *next, hm_range_fn fn, void *ud)
{
    if (nthreads <= 0)
        nthreads = hm_threads();
    if ((size_t)nthreads > n)
        nthreads = n ? (int)n : 1;
    struct job jobs[256];
    pthread_t tids[256];
    if (nthreads > 256)
        nthreads = 256;
    for (int t = 0; t < nthreads; t++)
        jobs[t] = (struct job){fn, ud, n, chunk, nthreads, t, 0, next};
    int started = 1;
    for (int t = 1; t < nthreads; t++, started++)
        if (pthread_create(&tids[t], NULL, run_job, &jobs[t]) != 0)
            break;
    run_job(&jobs[0]);
    /* threads that could not be started: run their share here */
    for (int t = started; t < nthreads; t++)
        run_job(&jobs[t]);
    for (int t = 1; t < started; t++)
        pthread_join(tids[t], NULL);
    for (int t = 0; t < nthreads; t++)
        if (jobs[t].rc)
            return jobs[t].rc;
    return 0;
}

int hm_parallel_for(int nthreads, size_t n, hm_range_fn fn, void *ud)
{
    return run(nthreads, n, 0, NULL, fn, ud);
}

int hm_parallel_chunks(int nthreads, size_t n, size_t chunk, hm_range_fn fn, void *ud)
{
    _Atomic size_t next = 0;
    return run(nthreads, n, chunk ? chunk : 1, &next, fn, ud);
}
