/* safetensors: a strict reader of the format Hugging Face models are distributed in.
 *
 *   u64 N (little endian) | N bytes of JSON | data section
 *
 * The JSON is one object: "__metadata__" maps strings to strings; every other key is a
 * tensor name mapping to {"dtype": "F32", "shape": [d0, ...], "data_offsets": [b, e]} with
 * offsets relative to the data section. The parser is written for this grammar only and
 * rejects anything else with the byte offset, what was expected and what was found. */
#include "embed.h"

#include <stdlib.h>
#include <string.h>

#define ST_MAX_HEADER (100u << 20) /* the reference implementation's limit */

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [EMBED_ST_F64] = {"F64", 8},  [EMBED_ST_F32] = {"F32", 4},   [EMBED_ST_F16] = {"F16", 2},
    [EMBED_ST_BF16] = {"BF16", 2}, [EMBED_ST_I64] = {"I64", 8},  [EMBED_ST_I32] = {"I32", 4},
    [EMBED_ST_I16] = {"I16", 2},  [EMBED_ST_I8] = {"I8", 1},     [EMBED_ST_U8] = {"U8", 1},
    [EMBED_ST_BOOL] = {"BOOL", 1}, [EMBED_ST_U16] = {"U16", 2},  [EMBED_ST_U32] = {"U32", 4},
    [EMBED_ST_U64] = {"U64", 8},  [EMBED_ST_F8_E4M3] = {"F8_E4M3", 1},
    [EMBED_ST_F8_E5M2] = {"F8_E5M2", 1},
};
#define N_DTYPES (sizeof dtypes / sizeof dtypes[0])

const char *embed_st_dtype_name(enum embed_st_dtype d)
{
    return (size_t)d < N_DTYPES ? dtypes[d].name : "?";
}

/* ---- JSON scanning ---------------------------------------------------------------- */

struct scan {
    const char *s, *end, *base; /* text, its end, start (for offsets) */
    const char *path;
};

static size_t pos(const struct scan *c) { return (size_t)(c->s - c->base); }

/* A short description of what is at the cursor, for messages. */
static void found(const struct scan *c, char *buf, size_t n)
{
    if (c->s >= c->end) {
        snprintf(buf, n, "end of header");
        return;
    }
    unsigned char ch = (unsigned char)*c->s;
    if (ch >= 0x20 && ch < 0x7f)
        snprintf(buf, n, "'%c'", ch);
    else
        snprintf(buf, n, "byte 0x%02x", ch);
}

static int expected(const struct scan *c, const char *what)
{
    char f[32];
    found(c, f, sizeof f);
    return hm_error(HM_EFORMAT, "'%s': safetensors header, byte %zu: expected %s, found %s",
                    c->path, pos(c), what, f);
}

static void skip_ws(struct scan *c)
{
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r'))
        c->s++;
}

static int expect_char(struct scan *c, char ch, const char *what)
{
    skip_ws(c);
    if (c->s >= c->end || *c->s != ch)
        return expected(c, what);
    c->s++;
    return 0;
}

static void put_utf8(char *out, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | cp >> 6);
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xe0 | cp >> 12);
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

/* Parses a JSON string into a new allocation (escapes decoded; \u in the BMP only). */
static int parse_string(struct scan *c, char **out)
{
    skip_ws(c);
    if (c->s >= c->end || *c->s != '"')
        return expected(c, "a string");
    c->s++;
    const char *start = c->s;
    size_t cap = 0;
    while (c->s < c->end && *c->s != '"') {
        if (*c->s == '\\')
            c->s++;
        c->s++;
        cap++;
    }
    if (c->s >= c->end) {
        c->s = c->end;
        return expected(c, "the end of a string");
    }
    char *buf = hm_xmalloc(cap * 3 + 1);
    size_t n = 0;
    for (const char *p = start; p < c->s; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20) {
            free(buf);
            c->s = p;
            return expected(c, "a printable character in a string");
        }
        if (ch != '\\') {
            buf[n++] = (char)ch;
            continue;
        }
        p++;
        switch (*p) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            unsigned cp = 0;
            int ok = c->s - p > 4;
            for (int i = 1; ok && i <= 4; i++) {
                char h = p[i];
                cp = cp * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0'
                                          : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                          : h >= 'A' && h <= 'F' ? h - 'A' + 10 : (ok = 0));
            }
            if (!ok || cp == 0 || (cp >= 0xd800 && cp < 0xe000)) {
                free(buf);
                c->s = p - 1;
                return expected(c, "a \\u escape of a BMP character");
            }
            put_utf8(buf, &n, cp);
            p += 4;
            break;
        }
        default:
            free(buf);
            c->s = p - 1;
            return expected(c, "a valid escape sequence");
        }
    }
    buf[n] = '\0';
    c->s++; /* closing quote */
    *out = buf;
    return 0;
}

/* A non-negative integer below 2^53 (JSON number without fraction or exponent). */
static int parse_uint(struct scan *c, uint64_t *out)
{
    skip_ws(c);
    if (c->s >= c->end || *c->s < '0' || *c->s > '9')
        return expected(c, "a non-negative integer");
    if (*c->s == '0' && c->s + 1 < c->end && c->s[1] >= '0' && c->s[1] <= '9')
        return expected(c, "an integer without leading zeros");
    uint64_t v = 0;
    while (c->s < c->end && *c->s >= '0' && *c->s <= '9') {
        v = v * 10 + (uint64_t)(*c->s - '0');
        if (v >= (1ULL << 53))
            return expected(c, "an integer below 2^53");
        c->s++;
    }
    if (c->s < c->end && (*c->s == '.' || *c->s == 'e' || *c->s == 'E'))
        return expected(c, "an integer");
    *out = v;
    return 0;
}

/* Parses '[' u, u, ... ']' into vals (at most maxn). */
static int parse_uint_array(struct scan *c, uint64_t *vals, int maxn, int *n, const char *what)
{
    if (expect_char(c, '[', what))
        return HM_EFORMAT;
    *n = 0;
    skip_ws(c);
    if (c->s < c->end && *c->s == ']') {
        c->s++;
        return 0;
    }
    for (;;) {
        if (*n == maxn)
            return expected(c, "fewer array elements");
        if (parse_uint(c, &vals[(*n)++]))
            return HM_EFORMAT;
        skip_ws(c);
        if (c->s < c->end && *c->s == ',') {
            c->s++;
            continue;
        }
        return expect_char(c, ']', "',' or ']'");
    }
}

/* ---- header ------------------------------------------------------------------------ */

static int parse_metadata(struct scan *c, struct embed_st *st)
{
    if (expect_char(c, '{', "'{' (the __metadata__ object)"))
        return HM_EFORMAT;
    skip_ws(c);
    if (c->s < c->end && *c->s == '}') {
        c->s++;
        return 0;
    }
    for (;;) {
        char *k, *v;
        if (parse_string(c, &k))
            return HM_EFORMAT;
        if (expect_char(c, ':', "':'") || parse_string(c, &v)) {
            free(k);
            return HM_EFORMAT;
        }
        st->meta = hm_xrealloc(st->meta, (st->n_meta + 1) * 2 * sizeof *st->meta);
        st->meta[st->n_meta * 2] = k;
        st->meta[st->n_meta * 2 + 1] = v;
        st->n_meta++;
        skip_ws(c);
        if (c->s < c->end && *c->s == ',') {
            c->s++;
            continue;
        }
        return expect_char(c, '}', "',' or '}'");
    }
}

static int parse_tensor(struct scan *c, struct embed_st *st, struct embed_st_tensor *t)
{
    if (expect_char(c, '{', "'{' (a tensor entry)"))
        return HM_EFORMAT;
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    uint64_t off[2] = {0, 0};
    for (;;) {
        char *k;
        const char *kpos = c->s;
        if (parse_string(c, &k))
            return HM_EFORMAT;
        if (expect_char(c, ':', "':'")) {
            free(k);
            return HM_EFORMAT;
        }
        int rc = 0;
        if (!strcmp(k, "dtype") && !have_dtype) {
            char *d;
            const char *dpos = c->s;
            if ((rc = parse_string(c, &d)) == 0) {
                size_t i;
                for (i = 0; i < N_DTYPES; i++)
                    if (!strcmp(d, dtypes[i].name))
                        break;
                if (i == N_DTYPES) {
                    c->s = dpos;
                    skip_ws(c);
                    rc = hm_error(HM_EFORMAT, "'%s': safetensors header, byte %zu: tensor '%s': "
                                  "unknown dtype \"%s\"", c->path, pos(c), t->name, d);
                }
                t->dtype = (enum embed_st_dtype)i;
                free(d);
            }
            have_dtype = 1;
        } else if (!strcmp(k, "shape") && !have_shape) {
            uint64_t dims[EMBED_ST_MAXDIM];
            if ((rc = parse_uint_array(c, dims, EMBED_ST_MAXDIM, &t->ndim, "'[' (the shape)")) == 0)
                for (int i = 0; i < t->ndim; i++)
                    t->shape[i] = (int64_t)dims[i];
            have_shape = 1;
        } else if (!strcmp(k, "data_offsets") && !have_offsets) {
            int n;
            if ((rc = parse_uint_array(c, off, 2, &n, "'[' (the data offsets)")) == 0 && n != 2)
                rc = expected(c, "two data offsets");
            have_offsets = 1;
        } else {
            c->s = kpos;
            skip_ws(c);
            rc = hm_error(HM_EFORMAT, "'%s': safetensors header, byte %zu: tensor '%s': %s key \"%s\"",
                          c->path, pos(c), t->name,
                          strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets")
                              ? "unexpected" : "duplicate", k);
        }
        free(k);
        if (rc)
            return rc;
        skip_ws(c);
        if (c->s < c->end && *c->s == ',') {
            c->s++;
            continue;
        }
        if (expect_char(c, '}', "',' or '}'"))
            return HM_EFORMAT;
        break;
    }
    if (!have_dtype || !have_shape || !have_offsets)
        return hm_error(HM_EFORMAT, "'%s': safetensors header: tensor '%s' lacks \"%s\"", c->path,
                        t->name, !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
    /* size consistency: numel * dtype size == end - begin, inside the data section */
    uint64_t numel = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] && numel > (UINT64_MAX >> 4) / (uint64_t)t->shape[i])
            return hm_error(HM_EFORMAT, "'%s': tensor '%s': shape too large", c->path, t->name);
        numel *= (uint64_t)t->shape[i];
    }
    if (off[1] < off[0])
        return hm_error(HM_EFORMAT, "'%s': tensor '%s': data offsets [%llu, %llu] are reversed",
                        c->path, t->name, (unsigned long long)off[0], (unsigned long long)off[1]);
    if (numel * dtypes[t->dtype].size != off[1] - off[0])
        return hm_error(HM_EFORMAT, "'%s': tensor '%s': %s shape needs %llu bytes, data offsets "
                        "[%llu, %llu] hold %llu", c->path, t->name, dtypes[t->dtype].name,
                        (unsigned long long)(numel * dtypes[t->dtype].size),
                        (unsigned long long)off[0], (unsigned long long)off[1],
                        (unsigned long long)(off[1] - off[0]));
    if (off[1] > st->data_size)
        return hm_error(HM_EFORMAT, "'%s': truncated: tensor '%s' data ends at byte %llu of the "
                        "data section, which has %zu bytes", c->path, t->name,
                        (unsigned long long)off[1], st->data_size);
    t->begin = (size_t)off[0];
    t->end = (size_t)off[1];
    return 0;
}

static int parse_header(struct scan *c, struct embed_st *st)
{
    if (expect_char(c, '{', "'{' (the header object)"))
        return HM_EFORMAT;
    skip_ws(c);
    if (c->s < c->end && *c->s == '}') {
        c->s++;
    } else {
        for (;;) {
            char *name;
            const char *npos = c->s;
            if (parse_string(c, &name))
                return HM_EFORMAT;
            if (expect_char(c, ':', "':'")) {
                free(name);
                return HM_EFORMAT;
            }
            int rc;
            if (!strcmp(name, "__metadata__")) {
                free(name);
                rc = parse_metadata(c, st);
            } else {
                if (embed_st_find(st, name)) {
                    c->s = npos;
                    skip_ws(c);
                    rc = hm_error(HM_EFORMAT, "'%s': safetensors header, byte %zu: duplicate "
                                  "tensor '%s'", c->path, pos(c), name);
                    free(name);
                    return rc;
                }
                st->tensors = hm_xrealloc(st->tensors, (st->n_tensors + 1) * sizeof *st->tensors);
                struct embed_st_tensor *t = &st->tensors[st->n_tensors++];
                memset(t, 0, sizeof *t);
                t->name = name;
                rc = parse_tensor(c, st, t);
            }
            if (rc)
                return rc;
            skip_ws(c);
            if (c->s < c->end && *c->s == ',') {
                c->s++;
                continue;
            }
            if (expect_char(c, '}', "',' or '}'"))
                return HM_EFORMAT;
            break;
        }
    }
    skip_ws(c);
    if (c->s < c->end)
        return expected(c, "the end of the header");
    return 0;
}

/* Parses the header of size bytes at data (already in st->map or a caller's buffer). */
static int st_parse(struct embed_st *st, const uint8_t *data, size_t size, const char *path)
{
    if (size < 8)
        return hm_error(HM_EFORMAT, "'%s': truncated: %zu bytes, not even the 8-byte header length",
                        path, size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | data[i];
    if (n > ST_MAX_HEADER)
        return hm_error(HM_EFORMAT, "'%s': not a safetensors file: header length %llu exceeds the "
                        "100 MiB limit", path, (unsigned long long)n);
    if (n > size - 8)
        return hm_error(HM_EFORMAT, "'%s': truncated: header length %llu but only %zu bytes follow",
                        path, (unsigned long long)n, size - 8);
    st->data = data + 8 + n;
    st->data_size = size - 8 - (size_t)n;
    st->header_hash = hm_hash64(data, 8 + (size_t)n, 0x5afe);
    struct scan c = {(const char *)data + 8, (const char *)data + 8 + n, (const char *)data + 8, path};
    return parse_header(&c, st);
}

int embed_st_open(struct embed_st *st, const char *path)
{
    memset(st, 0, sizeof *st);
    int rc = hm_map_file(&st->map, path);
    if (rc)
        return rc;
    st->path = hm_xstrdup(path);
    if ((rc = st_parse(st, st->map.data, st->map.size, path)) != 0)
        embed_st_release(st);
    return rc;
}

int embed_st_open_buffer(struct embed_st *st, const uint8_t *data, size_t size, const char *name)
{
    memset(st, 0, sizeof *st);
    st->path = hm_xstrdup(name);
    int rc = st_parse(st, data, size, name);
    if (rc)
        embed_st_release(st);
    return rc;
}

void embed_st_release(struct embed_st *st)
{
    for (size_t i = 0; i < st->n_tensors; i++)
        free(st->tensors[i].name);
    for (size_t i = 0; i < st->n_meta * 2; i++)
        free(st->meta[i]);
    free(st->tensors);
    free(st->meta);
    free(st->path);
    hm_map_release(&st->map);
    memset(st, 0, sizeof *st);
}

const struct embed_st_tensor *embed_st_find(const struct embed_st *st, const char *name)
{
    for (size_t i = 0; i < st->n_tensors; i++)
        if (!strcmp(st->tensors[i].name, name))
            return &st->tensors[i];
    return NULL;
}

const char *embed_st_meta(const struct embed_st *st, const char *key)
{
    for (size_t i = 0; i < st->n_meta; i++)
        if (!strcmp(st->meta[2 * i], key))
            return st->meta[2 * i + 1];
    return NULL;
}

/* IEEE half to single, exact (subnormals, infinities and NaNs included). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | man << 13;
    } else if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                man <<= 1;
                e++;
            } while (!(man & 0x400));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
        }
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

int embed_st_read_f32(const struct embed_st *st, const struct embed_st_tensor *t, float *dst)
{
    const uint8_t *p = st->data + t->begin;
    size_t bytes = t->end - t->begin;
    if (t->dtype == EMBED_ST_F32) {
        memcpy(dst, p, bytes); /* little-endian host */
        return 0;
    }
    if (t->dtype == EMBED_ST_F16) {
        for (size_t i = 0; i < bytes / 2; i++)
            dst[i] = half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return 0;
    }
    return hm_error(HM_EFORMAT, "'%s': tensor '%s' has dtype %s, expected F32 or F16", st->path,
                    t->name, dtypes[t->dtype].name);
}
