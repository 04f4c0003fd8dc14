/* Counters of the server and their Prometheus text (GET /metrics). */
#include "serve/serve_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const serve_route_name[SERVE_NROUTES] = {
    "page", "healthz", "metrics", "info", "customer", "random_customer", "recommendations", "article", "similar",
    "image", "purchases", "other",
};

const double serve_bucket_le[SERVE_NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1,   0.25,   0.5,   1,    2.5,   INFINITY};

/* The statuses counted one by one; the rest by class. */
static const int status_code[SERVE_NSTATUS] = {200, 201, 304, 400, 401, 403, 404, 405, 408, 413, 503, 0};

static int status_slot(int status)
{
    for (int i = 0; i < SERVE_NSTATUS - 1; i++)
        if (status_code[i] == status)
            return i;
    return SERVE_NSTATUS - 1;
}

void serve_metrics_observe(struct serve_metrics *m, int route, int status, int64_t ns)
{
    if (route < 0 || route >= SERVE_NROUTES)
        route = ROUTE_OTHER;
    atomic_fetch_add_explicit(&m->requests[route][status_slot(status)], 1, memory_order_relaxed);
    double sec = (double)ns / 1e9;
    int b = 0;
    while (b < SERVE_NBUCKETS - 1 && sec > serve_bucket_le[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_ns[route], (uint64_t)(ns > 0 ? ns : 0), memory_order_relaxed);
}

char *serve_metrics_text(struct serve *s)
{
    struct serve_metrics *m = &s->metrics;
    struct hm_buf b = {0};
    hm_buf_puts(&b, "# HELP hmrec_requests_total HTTP requests answered, by route and status.\n"
                    "# TYPE hmrec_requests_total counter\n");
    for (int r = 0; r < SERVE_NROUTES; r++)
        for (int k = 0; k < SERVE_NSTATUS; k++) {
            uint64_t v = atomic_load(&m->requests[r][k]);
            if (!v && r != ROUTE_RECOMMEND)
                continue;
            if (status_code[k])
                hm_buf_printf(&b, "hmrec_requests_total{route=\"%s\",status=\"%d\"} %llu\n", serve_route_name[r],
                              status_code[k], (unsigned long long)v);
            else if (v)
                hm_buf_printf(&b, "hmrec_requests_total{route=\"%s\",status=\"other\"} %llu\n", serve_route_name[r],
                              (unsigned long long)v);
        }
    hm_buf_puts(&b, "# HELP hmrec_request_duration_seconds Time from a request's first byte to its answer.\n"
                    "# TYPE hmrec_request_duration_seconds histogram\n");
    for (int r = 0; r < SERVE_NROUTES; r++) {
        uint64_t cum = 0;
        for (int k = 0; k < SERVE_NBUCKETS; k++)
            cum += atomic_load(&m->latency[r][k]);
        if (!cum && r != ROUTE_RECOMMEND)
            continue;
        cum = 0;
        for (int k = 0; k < SERVE_NBUCKETS; k++) {
            cum += atomic_load(&m->latency[r][k]);
            if (isinf(serve_bucket_le[k]))
                hm_buf_printf(&b, "hmrec_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                              serve_route_name[r], (unsigned long long)cum);
            else
                hm_buf_printf(&b, "hmrec_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                              serve_route_name[r], serve_bucket_le[k], (unsigned long long)cum);
        }
        hm_buf_printf(&b, "hmrec_request_duration_seconds_sum{route=\"%s\"} %.6f\n", serve_route_name[r],
                      (double)atomic_load(&m->latency_ns[r]) / 1e9);
        hm_buf_printf(&b, "hmrec_request_duration_seconds_count{route=\"%s\"} %llu\n", serve_route_name[r],
                      (unsigned long long)cum);
    }
    hm_buf_printf(&b,
                  "# HELP hmrec_purchases_total Purchases taken in by posts since the server started.\n"
                  "# TYPE hmrec_purchases_total counter\nhmrec_purchases_total %llu\n"
                  "# HELP hmrec_purchase_posts_total Posts of purchases acknowledged.\n"
                  "# TYPE hmrec_purchase_posts_total counter\nhmrec_purchase_posts_total %llu\n"
                  "# HELP hmrec_purchases_pending_fold Purchases in the log that the store does not hold yet "
                  "(replayed and posted).\n"
                  "# TYPE hmrec_purchases_pending_fold gauge\nhmrec_purchases_pending_fold %llu\n",
                  (unsigned long long)atomic_load(&m->purchases), (unsigned long long)atomic_load(&m->posts),
                  (unsigned long long)serve_posted_total(&s->posted));
    uint64_t batches = atomic_load(&m->batches), bc = atomic_load(&m->batch_customers);
    hm_buf_printf(&b,
                  "# HELP hmrec_scored_blocks_total Blocks of customers scored together.\n"
                  "# TYPE hmrec_scored_blocks_total counter\nhmrec_scored_blocks_total %llu\n"
                  "# HELP hmrec_scored_customers_total Customers scored (recommendation requests).\n"
                  "# TYPE hmrec_scored_customers_total counter\nhmrec_scored_customers_total %llu\n",
                  (unsigned long long)batches, (unsigned long long)bc);
    char day[11];
    hm_date_format(s->m.cutoff, day);
    hm_buf_printf(&b,
                  "# HELP hmrec_model_info The model served (value 1): its name, whether retrained, the week it "
                  "predicts from, the submit stage's fingerprint.\n"
                  "# TYPE hmrec_model_info gauge\n"
                  "hmrec_model_info{model=\"%s\",retrained=\"%d\",cutoff=\"%s\",fingerprint=\"%s\"} 1\n"
                  "# HELP hmrec_uptime_seconds Seconds since the server started.\n"
                  "# TYPE hmrec_uptime_seconds gauge\nhmrec_uptime_seconds %.1f\n",
                  s->m.model, s->m.retrained, day, s->m.fingerprint, hm_seconds_since(m->start_ns));
    return hm_buf_take(&b);
}
