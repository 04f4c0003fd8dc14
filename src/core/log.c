/* Log and progress hooks, clocks and memory figures. The library reports only through
 * these hooks; the command layer decides how (terminal bar, plain lines, nothing). */
#include "core.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static hm_log_fn log_fn;
static void *log_ud;
static hm_progress_fn progress_fn;
static void *progress_ud;

void hm_log_set_hook(hm_log_fn fn, void *ud)
{
    log_fn = fn;
    log_ud = ud;
}

void hm_log(int level, const char *fmt, ...)
{
    if (!log_fn)
        return;
    struct hm_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    hm_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    log_fn(level, b.s ? b.s : "", log_ud);
    hm_buf_release(&b);
}

void hm_progress_set_hook(hm_progress_fn fn, void *ud)
{
    progress_fn = fn;
    progress_ud = ud;
}

int64_t hm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double hm_seconds_since(int64_t start_ns) { return (double)(hm_now_ns() - start_ns) * 1e-9; }

uint64_t hm_peak_rss(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024;
}

void hm_progress_begin(struct hm_progress *p, const char *label, uint64_t total)
{
    p->label = label;
    p->total = total;
    atomic_store(&p->done, 0);
    p->start_ns = hm_now_ns();
    atomic_store(&p->last_ns, p->start_ns);
    if (progress_fn)
        progress_fn(label, 0, total, 0.0, 0, progress_ud);
}

void hm_progress_add(struct hm_progress *p, uint64_t n)
{
    uint64_t done = atomic_fetch_add(&p->done, n) + n;
    if (!progress_fn)
        return;
    int64_t now = hm_now_ns(), last = atomic_load(&p->last_ns);
    /* at most one report per 100 ms, from whichever thread wins the exchange */
    if (now - last >= 100000000 && atomic_compare_exchange_strong(&p->last_ns, &last, now))
        progress_fn(p->label, done, p->total, (double)(now - p->start_ns) * 1e-9, 0, progress_ud);
}

void hm_progress_end(struct hm_progress *p)
{
    if (progress_fn)
        progress_fn(p->label, atomic_load(&p->done), p->total, hm_seconds_since(p->start_ns), 1,
                    progress_ud);
}
