/* prep: Stage 1 of the pipeline. Time windows relative to the last day of the data,
 * the stratified user sample (with cold-start users), the item filter, the purchases of a
 * week (labels/truth), and the artifact that records them for later stages.
 *
 * Windows. E is the last day of the transactions. Week 0 is the validation week E-6..E;
 * training week i (1..train_weeks) is E-6-7i..E-7i. A week's cutoff is its first day:
 * everything used to predict a week comes from transactions strictly before its cutoff.
 * The submission ("test") week is E+1..E+7, cutoff E+1, and has no purchases.
 *
 * Activity bins count a customer's transaction rows before the validation cutoff:
 *   cold (0-1), low (2-4), medium (5-14), high (15-49), very high (50-149), extreme (150+).
 */
#ifndef HM_PREP_H
#define HM_PREP_H

#include "core/core.h"
#include "data/data.h"

struct prep_params {
    long train_weeks;        /* training weeks before the validation week (11) */
    long users;              /* target sample size; -1 = every customer (50000) */
    double cold_share;       /* share of the sample drawn from cold-start users (0.15) */
    long cold_max;           /* at most this many purchases makes a user cold-start (1) */
    long min_item_purchases; /* articles with fewer rows in the history are dropped (5) */
    long history_weeks;      /* weeks of history a cutoff uses; -1 = all (-1) */
    long seed;               /* sampling seed (42) */
};
extern const struct hm_setting prep_settings[];
extern const size_t prep_n_settings;

enum prep_bin { PREP_COLD, PREP_LOW, PREP_MEDIUM, PREP_HIGH, PREP_VERY_HIGH, PREP_EXTREME, PREP_NBINS };
extern const char *const prep_bin_name[PREP_NBINS];
extern const uint32_t prep_bin_lo[PREP_NBINS]; /* lowest purchase count of each bin */

struct prep_week {
    int32_t start, end;   /* days, inclusive; start is the cutoff */
};

/* The windows: week[0] validation, week[1..train_weeks] training (later weeks first),
 * and the test week after the data. */
struct prep_windows {
    int32_t last_day;      /* E */
    int n_train;
    struct prep_week val, test;
    struct prep_week *train; /* (n_train) train[0] is the week just before validation */
    int32_t history_start;   /* first day any cutoff's history uses (day_min when all) */
};
int prep_windows_init(struct prep_windows *w, const struct data_set *ds, const struct prep_params *p);
void prep_windows_release(struct prep_windows *w);
/* First day of the history for a cutoff (cutoff - 7*history_weeks, or the data's first day). */
int32_t prep_history_start(const struct data_set *ds, const struct prep_params *p, int32_t cutoff);

/* Rows [*lo, *hi) of customer c with day in [start, end] (transactions are sorted by day
 * within a customer), in the table returned (the store's, or the data set's overlay when it
 * holds c: data_customer_rows). */
const struct data_transactions *prep_customer_rows(const struct data_set *ds, uint32_t c, int32_t start,
                                                   int32_t end, uint64_t *lo, uint64_t *hi)
    __attribute__((warn_unused_result));

/* The purchases of one week: for every customer who bought, the distinct articles. */
struct prep_truth {
    uint32_t n_users;        /* customers who bought in the week */
    uint32_t *user;          /* (n_users) customer rows, ascending */
    uint64_t *off;           /* (n_users + 1) into items */
    uint32_t *items;         /* distinct articles per user, in order of first purchase */
    uint64_t n_rows;         /* transaction rows in the week */
};
int prep_truth_build(struct prep_truth *t, const struct data_set *ds, struct prep_week week);
/* The index of customer c in t->user, or UINT32_MAX when c did not buy in the week. */
uint32_t prep_truth_find(const struct prep_truth *t, uint32_t c);
void prep_truth_release(struct prep_truth *t);

/* The stratified sample. */
struct prep_sample {
    uint32_t n;               /* sampled customers */
    uint32_t *user;           /* (n) customer rows, ascending */
    uint8_t *bin;             /* (n) enum prep_bin of each */
    uint64_t pop[PREP_NBINS]; /* customers in each bin (the population) */
    uint64_t got[PREP_NBINS]; /* sampled from each bin */
};
/* Draws the sample as of the validation cutoff: cold_share of the target from cold users,
 * the rest from the other bins in proportion to their sizes (largest remainder), each bin's
 * members ranked by a seeded hash of their row, so the sample is deterministic. On shards
 * (collective) the bins' sizes are every rank's and user lists the shard's customers of the
 * sample (the sample of the whole store, restricted to them). */
int prep_sample_draw(struct prep_sample *s, const struct data_set *ds, const struct prep_params *p,
                     int32_t cutoff);
void prep_sample_release(struct prep_sample *s);
/* Collective on shards: rank 0's sample becomes every rank's (in customer order: the whole
 * store's sample); the others' stay theirs. Nothing with one rank. */
void prep_sample_gather(struct prep_sample *s);

/* Articles with at least min purchases (rows) in [history_start, cutoff). */
struct prep_items {
    uint32_t n;       /* kept articles */
    uint32_t *item;   /* (n) article rows, ascending */
    uint8_t *keep;    /* (n_articles) 1 when kept */
    uint32_t n_articles;
};
int prep_items_filter(struct prep_items *it, const struct data_set *ds, int32_t history_start,
                      int32_t cutoff, long min_purchases);
void prep_items_release(struct prep_items *it);

/* Everything Stage 1 decides, as written to and read from the artifact prepare.hmt. */
struct prep_result {
    struct prep_windows win;
    struct prep_sample sample;
    struct prep_items items;
    uint32_t val_buyers;         /* customers who bought in the validation week */
    uint32_t val_sampled_buyers; /* of them, in the sample */
};
/* On shards (collective) the sample is the shard's part (prep_sample_gather makes rank 0's the
 * whole one) and the buyer counts are every rank's. */
int prep_run(struct prep_result *r, const struct data_set *ds, const struct prep_params *p);
void prep_result_release(struct prep_result *r);
/* Writes/reads work_dir/prepare.hmt (table "prepare"; format in docs/formats.md). */
int prep_result_write(const struct prep_result *r, const char *path);
int prep_result_read(struct prep_result *r, const char *path);

#endif
