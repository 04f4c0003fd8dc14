/* The threads behind the requests: scoring threads, each taking every recommendation request
 * that waits (up to a block) and scoring them together; one log thread, taking every post
 * that waits, appending their lines with one write and one fdatasync, then counting them. */
#include "serve/serve_internal.h"

#include <stdlib.h>
#include <string.h>

int serve_queue_push(struct serve_queue *q, struct serve_job *j, uint32_t max)
{
    pthread_mutex_lock(&q->mu);
    if (q->stop || q->n >= max) {
        pthread_mutex_unlock(&q->mu);
        return -1;
    }
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->n++;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

/* Up to max waiting jobs (blocks while none wait); 0 when stopped and empty. */
static uint32_t queue_take(struct serve_queue *q, struct serve_job **out, uint32_t max)
{
    pthread_mutex_lock(&q->mu);
    while (!q->n && !q->stop)
        pthread_cond_wait(&q->cv, &q->mu);
    uint32_t n = 0;
    while (q->head && n < max) {
        out[n++] = q->head;
        q->head = q->head->next;
        q->n--;
    }
    if (!q->head)
        q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    return n;
}

static void queue_stop(struct serve_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* ---- scoring -------------------------------------------------------------------------------- */

struct serve_scorer {
    struct serve *s;
    struct serve_worker *w;
};

static void *scorer_main(void *ud)
{
    struct serve_scorer *a = ud;
    struct serve *s = a->s;
    struct serve_job **jobs = hm_xmalloc_array(s->o.max_batch + 1, sizeof *jobs);
    uint32_t *users = hm_xmalloc_array(s->o.max_batch + 1, sizeof *users);
    struct serve_overlay ov;
    memset(&ov, 0, sizeof ov);
    uint32_t n;
    while ((n = queue_take(&s->recs, jobs, s->o.max_batch)) > 0) {
        for (uint32_t i = 0; i < n; i++)
            users[i] = jobs[i]->customer;
        serve_overlay_build(&ov, &s->posted, s->m.ds, s->m.cutoff, users, n);
        int rc = serve_worker_score(a->w, &ov.o, jobs, n);
        atomic_fetch_add(&s->metrics.batches, 1);
        atomic_fetch_add(&s->metrics.batch_customers, n);
        for (uint32_t i = 0; i < n; i++) {
            if (rc) {
                jobs[i]->rc = rc;
                snprintf(jobs[i]->error, sizeof jobs[i]->error, "scoring failed: %s", hm_last_error());
            }
            jobs[i]->done(jobs[i]);
        }
    }
    serve_overlay_release(&ov);
    free(users);
    free(jobs);
    return NULL;
}

/* ---- the log -------------------------------------------------------------------------------- */

static void *writer_main(void *ud)
{
    struct serve *s = ud;
    struct serve_job **jobs = hm_xmalloc_array(s->o.max_waiting + 1, sizeof *jobs);
    struct hm_buf all = {0};
    HM_VEC(uint32_t) cust = {0};
    HM_VEC(struct serve_prow) rows = {0};
    uint32_t n;
    /* this thread is the only one that adds rows: it may read the total without the lock */
    while ((n = queue_take(&s->posts, jobs, s->o.max_waiting)) > 0) {
        hm_buf_release(&all);
        cust.n = rows.n = 0;
        for (uint32_t i = 0; i < n; i++) {
            struct serve_job *j = jobs[i];
            if (s->log.broken) {
                j->rc = HM_EIO;
                snprintf(j->error, sizeof j->error, "the purchase log cannot be written: %.200s", s->log.broken_why);
            } else if (s->posted.total + rows.n + j->n_purchases > s->o.max_posted) {
                j->rc = HM_ENOMEM;
                snprintf(j->error, sizeof j->error,
                         "the log holds %llu purchases the store does not (at most %llu): run hmrec run to fold "
                         "them into the data, then restart the server",
                         (unsigned long long)(s->posted.total + rows.n), (unsigned long long)s->o.max_posted);
            } else {
                hm_buf_append(&all, j->lines.s, j->lines.len);
                for (uint32_t k = 0; k < j->n_purchases; k++) {
                    const struct serve_purchase *p = &j->purchases[k];
                    HM_VEC_PUSH(&cust, p->customer);
                    struct serve_prow r = {.seq = s->log.seq + rows.n, .day = (uint16_t)p->day,
                                           .channel = p->channel, .price = p->price, .article = p->article};
                    HM_VEC_PUSH(&rows, r);
                }
            }
        }
        int rc = all.len ? serve_log_append(&s->log, all.s, all.len) : 0;
        if (rc) {
            s->log.broken = 1;
            snprintf(s->log.broken_why, sizeof s->log.broken_why, "%s", hm_last_error());
            hm_warn("%s; posts are refused from now on", s->log.broken_why);
        } else if (rows.n) {
            /* on disk: now they count */
            s->log.seq += rows.n;
            serve_posted_add(&s->posted, cust.v, rows.v, (uint32_t)rows.n);
            atomic_fetch_add(&s->metrics.purchases, rows.n);
        }
        for (uint32_t i = 0; i < n; i++) {
            struct serve_job *j = jobs[i];
            if (rc && !j->rc) {
                j->rc = HM_EIO;
                snprintf(j->error, sizeof j->error, "the purchase log cannot be written: %.200s", s->log.broken_why);
            } else if (!j->rc) {
                atomic_fetch_add(&s->metrics.posts, 1);
            }
            j->done(j);
        }
    }
    hm_buf_release(&all);
    free(cust.v);
    free(rows.v);
    free(jobs);
    return NULL;
}

/* ---- start and stop -------------------------------------------------------------------------- */

int serve_threads_start(struct serve *s)
{
    int n = s->o.threads > 0 ? s->o.threads : hm_threads();
    s->n_workers = n;
    s->scorers = hm_xcalloc((size_t)n, sizeof *s->scorers);
    s->scorer = hm_xcalloc((size_t)n, sizeof *s->scorer);
    for (int i = 0; i < n; i++) {
        struct serve_scorer *a = &s->scorer[i];
        a->s = s;
        int rc = serve_worker_new(&s->m, &a->w);
        if (rc)
            return rc;
    }
    for (int i = 0; i < n; i++) {
        if (pthread_create(&s->scorers[i], NULL, scorer_main, &s->scorer[i]) != 0)
            return hm_error(HM_EIO, "cannot start a scoring thread");
        s->n_scorers++;
    }
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
        return hm_error(HM_EIO, "cannot start the log thread");
    s->writer_started = 1;
    return 0;
}

void serve_threads_stop(struct serve *s)
{
    queue_stop(&s->recs);
    queue_stop(&s->posts);
    for (int i = 0; i < s->n_scorers; i++)
        pthread_join(s->scorers[i], NULL);
    if (s->writer_started)
        pthread_join(s->writer, NULL);
    s->writer_started = 0;
    for (int i = 0; s->scorer && i < s->n_workers; i++)
        serve_worker_free(&s->scorer[i].w);
    free(s->scorers);
    free(s->scorer);
    s->scorers = NULL;
    s->scorer = NULL;
    s->n_scorers = 0;
}
