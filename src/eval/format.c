/* Text for reports: HTML/SVG escaping, numbers as readers expect them, base64. */
#include "eval/eval.h"
#include "core/core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- escaping ---------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when s does not start one
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_valid(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

void eval_escape(struct hm_buf *b, const char *s)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        /* copy the longest run that needs nothing */
        const unsigned char *q = p;
        while (*q >= 0x20 && *q < 0x7F && *q != '&' && *q != '<' && *q != '>' && *q != '"' &&
               *q != '\'')
            q++;
        if (q > p)
            hm_buf_append(b, (const char *)p, (size_t)(q - p));
        p = q;
        if (!*p)
            break;
        switch (*p) {
        case '&': hm_buf_puts(b, "&amp;"); p++; continue;
        case '<': hm_buf_puts(b, "&lt;"); p++; continue;
        case '>': hm_buf_puts(b, "&gt;"); p++; continue;
        case '"': hm_buf_puts(b, "&quot;"); p++; continue;
        case '\'': hm_buf_puts(b, "&#39;"); p++; continue;
        case '\t': case '\n': hm_buf_append(b, (const char *)p, 1); p++; continue;
        default: break;
        }
        if (*p < 0x20 || *p == 0x7F) {
            hm_buf_puts(b, " ");
            p++;
            continue;
        }
        size_t n = utf8_valid(p);
        if (n) {
            hm_buf_append(b, (const char *)p, n);
            p += n;
        } else {
            hm_buf_puts(b, "\xEF\xBF\xBD"); /* U+FFFD for one bad byte */
            p++;
        }
    }
}

/* ---- numbers ------------------------------------------------------------------------- */

/* Writes the whole number x (>= 0) with thousands separators. */
static void with_commas(char *out, size_t size, uint64_t x)
{
    char digits[32], tmp[48];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)x);
    size_t j = 0;
    for (int i = 0; i < n; i++) {
        tmp[j++] = digits[i];
        if ((n - 1 - i) % 3 == 0 && i != n - 1)
            tmp[j++] = ',';
    }
    tmp[j] = '\0';
    snprintf(out, size, "%s", tmp);
}

const char *eval_format(double v, enum eval_unit unit, char *buf, size_t size)
{
    if (!size)
        return buf;
    if (isnan(v)) {
        snprintf(buf, size, "n/a");
        return buf;
    }
    if (isinf(v)) {
        snprintf(buf, size, v > 0 ? "inf" : "-inf");
        return buf;
    }
    const char *sign = v < 0 ? "-" : "";
    double a = fabs(v);
    char num[48];
    switch (unit) {
    case EVAL_NUMBER:
        if (a == 0)
            snprintf(num, sizeof num, "0");
        else if (a >= 999.5 && a < 1e18)
            with_commas(num, sizeof num, (uint64_t)llround(a));
        else
            snprintf(num, sizeof num, "%.3g", a);
        snprintf(buf, size, "%s%s", sign, num);
        break;
    case EVAL_SHARE: {
        double p = a * 100;
        if (p == 0)
            snprintf(num, sizeof num, "0");
        else if (p >= 99.95)
            snprintf(num, sizeof num, p < 1e15 ? "%.0f" : "%.3g", p);
        else if (p >= 0.995)
            snprintf(num, sizeof num, "%.1f", p);
        else if (p >= 0.00995)
            snprintf(num, sizeof num, "%.2f", p);
        else
            snprintf(num, sizeof num, "%.2g", p);
        snprintf(buf, size, "%s%s%%", sign, num);
        break;
    }
    case EVAL_SECONDS:
        if (a == 0)
            snprintf(buf, size, "0 s");
        else if (a < 0.9995e-3)
            snprintf(buf, size, "%s%.3g \xC2\xB5s", sign, a * 1e6);
        else if (a < 0.9995)
            snprintf(buf, size, "%s%.3g ms", sign, a * 1e3);
        else if (a < 59.95)
            snprintf(buf, size, "%s%.3g s", sign, a);
        else if (a < 3599.5) {
            long t = lround(a);
            snprintf(buf, size, "%s%ld min %02ld s", sign, t / 60, t % 60);
        } else if (a < 1e15) {
            long long t = llround(a / 60);
            snprintf(buf, size, "%s%lld h %02lld min", sign, t / 60, t % 60);
        } else
            snprintf(buf, size, "%s%.3g s", sign, a);
        break;
    case EVAL_BYTES: {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int k = 0;
        double x = a;
        while (k < 6 && x >= 1023.5) { /* 1023.5 KiB reads as 1 MiB, not 1.02e+03 KiB */
            x /= 1024;
            k++;
        }
        if (k == 0)
            snprintf(buf, size, "%s%.0f B", sign, x);
        else
            snprintf(buf, size, "%s%.3g %s", sign, x < 999.5 ? x : floor(x + 0.5), units[k]);
        break;
    }
    case EVAL_COUNT:
        if (a < 1e18)
            with_commas(num, sizeof num, (uint64_t)llround(a));
        else
            snprintf(num, sizeof num, "%.3g", a);
        snprintf(buf, size, "%s%s", llround(a) == 0 ? "" : sign, num);
        break;
    default:
        HM_BUG("unknown unit %d", (int)unit);
    }
    return buf;
}

/* ---- base64 ---------------------------------------------------------------------------- */

void eval_base64(struct hm_buf *b, const void *data, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    size_t out = (n + 2) / 3 * 4;
    HM_GROW(b->s, b->cap, b->len + out + 1);
    char *o = b->s + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = abc[x >> 18];
        *o++ = abc[x >> 12 & 63];
        *o++ = abc[x >> 6 & 63];
        *o++ = abc[x & 63];
    }
    if (i < n) {
        uint32_t x = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = abc[x >> 18];
        *o++ = abc[x >> 12 & 63];
        *o++ = i + 1 < n ? abc[x >> 6 & 63] : '=';
        *o++ = '=';
    }
    b->len += out;
    b->s[b->len] = '\0';
}
