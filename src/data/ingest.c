/* Ingest: CSV files -> sorted, indexed tables -> store files. */
#include "data.h"
#include "comm/comm.h"
#include "io/csv.h"

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

/* The transactions of a store sorted and indexed: the columns (in the memory of the input
 * records), the customer offsets and the article-side index. */
struct store_cols {
    uint64_t n;
    uint8_t *colbuf;           /* owns the five columns */
    uint16_t *day;
    uint32_t *customer, *article;
    float *price;
    uint8_t *channel;
    uint64_t *cust_off;        /* (n_customers + 1) */
    uint64_t *art_off;         /* (n_articles + 1) */
    uint32_t *rows;            /* (n) rows by article */
    void *rows_buf;            /* owns rows */
    uint16_t dmin, dmax;
};

static void store_cols_release(struct store_cols *s)
{
    free(s->colbuf);
    free(s->rows_buf);
    free(s->cust_off);
    free(s->art_off);
    memset(s, 0, sizeof *s);
}

/* Sorts t's records (consumed) by customer, then day, then input order, and indexes them. */
static void store_sort(struct io_transactions *t, uint32_t n_customers, uint32_t n_articles, int T,
                       struct store_cols *out)
{
    memset(out, 0, sizeof *out);
    uint64_t n = t->n;
    /* sort by customer (counting sort), then by day within each customer */
    struct sort_ctx s = {0};
    s.in = t->rec;
    s.n = n;
    s.n_keys = n_customers;
    s.T = T;
    s.out = hm_xmalloc_array(n ? n : 1, sizeof *s.out);
    io_advise_huge(s.out, n * sizeof *s.out);
    uint64_t *cust_off = hm_xmalloc_array((size_t)n_customers + 1, sizeof *cust_off);
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
    hm_parallel_chunks(T, n_customers, 4096, sort_customers, &s);
    s.customer = (uint32_t *)colbuf;
    s.article = s.customer + n;
    s.price = (float *)(s.article + n);
    s.day = (uint16_t *)(s.price + n);
    s.channel = (uint8_t *)(s.day + n);
    hm_parallel_for(T, n, split_columns, &s);

    /* article-side index: rows grouped by article, ascending */
    uint64_t *art_off = hm_xmalloc_array((size_t)n_articles + 1, sizeof *art_off);
    s.by_article = 1;
    s.art = s.article;
    s.n_keys = n_articles;
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
    *out = (struct store_cols){n, colbuf, s.day, s.customer, s.article, s.price, s.channel, cust_off, art_off,
                               s.rows, s.out, dmin, dmax};
}

/* A shard's numbers in its transactions table (meta 4..6; all 0 in a whole store). */
struct shard_meta {
    uint64_t rows_all;   /* rows of every shard */
    uint32_t shard, n_shards;
};

/* Writes the three table files of a store (a shard when sh is not NULL: days and row counts
 * of the whole data set in the transactions' meta). */
static int store_write_tables(const char *dir, const struct io_articles *a, const struct io_customers *c,
                              const struct store_cols *s, const struct shard_meta *sh, const uint64_t *log)
{
    int rc = hm_mkdirs(dir);
    if (rc)
        return rc;
    uint64_t n = s->n;
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
        col(cs, "day", IO_U16, 2, n, s->day);
        col(cs, "customer", IO_U32, 4, n, s->customer);
        col(cs, "article", IO_U32, 4, n, s->article);
        col(cs, "price", IO_F32, 4, n, s->price);
        col(cs, "channel", IO_U8, 1, n, s->channel);
        col(cs, "customer_offsets", IO_U64, 8, (uint64_t)c->n + 1, s->cust_off);
        if (!sh) { /* a shard's article passes read its article side instead */
            col(cs, "article_offsets", IO_U64, 8, (uint64_t)a->n + 1, s->art_off);
            col(cs, "article_rows", IO_U32, 4, n, s->rows);
        }
        if (log && log[0])
            col(cs, "purchase_log", IO_U64, 8, 2, log);
        memset(meta, 0, sizeof meta);
        meta[0] = c->n;
        meta[1] = a->n;
        meta[2] = s->dmin;
        meta[3] = s->dmax;
        if (sh) {
            meta[4] = sh->rows_all;
            meta[5] = sh->shard;
            meta[6] = sh->n_shards;
        }
        path = hm_path_join(dir, DATA_STORE_TRANSACTIONS);
        rc = io_table_write(path, "transactions", n, meta, cs->c, cs->n);
        free(path);
    }
    free(cs);
    return rc;
}

int data_store_write(const char *dir, const struct io_articles *a, const struct io_customers *c,
                   struct io_transactions *t, int nthreads, const uint64_t *log, double *seconds_sort)
{
    int64_t t0 = hm_now_ns();
    int T = nthreads > 0 ? nthreads : hm_threads();
    if (t->n > UINT32_MAX)
        return hm_error(HM_EINVAL, "%llu transactions: at most 2^32-1 are supported",
                        (unsigned long long)t->n);
    struct store_cols s;
    store_sort(t, c->n, a->n, T, &s);
    if (seconds_sort)
        *seconds_sort = hm_seconds_since(t0);
    int rc = store_write_tables(dir, a, c, &s, NULL, log);
    store_cols_release(&s);
    return rc;
}

/* ---- shards (under mpirun) ------------------------------------------------------------- */

/* The records of transactions_train.csv this rank reads first: those starting in [lo, hi),
 * the file's body cut in equal parts at line starts. */
static int part_of_file(const char *path, uint64_t *lo, uint64_t *hi)
{
    struct io_csv_file f;
    int rc = io_csv_open(&f, path);
    if (rc)
        return rc;
    uint64_t r = (uint64_t)comm_rank(), n = (uint64_t)comm_size(), body = f.body, size = f.size;
    *lo = r == 0 ? body : io_csv_line_start(&f, body + (size - body) * r / n);
    *hi = r + 1 == n ? size : io_csv_line_start(&f, body + (size - body) * (r + 1) / n);
    io_csv_release(&f);
    return 0;
}

/* Reads this rank's part of the transactions. A part starts where the one before stopped: a
 * guessed start inside a quoted field (a line break in a field) is found by comparing each
 * part's stop with the next part's start, and that part is read again from the right place.
 * An error is the first in file order: that of the lowest part whose start is right. */
static int read_part(const char *path, const struct io_read_opts *base, struct io_articles *a,
                     struct io_customers *c, struct io_transactions *t, struct io_read_stats *st)
{
    uint64_t lo = 0, hi = 0;
    int rc = comm_agree(part_of_file(path, &lo, &hi));
    if (rc)
        return rc;
    int n = comm_size(), me = comm_rank(), again = 1;
    memset(t, 0, sizeof *t);
    for (;;) {
        if (again) {
            struct io_read_opts ro = *base;
            ro.range_lo = lo;
            ro.range_hi = hi > lo ? hi : lo;
            io_transactions_release(t);
            rc = io_read_transactions(path, &ro, a, c, t, st);
            again = 0;
        }
        int64_t mine[3] = {rc, (int64_t)lo, rc ? 0 : (int64_t)st->stop};
        int64_t *all = comm_allgatherv(mine, sizeof mine, NULL);
        int bad = -1, fix = -1;
        for (int r = 0; r < n && bad < 0 && fix < 0; r++) {
            if (all[3 * r])
                bad = r;
            else if (r + 1 < n && all[3 * r + 2] != all[3 * (r + 1) + 1])
                fix = r + 1;
        }
        uint64_t from = fix >= 0 ? (uint64_t)all[3 * (fix - 1) + 2] : 0;
        free(all);
        if (bad >= 0)
            return comm_agree(me == bad ? rc : 0);
        if (fix < 0)
            return 0;
        if (me == fix) {
            hm_debug("transactions: part %d starts at %llu, not %llu (a quoted line break)", fix,
                     (unsigned long long)from, (unsigned long long)lo);
            lo = from;
            again = 1;
        }
    }
}

/* Every row to the rank that owns its customer; returns the rows this rank owns, in file
 * order (the parts are in rank order, each in file order). */
static void to_owners(const struct io_customers *c, struct io_transactions *t, struct io_transactions *mine)
{
    int n = comm_size();
    uint16_t *owner = hm_xmalloc_array((size_t)c->n + 1, sizeof *owner);
    for (uint32_t k = 0; k < c->n; k++)
        owner[k] = (uint16_t)comm_customer_owner(c->id[k], n);
    uint64_t *cnt = hm_xcalloc((size_t)n, sizeof *cnt), *pos = hm_xcalloc((size_t)n, sizeof *pos);
    for (uint64_t i = 0; i < t->n; i++)
        cnt[owner[t->rec[i].customer]]++;
    for (int r = 1; r < n; r++)
        pos[r] = pos[r - 1] + cnt[r - 1];
    struct io_tx_rec *send = hm_xmalloc_array(t->n + 1, sizeof *send);
    for (uint64_t i = 0; i < t->n; i++)
        send[pos[owner[t->rec[i].customer]]++] = t->rec[i];
    io_transactions_release(t);
    free(owner);
    for (int r = 0; r < n; r++)
        cnt[r] *= sizeof *send;
    uint64_t *got = hm_xcalloc((size_t)n, sizeof *got), total = 0;
    mine->rec = comm_alltoallv(send, cnt, got);
    free(send);
    for (int r = 0; r < n; r++)
        total += got[r];
    mine->n = mine->cap = total / sizeof *mine->rec;
    free(cnt);
    free(pos);
    free(got);
}

struct side_sort {
    struct io_tx_rec *rec;   /* the received rows, grouped by article */
    const uint64_t *off;     /* (n_articles + 1) */
    uint64_t *order;         /* scratch: (rows) */
};

/* Within each article, by customer (stable: a customer's rows keep their order). */
static int side_sort_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct side_sort *j = ud;
    for (size_t a = begin; a < end; a++) {
        uint64_t b = j->off[a], m = j->off[a + 1] - b;
        uint64_t *k = j->order + b;
        for (uint64_t i = 0; i < m; i++)
            k[i] = (uint64_t)j->rec[b + i].customer << 32 | i;
        hm_sort_u64(k, m);
    }
    return 0;
}

/* The article side: the articles in N ranges of about equal rows, and every rank's rows of
 * range q sent to rank q, which orders them as a whole store does (by article, then customer;
 * a customer's rows keep their order) and writes them. */
static int write_article_side(const char *dir, uint32_t na, uint32_t nc, const struct store_cols *s,
                              uint64_t rows_all, int T)
{
    int n = comm_size(), me = comm_rank();
    uint64_t *count = hm_xmalloc_array((size_t)na + 1, sizeof *count);
    for (uint32_t a = 0; a < na; a++)
        count[a] = s->art_off[a + 1] - s->art_off[a];
    comm_allreduce_u64(count, na, COMM_SUM);
    uint32_t *edge = hm_xmalloc_array((size_t)n + 1, sizeof *edge);
    edge[0] = 0;
    uint64_t acc = 0;
    uint32_t a = 0;
    for (int q = 1; q < n; q++) {
        uint64_t want = rows_all * (uint64_t)q / (uint64_t)n;
        while (a < na && acc + count[a] <= want)
            acc += count[a++];
        edge[q] = a;
    }
    edge[n] = na;
    free(count);
    /* this rank's rows of every range, by article then customer */
    uint64_t *cnt = hm_xcalloc((size_t)n, sizeof *cnt), *got = hm_xcalloc((size_t)n, sizeof *got);
    struct io_tx_rec *send = hm_xmalloc_array(s->n + 1, sizeof *send);
    uint64_t o = 0;
    for (int q = 0; q < n; q++) {
        uint64_t first = o;
        for (uint32_t x = edge[q]; x < edge[q + 1]; x++)
            for (uint64_t k = s->art_off[x]; k < s->art_off[x + 1]; k++) {
                uint32_t r = s->rows[k];
                send[o++] = (struct io_tx_rec){s->customer[r], x, s->price[r], s->day[r], s->channel[r], 0};
            }
        cnt[q] = (o - first) * sizeof *send;
    }
    struct io_tx_rec *rec = comm_alltoallv(send, cnt, got);
    free(send);
    uint64_t m = 0;
    for (int q = 0; q < n; q++)
        m += got[q] / sizeof *rec;
    free(cnt);
    free(got);
    uint32_t a0 = edge[me], a1 = edge[me + 1];
    free(edge);
    /* group by article (stable counting sort), then by customer within each article */
    uint64_t *off = hm_xcalloc((size_t)na + 1, sizeof *off);
    for (uint64_t i = 0; i < m; i++)
        off[rec[i].article + 1]++;
    for (uint32_t x = 0; x < na; x++)
        off[x + 1] += off[x];
    struct io_tx_rec *grouped = hm_xmalloc_array(m + 1, sizeof *grouped);
    uint64_t *fill = hm_xmalloc_array((size_t)na + 1, sizeof *fill);
    memcpy(fill, off, (size_t)na * sizeof *fill);
    for (uint64_t i = 0; i < m; i++)
        grouped[fill[rec[i].article]++] = rec[i];
    free(fill);
    free(rec);
    struct side_sort j = {grouped, off, hm_xmalloc_array(m + 1, sizeof(uint64_t))};
    hm_parallel_chunks(T, na, 256, side_sort_range, &j);
    uint16_t *day = hm_xmalloc_array(m + 1, sizeof *day);
    uint32_t *customer = hm_xmalloc_array(m + 1, sizeof *customer), *rows = hm_xmalloc_array(m + 1, sizeof *rows);
    float *price = hm_xmalloc_array(m + 1, sizeof *price);
    uint8_t *channel = hm_xmalloc(m + 1);
    for (uint32_t x = 0; x < na; x++)
        for (uint64_t i = off[x]; i < off[x + 1]; i++) {
            const struct io_tx_rec *r = &grouped[off[x] + (uint32_t)j.order[i]];
            day[i] = r->day;
            customer[i] = r->customer;
            price[i] = r->price;
            channel[i] = r->channel;
            rows[i] = (uint32_t)i;
        }
    free(j.order);
    free(grouped);
    struct colset *cs = hm_xcalloc(1, sizeof *cs);
    col(cs, "day", IO_U16, 2, m, day);
    col(cs, "customer", IO_U32, 4, m, customer);
    col(cs, "price", IO_F32, 4, m, price);
    col(cs, "channel", IO_U8, 1, m, channel);
    col(cs, "article_offsets", IO_U64, 8, (uint64_t)na + 1, off);
    col(cs, "article_rows", IO_U32, 4, m, rows);
    uint64_t meta[IO_TABLE_META] = {na, a0, a1, nc, (uint64_t)me, (uint64_t)n};
    char *path = hm_path_join(dir, DATA_STORE_ARTICLE_SIDE);
    int rc = io_table_write(path, "article_side", m, meta, cs->c, cs->n);
    free(path);
    free(cs);
    free(day);
    free(customer);
    free(rows);
    free(price);
    free(channel);
    free(off);
    return rc;
}

/* This rank's shard: its part of the transactions read, the rows sent to their customers'
 * ranks, sorted and written with the article side. */
static int ingest_shard(const struct data_ingest_opts *o, const struct io_read_opts *ro, const char *path,
                        struct io_articles *a, struct io_customers *c, struct data_ingest_report *rep)
{
    struct io_transactions t, mine;
    int rc = read_part(path, ro, a, c, &t, &rep->transactions);
    if (rc)
        return rc;
    struct io_read_stats *st = &rep->transactions;
    hm_info("transactions: %llu rows of this rank's part in %.2f s", (unsigned long long)t.n, st->seconds);
    /* the whole file's counts */
    uint64_t sums[IO_BAD_KINDS + 5];
    memcpy(sums, st->bad, sizeof st->bad);
    sums[IO_BAD_KINDS] = st->rows;
    sums[IO_BAD_KINDS + 1] = st->bad_total;
    sums[IO_BAD_KINDS + 2] = st->missing_rows;
    sums[IO_BAD_KINDS + 3] = st->missing_customer_rows;
    sums[IO_BAD_KINDS + 4] = st->missing_article_rows;
    comm_allreduce_u64(sums, IO_BAD_KINDS + 5, COMM_SUM);
    memcpy(st->bad, sums, sizeof st->bad);
    st->rows = sums[IO_BAD_KINDS];
    st->bad_total = sums[IO_BAD_KINDS + 1];
    st->missing_rows = sums[IO_BAD_KINDS + 2];
    st->missing_customer_rows = sums[IO_BAD_KINDS + 3];
    st->missing_article_rows = sums[IO_BAD_KINDS + 4];
    io_idmap256_release(&c->index);
    int64_t tw = hm_now_ns();
    to_owners(c, &t, &mine);
    int T = o->nthreads > 0 ? o->nthreads : hm_threads();
    struct store_cols s;
    store_sort(&mine, c->n, a->n, T, &s);
    rep->seconds_sort = hm_seconds_since(tw);
    /* the days of the whole data set */
    uint32_t days[2] = {s.n ? s.dmin : UINT16_MAX, s.n ? s.dmax : 0};
    comm_allreduce_u32(days, 1, COMM_MIN);
    comm_allreduce_u32(days + 1, 1, COMM_MAX);
    s.dmin = st->rows ? (uint16_t)days[0] : 0;
    s.dmax = st->rows ? (uint16_t)days[1] : 0;
    char *dir = data_shard_dir(o->store_dir, comm_rank(), comm_size());
    struct shard_meta sh = {st->rows, (uint32_t)comm_rank(), (uint32_t)comm_size()};
    int64_t t1 = hm_now_ns();
    rc = comm_agree(store_write_tables(dir, a, c, &s, &sh, NULL));
    if (!rc)
        rc = comm_agree(write_article_side(dir, a->n, c->n, &s, st->rows, T));
    rep->seconds_write = hm_seconds_since(t1);
    hm_info("shard %d of %d: %llu rows of its customers", comm_rank(), comm_size(), (unsigned long long)s.n);
    store_cols_release(&s);
    free(dir);
    return rc;
}

/* ---- the whole ingest ------------------------------------------------------------------- */

/* The purchase log's complete lines read after the transactions (appended to t); log[0] how
 * many bytes were read, log[1] their hash. */
static int read_purchases(const char *path, const struct io_read_opts *ro, struct io_articles *a,
                          struct io_customers *c, struct io_transactions *t, struct io_read_stats *st,
                          uint64_t log[2])
{
    struct hm_map m;
    int rc = hm_map_file(&m, path);
    if (rc)
        return hm_error_wrap(rc, "the purchase log");
    size_t whole = m.size;
    while (whole > 0 && m.data[whole - 1] != '\n')
        whole--;
    log[0] = whole;
    log[1] = hm_hash64(m.data, whole, 0);
    hm_map_release(&m);
    if (!whole)
        return hm_error(HM_EPARSE, "%s: expected a header line, found no complete line", path);
    struct io_read_opts o = *ro;
    o.range_lo = 0; /* the records that start before the end of the last complete line */
    o.range_hi = whole;
    struct io_transactions extra;
    if ((rc = io_read_transactions(path, &o, a, c, &extra, st)) != 0)
        return rc;
    st->bytes = whole;
    if (extra.n) {
        HM_GROW(t->rec, t->cap, t->n + extra.n);
        memcpy(t->rec + t->n, extra.rec, extra.n * sizeof *extra.rec);
        t->n += extra.n;
    }
    hm_info("purchases: %llu rows of %s (%llu bytes) after the transactions", (unsigned long long)extra.n, path,
            (unsigned long long)whole);
    io_transactions_release(&extra);
    return 0;
}

int data_ingest(const struct data_ingest_opts *o, struct data_ingest_report *rep)
{
    int64_t t0 = hm_now_ns();
    memset(rep, 0, sizeof *rep);
    struct io_read_opts ro = {o->bad_rows, o->missing_refs, o->nthreads, o->seg_bytes, 0, 0};
    if (comm_size() > 1 && o->missing_refs == IO_REFS_KEEP)
        return hm_error(HM_EINVAL, "--missing-refs keep needs one rank (placeholder rows are numbered in file order)");
    if (comm_size() > 1 && o->purchases)
        return hm_error(HM_EINVAL, "a purchase log is folded in by an ingest of one rank");
    struct io_articles a;
    struct io_customers c;
    struct io_transactions t;
    char *pa = hm_path_join(o->data_dir, "articles.csv");
    char *pc = hm_path_join(o->data_dir, "customers.csv");
    char *pt = hm_path_join(o->data_dir, "transactions_train.csv");
    int rc = comm_agree(io_read_articles(pa, &ro, &a, &rep->articles));
    if (!rc) {
        hm_info("articles: %u rows in %.2f s", a.n, rep->articles.seconds);
        rc = comm_agree(io_read_customers(pc, &ro, &c, &rep->customers));
        if (!rc && comm_size() > 1) {
            rc = ingest_shard(o, &ro, pt, &a, &c, rep);
            io_customers_release(&c);
        } else if (!rc) {
            hm_info("customers: %u rows in %.2f s", c.n, rep->customers.seconds);
            rc = io_read_transactions(pt, &ro, &a, &c, &t, &rep->transactions);
            uint64_t log[2] = {0, 0};
            if (!rc) {
                hm_info("transactions: %llu rows in %.2f s (%.0f MB/s)",
                        (unsigned long long)t.n, rep->transactions.seconds,
                        rep->transactions.bytes / 1e6 / (rep->transactions.seconds + 1e-9));
                if (o->purchases && (rc = read_purchases(o->purchases, &ro, &a, &c, &t, &rep->purchases, log)) != 0)
                    io_transactions_release(&t);
            }
            if (!rc) {
                io_idmap256_release(&c.index); /* not needed any more: free before sorting */
                int64_t tw = hm_now_ns();
                rc = data_store_write(o->store_dir, &a, &c, &t, o->nthreads, log, &rep->seconds_sort);
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
        const char *names[4] = {DATA_STORE_ARTICLES, DATA_STORE_CUSTOMERS, DATA_STORE_TRANSACTIONS,
                                DATA_STORE_ARTICLE_SIDE};
        char *dir = data_shard_dir(o->store_dir, comm_rank(), comm_size());
        for (int i = 0; i < (comm_size() > 1 ? 4 : 3); i++) {
            char *p = hm_path_join(dir, names[i]);
            rep->store_bytes += file_size_of(p);
            free(p);
        }
        free(dir);
    }
    rep->seconds = hm_seconds_since(t0);
    return rc;
}
