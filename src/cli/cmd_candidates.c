/* hmrec candidates: Stage 2, the merged candidate pool of the recall strategies. */
#include "cli.h"
#include "pipeline/pipeline.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: hmrec candidates --store DIR [--work DIR] [--week val|test|N] [--users pool|buyers|training|all]\n"
    "       [--share X] [--stats [--reference FILE]] [--no-write] [--out FILE] [--config FILE] [--set KEY=VALUE]...\n"
    "Stage 2: every recall strategy of the table (repurchase, popular, copurchase, userknn,\n"
    "category, text, segment, image, basket, colours, ageband, new; a list length of 0 turns one off)\n"
    "as of the week's cutoff, merged into at most recall.pool candidates per customer (cut by a\n"
    "learned scorer from recall.wide rows when recall.wide > 0); writes\n"
    "WORK/candidates.hmt (or --out). --week: val (default), test (after the data) or N, the N-th\n"
    "training week before the validation week. --users: pool (default: the prepare sample and the\n"
    "week's buyers), buyers, training (the week's buyers in the prepare sample), or all\n"
    "customers, streamed in blocks; --share X keeps a fixed pseudo-random share X of them (e.g. to\n"
    "tune the merge on part of a training week's buyers). --stats prints, for the week's buyers, candidate\n"
    "recall overall, per strategy, each strategy's unique contribution, recall at pool sizes\n"
    "25/50/100/150/200 and the pool ceiling (MAP@12 of a perfect ranker within the pool), and\n"
    "writes WORK/candidates_stats.txt and WORK/candidates_recall.svg.\n"
    "--reference FILE (submission format, e.g. a synthetic data set's oracle/week_*_oracle.csv):\n"
    "also print the recall of its 12 predictions and the share of them the pool contains.\n"
    "--no-write skips the artifact (e.g. statistics for every customer). Settings: docs/recall.md.\n";

int cmd_candidates(int argc, char **argv)
{
    enum { O_CONFIG = 1000, O_SET, O_STORE, O_WORK, O_WEEK, O_USERS, O_STATS, O_NOWRITE, O_OUT, O_REF, O_SHARE, O_HELP };
    static const struct option opts[] = {
        {"config", required_argument, 0, O_CONFIG}, {"set", required_argument, 0, O_SET},
        {"store", required_argument, 0, O_STORE},   {"work", required_argument, 0, O_WORK},
        {"week", required_argument, 0, O_WEEK},     {"users", required_argument, 0, O_USERS},
        {"stats", no_argument, 0, O_STATS},         {"no-write", no_argument, 0, O_NOWRITE},
        {"out", required_argument, 0, O_OUT},       {"reference", required_argument, 0, O_REF},
        {"share", required_argument, 0, O_SHARE},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *config = NULL, *store = NULL, *work = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_sets = 0, c, code = 0;
    struct pipeline_cand_opts o = {.week = {PIPELINE_WEEK_VALIDATION, 0}, .users = PIPELINE_USERS_POOL,
                                   .write = 1, .share = 1};
    optind = 1;
    while (!code && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_CONFIG: config = optarg; break;
        case O_SET: sets[n_sets++] = optarg; break;
        case O_STORE: store = optarg; break;
        case O_WORK: work = optarg; break;
        case O_STATS: o.stats = 1; break;
        case O_NOWRITE: o.write = 0; break;
        case O_OUT: o.path = optarg; break;
        case O_REF: o.reference = optarg; break;
        case O_SHARE: {
            char *end;
            o.share = strtod(optarg, &end);
            if (end == optarg || *end || !(o.share > 0 && o.share <= 1))
                code = cli_usage_error(argv[0], "--share is a number in (0, 1]");
            break;
        }
        case O_WEEK: code = cli_parse_week(argv[0], optarg, &o.week); break;
        case O_USERS:
            if (!strcmp(optarg, "pool"))
                o.users = PIPELINE_USERS_POOL;
            else if (!strcmp(optarg, "buyers"))
                o.users = PIPELINE_USERS_BUYERS;
            else if (!strcmp(optarg, "training"))
                o.users = PIPELINE_USERS_TRAINING;
            else if (!strcmp(optarg, "all"))
                o.users = PIPELINE_USERS_ALL;
            else
                code = cli_usage_error(argv[0], "--users is pool, buyers, training or all");
            break;
        case O_HELP:
            fputs(usage_text, stdout);
            free(sets);
            return 0;
        default: code = cli_usage_error(argv[0], "unknown option"); break;
        }
    }
    if (code) {
        free(sets);
        return code;
    }
    struct pipeline_config cfg;
    int rc = cli_load_config(&cfg, config, sets, n_sets, store, work);
    free(sets);
    if (rc)
        return rc;
    if (o.reference && !o.stats)
        return cli_usage_error(argv[0], "--reference needs --stats");
    if (o.week.kind == PIPELINE_WEEK_TEST && (o.stats || o.users != PIPELINE_USERS_ALL))
        return cli_usage_error(argv[0], "the test week has no purchases: use --users all, without --stats");
    struct pipeline p;
    pipeline_init(&p, &cfg);
    rc = pipeline_candidates(&p, &o);
    int exit_code = rc ? cli_fail() : 0;
    pipeline_release(&p);
    return exit_code;
}
