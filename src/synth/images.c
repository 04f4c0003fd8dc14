/* synth/images.c: small JPEG product pictures (placeholder until drawn garments land). */
#include "synth/synth_internal.h"

int synth_write_images(const struct synth_catalogue *c, const struct synth_taxonomy *t,
                       const struct synth_params *p, const char *dir)
{
    (void)c, (void)t, (void)p, (void)dir;
    return hm_error(HM_EINVAL, "synth: --images is not implemented yet");
}
