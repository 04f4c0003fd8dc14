/* cli: the hmrec command and its subcommands; the only place that exits or prints
 * directly. Each subcommand lives in cmd_<name>.c and is listed in main.c's table. */
#ifndef HM_CLI_H
#define HM_CLI_H

#include "core/core.h"
#include "pipeline/pipeline.h"

/* A subcommand: argv[0] is the subcommand's name; returns the process exit code. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

/* Prints "hmrec: error: <hm_last_error()>" to stderr and returns exit code 1. */
int cli_fail(void);
/* Prints "hmrec <cmd>: <message>" (usage problems) and returns exit code 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a non-negative integer option value or fails with a usage error (returns -1). */
int cli_parse_long(const char *cmd, const char *opt, const char *s, long *out);
/* Parses a --week value: val, test, or N >= 1 (the N-th training week); else a usage error
 * (returns 2). */
int cli_parse_week(const char *cmd, const char *s, struct pipeline_week *out);
/* The settings of a command: the config file (or the defaults), the --set overrides, then
 * --store and --work when given (not NULL). 0, or cli_fail()'s exit code. */
int cli_load_config(struct pipeline_config *cfg, const char *config, char **sets, int n_sets, const char *store,
                    const char *work);

/* Installs the log and progress hooks: a bar on a terminal, plain lines otherwise.
 * quiet: only warnings and errors. */
void cli_ui_init(int quiet);

int cmd_version(int argc, char **argv);
/* ingest, info, export: cmd_ingest.c, cmd_info.c, cmd_export.c */
int cmd_ingest(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
/* prepare, baseline, evaluate, submit: cmd_pipeline.c; run: cmd_run.c */
int cmd_prepare(int argc, char **argv);
int cmd_baseline(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_candidates(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
