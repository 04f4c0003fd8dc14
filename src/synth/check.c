/* synth/check.c: synth_check, reading a data set back. A small strict reader of the files
 * the statistics need (customers.csv, transactions_train.csv, the oracle's last week), kept
 * apart from the statistics (stats.c) so that the ingest module can replace it. */
#include "synth/synth.h"
#include "eval/eval.h"

#include <stdlib.h>
#include <string.h>

/* ---- id dictionaries ------------------------------------------------------------------ */

/* 64-hex customer ids -> dense index, in file order. */
struct idmap {
    uint64_t *key;            /* (cap) hash + 1, 0 = empty */
    uint32_t *val;            /* (cap) */
    size_t mask, n;
};

static void idmap_init(struct idmap *m, size_t n)
{
    size_t cap = 1024;
    while (cap < 2 * n + 16)
        cap <<= 1;
    m->key = hm_xcalloc(cap, sizeof(uint64_t));
    m->val = hm_xmalloc_array(cap, sizeof(uint32_t));
    m->mask = cap - 1;
    m->n = 0;
}

static void idmap_release(struct idmap *m)
{
    free(m->key);
    free(m->val);
}

static void idmap_grow(struct idmap *m)
{
    struct idmap b;
    idmap_init(&b, (m->mask + 1));
    for (size_t i = 0; i <= m->mask; i++)
        if (m->key[i]) {
            size_t j = hm_mix64(m->key[i]) & b.mask;
            while (b.key[j])
                j = (j + 1) & b.mask;
            b.key[j] = m->key[i];
            b.val[j] = m->val[i];
        }
    b.n = m->n;
    idmap_release(m);
    *m = b;
}

/* Looks key up; inserts it with the next index when add is set. Returns the index or -1. */
static int64_t idmap_get(struct idmap *m, uint64_t key, int add)
{
    key = key ? key : 1;
    if (add && 2 * (m->n + 1) > m->mask)
        idmap_grow(m);
    size_t j = hm_mix64(key) & m->mask;
    while (m->key[j] && m->key[j] != key)
        j = (j + 1) & m->mask;
    if (m->key[j])
        return m->val[j];
    if (!add)
        return -1;
    m->key[j] = key;
    m->val[j] = (uint32_t)m->n;
    return (int64_t)m->n++;
}

/* ---- strict field parsing --------------------------------------------------------------- */

struct cursor {
    const char *p, *end, *path;
    size_t line;
};

static int fail(const struct cursor *c, const char *what)
{
    return hm_error(HM_EPARSE, "%s:%zu: expected %s", c->path, c->line, what);
}

/* The field up to the next ',' or end of line; advances past the separator. */
static int field(struct cursor *c, const char **s, size_t *len, int last)
{
    const char *q = c->p;
    while (q < c->end && *q != ',' && *q != '\n')
        q++;
    if (q >= c->end || (last ? *q != '\n' : *q != ','))
        return fail(c, last ? "the end of the line" : "a ','");
    *s = c->p;
    *len = (size_t)(q - c->p);
    c->p = q + 1;
    return 0;
}

static int hex64(const char *s, size_t len, uint64_t *h)
{
    if (len != 64)
        return -1;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return -1;
    *h = hm_hash64(s, 64, 0x5eed);
    return 0;
}

static int header(struct cursor *c, const char *want)
{
    size_t n = strlen(want);
    if ((size_t)(c->end - c->p) < n + 1 || memcmp(c->p, want, n) || c->p[n] != '\n')
        return hm_error(HM_EPARSE, "%s:1: expected the header '%s'", c->path, want);
    c->p += n + 1;
    c->line = 2;
    return 0;
}

/* ---- the files ---------------------------------------------------------------------------- */

struct loaded {
    struct idmap cust, art;
    float *ages;
    size_t n, cap;
    int32_t *day;
    uint32_t *customer, *article;
    double *price;
    uint8_t *channel;
};

static int read_customers(const char *dir, struct loaded *L)
{
    char *path = hm_path_join(dir, "customers.csv");
    struct hm_map mp;
    int rc = hm_map_file(&mp, path);
    if (rc) {
        free(path);
        return rc;
    }
    struct cursor c = {(const char *)mp.data, (const char *)mp.data + mp.size, path, 1};
    idmap_init(&L->cust, mp.size / 150);
    size_t cap = 1024;
    L->ages = hm_xmalloc_array(cap, sizeof(float));
    rc = header(&c, "customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code");
    while (rc == 0 && c.p < c.end) {
        const char *f[7];
        size_t len[7];
        for (int k = 0; k < 7 && rc == 0; k++)
            rc = field(&c, &f[k], &len[k], k == 6);
        if (rc)
            break;
        uint64_t h;
        if (hex64(f[0], len[0], &h)) {
            rc = fail(&c, "a customer_id of 64 hex digits");
            break;
        }
        size_t before = L->cust.n;
        int64_t idx = idmap_get(&L->cust, h, 1);
        if ((size_t)idx != before) {
            rc = fail(&c, "a customer_id not seen before");
            break;
        }
        if ((size_t)idx >= cap) {
            cap *= 2;
            L->ages = hm_xrealloc(L->ages, cap * sizeof(float));
        }
        float age = -1;
        if (len[5]) {
            char tmp[16];
            char *e;
            snprintf(tmp, sizeof tmp, "%.*s", (int)(len[5] < 15 ? len[5] : 15), f[5]);
            age = strtof(tmp, &e);
            if (*e || age < 0 || age > 150) {
                rc = fail(&c, "an age (a number) or an empty field");
                break;
            }
        }
        L->ages[idx] = age;
        c.line++;
    }
    hm_map_release(&mp);
    free(path);
    return rc;
}

static int read_transactions(const char *dir, struct loaded *L)
{
    char *path = hm_path_join(dir, "transactions_train.csv");
    struct hm_map mp;
    int rc = hm_map_file(&mp, path);
    if (rc) {
        free(path);
        return rc;
    }
    struct cursor c = {(const char *)mp.data, (const char *)mp.data + mp.size, path, 1};
    idmap_init(&L->art, 1 << 16);
    L->cap = mp.size / 100 + 16;
    L->day = hm_xmalloc_array(L->cap, sizeof(int32_t));
    L->customer = hm_xmalloc_array(L->cap, sizeof(uint32_t));
    L->article = hm_xmalloc_array(L->cap, sizeof(uint32_t));
    L->price = hm_xmalloc_array(L->cap, sizeof(double));
    L->channel = hm_xmalloc(L->cap);
    rc = header(&c, "t_dat,customer_id,article_id,price,sales_channel_id");
    struct hm_progress prog;
    hm_progress_begin(&prog, "read transactions", mp.size);
    const char *last_report = c.p;
    while (rc == 0 && c.p < c.end) {
        const char *f[5];
        size_t len[5];
        for (int k = 0; k < 5 && rc == 0; k++)
            rc = field(&c, &f[k], &len[k], k == 4);
        if (rc)
            break;
        if (L->n == L->cap) {
            L->cap *= 2;
            L->day = hm_xrealloc(L->day, L->cap * sizeof(int32_t));
            L->customer = hm_xrealloc(L->customer, L->cap * sizeof(uint32_t));
            L->article = hm_xrealloc(L->article, L->cap * sizeof(uint32_t));
            L->price = hm_xrealloc(L->price, L->cap * sizeof(double));
            L->channel = hm_xrealloc(L->channel, L->cap);
        }
        size_t i = L->n;
        uint64_t h;
        int64_t ci;
        if (hm_date_parse(f[0], len[0], &L->day[i])) {
            rc = fail(&c, "t_dat as YYYY-MM-DD");
            break;
        }
        if (hex64(f[1], len[1], &h) || (ci = idmap_get(&L->cust, h, 0)) < 0) {
            rc = fail(&c, "a customer_id listed in customers.csv");
            break;
        }
        L->customer[i] = (uint32_t)ci;
        uint64_t aid = 0;
        if (len[2] < 9 || len[2] > 10) {
            rc = fail(&c, "an article_id of 9 or 10 digits");
            break;
        }
        for (size_t k = 0; k < len[2]; k++) {
            if (f[2][k] < '0' || f[2][k] > '9') {
                rc = fail(&c, "an article_id of digits");
                break;
            }
            aid = aid * 10 + (uint64_t)(f[2][k] - '0');
        }
        if (rc)
            break;
        L->article[i] = (uint32_t)idmap_get(&L->art, aid + 1, 1);
        char tmp[40], *e;
        if (len[3] == 0 || len[3] >= sizeof tmp) {
            rc = fail(&c, "a price");
            break;
        }
        memcpy(tmp, f[3], len[3]);
        tmp[len[3]] = 0;
        L->price[i] = strtod(tmp, &e);
        if (*e || !(L->price[i] >= 0)) {
            rc = fail(&c, "a non-negative decimal price");
            break;
        }
        if (len[4] != 1 || (f[4][0] != '1' && f[4][0] != '2')) {
            rc = fail(&c, "sales_channel_id 1 or 2");
            break;
        }
        L->channel[i] = (uint8_t)(f[4][0] - '0');
        L->n++;
        c.line++;
        if (c.p - last_report > (1 << 26)) {
            hm_progress_add(&prog, (uint64_t)(c.p - last_report));
            last_report = c.p;
        }
    }
    hm_progress_end(&prog);
    hm_map_release(&mp);
    free(path);
    return rc;
}

/* The oracle's MAP@12 on the week starting wd, from oracle/week_<wd>_oracle.csv against the
 * transactions; returns 0 with *map = 0 when the file is absent. */
static int oracle_map(const char *dir, struct loaded *L, int32_t wd, double *map)
{
    *map = 0;
    char d[11], name[96];
    hm_date_format(wd, d);
    snprintf(name, sizeof name, "oracle/week_%s_oracle.csv", d);
    char *path = hm_path_join(dir, name);
    struct hm_map mp;
    if (hm_map_file(&mp, path) != 0) {
        hm_clear_error();
        free(path);
        return 0;
    }
    size_t nc = L->cust.n;
    /* truth: unique articles per customer in the week (CSR) */
    uint32_t *off = hm_xcalloc(nc + 1, sizeof(uint32_t));
    for (size_t i = 0; i < L->n; i++)
        if (L->day[i] >= wd && L->day[i] < wd + 7)
            off[L->customer[i] + 1]++;
    for (size_t k = 0; k < nc; k++)
        off[k + 1] += off[k];
    uint32_t *tr = hm_xmalloc_array(off[nc] + 1, sizeof(uint32_t)), *fill = hm_xmalloc_array(nc + 1, sizeof(uint32_t));
    memcpy(fill, off, nc * sizeof(uint32_t));
    for (size_t i = 0; i < L->n; i++)
        if (L->day[i] >= wd && L->day[i] < wd + 7)
            tr[fill[L->customer[i]]++] = L->article[i];
    struct cursor c = {(const char *)mp.data, (const char *)mp.data + mp.size, path, 1};
    int rc = header(&c, "customer_id,prediction");
    double s = 0;
    size_t scored = 0;
    while (rc == 0 && c.p < c.end) {
        const char *f[2];
        size_t len[2];
        uint64_t h;
        int64_t ci;
        if ((rc = field(&c, &f[0], &len[0], 0)) || (rc = field(&c, &f[1], &len[1], 1)))
            break;
        if (hex64(f[0], len[0], &h) || (ci = idmap_get(&L->cust, h, 0)) < 0) {
            rc = fail(&c, "a known customer_id");
            break;
        }
        uint32_t pred[12];
        size_t np = 0;
        for (size_t k = 0; k + 10 <= len[1] && np < 12; k += 11) {
            uint64_t aid = 0;
            for (int j = 0; j < 10; j++)
                aid = aid * 10 + (uint64_t)(f[1][k + j] - '0');
            int64_t ai = idmap_get(&L->art, aid + 1, 0);
            pred[np] = ai < 0 ? UINT32_MAX - (uint32_t)np : (uint32_t)ai; /* unsold: distinct misses */
            np++;
        }
        s += hm_eval_ap_at_k(pred, np, tr + off[ci], off[ci + 1] - off[ci], 12);
        scored++;
        c.line++;
    }
    *map = scored ? s / scored : 0;
    free(off);
    free(tr);
    free(fill);
    hm_map_release(&mp);
    free(path);
    return rc;
}

int synth_check(const char *dir, struct synth_check_report *rep)
{
    struct loaded L;
    memset(&L, 0, sizeof L);
    memset(rep, 0, sizeof *rep);
    int rc = read_customers(dir, &L);
    if (rc == 0)
        rc = read_transactions(dir, &L);
    if (rc == 0) {
        struct synth_txcols tx = {L.n, L.day, L.customer, L.article, L.price, L.channel, L.cust.n, L.art.n};
        synth_stats_compute(&tx, L.ages, rep);
        int32_t E = INT32_MIN;
        for (size_t i = 0; i < L.n; i++)
            E = L.day[i] > E ? L.day[i] : E;
        double om = 0;
        if (L.n && (rc = oracle_map(dir, &L, E - 6, &om)) == 0 && om > 0) {
            struct synth_baselines bl;
            synth_baselines_compute(&tx, E - 6, &bl);
            rep->map_oracle = om;
            rep->map_prev_top12 = bl.prev_top12;
            rep->map_own_pop = bl.own_pop;
            rep->map_alltime_top12 = bl.alltime_top12;
            double best = bl.own_pop > bl.prev_top12 ? bl.own_pop : bl.prev_top12;
            best = bl.alltime_top12 > best ? bl.alltime_top12 : best;
            char tgt[48];
            snprintf(tgt, sizeof tgt, ">= 2");
            struct synth_check_row *r = &rep->rows[rep->n_rows++];
            snprintf(r->name, sizeof r->name, "oracle / previous week's top-12 (MAP@12)");
            snprintf(r->target, sizeof r->target, "%s", tgt);
            r->measured = bl.prev_top12 > 0 ? om / bl.prev_top12 : 1e9;
            r->lo = 2, r->hi = 1e9, r->pass = r->measured >= 2;
            rep->n_failed += !r->pass;
            r = &rep->rows[rep->n_rows++];
            snprintf(r->name, sizeof r->name, "oracle / best simple baseline (MAP@12)");
            snprintf(r->target, sizeof r->target, ">= 1.5");
            r->measured = best > 0 ? om / best : 1e9;
            r->lo = 1.5, r->hi = 1e9, r->pass = r->measured >= 1.5;
            rep->n_failed += !r->pass;
        }
    }
    idmap_release(&L.cust);
    if (L.art.key)
        idmap_release(&L.art);
    free(L.ages);
    free(L.day);
    free(L.customer);
    free(L.article);
    free(L.price);
    free(L.channel);
    return rc;
}
