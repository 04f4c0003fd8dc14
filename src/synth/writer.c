/* synth/writer.c: the CSV files (articles, customers, transactions) in the formats of the
 * Kaggle files, and the image embeddings. Transactions are formatted in parallel chunks
 * and written in order, so the bytes do not depend on the number of threads. */
#include "synth/synth_internal.h"
#include "io/npy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- fields -------------------------------------------------------------------------- */

char *synth_csv_field(char *dst, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        size_t n = strlen(s);
        memcpy(dst, s, n);
        return dst + n;
    }
    *dst++ = '"';
    for (; *s; s++) {
        if (*s == '"')
            *dst++ = '"';
        *dst++ = *s;
    }
    *dst++ = '"';
    return dst;
}

void synth_hex64(uint64_t v, char *dst)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, v >>= 4)
        dst[i] = hex[v & 15];
}

void synth_customer_hex(const struct synth_customers *cu, size_t i, char *dst)
{
    for (int k = 0; k < 4; k++)
        synth_hex64(cu->id[i * 4 + k], dst + 16 * k);
    dst[64] = 0;
}

void synth_postal_hex(uint64_t seed, uint32_t code, char *dst)
{
    uint64_t h = hm_mix64(seed ^ 0x905741ULL) ^ ((uint64_t)code * 0xD1B54A32D192ED03ULL);
    for (int k = 0; k < 4; k++) {
        h = hm_mix64(h + (uint64_t)k);
        synth_hex64(h, dst + 16 * k);
    }
    dst[64] = 0;
}

void synth_article_id(const struct synth_catalogue *c, size_t a, char *dst)
{
    uint64_t v = (uint64_t)c->product_code[c->product[a]] * 1000 + c->colour_no[a] % 1000;
    for (int i = 9; i >= 0; i--, v /= 10)
        dst[i] = (char)('0' + v % 10);
    dst[10] = 0;
}

int synth_price_text(uint32_t price_ore, double scale, char *dst)
{
    double v = (price_ore / 100.0) / scale;
    for (int prec = 15; prec <= 17; prec++) { /* the shortest text that reads back as v */
        int n = snprintf(dst, 32, "%.*g", prec, v);
        if (strtod(dst, NULL) == v)
            return n;
    }
    return snprintf(dst, 32, "%.17g", v);
}

/* ---- articles.csv -------------------------------------------------------------------- */

int synth_write_articles(const struct synth_catalogue *c, const struct synth_taxonomy *t,
                         const struct synth_params *p, const char *dir)
{
    char *path = hm_path_join(dir, "articles.csv");
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    free(path);
    if (rc)
        return rc;
    static const char header[] =
        "article_id,product_code,prod_name,product_type_no,product_type_name,product_group_name,"
        "graphical_appearance_no,graphical_appearance_name,colour_group_code,colour_group_name,"
        "perceived_colour_value_id,perceived_colour_value_name,perceived_colour_master_id,"
        "perceived_colour_master_name,department_no,department_name,index_code,index_name,"
        "index_group_no,index_group_name,section_no,section_name,garment_group_no,garment_group_name,"
        "detail_desc\n";
    hm_awriter_write(&w, header, sizeof header - 1);
    char *buf = hm_xmalloc(8192), name[64], desc[512], num[32];
    for (size_t a = 0; a < c->n; a++) {
        char *q = buf;
        synth_article_id(c, a, q);
        q += 10;
        q += sprintf(q, ",0%06u,", (unsigned)c->product_code[c->product[a]]);
        synth_article_text(c, t, (uint64_t)p->seed, a, name, desc);
        q = synth_csv_field(q, name);
        const struct synth_tx_type *ty = &t->types[c->type[a]];
        q += sprintf(q, ",%d,", ty->no);
        q = synth_csv_field(q, ty->name);
        *q++ = ',';
        q = synth_csv_field(q, ty->group);
        q += sprintf(q, ",%d,", t->app[c->app[a]].no);
        q = synth_csv_field(q, t->app[c->app[a]].name);
        const struct synth_tx_colour *co = &t->colours[c->colour[a]];
        q += sprintf(q, ",%02d,", co->code);
        q = synth_csv_field(q, co->name);
        q += sprintf(q, ",%d,", co->value_id);
        q = synth_csv_field(q, co->value_name);
        q += sprintf(q, ",%d,", co->master_id);
        q = synth_csv_field(q, co->master_name);
        q += sprintf(q, ",%d,", c->dept_no[c->dept[a]]);
        q = synth_csv_field(q, c->dept_name[c->dept[a]]);
        const struct synth_tx_index *ix = &t->index[c->index[a]];
        *q++ = ',';
        q = synth_csv_field(q, ix->code);
        *q++ = ',';
        q = synth_csv_field(q, ix->name);
        q += sprintf(q, ",%d,", t->ig[ix->ig].no);
        q = synth_csv_field(q, t->ig[ix->ig].name);
        q += sprintf(q, ",%d,", t->sections[c->section[a]].no);
        q = synth_csv_field(q, t->sections[c->section[a]].name);
        snprintf(num, sizeof num, ",%d,", t->gg[c->gg[a]].no);
        q += sprintf(q, "%s", num);
        q = synth_csv_field(q, t->gg[c->gg[a]].name);
        *q++ = ',';
        q = synth_csv_field(q, desc);
        *q++ = '\n';
        hm_awriter_write(&w, buf, (size_t)(q - buf));
    }
    free(buf);
    return hm_awriter_commit(&w);
}

/* ---- customers.csv ---------------------------------------------------------------------- */

int synth_write_customers(const struct synth_customers *cu, const struct synth_params *p,
                          const char *dir)
{
    char *path = hm_path_join(dir, "customers.csv");
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    free(path);
    if (rc)
        return rc;
    static const char header[] = "customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code\n";
    static const char *const club[] = {"ACTIVE", "PRE-CREATE", "LEFT CLUB", ""};
    static const char *const news[] = {"NONE", "Regularly", "Monthly", "None", ""};
    hm_awriter_write(&w, header, sizeof header - 1);
    char line[256], id[65], postal[65], age[16];
    for (size_t i = 0; i < cu->n; i++) {
        synth_customer_hex(cu, i, id);
        synth_postal_hex((uint64_t)p->seed, cu->postal[i], postal);
        if (cu->age[i] < 0)
            age[0] = 0;
        else
            snprintf(age, sizeof age, "%d.0", (int)cu->age[i]);
        int n = snprintf(line, sizeof line, "%s,%s,%s,%s,%s,%s,%s\n", id, cu->fn[i] ? "1.0" : "",
                         cu->active[i] ? "1.0" : "", club[cu->club[i]], news[cu->news[i]], age, postal);
        hm_awriter_write(&w, line, (size_t)n);
    }
    return hm_awriter_commit(&w);
}

/* ---- transactions_train.csv -------------------------------------------------------------- */

struct tx_ctx {
    const struct synth_rec *recs;
    size_t n, chunk_rows, first_chunk;
    const char *cust_hex;     /* (n_customers, 64) */
    const char *art_id;       /* (n_articles, 10) */
    char (*dates)[11];        /* per day since day0 */
    char (*prices)[24];       /* per öre value */
    uint8_t *price_len;
    char **bufs;              /* (batch) formatted chunks */
    size_t *lens;
};

static int format_chunk(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct tx_ctx *x = ud;
    for (size_t k = begin; k < end; k++) {
        size_t lo = (x->first_chunk + k) * x->chunk_rows, hi = lo + x->chunk_rows;
        if (hi > x->n)
            hi = x->n;
        char *q = x->bufs[k];
        for (size_t i = lo; i < hi; i++) {
            const struct synth_rec *r = &x->recs[i];
            memcpy(q, x->dates[r->day], 10);
            q[10] = ',';
            memcpy(q + 11, x->cust_hex + (size_t)r->customer * 64, 64);
            q[75] = ',';
            memcpy(q + 76, x->art_id + (size_t)r->article * 10, 10);
            q[86] = ',';
            q += 87;
            memcpy(q, x->prices[r->price_ore], x->price_len[r->price_ore]);
            q += x->price_len[r->price_ore];
            *q++ = ',';
            *q++ = (char)('0' + r->channel);
            *q++ = '\n';
        }
        x->lens[k] = (size_t)(q - x->bufs[k]);
    }
    return 0;
}

static int fill_hex(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    void **a = ud;
    const struct synth_customers *cu = a[0];
    char *hex = a[1], tmp[65];
    for (size_t i = begin; i < end; i++) {
        synth_customer_hex(cu, i, tmp);
        memcpy(hex + i * 64, tmp, 64);
    }
    return 0;
}

int synth_write_transactions(const struct synth_rec *recs, size_t n, const struct synth_customers *cu,
                             const struct synth_catalogue *c, int32_t day0, double price_scale,
                             const char *dir)
{
    char *path = hm_path_join(dir, "transactions_train.csv");
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    free(path);
    if (rc)
        return rc;
    static const char header[] = "t_dat,customer_id,article_id,price,sales_channel_id\n";
    hm_awriter_write(&w, header, sizeof header - 1);
    struct tx_ctx x;
    memset(&x, 0, sizeof x);
    x.recs = recs;
    x.n = n;
    x.chunk_rows = 1 << 18;
    char *hex = hm_xmalloc_array(cu->n ? cu->n : 1, 64);
    void *args[2] = {(void *)cu, hex};
    hm_parallel_for(0, cu->n, fill_hex, args);
    x.cust_hex = hex;
    char *ids = hm_xmalloc_array(c->n, 11);
    char *idc = hm_xmalloc_array(c->n, 10);
    for (size_t a = 0; a < c->n; a++) {
        synth_article_id(c, a, ids + a * 11);
        memcpy(idc + a * 10, ids + a * 11, 10);
    }
    free(ids);
    x.art_id = idc;
    int n_days = 65536;
    uint16_t max_day = 0;
    for (size_t i = 0; i < n; i++)
        if (recs[i].day > max_day)
            max_day = recs[i].day;
    n_days = max_day + 1;
    x.dates = hm_xmalloc_array((size_t)n_days, sizeof *x.dates);
    for (int d = 0; d < n_days; d++)
        hm_date_format(day0 + d, x.dates[d]);
    x.prices = hm_xmalloc_array(65536, sizeof *x.prices);
    x.price_len = hm_xmalloc(65536);
    for (uint32_t v = 0; v < 65536; v++)
        x.price_len[v] = (uint8_t)synth_price_text(v, price_scale, x.prices[v]);
    int nt = hm_threads();
    size_t batch = (size_t)nt * 2;
    size_t n_chunks = (n + x.chunk_rows - 1) / x.chunk_rows;
    x.bufs = hm_xmalloc_array(batch, sizeof(char *));
    x.lens = hm_xmalloc_array(batch, sizeof(size_t));
    for (size_t k = 0; k < batch; k++)
        x.bufs[k] = hm_xmalloc(x.chunk_rows * 128);
    struct hm_progress prog;
    hm_progress_begin(&prog, "write transactions", n);
    for (size_t first = 0; first < n_chunks; first += batch) {
        size_t m = n_chunks - first < batch ? n_chunks - first : batch;
        x.first_chunk = first;
        hm_parallel_chunks(nt, m, 1, format_chunk, &x);
        for (size_t k = 0; k < m; k++)
            hm_awriter_write(&w, x.bufs[k], x.lens[k]);
        hm_progress_add(&prog, m * x.chunk_rows > n - first * x.chunk_rows ? n - first * x.chunk_rows
                                                                           : m * x.chunk_rows);
    }
    hm_progress_end(&prog);
    for (size_t k = 0; k < batch; k++)
        free(x.bufs[k]);
    free(x.bufs);
    free(x.lens);
    free(x.prices);
    free(x.price_len);
    free(x.dates);
    free(idc);
    free(hex);
    return hm_awriter_commit(&w);
}

/* ---- image embeddings ------------------------------------------------------------------------ */

struct emb_ctx {
    const struct synth_catalogue *c;
    const float *W;           /* (SYNTH_EMB, SYNTH_ZDIM) */
    float *out;               /* (rows of this block, SYNTH_EMB) */
    size_t first;
    uint64_t seed;
    double attr_noise;        /* norm of the noise on the attributes (synth.image_noise) */
};

static int emb_rows(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct emb_ctx *x = ud;
    for (size_t i = begin; i < end; i++) {
        size_t a = x->first + i;
        const float *z = x->c->z + a * SYNTH_ZDIM;
        float zn[SYNTH_ZDIM];
        if (x->attr_noise > 0) { /* the image sees the attributes through noise of its own */
            struct hm_rng rz;
            hm_rng_seed2(&rz, x->seed ^ 0x1A6E01ULL, a);
            for (int j = 0; j < SYNTH_ZDIM; j++)
                zn[j] = (float)(z[j] + x->attr_noise * hm_rng_normal(&rz) / sqrt(SYNTH_ZDIM));
            z = zn;
        }
        float *o = x->out + i * SYNTH_EMB;
        struct hm_rng r;
        hm_rng_seed2(&r, x->seed ^ 0xE3BULL, a);
        double ss = 0;
        for (int k = 0; k < SYNTH_EMB; k++) {
            double v = 0;
            const float *wr = x->W + (size_t)k * SYNTH_ZDIM;
            for (int j = 0; j < SYNTH_ZDIM; j++)
                v += wr[j] * z[j];
            v += 0.35 * hm_rng_normal(&r) / sqrt(SYNTH_EMB);
            o[k] = (float)v;
            ss += v * v;
        }
        float inv = (float)(ss > 0 ? 1 / sqrt(ss) : 0);
        for (int k = 0; k < SYNTH_EMB; k++)
            o[k] *= inv;
    }
    return 0;
}

int synth_write_embeddings(const struct synth_catalogue *c, uint64_t seed, double attr_noise, const char *dir)
{
    float *W = hm_xmalloc_array((size_t)SYNTH_EMB * SYNTH_ZDIM, sizeof(float));
    struct hm_rng r;
    hm_rng_seed2(&r, seed, 0xE3B0ULL);
    for (size_t i = 0; i < (size_t)SYNTH_EMB * SYNTH_ZDIM; i++)
        W[i] = (float)(hm_rng_normal(&r) / sqrt(SYNTH_EMB));
    char *path = hm_path_join(dir, "image_embeddings.npy");
    struct io_npy_writer nw;
    int rc = io_npy_writer_open(&nw, path, c->n, SYNTH_EMB);
    free(path);
    if (rc) {
        free(W);
        return rc;
    }
    size_t block = 8192;
    struct emb_ctx x = {c, W, hm_xmalloc_array(block * SYNTH_EMB, sizeof(float)), 0, seed, attr_noise};
    for (size_t first = 0; first < c->n && rc == 0; first += block) {
        size_t m = c->n - first < block ? c->n - first : block;
        x.first = first;
        hm_parallel_for(0, m, emb_rows, &x);
        rc = io_npy_writer_append(&nw, x.out, m);
    }
    free(x.out);
    free(W);
    if (rc) {
        io_npy_writer_abort(&nw);
        return rc;
    }
    if ((rc = io_npy_writer_commit(&nw)))
        return rc;
    /* the row order: one article id per line */
    path = hm_path_join(dir, "image_embeddings_ids.txt");
    struct hm_awriter w;
    rc = hm_awriter_open(&w, path);
    free(path);
    if (rc)
        return rc;
    char id[16];
    for (size_t a = 0; a < c->n; a++) {
        synth_article_id(c, a, id);
        id[10] = '\n';
        hm_awriter_write(&w, id, 11);
    }
    return hm_awriter_commit(&w);
}
