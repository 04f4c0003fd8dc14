/* A server's life: the work directory checked and loaded, the log replayed, the threads and
 * the HTTP daemon started, drained and stopped; one request answered without a socket. */
#include "serve/serve_internal.h"

#include <cblas.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void serve_opts_default(struct serve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->listen = "127.0.0.1:8080";
    o->max_body = 1 << 20;
    o->max_header = 16 << 10;
    o->max_connections = 512;
    o->idle_seconds = 30;
    o->request_seconds = 10;
    o->max_batch = 64;
    o->max_waiting = 4096;
    o->max_purchases = 1000;
    o->max_posted = 10000000;
}

/* ---- the work directory ------------------------------------------------------------------- */

/* The record of a stage (stages/<name>.fp: its fingerprint on the first line, then the
 * "input", "external" and "setting" lines it was made of), or NULL when missing. */
static char *read_record(const char *work, const char *stage)
{
    char *path = hm_xasprintf("%s/stages/%s.fp", work, stage), *text = NULL;
    size_t len;
    if (hm_read_file(path, &text, &len) != 0) {
        hm_clear_error();
        text = NULL;
    }
    free(path);
    return text;
}

int serve_config_of_work(struct pipeline_config *c, const char *work, char **overrides, int n_overrides)
{
    HM_VEC(char *) sets = {0};
    int rc = 0, found = 0;
    for (int i = 0; i < pipeline_n_stages; i++) {
        char *rec = read_record(work, pipeline_stages[i].name);
        if (!rec)
            continue;
        found += !strcmp(pipeline_stages[i].name, "submit");
        for (char *l = strtok(rec, "\n"); l; l = strtok(NULL, "\n")) {
            if (strncmp(l, "setting ", 8))
                continue;
            char *eq = strstr(l + 8, " = ");
            if (eq)
                HM_VEC_PUSH(&sets, hm_xasprintf("%.*s=%s", (int)(eq - (l + 8)), l + 8, eq + 3));
        }
        free(rec);
    }
    if (!found)
        rc = hm_error(HM_ENOTFOUND,
                      "%s/stages/submit.fp: no record of the submit stage: the work directory is not a finished "
                      "run (hmrec run writes it last but the report)",
                      work);
    for (int i = 0; i < n_overrides && !rc; i++)
        HM_VEC_PUSH(&sets, hm_xstrdup(overrides[i]));
    if (!rc) {
        HM_VEC_PUSH(&sets, hm_xasprintf("run.work=%s", work));
        rc = pipeline_config_load(c, NULL, sets.v, (int)sets.n);
    }
    for (size_t i = 0; i < sets.n; i++)
        free(sets.v[i]);
    free(sets.v);
    return rc;
}

/* The submit stage must be current: its record is the fingerprint this hmrec computes from the
 * records' settings and the store, and the submission it wrote is intact. So the models,
 * candidates and store served are the ones that made it. fingerprint: its first 16 digits. */
static int check_work(struct pipeline *p, char fingerprint[17])
{
    struct hm_buf why = {0};
    int rc = pipeline_stage_current(p, "submit", &why);
    if (rc == 0)
        rc = hm_error(HM_EINVAL, "%s: the work directory is not finished, or not up to date (its submit stage: %s): "
                                 "run hmrec run on it first",
                      p->work, why.s ? why.s : "");
    hm_buf_release(&why);
    if (rc < 0)
        return rc;
    uint64_t fp;
    if ((rc = pipeline_fingerprint(p, pipeline_stage_find("submit"), &fp)) != 0)
        return rc;
    snprintf(fingerprint, 17, "%016llx", (unsigned long long)fp);
    return 0;
}

/* The token of a file: its first line, at least 16 printable characters without spaces. */
static int read_token(const char *path, char **out)
{
    char *text;
    size_t len;
    int rc = hm_read_file(path, &text, &len);
    if (rc)
        return hm_error_wrap(rc, "--token-file");
    size_t n = 0;
    while (n < len && text[n] != '\n' && text[n] != '\r')
        n++;
    int ok = n >= 16 && n <= 4096;
    for (size_t i = 0; i < n && ok; i++)
        ok = isgraph((unsigned char)text[i]);
    if (!ok) {
        free(text);
        return hm_error(HM_EINVAL, "%s: expected a token of 16 to 4096 printable characters without spaces on its first line",
                        path);
    }
    text[n] = '\0';
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        hm_warn("%s: the token file can be read by other users (chmod 600 it)", path);
    *out = text;
    return 0;
}

static void queue_init(struct serve_queue *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
}

int serve_open(struct serve **out, struct pipeline *p, const struct serve_opts *o)
{
    *out = NULL;
    struct serve *s = hm_xcalloc(1, sizeof *s);
    s->o = *o;
    s->listen_fd = -1;
    s->log.fd = -1;
    s->metrics.start_ns = hm_now_ns();
    queue_init(&s->recs);
    queue_init(&s->posts);
    *out = s;
    int rc = 0;
    if (o->token_file && (rc = read_token(o->token_file, &s->token)) != 0)
        return rc;
    if (o->max_batch < 1 || o->max_waiting < 1 || o->max_purchases < 1 || o->max_body < 64 || o->max_header < 1024)
        return hm_error(HM_EINVAL, "serve: a limit is too small (batch, waiting, purchases >= 1; body >= 64 and "
                                   "header >= 1024 bytes)");
    int64_t t0 = hm_now_ns();
    char fp[17];
    p->as_is = 1; /* checked here once; no stage may run */
    if ((rc = check_work(p, fp)) != 0 || (rc = serve_model_open(&s->m, p)) != 0)
        return rc;
    memcpy(s->m.fingerprint, fp, sizeof fp);
    serve_posted_init(&s->posted, s->m.ds->customers.n);
    if ((rc = serve_log_open(&s->log, &s->m, &s->posted)) != 0)
        return rc;
    /* the scoring threads run each block's work themselves, BLAS included */
    hm_threads_set(1);
    openblas_set_num_threads(1);
    s->random_state = (uint64_t)hm_now_ns();
    if ((rc = serve_threads_start(s)) != 0)
        return rc;
    char day[11];
    hm_date_format(s->m.cutoff, day);
    hm_info("serve: %s loaded in %.1fs: model %s%s, %u customers, %u articles, recommendations as of %s; "
            "%llu purchases replayed from %s",
            p->work, hm_seconds_since(t0), s->m.model, s->m.retrained ? " (retrained)" : "",
            s->m.ds->customers.n, s->m.ds->articles.n, day, (unsigned long long)s->log.replayed, s->log.path);
    return 0;
}

int serve_start(struct serve *s) { return serve_http_start(s); }

int serve_port(const struct serve *s) { return s->port; }

void serve_drain(struct serve *s, double seconds)
{
    atomic_store(&s->draining, 1);
    if (s->daemon) {
        serve_http_quiesce(s);
        int64_t t0 = hm_now_ns();
        while (serve_http_connections(s) > 0 && hm_seconds_since(t0) < seconds)
            usleep(10000);
        if (serve_http_connections(s) > 0)
            hm_warn("serve: %u connections still open after %.0fs: closing them", serve_http_connections(s), seconds);
    }
    /* every queued job is finished before the daemon stops (their connections wait for them) */
    serve_threads_stop(s);
    if (s->daemon)
        serve_http_stop(s);
}

void serve_close(struct serve *s)
{
    if (!s)
        return;
    serve_threads_stop(s);
    if (s->daemon)
        serve_http_stop(s);
    serve_log_close(&s->log);
    serve_posted_release(&s->posted);
    serve_model_close(&s->m);
    pthread_mutex_destroy(&s->recs.mu);
    pthread_cond_destroy(&s->recs.cv);
    pthread_mutex_destroy(&s->posts.mu);
    pthread_cond_destroy(&s->posts.cv);
    free(s->token);
    free(s);
}

/* ---- one request without a socket ------------------------------------------------------------ */

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static void wake(struct serve_job *j)
{
    struct waiter *w = j->ud;
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void serve_handle(struct serve *s, const struct serve_request *rq, struct serve_reply *reply)
{
    int64_t t0 = hm_now_ns();
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    int route;
    struct serve_job *j = serve_route(s, rq, &route, reply, wake, &w);
    if (j) {
        serve_submit(s, j);
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        serve_finish(s, j, route, reply);
    }
    if (reply->fd >= 0) {
        reply->body = hm_xmalloc(reply->fd_size + 1);
        size_t got = 0;
        while (got < reply->fd_size) {
            ssize_t r = read(reply->fd, reply->body + got, reply->fd_size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        reply->len = got;
        close(reply->fd);
        reply->fd = -1;
    }
    serve_metrics_observe(&s->metrics, route, reply->status, hm_now_ns() - t0);
}
