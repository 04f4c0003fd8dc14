/* Terminal user interface: log lines and progress (a bar on a terminal; when stderr is not a
 * terminal, plain lines: when a task starts, every 10 s while it runs, and when it ends). */
#include "cli.h"
#include "comm/comm.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ui_quiet, ui_tty, bar_open;
static double last_plain_s;

int cli_fail(void)
{
    if (bar_open) {
        fputc('\n', stderr);
        bar_open = 0;
    }
    const char *msg = hm_last_error();
    if (comm_size() > 1)
        fprintf(stderr, "hmrec: %s: error: %s\n", comm_label(), *msg ? msg : "unknown error");
    else
        fprintf(stderr, "hmrec: error: %s\n", *msg ? msg : "unknown error");
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hmrec %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'hmrec %s --help')\n", cmd);
    return 2;
}

int cli_parse_long(const char *cmd, const char *opt, const char *s, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0) {
        cli_usage_error(cmd, "%s expects a non-negative integer, found \"%s\"", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_week(const char *cmd, const char *s, struct pipeline_week *out)
{
    if (!strcmp(s, "val")) {
        *out = (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0};
        return 0;
    }
    if (!strcmp(s, "test")) {
        *out = (struct pipeline_week){PIPELINE_WEEK_TEST, 0};
        return 0;
    }
    char *end;
    long w = strtol(s, &end, 10);
    if (!*s || *end || w < 1 || w > INT_MAX)
        return cli_usage_error(cmd, "--week is val, test or a training week >= 1, found \"%s\"", s);
    *out = (struct pipeline_week){PIPELINE_WEEK_TRAIN, (int)w};
    return 0;
}

int cli_load_config(struct pipeline_config *cfg, const char *config, char **sets, int n_sets, const char *store,
                    const char *work)
{
    if (pipeline_config_load(cfg, config, sets, n_sets) != 0)
        return cli_fail();
    if (store)
        snprintf(cfg->run.store, sizeof cfg->run.store, "%s", store);
    if (work)
        snprintf(cfg->run.work, sizeof cfg->run.work, "%s", work);
    return 0;
}

static void log_hook(int level, const char *msg, void *ud)
{
    (void)ud;
    if (comm_rank() > 0) {
        /* under mpirun rank 0 reports the run; the others say only what goes wrong on them
         * (and their debug lines), each line naming the rank */
        if (level == HM_LOG_ERROR || level == HM_LOG_WARN || (level == HM_LOG_DEBUG && getenv("HMREC_DEBUG")))
            fprintf(stderr, "%s: %s%s\n", comm_label(),
                    level == HM_LOG_ERROR ? "error: " : level == HM_LOG_WARN ? "warning: " : "", msg);
        return;
    }
    if (level == HM_LOG_REPORT) {
        /* results go to stdout (line-buffered: see cli_ui_init), after any open bar */
        if (bar_open) {
            fputs("\r\033[K", stderr);
            bar_open = 0;
        }
        printf("%s\n", msg);
        return;
    }
    if (ui_quiet && level > HM_LOG_WARN)
        return;
    if (level == HM_LOG_DEBUG && !getenv("HMREC_DEBUG"))
        return;
    if (bar_open) {
        fputs("\r\033[K", stderr);
        bar_open = 0;
    }
    const char *tag = level == HM_LOG_ERROR ? "error: " : level == HM_LOG_WARN ? "warning: " : "";
    fprintf(stderr, "%s%s\n", tag, msg);
}

static void progress_hook(const char *label, uint64_t done, uint64_t total, double secs,
                          int finished, void *ud)
{
    (void)ud;
    if (ui_quiet || comm_rank() > 0)
        return;
    double frac = total ? (double)done / (double)total : 0.0;
    if (frac > 1.0)
        frac = 1.0;
    if (ui_tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        double eta = frac > 0.01 && !finished ? secs / frac - secs : 0;
        fprintf(stderr, "\r\033[K%-24s [%s] %5.1f%%  %6.1fs", label, bar, frac * 100, secs);
        if (eta > 0)
            fprintf(stderr, "  eta %.0fs", eta);
        bar_open = 1;
        if (finished) {
            fputc('\n', stderr);
            bar_open = 0;
        }
        return;
    }
    if (finished) {
        fprintf(stderr, "%s: done in %.1fs\n", label, secs);
        last_plain_s = 0;
    } else if (done == 0) {
        fprintf(stderr, "%s: started\n", label);
        last_plain_s = 0;
    } else if (secs - last_plain_s >= 10) {
        /* a task shorter than 10 s shows its start and its end only */
        fprintf(stderr, "%s: %d%% (%.1fs)\n", label, (int)(frac * 100), secs);
        last_plain_s = secs;
    }
}

void cli_ui_init(int quiet)
{
    /* line-buffered stdout: results and diagnostics (stderr) stay in the order they happened
     * even when both are redirected to one file */
    setvbuf(stdout, NULL, _IOLBF, 0);
    ui_quiet = quiet;
    ui_tty = isatty(STDERR_FILENO);
    hm_log_set_hook(log_hook, NULL);
    hm_progress_set_hook(progress_hook, NULL);
}
