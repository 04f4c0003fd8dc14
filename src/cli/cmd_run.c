/* hmrec run and hmrec config: the pipeline's stages in a work directory (src/pipeline), and
 * the effective settings. */
#include "cli.h"
#include "pipeline/pipeline.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses "[--config FILE] [--set KEY=VALUE]... [--help]" into cfg. Returns -1 when cfg is
 * loaded, else the exit code (0 after --help, which prints help). */
static int parse_config_only(int argc, char **argv, const char *help, struct pipeline_config *cfg)
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
    if (exit_code < 0 && pipeline_config_load(cfg, config, sets, n_sets) != 0)
        exit_code = cli_fail();
    free(sets);
    return exit_code;
}

int cmd_run(int argc, char **argv)
{
    struct pipeline_config cfg;
    struct hm_buf help = {0};
    hm_buf_puts(&help, "usage: hmrec run [--config FILE] [--set KEY=VALUE]...\n"
                       "Runs the pipeline's stages in run.work, skipping those whose inputs and settings are\n"
                       "unchanged (and saying why a stage runs). Settings: docs/config.md. The stages:\n");
    for (int i = 0; i < pipeline_n_stages; i++)
        hm_buf_printf(&help, "  %-12s %s\n", pipeline_stages[i].name, pipeline_stages[i].summary);
    int code = parse_config_only(argc, argv, help.s, &cfg);
    hm_buf_release(&help);
    if (code >= 0)
        return code;
    struct pipeline p;
    pipeline_init(&p, &cfg);
    if (!cfg.run.data[0] && access(p.store, F_OK) != 0) {
        /* nothing to read: a newcomer's first try; say how to get going */
        fprintf(stderr,
                "hmrec run: nothing to run: run.data (the directory of the H&M CSV files) is not set and\n"
                "there is no store in %s.\n"
                "  - the demo on synthetic data:  make demo\n"
                "    (or: hmrec synth --preset small data/small && hmrec run --config configs/demo.conf)\n"
                "  - your own files:              hmrec run --set run.data=DIR --set run.work=WORK\n"
                "Settings and config files: docs/config.md; every setting: hmrec config.\n",
                p.store);
        pipeline_release(&p);
        return 2;
    }
    int rc = pipeline_run(&p);
    pipeline_release(&p);
    return rc ? cli_fail() : 0;
}

/* hmrec config: prints the effective settings as a config file, with descriptions. */
int cmd_config(int argc, char **argv)
{
    struct pipeline_config cfg;
    int code = parse_config_only(argc, argv,
                                 "usage: hmrec config [--config FILE] [--set KEY=VALUE]...\n"
                                 "Prints every setting with its effective value, as a config file.\n",
                                 &cfg);
    if (code >= 0)
        return code;
    size_t n;
    const struct hm_setting *t = pipeline_config_table(&n);
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
