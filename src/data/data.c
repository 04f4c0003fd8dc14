/* Opening a store: map the table files, find the columns, check the invariants. */
#include "data.h"
#include "comm/comm.h"

#include <stdlib.h>
#include <string.h>

#define TRY(x)                \
    do {                      \
        int rc_ = (x);        \
        if (rc_)              \
            return rc_;       \
    } while (0)

static int get_dict(const struct io_table *t, const char *name, struct data_dict *d)
{
    char nm[64];
    const void *p;
    snprintf(nm, sizeof nm, "%s.off", name);
    int rc = io_table_column(t, nm, IO_U64, UINT64_MAX, &p);
    if (rc)
        return rc;
    d->off = p;
    uint64_t n_off = 0;
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->cols[i].name, nm))
            n_off = t->cols[i].count;
    snprintf(nm, sizeof nm, "%s.bytes", name);
    rc = io_table_column(t, nm, IO_U8, UINT64_MAX, &p);
    if (rc)
        return rc;
    d->bytes = p;
    uint64_t n_bytes = 0;
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->cols[i].name, nm))
            n_bytes = t->cols[i].count;
    if (n_off < 2 || n_off - 1 > UINT32_MAX || d->off[0] != 0 || d->off[1] != 0 ||
        d->off[n_off - 1] != n_bytes)
        return hm_error(HM_EFORMAT, "'%s': dictionary '%s' is inconsistent", t->path, name);
    for (uint64_t i = 1; i < n_off; i++)
        if (d->off[i] < d->off[i - 1])
            return hm_error(HM_EFORMAT, "'%s': dictionary '%s' is inconsistent", t->path, name);
    d->n = (uint32_t)(n_off - 1);
    return 0;
}

static int check_codes(const struct io_table *t, const char *name, const uint32_t *code,
                       uint64_t n, const struct data_dict *d)
{
    for (uint64_t i = 0; i < n; i++)
        if (code[i] >= d->n)
            return hm_error(HM_EFORMAT, "'%s': column '%s' has a code out of range", t->path,
                            name);
    return 0;
}

static int open_articles(struct data_set *ds, const struct io_table *t, int deep)
{
    struct data_articles *a = &ds->articles;
    if (t->n_rows > UINT32_MAX || t->meta[0] > t->n_rows)
        return hm_error(HM_EFORMAT, "'%s': bad row counts", t->path);
    a->n = (uint32_t)t->n_rows;
    a->n_placeholder = (uint32_t)t->meta[0];
    const void *p;
    TRY(io_table_column(t, "article_id", IO_U32, a->n, &p));
    a->article_id = p;
    for (int k = 1; k < IO_ART_NCOLS; k++) {
        if (io_art_col_kind[k] == IO_KIND_INT) {
            TRY(io_table_column(t, io_art_col_name[k], IO_I32, a->n, &p));
            a->num[k] = p;
        } else {
            TRY(io_table_column(t, io_art_col_name[k], IO_U32, a->n, &p));
            a->code[k] = p;
            TRY(get_dict(t, io_art_col_name[k], &a->dict[k]));
            if (deep)
                TRY(check_codes(t, io_art_col_name[k], a->code[k], a->n, &a->dict[k]));
        }
    }
    return 0;
}

static int open_customers(struct data_set *ds, const struct io_table *t, int deep)
{
    struct data_customers *c = &ds->customers;
    if (t->n_rows > UINT32_MAX || t->meta[0] > t->n_rows)
        return hm_error(HM_EFORMAT, "'%s': bad row counts", t->path);
    c->n = (uint32_t)t->n_rows;
    c->n_placeholder = (uint32_t)t->meta[0];
    const void *p;
    TRY(io_table_column(t, "customer_id", IO_BYTES, c->n, &p));
    if (t->n_cols > 0) {
        for (int i = 0; i < t->n_cols; i++)
            if (!strcmp(t->cols[i].name, "customer_id") && t->cols[i].elem_size != 32)
                return hm_error(HM_EFORMAT, "'%s': customer_id is not 32 bytes wide", t->path);
    }
    c->id = p;
    TRY(io_table_column(t, "FN", IO_U8, c->n, &p));
    c->fn = p;
    TRY(io_table_column(t, "Active", IO_U8, c->n, &p));
    c->active = p;
    TRY(io_table_column(t, "age", IO_F32, c->n, &p));
    c->age = p;
    TRY(io_table_column(t, "club_member_status", IO_U32, c->n, &p));
    c->club = p;
    TRY(get_dict(t, "club_member_status", &c->club_dict));
    TRY(io_table_column(t, "fashion_news_frequency", IO_U32, c->n, &p));
    c->news = p;
    TRY(get_dict(t, "fashion_news_frequency", &c->news_dict));
    TRY(io_table_column(t, "postal_code", IO_U32, c->n, &p));
    c->postal = p;
    TRY(get_dict(t, "postal_code", &c->postal_dict));
    if (deep) {
        TRY(check_codes(t, "club_member_status", c->club, c->n, &c->club_dict));
        TRY(check_codes(t, "fashion_news_frequency", c->news, c->n, &c->news_dict));
        TRY(check_codes(t, "postal_code", c->postal, c->n, &c->postal_dict));
    }
    return 0;
}

struct tx_check {
    const struct data_transactions *tx;
    uint32_t n_customers, n_articles;
};

static int check_tx_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct tx_check *k = ud;
    const struct data_transactions *x = k->tx;
    for (size_t i = begin; i < end; i++) {
        if (x->customer[i] >= k->n_customers || x->article[i] >= k->n_articles ||
            (x->art_rows && x->art_rows[i] >= x->n) || (x->channel[i] != 1 && x->channel[i] != 2))
            return -1;
        if (i > 0 && (x->customer[i] < x->customer[i - 1] ||
                      (x->customer[i] == x->customer[i - 1] && x->day[i] < x->day[i - 1])))
            return -1;
    }
    return 0;
}

static int open_transactions(struct data_set *ds, const struct io_table *t, int deep)
{
    struct data_transactions *x = &ds->tx;
    uint32_t nc = ds->customers.n, na = ds->articles.n;
    if (t->meta[0] != nc || t->meta[1] != na)
        return hm_error(HM_EFORMAT,
                        "'%s' does not belong with the other store files: it was written for "
                        "%llu customers and %llu articles, the store has %u and %u",
                        t->path, (unsigned long long)t->meta[0],
                        (unsigned long long)t->meta[1], nc, na);
    x->n = t->n_rows;
    if (x->n > UINT32_MAX)
        return hm_error(HM_EFORMAT, "'%s': bad row count", t->path);
    const void *p;
    TRY(io_table_column(t, "day", IO_U16, x->n, &p));
    x->day = p;
    TRY(io_table_column(t, "customer", IO_U32, x->n, &p));
    x->customer = p;
    TRY(io_table_column(t, "article", IO_U32, x->n, &p));
    x->article = p;
    TRY(io_table_column(t, "price", IO_F32, x->n, &p));
    x->price = p;
    TRY(io_table_column(t, "channel", IO_U8, x->n, &p));
    x->channel = p;
    TRY(io_table_column(t, "customer_offsets", IO_U64, (uint64_t)nc + 1, &p));
    x->cust_off = p;
    x->day_min = (uint16_t)t->meta[2];
    x->day_max = (uint16_t)t->meta[3];
    /* a shard: meta 4..6 are the rows of every shard, the shard and the shards; its article
     * passes read the article side (no article index here: art_off and art_rows stay NULL) */
    x->n_all = t->meta[6] ? t->meta[4] : x->n;
    ds->shard = (uint32_t)t->meta[5];
    ds->n_shards = t->meta[6] ? (uint32_t)t->meta[6] : 1;
    if (ds->shard >= ds->n_shards || x->n_all < x->n)
        return hm_error(HM_EFORMAT, "'%s': bad shard numbers", t->path);
    if (ds->n_shards == 1) {
        TRY(io_table_column(t, "article_offsets", IO_U64, (uint64_t)na + 1, &p));
        x->art_off = p;
        TRY(io_table_column(t, "article_rows", IO_U32, x->n, &p));
        x->art_rows = p;
    }
    /* a purchase log folded in: an optional column {bytes, hash} */
    for (int k = 0; k < t->n_cols; k++)
        if (!strcmp(t->cols[k].name, "purchase_log") && t->cols[k].type == IO_U64 && t->cols[k].count == 2) {
            const uint64_t *log = t->cols[k].data;
            x->log_bytes = log[0];
            x->log_hash = log[1];
        }
    /* CSR offsets: cheap, always checked (later stages index with them) */
    if (x->cust_off[0] != 0 || x->cust_off[nc] != x->n || (x->art_off && (x->art_off[0] != 0 || x->art_off[na] != x->n)))
        return hm_error(HM_EFORMAT, "'%s': CSR offsets are inconsistent", t->path);
    for (uint32_t c = 0; c < nc; c++)
        if (x->cust_off[c + 1] < x->cust_off[c])
            return hm_error(HM_EFORMAT, "'%s': CSR offsets are inconsistent", t->path);
    for (uint32_t a = 0; x->art_off && a < na; a++)
        if (x->art_off[a + 1] < x->art_off[a])
            return hm_error(HM_EFORMAT, "'%s': CSR offsets are inconsistent", t->path);
    if (deep) {
        struct tx_check k = {x, nc, na};
        if (hm_parallel_for(0, x->n, check_tx_range, &k))
            return hm_error(HM_EFORMAT, "'%s': transactions are out of order or out of range",
                            t->path);
    }
    return 0;
}

struct side_check {
    const struct data_transactions *tx;
    uint32_t n_customers, a0, a1;
};

static int check_side_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct side_check *k = ud;
    const struct data_transactions *x = k->tx;
    for (size_t a = begin; a < end; a++)
        for (uint64_t i = x->art_off[a]; i < x->art_off[a + 1]; i++) {
            if (x->art_rows[i] != i || x->customer[i] >= k->n_customers || (x->channel[i] != 1 && x->channel[i] != 2))
                return -1;
            if (i > x->art_off[a] && x->customer[i] < x->customer[i - 1])
                return -1;
        }
    return 0;
}

/* The article side of a shard (table "article_side"; meta: articles, a0, a1, customers,
 * shard, shards). */
static int open_article_side(struct data_set *ds, const struct io_table *t, int deep)
{
    struct data_article_side *s = &ds->art;
    struct data_transactions *x = &s->tx;
    uint32_t na = ds->articles.n;
    if (t->meta[0] != na || t->meta[3] != ds->customers.n || t->meta[4] != ds->shard ||
        t->meta[5] != ds->n_shards || t->meta[1] > t->meta[2] || t->meta[2] > na)
        return hm_error(HM_EFORMAT, "'%s' does not belong with the other files of shard %u of %u", t->path,
                        ds->shard, ds->n_shards);
    s->a0 = (uint32_t)t->meta[1];
    s->a1 = (uint32_t)t->meta[2];
    x->n = t->n_rows;
    x->n_all = ds->tx.n_all;
    x->day_min = ds->tx.day_min;
    x->day_max = ds->tx.day_max;
    const void *p;
    TRY(io_table_column(t, "day", IO_U16, x->n, &p));
    x->day = p;
    TRY(io_table_column(t, "customer", IO_U32, x->n, &p));
    x->customer = p;
    TRY(io_table_column(t, "price", IO_F32, x->n, &p));
    x->price = p;
    TRY(io_table_column(t, "channel", IO_U8, x->n, &p));
    x->channel = p;
    TRY(io_table_column(t, "article_offsets", IO_U64, (uint64_t)na + 1, &p));
    x->art_off = p;
    TRY(io_table_column(t, "article_rows", IO_U32, x->n, &p));
    x->art_rows = p;
    if (x->art_off[0] != 0 || x->art_off[s->a0] != 0 || x->art_off[s->a1] != x->n || x->art_off[na] != x->n)
        return hm_error(HM_EFORMAT, "'%s': CSR offsets are inconsistent", t->path);
    for (uint32_t a = 0; a < na; a++)
        if (x->art_off[a + 1] < x->art_off[a])
            return hm_error(HM_EFORMAT, "'%s': CSR offsets are inconsistent", t->path);
    if (deep) {
        struct side_check k = {x, ds->customers.n, s->a0, s->a1};
        if (hm_parallel_for(0, na, check_side_range, &k))
            return hm_error(HM_EFORMAT, "'%s': rows are out of order or out of range", t->path);
    }
    return 0;
}

struct article_pass {
    uint32_t a0;
    hm_range_fn fn;
    void *ud;
};

static int article_pass_range(size_t begin, size_t end, int tid, void *ud)
{
    struct article_pass *j = ud;
    return j->fn(begin + j->a0, end + j->a0, tid, j->ud);
}

int data_article_pass(const struct data_set *ds, int nthreads, size_t chunk, hm_range_fn fn, void *ud)
{
    struct article_pass j = {ds->art.a0, fn, ud};
    return hm_parallel_chunks(nthreads, ds->art.a1 - ds->art.a0, chunk, article_pass_range, &j);
}

void data_article_share(const struct data_set *ds, void *arr, size_t row_bytes)
{
    if (ds->n_shards <= 1)
        return;
    if ((uint32_t)comm_size() != ds->n_shards || (uint32_t)comm_rank() != ds->shard)
        HM_BUG("shard %u of %u used by rank %d of %d", ds->shard, ds->n_shards, comm_rank(), comm_size());
    comm_allgather_ranges(arr, row_bytes, ds->art.a0, ds->art.a1);
}

void data_article_edges(const struct data_set *ds, uint32_t *edges)
{
    if (ds->n_shards <= 1) {
        edges[0] = 0;
        edges[1] = ds->articles.n;
        return;
    }
    uint32_t *all = comm_allgatherv(&ds->art.a0, sizeof ds->art.a0, NULL);
    for (uint32_t r = 0; r < ds->n_shards; r++)
        edges[r] = all[r];
    edges[ds->n_shards] = ds->articles.n;
    free(all);
}

int data_customer_in_shard(const struct data_set *ds, uint32_t c)
{
    return ds->n_shards <= 1 || (uint32_t)comm_customer_owner(ds->customers.id[c], (int)ds->n_shards) == ds->shard;
}

char *data_shard_dir(const char *store, int shard, int n_shards)
{
    if (n_shards <= 1)
        return hm_xstrdup(store);
    char name[64];
    snprintf(name, sizeof name, "shard-%d-of-%d", shard, n_shards);
    return hm_path_join(store, name);
}

int data_set_open(struct data_set *ds, const char *dir, unsigned flags)
{
    memset(ds, 0, sizeof *ds);
    ds->dir = hm_xstrdup(dir);
    const char *names[3] = {DATA_STORE_ARTICLES, DATA_STORE_CUSTOMERS, DATA_STORE_TRANSACTIONS};
    const char *tables[3] = {"articles", "customers", "transactions"};
    unsigned tf = (flags & DATA_SET_NOVERIFY) ? IO_TABLE_NOVERIFY : 0;
    int deep = !(flags & DATA_SET_NOVERIFY);
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++) {
        char *p = hm_path_join(dir, names[i]);
        rc = io_table_open(&ds->files[i], p, tables[i], tf);
        free(p);
    }
    if (!rc)
        rc = open_articles(ds, &ds->files[0], deep);
    if (!rc)
        rc = open_customers(ds, &ds->files[1], deep);
    if (!rc)
        rc = open_transactions(ds, &ds->files[2], deep);
    if (!rc && ds->n_shards > 1) {
        char *p = hm_path_join(dir, DATA_STORE_ARTICLE_SIDE);
        rc = io_table_open(&ds->files[3], p, "article_side", tf);
        free(p);
        if (!rc)
            rc = open_article_side(ds, &ds->files[3], deep);
    } else if (!rc) {
        ds->art.a0 = 0;
        ds->art.a1 = ds->articles.n;
        ds->art.tx = ds->tx;
    }
    if (rc) {
        hm_error_wrap(rc, "could not open store '%s'", dir);
        data_set_release(ds);
    }
    return rc;
}

void data_set_release(struct data_set *ds)
{
    for (int i = 0; i < 4; i++)
        io_table_release(&ds->files[i]);
    free(ds->dir);
    memset(ds, 0, sizeof *ds);
}

void data_customer_hex(const struct data_set *ds, uint32_t c, char out[65])
{
    io_format_hex256(ds->customers.id[c], out);
}

void data_article_str(const struct data_set *ds, uint32_t a, char out[11])
{
    snprintf(out, 11, "%010u", ds->articles.article_id[a]);
}

void data_id_index_init(struct data_id_index *ix, const struct data_set *ds)
{
    io_idmap256_init(&ix->customers, ds->customers.n);
    for (uint32_t c = 0; c < ds->customers.n; c++)
        io_idmap256_put(&ix->customers, ds->customers.id[c], c);
    io_idmap32_init(&ix->articles, ds->articles.n);
    for (uint32_t a = 0; a < ds->articles.n; a++)
        io_idmap32_put(&ix->articles, ds->articles.article_id[a], a);
}

void data_id_index_release(struct data_id_index *ix)
{
    io_idmap256_release(&ix->customers);
    io_idmap32_release(&ix->articles);
}

uint32_t data_id_index_customer(const struct data_id_index *ix, const char *hex, size_t len)
{
    uint8_t key[32];
    if (io_parse_hex256(hex, len, key))
        return UINT32_MAX;
    return io_idmap256_get(&ix->customers, key);
}

uint32_t data_id_index_article(const struct data_id_index *ix, uint32_t article_id)
{
    return io_idmap32_get(&ix->articles, article_id);
}
