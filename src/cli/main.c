/* hmrec: entry point and subcommand table. */
#include "cli.h"
#include "comm/comm.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    cli_cmd_fn run;
    const char *summary;
    int ranks; /* runs on several ranks under mpirun (docs/scale.md) */
} commands[] = {
    {"version", cmd_version, "print the version and the BLAS kernel in use", 1},
    {"ingest", cmd_ingest, "read the H&M CSV files into a columnar store (sharded under mpirun)", 1},
    {"info", cmd_info, "print the tables, row counts and sizes of a store", 0},
    {"export", cmd_export, "write a store back as Kaggle-format CSV files", 0},
    {"prepare", cmd_prepare, "Stage 1: time windows, user sample, item filter", 0},
    {"baseline", cmd_baseline, "score the baselines (popular, decayed, recent); write predictions", 0},
    {"candidates", cmd_candidates, "Stage 2: recall strategies merged into a candidate pool; --stats", 0},
    {"features", cmd_features, "Stage 3: the feature table (--list), a week's features as CSV", 0},
    {"model", cmd_model, "the network's layers and parameters (--summary), a model's top features", 0},
    {"evaluate", cmd_evaluate, "score submission-format files against the validation week", 0},
    {"submit", cmd_submit, "write the Kaggle submission for every customer", 0},
    {"config", cmd_config, "print the effective settings as a config file", 0},
    {"run", cmd_run, "run the pipeline's stages in a work directory (skips what is up to date)", 0},
    {"synth", cmd_synth, "generate a synthetic H&M data set with an oracle (or --check one)", 0},
    {"embed", cmd_embed, "FashionCLIP image embeddings of the article photos", 0},
    {"serve", cmd_serve, "answer recommendations and take purchases over HTTP, with a web page", 0},
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
    if (comm_size() > 1)
        printf("ranks: %d (this is rank %d; %d on this machine)\n", comm_size(), comm_rank(), comm_local_size());
    return 0;
}

/* The subcommand's exit code; under mpirun a failing rank ends every rank of the run. */
static int finish(int code)
{
    if (code)
        comm_abort(code);
    comm_finalize();
    return code;
}

int main(int argc, char **argv)
{
    hm_blas_ensure_coretype(argv);
    setlocale(LC_ALL, "C");
    if (comm_init(&argc, &argv) != 0) {
        fprintf(stderr, "hmrec: error: %s\n", hm_last_error());
        return 1;
    }
    const char *t = getenv("HMREC_THREADS");
    if (t && atoi(t) > 0)
        hm_threads_set(atoi(t));
    else if (comm_local_size() > 1) /* the machine's cores shared by its ranks */
        hm_threads_set(hm_threads() / comm_local_size() > 1 ? hm_threads() / comm_local_size() : 1);
    if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return finish(argc < 2 ? 2 : 0);
    }
    if (!strcmp(argv[1], "--version"))
        return finish(cmd_version(argc - 1, argv + 1));
    int quiet = getenv("HMREC_QUIET") != NULL;
    cli_ui_init(quiet);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            if (comm_size() > 1 && !commands[i].ranks) {
                fprintf(stderr, "hmrec: %s: error: hmrec %s runs in one process; on several ranks (mpirun -np N, "
                                "N > 1) hmrec runs: ingest, version (docs/scale.md)\n",
                        comm_label(), argv[1]);
                return finish(2);
            }
            return finish(commands[i].run(argc - 1, argv + 1));
        }
    fprintf(stderr, "hmrec: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return finish(2);
}
