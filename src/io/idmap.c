/* Id maps (open addressing, linear probing) and string dictionaries. */
#include "io/idmap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- 256-bit keys -------------------------------------------------------------- */

struct io_idmap256_slot {
    uint64_t k[4];
    uint32_t value; /* UINT32_MAX = empty */
    uint32_t pad[7];
}; /* 64 bytes: one cache line per probe */

static uint64_t table_size(uint64_t expected)
{
    uint64_t n = 16;
    while (n < expected + expected / 2 + 16)
        n *= 2;
    return n;
}

void io_idmap256_init(struct io_idmap256 *m, uint32_t expected)
{
    uint64_t n = table_size(expected);
    size_t bytes = n * sizeof *m->slots;
    m->slots = aligned_alloc(bytes >= (2u << 20) ? (2u << 20) : 64, bytes);
    if (!m->slots)
        m->slots = hm_xmalloc(bytes); /* aborts with a message */
    if (bytes >= (2u << 20))
        madvise(m->slots, bytes, MADV_HUGEPAGE); /* fewer TLB misses on random lookups */
    for (uint64_t i = 0; i < n; i++)
        m->slots[i].value = UINT32_MAX;
    m->mask = n - 1;
    m->n = 0;
}

void io_idmap256_release(struct io_idmap256 *m)
{
    free(m->slots);
    m->slots = NULL;
    m->mask = 0;
    m->n = 0;
}

static inline uint64_t key_hash(const uint64_t k[4])
{
    /* the ids are hashes already; mix anyway so that crafted ids do not cluster */
    return hm_mix64(k[0] ^ hm_mix64(k[1] + k[2] * 0x9e3779b97f4a7c15ULL) ^ k[3]);
}

uint64_t io_idmap256_hash(const uint8_t key[32])
{
    uint64_t k[4];
    memcpy(k, key, 32);
    return key_hash(k);
}

void io_idmap256_prefetch(const struct io_idmap256 *m, uint64_t hash)
{
    __builtin_prefetch(&m->slots[hash & m->mask]);
}

uint32_t io_idmap256_get(const struct io_idmap256 *m, const uint8_t key[32])
{
    return io_idmap256_get_hashed(m, key, io_idmap256_hash(key));
}

uint32_t io_idmap256_get_hashed(const struct io_idmap256 *m, const uint8_t key[32], uint64_t hash)
{
    uint64_t k[4];
    memcpy(k, key, 32);
    for (uint64_t i = hash & m->mask;; i = (i + 1) & m->mask) {
        const struct io_idmap256_slot *s = &m->slots[i];
        if (s->value == UINT32_MAX)
            return UINT32_MAX;
        if (s->k[0] == k[0] && s->k[1] == k[1] && s->k[2] == k[2] && s->k[3] == k[3])
            return s->value;
    }
}

static void grow256(struct io_idmap256 *m)
{
    struct io_idmap256 g;
    io_idmap256_init(&g, (uint32_t)((m->mask + 1)));
    for (uint64_t i = 0; i <= m->mask; i++)
        if (m->slots[i].value != UINT32_MAX)
            io_idmap256_put(&g, (const uint8_t *)m->slots[i].k, m->slots[i].value);
    free(m->slots);
    *m = g;
}

uint32_t io_idmap256_put(struct io_idmap256 *m, const uint8_t key[32], uint32_t value)
{
    if ((uint64_t)(m->n + 1) * 3 > (m->mask + 1) * 2)
        grow256(m);
    uint64_t k[4];
    memcpy(k, key, 32);
    for (uint64_t i = key_hash(k) & m->mask;; i = (i + 1) & m->mask) {
        struct io_idmap256_slot *s = &m->slots[i];
        if (s->value == UINT32_MAX) {
            memcpy(s->k, k, 32);
            s->value = value;
            m->n++;
            return value;
        }
        if (s->k[0] == k[0] && s->k[1] == k[1] && s->k[2] == k[2] && s->k[3] == k[3])
            return s->value;
    }
}

/* ---- 32-bit keys ---------------------------------------------------------------- */

void io_idmap32_init(struct io_idmap32 *m, uint32_t expected)
{
    uint64_t n = table_size(expected) * 2;
    m->slots = hm_xmalloc_array(n, sizeof *m->slots);
    memset(m->slots, 0xff, n * sizeof *m->slots);
    m->mask = n - 1;
    m->n = 0;
}

void io_idmap32_release(struct io_idmap32 *m)
{
    free(m->slots);
    m->slots = NULL;
    m->mask = 0;
    m->n = 0;
}

void io_idmap32_prefetch(const struct io_idmap32 *m, uint32_t key)
{
    __builtin_prefetch(&m->slots[hm_mix64(key) & m->mask]);
}

uint32_t io_idmap32_get(const struct io_idmap32 *m, uint32_t key)
{
    for (uint64_t i = hm_mix64(key) & m->mask;; i = (i + 1) & m->mask) {
        uint64_t s = m->slots[i];
        if (s == UINT64_MAX)
            return UINT32_MAX;
        if ((uint32_t)(s >> 32) == key)
            return (uint32_t)s;
    }
}

uint32_t io_idmap32_put(struct io_idmap32 *m, uint32_t key, uint32_t value)
{
    if ((uint64_t)(m->n + 1) * 2 > m->mask + 1) {
        struct io_idmap32 g;
        io_idmap32_init(&g, (uint32_t)(m->mask + 1));
        for (uint64_t i = 0; i <= m->mask; i++)
            if (m->slots[i] != UINT64_MAX)
                io_idmap32_put(&g, (uint32_t)(m->slots[i] >> 32), (uint32_t)m->slots[i]);
        free(m->slots);
        *m = g;
    }
    for (uint64_t i = hm_mix64(key) & m->mask;; i = (i + 1) & m->mask) {
        uint64_t s = m->slots[i];
        if (s == UINT64_MAX) {
            m->slots[i] = (uint64_t)key << 32 | value;
            m->n++;
            return value;
        }
        if ((uint32_t)(s >> 32) == key)
            return (uint32_t)s;
    }
}

/* ---- string dictionaries ----------------------------------------------------------- */

void io_strdict_init(struct io_strdict *d)
{
    memset(d, 0, sizeof *d);
    d->cap = 64;
    d->off = hm_xmalloc_array(d->cap + 1, sizeof *d->off);
    d->cap_bytes = 1024;
    d->bytes = hm_xmalloc(d->cap_bytes);
    d->mask = 127;
    d->slots = hm_xcalloc(d->mask + 1, sizeof *d->slots);
    d->off[0] = 0;
    d->off[1] = 0;
    d->n = 1; /* code 0: "" */
}

void io_strdict_release(struct io_strdict *d)
{
    free(d->off);
    free(d->bytes);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static uint64_t str_hash(const char *s, size_t len) { return hm_hash64(s, len, 0x5eed); }

static void strdict_rehash(struct io_strdict *d)
{
    free(d->slots);
    d->mask = d->mask * 2 + 1;
    d->slots = hm_xcalloc(d->mask + 1, sizeof *d->slots);
    for (uint32_t c = 1; c < d->n; c++) {
        uint64_t i = str_hash(d->bytes + d->off[c], d->off[c + 1] - d->off[c]) & d->mask;
        while (d->slots[i])
            i = (i + 1) & d->mask;
        d->slots[i] = c + 1;
    }
}

uint32_t io_strdict_put(struct io_strdict *d, const char *s, size_t len)
{
    if (len == 0)
        return 0;
    uint64_t i = str_hash(s, len) & d->mask;
    for (; d->slots[i]; i = (i + 1) & d->mask) {
        uint32_t c = d->slots[i] - 1;
        if (d->off[c + 1] - d->off[c] == len && !memcmp(d->bytes + d->off[c], s, len))
            return c;
    }
    HM_GROW(d->off, d->cap, (size_t)d->n + 2); /* off has n + 1 entries */
    HM_GROW(d->bytes, d->cap_bytes, d->n_bytes + len);
    uint32_t c = d->n++;
    memcpy(d->bytes + d->n_bytes, s, len);
    d->n_bytes += len;
    d->off[c + 1] = d->n_bytes;
    d->slots[i] = c + 1;
    if ((uint64_t)d->n * 2 > d->mask + 1)
        strdict_rehash(d);
    return c;
}
