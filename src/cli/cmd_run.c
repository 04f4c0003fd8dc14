/* hmrec run: the stages in order in a work directory. A stage whose inputs and settings
 * are unchanged (same fingerprint) and whose outputs exist is skipped, so an interrupted
 * run resumes where it stopped and a changed setting reruns only what depends on it. */
#include "cli.h"
#include "pipeline.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fingerprints ------------------------------------------------------------------- */

/* Fingerprint of the CSV inputs: names, sizes and modification times. */
static uint64_t fingerprint_csvs(const char *dir)
{
    static const char *const names[] = {"articles.csv", "customers.csv", "transactions_train.csv"};
    uint64_t h = 0x5eed;
    for (int i = 0; i < 3; i++) {
        char *p = hm_path_join(dir, names[i]);
        struct stat st;
        uint64_t v[3] = {0, 0, 0};
        if (stat(p, &st) == 0) {
            v[0] = (uint64_t)st.st_size;
            v[1] = (uint64_t)st.st_mtim.tv_sec;
            v[2] = (uint64_t)st.st_mtim.tv_nsec;
        }
        h = hm_hash64(v, sizeof v, h);
        h = hm_hash64(p, strlen(p), h);
        free(p);
    }
    return h;
}

/* Fingerprint of a store: the headers of its table files (they hold every checksum). */
static uint64_t fingerprint_store(const struct data_set *ds)
{
    uint64_t h = 0x570e;
    for (int i = 0; i < 3; i++)
        h = hm_hash64(ds->files[i].map.data, ds->files[i].map.size < 128 ? ds->files[i].map.size : 128, h);
    return h;
}

static uint64_t fingerprint_settings(const struct cli_config *c, const char *prefix, uint64_t h)
{
    size_t n;
    const struct hm_setting *t = cli_config_table(&n);
    char *text = hm_settings_format(t, n, c, prefix);
    h = hm_hash64(text, strlen(text), h);
    free(text);
    return h;
}

static char *stage_fp_path(const char *work, const char *stage)
{
    char name[64];
    snprintf(name, sizeof name, "stages/%s.fp", stage);
    return hm_path_join(work, name);
}

/* 1 when the stage's recorded fingerprint is fp and all its outputs exist. */
static int stage_fresh(const char *work, const char *stage, uint64_t fp, const char *const *outputs)
{
    char *path = stage_fp_path(work, stage), *text = NULL;
    int fresh = hm_read_file(path, &text, NULL) == 0 && strtoull(text, NULL, 16) == fp;
    free(text);
    free(path);
    for (int i = 0; fresh && outputs && outputs[i]; i++)
        fresh = access(outputs[i], F_OK) == 0;
    hm_clear_error();
    return fresh;
}

static int stage_done(const char *work, const char *stage, uint64_t fp)
{
    char *dir = hm_path_join(work, "stages"), *path = stage_fp_path(work, stage);
    int rc = hm_mkdirs(dir);
    if (!rc) {
        struct hm_awriter w;
        char text[32];
        int n = snprintf(text, sizeof text, "%016llx\n", (unsigned long long)fp);
        if ((rc = hm_awriter_open(&w, path)) == 0 && (rc = hm_awriter_write(&w, text, (size_t)n)) == 0)
            rc = hm_awriter_commit(&w);
        else if (w.f)
            hm_awriter_abort(&w);
    }
    free(dir);
    free(path);
    return rc;
}

/* ---- the runner ----------------------------------------------------------------------- */

static int run_ingest(const struct cli_config *c, const char *store)
{
    uint64_t fp = fingerprint_csvs(c->run.data);
    char *art = hm_path_join(store, DATA_STORE_TRANSACTIONS);
    const char *outs[] = {art, NULL};
    int rc = 0;
    if (stage_fresh(c->run.work, "ingest", fp, outs)) {
        printf("[ingest] up to date, skipped\n");
    } else {
        printf("[ingest] %s -> %s\n", c->run.data, store);
        struct data_ingest_opts o = {.data_dir = c->run.data, .store_dir = store, .bad_rows = IO_BAD_FAIL, .missing_refs = IO_REFS_FAIL};
        struct data_ingest_report rep;
        rc = data_ingest(&o, &rep);
        if (!rc) {
            printf("[ingest] %llu transactions, %llu customers, %llu articles in %.1fs\n",
                   (unsigned long long)rep.transactions.rows, (unsigned long long)rep.customers.rows,
                   (unsigned long long)rep.articles.rows, rep.seconds);
            rc = stage_done(c->run.work, "ingest", fp);
        }
    }
    free(art);
    return rc;
}

static int run_stages(const struct cli_config *c)
{
    int rc = hm_mkdirs(c->run.work);
    if (rc)
        return rc;
    char *store = pipeline_store_dir(c);
    if (c->run.data[0] && (rc = run_ingest(c, store)) != 0) {
        free(store);
        return rc;
    }
    struct data_set ds;
    if ((rc = data_set_open(&ds, store, 0)) != 0) {
        if (!c->run.data[0])
            hm_error_wrap(rc, "run.data is empty and the store cannot be opened");
        free(store);
        return rc;
    }
    free(store);
    uint64_t fp_store = fingerprint_store(&ds);

    /* Stage 1 */
    char *prep_path = hm_path_join(c->run.work, "prepare.hmt");
    uint64_t fp = fingerprint_settings(c, "prepare.", fp_store);
    const char *prep_outs[] = {prep_path, NULL};
    if (stage_fresh(c->run.work, "prepare", fp, prep_outs)) {
        printf("[prepare] up to date, skipped\n");
    } else {
        printf("[prepare]\n");
        if ((rc = pipeline_prepare(c, &ds)) == 0)
            rc = stage_done(c->run.work, "prepare", fp);
    }
    free(prep_path);

    /* Stage 2: candidates at the validation cutoff for the sample and the week's buyers */
    if (!rc) {
        char *cand = hm_path_join(c->run.work, "candidates.hmt");
        char *cstats = hm_path_join(c->run.work, "candidates_stats.txt");
        char *csvg = hm_path_join(c->run.work, "candidates_recall.svg");
        const char *cand_outs[] = {cand, cstats, csvg, NULL};
        uint64_t fpc = fingerprint_settings(c, "recall.", fingerprint_settings(c, "prepare.", fp_store));
        if (stage_fresh(c->run.work, "candidates", fpc, cand_outs)) {
            printf("[candidates] up to date, skipped\n");
        } else {
            printf("[candidates]\n");
            struct pipeline_cand_opts co = {.week = 0, .users = 0, .stats = 1, .write = 1, .path = cand};
            if ((rc = pipeline_candidates(c, &ds, &co)) == 0)
                rc = stage_done(c->run.work, "candidates", fpc);
        }
        free(cand);
        free(cstats);
        free(csvg);
    }

    /* baselines on the validation week -> metrics table */
    char *metrics_path = hm_path_join(c->run.work, "metrics.txt");
    fp = fingerprint_settings(c, "baseline.", hm_hash64(c->run.baselines, strlen(c->run.baselines), fp_store));
    fp = hm_hash64(c->run.data, strlen(c->run.data), fp); /* the oracle file comes from run.data */
    const char *metric_outs[] = {metrics_path, NULL};
    if (!rc && stage_fresh(c->run.work, "evaluate", fp, metric_outs)) {
        printf("[evaluate] up to date, skipped\n");
    } else if (!rc) {
        printf("[evaluate] baselines on the validation week\n");
        char *oracle = pipeline_oracle_path(c->run.data, ds.tx.day_max - 6), *table = NULL;
        struct prep_truth truth;
        prep_truth_build(&truth, &ds, (struct prep_week){ds.tx.day_max - 6, ds.tx.day_max});
        if ((rc = pipeline_metrics_table(c, &ds, &truth, c->run.baselines, oracle, &table)) == 0) {
            struct hm_awriter w;
            if ((rc = hm_awriter_open(&w, metrics_path)) == 0) {
                hm_awriter_write(&w, table, strlen(table));
                rc = hm_awriter_commit(&w);
            }
        }
        prep_truth_release(&truth);
        free(table);
        free(oracle);
        if (!rc)
            rc = stage_done(c->run.work, "evaluate", fp);
    }

    /* the submission */
    char *sub = c->run.submission[0] ? hm_xstrdup(c->run.submission) : hm_path_join(c->run.work, "submission.csv.gz");
    fp = hm_hash64(c->run.submit_model, strlen(c->run.submit_model), fingerprint_settings(c, "baseline.", fp_store));
    fp = hm_hash64(sub, strlen(sub), fp);
    const char *sub_outs[] = {sub, NULL};
    if (!rc && stage_fresh(c->run.work, "submit", fp, sub_outs)) {
        printf("[submit] up to date, skipped\n");
    } else if (!rc) {
        printf("[submit]\n");
        if ((rc = pipeline_submit(c, &ds, sub)) == 0)
            rc = stage_done(c->run.work, "submit", fp);
    }
    free(sub);
    data_set_release(&ds);

    if (!rc) {
        char *text;
        if ((rc = hm_read_file(metrics_path, &text, NULL)) == 0) {
            printf("\n%s", text);
            free(text);
        }
    }
    free(metrics_path);
    return rc;
}

/* Parses "[--config FILE] [--set KEY=VALUE]... [--help]" into cfg. Returns -1 when cfg is
 * loaded, else the exit code (0 after --help, which prints help). */
static int parse_config_only(int argc, char **argv, const char *help, struct cli_config *cfg)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"set", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *config = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_sets = 0, c, exit_code = -1;
    optind = 1;
    while (exit_code < 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else if (c == 's')
            sets[n_sets++] = optarg;
        else if (c == 'h')
            exit_code = (fputs(help, stdout), 0);
        else
            exit_code = cli_usage_error(argv[0], "unknown option");
    }
    if (exit_code < 0 && cli_config_load(cfg, config, sets, n_sets) != 0)
        exit_code = cli_fail();
    free(sets);
    return exit_code;
}

int cmd_run(int argc, char **argv)
{
    struct cli_config cfg;
    int code = parse_config_only(argc, argv,
                                 "usage: hmrec run [--config FILE] [--set KEY=VALUE]...\n"
                                 "Runs ingest, prepare, candidates, evaluate (baselines) and submit in run.work,\n"
                                 "skipping stages whose inputs and settings are unchanged. Settings: docs/config.md.\n",
                                 &cfg);
    if (code >= 0)
        return code;
    return run_stages(&cfg) ? cli_fail() : 0;
}

/* hmrec config: prints the effective settings as a config file, with descriptions. */
int cmd_config(int argc, char **argv)
{
    struct cli_config cfg;
    int code = parse_config_only(argc, argv,
                                 "usage: hmrec config [--config FILE] [--set KEY=VALUE]...\n"
                                 "Prints every setting with its effective value, as a config file.\n",
                                 &cfg);
    if (code >= 0)
        return code;
    size_t n;
    const struct hm_setting *t = cli_config_table(&n);
    char section[64] = "";
    for (size_t i = 0; i < n; i++) {
        const char *dot = strchr(t[i].key, '.');
        size_t sl = (size_t)(dot - t[i].key);
        if (strlen(section) != sl || strncmp(section, t[i].key, sl) != 0) {
            snprintf(section, sizeof section, "%.*s", (int)sl, t[i].key);
            printf("%s[%s]\n", i ? "\n" : "", section);
        }
        char *line = hm_settings_format(t + i, 1, &cfg, "");
        printf("%-40s # %s (default: %s)\n", strtok(line, "\n") + sl + 1, t[i].help, t[i].def[0] ? t[i].def : "empty");
        free(line);
    }
    return 0;
}
