/* hmrec prepare | baseline | evaluate | submit: the pipeline's stages one at a time. */
#include "cli.h"
#include "pipeline/pipeline.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Options every stage command takes. */
struct stage_opts {
    const char *config;
    char **sets;
    int n_sets;
    const char *store, *work, *out, *pred, *week, *customers, *oracle, *week_end, *truth;
    struct pipeline_config cfg;
    struct pipeline p;   /* set up by parse_opts; pipeline_release when done */
};

enum { OPT_CONFIG = 1000, OPT_SET, OPT_STORE, OPT_WORK, OPT_OUT, OPT_PRED, OPT_WEEK, OPT_CUSTOMERS, OPT_ORACLE,
       OPT_WEEK_END, OPT_TRUTH, OPT_HELP };

static const struct option long_opts[] = {
    {"config", required_argument, 0, OPT_CONFIG}, {"set", required_argument, 0, OPT_SET},
    {"store", required_argument, 0, OPT_STORE},   {"work", required_argument, 0, OPT_WORK},
    {"out", required_argument, 0, OPT_OUT},       {"pred", required_argument, 0, OPT_PRED},
    {"week", required_argument, 0, OPT_WEEK},     {"customers", required_argument, 0, OPT_CUSTOMERS},
    {"oracle", required_argument, 0, OPT_ORACLE}, {"week-end", required_argument, 0, OPT_WEEK_END},
    {"truth", required_argument, 0, OPT_TRUTH},   {"help", no_argument, 0, OPT_HELP},
    {0, 0, 0, 0},
};

static const char *const usage_text[] = {
    "prepare",  "usage: hmrec prepare --store DIR --work DIR [--config FILE] [--set KEY=VALUE]...\n"
                "Stage 1: time windows, stratified user sample, item filter; writes WORK/prepare.hmt.\n",
    "baseline", "usage: hmrec baseline NAME --store DIR [--out FILE] [--week val|test]\n"
                "       [--customers buyers|all] [--oracle FILE] [--config FILE] [--set KEY=VALUE]...\n"
                "NAME: popular, decayed, recent, or all. Scores NAME on the validation week and, with\n"
                "--out, writes its predictions (default: the week's buyers; --week test --customers all\n"
                "predicts the week after the data for every customer). --oracle adds a row for the\n"
                "oracle file of hmrec synth (data/oracle/week_<first day>_oracle.csv) and each row's\n"
                "share of its MAP@12.\n",
    "evaluate", "usage: hmrec evaluate --store DIR --pred FILE [--pred FILE]... [--week-end YYYY-MM-DD | --truth FILE]\n"
                "Scores submission-format files (plain or .gz) against the purchases of a week: the\n"
                "last 7 days of the store, the 7 days ending on --week-end, or the purchases listed in\n"
                "--truth FILE (customer_id,purchases: space-separated article ids, e.g. the held-out\n"
                "week hmrec synth writes to oracle/week_2020-09-23_truth.csv). When the truth file has\n"
                "an oracle beside it (week_<day>_oracle.csv), the oracle is scored too and every row\n"
                "gets its share of the oracle.\n",
    "submit",   "usage: hmrec submit --store DIR --out FILE[.gz] [--config FILE] [--set KEY=VALUE]...\n"
                "12 articles for every customer, for the week after the data (run.submit_model).\n",
};

static void print_usage(const char *cmd)
{
    for (size_t i = 0; i < sizeof usage_text / sizeof usage_text[0]; i += 2)
        if (!strcmp(usage_text[i], cmd))
            fputs(usage_text[i + 1], stdout);
}

/* Parses the options; returns 0, or an exit code (+ 1000 for --help so callers exit 0). */
static int parse_opts(int argc, char **argv, struct stage_opts *o, const char **preds, int *n_preds)
{
    memset(o, 0, sizeof *o);
    o->sets = calloc((size_t)argc + 1, sizeof *o->sets);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG: o->config = optarg; break;
        case OPT_SET: o->sets[o->n_sets++] = optarg; break;
        case OPT_STORE: o->store = optarg; break;
        case OPT_WORK: o->work = optarg; break;
        case OPT_OUT: o->out = optarg; break;
        case OPT_PRED:
            if (preds)
                preds[(*n_preds)++] = optarg;
            o->pred = optarg;
            break;
        case OPT_WEEK: o->week = optarg; break;
        case OPT_CUSTOMERS: o->customers = optarg; break;
        case OPT_ORACLE: o->oracle = optarg; break;
        case OPT_WEEK_END: o->week_end = optarg; break;
        case OPT_TRUTH: o->truth = optarg; break;
        case OPT_HELP: print_usage(argv[0]); return 1000;
        default: return cli_usage_error(argv[0], "unknown option");
        }
    }
    int rc = cli_load_config(&o->cfg, o->config, o->sets, o->n_sets, o->store, o->work);
    if (rc)
        return rc;
    pipeline_init(&o->p, &o->cfg);
    return 0;
}

static void opts_release(struct stage_opts *o)
{
    pipeline_release(&o->p);
    free(o->sets);
}

#define PARSE_OR_RETURN(argc, argv, o, preds, np)                \
    do {                                                         \
        int prc_ = parse_opts(argc, argv, o, preds, np);         \
        if (prc_) {                                              \
            free((o)->sets);                                     \
            return prc_ == 1000 ? 0 : prc_;                      \
        }                                                        \
    } while (0)

int cmd_prepare(int argc, char **argv)
{
    struct stage_opts o;
    PARSE_OR_RETURN(argc, argv, &o, NULL, NULL);
    int rc = pipeline_prepare(&o.p);
    int code = rc ? cli_fail() : 0;
    opts_release(&o);
    return code;
}

int cmd_baseline(int argc, char **argv)
{
    struct stage_opts o;
    PARSE_OR_RETURN(argc, argv, &o, NULL, NULL);
    int rc = 0, exit_code = 0;
    if (optind >= argc) {
        opts_release(&o);
        return cli_usage_error(argv[0], "which baseline? (popular, decayed, recent, all)");
    }
    const char *name = argv[optind];
    int first = 0, last = RECALL_NBASELINES - 1;
    if (strcmp(name, "all") != 0) {
        first = last = recall_baseline_find(name);
        if (first < 0) {
            opts_release(&o);
            return cli_usage_error(argv[0], "unknown baseline '%s' (popular, decayed, recent, all)", name);
        }
    }
    int test_week = o.week && !strcmp(o.week, "test");
    int all_customers = o.customers && !strcmp(o.customers, "all");
    if ((o.week && !test_week && strcmp(o.week, "val")) ||
        (o.customers && !all_customers && strcmp(o.customers, "buyers")) || (o.out && first != last)) {
        opts_release(&o);
        return cli_usage_error(argv[0], "--week is val or test, --customers buyers or all, --out needs one baseline");
    }
    const struct data_set *ds;
    if ((rc = pipeline_data(&o.p, &ds)) != 0) {
        exit_code = cli_fail();
        opts_release(&o);
        return exit_code;
    }
    struct prep_truth truth;
    struct prep_week val = {ds->tx.day_max - 6, ds->tx.day_max};
    prep_truth_build(&truth, ds, val);
    char names[HM_SETTING_STRLEN] = "", *table = NULL;
    for (int k = first; k <= last; k++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k > first ? "," : "",
                 recall_baseline_name[k]);
    if ((rc = pipeline_metrics_table(&o.p, &truth, names, o.oracle, NULL, 0, &table, NULL)) == 0)
        fputs(table, stdout);
    free(table);
    if (!rc && o.out) {
        int32_t cutoff = test_week ? ds->tx.day_max + 1 : val.start;
        if (all_customers)
            rc = pipeline_write_predictions(&o.p, first, cutoff, NULL, ds->customers.n, o.out);
        else if (test_week)
            rc = hm_error(HM_EINVAL, "the test week has no buyers yet: use --customers all");
        else
            rc = pipeline_write_predictions(&o.p, first, cutoff, truth.user, truth.n_users, o.out);
        if (!rc)
            printf("wrote %s\n", o.out);
    }
    if (rc)
        exit_code = cli_fail();
    prep_truth_release(&truth);
    opts_release(&o);
    return exit_code;
}

int cmd_evaluate(int argc, char **argv)
{
    struct stage_opts o;
    const char **preds = calloc((size_t)argc + 1, sizeof *preds);
    int n_preds = 0;
    int prc = parse_opts(argc, argv, &o, preds, &n_preds);
    if (prc || n_preds == 0) {
        if (!prc)
            opts_release(&o);
        else
            free(o.sets);
        free(preds);
        return prc == 1000 ? 0 : prc ? prc : cli_usage_error(argv[0], "--pred FILE is required");
    }
    const struct data_set *ds;
    int rc = pipeline_data(&o.p, &ds), exit_code = 0;
    if (rc) {
        exit_code = cli_fail();
        opts_release(&o);
        free(preds);
        return exit_code;
    }
    int32_t end = ds->tx.day_max;
    if ((o.week_end && hm_date_parse(o.week_end, strlen(o.week_end), &end) != 0) || (o.week_end && o.truth)) {
        opts_release(&o);
        free(preds);
        return cli_usage_error(argv[0], o.truth ? "--week-end and --truth name the week twice: give one"
                                                : "--week-end expects a date YYYY-MM-DD, found \"%s\"", o.week_end);
    }
    struct prep_truth truth;
    if (o.truth)
        rc = pipeline_truth_read(ds, o.truth, &truth);
    else
        rc = prep_truth_build(&truth, ds, (struct prep_week){end - 6, end});
    if (rc) {
        exit_code = cli_fail();
        opts_release(&o);
        free(preds);
        return exit_code;
    }
    /* with a truth file: its oracle first, when hmrec synth wrote one beside it */
    char *oracle = o.truth ? pipeline_truth_oracle_path(o.truth) : NULL;
    int first = oracle ? 1 : 0, n_rows = first + n_preds;
    struct eval_row *rows = calloc((size_t)n_rows, sizeof *rows);
    double oracle_map = 0;
    if (oracle) {
        rows[0].name = "oracle";
        if ((rc = pipeline_evaluate_file(ds, &truth, oracle, &rows[0].sum)) == 0)
            oracle_map = eval_map12(&rows[0].sum);
    }
    for (int i = 0; i < n_preds && !rc; i++) {
        rows[first + i].name = preds[i];
        rc = pipeline_evaluate_file(ds, &truth, preds[i], &rows[first + i].sum);
    }
    if (!rc && o.truth) {
        static const char *const ref_name[1] = {"oracle"};
        char *table = eval_table_format_refs(rows, (size_t)n_rows, &oracle_map, ref_name, oracle ? 1 : 0);
        printf("%s: %u customers bought\n%s", o.truth, truth.n_users, table);
        free(table);
    } else if (!rc) {
        char *table = eval_table_format(rows, (size_t)n_preds, 0);
        char d0[11], d1[11];
        hm_date_format(end - 6, d0);
        hm_date_format(end, d1);
        printf("week %s..%s: %u customers bought\n%s", d0, d1, truth.n_users, table);
        free(table);
    } else {
        exit_code = cli_fail();
    }
    free(rows);
    free(oracle);
    prep_truth_release(&truth);
    opts_release(&o);
    free(preds);
    return exit_code;
}

int cmd_submit(int argc, char **argv)
{
    struct stage_opts o;
    PARSE_OR_RETURN(argc, argv, &o, NULL, NULL);
    if (!o.out && !o.cfg.run.submission[0]) {
        opts_release(&o);
        return cli_usage_error(argv[0], "--out FILE is required");
    }
    int rc = pipeline_submit(&o.p, o.out ? o.out : o.cfg.run.submission);
    int code = rc ? cli_fail() : 0;
    opts_release(&o);
    return code;
}
