/* The float instance of the network's layers and passes (nn_kernels.inc) and the dropout
 * masks they draw. */
#include "rank/nn_internal.h"

#define NN_REAL float
#define NN_(name) nn_##name
#define NN_GEMM cblas_sgemm
#include "rank/nn_kernels.inc"

void nn_dropout_mask(uint8_t *mask, size_t ld, size_t B, size_t C, size_t col0, float p,
                     uint64_t seed, uint64_t stream)
{
    /* drop when a 16-bit draw is below p * 65536: four rows per 64-bit draw */
    uint32_t cut = (uint32_t)lround((double)p * 65536.0);
    for (size_t j = 0; j < C; j++) {
        struct hm_rng r;
        hm_rng_seed2(&r, seed, hm_mix64(stream * 0x9e3779b97f4a7c15ULL + col0 + j));
        for (size_t i = 0; i < B; i += 4) {
            uint64_t u = hm_rng_u64(&r);
            for (size_t k = i; k < i + 4 && k < B; k++, u >>= 16)
                mask[k * ld + j] = (uint32_t)(u & 0xffff) >= cut;
        }
    }
}
