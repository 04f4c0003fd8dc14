/* Tests for rank's shared pieces: the owned set and the metrics over customer groups. */
#include "rank/rank.h"
#include "test.h"

/* Two groups: customer 7 with rows of items 10..14 (it bought 11 and 14, and one article the
 * pool missed: truth 3), customer 9 with items 20..22 (bought nothing: not scored). */
static void two_groups(struct rank_set *s)
{
    static const char *const names[] = {"a", "b"};
    static const uint8_t towers[] = {RANK_TOWER_USER, RANK_TOWER_ITEM};
    rank_set_init(s, 2, names, towers, NULL, 0, 30);
    float x1[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    uint32_t it1[5] = {10, 11, 12, 13, 14};
    float l1[5] = {0, 1, 0, 0, 1};
    rank_set_add_group(s, 7, 3, 5, x1, it1, l1);
    float x2[6] = {0};
    uint32_t it2[3] = {20, 21, 22};
    rank_set_add_group(s, 9, 0, 3, x2, it2, NULL);
}

TEST(test_set_layout)
{
    struct rank_set s;
    two_groups(&s);
    CHECK_EQ_INT(s.d.n_rows, 8);
    CHECK_EQ_INT(s.d.n_groups, 2);
    CHECK_EQ_INT(s.d.group_off[0], 0);
    CHECK_EQ_INT(s.d.group_off[1], 5);
    CHECK_EQ_INT(s.d.group_off[2], 8);
    CHECK_EQ_INT(s.d.group_user[1], 9);
    CHECK(s.d.x[2 * 3 + 1] == 7.0f); /* row 3, column 1 */
    CHECK(s.d.label[6] == 0.0f);
    CHECK_STR(s.d.col_name[1], "b");
    /* a subset of a group */
    struct rank_set t;
    rank_set_init(&t, 2, s.d.col_name, s.d.col_tower, NULL, 0, 30);
    uint8_t keep[8] = {0, 1, 0, 1, 1, 0, 0, 0};
    rank_set_add_from(&t, &s.d, 0, keep);
    CHECK_EQ_INT(t.d.n_rows, 3);
    CHECK_EQ_INT(t.d.item[1], 13);
    CHECK(t.d.x[2 * 2] == 8.0f);
    CHECK_EQ_INT(t.d.group_truth[0], 3);
    rank_set_release(&t);
    rank_set_release(&s);
}

TEST(test_map12_by_hand)
{
    struct rank_set s;
    two_groups(&s);
    /* order 14, 12, 11, 13, 10: hits at ranks 1 and 3; denominator min(3, 12) = 3 */
    float score[8] = {0.1f, 0.5f, 0.7f, 0.2f, 0.9f, 1, 1, 1};
    double ap[2];
    double m = rank_map12(&s.d, score, ap);
    CHECK_NEAR(ap[0], (1.0 + 2.0 / 3) / 3, 1e-12);
    CHECK_NEAR(ap[1], 0, 0);
    CHECK_NEAR(m, (1.0 + 2.0 / 3) / 3, 1e-12); /* customer 9 is not scored */
    /* the pool ceiling: both positives first, the missed purchase still counts */
    CHECK_NEAR(rank_pool_ceiling(&s.d), 2.0 / 3, 1e-12);
    /* ties keep the earlier row; NaN ranks last */
    float tied[8] = {1, 1, 1, 1, NAN, 0, 0, 0};
    rank_map12(&s.d, tied, ap);
    CHECK_NEAR(ap[0], (1.0 / 2 + 2.0 / 5) / 3, 1e-12); /* 10, 11, 12, 13, then 14 */
    struct eval_sum sum;
    rank_eval(&s.d, score, &sum);
    CHECK_EQ_INT(sum.users, 1);
    CHECK_NEAR(eval_map12(&sum), m, 1e-12);
    rank_set_release(&s);
}

TEST(test_top12_of_a_long_group)
{
    struct rank_set s;
    static const char *const names[] = {"a"};
    rank_set_init(&s, 1, names, NULL, NULL, 0, 100);
    float x[40] = {0}, label[40] = {0};
    uint32_t item[40];
    for (int i = 0; i < 40; i++)
        item[i] = (uint32_t)i;
    rank_set_add_group(&s, 0, 1, 40, x, item, label);
    float score[40];
    for (int i = 0; i < 40; i++)
        score[i] = (float)((i * 17) % 40); /* a permutation of 0..39 */
    uint64_t top[12];
    CHECK_EQ_INT(rank_group_top12(&s.d, 0, score, top), 12);
    for (int k = 0; k < 12; k++)
        CHECK(score[top[k]] == (float)(39 - k));
    rank_set_release(&s);
}

int main(void)
{
    RUN(test_set_layout);
    RUN(test_map12_by_hand);
    RUN(test_top12_of_a_long_group);
    TEST_EXIT();
}
