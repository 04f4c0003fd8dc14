/* hm_hash64: four independent 64-bit lanes over 32-byte blocks (multiply-rotate), then a
 * tail and a final mix. Fast enough to checksum gigabytes at memory speed. */
#include "core.h"

#include <string.h>

#define P1 0x9e3779b185ebca87ULL
#define P2 0xc2b2ae3d27d4eb4fULL

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline uint64_t lane(uint64_t acc, uint64_t v) { return rotl(acc + v * P2, 31) * P1; }

uint64_t hm_hash64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data, *end = p + len;
    uint64_t a = seed + P1 + P2, b = seed + P2, c = seed, d = seed - P1;
    while (end - p >= 32) {
        a = lane(a, load64(p));
        b = lane(b, load64(p + 8));
        c = lane(c, load64(p + 16));
        d = lane(d, load64(p + 24));
        p += 32;
    }
    uint64_t h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18) + (uint64_t)len;
    while (end - p >= 8) {
        h = rotl(h ^ lane(0, load64(p)), 27) * P1 + P2;
        p += 8;
    }
    uint64_t tail = 0;
    size_t rest = (size_t)(end - p);
    memcpy(&tail, p, rest);
    h ^= lane(0, tail ^ ((uint64_t)rest << 56));
    return hm_mix64(h);
}
