/* Random numbers: xoshiro256** seeded through splitmix64. Streams are independent
 * generators derived from (seed, stream), so parallel work stays deterministic. */
#include "core.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    return hm_mix64(z);
}

void hm_rng_seed(struct hm_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

void hm_rng_seed2(struct hm_rng *r, uint64_t seed, uint64_t stream)
{
    hm_rng_seed(r, hm_mix64(seed ^ hm_mix64(stream + 0x632be59bd9b4e019ULL)));
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t hm_rng_u64(struct hm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hm_rng_uniform(struct hm_rng *r) { return (double)(hm_rng_u64(r) >> 11) * 0x1.0p-53; }

uint64_t hm_rng_below(struct hm_rng *r, uint64_t n)
{
    if (n == 0)
        HM_BUG("hm_rng_below(0)");
    uint64_t limit = -n % n; /* 2^64 mod n: reject the low values that would bias */
    for (;;) {
        uint64_t x = hm_rng_u64(r);
        if (x >= limit)
            return x % n;
    }
}

double hm_rng_normal(struct hm_rng *r)
{
    /* Box-Muller; one value per call keeps the state simple and deterministic */
    double u1 = hm_rng_uniform(r), u2 = hm_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

double hm_rng_gamma(struct hm_rng *r, double shape)
{
    /* Marsaglia and Tsang; shape < 1 boosted by U^(1/shape) */
    if (shape < 1.0) {
        double u = hm_rng_uniform(r);
        return hm_rng_gamma(r, shape + 1.0) * pow(1.0 - u, 1.0 / shape);
    }
    double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = hm_rng_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = hm_rng_uniform(r);
        if (u < 1.0 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return d * v;
    }
}
