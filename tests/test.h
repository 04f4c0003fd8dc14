/* A tiny assertion header: each test program is a list of TEST() functions run by
 * TEST_MAIN(). A failed CHECK prints file:line and the values, and the program exits 1. */
#ifndef HM_TEST_H
#define HM_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;
static const char *test_current;

#define CHECK(cond)                                                                           \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__, test_current, \
                    #cond);                                                                   \
            test_failures++;                                                                  \
            return;                                                                           \
        }                                                                                     \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                    \
    do {                                                                                      \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                 \
        if (va_ != vb_) {                                                                     \
            fprintf(stderr, "%s:%d: %s: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, \
                    test_current, #a, #b, va_, vb_);                                          \
            test_failures++;                                                                  \
            return;                                                                           \
        }                                                                                     \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                  \
    do {                                                                                       \
        double va_ = (double)(a), vb_ = (double)(b);                                           \
        if (!(fabs(va_ - vb_) <= (tol))) {                                                     \
            fprintf(stderr, "%s:%d: %s: |%s - %s| <= %g failed: %.17g vs %.17g\n", __FILE__,   \
                    __LINE__, test_current, #a, #b, (double)(tol), va_, vb_);                  \
            test_failures++;                                                                   \
            return;                                                                            \
        }                                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                                       \
    do {                                                                                      \
        const char *sa_ = (a), *sb_ = (b);                                                    \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                          \
            fprintf(stderr, "%s:%d: %s: %s == %s failed:\n  \"%s\"\n  \"%s\"\n", __FILE__,     \
                    __LINE__, test_current, #a, #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)"); \
            test_failures++;                                                                  \
            return;                                                                           \
        }                                                                                     \
    } while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                                             \
    do {                                                                                      \
        int before_ = test_failures;                                                          \
        test_current = #name;                                                                 \
        name();                                                                               \
        fprintf(stderr, "%s %s\n", test_failures == before_ ? "ok  " : "FAIL", #name);        \
    } while (0)
#define TEST_EXIT() return test_failures ? 1 : 0

#endif
