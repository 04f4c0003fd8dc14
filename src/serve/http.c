/* HTTP through libmicrohttpd: its own polling threads parse requests; a request that waits for
 * a scoring or log thread is suspended and resumed when its job is done. The limits (header
 * and body bytes, time per request, connections, idle time) are checked here, each answered
 * with a JSON error. */
#include "serve/serve_internal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One request in progress (libmicrohttpd's per-request pointer). */
struct http_req {
    struct serve *s;
    struct MHD_Connection *conn;
    int64_t start_ns;
    int seen, replied, too_big, route;
    uint64_t dropped;            /* body bytes beyond the limit, read and dropped */
    struct hm_buf body;
    struct serve_job *job;
    _Atomic int job_done;
};

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    hm_debug("http: %s", msg);
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %HH escapes of paths and query values decoded in place, except %00: a zero byte would end
 * the text early and hide what follows it, so it stays "%00" (and fails the id checks). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && (hi = hex_value(r[1])) >= 0 && (lo = hex_value(r[2])) >= 0 && (hi || lo)) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* Called when a request line arrived, before its headers: the request's clock starts. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)uri;
    struct http_req *q = hm_xcalloc(1, sizeof *q);
    q->s = cls;
    q->conn = conn;
    q->start_ns = hm_now_ns();
    q->route = ROUTE_OTHER;
    return q;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct serve *s = cls;
    struct http_req *q = *con_cls;
    if (!q)
        return;
    if (q->seen)
        atomic_fetch_sub(&s->active, 1);
    if (q->job && atomic_load(&q->job_done)) {
        /* resumed but closed before answering (the daemon stopping): the job is freed */
        struct serve_reply r;
        serve_finish(s, q->job, q->route, &r);
        free(r.body);
    }
    hm_buf_release(&q->body);
    free(q);
    *con_cls = NULL;
}

/* Queues r as the answer (taking its body or file). */
static enum MHD_Result send_reply(struct http_req *q, struct serve_reply *r)
{
    struct serve *s = q->s;
    struct MHD_Response *resp;
    if (r->fd >= 0) {
        resp = MHD_create_response_from_fd(r->fd_size, r->fd);
        r->fd = -1;
    } else {
        resp = MHD_create_response_from_buffer(r->len, r->body ? r->body : (void *)"", r->body ? MHD_RESPMEM_MUST_FREE
                                                                                              : MHD_RESPMEM_PERSISTENT);
        r->body = NULL;
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type[0] ? r->content_type : "text/plain");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (q->route == ROUTE_PAGE) {
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    } else if (q->route == ROUTE_IMAGE && r->status == 200) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=86400");
    } else {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
    if (r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->www_authenticate[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->www_authenticate);
    if (r->retry_after) {
        char v[16];
        snprintf(v, sizeof v, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (atomic_load(&s->draining) || q->too_big)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(q->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    q->replied = 1;
    serve_metrics_observe(&s->metrics, q->route, r->status, hm_now_ns() - q->start_ns);
    return ok;
}

static enum MHD_Result send_error(struct http_req *q, int status, const char *fmt, const char *arg)
{
    struct serve_reply r;
    memset(&r, 0, sizeof r);
    r.fd = -1;
    serve_error(&r, status, fmt, arg);
    return send_reply(q, &r);
}

/* Bytes of the request line and headers. */
static enum MHD_Result add_len(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* The query string again ("k=12&x=y"), from libmicrohttpd's parsed arguments. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct hm_buf *b = cls;
    if (b->len)
        hm_buf_puts(b, "&");
    hm_buf_puts(b, key);
    if (value) {
        hm_buf_puts(b, "=");
        hm_buf_puts(b, value);
    }
    return MHD_YES;
}

static void job_done(struct serve_job *j)
{
    struct http_req *q = j->ud;
    atomic_store(&q->job_done, 1);
    MHD_resume_connection(q->conn);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct serve *s = cls;
    struct http_req *q = *con_cls;
    if (!q)
        q = *con_cls = on_uri(s, url, conn);
    if (q->replied) { /* answered on the first call (431, 413, 408): a body is dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!q->seen) {
        q->seen = 1;
        atomic_fetch_add(&s->active, 1);
        size_t hb = strlen(url) + strlen(method) + 16;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, add_len, &hb);
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_len, &hb);
        if (hb > s->o.max_header)
            return send_error(q, 431, "%s", "the request line and headers are longer than the server accepts");
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > s->o.max_body) {
            q->too_big = 1;
            return send_error(q, 413, "%s", "the body is larger than the server accepts");
        }
        return MHD_YES; /* the body (if any) follows */
    }
    if (hm_seconds_since(q->start_ns) > s->o.request_seconds && !q->job) {
        q->too_big = 1; /* close the connection after answering */
        if (*upload_data_size) {
            /* in the middle of a body nothing can be answered (HTTP/1.1 has no room for it): the
             * connection is closed */
            serve_metrics_observe(&s->metrics, q->route, 408, hm_now_ns() - q->start_ns);
            q->replied = 1;
            return MHD_NO;
        }
        return send_error(q, 408, "%s", "the request did not arrive in time");
    }
    if (*upload_data_size) {
        if (q->too_big || q->body.len + *upload_data_size > s->o.max_body) {
            /* a body longer than its announced length, or chunked: read on and dropped, then
             * answered 413; a body far longer closes the connection */
            q->too_big = 1;
            q->dropped += *upload_data_size;
            *upload_data_size = 0;
            if (q->dropped > 8 * (uint64_t)s->o.max_body) {
                serve_metrics_observe(&s->metrics, q->route, 413, hm_now_ns() - q->start_ns);
                q->replied = 1;
                return MHD_NO;
            }
            return MHD_YES;
        }
        hm_buf_append(&q->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (q->too_big)
        return send_error(q, 413, "%s", "the body is larger than the server accepts");
    struct serve_reply r;
    if (q->job) {
        if (!atomic_load(&q->job_done))
            return MHD_YES; /* not ours to answer yet */
        serve_finish(s, q->job, q->route, &r);
        q->job = NULL;
        return send_reply(q, &r);
    }
    struct hm_buf query = {0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, &query);
    struct serve_request rq = {
        .method = method,
        .url = url,
        .query = query.s,
        .authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .body = q->body.s,
        .body_len = q->body.len,
    };
    struct serve_job *j = serve_route(s, &rq, &q->route, &r, job_done, q);
    hm_buf_release(&query);
    if (!j)
        return send_reply(q, &r);
    /* suspended before the job is queued: its completion may come at once */
    q->job = j;
    MHD_suspend_connection(conn);
    serve_submit(s, j);
    return MHD_YES;
}

/* "HOST:PORT" (IPv4) into sa. */
static int parse_listen(const char *text, struct sockaddr_in *sa, char *host, size_t host_n)
{
    const char *colon = strrchr(text, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == text || (size_t)(colon - text) >= host_n || !colon[1] || *end || port < 0 || port > 65535)
        return hm_error(HM_EINVAL, "--listen: expected HOST:PORT (an IPv4 address and a port), found \"%s\"", text);
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return hm_error(HM_EINVAL, "--listen: \"%s\" is not an IPv4 address", host);
    return 0;
}

int serve_http_start(struct serve *s)
{
    struct sockaddr_in sa;
    int rc = parse_listen(s->o.listen, &sa, s->listen_host, sizeof s->listen_host);
    if (rc)
        return rc;
    size_t mem = 2 * s->o.max_header + (32 << 10);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_LIMIT, s->o.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, s->o.idle_seconds,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SERVE_HTTP_THREADS,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!s->daemon)
        return hm_error(HM_EIO, "cannot listen on %s (in use, or not an address of this machine)", s->o.listen);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : ntohs(sa.sin_port);
    hm_info("serve: listening on http://%s:%d/", s->listen_host, s->port);
    return 0;
}

void serve_http_quiesce(struct serve *s)
{
    if (s->daemon && s->listen_fd < 0)
        s->listen_fd = MHD_quiesce_daemon(s->daemon);
}

unsigned serve_http_connections(struct serve *s) { return (unsigned)atomic_load(&s->active); }

void serve_http_stop(struct serve *s)
{
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
}
