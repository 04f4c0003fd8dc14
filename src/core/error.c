/* Errors (thread-local message), out-of-memory handling and allocation helpers. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[1024];

int hm_verror(int code, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    return code;
}

int hm_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hm_verror(code, fmt, ap);
    va_end(ap);
    return code;
}

int hm_error_wrap(int code, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    size_t n = strlen(prefix), m = strlen(old), cap = sizeof last_error - 1;
    if (n > cap)
        n = cap;
    memcpy(last_error, prefix, n);
    if (n + 2 <= cap) {
        memcpy(last_error + n, ": ", 2);
        n += 2;
    }
    if (m > cap - n)
        m = cap - n;
    memcpy(last_error + n, old, m);
    last_error[n + m] = '\0';
    return code;
}

const char *hm_last_error(void) { return last_error; }
void hm_clear_error(void) { last_error[0] = '\0'; }

void hm_bug(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hmrec: BUG at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* ---- allocation --------------------------------------------------------- */

static _Noreturn void out_of_memory(size_t size)
{
    fprintf(stderr, "hmrec: out of memory (allocating %zu bytes)\n", size);
    abort();
}

void *hm_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        out_of_memory(size);
    return p;
}

void *hm_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory(n * size);
    return p;
}

void *hm_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        out_of_memory(size);
    return q;
}

void *hm_xmalloc_array(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        HM_BUG("allocation size overflow (%zu x %zu)", n, size);
    return hm_xmalloc(n * size);
}

char *hm_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(hm_xmalloc(n), s, n);
}

char *hm_xasprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        HM_BUG("bad format '%s'", fmt);
    char *s = hm_xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}
