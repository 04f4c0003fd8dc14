/* Growth arrays and the string buffer. */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

size_t hm_grow_cap(size_t cap, size_t need)
{
    if (need <= cap)
        return cap;
    size_t c = cap + cap / 2;
    if (c < 16)
        c = 16;
    return c > need ? c : need;
}

/* ---- the string buffer ------------------------------------------------------------------ */

void hm_buf_append(struct hm_buf *b, const char *s, size_t n)
{
    HM_GROW(b->s, b->cap, b->len + n + 1);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void hm_buf_puts(struct hm_buf *b, const char *s)
{
    hm_buf_append(b, s, strlen(s));
}

void hm_buf_vprintf(struct hm_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
    if (n < 0)
        HM_BUG("bad format '%s'", fmt);
    if ((size_t)n >= room) {
        HM_GROW(b->s, b->cap, b->len + (size_t)n + 1);
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}

void hm_buf_printf(struct hm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hm_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *hm_buf_take(struct hm_buf *b)
{
    char *s = b->s ? b->s : hm_xstrdup("");
    memset(b, 0, sizeof *b);
    return s;
}

void hm_buf_release(struct hm_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}
