/* hmrec serve: recommendations over HTTP from a finished work directory (src/serve). */
#include "cli.h"
#include "serve/serve.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char serve_help[] =
    "usage: hmrec serve --work DIR [--listen HOST:PORT] [--images DIR] [--token-file FILE]\n"
    "                   [--threads N] [--set KEY=VALUE]... [limits]\n\n"
    "Loads a finished work directory (hmrec run) and answers HTTP: the web page at /, and\n"
    "GET /v1/customers/{id}/recommendations?k=12 (the customer's row of submission.csv.gz for\n"
    "the same data), /v1/customers/{id}, /v1/articles/{id}[/similar|/image], /healthz,\n"
    "/metrics, POST /v1/purchases (appended to DIR/purchases.csv, counted at once; the next\n"
    "hmrec run folds them into the data). Details: docs/serve.md.\n\n"
    "  --work DIR             the work directory; its settings are the ones its stages ran with\n"
    "  --listen HOST:PORT     address (default 127.0.0.1:8080; port 0: any free port)\n"
    "  --images DIR           article JPEGs as DIR/0XX/0XXXXXXXXX.jpg (hmrec synth --images)\n"
    "  --token-file FILE      the token posts must carry (Authorization: Bearer ...); without it\n"
    "                         posting is off\n"
    "  --threads N            scoring threads (default: HMREC_THREADS or every core)\n"
    "  --set KEY=VALUE        change a setting (only ones that do not change what was computed)\n"
    "  --max-body BYTES       request body (default 1048576)\n"
    "  --max-header BYTES     request line and headers (default 16384)\n"
    "  --max-connections N    connections at once (default 512)\n"
    "  --idle-seconds N       close a connection silent this long (default 30)\n"
    "  --request-seconds N    a request must arrive whole within this (default 10)\n"
    "  --max-batch N          customers scored together at most (default 64)\n"
    "  --max-waiting N        recommendation requests waiting at most, then 503 (default 4096)\n"
    "SIGTERM or SIGINT: stop accepting, finish the requests in progress, exit 0.\n";

int cmd_serve(int argc, char **argv)
{
    enum { O_BODY = 256, O_HEADER, O_CONN, O_IDLE, O_REQ, O_BATCH, O_WAIT };
    static const struct option opts[] = {
        {"work", required_argument, 0, 'w'},        {"listen", required_argument, 0, 'l'},
        {"images", required_argument, 0, 'i'},      {"token-file", required_argument, 0, 't'},
        {"threads", required_argument, 0, 'n'},     {"set", required_argument, 0, 's'},
        {"max-body", required_argument, 0, O_BODY}, {"max-header", required_argument, 0, O_HEADER},
        {"max-connections", required_argument, 0, O_CONN}, {"idle-seconds", required_argument, 0, O_IDLE},
        {"request-seconds", required_argument, 0, O_REQ}, {"max-batch", required_argument, 0, O_BATCH},
        {"max-waiting", required_argument, 0, O_WAIT}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    struct serve_opts o;
    serve_opts_default(&o);
    const char *work = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_sets = 0, c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(serve_help, stdout);
            free(sets);
            return 0;
        }
        if (c == 'w')
            work = optarg;
        else if (c == 'l')
            o.listen = optarg;
        else if (c == 'i')
            o.images = optarg;
        else if (c == 't')
            o.token_file = optarg;
        else if (c == 's')
            sets[n_sets++] = optarg;
        else if (c == 'n' || (c >= O_BODY && c <= O_WAIT)) {
            char *end;
            v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > (1L << 40)) {
                free(sets);
                return cli_usage_error("serve", "%s expects a positive integer, found \"%s\"",
                                       c == 'n' ? "--threads" : opts[c - O_BODY + 6].name, optarg);
            }
            if (c == 'n')
                o.threads = (int)(v < 256 ? v : 256);
            else if (c == O_BODY)
                o.max_body = (size_t)v;
            else if (c == O_HEADER)
                o.max_header = (size_t)v;
            else if (c == O_CONN)
                o.max_connections = (unsigned)(v < 65536 ? v : 65536);
            else if (c == O_IDLE)
                o.idle_seconds = (unsigned)(v < 86400 ? v : 86400);
            else if (c == O_REQ)
                o.request_seconds = (double)(v < 86400 ? v : 86400);
            else if (c == O_BATCH)
                o.max_batch = (uint32_t)(v < 65536 ? v : 65536);
            else
                o.max_waiting = (uint32_t)(v < 1000000 ? v : 1000000);
        } else {
            free(sets);
            return cli_usage_error("serve", "unknown option (hmrec serve --help)");
        }
    }
    if (!work || optind < argc) {
        free(sets);
        return cli_usage_error("serve", "--work DIR is required, and nothing else");
    }
    /* the signals are taken by sigwait below: blocked before any thread starts */
    sigset_t sig;
    sigemptyset(&sig);
    sigaddset(&sig, SIGTERM);
    sigaddset(&sig, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sig, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct pipeline_config cfg;
    int rc = serve_config_of_work(&cfg, work, sets, n_sets);
    free(sets);
    if (rc)
        return cli_fail();
    struct pipeline p;
    pipeline_init(&p, &cfg);
    struct serve *s;
    if (serve_open(&s, &p, &o) || serve_start(s)) {
        int code = cli_fail();
        serve_close(s);
        pipeline_release(&p);
        return code;
    }
    const char *colon = strrchr(o.listen, ':');
    printf("serving %s on http://%.*s:%d/ (SIGTERM or Ctrl-C to stop)\n", work, (int)(colon - o.listen), o.listen,
           serve_port(s));
    fflush(stdout);
    int got = 0;
    sigwait(&sig, &got);
    fprintf(stderr, "hmrec serve: %s: draining\n", got == SIGINT ? "SIGINT" : "SIGTERM");
    serve_drain(s, 10);
    serve_close(s);
    pipeline_release(&p);
    fprintf(stderr, "hmrec serve: stopped\n");
    return 0;
}
