/* Tests for ensembles: per-customer rank normalisation, the plain average and the weights chosen
 * by coordinate search on MAP@12. */
#include "rank/ensemble.h"
#include "test.h"

TEST(test_rank_normalize_by_hand)
{
    struct rank_set s;
    static const char *const names[] = {"a"};
    rank_set_init(&s, 1, names, NULL, NULL, 0, 10);
    float x[4] = {0}, label[4] = {0};
    uint32_t item[4] = {0, 1, 2, 3};
    rank_set_add_group(&s, 0, 0, 4, x, item, label);
    rank_set_add_group(&s, 1, 0, 2, x, item, label);
    /* group 0: 0.9 first (rank 0), the two 0.3 share ranks 1 and 2 (1.5), NaN last (3);
     * group 1: 5 > -1 */
    float score[6] = {0.3f, 0.9f, 0.3f, NAN, -1, 5}, out[6];
    ensemble_rank_normalize(&s.d, score, out);
    CHECK_NEAR(out[0], 1 - 1.5 / 4, 1e-7);
    CHECK_NEAR(out[1], 1, 0);
    CHECK_NEAR(out[2], 1 - 1.5 / 4, 1e-7);
    CHECK_NEAR(out[3], 1 - 3.0 / 4, 1e-7);
    CHECK_NEAR(out[4], 0.5, 0);
    CHECK_NEAR(out[5], 1, 0);
    /* a weighted sum of two models */
    float other[6] = {4, 3, 2, 1, 0, 1};
    const float *scores[2] = {score, other};
    struct ensemble e;
    ensemble_average(&e, 2);
    CHECK_NEAR(e.w[0], 0.5, 0);
    ensemble_score(&e, &s.d, scores, out);
    CHECK_NEAR(out[0], 0.5 * (1 - 1.5 / 4) + 0.5 * 1, 1e-7);
    CHECK_NEAR(out[3], 0.5 * 0.25 + 0.5 * 0.25, 1e-7);
    CHECK_NEAR(out[4], 0.5 * 0.5 + 0.5 * 0.5, 1e-7);
    ensemble_release(&e);
    rank_set_release(&s);
}

/* Groups of 30 rows where a row is bought when a + b is high; scorer A sees a (plus noise),
 * scorer B sees b, and a third scorer is noise. */
static void complementary(struct rank_set *s, float **sa, float **sb, float **sn, uint64_t seed)
{
    static const char *const names[] = {"a"};
    rank_set_init(s, 1, names, NULL, NULL, 0, 1000);
    uint32_t groups = 2000, rows = 30;
    *sa = malloc(sizeof(float) * groups * rows);
    *sb = malloc(sizeof(float) * groups * rows);
    *sn = malloc(sizeof(float) * groups * rows);
    struct hm_rng r;
    hm_rng_seed(&r, seed);
    for (uint32_t g = 0; g < groups; g++) {
        float x[30] = {0}, label[30];
        uint32_t item[30], pos = 0;
        for (uint32_t i = 0; i < rows; i++) {
            double a = hm_rng_normal(&r), b = hm_rng_normal(&r);
            label[i] = a + b + 0.3 * hm_rng_normal(&r) > 2.2 ? 1.0f : 0.0f;
            pos += label[i] > 0;
            item[i] = i;
            size_t k = (size_t)g * rows + i;
            (*sa)[k] = (float)(a + 0.2 * hm_rng_normal(&r));
            (*sb)[k] = (float)(b + 0.2 * hm_rng_normal(&r));
            (*sn)[k] = (float)hm_rng_normal(&r);
        }
        rank_set_add_group(s, g, pos, rows, x, item, label);
    }
}

TEST(test_complementary_scorers)
{
    struct rank_set fit, other;
    float *a, *b, *n, *a2, *b2, *n2;
    complementary(&fit, &a, &b, &n, 1);
    complementary(&other, &a2, &b2, &n2, 2);
    double ma = rank_map12(&fit.d, a, NULL), mb = rank_map12(&fit.d, b, NULL);
    const float *scores[3] = {a, b, n};
    struct ensemble_params p;
    ensemble_params_defaults(&p);
    struct ensemble e, avg;
    CHECK_EQ_INT(ensemble_fit(&fit.d, scores, 3, &p, &e), 0);
    double wsum = e.w[0] + e.w[1] + e.w[2];
    CHECK_NEAR(wsum, 1, 1e-12);
    /* the fitted ensemble beats both scorers clearly and gives the noise little weight */
    float *out = malloc(sizeof(float) * fit.d.n_rows);
    ensemble_score(&e, &fit.d, scores, out);
    double me = rank_map12(&fit.d, out, NULL);
    fprintf(stderr, "  A %.4f B %.4f ensemble %.4f (w %.3f %.3f %.3f)\n", ma, mb, me, e.w[0],
            e.w[1], e.w[2]);
    CHECK_NEAR(me, e.map12, 1e-12); /* ensemble_score reproduces the fit's MAP@12 */
    CHECK(me > 1.15 * (ma > mb ? ma : mb));
    CHECK(e.w[2] < 0.1);
    CHECK(e.w[0] > 0.3 && e.w[1] > 0.3);
    /* the average of A and B also beats both */
    ensemble_average(&avg, 2);
    ensemble_score(&avg, &fit.d, scores, out);
    CHECK(rank_map12(&fit.d, out, NULL) > (ma > mb ? ma : mb));
    /* the weights carry over to other customers */
    const float *scores2[3] = {a2, b2, n2};
    float *out2 = malloc(sizeof(float) * other.d.n_rows);
    ensemble_score(&e, &other.d, scores2, out2);
    double m2 = rank_map12(&other.d, out2, NULL);
    CHECK(m2 > 1.1 * rank_map12(&other.d, a2, NULL) && m2 > 1.1 * rank_map12(&other.d, b2, NULL));
    /* deterministic, and the same for any thread count */
    struct ensemble e2;
    int threads = hm_threads();
    hm_threads_set(1);
    CHECK_EQ_INT(ensemble_fit(&fit.d, scores, 3, &p, &e2), 0);
    hm_threads_set(threads);
    CHECK(memcmp(e.w, e2.w, 3 * sizeof *e.w) == 0);
    CHECK(e.map12 == e2.map12);
    free(out);
    free(out2);
    ensemble_release(&e);
    ensemble_release(&e2);
    ensemble_release(&avg);
    free(a);
    free(b);
    free(n);
    free(a2);
    free(b2);
    free(n2);
    rank_set_release(&fit);
    rank_set_release(&other);
}

TEST(test_never_below_the_best_model)
{
    /* one good model and noise: the fit keeps the good model's MAP@12 at least */
    struct rank_set fit;
    float *a, *b, *n;
    complementary(&fit, &a, &b, &n, 3);
    const float *scores[2] = {n, a};
    struct ensemble_params p;
    ensemble_params_defaults(&p);
    struct ensemble e;
    CHECK_EQ_INT(ensemble_fit(&fit.d, scores, 2, &p, &e), 0);
    CHECK(e.map12 >= rank_map12(&fit.d, a, NULL));
    CHECK(e.w[1] > 0.8);
    ensemble_release(&e);
    /* bad arguments */
    CHECK_EQ_INT(ensemble_fit(&fit.d, scores, 0, &p, &e), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "no model") != NULL);
    p.min_step = 0;
    CHECK_EQ_INT(ensemble_fit(&fit.d, scores, 2, &p, &e), HM_EINVAL);
    free(a);
    free(b);
    free(n);
    rank_set_release(&fit);
}

int main(void)
{
    RUN(test_rank_normalize_by_hand);
    RUN(test_complementary_scorers);
    RUN(test_never_below_the_best_model);
    TEST_EXIT();
}
