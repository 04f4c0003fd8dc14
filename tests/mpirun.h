/* How the tests start programs under mpirun: loopback only (shared memory between the ranks of
 * this machine), as root when the tests run as root, more ranks than cores allowed, bounded in
 * time; under ASan, LeakSanitizer gets Open MPI's suppressions (tests/mpi/openmpi.supp). */
#ifndef HM_TEST_MPIRUN_H
#define HM_TEST_MPIRUN_H

#include <stdio.h>
#include <stdlib.h>

/* The command prefix "... mpirun ... -np" (a static buffer): append " N program args". */
static inline const char *test_mpirun(int seconds)
{
    static char buf[1024];
    const char *tests = getenv("HMREC_TESTS");
    snprintf(buf, sizeof buf,
             "LSAN_OPTIONS=suppressions=%s/mpi/openmpi.supp:fast_unwind_on_malloc=0:print_suppressions=0 "
             "timeout %d mpirun --oversubscribe --allow-run-as-root --bind-to none --mca btl self,vader -np",
             tests ? tests : ".", seconds);
    return buf;
}

#endif
