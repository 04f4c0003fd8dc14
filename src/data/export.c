/* Export: a store back to Kaggle-format CSV files (canonical spelling). */
#include "data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- a buffered atomic writer --------------------------------------------------------- */

struct out {
    struct hm_awriter w;
    char *buf;
    size_t n, cap;
};

static int out_open(struct out *o, const char *dir, const char *name)
{
    char *p = hm_path_join(dir, name);
    int rc = hm_awriter_open(&o->w, p);
    free(p);
    if (rc)
        return rc;
    o->cap = 1 << 20;
    o->buf = hm_xmalloc(o->cap);
    o->n = 0;
    return rc;
}

static void out_flush(struct out *o)
{
    hm_awriter_write(&o->w, o->buf, o->n);
    o->n = 0;
}

static inline void out_mem(struct out *o, const char *s, size_t len)
{
    if (o->n + len > o->cap) {
        out_flush(o);
        if (len > o->cap) {
            hm_awriter_write(&o->w, s, len);
            return;
        }
    }
    memcpy(o->buf + o->n, s, len);
    o->n += len;
}

static inline void out_str(struct out *o, const char *s) { out_mem(o, s, strlen(s)); }
static inline void out_ch(struct out *o, char c) { out_mem(o, &c, 1); }

/* A CSV field, quoted when it holds a comma, quote, line break or outer spaces. */
static void out_field(struct out *o, const char *s, size_t len)
{
    int q = len && (s[0] == ' ' || s[len - 1] == ' ');
    for (size_t i = 0; i < len && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!q) {
        out_mem(o, s, len);
        return;
    }
    out_ch(o, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            out_ch(o, '"');
        out_ch(o, s[i]);
    }
    out_ch(o, '"');
}

static void out_dict(struct out *o, const struct data_dict *d, uint32_t code)
{
    uint32_t len;
    const char *s = data_dict_get(d, code, &len);
    out_field(o, s, len);
}

static int out_close(struct out *o)
{
    out_flush(o);
    free(o->buf);
    return hm_awriter_commit(&o->w);
}

static void out_int(struct out *o, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%lld", (long long)v);
    out_mem(o, b, (size_t)n);
}

/* floats: "%.1f" when integral (as pandas writes 49.0), else the shortest exact text */
static void out_float(struct out *o, float f)
{
    char b[32];
    int n;
    if (f == floorf(f) && fabsf(f) < 1e7f)
        n = snprintf(b, sizeof b, "%.1f", (double)f);
    else
        n = io_format_f32(f, b);
    out_mem(o, b, (size_t)n);
}

/* ---- tables ---------------------------------------------------------------------------------- */

static int export_articles(const struct data_set *ds, const char *dir)
{
    struct out o;
    int rc = out_open(&o, dir, "articles.csv");
    if (rc)
        return rc;
    const struct data_articles *a = &ds->articles;
    for (int k = 0; k < IO_ART_NCOLS; k++) {
        if (k)
            out_ch(&o, ',');
        out_str(&o, io_art_col_name[k]);
    }
    out_ch(&o, '\n');
    for (uint32_t i = 0; i < a->n; i++) {
        char id[11];
        data_article_str(ds, i, id);
        out_mem(&o, id, 10);
        for (int k = 1; k < IO_ART_NCOLS; k++) {
            out_ch(&o, ',');
            if (a->num[k]) {
                if (a->num[k][i] != IO_MISSING_I32)
                    out_int(&o, a->num[k][i]);
            } else {
                out_dict(&o, &a->dict[k], a->code[k][i]);
            }
        }
        out_ch(&o, '\n');
    }
    return out_close(&o);
}

static void out_flag(struct out *o, uint8_t v)
{
    if (v != IO_MISSING_U8)
        out_str(o, v ? "1.0" : "0.0");
}

static int export_customers(const struct data_set *ds, const char *dir)
{
    struct out o;
    int rc = out_open(&o, dir, "customers.csv");
    if (rc)
        return rc;
    const struct data_customers *c = &ds->customers;
    for (int k = 0; k < IO_CUST_NCOLS; k++) {
        if (k)
            out_ch(&o, ',');
        out_str(&o, io_cust_col_name[k]);
    }
    out_ch(&o, '\n');
    for (uint32_t i = 0; i < c->n; i++) {
        char hex[65];
        data_customer_hex(ds, i, hex);
        out_mem(&o, hex, 64);
        out_ch(&o, ',');
        out_flag(&o, c->fn[i]);
        out_ch(&o, ',');
        out_flag(&o, c->active[i]);
        out_ch(&o, ',');
        out_dict(&o, &c->club_dict, c->club[i]);
        out_ch(&o, ',');
        out_dict(&o, &c->news_dict, c->news[i]);
        out_ch(&o, ',');
        if (!isnan(c->age[i]))
            out_float(&o, c->age[i]);
        out_ch(&o, ',');
        out_dict(&o, &c->postal_dict, c->postal[i]);
        out_ch(&o, '\n');
    }
    return out_close(&o);
}

static int export_transactions(const struct data_set *ds, const char *dir)
{
    const struct data_transactions *x = &ds->tx;
    /* order by day (stable: customer, then store order within a day) */
    uint32_t span = (uint32_t)x->day_max - x->day_min + 1;
    uint64_t *start = hm_xcalloc((size_t)span + 1, sizeof *start);
    for (uint64_t i = 0; i < x->n; i++)
        start[x->day[i] - x->day_min + 1]++;
    for (uint32_t d = 0; d < span; d++)
        start[d + 1] += start[d];
    uint32_t *order = hm_xmalloc_array(x->n ? x->n : 1, sizeof *order);
    for (uint64_t i = 0; i < x->n; i++)
        order[start[x->day[i] - x->day_min]++] = (uint32_t)i;
    free(start);

    struct out o;
    int rc = out_open(&o, dir, "transactions_train.csv");
    if (rc) {
        free(order);
        return rc;
    }
    out_str(&o, "t_dat,customer_id,article_id,price,sales_channel_id\n");
    /* prices repeat: a small cache of their text */
    enum { PC = 1 << 16 };
    uint32_t *pc_key = hm_xmalloc(PC * sizeof *pc_key);
    char(*pc_txt)[24] = hm_xmalloc(PC * sizeof *pc_txt);
    uint8_t *pc_len = hm_xcalloc(PC, 1);
    int32_t last_day = -1;
    char date[11] = {0};
    for (uint64_t k = 0; k < x->n; k++) {
        uint32_t i = order[k];
        if (x->day[i] != last_day) {
            last_day = x->day[i];
            hm_date_format(last_day, date);
        }
        char line[160];
        size_t n = 0;
        memcpy(line, date, 10);
        n = 10;
        line[n++] = ',';
        data_customer_hex(ds, x->customer[i], line + n);
        n += 64;
        line[n++] = ',';
        data_article_str(ds, x->article[i], line + n);
        n += 10;
        line[n++] = ',';
        uint32_t bits;
        memcpy(&bits, &x->price[i], 4);
        uint32_t h = (uint32_t)(hm_mix64(bits) & (PC - 1));
        if (!pc_len[h] || pc_key[h] != bits) {
            pc_key[h] = bits;
            pc_len[h] = (uint8_t)io_format_f32(x->price[i], pc_txt[h]);
        }
        memcpy(line + n, pc_txt[h], pc_len[h]);
        n += pc_len[h];
        line[n++] = ',';
        line[n++] = (char)('0' + x->channel[i]);
        line[n++] = '\n';
        out_mem(&o, line, n);
    }
    free(pc_key);
    free(pc_txt);
    free(pc_len);
    free(order);
    return out_close(&o);
}

int data_set_export(const struct data_set *ds, const char *out_dir)
{
    if (ds->n_shards > 1)
        return hm_error(HM_EINVAL, "'%s' is shard %u of %u, which holds only its customers' transactions: "
                        "export a whole store (ingested by one process)", ds->dir, ds->shard, ds->n_shards);
    int rc = hm_mkdirs(out_dir);
    if (!rc)
        rc = export_articles(ds, out_dir);
    if (!rc)
        rc = export_customers(ds, out_dir);
    if (!rc)
        rc = export_transactions(ds, out_dir);
    return rc;
}
