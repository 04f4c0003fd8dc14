/* serve: recommendations on request (hmrec serve, docs/serve.md).
 *
 * A server loads a finished work directory (the store, the text and image embeddings, the
 * submission's model or ensemble, the recall engine and the feature context as of the day
 * after the data: what the submission uses) and answers HTTP on one address:
 *
 *   GET  /                                   the web page (page/: HTML, script, style)
 *   GET  /healthz, /metrics                  liveness; Prometheus text
 *   GET  /v1/customers/{id}                  profile and recent purchases
 *   GET  /v1/customers/{id}/recommendations  ?k=12: scored as the submission scores
 *   GET  /v1/customers/random                a random customer's profile
 *   GET  /v1/articles/{id}                   attributes
 *   GET  /v1/articles/{id}/similar           ?k=12: neighbours of the recall's tables
 *   GET  /v1/articles/{id}/image             the JPEG (with --images)
 *   POST /v1/purchases                       purchases, appended to the log and counted at once
 *
 * Recommendations for one customer go through the submission's code path: the customers
 * waiting are scored together as one block (recall, the two-stage cut, features, the model,
 * each customer's best, filled with last week's best sellers), so a customer's list is the
 * row of submission.csv.gz for the same data. Posted purchases are appended to
 * <work>/purchases.csv (the transactions_train.csv format) and fsynced before the answer; the
 * customer's rows are then seen through a data_overlay (the store's rows and the posted ones,
 * merged by day), so they count for that customer's next list while everything computed from
 * the article side stays as of the data. On start the log is replayed (after the bytes the
 * store already folded in: hmrec run's ingest folds the log into the data).
 *
 * Threads: libmicrohttpd's polling thread parses requests and answers what is quick;
 * recommendations wait in a queue for the scoring threads (each takes all that wait, up to a
 * block); posts wait for the log thread (one write and one fdatasync for all that wait). The
 * library never exits or prints: it reports through core's log hooks. */
#ifndef HM_SERVE_H
#define HM_SERVE_H

#include "pipeline/pipeline.h"

struct serve_opts {
    const char *listen;        /* "HOST:PORT" (IPv4; port 0: any free port) */
    const char *images;        /* article JPEGs as DIR/0XX/0XXXXXXXXX.jpg, or NULL */
    const char *token_file;    /* the bearer token posts must carry, or NULL: posting is off */
    int threads;               /* scoring threads (0: hm_threads()) */
    size_t max_body;           /* bytes of a request body */
    size_t max_header;         /* bytes of a request's line and headers */
    unsigned max_connections;  /* connections at once */
    unsigned idle_seconds;     /* a connection silent this long is closed */
    double request_seconds;    /* a request must arrive whole within this */
    uint32_t max_batch;        /* customers scored together at most */
    uint32_t max_waiting;      /* recommendation requests waiting at most (then 503) */
    uint32_t max_purchases;    /* purchases in one post */
    uint64_t max_posted;       /* purchases posted since the last fold, in all (then 507) */
};
/* The defaults (docs/serve.md): 127.0.0.1:8080, 1 MiB bodies, 16 KiB headers, 512
 * connections, 30 s idle, 10 s per request, blocks of 64, 4,096 waiting, 1,000 purchases a
 * post, 10 million posted. */
void serve_opts_default(struct serve_opts *o);

struct serve;

/* Loads the work directory of p (whose settings must be the ones its stages ran with: see
 * serve_config_of_work) and replays the purchase log. Nothing listens yet. */
int serve_open(struct serve **out, struct pipeline *p, const struct serve_opts *o);
/* Starts answering on o->listen. */
int serve_start(struct serve *s);
/* The port listened on (after serve_start). */
int serve_port(const struct serve *s);
/* Stops accepting connections, lets the requests in progress finish (at most `seconds`),
 * then stops every thread; acknowledged purchases are all on disk. */
void serve_drain(struct serve *s, double seconds);
void serve_close(struct serve *s);

/* The settings a work directory's stages ran with: the defaults, then every "setting KEY =
 * VALUE" line of its records (stages/<name>.fp), then overrides ("KEY=VALUE"); run.work is
 * set to work. An error when the directory has no records (hmrec run has not finished). */
int serve_config_of_work(struct pipeline_config *c, const char *work, char **overrides, int n_overrides);

/* ---- one request without a socket (tests, the fuzzer) ------------------------------------ */

struct serve_request {
    const char *method;
    const char *url;           /* the path, unescaped */
    const char *query;         /* "k=12&..." (unescaped values), or NULL */
    const char *authorization; /* the Authorization header, or NULL */
    const char *body;
    size_t body_len;
};
struct serve_reply {
    int status;
    char content_type[48];
    char *body;                /* malloc'ed */
    size_t len;
    int fd;                    /* >= 0: send this file's fd_size bytes instead of body (an image;
                                  serve_handle reads it into body) */
    uint64_t fd_size;
    char allow[24];            /* a 405's Allow header, or "" */
    char www_authenticate[16]; /* a 401's WWW-Authenticate header, or "" */
    int retry_after;           /* a 503's Retry-After seconds, or 0 */
};
/* Answers one request as the server would (a recommendation waits for the scoring threads,
 * which serve_open started); reply->body is the caller's to free. */
void serve_handle(struct serve *s, const struct serve_request *rq, struct serve_reply *reply);

#endif
