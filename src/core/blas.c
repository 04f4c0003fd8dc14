/* Which OpenBLAS kernel this CPU needs. OpenBLAS 0.3.21 does not recognise recent CPUs
 * and falls back to generic kernels; it reads OPENBLAS_CORETYPE only when it is loaded,
 * so the command layer sets it and re-executes itself before anything runs. */
#include "core.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_corename(void);

const char *hm_blas_wanted_coretype(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return NULL;
    char line[8192];
    const char *want = NULL;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        /* match whole words */
        char *tok, *save = NULL;
        int bf16 = 0, avx512f = 0, avx2 = 0;
        for (tok = strtok_r(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \t\n", &save); tok;
             tok = strtok_r(NULL, " \t\n", &save)) {
            bf16 |= strcmp(tok, "avx512_bf16") == 0;
            avx512f |= strcmp(tok, "avx512f") == 0;
            avx2 |= strcmp(tok, "avx2") == 0;
        }
        want = bf16 ? "Cooperlake" : avx512f ? "SkylakeX" : avx2 ? "Haswell" : NULL;
        break;
    }
    fclose(f);
    return want;
}

const char *hm_blas_corename(void)
{
    const char *s = openblas_get_corename();
    return s ? s : "unknown";
}

void hm_blas_ensure_coretype(char **argv)
{
    if (getenv("HMREC_NO_REEXEC"))
        return;
    int changed = 0;
    const char *want = getenv("OPENBLAS_CORETYPE") ? NULL : hm_blas_wanted_coretype();
    if (want) {
        setenv("OPENBLAS_CORETYPE", want, 1);
        changed = 1;
    }
    /* XGBoost's OpenMP threads spin while they wait for work unless told otherwise; on a
     * machine whose cores are busy with anything else that slows training ten times or more */
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        changed = 1;
    }
    if (!changed)
        return;
    setenv("HMREC_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
}
