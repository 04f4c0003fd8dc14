/* libFuzzer target: the safetensors header parser, and the F16/F32 reads it allows. */
#include "embed/embed.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct embed_st st;
    if (embed_st_open_buffer(&st, data, size, "fuzz") != 0)
        return 0;
    for (size_t i = 0; i < st.n_tensors; i++) {
        const struct embed_st_tensor *t = &st.tensors[i];
        if (t->dtype != EMBED_ST_F32 && t->dtype != EMBED_ST_F16)
            continue;
        size_t n = (t->end - t->begin) / (t->dtype == EMBED_ST_F32 ? 4 : 2);
        float *buf = malloc(n ? n * sizeof(float) : 1);
        embed_st_read_f32(&st, t, buf);
        free(buf);
    }
    embed_st_release(&st);
    return 0;
}
