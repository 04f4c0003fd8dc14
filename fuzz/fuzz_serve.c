/* libFuzzer target for hmrec serve's request handlers (serve_handle: routing, ids, queries,
 * the token, the purchases' JSON and every check, the log, the scoring of customers whose
 * posted purchases are seen through the overlay). Once, before the inputs, a run of the
 * synthetic tiny preset is made in /tmp and a server opened on it (no socket). Each input is one request:
 *   byte 0: bits 0-1 the method (GET, POST, HEAD, DELETE), bit 2 the right token (else the
 *           input's own Authorization, see below), bit 3 a customer of the data is put in front
 *           of the path (so that deep paths are reached)
 *   then:   the path and query up to the first newline ("/v1/...?k=3"), the Authorization
 *           header up to the second newline, and the body (the rest).
 * Every request must get a status from 200 to 599 and a body; nothing may crash or leak. */
#include "pipeline/pipeline.h"
#include "serve/serve.h"
#include "synth/synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN "the-fuzzer-token-0123456789"

static char dir[64];
static struct pipeline p;
static struct serve *server;
static char customer[65];

/* At exit: the threads stopped and the files removed; the server's memory stays reachable
 * (freeing XGBoost's models after its own static state was destroyed would crash). */
static void cleanup(void)
{
    if (server)
        serve_drain(server, 1);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_serve: could not remove %s\n", dir);
}

static void open_server(void)
{
    snprintf(dir, sizeof dir, "/tmp/fuzz_serve_%d", (int)getpid());
    atexit(cleanup);
    struct synth_params sp;
    synth_params_init(&sp);
    synth_params_preset(&sp, "tiny");
    struct synth_summary sum;
    char work[96], token[96];
    snprintf(work, sizeof work, "%s/work", dir);
    snprintf(token, sizeof token, "%s/token", dir);
    if (synth_generate(&sp, dir, &sum))
        abort();
    FILE *f = fopen(token, "w");
    fputs(TOKEN "\n", f);
    fclose(f);
    char *sets[] = {hm_xasprintf("run.data=%s", dir), hm_xasprintf("run.work=%s", work), "prepare.train_weeks=2",
                    "prepare.users=200", "rank.models=classifier", "gbm.rounds=20", "recall.wide=100",
                    "recall.cut_keep=30", "recall.pool=60"};
    struct pipeline_config cfg;
    if (pipeline_config_load(&cfg, NULL, sets, (int)(sizeof sets / sizeof sets[0])))
        abort();
    pipeline_init(&p, &cfg);
    if (pipeline_run(&p)) {
        fprintf(stderr, "fuzz_serve: %s\n", hm_last_error());
        abort();
    }
    pipeline_release(&p);
    if (serve_config_of_work(&cfg, work, NULL, 0))
        abort();
    pipeline_init(&p, &cfg);
    struct serve_opts o;
    serve_opts_default(&o);
    o.token_file = token;
    o.threads = 1;
    if (serve_open(&server, &p, &o)) {
        fprintf(stderr, "fuzz_serve: %s\n", hm_last_error());
        abort();
    }
    const struct data_set *ds;
    if (pipeline_data(&p, &ds))
        abort();
    data_customer_hex(ds, ds->tx.customer[0], customer);
    free(sets[0]);
    free(sets[1]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    open_server();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const methods[4] = {"GET", "POST", "HEAD", "DELETE"};
    uint8_t flags = data[0];
    const char *s = (const char *)data + 1, *end = (const char *)data + size;
    const char *nl1 = memchr(s, '\n', (size_t)(end - s));
    const char *e1 = nl1 ? nl1 : end;
    const char *a0 = nl1 ? nl1 + 1 : end;
    const char *nl2 = memchr(a0, '\n', (size_t)(end - a0));
    const char *e2 = nl2 ? nl2 : end;
    const char *body = nl2 ? nl2 + 1 : end;
    /* the path (a customer in front when asked), its query, the header */
    char *line = hm_xasprintf("%s%.*s", (flags & 8) ? "/v1/customers/" : "", (int)(e1 - s), s);
    if (flags & 8) {
        char *l2 = hm_xasprintf("/v1/customers/%s%s", customer, line + strlen("/v1/customers/"));
        free(line);
        line = l2;
    }
    char *q = strchr(line, '?');
    if (q)
        *q++ = '\0';
    char *auth = (flags & 4) ? hm_xstrdup("Bearer " TOKEN) : hm_xasprintf("%.*s", (int)(e2 - a0), a0);
    struct serve_request rq = {methods[flags & 3], line, q, auth, body, (size_t)(end - body)};
    struct serve_reply r;
    serve_handle(server, &rq, &r);
    if (r.status < 200 || r.status > 599 || (!r.body && r.status != 200))
        abort();
    free(r.body);
    free(line);
    free(auth);
    return 0;
}
