/* The endpoints: routing, checks of every input, the JSON answers (docs/serve.md). */
#include "serve/serve_internal.h"
#include "io/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(7))

/* ---- replies ------------------------------------------------------------------------------ */

static void reply_json(struct serve_reply *r, int status, json_t *o)
{
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "application/json");
    char *text = json_dumps(o, JSON_FLAGS);
    json_decref(o);
    if (!text) { /* only when out of memory */
        text = hm_xstrdup("{\"error\":{\"status\":500,\"message\":\"cannot encode the answer\"}}");
        r->status = 500;
    }
    r->len = strlen(text);
    r->body = hm_xmalloc(r->len + 2);
    memcpy(r->body, text, r->len);
    r->body[r->len++] = '\n';
    r->body[r->len] = '\0';
    free(text);
}

void serve_error(struct serve_reply *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *e = json_object();
    json_object_set_new(e, "status", json_integer(status));
    json_object_set_new(e, "message", json_stringn_nocheck(msg, strlen(msg)));
    json_t *o = json_object();
    json_object_set_new(o, "error", e);
    /* a message quotes at most a few bytes of the input: keep the JSON valid whatever they are */
    if (!json_is_string(json_object_get(e, "message")) || !json_string_value(json_object_get(e, "message")))
        json_object_set_new(e, "message", json_string("bad request"));
    reply_json(r, status, o);
}

/* A JSON string of bytes that may not be UTF-8 (the data's texts): invalid bytes become '?'. */
static json_t *jstr(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    char *c = hm_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        c[i] = (unsigned char)s[i] < 0x80 && s[i] ? s[i] : '?';
    j = json_stringn(c, n);
    free(c);
    return j ? j : json_string("");
}

/* Quotes at most 40 bytes of untrusted input, printable ASCII only, for a message. */
static const char *quote(const char *s, size_t n, char out[48])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 40; i++)
        out[k++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' ? s[i] : '?';
    if (n > 40) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

/* ---- articles and customers as JSON -------------------------------------------------------- */

static json_t *dict_str(const struct data_articles *a, int col, uint32_t row)
{
    uint32_t len;
    const char *s = data_dict_get(&a->dict[col], a->code[col][row], &len);
    return jstr(s, len);
}

static json_t *article_json(const struct serve *s, uint32_t a, int full)
{
    const struct data_articles *art = &s->m.ds->articles;
    char id[11];
    data_article_str(s->m.ds, a, id);
    json_t *o = json_object();
    json_object_set_new(o, "article_id", json_string(id));
    json_object_set_new(o, "name", dict_str(art, IO_ART_PROD_NAME, a));
    json_object_set_new(o, "product_type", dict_str(art, IO_ART_PRODUCT_TYPE_NAME, a));
    json_object_set_new(o, "colour", dict_str(art, IO_ART_COLOUR_GROUP_NAME, a));
    json_object_set_new(o, "colour_master", dict_str(art, IO_ART_PERCEIVED_COLOUR_MASTER_NAME, a));
    json_object_set_new(o, "colour_value", dict_str(art, IO_ART_PERCEIVED_COLOUR_VALUE_NAME, a));
    json_object_set_new(o, "index_group", dict_str(art, IO_ART_INDEX_GROUP_NAME, a));
    if (s->o.images) {
        char url[64];
        snprintf(url, sizeof url, "/v1/articles/%s/image", id);
        json_object_set_new(o, "image", json_string(url));
    } else {
        json_object_set_new(o, "image", json_null());
    }
    if (full) {
        static const int cols[] = {IO_ART_PRODUCT_GROUP_NAME, IO_ART_GRAPHICAL_APPEARANCE_NAME,
                                   IO_ART_DEPARTMENT_NAME, IO_ART_INDEX_NAME, IO_ART_SECTION_NAME,
                                   IO_ART_GARMENT_GROUP_NAME, IO_ART_DETAIL_DESC};
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
            json_object_set_new(o, io_art_col_name[cols[k]], dict_str(art, cols[k], a));
        int32_t pc = art->num[IO_ART_PRODUCT_CODE][a];
        char code[16];
        snprintf(code, sizeof code, "%07d", pc);
        json_object_set_new(o, "product_code", pc == IO_MISSING_I32 ? json_null() : json_string(code));
        /* what the last week before the cutoff sold */
        const struct data_transactions *tx = &s->m.ds->tx;
        uint64_t week = 0, all = tx->art_off[a + 1] - tx->art_off[a];
        for (uint64_t k = tx->art_off[a]; k < tx->art_off[a + 1]; k++)
            week += tx->day[tx->art_rows[k]] >= s->m.cutoff - 7;
        json_object_set_new(o, "sold_last_week", json_integer((json_int_t)week));
        json_object_set_new(o, "sold", json_integer((json_int_t)all));
        json_object_set_new(o, "placeholder", json_boolean(a >= art->n - art->n_placeholder));
    }
    return o;
}

static json_t *dict_or_null(const struct data_dict *d, uint32_t code)
{
    uint32_t len;
    const char *s = data_dict_get(d, code, &len);
    return len ? jstr(s, len) : json_null();
}

static json_t *flag_or_null(uint8_t v) { return v == IO_MISSING_U8 ? json_null() : json_boolean(v); }

static json_t *day_json(int32_t day)
{
    char d[11];
    hm_date_format(day, d);
    return json_string(d);
}

/* A purchase shown in a profile. */
struct recent {
    uint16_t day;
    uint8_t posted, channel;
    uint64_t order;   /* the store's row, or the log's position */
    uint32_t article;
    float price;
};

/* Newest first: by day, then a posted row after the store's rows of its day, then later first. */
static int cmp_recent(const void *a, const void *b)
{
    const struct recent *x = a, *y = b;
    if (x->day != y->day)
        return x->day > y->day ? -1 : 1;
    if (x->posted != y->posted)
        return x->posted ? -1 : 1;
    return x->order > y->order ? -1 : x->order < y->order;
}

#define RECENT_SHOWN 20

/* Profile and recent purchases (the store's and the posted ones, newest first). */
static void customer_reply(struct serve *s, uint32_t c, struct serve_reply *r)
{
    const struct data_set *ds = s->m.ds;
    const struct data_customers *cu = &ds->customers;
    char hex[65];
    data_customer_hex(ds, c, hex);
    json_t *o = json_object();
    json_object_set_new(o, "customer_id", json_string(hex));
    json_object_set_new(o, "age", isfinite(cu->age[c]) ? json_real(cu->age[c]) : json_null());
    json_object_set_new(o, "club_member_status", dict_or_null(&cu->club_dict, cu->club[c]));
    json_object_set_new(o, "fashion_news_frequency", dict_or_null(&cu->news_dict, cu->news[c]));
    json_object_set_new(o, "fn", flag_or_null(cu->fn[c]));
    json_object_set_new(o, "active", flag_or_null(cu->active[c]));
    json_object_set_new(o, "postal_code", dict_or_null(&cu->postal_dict, cu->postal[c]));
    struct serve_prow *posted;
    uint32_t np = serve_posted_of(&s->posted, c, &posted);
    uint64_t lo = ds->tx.cust_off[c], hi = ds->tx.cust_off[c + 1];
    uint64_t from = hi - lo > RECENT_SHOWN ? hi - RECENT_SHOWN : lo;
    struct recent *rows = hm_xmalloc_array((size_t)(hi - from) + np + 1, sizeof *rows);
    size_t n = 0;
    for (uint64_t x = from; x < hi; x++)
        rows[n++] = (struct recent){ds->tx.day[x], 0, ds->tx.channel[x], x, ds->tx.article[x], ds->tx.price[x]};
    for (uint32_t k = 0; k < np; k++)
        rows[n++] = (struct recent){posted[k].day, 1, posted[k].channel, posted[k].seq, posted[k].article,
                                    posted[k].price};
    qsort(rows, n, sizeof *rows, cmp_recent);
    json_object_set_new(o, "purchases", json_integer((json_int_t)(hi - lo + np)));
    json_object_set_new(o, "posted", json_integer(np));
    int32_t first = hi > lo ? ds->tx.day[lo] : -1;
    for (uint32_t k = 0; k < np; k++)
        if (first < 0 || posted[k].day < first)
            first = posted[k].day;
    json_object_set_new(o, "first_day", first >= 0 ? day_json(first) : json_null());
    json_object_set_new(o, "last_day", n ? day_json(rows[0].day) : json_null());
    json_t *recent = json_array();
    for (size_t k = 0; k < n && k < RECENT_SHOWN; k++) {
        json_t *e = article_json(s, rows[k].article, 0);
        json_object_set_new(e, "day", day_json(rows[k].day));
        json_object_set_new(e, "price", json_real(rows[k].price));
        json_object_set_new(e, "channel", json_integer(rows[k].channel));
        json_object_set_new(e, "posted", json_boolean(rows[k].posted));
        json_array_append_new(recent, e);
    }
    json_object_set_new(o, "recent", recent);
    free(rows);
    free(posted);
    reply_json(r, 200, o);
}

/* ---- inputs -------------------------------------------------------------------------------- */

/* Customer row of a path segment: 0, or an error reply. */
static int customer_of(struct serve *s, const char *id, size_t n, uint32_t *c, struct serve_reply *r)
{
    char q[48];
    uint8_t bin[32];
    if (io_parse_hex256(id, n, bin)) {
        serve_error(r, 400, "customer id: expected 64 hexadecimal digits, found \"%s\"", quote(id, n, q));
        return -1;
    }
    if ((*c = data_id_index_customer(&s->m.ids, id, n)) == UINT32_MAX) {
        serve_error(r, 404, "customer id: no customer %s in the data", quote(id, n, q));
        return -1;
    }
    return 0;
}

/* Article row of a path segment (1 to 10 digits): 0, or an error reply. */
static int article_of(struct serve *s, const char *id, size_t n, uint32_t *a, struct serve_reply *r)
{
    char q[48];
    uint32_t v;
    int digits = n >= 1 && n <= 10;
    for (size_t i = 0; i < n && digits; i++)
        digits = id[i] >= '0' && id[i] <= '9';
    if (!digits || io_parse_u32(id, n, &v)) {
        serve_error(r, 400, "article id: expected up to 10 digits, found \"%s\"", quote(id, n, q));
        return -1;
    }
    if ((*a = data_id_index_article(&s->m.ids, v)) == UINT32_MAX) {
        serve_error(r, 404, "article id: no article %010u in the data", v);
        return -1;
    }
    return 0;
}

/* The query's k (1..max, default 12); the only parameter accepted. 0, or an error reply. */
static int query_k(const char *query, uint32_t max, uint32_t *k, struct serve_reply *r)
{
    *k = 12 < max ? 12 : max;
    if (!query || !*query)
        return 0;
    char q[48];
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p), *eq = memchr(p, '=', (size_t)(end - p));
        size_t kl = (size_t)((eq ? eq : end) - p);
        if (kl == 1 && p[0] == 'k' && eq) {
            const char *v = eq + 1;
            size_t vl = (size_t)(end - v);
            int32_t x;
            int digits = vl >= 1 && vl <= 4;
            for (size_t i = 0; i < vl && digits; i++)
                digits = v[i] >= '0' && v[i] <= '9';
            if (!digits || io_parse_i32(v, vl, &x) || x < 1 || (uint32_t)x > max) {
                serve_error(r, 400, "k: expected an integer from 1 to %u, found \"%s\"", max, quote(v, vl, q));
                return -1;
            }
            *k = (uint32_t)x;
        } else if (kl) {
            serve_error(r, 400, "query: unknown parameter \"%s\" (only k is accepted)", quote(p, kl, q));
            return -1;
        }
        p = amp ? amp + 1 : end;
    }
    return 0;
}

/* 1 when the query is empty; else an error reply. */
static int no_query(const char *query, struct serve_reply *r)
{
    char q[48];
    if (query && *query) {
        serve_error(r, 400, "query: this endpoint takes no parameters, found \"%s\"", quote(query, strlen(query), q));
        return 0;
    }
    return 1;
}

/* The bearer token, compared in time that depends on the expected token's length only. */
static int token_ok(const char *want, const char *auth)
{
    static const char bearer[] = "Bearer ";
    if (!auth || strncmp(auth, bearer, sizeof bearer - 1))
        return 0;
    const char *got = auth + sizeof bearer - 1;
    size_t wl = strlen(want), gl = strlen(got);
    unsigned char d = wl != gl;
    for (size_t i = 0; i < wl; i++)
        d |= (unsigned char)want[i] ^ (unsigned char)(i < gl ? got[i] : 0);
    return d == 0;
}

/* ---- purchases ----------------------------------------------------------------------------------- */

/* The post's purchases, each checked; 0, or an error reply naming the field. */
static int parse_purchases(struct serve *s, const char *body, size_t len, struct serve_purchase **out, uint32_t *n,
                           struct serve_reply *r)
{
    json_error_t err;
    *out = NULL;
    *n = 0;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        char q[48];
        serve_error(r, 400, "body: malformed JSON at line %d, column %d: %s", err.line, err.column,
                    quote(err.text, strlen(err.text), q));
        return -1;
    }
    int rc = -1;
    const char *key;
    json_t *v, *list = NULL;
    if (!json_is_object(root)) {
        serve_error(r, 400, "body: expected an object {\"purchases\": [...]}");
        goto done;
    }
    json_object_foreach(root, key, v) {
        char q[48];
        if (strcmp(key, "purchases")) {
            serve_error(r, 400, "body: unknown field \"%s\" (expected only \"purchases\")", quote(key, strlen(key), q));
            goto done;
        }
        list = v;
    }
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > s->o.max_purchases) {
        serve_error(r, list && json_is_array(list) && json_array_size(list) ? 413 : 400,
                    "purchases: expected an array of 1 to %u purchases", s->o.max_purchases);
        goto done;
    }
    uint32_t m = (uint32_t)json_array_size(list);
    struct serve_purchase *p = hm_xcalloc(m, sizeof *p);
    *out = p;
    for (uint32_t i = 0; i < m; i++) {
        json_t *e = json_array_get(list, i);
        char q[48], why[200];
        if (!json_is_object(e)) {
            serve_error(r, 400, "purchases[%u]: expected an object", i);
            goto done;
        }
        unsigned seen = 0;
        json_object_foreach(e, key, v) {
            static const char *const fields[5] = {"customer", "article", "day", "price", "channel"};
            int f = 0;
            while (f < 5 && strcmp(key, fields[f]))
                f++;
            if (f == 5) {
                serve_error(r, 400, "purchases[%u]: unknown field \"%s\" (expected customer, article, day, price, channel)",
                            i, quote(key, strlen(key), q));
                goto done;
            }
            seen |= 1u << f;
        }
        if (seen != 31) {
            static const char *const fields[5] = {"customer", "article", "day", "price", "channel"};
            int f = 0;
            while (seen & (1u << f))
                f++;
            serve_error(r, 400, "purchases[%u].%s: missing", i, fields[f]);
            goto done;
        }
        json_t *cu = json_object_get(e, "customer"), *ar = json_object_get(e, "article"),
               *dy = json_object_get(e, "day"), *pr = json_object_get(e, "price"), *ch = json_object_get(e, "channel");
        if (!json_is_string(cu)) {
            serve_error(r, 400, "purchases[%u].customer: expected a string of 64 hexadecimal digits", i);
            goto done;
        }
        const char *cs = json_string_value(cu);
        size_t cl = json_string_length(cu);
        uint8_t bin[32];
        if (io_parse_hex256(cs, cl, bin)) {
            serve_error(r, 400, "purchases[%u].customer: expected 64 hexadecimal digits, found \"%s\"", i, quote(cs, cl, q));
            goto done;
        }
        if ((p[i].customer = data_id_index_customer(&s->m.ids, cs, cl)) == UINT32_MAX) {
            serve_error(r, 422, "purchases[%u].customer: no customer %s in the data", i, quote(cs, cl, q));
            goto done;
        }
        if (serve_posted_count(&s->posted, p[i].customer) + m > SERVE_MAX_PER_CUSTOMER) {
            serve_error(r, 422, "purchases[%u].customer: %s has %u purchases posted since the last fold (at most %d: run "
                        "hmrec run to fold them into the data)",
                        i, quote(cs, cl, q), serve_posted_count(&s->posted, p[i].customer), SERVE_MAX_PER_CUSTOMER);
            goto done;
        }
        uint32_t aid;
        if (json_is_integer(ar) && json_integer_value(ar) >= 0 && json_integer_value(ar) <= 9999999999LL &&
            json_integer_value(ar) <= UINT32_MAX) {
            aid = (uint32_t)json_integer_value(ar);
        } else {
            const char *as = json_is_string(ar) ? json_string_value(ar) : "";
            size_t al = json_is_string(ar) ? json_string_length(ar) : 0;
            int digits = al >= 1 && al <= 10;
            for (size_t k = 0; k < al && digits; k++)
                digits = as[k] >= '0' && as[k] <= '9';
            if (!digits || io_parse_u32(as, al, &aid)) {
                serve_error(r, 400, "purchases[%u].article: expected an article id (up to 10 digits)", i);
                goto done;
            }
        }
        if ((p[i].article = data_id_index_article(&s->m.ids, aid)) == UINT32_MAX) {
            serve_error(r, 422, "purchases[%u].article: no article %010u in the data", i, aid);
            goto done;
        }
        if (!json_is_string(dy) || json_string_length(dy) != 10 ||
            hm_date_parse(json_string_value(dy), 10, &p[i].day)) {
            serve_error(r, 400, "purchases[%u].day: expected a date \"YYYY-MM-DD\"", i);
            goto done;
        }
        if (!json_is_number(pr) || !isfinite(json_number_value(pr))) {
            serve_error(r, 400, "purchases[%u].price: expected a number", i);
            goto done;
        }
        double pv = json_number_value(pr);
        p[i].price = fabs(pv) < 3e38 ? (float)pv : (float)(pv > 0 ? 3e38 : -3e38);
        if (!json_is_integer(ch) || (json_integer_value(ch) != 1 && json_integer_value(ch) != 2)) {
            serve_error(r, 400, "purchases[%u].channel: expected 1 (store) or 2 (online)", i);
            goto done;
        }
        p[i].channel = (uint8_t)json_integer_value(ch);
        if (serve_purchase_check(&s->m, &p[i], why, sizeof why)) {
            serve_error(r, 422, "purchases[%u].%s", i, why);
            goto done;
        }
    }
    *n = m;
    rc = 0;
done:
    json_decref(root);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- small endpoints ----------------------------------------------------------------------------- */

static void health_reply(struct serve *s, struct serve_reply *r)
{
    json_t *o = json_object();
    int draining = atomic_load(&s->draining);
    json_object_set_new(o, "status", json_string(draining ? "draining" : "ok"));
    json_object_set_new(o, "model", json_string(s->m.model));
    json_object_set_new(o, "cutoff", day_json(s->m.cutoff));
    reply_json(r, draining ? 503 : 200, o);
}

static void info_reply(struct serve *s, struct serve_reply *r)
{
    const struct data_set *ds = s->m.ds;
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(s->m.model));
    json_object_set_new(o, "retrained", json_boolean(s->m.retrained));
    json_object_set_new(o, "fingerprint", json_string(s->m.fingerprint));
    json_object_set_new(o, "cutoff", day_json(s->m.cutoff));
    json_object_set_new(o, "first_day", day_json(ds->tx.day_min));
    json_object_set_new(o, "last_day", day_json(ds->tx.day_max));
    json_object_set_new(o, "customers", json_integer(ds->customers.n));
    json_object_set_new(o, "articles", json_integer(ds->articles.n));
    json_object_set_new(o, "transactions", json_integer((json_int_t)ds->tx.n));
    json_object_set_new(o, "max_price", json_real(SERVE_PRICE_FACTOR * s->m.max_price));
    json_object_set_new(o, "images", json_boolean(s->o.images != NULL));
    json_object_set_new(o, "posting", json_boolean(s->token != NULL));
    json_t *st = json_object();
    for (int k = 0; k < recall_n_strategies; k++)
        json_object_set_new(st, recall_strategies[k]->name, json_string(recall_strategies[k]->help));
    json_object_set_new(o, "strategies", st);
    reply_json(r, 200, o);
}

static uint32_t random_customer(struct serve *s)
{
    uint64_t x = atomic_fetch_add(&s->random_state, 0x9e3779b97f4a7c15ULL);
    return (uint32_t)(hm_mix64(x) % s->m.ds->customers.n);
}

/* Similar articles: the recall's neighbour tables and the nearest embeddings. */
static void similar_reply(struct serve *s, uint32_t a, uint32_t k, struct serve_reply *r)
{
    json_t *o = json_object(), *lists = json_array();
    json_object_set_new(o, "article", article_json(s, a, 0));
    for (int kind = 0; kind < SERVE_NSIMILAR; kind++) {
        uint32_t ids[SERVE_MAX_K];
        float sc[SERVE_MAX_K];
        uint32_t n = serve_model_similar(&s->m, kind, a, k, ids, sc);
        if (!n)
            continue;
        json_t *l = json_object(), *arr = json_array();
        json_object_set_new(l, "kind", json_string(serve_similar_name[kind]));
        json_object_set_new(l, "label", json_string(serve_similar_label[kind]));
        for (uint32_t i = 0; i < n; i++) {
            json_t *e = article_json(s, ids[i], 0);
            json_object_set_new(e, "score", isfinite(sc[i]) ? json_real(sc[i]) : json_null());
            json_array_append_new(arr, e);
        }
        json_object_set_new(l, "articles", arr);
        json_array_append_new(lists, l);
    }
    json_object_set_new(o, "similar", lists);
    reply_json(r, 200, o);
}

/* The article's JPEG: DIR/0XX/0XXXXXXXXX.jpg, the path made from the canonical id only. */
static void image_reply(struct serve *s, uint32_t a, struct serve_reply *r)
{
    if (!s->o.images) {
        serve_error(r, 404, "no article images: the server was started without --images");
        return;
    }
    char id[11];
    data_article_str(s->m.ds, a, id);
    char *path = hm_xasprintf("%s/%.3s/%s.jpg", s->o.images, id, id);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20)) {
        serve_error(r, 404, "article %s has no image", id);
        if (fd >= 0)
            close(fd);
        free(path);
        return;
    }
    free(path);
    r->status = 200;
    snprintf(r->content_type, sizeof r->content_type, "image/jpeg");
    r->fd = fd;
    r->fd_size = (uint64_t)st.st_size;
}

static void asset_reply(int i, struct serve_reply *r)
{
    r->status = 200;
    snprintf(r->content_type, sizeof r->content_type, "%s", serve_assets[i].type);
    r->len = serve_assets[i].len;
    r->body = hm_xmalloc(r->len + 1);
    memcpy(r->body, serve_assets[i].data, r->len);
    r->body[r->len] = '\0';
}

/* ---- routing ------------------------------------------------------------------------------- */

/* The path after prefix, up to the next '/', as (*id, *n); the rest in *rest. 1 when the path
 * starts with prefix and has a non-empty segment. */
static int segment(const char *path, const char *prefix, const char **id, size_t *n, const char **rest)
{
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl))
        return 0;
    *id = path + pl;
    const char *slash = strchr(*id, '/');
    *n = slash ? (size_t)(slash - *id) : strlen(*id);
    *rest = *id + *n;
    return *n > 0;
}

static int is_get(const char *m) { return !strcmp(m, "GET") || !strcmp(m, "HEAD"); }

struct serve_job *serve_route(struct serve *s, const struct serve_request *rq, int *route, struct serve_reply *r,
                              void (*done)(struct serve_job *), void *ud)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    const char *path = rq->url ? rq->url : "", *method = rq->method ? rq->method : "", *id, *rest;
    size_t n;
    *route = ROUTE_OTHER;
    if (atomic_load(&s->draining) && strcmp(path, "/healthz")) {
        serve_error(r, 503, "the server is shutting down");
        return NULL;
    }
    /* which endpoint, then which methods it takes */
    const char *allow = "GET, HEAD";
    int asset = -1;
    for (int i = 0; i < serve_n_assets; i++)
        if (!strcmp(path, serve_assets[i].path))
            asset = i;
    if (asset >= 0)
        *route = ROUTE_PAGE;
    else if (!strcmp(path, "/healthz"))
        *route = ROUTE_HEALTH;
    else if (!strcmp(path, "/metrics"))
        *route = ROUTE_METRICS;
    else if (!strcmp(path, "/v1/info"))
        *route = ROUTE_INFO;
    else if (!strcmp(path, "/v1/customers/random"))
        *route = ROUTE_RANDOM;
    else if (segment(path, "/v1/customers/", &id, &n, &rest))
        *route = !*rest ? ROUTE_CUSTOMER : !strcmp(rest, "/recommendations") ? ROUTE_RECOMMEND : ROUTE_OTHER;
    else if (segment(path, "/v1/articles/", &id, &n, &rest))
        *route = !*rest ? ROUTE_ARTICLE : !strcmp(rest, "/similar") ? ROUTE_SIMILAR
                                      : !strcmp(rest, "/image") ? ROUTE_IMAGE : ROUTE_OTHER;
    else if (!strcmp(path, "/v1/purchases")) {
        *route = ROUTE_PURCHASES;
        allow = "POST";
    }
    if (*route == ROUTE_OTHER) {
        char q[48];
        serve_error(r, 404, "no such endpoint: %s (see docs/serve.md)", quote(path, strlen(path), q));
        return NULL;
    }
    if (*route == ROUTE_PURCHASES ? strcmp(method, "POST") != 0 : !is_get(method)) {
        char q[48];
        serve_error(r, 405, "method %s: this endpoint takes %s", quote(method, strlen(method), q), allow);
        snprintf(r->allow, sizeof r->allow, "%s", allow);
        return NULL;
    }
    if (*route != ROUTE_PURCHASES && rq->body_len) {
        serve_error(r, 400, "body: a %s request takes none", method);
        return NULL;
    }
    uint32_t c, a, k;
    switch (*route) {
    case ROUTE_PAGE:
        if (no_query(rq->query, r))
            asset_reply(asset, r);
        return NULL;
    case ROUTE_HEALTH:
        if (no_query(rq->query, r))
            health_reply(s, r);
        return NULL;
    case ROUTE_METRICS:
        if (no_query(rq->query, r)) {
            r->status = 200;
            snprintf(r->content_type, sizeof r->content_type, "text/plain; version=0.0.4");
            r->body = serve_metrics_text(s);
            r->len = strlen(r->body);
        }
        return NULL;
    case ROUTE_INFO:
        if (no_query(rq->query, r))
            info_reply(s, r);
        return NULL;
    case ROUTE_RANDOM:
        if (no_query(rq->query, r))
            customer_reply(s, random_customer(s), r);
        return NULL;
    case ROUTE_CUSTOMER:
        if (no_query(rq->query, r) && !customer_of(s, id, n, &c, r))
            customer_reply(s, c, r);
        return NULL;
    case ROUTE_ARTICLE:
        if (no_query(rq->query, r) && !article_of(s, id, n, &a, r)) {
            json_t *o = article_json(s, a, 1);
            reply_json(r, 200, o);
        }
        return NULL;
    case ROUTE_SIMILAR:
        if (!query_k(rq->query, SERVE_MAX_K, &k, r) && !article_of(s, id, n, &a, r))
            similar_reply(s, a, k, r);
        return NULL;
    case ROUTE_IMAGE:
        if (no_query(rq->query, r) && !article_of(s, id, n, &a, r))
            image_reply(s, a, r);
        return NULL;
    case ROUTE_RECOMMEND: {
        if (query_k(rq->query, SERVE_RECS, &k, r) || customer_of(s, id, n, &c, r))
            return NULL;
        struct serve_job *j = hm_xcalloc(1, sizeof *j);
        j->customer = c;
        j->k = k;
        j->queue = &s->recs;
        j->done = done;
        j->ud = ud;
        return j;
    }
    case ROUTE_PURCHASES: {
        if (!no_query(rq->query, r))
            return NULL;
        if (!s->token) {
            serve_error(r, 403, "posting purchases is off: the server was started without --token-file");
            return NULL;
        }
        if (!token_ok(s->token, rq->authorization)) {
            serve_error(r, 401, "a post needs the header \"Authorization: Bearer <token>\" with the server's token");
            snprintf(r->www_authenticate, sizeof r->www_authenticate, "Bearer");
            return NULL;
        }
        struct serve_purchase *p;
        uint32_t np;
        if (parse_purchases(s, rq->body ? rq->body : "", rq->body_len, &p, &np, r))
            return NULL;
        struct serve_job *j = hm_xcalloc(1, sizeof *j);
        j->purchases = p;
        j->n_purchases = np;
        serve_log_format(s->m.ds, p, np, &j->lines);
        j->queue = &s->posts;
        j->done = done;
        j->ud = ud;
        return j;
    }
    default:
        break;
    }
    serve_error(r, 404, "no such endpoint");
    return NULL;
}

void serve_submit(struct serve *s, struct serve_job *j)
{
    if (serve_queue_push(j->queue, j, s->o.max_waiting)) {
        j->busy = 1;
        j->done(j);
    }
}

/* ---- answers of finished jobs ----------------------------------------------------------------- */

static void recommendations_reply(struct serve *s, const struct serve_job *j, struct serve_reply *r)
{
    char hex[65];
    data_customer_hex(s->m.ds, j->customer, hex);
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "customer_id", json_string(hex));
    json_object_set_new(o, "model", json_string(s->m.model));
    json_object_set_new(o, "cutoff", day_json(s->m.cutoff));
    json_object_set_new(o, "history", json_integer(j->history));
    for (uint32_t i = 0; i < j->n_rec; i++) {
        const struct serve_rec *x = &j->rec[i];
        json_t *e = article_json(s, x->article, 0);
        json_object_set_new(e, "rank", json_integer(i + 1));
        json_object_set_new(e, "score", isfinite(x->score) ? json_real(x->score) : json_null());
        json_t *why = json_array();
        for (int k = 0; k < recall_n_strategies; k++)
            if (x->flags & (1u << k))
                json_array_append_new(why, json_string(recall_strategies[k]->name));
        if (!x->flags)
            json_array_append_new(why, json_string("fill"));
        json_object_set_new(e, "why", why);
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "recommendations", arr);
    reply_json(r, 200, o);
}

void serve_finish(struct serve *s, struct serve_job *j, int route, struct serve_reply *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (j->busy) {
        serve_error(r, 503, "busy: %u requests of this kind are waiting; try again", s->o.max_waiting);
        r->retry_after = 1;
    } else if (j->rc) {
        serve_error(r, j->rc == HM_ENOMEM ? 507 : j->rc == HM_EIO ? 503 : 500, "%s", j->error);
    } else if (route == ROUTE_RECOMMEND) {
        recommendations_reply(s, j, r);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "accepted", json_integer(j->n_purchases));
        json_object_set_new(o, "log", json_string(SERVE_LOG_NAME));
        reply_json(r, 201, o);
    }
    free(j->purchases);
    free(j->lines.s);
    free(j);
}
