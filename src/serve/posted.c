/* Purchases posted since the store's data, per customer, and the overlay that shows a block's
 * customers their store rows and their posted rows together (data_overlay). */
#include "serve/serve_internal.h"

#include <stdlib.h>
#include <string.h>

struct serve_prow_list {
    uint32_t n, cap;
    struct serve_prow row[];
};

void serve_posted_init(struct serve_posted *ps, uint32_t n_customers)
{
    memset(ps, 0, sizeof *ps);
    pthread_rwlock_init(&ps->lock, NULL);
    ps->n_customers = n_customers;
    ps->by = hm_xcalloc((size_t)n_customers + 1, sizeof *ps->by);
}

void serve_posted_release(struct serve_posted *ps)
{
    if (!ps->by)
        return;
    for (uint32_t c = 0; c < ps->n_customers; c++)
        free(ps->by[c]);
    free(ps->by);
    pthread_rwlock_destroy(&ps->lock);
    memset(ps, 0, sizeof *ps);
}

void serve_posted_add(struct serve_posted *ps, const uint32_t *customer, const struct serve_prow *rows, uint32_t n)
{
    pthread_rwlock_wrlock(&ps->lock);
    for (uint32_t i = 0; i < n; i++) {
        struct serve_prow_list *l = ps->by[customer[i]];
        if (!l || l->n == l->cap) {
            uint32_t cap = l ? 2 * l->cap : 4;
            l = hm_xrealloc(l, sizeof *l + (size_t)cap * sizeof l->row[0]);
            if (!ps->by[customer[i]]) {
                l->n = 0;
                ps->customers++;
            }
            l->cap = cap;
            ps->by[customer[i]] = l;
        }
        l->row[l->n++] = rows[i];
        ps->total++;
    }
    pthread_rwlock_unlock(&ps->lock);
}

uint64_t serve_posted_total(struct serve_posted *ps)
{
    pthread_rwlock_rdlock(&ps->lock);
    uint64_t n = ps->total;
    pthread_rwlock_unlock(&ps->lock);
    return n;
}

uint32_t serve_posted_count(struct serve_posted *ps, uint32_t c)
{
    pthread_rwlock_rdlock(&ps->lock);
    uint32_t n = c < ps->n_customers && ps->by[c] ? ps->by[c]->n : 0;
    pthread_rwlock_unlock(&ps->lock);
    return n;
}

uint32_t serve_posted_of(struct serve_posted *ps, uint32_t c, struct serve_prow **out)
{
    *out = NULL;
    pthread_rwlock_rdlock(&ps->lock);
    const struct serve_prow_list *l = c < ps->n_customers ? ps->by[c] : NULL;
    uint32_t n = l ? l->n : 0;
    if (n) {
        *out = hm_xmalloc_array(n, sizeof **out);
        memcpy(*out, l->row, n * sizeof **out);
    }
    pthread_rwlock_unlock(&ps->lock);
    return n;
}

/* ---- the overlay of a block ----------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Posted rows by the day the scoring sees (then the log's order). */
static int cmp_prow(const void *a, const void *b)
{
    const struct serve_prow *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void push_row(struct serve_overlay *ov, uint16_t day, uint32_t c, uint32_t a, float price, uint8_t channel)
{
    HM_VEC_PUSH(&ov->day, day);
    HM_VEC_PUSH(&ov->cust, c);
    HM_VEC_PUSH(&ov->article, a);
    HM_VEC_PUSH(&ov->price, price);
    HM_VEC_PUSH(&ov->channel, channel);
}

void serve_overlay_build(struct serve_overlay *ov, struct serve_posted *ps, const struct data_set *ds,
                         int32_t cutoff, const uint32_t *users, uint32_t n)
{
    ov->customer.n = ov->off.n = ov->day.n = ov->cust.n = ov->article.n = ov->price.n = ov->channel.n = 0;
    pthread_rwlock_rdlock(&ps->lock);
    for (uint32_t i = 0; i < n; i++)
        if (users[i] < ps->n_customers && ps->by[users[i]])
            HM_VEC_PUSH(&ov->customer, users[i]);
    if (ov->customer.n > 1) {
        qsort(ov->customer.v, ov->customer.n, sizeof *ov->customer.v, cmp_u32);
        size_t k = 1;
        for (size_t i = 1; i < ov->customer.n; i++)
            if (ov->customer.v[i] != ov->customer.v[k - 1])
                ov->customer.v[k++] = ov->customer.v[i];
        ov->customer.n = k;
    }
    uint16_t last = (uint16_t)(cutoff - 1);
    for (size_t i = 0; i < ov->customer.n; i++) {
        uint32_t c = ov->customer.v[i];
        const struct serve_prow_list *l = ps->by[c];
        /* the posted rows as the scoring sees them: a day on or after the cutoff is the day
         * before it (the models' clock stays at the cutoff) */
        ov->tmp.n = 0;
        for (uint32_t k = 0; k < l->n; k++) {
            struct serve_prow r = l->row[k];
            if (r.day > last)
                r.day = last;
            HM_VEC_PUSH(&ov->tmp, r);
        }
        qsort(ov->tmp.v, ov->tmp.n, sizeof *ov->tmp.v, cmp_prow);
        HM_VEC_PUSH(&ov->off, ov->day.n);
        /* merged by day: the store's rows of a day first, then the posted ones */
        uint64_t r = ds->tx.cust_off[c], e = ds->tx.cust_off[c + 1];
        size_t k = 0;
        while (r < e || k < ov->tmp.n) {
            if (k == ov->tmp.n || (r < e && ds->tx.day[r] <= ov->tmp.v[k].day)) {
                push_row(ov, ds->tx.day[r], c, ds->tx.article[r], ds->tx.price[r], ds->tx.channel[r]);
                r++;
            } else {
                const struct serve_prow *p = &ov->tmp.v[k++];
                push_row(ov, p->day, c, p->article, p->price, p->channel);
            }
        }
    }
    pthread_rwlock_unlock(&ps->lock);
    HM_VEC_PUSH(&ov->off, ov->day.n);
    ov->o = (struct data_overlay){.n_customers = (uint32_t)ov->customer.n, .customer = ov->customer.v,
                                  .off = ov->off.v,
                                  .tx = {.n = ov->day.n, .day = ov->day.v, .customer = ov->cust.v,
                                         .article = ov->article.v, .price = ov->price.v,
                                         .channel = ov->channel.v}};
}

void serve_overlay_release(struct serve_overlay *ov)
{
    free(ov->customer.v);
    free(ov->off.v);
    free(ov->day.v);
    free(ov->cust.v);
    free(ov->article.v);
    free(ov->price.v);
    free(ov->channel.v);
    free(ov->tmp.v);
    memset(ov, 0, sizeof *ov);
}
