/* Number and id parsers for CSV fields: exact, locale-independent, no allocation. */
#include "io/parse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- floats ------------------------------------------------------------------ */

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The slow, always right path: strtof on a terminated copy (the "C" locale is set by the
 * command layer; the syntax was checked already, so only digits, '.', 'e' and signs). */
static int slow_f32(const char *s, size_t len, float *out)
{
    char buf[128];
    char *tmp = len < sizeof buf ? buf : hm_xmalloc(len + 1);
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    float v = strtof(tmp, &end);
    int ok = end == tmp + len && isfinite(v);
    if (tmp != buf)
        free(tmp);
    if (!ok)
        return -1;
    *out = v;
    return 0;
}

int io_parse_f32(const char *s, size_t len, float *out)
{
    const char *p = s, *end = s + len;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    uint64_t m = 0;
    int sig = 0;      /* significant digits taken into m */
    int dropped = 0;  /* non-zero digits that did not fit */
    int exp10 = 0;    /* value = m * 10^exp10 */
    int ndig = 0;
    while (p < end && (unsigned)(*p - '0') < 10) {
        if (sig < 19) {
            if (m || *p != '0') {
                m = m * 10 + (uint64_t)(*p - '0');
                sig++;
            }
        } else {
            exp10++;
            dropped |= *p != '0';
        }
        p++;
        ndig++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (sig < 19) {
                if (m || *p != '0') {
                    m = m * 10 + (uint64_t)(*p - '0');
                    sig++;
                }
                exp10--;
            } else {
                dropped |= *p != '0';
            }
            p++;
            ndig++;
        }
    }
    if (ndig == 0)
        return -1;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, e = 0, ed = 0;
        if (p < end && (*p == '-' || *p == '+'))
            eneg = *p++ == '-';
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (e < 100000)
                e = e * 10 + (*p - '0');
            p++;
            ed++;
        }
        if (!ed)
            return -1;
        exp10 += eneg ? -e : e;
    }
    if (p != end)
        return -1;
    if (m == 0) {
        *out = neg ? -0.0f : 0.0f;
        return 0;
    }
    if (dropped || exp10 < -22 || exp10 > 22)
        return slow_f32(s, len, out);
    double d = (double)m; /* relative error <= 2^-53 */
    if (exp10 < 0)
        d /= pow10_tab[-exp10];
    else
        d *= pow10_tab[exp10];
    /* d is within 2^-52 (relative) of the exact value (one or two roundings); if that
     * whole interval rounds to one float, it is the correctly rounded result, since
     * rounding is monotonic. Otherwise (very rare) ask strtof. */
    float lo = (float)(d - d * 0x1p-51), hi = (float)(d + d * 0x1p-51);
    if (lo != hi || !isfinite(lo) || (lo == 0.0f))
        return slow_f32(s, len, out);
    *out = neg ? -lo : lo;
    return 0;
}

int io_format_f32(float f, char *buf)
{
    for (int prec = 6; prec <= 9; prec++) {
        int n = snprintf(buf, 32, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f || prec == 9)
            return n;
    }
    return 0;
}

/* ---- integers ------------------------------------------------------------------ */

int io_parse_i32(const char *s, size_t len, int32_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return -1;
    int64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return -1;
        v = v * 10 + d;
        if (v > (int64_t)INT32_MAX + 1)
            return -1;
    }
    if (neg)
        v = -v;
    if (v > INT32_MAX || v < INT32_MIN + 1) /* INT32_MIN is the missing marker */
        return -1;
    *out = (int32_t)v;
    return 0;
}

int io_parse_u32(const char *s, size_t len, uint32_t *out)
{
    if (len == 0 || len > 10)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return -1;
        v = v * 10 + d;
    }
    if (v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* ---- hex ids ------------------------------------------------------------------------ */

static const int8_t hexval[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
    ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
    ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
}; /* value + 1; 0 = not a hex digit */

/* Two hex digits (as a little-endian u16 of their bytes) -> the byte, or 0x100 when either
 * is not a hex digit: one lookup per output byte (128 KiB, stays in cache). */
static uint16_t hex_pair[65536];

__attribute__((constructor)) static void hex_pair_init(void)
{
    for (int i = 0; i < 65536; i++) {
        int hi = hexval[i & 0xff], lo = hexval[i >> 8];
        hex_pair[i] = hi && lo ? (uint16_t)((hi - 1) << 4 | (lo - 1)) : 0x100;
    }
}

int io_parse_hex256(const char *s, size_t len, uint8_t out[32])
{
    if (len != 64)
        return -1;
    unsigned bad = 0;
    const uint8_t *u = (const uint8_t *)s;
    for (int i = 0; i < 32; i++) {
        unsigned v = hex_pair[u[2 * i] | (unsigned)u[2 * i + 1] << 8];
        bad |= v;
        out[i] = (uint8_t)v;
    }
    return bad & 0x100 ? -1 : 0;
}

void io_format_hex256(const uint8_t in[32], char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[64] = '\0';
}
