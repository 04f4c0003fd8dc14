/* Ingest: CSV files -> sorted, indexed tables -> store files. */
#include "data.h"

#include <stdlib.h>
#include <string.h>

/* ---- sorting transactions ------------------------------------------------------------ */

/* Counting sort of the records by customer (stable: thread ranges in order, rows in order
 * within), then a stable sort by day inside each customer. */
struct sort_ctx {
    const struct io_tx_rec *in;
    struct io_tx_rec *out;
    uint64_t n;
    uint32_t n_keys;
    int T;
    uint64_t **cnt;        /* [T][n_keys]: counts, then start positions */
    int by_article;        /* 0: key = customer (scatter records); 1: key = article (rows) */
    const uint32_t *art;   /* by_article: article column of sorted rows */
    uint32_t *rows;        /* by_article: output row ids */
    uint64_t *off;         /* (n_keys + 1) customer offsets, for the day sort */
    /* columns */
    uint16_t *day;
    uint32_t *customer, *article;
    float *price;
    uint8_t *channel;
};

static int count_keys(size_t begin, size_t end, int tid, void *ud)
{
    struct sort_ctx *s = ud;
    uint64_t *c = s->cnt[tid];
    if (s->by_article)
        for (size_t i = begin; i < end; i++)
            c[s->art[i]]++;
    else
        for (size_t i = begin; i < end; i++)
            c[s->in[i].customer]++;
    return 0;
}

static int scatter_keys(size_t begin, size_t end, int tid, void *ud)
{
    struct sort_ctx *s = ud;
    uint64_t *c = s->cnt[tid];
    if (s->by_article)
        for (size_t i = begin; i < end; i++)
            s->rows[c[s->art[i]]++] = (uint32_t)i;
    else
        for (size_t i = begin; i < end; i++)
            s->out[c[s->in[i].customer]++] = s->in[i];
    return 0;
}

/* Stable sort by day of one customer's records (usually already sorted). */
static void sort_days(struct io_tx_rec *r, uint64_t n, struct io_tx_rec *tmp)
{
    uint64_t i = 1;
    while (i < n && r[i - 1].day <= r[i].day)
        i++;
    if (i >= n)
        return;
    if (n <= 64) {
        for (uint64_t k = i; k < n; k++) {
            struct io_tx_rec v = r[k];
            uint64_t j = k;
            while (j > 0 && r[j - 1].day > v.day) {
                r[j] = r[j - 1];
                j--;
            }
            r[j] = v;
        }
        return;
    }
    /* bottom-up merge sort */
    struct io_tx_rec *a = r, *b = tmp;
    for (uint64_t w = 1; w < n; w *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * w) {
            uint64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint64_t x = lo, y = mid, o = lo;
            while (x < mid && y < hi)
                b[o++] = a[y].day < a[x].day ? a[y++] : a[x++];
            while (x < mid)
                b[o++] = a[x++];
            while (y < hi)
                b[o++] = a[y++];
        }
        struct io_tx_rec *t = a;
        a = b;
        b = t;
    }
    if (a != r)
        memcpy(r, a, n * sizeof *r);
}

static int sort_customers(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct sort_ctx *s = ud;
    struct io_tx_rec *tmp = NULL;
    uint64_t cap = 0;
    for (size_t c = begin; c < end; c++) {
        uint64_t n = s->off[c + 1] - s->off[c];
        if (n > 64 && n > cap) {
            free(tmp);
            cap = n;
            tmp = hm_xmalloc_array(cap, sizeof *tmp);
        }
        sort_days(s->out + s->off[c], n, tmp);
    }
    free(tmp);
    return 0;
}

static int split_columns(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct sort_ctx *s = ud;
    for (size_t i = begin; i < end; i++) {
        const struct io_tx_rec *r = &s->out[i];
        s->day[i] = r->day;
        s->customer[i] = r->customer;
        s->article[i] = r->article;
        s->price[i] = r->price;
        s->channel[i] = r->channel;
    }
    return 0;
}

/* Turns per-thread counts into per-thread start positions; fills off (n_keys + 1). */
static void counts_to_starts(struct sort_ctx *s, uint64_t *off)
{
    uint64_t pos = 0;
    for (uint32_t k = 0; k < s->n_keys; k++) {
        off[k] = pos;
        for (int t = 0; t < s->T; t++) {
            uint64_t c = s->cnt[t][k];
            s->cnt[t][k] = pos;
            pos += c;
        }
    }
    off[s->n_keys] = pos;
}

static void sort_alloc_counts(struct sort_ctx *s)
{
    s->cnt = hm_xcalloc((size_t)s->T, sizeof *s->cnt);
    for (int t = 0; t < s->T; t++)
        s->cnt[t] = hm_xcalloc((size_t)s->n_keys + 1, sizeof **s->cnt);
}

static void sort_free_counts(struct sort_ctx *s)
{
    for (int t = 0; t < s->T; t++)
        free(s->cnt[t]);
    free(s->cnt);
    s->cnt = NULL;
}

/* ---- writing the store ---------------------------------------------------------------- */

struct colset {
    struct io_column_desc c[128];
    int n;
    char names[128][48];
};

static void col(struct colset *s, const char *name, int type, uint32_t elem, uint64_t count,
                const void *data)
{
    HM_ASSERT(s->n < 128);
    snprintf(s->names[s->n], sizeof s->names[s->n], "%s", name);
    s->c[s->n] = (struct io_column_desc){s->names[s->n], type, elem, count, data};
    s->n++;
}

static void dict_cols(struct colset *s, const char *name, const struct io_strdict *d)
{
    char nm[48];
    snprintf(nm, sizeof nm, "%s.off", name);
    col(s, nm, IO_U64, 8, (uint64_t)d->n + 1, d->off);
    snprintf(nm, sizeof nm, "%s.bytes", name);
    col(s, nm, IO_U8, 1, d->n_bytes, d->bytes);
}

static uint64_t file_size_of(const char *path)
{
    struct hm_map m;
    if (hm_map_file(&m, path))
        return 0;
    uint64_t n = m.size;
    hm_map_release(&m);
    return n;
}

int data_store_write(const char *dir, const struct io_articles *a, const struct io_customers *c,
                   struct io_transactions *t, int nthreads, double *seconds_sort)
{
    int rc = hm_mkdirs(dir);
    if (rc)
        return rc;
    int64_t t0 = hm_now_ns();
    int T = nthreads > 0 ? nthreads : hm_threads();
    uint64_t n = t->n;
    if (n > UINT32_MAX)
        return hm_error(HM_EINVAL, "%llu transactions: at most 2^32-1 are supported",
                        (unsigned long long)n);

    /* sort by customer (counting sort), then by day within each customer */
    struct sort_ctx s = {0};
    s.in = t->rec;
    s.n = n;
    s.n_keys = c->n;
    s.T = T;
    s.out = hm_xmalloc_array(n ? n : 1, sizeof *s.out);
    io_advise_huge(s.out, n * sizeof *s.out);
    uint64_t *cust_off = hm_xmalloc_array((size_t)c->n + 1, sizeof *cust_off);
    sort_alloc_counts(&s);
    hm_parallel_for(T, n, count_keys, &s);
    counts_to_starts(&s, cust_off);
    hm_parallel_for(T, n, scatter_keys, &s);
    sort_free_counts(&s);
    /* the input records (16 bytes a row) are not needed any more: their memory holds the
     * five columns (15 bytes a row), which saves faulting in fresh pages */
    uint8_t *colbuf = (uint8_t *)t->rec;
    t->rec = NULL;
    t->n = t->cap = 0;
    s.in = NULL;
    s.off = cust_off;
    hm_parallel_chunks(T, c->n, 4096, sort_customers, &s);
    s.customer = (uint32_t *)colbuf;
    s.article = s.customer + n;
    s.price = (float *)(s.article + n);
    s.day = (uint16_t *)(s.price + n);
    s.channel = (uint8_t *)(s.day + n);
    hm_parallel_for(T, n, split_columns, &s);

    /* article-side index: rows grouped by article, ascending */
    uint64_t *art_off = hm_xmalloc_array((size_t)a->n + 1, sizeof *art_off);
    s.by_article = 1;
    s.art = s.article;
    s.n_keys = a->n;
    s.rows = (uint32_t *)s.out; /* the sorted records are not needed any more */
    sort_alloc_counts(&s);
    hm_parallel_for(T, n, count_keys, &s);
    counts_to_starts(&s, art_off);
    hm_parallel_for(T, n, scatter_keys, &s);
    sort_free_counts(&s);

    uint16_t dmin = 0, dmax = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (i == 0 || s.day[i] < dmin)
            dmin = s.day[i];
        if (i == 0 || s.day[i] > dmax)
            dmax = s.day[i];
    }
    if (seconds_sort)
        *seconds_sort = hm_seconds_since(t0);

    /* articles */
    struct colset *cs = hm_xcalloc(1, sizeof *cs);
    col(cs, "article_id", IO_U32, 4, a->n, a->article_id);
    for (int k = 1; k < IO_ART_NCOLS; k++) {
        if (io_art_col_kind[k] == IO_KIND_INT)
            col(cs, io_art_col_name[k], IO_I32, 4, a->n, a->num[k]);
        else {
            col(cs, io_art_col_name[k], IO_U32, 4, a->n, a->code[k]);
            dict_cols(cs, io_art_col_name[k], &a->dict[k]);
        }
    }
    uint64_t meta[IO_TABLE_META] = {a->n_placeholder};
    char *path = hm_path_join(dir, DATA_STORE_ARTICLES);
    rc = io_table_write(path, "articles", a->n, meta, cs->c, cs->n);
    free(path);

    /* customers */
    if (!rc) {
        cs->n = 0;
        col(cs, "customer_id", IO_BYTES, 32, c->n, c->id);
        col(cs, "FN", IO_U8, 1, c->n, c->fn);
        col(cs, "Active", IO_U8, 1, c->n, c->active);
        col(cs, "club_member_status", IO_U32, 4, c->n, c->club);
        dict_cols(cs, "club_member_status", &c->club_dict);
        col(cs, "fashion_news_frequency", IO_U32, 4, c->n, c->news);
        dict_cols(cs, "fashion_news_frequency", &c->news_dict);
        col(cs, "age", IO_F32, 4, c->n, c->age);
        col(cs, "postal_code", IO_U32, 4, c->n, c->postal);
        dict_cols(cs, "postal_code", &c->postal_dict);
        memset(meta, 0, sizeof meta);
        meta[0] = c->n_placeholder;
        path = hm_path_join(dir, DATA_STORE_CUSTOMERS);
        rc = io_table_write(path, "customers", c->n, meta, cs->c, cs->n);
        free(path);
    }

    /* transactions */
    if (!rc) {
        cs->n = 0;
        col(cs, "day", IO_U16, 2, n, s.day);
        col(cs, "customer", IO_U32, 4, n, s.customer);
        col(cs, "article", IO_U32, 4, n, s.article);
        col(cs, "price", IO_F32, 4, n, s.price);
        col(cs, "channel", IO_U8, 1, n, s.channel);
        col(cs, "customer_offsets", IO_U64, 8, (uint64_t)c->n + 1, cust_off);
        col(cs, "article_offsets", IO_U64, 8, (uint64_t)a->n + 1, art_off);
        col(cs, "article_rows", IO_U32, 4, n, s.rows);
        memset(meta, 0, sizeof meta);
        meta[0] = c->n;
        meta[1] = a->n;
        meta[2] = dmin;
        meta[3] = dmax;
        path = hm_path_join(dir, DATA_STORE_TRANSACTIONS);
        rc = io_table_write(path, "transactions", n, meta, cs->c, cs->n);
        free(path);
    }
    free(cs);
    free(colbuf);
    free(s.out);
    free(cust_off);
    free(art_off);
    return rc;
}

/* ---- the whole ingest ------------------------------------------------------------------- */

int data_ingest(const struct data_ingest_opts *o, struct data_ingest_report *rep)
{
    int64_t t0 = hm_now_ns();
    memset(rep, 0, sizeof *rep);
    struct io_read_opts ro = {o->bad_rows, o->missing_refs, o->nthreads, o->seg_bytes};
    struct io_articles a;
    struct io_customers c;
    struct io_transactions t;
    char *pa = hm_path_join(o->data_dir, "articles.csv");
    char *pc = hm_path_join(o->data_dir, "customers.csv");
    char *pt = hm_path_join(o->data_dir, "transactions_train.csv");
    int rc = io_read_articles(pa, &ro, &a, &rep->articles);
    if (!rc) {
        hm_info("articles: %u rows in %.2f s", a.n, rep->articles.seconds);
        rc = io_read_customers(pc, &ro, &c, &rep->customers);
        if (!rc) {
            hm_info("customers: %u rows in %.2f s", c.n, rep->customers.seconds);
            rc = io_read_transactions(pt, &ro, &a, &c, &t, &rep->transactions);
            if (!rc) {
                hm_info("transactions: %llu rows in %.2f s (%.0f MB/s)",
                        (unsigned long long)t.n, rep->transactions.seconds,
                        rep->transactions.bytes / 1e6 / (rep->transactions.seconds + 1e-9));
                io_idmap256_release(&c.index); /* not needed any more: free before sorting */
                int64_t tw = hm_now_ns();
                rc = data_store_write(o->store_dir, &a, &c, &t, o->nthreads, &rep->seconds_sort);
                rep->seconds_write = hm_seconds_since(tw) - rep->seconds_sort;
                io_transactions_release(&t);
            }
            io_customers_release(&c);
        }
        io_articles_release(&a);
    }
    free(pa);
    free(pc);
    free(pt);
    if (!rc) {
        const char *names[3] = {DATA_STORE_ARTICLES, DATA_STORE_CUSTOMERS, DATA_STORE_TRANSACTIONS};
        for (int i = 0; i < 3; i++) {
            char *p = hm_path_join(o->store_dir, names[i]);
            rep->store_bytes += file_size_of(p);
            free(p);
        }
    }
    rep->seconds = hm_seconds_since(t0);
    return rc;
}
