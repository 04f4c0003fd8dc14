/* H&M table readers: articles.csv, customers.csv and transactions_train.csv into arrays,
 * parsed in parallel chunks (io_csv_scan) and merged in file order, so the result does not
 * depend on the number of threads. */
#include "io/hm_tables.h"
#include "io/parse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const io_art_col_name[IO_ART_NCOLS] = {
    "article_id", "product_code", "prod_name", "product_type_no", "product_type_name",
    "product_group_name", "graphical_appearance_no", "graphical_appearance_name",
    "colour_group_code", "colour_group_name", "perceived_colour_value_id",
    "perceived_colour_value_name", "perceived_colour_master_id", "perceived_colour_master_name",
    "department_no", "department_name", "index_code", "index_name", "index_group_no",
    "index_group_name", "section_no", "section_name", "garment_group_no", "garment_group_name",
    "detail_desc"};
const int io_art_col_kind[IO_ART_NCOLS] = {
    IO_KIND_ID,  IO_KIND_INT, IO_KIND_STR, IO_KIND_INT, IO_KIND_STR, IO_KIND_STR, IO_KIND_INT,
    IO_KIND_STR, IO_KIND_INT, IO_KIND_STR, IO_KIND_INT, IO_KIND_STR, IO_KIND_INT, IO_KIND_STR,
    IO_KIND_INT, IO_KIND_STR, IO_KIND_STR, IO_KIND_STR, IO_KIND_INT, IO_KIND_STR, IO_KIND_INT,
    IO_KIND_STR, IO_KIND_INT, IO_KIND_STR, IO_KIND_STR};
const char *const io_cust_col_name[IO_CUST_NCOLS] = {
    "customer_id", "FN", "Active", "club_member_status", "fashion_news_frequency", "age",
    "postal_code"};
const char *const io_tx_col_name[IO_TX_NCOLS] = {"t_dat", "customer_id", "article_id", "price",
                                                 "sales_channel_id"};

#define MAX_LOGGED 5 /* skipped rows whose message is logged, per file */

char *io_read_stats_bad_summary(const struct io_read_stats *s, const char *const *col_names,
                                int n_cols)
{
    char buf[2048];
    size_t o = 0;
    buf[0] = '\0';
    for (int k = 0; k <= n_cols && k < IO_BAD_KINDS; k++) {
        if (!s->bad[k])
            continue;
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%llu %s%s", o ? ", " : "",
                              (unsigned long long)s->bad[k], k ? "bad " : "wrong field count",
                              k ? col_names[k - 1] : "");
        if (o >= sizeof buf)
            break;
    }
    return hm_xstrdup(buf);
}

/* ---- common: rows of spans for the small tables ---------------------------------------- */

/* One chunk's parsed records: for each record its start, its field count and the spans of
 * the wanted columns (stride = n_want). */
struct span_chunk {
    uint8_t *extra;             /* (cap, extra_size) converted values (convert callback) */
    int *bad;                   /* (cap) 0, or 1 + the wanted column with a bad value */
    struct io_span *spans;
    uint64_t *start;
    int *nf;
    size_t n, cap;
    struct io_arena arena;
    int syntax;                 /* a syntax error ends the chunk */
    struct io_csv_syntax syn;
};

struct span_reader {
    struct io_csv_file *f;
    int n_want;
    int col[IO_CSV_MAX_COLS];   /* wanted column -> field index */
    struct span_chunk *chunks;
    int bad_rows;
    struct io_read_stats *st;
    int logged;
    int (*row)(struct span_reader *r, const struct io_span *s, uint64_t start); /* < 0 error, 1 skipped */
    /* optional, runs in the parallel workers: converts fields of a row into extra
     * (extra_size bytes); returns 0 or 1 + the wanted column with a bad value */
    int (*convert)(const struct io_span *s, void *extra);
    size_t extra_size;
    const char *const *what;    /* wanted column -> "expected" text, for convert errors */
    const uint8_t *cur_extra;   /* the row's converted values, while row() runs */
    void *table;
};

static const char *span_parse(void *ud, int tid, const char *begin, const char *end)
{
    struct span_reader *r = ud;
    struct span_chunk *c = &r->chunks[tid];
    const char *base = r->f->data, *fend = r->f->data + r->f->size, *p = begin;
    struct io_span tmp[IO_CSV_MAX_COLS];
    c->n = 0;
    c->syntax = 0;
    io_arena_reset(&c->arena);
    while (p < end) {
        p = io_csv_skip_blank(p, fend);
        if (p >= end)
            break;
        int nf;
        const char *next = io_csv_record(base, p, fend, tmp, IO_CSV_MAX_COLS, &nf, &c->arena,
                                         &c->syn);
        if (!next) {
            c->syntax = 1;
            break;
        }
        if (c->n == c->cap) {
            c->cap = hm_grow_cap(c->cap, c->n + 1);
            c->spans = hm_xrealloc(c->spans, c->cap * (size_t)r->n_want * sizeof *c->spans);
            c->start = hm_xrealloc(c->start, c->cap * sizeof *c->start);
            c->nf = hm_xrealloc(c->nf, c->cap * sizeof *c->nf);
            c->bad = hm_xrealloc(c->bad, c->cap * sizeof *c->bad);
            if (r->extra_size)
                c->extra = hm_xrealloc(c->extra, c->cap * r->extra_size);
        }
        struct io_span *o = c->spans + c->n * (size_t)r->n_want;
        for (int k = 0; k < r->n_want; k++)
            o[k] = r->col[k] < nf ? tmp[r->col[k]] : (struct io_span){"", 0, 0};
        c->start[c->n] = (uint64_t)(p - base);
        c->nf[c->n] = nf;
        c->bad[c->n] = r->convert && nf == r->f->n_cols
                           ? r->convert(o, c->extra + c->n * r->extra_size) : 0;
        c->n++;
        p = next;
    }
    return io_csv_skip_blank(p, fend);
}

/* Reports a bad row: fails, or counts it (kind) and logs the first few messages. */
static int bad_row(struct span_reader *r, int kind, char *msg)
{
    if (r->bad_rows == IO_BAD_FAIL) {
        int rc = hm_error(HM_EPARSE, "%s", msg);
        free(msg);
        return rc;
    }
    r->st->bad[kind]++;
    r->st->bad_total++;
    if (r->logged++ < MAX_LOGGED)
        hm_warn("skipped row: %s", msg);
    free(msg);
    return 1;
}

static int field_error(struct span_reader *r, int kind, const struct io_span *s, const char *what)
{
    return bad_row(r, kind, io_csv_expected(r->f, s->off, what, s->p, s->len));
}

static int span_merge(void *ud, int tid)
{
    struct span_reader *r = ud;
    struct span_chunk *c = &r->chunks[tid];
    for (size_t i = 0; i < c->n; i++) {
        if (c->nf[i] != r->f->n_cols) {
            char found[32];
            snprintf(found, sizeof found, "%d fields", c->nf[i]);
            char what[32];
            snprintf(what, sizeof what, "%d fields", r->f->n_cols);
            int rc = bad_row(r, 0, io_csv_expected(r->f, c->start[i], what, found, strlen(found)));
            if (rc < 0)
                return rc;
            continue;
        }
        const struct io_span *sp = c->spans + i * (size_t)r->n_want;
        if (c->bad[i]) {
            int k = c->bad[i] - 1;
            int rc = field_error(r, 1 + k, &sp[k], r->what[k]);
            if (rc < 0)
                return rc;
            continue;
        }
        r->cur_extra = r->extra_size ? c->extra + i * r->extra_size : NULL;
        int rc = r->row(r, sp, c->start[i]);
        if (rc < 0)
            return rc;
    }
    if (c->syntax) {
        char *m = io_csv_syntax_message(r->f, &c->syn);
        int rc = hm_error(HM_EPARSE, "%s", m);
        free(m);
        return rc;
    }
    return 0;
}

static int span_read(const char *path, const struct io_read_opts *o, const char *const *names,
                     int n_want, struct span_reader *r, struct io_read_stats *st)
{
    int64_t t0 = hm_now_ns();
    struct io_csv_file f;
    int rc = io_csv_open(&f, path);
    if (rc)
        return rc;
    rc = io_csv_find_columns(&f, names, n_want, r->col);
    if (rc) {
        io_csv_release(&f);
        return rc;
    }
    int T = o->nthreads > 0 ? o->nthreads : hm_threads();
    r->f = &f;
    r->n_want = n_want;
    r->chunks = hm_xcalloc((size_t)T, sizeof *r->chunks);
    r->bad_rows = o->bad_rows;
    r->st = st;
    rc = io_csv_scan(&f, T, o->seg_bytes, span_parse, span_merge, r);
    for (int t = 0; t < T; t++) {
        free(r->chunks[t].spans);
        free(r->chunks[t].start);
        free(r->chunks[t].nf);
        free(r->chunks[t].bad);
        free(r->chunks[t].extra);
        io_arena_release(&r->chunks[t].arena);
    }
    free(r->chunks);
    st->bytes = f.map.size;
    st->seconds = hm_seconds_since(t0);
    io_csv_release(&f);
    return rc;
}

/* ---- articles ------------------------------------------------------------------------ */

static void articles_reserve(struct io_articles *a, uint32_t n)
{
    if (n <= a->cap)
        return;
    uint32_t cap = (uint32_t)hm_grow_cap(a->cap, n);
    a->article_id = hm_xrealloc(a->article_id, (size_t)cap * sizeof *a->article_id);
    for (int k = 0; k < IO_ART_NCOLS; k++) {
        if (io_art_col_kind[k] == IO_KIND_INT)
            a->num[k] = hm_xrealloc(a->num[k], (size_t)cap * sizeof *a->num[k]);
        else if (io_art_col_kind[k] == IO_KIND_STR)
            a->code[k] = hm_xrealloc(a->code[k], (size_t)cap * sizeof *a->code[k]);
    }
    a->cap = cap;
}

static void articles_init(struct io_articles *a)
{
    memset(a, 0, sizeof *a);
    for (int k = 0; k < IO_ART_NCOLS; k++)
        if (io_art_col_kind[k] == IO_KIND_STR)
            io_strdict_init(&a->dict[k]);
    io_idmap32_init(&a->index, 1024);
    articles_reserve(a, 1024);
}

void io_articles_release(struct io_articles *a)
{
    free(a->article_id);
    for (int k = 0; k < IO_ART_NCOLS; k++) {
        free(a->num[k]);
        free(a->code[k]);
        if (io_art_col_kind[k] == IO_KIND_STR)
            io_strdict_release(&a->dict[k]);
    }
    io_idmap32_release(&a->index);
    memset(a, 0, sizeof *a);
}

/* Appends a placeholder article (all values missing) for an unknown id. */
static uint32_t articles_placeholder(struct io_articles *a, uint32_t id)
{
    articles_reserve(a, a->n + 1);
    uint32_t i = a->n++;
    a->article_id[i] = id;
    for (int k = 0; k < IO_ART_NCOLS; k++) {
        if (a->num[k])
            a->num[k][i] = IO_MISSING_I32;
        if (a->code[k])
            a->code[k][i] = 0;
    }
    a->n_placeholder++;
    io_idmap32_put(&a->index, id, i);
    return i;
}

static int article_row(struct span_reader *r, const struct io_span *s, uint64_t start)
{
    (void)start;
    struct io_articles *a = r->table;
    uint32_t id;
    int32_t num[IO_ART_NCOLS];
    if (io_parse_u32(s[0].p, s[0].len, &id))
        return field_error(r, 1, &s[0], "article_id as 1 to 10 digits");
    for (int k = 1; k < IO_ART_NCOLS; k++) {
        if (io_art_col_kind[k] != IO_KIND_INT)
            continue;
        if (s[k].len == 0)
            num[k] = IO_MISSING_I32;
        else if (io_parse_i32(s[k].p, s[k].len, &num[k])) {
            char what[80];
            snprintf(what, sizeof what, "%s as an integer", io_art_col_name[k]);
            return field_error(r, 1 + k, &s[k], what);
        }
    }
    if (io_idmap32_get(&a->index, id) != UINT32_MAX)
        return field_error(r, 1, &s[0], "a new article_id (each article once)");
    articles_reserve(a, a->n + 1);
    uint32_t i = a->n++;
    a->article_id[i] = id;
    io_idmap32_put(&a->index, id, i);
    for (int k = 1; k < IO_ART_NCOLS; k++) {
        if (io_art_col_kind[k] == IO_KIND_INT)
            a->num[k][i] = num[k];
        else
            a->code[k][i] = io_strdict_put(&a->dict[k], s[k].p, s[k].len);
    }
    r->st->rows++;
    return 0;
}

int io_read_articles(const char *path, const struct io_read_opts *o, struct io_articles *out,
                     struct io_read_stats *st)
{
    memset(st, 0, sizeof *st);
    articles_init(out);
    struct span_reader r = {0};
    r.row = article_row;
    r.table = out;
    int rc = span_read(path, o, io_art_col_name, IO_ART_NCOLS, &r, st);
    if (rc)
        io_articles_release(out);
    return rc;
}

/* ---- customers ------------------------------------------------------------------------- */

static void customers_reserve(struct io_customers *c, uint32_t n)
{
    if (n <= c->cap)
        return;
    uint32_t cap = (uint32_t)hm_grow_cap(c->cap, n);
    c->id = hm_xrealloc(c->id, (size_t)cap * sizeof *c->id);
    c->fn = hm_xrealloc(c->fn, cap);
    c->active = hm_xrealloc(c->active, cap);
    c->club = hm_xrealloc(c->club, (size_t)cap * sizeof *c->club);
    c->news = hm_xrealloc(c->news, (size_t)cap * sizeof *c->news);
    c->postal = hm_xrealloc(c->postal, (size_t)cap * sizeof *c->postal);
    c->age = hm_xrealloc(c->age, (size_t)cap * sizeof *c->age);
    c->cap = cap;
}

void io_customers_release(struct io_customers *c)
{
    free(c->id);
    free(c->fn);
    free(c->active);
    free(c->club);
    free(c->news);
    free(c->postal);
    free(c->age);
    io_strdict_release(&c->club_dict);
    io_strdict_release(&c->news_dict);
    io_strdict_release(&c->postal_dict);
    io_idmap256_release(&c->index);
    memset(c, 0, sizeof *c);
}

static uint32_t customers_placeholder(struct io_customers *c, const uint8_t id[32])
{
    customers_reserve(c, c->n + 1);
    uint32_t i = c->n++;
    memcpy(c->id[i], id, 32);
    c->fn[i] = c->active[i] = IO_MISSING_U8;
    c->club[i] = c->news[i] = c->postal[i] = 0;
    c->age[i] = NAN;
    c->n_placeholder++;
    io_idmap256_put(&c->index, id, i);
    return i;
}

/* FN and Active: 1.0 / 0.0 (any decimal spelling) or empty. */
static int parse_flag(const struct io_span *s, uint8_t *out)
{
    float v;
    if (s->len == 0) {
        *out = IO_MISSING_U8;
        return 0;
    }
    if (io_parse_f32(s->p, s->len, &v) || (v != 0.0f && v != 1.0f))
        return -1;
    *out = (uint8_t)v;
    return 0;
}

/* Values of a customer row converted in the parallel workers. */
struct cust_extra {
    uint8_t id[32];
    uint64_t hash;
    float age;
    uint8_t fn, active;
};

static const char *const cust_what[IO_CUST_NCOLS] = {
    "customer_id as 64 hex digits", "FN as 1.0, 0.0 or empty", "Active as 1.0, 0.0 or empty",
    "", "", "age as a non-negative number or empty", ""};

static int customer_convert(const struct io_span *s, void *extra)
{
    struct cust_extra *x = extra;
    if (io_parse_hex256(s[IO_CUST_ID].p, s[IO_CUST_ID].len, x->id))
        return 1 + IO_CUST_ID;
    x->hash = io_idmap256_hash(x->id);
    if (parse_flag(&s[IO_CUST_FN], &x->fn))
        return 1 + IO_CUST_FN;
    if (parse_flag(&s[IO_CUST_ACTIVE], &x->active))
        return 1 + IO_CUST_ACTIVE;
    const struct io_span *sa = &s[IO_CUST_AGE];
    x->age = NAN;
    if (sa->len && (io_parse_f32(sa->p, sa->len, &x->age) || x->age < 0))
        return 1 + IO_CUST_AGE;
    return 0;
}

static int customer_row(struct span_reader *r, const struct io_span *s, uint64_t start)
{
    (void)start;
    struct io_customers *c = r->table;
    const struct cust_extra *x = (const struct cust_extra *)r->cur_extra;
    if (io_idmap256_get_hashed(&c->index, x->id, x->hash) != UINT32_MAX)
        return field_error(r, 1 + IO_CUST_ID, &s[IO_CUST_ID], "a new customer_id (each customer once)");
    customers_reserve(c, c->n + 1);
    uint32_t i = c->n++;
    io_idmap256_put(&c->index, x->id, i);
    memcpy(c->id[i], x->id, 32);
    c->fn[i] = x->fn;
    c->active[i] = x->active;
    c->age[i] = x->age;
    c->club[i] = io_strdict_put(&c->club_dict, s[IO_CUST_CLUB].p, s[IO_CUST_CLUB].len);
    c->news[i] = io_strdict_put(&c->news_dict, s[IO_CUST_NEWS].p, s[IO_CUST_NEWS].len);
    c->postal[i] = io_strdict_put(&c->postal_dict, s[IO_CUST_POSTAL].p, s[IO_CUST_POSTAL].len);
    r->st->rows++;
    return 0;
}

int io_read_customers(const char *path, const struct io_read_opts *o, struct io_customers *out,
                      struct io_read_stats *st)
{
    memset(st, 0, sizeof *st);
    memset(out, 0, sizeof *out);
    io_strdict_init(&out->club_dict);
    io_strdict_init(&out->news_dict);
    io_strdict_init(&out->postal_dict);
    struct stat sb;
    uint64_t guess = stat(path, &sb) == 0 ? (uint64_t)sb.st_size / 160 : 0; /* real rows: ~155 B */
    io_idmap256_init(&out->index, guess < (1u << 26) ? (uint32_t)guess + 1024 : 1u << 26);
    customers_reserve(out, 1024);
    struct span_reader r = {0};
    r.row = customer_row;
    r.convert = customer_convert;
    r.extra_size = sizeof(struct cust_extra);
    r.what = cust_what;
    r.table = out;
    int rc = span_read(path, o, io_cust_col_name, IO_CUST_NCOLS, &r, st);
    if (rc)
        io_customers_release(out);
    return rc;
}

/* ---- transactions ------------------------------------------------------------------------ */

struct tx_miss {
    uint64_t row;   /* index in the chunk's records */
    uint64_t pos;   /* file offset of the field (for messages) */
    uint8_t key[32];
    uint32_t article;
    uint8_t what;   /* 1 customer, 2 article, 3 both */
    uint64_t apos;
};

struct tx_chunk {
    struct io_tx_rec *rec;
    size_t n, cap;
    struct tx_miss *miss;
    size_t n_miss, cap_miss;
    char *err;                  /* fail mode: the first error of the chunk */
    char *logged[MAX_LOGGED];   /* skip mode: the first messages */
    int n_logged;
    uint64_t bad[IO_BAD_KINDS];
    char last_date[10];
    uint16_t last_day;
    int pending;                /* rec[0 .. pending_n) still to be copied to out at pending_dst */
    size_t pending_dst, pending_n;
};



struct tx_reader {
    struct io_csv_file *f;
    int col[IO_TX_NCOLS];
    int bad_rows, refs;
    struct tx_chunk *chunks;
    struct io_articles *a;
    struct io_customers *c;
    struct io_transactions *out;
    struct io_read_stats *st;
    int logged;
    struct io_idmap256 miss_c; /* distinct unknown customers (drop, fail) */
    struct io_idmap32 miss_a;
    char *first_miss;          /* message for the first unknown reference */
};

/* Copies a merged chunk's records to their place in the output (in the workers, so that
 * the copies and the page faults of the output run in parallel). */
static void tx_copy_pending(struct tx_reader *r, struct tx_chunk *c)
{
    if (c->pending && c->pending_n)
        memcpy(r->out->rec + c->pending_dst, c->rec, c->pending_n * sizeof *c->rec);
    c->pending = 0;
}

static int tx_copy_worker(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct tx_reader *r = ud;
    for (size_t t = begin; t < end; t++)
        tx_copy_pending(r, &r->chunks[t]);
    return 0;
}

/* Records a bad row in a chunk; returns 1 when parsing the chunk must stop. */
static int tx_bad(struct tx_reader *r, struct tx_chunk *c, int kind, uint64_t pos, const char *what,
                  const char *found, size_t len)
{
    if (r->bad_rows == IO_BAD_FAIL) {
        c->err = io_csv_expected(r->f, pos, what, found, len);
        return 1;
    }
    c->bad[kind]++;
    if (c->n_logged < MAX_LOGGED)
        c->logged[c->n_logged++] = io_csv_expected(r->f, pos, what, found, len);
    return 0;
}

/* A parsed row waiting for its id lookups (done in batches to overlap cache misses). */
struct tx_pending {
    struct io_tx_rec t;
    uint8_t key[32];
    uint64_t hash;
    uint32_t art;
    uint64_t cpos, apos;
};
#define TX_BATCH 16

static void tx_flush(struct tx_reader *r, struct tx_chunk *c, struct tx_pending *pd, int np)
{
    HM_GROW(c->rec, c->cap, c->n + (size_t)np);
    for (int k = 0; k < np; k++) {
        struct tx_pending *q = &pd[k];
        q->t.customer = io_idmap256_get_hashed(&r->c->index, q->key, q->hash);
        q->t.article = io_idmap32_get(&r->a->index, q->art);
        if (q->t.customer == UINT32_MAX || q->t.article == UINT32_MAX) {
            if (c->n_miss == c->cap_miss) {
                c->cap_miss = c->cap_miss ? c->cap_miss * 2 : 64;
                c->miss = hm_xrealloc(c->miss, c->cap_miss * sizeof *c->miss);
            }
            struct tx_miss *m = &c->miss[c->n_miss++];
            m->row = c->n;
            m->pos = q->cpos;
            m->apos = q->apos;
            memcpy(m->key, q->key, 32);
            m->article = q->art;
            m->what = (uint8_t)((q->t.customer == UINT32_MAX) | (q->t.article == UINT32_MAX) << 1);
        }
        c->rec[c->n++] = q->t;
    }
}

/* Bytes of a decimal number (the fast path's scan; the parser checks the syntax). */
static const uint8_t num_char[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['.'] = 1, ['e'] = 1, ['E'] = 1, ['+'] = 1, ['-'] = 1};

/* Fast path for a row in the Kaggle column order and spelling (unquoted, 10-byte date,
 * 64-digit id): parses it into q and returns the start of the next line, or NULL when the
 * row is anything else (then the general path parses it, with its exact messages). It
 * accepts only rows that the general path accepts with the same values. */
static const char *tx_fast(struct tx_chunk *c, const char *base, const char *p, const char *fend,
                           struct tx_pending *q)
{
    if (fend - p < 82 || p[10] != ',' || p[75] != ',')
        return NULL;
    if (!memcmp(p, c->last_date, 10)) {
        q->t.day = c->last_day;
    } else {
        int32_t day;
        if (hm_date_parse(p, 10, &day) || day > 65535)
            return NULL;
        memcpy(c->last_date, p, 10);
        c->last_day = q->t.day = (uint16_t)day;
    }
    if (io_parse_hex256(p + 11, 64, q->key))
        return NULL;
    const char *a = p + 76, *x = a;
    while (x < fend && (unsigned)(*x - '0') < 10)
        x++;
    if (x >= fend || *x != ',' || io_parse_u32(a, (size_t)(x - a), &q->art))
        return NULL;
    const char *pr = ++x;
    while (x < fend && num_char[(uint8_t)*x])
        x++;
    if (x >= fend || *x != ',' || io_parse_f32(pr, (size_t)(x - pr), &q->t.price) ||
        !(q->t.price >= 0))
        return NULL;
    x++;
    if (x >= fend || (*x != '1' && *x != '2'))
        return NULL;
    q->t.channel = (uint8_t)(*x - '0');
    x++;
    if (x < fend) {
        if (*x == '\n')
            x++;
        else if (*x == '\r' && x + 1 < fend && x[1] == '\n')
            x += 2;
        else
            return NULL;
    }
    q->cpos = (uint64_t)(p + 11 - base);
    q->apos = (uint64_t)(a - base);
    return x;
}

static const char *tx_parse(void *ud, int tid, const char *begin, const char *end)
{
    struct tx_reader *r = ud;
    struct tx_chunk *c = &r->chunks[tid];
    const char *base = r->f->data, *fend = r->f->data + r->f->size, *p = begin;
    const int ncols = r->f->n_cols;
    const int cd = r->col[IO_TX_DAY], cc = r->col[IO_TX_CUSTOMER], ca = r->col[IO_TX_ARTICLE],
              cp = r->col[IO_TX_PRICE], ch = r->col[IO_TX_CHANNEL];
    struct io_span f[IO_CSV_MAX_COLS];
    struct io_csv_syntax syn;
    struct tx_pending pd[TX_BATCH];
    int np = 0;
    tx_copy_pending(r, c);
    c->n = 0;
    c->n_miss = 0;
    free(c->err); /* a chunk may be parsed twice (see io_csv_scan): start clean */
    c->err = NULL;
    for (int k = 0; k < c->n_logged; k++)
        free(c->logged[k]);
    c->n_logged = 0;
    memset(c->bad, 0, sizeof c->bad);
    const int kaggle_order = ncols == 5 && cd == 0 && cc == 1 && ca == 2 && cp == 3 && ch == 4;
    while (p < end) {
        p = io_csv_skip_blank(p, fend);
        if (p >= end)
            break;
        if (kaggle_order) {
            struct tx_pending *q = &pd[np];
            const char *e = tx_fast(c, base, p, fend, q);
            if (e) {
                q->t.pad = 0;
                q->hash = io_idmap256_hash(q->key);
                io_idmap256_prefetch(&r->c->index, q->hash);
                io_idmap32_prefetch(&r->a->index, q->art);
                if (++np == TX_BATCH) {
                    tx_flush(r, c, pd, np);
                    np = 0;
                }
                p = e;
                continue;
            }
        }
        int nf;
        const char *next = io_csv_record(base, p, fend, f, IO_CSV_MAX_COLS, &nf, NULL, &syn);
        if (!next) {
            c->err = io_csv_syntax_message(r->f, &syn);
            break; /* syntax errors cannot be skipped: record boundaries are unknown */
        }
        uint64_t rec_pos = (uint64_t)(p - base);
        p = next;
        if (nf != ncols) {
            char what[32], found[32];
            snprintf(what, sizeof what, "%d fields", ncols);
            snprintf(found, sizeof found, "%d fields", nf);
            if (tx_bad(r, c, 0, rec_pos, what, found, strlen(found)))
                break;
            continue;
        }
        struct tx_pending *q = &pd[np];
        struct io_tx_rec *t = &q->t;
        /* day, with a one-entry cache: the files are mostly sorted by date */
        const struct io_span *s = &f[cd];
        if (s->len == 10 && !memcmp(s->p, c->last_date, 10)) {
            t->day = c->last_day;
        } else {
            int32_t day;
            if (hm_date_parse(s->p, s->len, &day) || day > 65535) {
                if (tx_bad(r, c, 1 + IO_TX_DAY, s->off, "t_dat as a date YYYY-MM-DD", s->p, s->len))
                    break;
                continue;
            }
            memcpy(c->last_date, s->p, 10);
            c->last_day = t->day = (uint16_t)day;
        }
        s = &f[cc];
        if (io_parse_hex256(s->p, s->len, q->key)) {
            if (tx_bad(r, c, 1 + IO_TX_CUSTOMER, s->off, "customer_id as 64 hex digits", s->p,
                       s->len))
                break;
            continue;
        }
        q->cpos = s->off;
        s = &f[ca];
        if (io_parse_u32(s->p, s->len, &q->art)) {
            if (tx_bad(r, c, 1 + IO_TX_ARTICLE, s->off, "article_id as 1 to 10 digits", s->p,
                       s->len))
                break;
            continue;
        }
        q->apos = s->off;
        s = &f[cp];
        if (io_parse_f32(s->p, s->len, &t->price) || !(t->price >= 0)) {
            if (tx_bad(r, c, 1 + IO_TX_PRICE, s->off, "price as a non-negative decimal number",
                       s->p, s->len))
                break;
            continue;
        }
        s = &f[ch];
        if (s->len != 1 || (s->p[0] != '1' && s->p[0] != '2')) {
            if (tx_bad(r, c, 1 + IO_TX_CHANNEL, s->off, "sales_channel_id 1 or 2", s->p, s->len))
                break;
            continue;
        }
        t->channel = (uint8_t)(s->p[0] - '0');
        t->pad = 0;
        q->hash = io_idmap256_hash(q->key);
        io_idmap256_prefetch(&r->c->index, q->hash);
        io_idmap32_prefetch(&r->a->index, q->art);
        if (++np == TX_BATCH) {
            tx_flush(r, c, pd, np);
            np = 0;
        }
    }
    tx_flush(r, c, pd, np);
    return io_csv_skip_blank(p, fend);
}

static int tx_merge(void *ud, int tid)
{
    struct tx_reader *r = ud;
    struct tx_chunk *c = &r->chunks[tid];
    for (int k = 0; k < c->n_logged; k++) {
        if (r->logged++ < MAX_LOGGED)
            hm_warn("skipped row: %s", c->logged[k]);
        free(c->logged[k]);
    }
    c->n_logged = 0;
    for (int k = 0; k < IO_BAD_KINDS; k++) {
        r->st->bad[k] += c->bad[k];
        r->st->bad_total += c->bad[k];
        c->bad[k] = 0;
    }
    /* unknown references, in file order */
    for (size_t i = 0; i < c->n_miss; i++) {
        struct tx_miss *m = &c->miss[i];
        struct io_tx_rec *t = &c->rec[m->row];
        r->st->missing_rows++;
        if (m->what & 1) {
            r->st->missing_customer_rows++;
            if (r->refs == IO_REFS_KEEP) {
                uint32_t v = io_idmap256_get(&r->c->index, m->key);
                t->customer = v != UINT32_MAX ? v : customers_placeholder(r->c, m->key);
            } else if (io_idmap256_get(&r->miss_c, m->key) == UINT32_MAX) {
                io_idmap256_put(&r->miss_c, m->key, 0);
            }
        }
        if (m->what & 2) {
            r->st->missing_article_rows++;
            if (r->refs == IO_REFS_KEEP) {
                uint32_t v = io_idmap32_get(&r->a->index, m->article);
                t->article = v != UINT32_MAX ? v : articles_placeholder(r->a, m->article);
            } else if (io_idmap32_get(&r->miss_a, m->article) == UINT32_MAX) {
                io_idmap32_put(&r->miss_a, m->article, 0);
            }
        }
        if (r->refs == IO_REFS_FAIL && !r->first_miss) {
            char hex[65];
            io_format_hex256(m->key, hex);
            char num[16];
            snprintf(num, sizeof num, "%010u", m->article);
            r->first_miss = (m->what & 1)
                ? io_csv_expected(r->f, m->pos, "a customer_id listed in customers.csv", hex, 64)
                : io_csv_expected(r->f, m->apos, "an article_id listed in articles.csv", num,
                                  strlen(num));
        }
    }
    /* append the chunk's rows (without the dropped ones) */
    struct io_transactions *o = r->out;
    /* doubling (not HM_GROW's 1.5x): this array reaches half a gigabyte, and each
     * reallocation copies it */
    if (o->n + c->n > o->cap) {
        while (o->n + c->n > o->cap)
            o->cap = o->cap ? o->cap * 2 : 1 << 20;
        o->rec = hm_xrealloc(o->rec, o->cap * sizeof *o->rec);
    }
    if (c->n == 0) {
        /* nothing */
    } else if (c->n_miss == 0 || r->refs == IO_REFS_KEEP) {
        c->pending = 1; /* copied by the worker before its next chunk, or at the end */
        c->pending_dst = o->n;
        c->pending_n = c->n;
        o->n += c->n;
    } else {
        for (size_t i = 0; i < c->n; i++)
            if (c->rec[i].customer != UINT32_MAX && c->rec[i].article != UINT32_MAX)
                o->rec[o->n++] = c->rec[i];
    }
    if (c->err)
        return hm_error(HM_EPARSE, "%s", c->err);
    return 0;
}

void io_transactions_release(struct io_transactions *t)
{
    free(t->rec);
    memset(t, 0, sizeof *t);
}

int io_read_transactions(const char *path, const struct io_read_opts *o, struct io_articles *a,
                         struct io_customers *cu, struct io_transactions *out,
                         struct io_read_stats *st)
{
    int64_t t0 = hm_now_ns();
    memset(st, 0, sizeof *st);
    memset(out, 0, sizeof *out);
    struct io_csv_file f;
    int rc = io_csv_open(&f, path);
    if (rc)
        return rc;
    struct tx_reader r = {0};
    rc = io_csv_find_columns(&f, io_tx_col_name, IO_TX_NCOLS, r.col);
    if (rc) {
        io_csv_release(&f);
        return rc;
    }
    int T = o->nthreads > 0 ? o->nthreads : hm_threads();
    r.f = &f;
    r.bad_rows = o->bad_rows;
    r.refs = o->missing_refs;
    r.chunks = hm_xcalloc((size_t)T, sizeof *r.chunks);
    for (int t = 0; t < T; t++)
        memcpy(r.chunks[t].last_date, "1970-01-01", 10); /* day 0 */
    r.a = a;
    r.c = cu;
    r.out = out;
    r.st = st;
    io_idmap256_init(&r.miss_c, 16);
    io_idmap32_init(&r.miss_a, 16);
    /* valid rows are at least 80 bytes: reserve (virtual memory, touched as filled) */
    int ranged = o->range_lo || o->range_hi;
    out->cap = (ranged ? (o->range_hi > o->range_lo ? o->range_hi - o->range_lo : 0) : f.size) / 80 + 1024;
    out->rec = hm_xmalloc_array(out->cap, sizeof *out->rec);
    io_advise_huge(out->rec, out->cap * sizeof *out->rec);
    uint32_t c0 = cu->n, a0 = a->n;
    if (ranged)
        rc = io_csv_scan_range(&f, o->range_lo, o->range_hi, T, o->seg_bytes, tx_parse, tx_merge, &r, &st->stop);
    else
        rc = io_csv_scan(&f, T, o->seg_bytes, tx_parse, tx_merge, &r);
    hm_parallel_for(T, (size_t)T, tx_copy_worker, &r);
    for (int t = 0; t < T; t++) {
        free(r.chunks[t].rec);
        free(r.chunks[t].miss);
        free(r.chunks[t].err);
        for (int k = 0; k < r.chunks[t].n_logged; k++)
            free(r.chunks[t].logged[k]);
    }
    free(r.chunks);
    st->rows = out->n;
    st->missing_customers = r.refs == IO_REFS_KEEP ? cu->n - c0 : r.miss_c.n;
    st->missing_articles = r.refs == IO_REFS_KEEP ? a->n - a0 : r.miss_a.n;
    if (!rc && r.refs == IO_REFS_FAIL && st->missing_rows) {
        rc = hm_error(HM_ENOTFOUND,
                      "%s (%llu rows name %u customers missing from customers.csv, %llu rows "
                      "name %u articles missing from articles.csv; see --missing-refs)",
                      r.first_miss, (unsigned long long)st->missing_customer_rows,
                      st->missing_customers, (unsigned long long)st->missing_article_rows,
                      st->missing_articles);
    }
    free(r.first_miss);
    io_idmap256_release(&r.miss_c);
    io_idmap32_release(&r.miss_a);
    st->bytes = f.map.size;
    st->seconds = hm_seconds_since(t0);
    io_csv_release(&f);
    if (rc)
        io_transactions_release(out);
    return rc;
}
