/* The stages of the pipeline as the commands and the runner call them: each opens what it
 * needs, does its work through the library, writes its artifact and prints its report. */
#ifndef HM_CLI_PIPELINE_H
#define HM_CLI_PIPELINE_H

#include "config.h"
#include "eval/eval.h"

/* The store directory of a config (run.store, else <work>/store); caller frees. */
char *pipeline_store_dir(const struct cli_config *c);

/* Stage 1: windows, sample, item filter; writes <work>/prepare.hmt and prints the report. */
int pipeline_prepare(const struct cli_config *c, const struct data_set *ds);

/* Scores a baseline on the validation week (every customer who bought in it); fills row. */
int pipeline_baseline_eval(const struct cli_config *c, const struct data_set *ds, int kind,
                           const struct prep_truth *truth, struct eval_row *row);

/* Writes predictions of a baseline for the given customers as a submission file. */
int pipeline_write_predictions(const struct cli_config *c, const struct data_set *ds, int kind,
                               int32_t cutoff, const uint32_t *users, uint32_t n, const char *path);

/* Scores a submission-format file against the purchases of a week. */
int pipeline_evaluate_file(const struct data_set *ds, const struct prep_truth *truth,
                           const char *path, struct eval_sum *sum);

/* The oracle file hmrec synth wrote for the week starting on `start` in data_dir
 * (data_dir/oracle/week_<YYYY-MM-DD>_oracle.csv), or NULL when there is none; caller frees. */
char *pipeline_oracle_path(const char *data_dir, int32_t start);

/* Scores the baselines named in a comma-separated list (and the oracle file, when not NULL)
 * on the validation week, whose purchases are truth, and returns the metrics table text
 * (caller frees). */
int pipeline_metrics_table(const struct cli_config *c, const struct data_set *ds,
                           const struct prep_truth *truth, const char *names, const char *oracle,
                           char **table);

/* The submission: 12 articles for every customer, cutoff the day after the data. */
int pipeline_submit(const struct cli_config *c, const struct data_set *ds, const char *path);

/* Stage 2: candidates as of a week's cutoff. */
struct pipeline_cand_opts {
    int week;           /* -1: the test week (after the data); 0: validation; i: training week i */
    int users;          /* 0: the sample and the week's buyers; 1: the buyers; 2: every customer */
    int stats;          /* 1: print the stats and write candidates_stats.txt and candidates_recall.svg */
    int write;          /* 1: write <work>/candidates.hmt (or path) */
    const char *path;   /* NULL: <work>/candidates.hmt */
    const char *reference; /* with stats: a submission-format file (e.g. the synth oracle) to
                              compare the pool with, or NULL */
};
int pipeline_candidates(const struct cli_config *c, const struct data_set *ds,
                        const struct pipeline_cand_opts *o);

#endif
