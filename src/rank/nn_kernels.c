/* The float instance of the network's layers and passes (nn_kernels.inc) and the dropout
 * masks they draw. */
#include "rank/nn_internal.h"

#define NN_REAL float
#define NN_(name) nn_##name
#define NN_GEMM cblas_sgemm
#include "rank/nn_kernels.inc"

/* Masks are drawn in blocks of this many elements, block i from its own stream, so that they
 * do not depend on how the work is split. */
#define MASK_BLOCK 4096

void nn_dropout_mask(uint8_t *mask, size_t n, float p, uint64_t seed, uint64_t stream)
{
    /* drop when a 16-bit draw is below p * 65536: four decisions per 64-bit draw */
    uint32_t cut = (uint32_t)lround((double)p * 65536.0);
    for (size_t b = 0; b < n; b += MASK_BLOCK) {
        struct hm_rng r;
        hm_rng_seed2(&r, seed, hm_mix64(stream * 0x9e3779b97f4a7c15ULL + b / MASK_BLOCK));
        size_t e = b + MASK_BLOCK < n ? b + MASK_BLOCK : n;
        for (size_t i = b; i < e; i += 4) {
            uint64_t u = hm_rng_u64(&r);
            for (size_t j = i; j < i + 4 && j < e; j++, u >>= 16)
                mask[j] = (uint32_t)(u & 0xffff) >= cut;
        }
    }
}
