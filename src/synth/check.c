/* synth/check.c: synth_check, reading a data set back with the ingest module's strict
 * readers (io.h) and the submission reader (the oracle file), then measuring it with the
 * statistics of stats.c, which work on plain arrays. */
#include "synth/synth.h"
#include "eval/eval.h"
#include "io/io.h"
#include "io/submission.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The three tables as the io readers give them, and the columns stats.c takes. */
struct loaded {
    struct io_articles art;
    struct io_customers cust;
    struct io_transactions tx;
    float *ages;       /* (customers) years, -1 when missing */
    int32_t *day;      /* (n) */
    uint32_t *customer, *article;
    double *price;
    uint8_t *channel;
};

static int read_tables(const char *dir, struct loaded *L)
{
    static const char *const names[3] = {"articles.csv", "customers.csv", "transactions_train.csv"};
    char *path[3];
    for (int i = 0; i < 3; i++)
        path[i] = hm_path_join(dir, names[i]);
    struct io_read_opts o = {.bad_rows = IO_BAD_FAIL, .missing_refs = IO_REFS_FAIL};
    struct io_read_stats st;
    int rc = io_read_articles(path[0], &o, &L->art, &st);
    if (!rc)
        rc = io_read_customers(path[1], &o, &L->cust, &st);
    if (!rc)
        rc = io_read_transactions(path[2], &o, &L->art, &L->cust, &L->tx, &st);
    for (int i = 0; i < 3; i++)
        free(path[i]);
    if (rc)
        return rc;
    size_t n = L->tx.n;
    L->ages = hm_xmalloc_array((size_t)L->cust.n + 1, sizeof(float));
    for (uint32_t c = 0; c < L->cust.n; c++)
        L->ages[c] = isnan(L->cust.age[c]) ? -1.0f : L->cust.age[c];
    L->day = hm_xmalloc_array(n + 1, sizeof(int32_t));
    L->customer = hm_xmalloc_array(n + 1, sizeof(uint32_t));
    L->article = hm_xmalloc_array(n + 1, sizeof(uint32_t));
    L->price = hm_xmalloc_array(n + 1, sizeof(double));
    L->channel = hm_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        const struct io_tx_rec *r = &L->tx.rec[i];
        L->day[i] = r->day;
        L->customer[i] = r->customer;
        L->article[i] = r->article;
        L->price[i] = r->price;
        L->channel[i] = r->channel;
    }
    return 0;
}

static void loaded_release(struct loaded *L)
{
    io_articles_release(&L->art);
    io_customers_release(&L->cust);
    io_transactions_release(&L->tx);
    free(L->ages);
    free(L->day);
    free(L->customer);
    free(L->article);
    free(L->price);
    free(L->channel);
}

/* ---- the oracle's MAP@12 -------------------------------------------------------------------- */

struct oracle_job {
    const struct loaded *L;
    const uint32_t *off, *truth; /* CSR of the week's articles per customer */
    double sum;
    uint64_t scored;
};

static int oracle_row(const struct io_subrow *row, void *ud)
{
    struct oracle_job *j = ud;
    uint8_t id[32];
    uint32_t c = UINT32_MAX, pred[12];
    if (io_parse_hex256(row->customer_id, 64, id) == 0)
        c = io_idmap256_get(&j->L->cust.index, id);
    if (c == UINT32_MAX)
        return hm_error(HM_EPARSE, "oracle file line %llu: expected a customer of customers.csv, found %s",
                        (unsigned long long)row->line, row->customer_id);
    for (size_t k = 0; k < row->n; k++) {
        uint32_t a = io_idmap32_get(&j->L->art.index, row->articles[k]);
        pred[k] = a == UINT32_MAX ? UINT32_MAX - (uint32_t)k : a; /* unknown: a distinct miss */
    }
    j->sum += eval_ap_at_k(pred, row->n, j->truth + j->off[c], j->off[c + 1] - j->off[c], 12);
    j->scored++;
    return 0;
}

/* The oracle's MAP@12 on the week starting wd, from oracle/week_<wd>_oracle.csv against the
 * transactions; returns 0 with *map = 0 when the file is absent. */
static int oracle_map(const char *dir, const struct loaded *L, int32_t wd, double *map)
{
    *map = 0;
    char d[11], name[96];
    hm_date_format(wd, d);
    snprintf(name, sizeof name, "oracle/week_%s_oracle.csv", d);
    char *path = hm_path_join(dir, name);
    struct hm_map probe;
    if (hm_map_file(&probe, path) != 0) {
        hm_clear_error();
        free(path);
        return 0;
    }
    hm_map_release(&probe);
    size_t nc = L->cust.n, n = L->tx.n;
    /* truth: the week's articles per customer (CSR; AP@12 ignores repeats) */
    uint32_t *off = hm_xcalloc(nc + 1, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        if (L->day[i] >= wd && L->day[i] < wd + 7)
            off[L->customer[i] + 1]++;
    for (size_t k = 0; k < nc; k++)
        off[k + 1] += off[k];
    uint32_t *truth = hm_xmalloc_array(off[nc] + 1, sizeof(uint32_t));
    uint32_t *fill = hm_xmalloc_array(nc + 1, sizeof(uint32_t));
    memcpy(fill, off, nc * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        if (L->day[i] >= wd && L->day[i] < wd + 7)
            truth[fill[L->customer[i]]++] = L->article[i];
    struct oracle_job j = {L, off, truth, 0, 0};
    int rc = io_submission_read(path, 12, oracle_row, &j);
    *map = j.scored ? j.sum / (double)j.scored : 0;
    free(off);
    free(truth);
    free(fill);
    free(path);
    return rc;
}

/* ---- the held-out week: its oracle against its truth file ------------------------------------ */

struct truth_job {
    const struct loaded *L;
    const char *path;
    uint32_t *off, *items;     /* CSR per customer, filled in file order */
    size_t n_items, cap;
    uint64_t buyers;
};

static uint32_t known_customer(const struct loaded *L, const char *hex)
{
    uint8_t id[32];
    return io_parse_hex256(hex, 64, id) == 0 ? io_idmap256_get(&L->cust.index, id) : UINT32_MAX;
}

static int truth_row(const struct io_subrow *row, void *ud)
{
    struct truth_job *j = ud;
    uint32_t c = known_customer(j->L, row->customer_id);
    if (c == UINT32_MAX)
        return hm_error(HM_EPARSE, "%s:%llu: expected a customer of customers.csv, found %s", j->path,
                        (unsigned long long)row->line, row->customer_id);
    if (j->off[c] != UINT32_MAX)
        return hm_error(HM_EPARSE, "%s:%llu: customer %s appears twice", j->path, (unsigned long long)row->line,
                        row->customer_id);
    j->off[c] = (uint32_t)j->n_items;
    HM_GROW(j->items, j->cap, j->n_items + row->n + 1);
    for (size_t k = 0; k < row->n; k++) {
        uint32_t a = io_idmap32_get(&j->L->art.index, row->articles[k]);
        if (a == UINT32_MAX)
            return hm_error(HM_EPARSE, "%s:%llu: expected articles of articles.csv, found %010u", j->path,
                            (unsigned long long)row->line, row->articles[k]);
        j->items[j->n_items++] = a;
    }
    j->items[j->n_items++] = UINT32_MAX; /* end of the customer's list */
    j->buyers++;
    return 0;
}

struct held_job {
    struct truth_job *t;
    const char *path;
    double sum;
    uint64_t scored;
};

static int held_oracle_row(const struct io_subrow *row, void *ud)
{
    struct held_job *j = ud;
    const struct loaded *L = j->t->L;
    uint32_t c = known_customer(L, row->customer_id);
    if (c == UINT32_MAX || j->t->off[c] == UINT32_MAX)
        return hm_error(HM_EPARSE, "%s:%llu: expected a buyer of the held-out week, found %s", j->path,
                        (unsigned long long)row->line, row->customer_id);
    uint32_t pred[12];
    for (size_t k = 0; k < row->n; k++) {
        uint32_t a = io_idmap32_get(&L->art.index, row->articles[k]);
        pred[k] = a == UINT32_MAX ? UINT32_MAX - (uint32_t)k : a;
    }
    const uint32_t *tr = j->t->items + j->t->off[c];
    size_t nt = 0;
    while (tr[nt] != UINT32_MAX)
        nt++;
    j->sum += eval_ap_at_k(pred, row->n, tr, nt, 12);
    j->scored++;
    return 0;
}

/* When oracle/ holds the week after the last day (the held-out week), its truth file is read
 * (customers and articles must be the data's) and its oracle scored against it. */
static int held_out_week(const char *dir, const struct loaded *L, int32_t first_day, struct synth_check_report *rep)
{
    char d[11], name[96];
    hm_date_format(first_day, d);
    snprintf(name, sizeof name, "oracle/week_%s_truth.csv", d);
    char *tpath = hm_path_join(dir, name);
    snprintf(name, sizeof name, "oracle/week_%s_oracle.csv", d);
    char *opath = hm_path_join(dir, name);
    int rc = 0;
    if (access(tpath, F_OK) == 0) {
        struct truth_job t = {L, tpath, hm_xmalloc_array((size_t)L->cust.n + 1, sizeof(uint32_t)), NULL, 0, 0, 0};
        memset(t.off, 0xFF, ((size_t)L->cust.n + 1) * sizeof(uint32_t));
        struct held_job h = {&t, opath, 0, 0};
        if ((rc = io_idlist_read(tpath, "purchases", 1024, truth_row, &t)) == 0 &&
            (rc = io_submission_read(opath, 12, held_oracle_row, &h)) == 0) {
            if (h.scored != t.buyers)
                rc = hm_error(HM_EPARSE, "%s: %llu rows for the %llu buyers of %s", opath,
                              (unsigned long long)h.scored, (unsigned long long)t.buyers, tpath);
            rep->test_first_day = first_day;
            rep->test_buyers = t.buyers;
            rep->map_test_oracle = h.scored ? h.sum / (double)h.scored : 0;
        }
        free(t.off);
        free(t.items);
    }
    free(tpath);
    free(opath);
    return rc;
}

/* Appends a "ratio >= lo" row to the report. */
static void ratio_row(struct synth_check_report *rep, const char *name, double measured, double lo)
{
    struct synth_check_row *r = &rep->rows[rep->n_rows++];
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->target, sizeof r->target, ">= %g", lo);
    r->measured = measured;
    r->lo = lo, r->hi = 1e9, r->compared = 1, r->pass = measured >= lo;
    rep->n_failed += !r->pass;
}

int synth_check(const char *dir, struct synth_check_report *rep)
{
    struct loaded L;
    memset(&L, 0, sizeof L);
    memset(rep, 0, sizeof *rep);
    int rc = read_tables(dir, &L);
    if (rc == 0) {
        struct synth_txcols tx = {L.tx.n, L.day, L.customer, L.article, L.price, L.channel,
                                  L.cust.n, L.art.n};
        synth_stats_compute(&tx, L.ages, rep);
        int32_t E = INT32_MIN;
        for (size_t i = 0; i < L.tx.n; i++)
            E = L.day[i] > E ? L.day[i] : E;
        double om = 0;
        if (L.tx.n && (rc = oracle_map(dir, &L, E - 6, &om)) == 0 && om > 0) {
            struct synth_baselines bl;
            synth_baselines_compute(&tx, E - 6, &bl);
            rep->map_oracle = om;
            rep->map_prev_top12 = bl.prev_top12;
            rep->map_own_pop = bl.own_pop;
            rep->map_alltime_top12 = bl.alltime_top12;
            double best = bl.own_pop > bl.prev_top12 ? bl.own_pop : bl.prev_top12;
            best = bl.alltime_top12 > best ? bl.alltime_top12 : best;
            ratio_row(rep, "oracle / previous week's top-12 (MAP@12)",
                      bl.prev_top12 > 0 ? om / bl.prev_top12 : 1e9, 2);
            ratio_row(rep, "oracle / best simple baseline (MAP@12)", best > 0 ? om / best : 1e9, 1.5);
        }
        if (!rc && L.tx.n)
            rc = held_out_week(dir, &L, E + 1, rep);
    }
    loaded_release(&L);
    return rc;
}
