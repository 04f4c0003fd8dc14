/* hmrec: entry point and subcommand table. */
#include "cli.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    cli_cmd_fn run;
    const char *summary;
} commands[] = {
    {"version", cmd_version, "print the version and the BLAS kernel in use"},
    {"ingest", cmd_ingest, "read the H&M CSV files into a columnar store"},
    {"info", cmd_info, "print the tables, row counts and sizes of a store"},
    {"export", cmd_export, "write a store back as Kaggle-format CSV files"},
    {"prepare", cmd_prepare, "Stage 1: time windows, user sample, item filter"},
    {"baseline", cmd_baseline, "score the baselines (popular, decayed, recent); write predictions"},
    {"candidates", cmd_candidates, "Stage 2: recall strategies merged into a candidate pool; --stats"},
    {"features", cmd_features, "Stage 3: the feature table (--list), a week's features as CSV"},
    {"model", cmd_model, "the network's layers and parameters (--summary), a model's top features"},
    {"evaluate", cmd_evaluate, "score submission-format files against the validation week"},
    {"submit", cmd_submit, "write the Kaggle submission for every customer"},
    {"config", cmd_config, "print the effective settings as a config file"},
    {"run", cmd_run, "run the pipeline's stages in a work directory (skips what is up to date)"},
    {"synth", cmd_synth, "generate a synthetic H&M data set with an oracle (or --check one)"},
    {"embed", cmd_embed, "FashionCLIP image embeddings of the article photos"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: hmrec <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'hmrec <command> --help' describes a command's options.\n"
                 "Environment: HMREC_THREADS (worker threads), HMREC_DEBUG (debug log lines).\n");
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("hmrec 0.1.0\nblas kernel: %s (OPENBLAS_CORETYPE=%s)\nthreads: %d\n",
           hm_blas_corename(), getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "",
           hm_threads());
    return 0;
}

int main(int argc, char **argv)
{
    hm_blas_ensure_coretype(argv);
    setlocale(LC_ALL, "C");
    const char *t = getenv("HMREC_THREADS");
    if (t && atoi(t) > 0)
        hm_threads_set(atoi(t));
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(argc - 1, argv + 1);
    int quiet = getenv("HMREC_QUIET") != NULL;
    cli_ui_init(quiet);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hmrec: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
