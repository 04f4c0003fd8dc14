/* Tests for eval: hand-computed AP@k, precision, recall and NDCG cases. */
#include "eval/eval.h"
#include "test.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

TEST(test_ap_basic)
{
    uint32_t truth[] = {1, 2, 3};
    uint32_t pred[] = {1, 9, 2, 8, 3};
    /* hits at ranks 1, 3, 5: (1/1 + 2/3 + 3/5) / 3 */
    CHECK_NEAR(eval_ap_at_k(pred, N(pred), truth, N(truth), 12), (1.0 + 2.0 / 3 + 3.0 / 5) / 3, 1e-12);
    /* cut at k = 3: (1 + 2/3) / min(3, 3) */
    CHECK_NEAR(eval_ap_at_k(pred, N(pred), truth, N(truth), 3), (1.0 + 2.0 / 3) / 3, 1e-12);
    /* k = 1: 1 / min(3, 1) */
    CHECK_NEAR(eval_ap_at_k(pred, N(pred), truth, N(truth), 1), 1.0, 1e-12);
}

TEST(test_duplicates_in_prediction)
{
    uint32_t truth[] = {5, 6};
    uint32_t pred[] = {5, 5, 5, 6};
    /* the repeated 5s count once: 5 at rank 1, 6 at rank 2 -> (1 + 1) / 2 */
    CHECK_NEAR(eval_ap_at_k(pred, N(pred), truth, N(truth), 12), 1.0, 1e-12);
    uint32_t truth_dup[] = {5, 5, 6};
    CHECK_NEAR(eval_ap_at_k(pred, N(pred), truth_dup, N(truth_dup), 12), 1.0, 1e-12);
}

TEST(test_short_prediction_and_many_truths)
{
    uint32_t truth[14];
    for (uint32_t i = 0; i < 14; i++)
        truth[i] = 100 + i;
    uint32_t pred[] = {100, 7};
    /* 14 true items: denominator min(14, 12) = 12 */
    CHECK_NEAR(eval_ap_at_k(pred, N(pred), truth, N(truth), 12), 1.0 / 12, 1e-12);
    uint32_t all[12];
    for (uint32_t i = 0; i < 12; i++)
        all[i] = 113 - i;
    CHECK_NEAR(eval_ap_at_k(all, 12, truth, N(truth), 12), 1.0, 1e-12);
    CHECK_NEAR(eval_ap_at_k(NULL, 0, truth, N(truth), 12), 0.0, 0);
}

TEST(test_no_purchases_scores_zero)
{
    uint32_t pred[] = {1, 2};
    CHECK_NEAR(eval_ap_at_k(pred, N(pred), NULL, 0, 12), 0.0, 0);
}

TEST(test_other_metrics)
{
    uint32_t truth[] = {1, 2, 3, 4};
    uint32_t pred[] = {9, 1, 8, 2, 7};
    struct eval_one m;
    eval_at_k(pred, N(pred), truth, N(truth), 5, &m);
    CHECK_NEAR(m.precision, 2.0 / 5, 1e-12);
    CHECK_NEAR(m.recall, 2.0 / 4, 1e-12);
    double dcg = 1 / log2(3.0) + 1 / log2(5.0);
    double idcg = 1 + 1 / log2(3.0) + 1 / log2(4.0) + 1 / log2(5.0);
    CHECK_NEAR(m.ndcg, dcg / idcg, 1e-12);
    CHECK_NEAR(m.ap, (1.0 / 2 + 2.0 / 4) / 4, 1e-12);
    eval_at_k(pred, N(pred), truth, N(truth), 1, &m);
    CHECK_NEAR(m.precision, 0.0, 0);
    CHECK_NEAR(m.ndcg, 0.0, 0);
}

TEST(test_sums_and_table)
{
    struct eval_sum s = {0};
    uint32_t t1[] = {1}, t2[] = {2, 3}, p[] = {1, 2};
    eval_sum_add(&s, p, 2, t1, 1);   /* AP 1 */
    eval_sum_add(&s, p, 2, t2, 2);   /* AP (1/2)/2 */
    eval_sum_add(&s, p, 2, NULL, 0); /* not scored */
    CHECK_EQ_INT(s.users, 2);
    CHECK_NEAR(eval_map12(&s), (1.0 + 0.25) / 2, 1e-12);
    struct eval_sum t = s;
    eval_sum_merge(&t, &s);
    CHECK_EQ_INT(t.users, 4);
    CHECK_NEAR(eval_map12(&t), eval_map12(&s), 1e-12);
    struct eval_row rows[2] = {{"oracle", s}, {"popular", {0}}};
    char *text = eval_table_format(rows, 2, eval_map12(&s));
    CHECK(strstr(text, "oracle          2 0.62500   100.0%") != NULL);
    CHECK(strstr(text, "popular         0 0.00000     0.0%") != NULL);
    free(text);
}

TEST(test_candidate_recall)
{
    struct eval_recall r = {0};
    uint32_t cands[] = {5, 6, 7}, truth[] = {5, 5, 8};
    eval_recall_add(&r, cands, 3, truth, 3);
    CHECK_EQ_INT(r.hits, 1);
    CHECK_EQ_INT(r.total, 2);
}

int main(void)
{
    RUN(test_ap_basic);
    RUN(test_duplicates_in_prediction);
    RUN(test_short_prediction_and_many_truths);
    RUN(test_no_purchases_scores_zero);
    RUN(test_other_metrics);
    RUN(test_sums_and_table);
    RUN(test_candidate_recall);
    TEST_EXIT();
}
