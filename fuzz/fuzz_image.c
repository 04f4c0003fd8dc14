/* libFuzzer target: JPEG/PNG decoding and CLIP preprocessing of whatever decodes. */
#include "embed/embed.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct embed_image img;
    if (embed_image_decode(&img, data, size, "fuzz") != 0)
        return 0;
    if ((size_t)img.w * img.h <= 1u << 20) {
        float *out = malloc(3 * 16 * 16 * sizeof(float));
        embed_image_preprocess(&img, 16, out);
        free(out);
    }
    embed_image_release(&img);
    return 0;
}
