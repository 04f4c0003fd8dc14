/* Tests for training-set sampling: the stratified split and negative down-sampling. */
#include "rank/rank.h"
#include "test.h"

/* 100 groups of 10 rows: group g has g % 4 positives (its first rows) and one purchase the
 * pool missed when g % 7 == 0. So: 21 groups with no purchase (stratum 0), 4 buyers without a
 * positive row (g = 0, 28, 56, 84: stratum 1), 25 groups each with 1, 2 and 3 positives
 * (strata 2, 3, 4); 150 positive and 850 negative rows. */
static void hundred(struct rank_set *s)
{
    static const char *const names[] = {"a"};
    rank_set_init(s, 1, names, NULL, NULL, 0, 1000);
    for (uint32_t g = 0; g < 100; g++) {
        float x[10], label[10];
        uint32_t item[10];
        uint32_t pos = g % 4;
        for (uint32_t i = 0; i < 10; i++) {
            x[i] = (float)(g * 10 + i);
            label[i] = i < pos ? 1.0f : 0.0f;
            item[i] = g * 10 + i;
        }
        rank_set_add_group(s, 1000 + g, pos + (g % 7 == 0), 10, x, item, label);
    }
}

TEST(test_strata)
{
    struct rank_set s;
    hundred(&s);
    uint32_t count[RANK_STRATA] = {0};
    for (uint32_t g = 0; g < 100; g++)
        count[rank_stratum(&s.d, g)]++;
    CHECK_EQ_INT(count[0], 21);
    CHECK_EQ_INT(count[1], 4);
    CHECK_EQ_INT(count[2], 25);
    CHECK_EQ_INT(count[3], 25);
    CHECK_EQ_INT(count[4], 25);
    CHECK_EQ_INT(count[5] + count[6], 0);
    rank_set_release(&s);
}

TEST(test_split_counts)
{
    struct rank_set s;
    hundred(&s);
    uint8_t held[100], again[100], other[100];
    rank_split(&s.d, 0.15, 7, held);
    /* per stratum round(0.15 n): 21 -> 3, 4 -> 1, 25 -> 4 (three times) */
    uint32_t count[RANK_STRATA] = {0}, total = 0;
    for (uint32_t g = 0; g < 100; g++) {
        count[rank_stratum(&s.d, g)] += held[g];
        total += held[g];
    }
    CHECK_EQ_INT(count[0], 3);
    CHECK_EQ_INT(count[1], 1);
    CHECK_EQ_INT(count[2], 4);
    CHECK_EQ_INT(count[3], 4);
    CHECK_EQ_INT(count[4], 4);
    CHECK_EQ_INT(total, 16);
    /* deterministic; another seed holds out other groups (the same counts) */
    rank_split(&s.d, 0.15, 7, again);
    CHECK(memcmp(held, again, 100) == 0);
    rank_split(&s.d, 0.15, 8, other);
    CHECK(memcmp(held, other, 100) != 0);
    total = 0;
    for (uint32_t g = 0; g < 100; g++)
        total += other[g];
    CHECK_EQ_INT(total, 16);
    /* 0 holds out nothing */
    rank_split(&s.d, 0, 7, held);
    for (uint32_t g = 0; g < 100; g++)
        CHECK_EQ_INT(held[g], 0);
    rank_set_release(&s);
}

static uint64_t count_keep(const struct rank_data *d, const uint8_t *keep, uint64_t *pos)
{
    uint64_t n = 0;
    *pos = 0;
    for (uint64_t r = 0; r < d->n_rows; r++) {
        n += keep[r];
        *pos += keep[r] && d->label[r] > 0;
    }
    return n;
}

TEST(test_downsample_counts)
{
    struct rank_set s;
    hundred(&s);
    uint8_t keep[1000], other[1000];
    uint64_t pos;
    /* 40/60: 150 positives and round(150 * 0.6 / 0.4) = 225 negatives */
    CHECK_EQ_INT(rank_downsample(&s.d, NULL, 0.6, 1, keep), 375);
    CHECK_EQ_INT(count_keep(&s.d, keep, &pos), 375);
    CHECK_EQ_INT(pos, 150);
    /* 50/50: 150 negatives; none: only positives; 0.9 asks 1350 > 850: everything */
    CHECK_EQ_INT(rank_downsample(&s.d, NULL, 0.5, 1, keep), 300);
    CHECK_EQ_INT(rank_downsample(&s.d, NULL, 0.0, 1, keep), 150);
    CHECK_EQ_INT(count_keep(&s.d, keep, &pos), 150);
    CHECK_EQ_INT(pos, 150);
    CHECK_EQ_INT(rank_downsample(&s.d, NULL, 0.9, 1, keep), 1000);
    CHECK_EQ_INT(rank_downsample(&s.d, NULL, 1.0, 1, keep), 1000);
    /* only the groups that use marks: the 25 groups with 3 positives (g % 4 == 3) have 75
     * positives and 175 negatives; round(75 * 1.5) = 113 negatives kept */
    uint8_t use[100];
    for (uint32_t g = 0; g < 100; g++)
        use[g] = g % 4 == 3;
    CHECK_EQ_INT(rank_downsample(&s.d, use, 0.6, 1, keep), 188);
    for (uint64_t r = 0; r < 1000; r++)
        if (keep[r])
            CHECK(use[r / 10]);
    /* the same for any thread count; another seed keeps other rows */
    int threads = hm_threads();
    rank_downsample(&s.d, NULL, 0.6, 5, keep);
    hm_threads_set(1);
    rank_downsample(&s.d, NULL, 0.6, 5, other);
    CHECK(memcmp(keep, other, 1000) == 0);
    hm_threads_set(3);
    rank_downsample(&s.d, NULL, 0.6, 5, other);
    CHECK(memcmp(keep, other, 1000) == 0);
    hm_threads_set(threads);
    rank_downsample(&s.d, NULL, 0.6, 6, other);
    CHECK(memcmp(keep, other, 1000) != 0);
    rank_set_release(&s);
}

TEST(test_downsample_is_even)
{
    /* 2,000 groups of 100 rows with one positive each: keeping 2,000 * 1.5 = 3,000 of 198,000
     * negatives, the first and second halves of the groups and of the rows within groups
     * each get about half */
    struct rank_set s;
    static const char *const names[] = {"a"};
    rank_set_init(&s, 1, names, NULL, NULL, 0, 100);
    float x[100] = {0}, label[100] = {0};
    uint32_t item[100];
    for (uint32_t i = 0; i < 100; i++)
        item[i] = i;
    label[37] = 1;
    for (uint32_t g = 0; g < 2000; g++)
        rank_set_add_group(&s, g, 1, 100, x, item, label);
    uint8_t *keep = malloc(s.d.n_rows);
    CHECK_EQ_INT(rank_downsample(&s.d, NULL, 0.6, 3, keep), 5000);
    uint64_t first_groups = 0, first_rows = 0;
    for (uint64_t r = 0; r < s.d.n_rows; r++) {
        if (!keep[r] || r % 100 == 37)
            continue;
        first_groups += r < s.d.n_rows / 2;
        first_rows += r % 100 < 50;
    }
    CHECK(first_groups > 1400 && first_groups < 1600);
    CHECK(first_rows > 1400 && first_rows < 1600);
    free(keep);
    rank_set_release(&s);
}

TEST(test_sample_sets)
{
    struct rank_set s, train, hold;
    hundred(&s);
    struct rank_sample_params p = {0.15, 0.6, 0, 7};
    CHECK_EQ_INT(rank_sample(&s.d, &p, &train, &hold), 0);
    /* training: the 75 - 12 groups with a positive that are not held out: 21 groups each with
     * 1, 2 and 3 positives = 126 positives, and round(126 * 1.5) = 189 negatives */
    CHECK_EQ_INT(train.d.n_groups, 63);
    CHECK_EQ_INT(train.d.n_rows, 315);
    uint64_t pos = 0;
    for (uint64_t r = 0; r < train.d.n_rows; r++)
        pos += train.d.label[r] > 0;
    CHECK_EQ_INT(pos, 126);
    /* held out and scored: 1 buyer without a positive row + 12 with: all their rows */
    CHECK_EQ_INT(hold.d.n_groups, 13);
    CHECK_EQ_INT(hold.d.n_rows, 130);
    for (uint32_t g = 0; g < hold.d.n_groups; g++)
        CHECK(hold.d.group_truth[g] > 0);
    /* no customer is in both */
    for (uint32_t a = 0; a < train.d.n_groups; a++)
        for (uint32_t b = 0; b < hold.d.n_groups; b++)
            CHECK(train.d.group_user[a] != hold.d.group_user[b]);
    rank_set_release(&train);
    rank_set_release(&hold);
    /* keeping empty groups: 84 groups may train, with the same 126 positives and 189 of their
     * negatives; groups whose every row was dropped are skipped */
    p.keep_empty = 1;
    CHECK_EQ_INT(rank_sample(&s.d, &p, &train, &hold), 0);
    CHECK_EQ_INT(train.d.n_rows, 315);
    CHECK(train.d.n_groups >= 63 && train.d.n_groups <= 84);
    for (uint32_t g = 0; g < train.d.n_groups; g++)
        CHECK(train.d.group_off[g + 1] > train.d.group_off[g]);
    CHECK_EQ_INT(hold.d.n_groups, 13);
    rank_set_release(&train);
    rank_set_release(&hold);
    rank_set_release(&s);
}

TEST(test_sample_errors)
{
    struct rank_set s, train, hold;
    hundred(&s);
    struct rank_sample_params p = {1.0, 0.6, 0, 7};
    CHECK_EQ_INT(rank_sample(&s.d, &p, &train, &hold), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "held-out share 1") != NULL);
    p.holdout = 0.15;
    p.neg_share = 1.5;
    CHECK_EQ_INT(rank_sample(&s.d, &p, &train, &hold), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "negative share 1.5") != NULL);
    p.neg_share = 0.6;
    struct rank_data unlabelled = s.d;
    unlabelled.label = NULL;
    CHECK_EQ_INT(rank_sample(&unlabelled, &p, &train, &hold), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "no labels") != NULL);
    rank_set_release(&s);
}

int main(void)
{
    RUN(test_strata);
    RUN(test_split_counts);
    RUN(test_downsample_counts);
    RUN(test_downsample_is_even);
    RUN(test_sample_sets);
    RUN(test_sample_errors);
    TEST_EXIT();
}
