/* serve: what the files of the module share (not part of the public API). */
#ifndef HM_SERVE_INTERNAL_H
#define HM_SERVE_INTERNAL_H

#include "serve/serve.h"

#include <pthread.h>
#include <stdatomic.h>

#define SERVE_MAX_K 100            /* similar articles per request at most */
#define SERVE_RECS 12              /* recommendations per request at most: the submission's */
#define SERVE_HTTP_THREADS 2       /* libmicrohttpd's polling threads */
#define SERVE_LOG_NAME PIPELINE_PURCHASE_LOG /* the purchase log, in the work directory */
#define SERVE_MAX_DAYS_AHEAD 366   /* a purchase's day at most this long after the data's last */
#define SERVE_PRICE_FACTOR 10      /* a purchase's price at most this times the data's highest */
#define SERVE_MAX_PER_CUSTOMER 10000 /* purchases posted for one customer since the last fold */

/* ---- the loaded work directory and the scoring of a block (model.c) -------------------- */

struct serve_model {
    struct pipeline *p;
    const struct data_set *ds;
    struct data_id_index ids;
    const struct data_article_matrix *text;
    const struct feat_image *image;
    int32_t cutoff;             /* the day after the data: what the submission predicts from */
    int32_t start;              /* first day of the history */
    float max_price;            /* the highest price of the store's rows */
    char model[32];             /* the scorer's name ("ensemble", "classifier", ...) */
    int retrained;              /* the models of the retrain stage (models/final) */
    char fingerprint[17];       /* the submit stage's record: the version of what is served */
    struct pipeline_predictor *pred; /* the submission's (scorer, recall engine, features, fill) */
};
int serve_model_open(struct serve_model *m, struct pipeline *p);
void serve_model_close(struct serve_model *m);

/* A scoring thread's own state (views over the shared engine, its buffers). */
struct serve_worker;
struct serve_job;
int serve_worker_new(const struct serve_model *m, struct serve_worker **out);
void serve_worker_free(struct serve_worker **w);
/* Scores the customers of jobs[0..n) as one block, the customers of ov (may be NULL) seen
 * through it, and fills each job's recommendations. */
int serve_worker_score(struct serve_worker *w, const struct data_overlay *ov, struct serve_job **jobs, uint32_t n);

/* Articles like article a (kind: enum below), at most k, best first: ids and scores; returns
 * how many. */
enum { SERVE_SIMILAR_IMAGE, SERVE_SIMILAR_TEXT, SERVE_SIMILAR_COPURCHASE, SERVE_SIMILAR_BASKET, SERVE_NSIMILAR };
extern const char *const serve_similar_name[SERVE_NSIMILAR];
extern const char *const serve_similar_label[SERVE_NSIMILAR];
uint32_t serve_model_similar(const struct serve_model *m, int kind, uint32_t a, uint32_t k, uint32_t *ids, float *scores);

/* One recommended article. */
struct serve_rec {
    uint32_t article;
    float score;        /* the model's score (NAN for a fill row) */
    uint16_t flags;     /* the recall strategies that proposed it (0: a fill row) */
};

/* ---- purchases posted since the store's data (posted.c) -------------------------------- */

struct serve_prow {
    uint64_t seq;       /* position in the log: rows of one day keep the log's order */
    uint16_t day;       /* the date the purchase was made (as posted) */
    uint8_t channel;
    float price;
    uint32_t article;
};
struct serve_posted {
    pthread_rwlock_t lock;
    uint32_t n_customers;
    struct serve_prow_list **by;  /* (n_customers) each customer's posted rows, or NULL */
    uint64_t total;                /* rows posted in all */
    uint32_t customers;            /* customers with posted rows */
};
void serve_posted_init(struct serve_posted *ps, uint32_t n_customers);
void serve_posted_release(struct serve_posted *ps);
/* Adds rows (each with its customer) under the write lock. */
void serve_posted_add(struct serve_posted *ps, const uint32_t *customer, const struct serve_prow *rows, uint32_t n);
/* Rows posted in all (read under the lock). */
uint64_t serve_posted_total(struct serve_posted *ps);
/* Rows posted for customer c (read under the lock). */
uint32_t serve_posted_count(struct serve_posted *ps, uint32_t c);
/* Customer c's posted rows (copied under the read lock into *out, malloc'ed); returns how many. */
uint32_t serve_posted_of(struct serve_posted *ps, uint32_t c, struct serve_prow **out);

/* An overlay for some customers: their store rows and their posted rows merged by day, a
 * posted day on or after the cutoff seen as the day before it. Buffers reused. */
struct serve_overlay {
    struct data_overlay o;
    HM_VEC(uint32_t) customer;
    HM_VEC(uint64_t) off;
    HM_VEC(uint16_t) day;
    HM_VEC(uint32_t) cust, article;
    HM_VEC(float) price;
    HM_VEC(uint8_t) channel;
    HM_VEC(struct serve_prow) tmp;
};
/* Builds the overlay of the customers of users[0..n) that have posted rows (users in any
 * order; none: an empty overlay). */
void serve_overlay_build(struct serve_overlay *ov, struct serve_posted *ps, const struct data_set *ds,
                         int32_t cutoff, const uint32_t *users, uint32_t n);
void serve_overlay_release(struct serve_overlay *ov);

/* ---- the purchase log (plog.c) -------------------------------------------------------- */

/* One validated purchase. */
struct serve_purchase {
    uint32_t customer, article;
    int32_t day;
    float price;
    uint8_t channel;
};
struct serve_log {
    char *path;
    int fd;
    uint64_t bytes;       /* size of the file (complete lines) */
    uint64_t folded;      /* bytes the store already holds (the header at least) */
    uint64_t seq;         /* rows written (replayed and posted) */
    uint64_t replayed;    /* rows replayed on open */
    int broken;           /* a write or sync failed: posts are refused */
    char broken_why[256];
};
/* Opens (creates) the log of the model's work directory and replays what the store has not
 * folded into ps. A torn last line (a server stopped while writing it, before answering) is
 * cut off. */
int serve_log_open(struct serve_log *l, const struct serve_model *m, struct serve_posted *ps);
void serve_log_close(struct serve_log *l);
/* The checks of a purchase's values beyond its ids (day, price, channel): 0, or -1 with the
 * field and what was expected in why. */
int serve_purchase_check(const struct serve_model *m, const struct serve_purchase *p, char *why, size_t n);
/* The purchases as log lines appended to b. */
void serve_log_format(const struct data_set *ds, const struct serve_purchase *p, uint32_t n, struct hm_buf *b);
/* Appends the bytes (whole lines) and makes them durable (fdatasync); 0 or an error. */
int serve_log_append(struct serve_log *l, const char *bytes, size_t len);

/* ---- metrics (metrics.c) ----------------------------------------------------------------- */

enum serve_route {
    ROUTE_PAGE, ROUTE_HEALTH, ROUTE_METRICS, ROUTE_INFO, ROUTE_CUSTOMER, ROUTE_RANDOM, ROUTE_RECOMMEND,
    ROUTE_ARTICLE, ROUTE_SIMILAR, ROUTE_IMAGE, ROUTE_PURCHASES, ROUTE_OTHER, SERVE_NROUTES
};
extern const char *const serve_route_name[SERVE_NROUTES];
#define SERVE_NBUCKETS 12
extern const double serve_bucket_le[SERVE_NBUCKETS]; /* seconds; the last is +Inf */
#define SERVE_NSTATUS 12
struct serve_metrics {
    _Atomic uint64_t requests[SERVE_NROUTES][SERVE_NSTATUS]; /* by status class (serve_status_slot) */
    _Atomic uint64_t latency[SERVE_NROUTES][SERVE_NBUCKETS];
    _Atomic uint64_t latency_ns[SERVE_NROUTES];
    _Atomic uint64_t purchases, posts, batches, batch_customers;
    int64_t start_ns;
};
void serve_metrics_observe(struct serve_metrics *m, int route, int status, int64_t ns);
/* The Prometheus text of the metrics (malloc'ed). */
char *serve_metrics_text(struct serve *s);

/* ---- the server ---------------------------------------------------------------------------- */

/* Work waiting for a thread: a customer's recommendations (scoring threads) or a post's
 * purchases (the log thread). */
struct serve_job {
    struct serve_job *next;
    /* recommendations */
    uint32_t customer, k;
    struct serve_rec rec[SERVE_RECS];
    uint32_t n_rec;
    uint32_t history;       /* the customer's rows the scoring saw (store and posted) */
    /* a post */
    struct serve_purchase *purchases;
    uint32_t n_purchases;
    struct hm_buf lines;
    struct serve_queue *queue; /* where it waits */
    /* the outcome */
    int busy;               /* the queue was full: not done at all */
    int rc;
    char error[256];
    /* completion: done(job) is called by the thread that finished it */
    void (*done)(struct serve_job *j);
    void *ud;
};
struct serve_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct serve_job *head, *tail;
    uint32_t n;
    int stop;
};

struct serve {
    struct serve_opts o;
    struct serve_model m;
    struct serve_posted posted;
    struct serve_log log;
    struct serve_metrics metrics;
    char *token;                 /* NULL: posting is off */
    struct serve_queue recs, posts;
    pthread_t *scorers, writer;
    struct serve_scorer *scorer; /* (n_workers) each scoring thread's worker (work.c) */
    int n_workers, n_scorers, writer_started;
    _Atomic int draining;
    _Atomic int active;          /* HTTP requests between their headers and their completion */
    _Atomic uint64_t random_state;
    struct MHD_Daemon *daemon;
    int port;
    int listen_fd;               /* kept by quiesce until the daemon stopped */
    char listen_host[64];
};

/* Routes a request: either *reply is complete (returns NULL) or a job is returned, to be
 * submitted (serve_submit), waited for (its done() is called by the thread that finished it)
 * and answered by serve_finish. */
struct serve_job *serve_route(struct serve *s, const struct serve_request *rq, int *route, struct serve_reply *reply,
                              void (*done)(struct serve_job *), void *ud);
/* Queues the job for its thread; when the queue is full, marks it busy and calls its done(). */
void serve_submit(struct serve *s, struct serve_job *j);
void serve_finish(struct serve *s, struct serve_job *j, int route, struct serve_reply *reply);
/* A JSON error reply: {"error": {"status": ..., "message": ...}}. */
void serve_error(struct serve_reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The scoring threads and the log thread (work.c). */
int serve_threads_start(struct serve *s);
void serve_threads_stop(struct serve *s);
/* Queues a job (0), or fails when the queue is full or stopping. */
int serve_queue_push(struct serve_queue *q, struct serve_job *j, uint32_t max);

/* libmicrohttpd (http.c). */
int serve_http_start(struct serve *s);
void serve_http_quiesce(struct serve *s);
unsigned serve_http_connections(struct serve *s);
void serve_http_stop(struct serve *s);

/* The page's files (page.c, generated from page/ by the build). */
struct serve_asset {
    const char *path;        /* "/", "/app.js", "/app.css" */
    const char *type;
    const unsigned char *data;
    size_t len;
};
extern const struct serve_asset serve_assets[];
extern const int serve_n_assets;

#endif
