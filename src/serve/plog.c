/* The purchase log: <work>/purchases.csv in the transactions_train.csv format, appended and
 * fdatasync'ed before a post is answered, replayed on start after the bytes the store folded
 * in (docs/serve.md). */
#include "serve/serve_internal.h"
#include "io/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_HEADER PIPELINE_PURCHASE_LOG_HEADER

int serve_purchase_check(const struct serve_model *m, const struct serve_purchase *p, char *why, size_t n)
{
    const struct data_set *ds = m->ds;
    char a[11], b[11];
    if (p->day < (int32_t)ds->tx.day_min || p->day > m->cutoff - 1 + SERVE_MAX_DAYS_AHEAD) {
        hm_date_format(ds->tx.day_min, a);
        hm_date_format(m->cutoff - 1 + SERVE_MAX_DAYS_AHEAD, b);
        snprintf(why, n, "day: expected a date from %s (the data's first day) to %s (a year after its last)", a, b);
        return -1;
    }
    if (!(p->price > 0) || !(p->price <= SERVE_PRICE_FACTOR * m->max_price)) {
        snprintf(why, n, "price: expected a number above 0 and at most %g (%d times the data's highest price)",
                 (double)(SERVE_PRICE_FACTOR * m->max_price), SERVE_PRICE_FACTOR);
        return -1;
    }
    if (p->channel != 1 && p->channel != 2) {
        snprintf(why, n, "channel: expected 1 (store) or 2 (online)");
        return -1;
    }
    return 0;
}

void serve_log_format(const struct data_set *ds, const struct serve_purchase *p, uint32_t n, struct hm_buf *b)
{
    for (uint32_t i = 0; i < n; i++) {
        char day[11], cid[65], aid[11], price[32];
        hm_date_format(p[i].day, day);
        data_customer_hex(ds, p[i].customer, cid);
        data_article_str(ds, p[i].article, aid);
        io_format_f32(p[i].price, price);
        hm_buf_printf(b, "%s,%s,%s,%s,%u\n", day, cid, aid, price, (unsigned)p[i].channel);
    }
}

/* One line of the log (without its newline) into p; -1 with why filled when malformed. */
static int parse_line(const struct serve_model *m, const char *s, size_t len, struct serve_purchase *p, char *why,
                      size_t n)
{
    const char *f[5];
    size_t fl[5];
    int k = 0;
    const char *q = s, *end = s + len;
    while (k < 5) {
        const char *c = memchr(q, ',', (size_t)(end - q));
        f[k] = q;
        fl[k] = (size_t)((c ? c : end) - q);
        k++;
        if (!c)
            break;
        q = c + 1;
        if (k == 5) {
            snprintf(why, n, "expected 5 fields, found more");
            return -1;
        }
    }
    if (k != 5) {
        snprintf(why, n, "expected 5 fields, found %d", k);
        return -1;
    }
    uint32_t aid;
    if (hm_date_parse(f[0], fl[0], &p->day)) {
        snprintf(why, n, "t_dat: expected a date YYYY-MM-DD, found \"%.*s\"", (int)(fl[0] < 40 ? fl[0] : 40), f[0]);
        return -1;
    }
    if ((p->customer = data_id_index_customer(&m->ids, f[1], fl[1])) == UINT32_MAX) {
        snprintf(why, n, "customer_id: expected a customer of the store, found \"%.*s\"", (int)(fl[1] < 70 ? fl[1] : 70), f[1]);
        return -1;
    }
    if (io_parse_u32(f[2], fl[2], &aid) || (p->article = data_id_index_article(&m->ids, aid)) == UINT32_MAX) {
        snprintf(why, n, "article_id: expected an article of the store, found \"%.*s\"", (int)(fl[2] < 20 ? fl[2] : 20), f[2]);
        return -1;
    }
    if (io_parse_f32(f[3], fl[3], &p->price)) {
        snprintf(why, n, "price: expected a number, found \"%.*s\"", (int)(fl[3] < 40 ? fl[3] : 40), f[3]);
        return -1;
    }
    if (fl[4] != 1 || (f[4][0] != '1' && f[4][0] != '2')) {
        snprintf(why, n, "sales_channel_id: expected 1 or 2, found \"%.*s\"", (int)(fl[4] < 20 ? fl[4] : 20), f[4]);
        return -1;
    }
    p->channel = (uint8_t)(f[4][0] - '0');
    return serve_purchase_check(m, p, why, n);
}

/* fsync of the directory holding path (a new file's name made durable). */
static int sync_dir(const char *path)
{
    char *copy = hm_xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : hm_error(HM_EIO, "%s: cannot sync its directory: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    free(copy);
    return rc;
}

int serve_log_open(struct serve_log *l, const struct serve_model *m, struct serve_posted *ps)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    l->path = pipeline_path(m->p, SERVE_LOG_NAME);
    const struct data_transactions *tx = &m->ds->tx;
    l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (l->fd < 0)
        return hm_error(HM_EIO, "%s: cannot open the purchase log: %s", l->path, strerror(errno));
    struct stat st;
    if (fstat(l->fd, &st) != 0)
        return hm_error(HM_EIO, "%s: %s", l->path, strerror(errno));
    if (st.st_size == 0) {
        if (tx->log_bytes)
            return hm_error(HM_EFORMAT,
                            "%s is empty, but the store holds the first %llu bytes of a purchase log: the log was "
                            "removed or truncated since hmrec run folded it (restore it, or run hmrec run again)",
                            l->path, (unsigned long long)tx->log_bytes);
        int rc = serve_log_append(l, LOG_HEADER, strlen(LOG_HEADER));
        if (!rc)
            rc = sync_dir(l->path);
        l->folded = l->bytes;
        return rc;
    }
    char *text;
    size_t len;
    int rc = hm_read_file(l->path, &text, &len);
    if (rc)
        return rc;
    /* a last line without its newline was being written when a server stopped: never
     * answered, so cut off */
    size_t whole = len;
    while (whole > 0 && text[whole - 1] != '\n')
        whole--;
    if (whole < len) {
        hm_warn("%s: removing an incomplete last line (%zu bytes, never acknowledged)", l->path, len - whole);
        if (ftruncate(l->fd, (off_t)whole) != 0 || fdatasync(l->fd) != 0) {
            free(text);
            return hm_error(HM_EIO, "%s: cannot cut off the incomplete last line: %s", l->path, strerror(errno));
        }
    }
    l->bytes = whole;
    size_t hl = strlen(LOG_HEADER);
    if (whole < hl || memcmp(text, LOG_HEADER, hl) != 0) {
        free(text);
        return hm_error(HM_EFORMAT, "%s:1: expected the header \"%.*s\"", l->path, (int)hl - 1, LOG_HEADER);
    }
    /* the part the store folded in must be this file's beginning */
    l->folded = hl;
    if (tx->log_bytes) {
        if (tx->log_bytes > whole || hm_hash64(text, tx->log_bytes, 0) != tx->log_hash) {
            free(text);
            return hm_error(HM_EFORMAT,
                            "%s does not begin with the %llu bytes of purchases the store folded in (hmrec run read "
                            "them from this file): it was changed since; restore it, or run hmrec run again",
                            l->path, (unsigned long long)tx->log_bytes);
        }
        l->folded = tx->log_bytes;
    }
    /* replay what follows, line by line */
    HM_VEC(uint32_t) cust = {0};
    HM_VEC(struct serve_prow) rows = {0};
    uint64_t line = 1;
    for (const char *p = text; p < text + l->folded; p++)
        line += *p == '\n';
    line--;
    for (size_t o = l->folded; o < whole && !rc;) {
        const char *nl = memchr(text + o, '\n', whole - o);
        size_t n = (size_t)(nl - (text + o));
        line++;
        struct serve_purchase pu;
        char why[200];
        if (parse_line(m, text + o, n, &pu, why, sizeof why)) {
            rc = hm_error(HM_EFORMAT, "%s:%llu: %s", l->path, (unsigned long long)line, why);
            break;
        }
        HM_VEC_PUSH(&cust, pu.customer);
        struct serve_prow r = {.seq = l->seq++, .day = (uint16_t)pu.day, .channel = pu.channel, .price = pu.price,
                               .article = pu.article};
        HM_VEC_PUSH(&rows, r);
        o += n + 1;
    }
    if (!rc) {
        serve_posted_add(ps, cust.v, rows.v, (uint32_t)rows.n);
        l->replayed = rows.n;
    }
    free(cust.v);
    free(rows.v);
    free(text);
    return rc;
}

void serve_log_close(struct serve_log *l)
{
    if (l->fd >= 0)
        close(l->fd);
    free(l->path);
    memset(l, 0, sizeof *l);
    l->fd = -1;
}

int serve_log_append(struct serve_log *l, const char *bytes, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(l->fd, bytes + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            /* take back a partial write, so that the next append starts on a fresh line */
            if (done && ftruncate(l->fd, (off_t)l->bytes) != 0)
                hm_warn("%s: cannot cut off a partial write: %s", l->path, strerror(errno));
            return hm_error(HM_EIO, "%s: cannot append to the purchase log: %s", l->path, strerror(e));
        }
        done += (size_t)w;
    }
    if (fdatasync(l->fd) != 0) {
        int e = errno;
        if (ftruncate(l->fd, (off_t)l->bytes) != 0)
            hm_warn("%s: cannot cut off an unsynced write: %s", l->path, strerror(errno));
        return hm_error(HM_EIO, "%s: cannot sync the purchase log: %s", l->path, strerror(e));
    }
    l->bytes += len;
    return 0;
}
