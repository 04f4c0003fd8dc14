/* hmrec features: the feature table (--list) and the wide CSV view of a week's features. */
#include "cli.h"
#include "pipeline/pipeline.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: hmrec features --list [--markdown]\n"
    "       hmrec features --store DIR [--work DIR] --week val|test|N --out FILE.csv [--users K]\n"
    "                      [--config FILE] [--set KEY=VALUE]...\n"
    "--list prints every feature's name, group and meaning (--markdown: the table of\n"
    "docs/features.md, with each feature's imputation). --week writes the wide view of a week's\n"
    "features as CSV for pandas: the candidates of the week's first K buyers (default 1000; every\n"
    "customer for --week test) as of the week's cutoff, with customer_id, article_id, every\n"
    "feature and, when features.image names image embeddings, their 512 dimensions.\n";

int cmd_features(int argc, char **argv)
{
    enum { O_LIST = 1000, O_MD, O_STORE, O_WORK, O_WEEK, O_OUT, O_USERS, O_CONFIG, O_SET, O_HELP };
    static const struct option opts[] = {
        {"list", no_argument, 0, O_LIST},         {"markdown", no_argument, 0, O_MD},
        {"store", required_argument, 0, O_STORE}, {"work", required_argument, 0, O_WORK},
        {"week", required_argument, 0, O_WEEK},   {"out", required_argument, 0, O_OUT},
        {"users", required_argument, 0, O_USERS}, {"config", required_argument, 0, O_CONFIG},
        {"set", required_argument, 0, O_SET},     {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *config = NULL, *store = NULL, *work = NULL, *out = NULL, *week_arg = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_sets = 0, c, code = 0, list = 0, md = 0;
    long users = 1000;
    optind = 1;
    while (!code && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_LIST: list = 1; break;
        case O_MD: md = 1; break;
        case O_STORE: store = optarg; break;
        case O_WORK: work = optarg; break;
        case O_WEEK: week_arg = optarg; break;
        case O_OUT: out = optarg; break;
        case O_USERS:
            if (cli_parse_long(argv[0], "--users", optarg, &users) != 0)
                code = 2;
            else if (users < 1 || users > UINT32_MAX)
                code = cli_usage_error(argv[0], "--users is a number of customers, at least 1 (found %ld)", users);
            break;
        case O_CONFIG: config = optarg; break;
        case O_SET: sets[n_sets++] = optarg; break;
        case O_HELP: fputs(usage_text, stdout); free(sets); return 0;
        default: code = cli_usage_error(argv[0], "unknown option"); break;
        }
    }
    if (!code && list) {
        char *text = feat_list_format(md);
        fputs(text, stdout);
        free(text);
        free(sets);
        return 0;
    }
    if (!code && (!week_arg || !out))
        code = cli_usage_error(argv[0], "--list, or --week and --out");
    struct pipeline_week week;
    if (!code)
        code = cli_parse_week(argv[0], week_arg, &week);
    if (code) {
        free(sets);
        return code;
    }
    struct pipeline_config cfg;
    int rc = cli_load_config(&cfg, config, sets, n_sets, store, work);
    free(sets);
    if (rc)
        return rc;
    struct pipeline p;
    pipeline_init(&p, &cfg);
    rc = pipeline_features_export(&p, week, (uint32_t)users, out);
    int exit_code = rc ? cli_fail() : 0;
    pipeline_release(&p);
    return exit_code;
}
