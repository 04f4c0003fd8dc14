/* Stage 1: windows, the purchases of a week, the stratified sample and the item filter. */
#include "prep/prep.h"
#include "comm/comm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const struct hm_setting prep_settings[] = {
    {"prepare.train_weeks", HM_SET_INT, offsetof(struct prep_params, train_weeks), "11", 0, 100, 0,
     "training weeks before the validation week"},
    {"prepare.users", HM_SET_INT, offsetof(struct prep_params, users), "50000", 1, 4e9, 1,
     "customers in the sample (\"all\": every customer)"},
    {"prepare.cold_share", HM_SET_DOUBLE, offsetof(struct prep_params, cold_share), "0.15", 0, 1, 0,
     "share of the sample drawn from cold-start customers"},
    {"prepare.cold_max", HM_SET_INT, offsetof(struct prep_params, cold_max), "1", 0, 1000, 0,
     "customers with at most this many purchases are cold-start"},
    {"prepare.min_item_purchases", HM_SET_INT, offsetof(struct prep_params, min_item_purchases), "5", 0,
     1e9, 0, "articles with fewer purchases in the history leave the candidate universe"},
    {"prepare.history_weeks", HM_SET_INT, offsetof(struct prep_params, history_weeks), "all", 1, 1000, 1,
     "weeks of history before a cutoff that statistics use (\"all\": everything)"},
    {"prepare.seed", HM_SET_INT, offsetof(struct prep_params, seed), "42", 0, 9e18, 0, "sampling seed"},
};
const size_t prep_n_settings = sizeof prep_settings / sizeof prep_settings[0];

const char *const prep_bin_name[PREP_NBINS] = {"cold", "low", "medium", "high", "very high", "extreme"};
const uint32_t prep_bin_lo[PREP_NBINS] = {0, 2, 5, 15, 50, 150};

/* ---- windows ------------------------------------------------------------------ */

int prep_windows_init(struct prep_windows *w, const struct data_set *ds, const struct prep_params *p)
{
    memset(w, 0, sizeof *w);
    const struct data_transactions *tx = &ds->tx;
    if (tx->n_all == 0)
        return hm_error(HM_EINVAL, "the store has no transactions: no week to validate on");
    int32_t e = tx->day_max;
    int32_t need = e - 6 - 7 * (int32_t)p->train_weeks;
    if (need <= (int32_t)tx->day_min) {
        char first[11], last[11];
        hm_date_format(tx->day_min, first);
        hm_date_format(e, last);
        return hm_error(HM_EINVAL,
                        "prepare.train_weeks = %ld needs data from before the first training week, "
                        "but the transactions span only %s..%s (%d days)",
                        p->train_weeks, first, last, e - tx->day_min + 1);
    }
    w->last_day = e;
    w->val = (struct prep_week){e - 6, e};
    w->test = (struct prep_week){e + 1, e + 7};
    w->n_train = (int)p->train_weeks;
    w->train = hm_xcalloc((size_t)w->n_train + 1, sizeof *w->train);
    for (int i = 0; i < w->n_train; i++)
        w->train[i] = (struct prep_week){e - 6 - 7 * (i + 1), e - 7 * (i + 1)};
    int32_t earliest = w->n_train ? w->train[w->n_train - 1].start : w->val.start;
    w->history_start = prep_history_start(ds, p, earliest);
    return 0;
}

void prep_windows_release(struct prep_windows *w)
{
    free(w->train);
    w->train = NULL;
}

int32_t prep_history_start(const struct data_set *ds, const struct prep_params *p, int32_t cutoff)
{
    int32_t first = ds->tx.n_all ? ds->tx.day_min : 0;
    if (p->history_weeks < 0)
        return first;
    int32_t s = cutoff - 7 * (int32_t)p->history_weeks;
    return s > first ? s : first;
}

/* First row in [lo, hi) whose day is >= day (rows are sorted by day). */
static uint64_t lower_bound_day(const uint16_t *days, uint64_t lo, uint64_t hi, int32_t day)
{
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((int32_t)days[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct data_transactions *prep_customer_rows(const struct data_set *ds, uint32_t c, int32_t start,
                                                   int32_t end, uint64_t *lo, uint64_t *hi)
{
    uint64_t b, e;
    const struct data_transactions *tx = data_customer_rows(ds, c, &b, &e);
    *lo = lower_bound_day(tx->day, b, e, start);
    *hi = lower_bound_day(tx->day, *lo, e, end + 1);
    return tx;
}

/* ---- the purchases of a week ---------------------------------------------------- */

struct truth_job {
    const struct data_set *ds;
    struct prep_week week;
    uint32_t *count;     /* (n_customers) distinct articles bought in the week */
    uint64_t *pos;       /* (n_customers) first slot in items, for buyers */
    uint32_t *items;
    uint64_t *rows;      /* (threads) rows in the week */
};

static uint32_t distinct_into(const uint32_t *art, uint64_t lo, uint64_t hi, uint32_t *out)
{
    uint32_t n = 0;
    for (uint64_t r = lo; r < hi; r++) {
        uint32_t a = art[r], j = 0;
        while (j < n && out[j] != a)
            j++;
        if (j == n)
            out[n++] = a;
    }
    return n;
}

static int truth_count(size_t begin, size_t end, int tid, void *ud)
{
    struct truth_job *j = ud;
    uint32_t tmp[4096];
    uint64_t rows = 0;
    for (size_t c = begin; c < end; c++) {
        uint64_t lo, hi;
        const struct data_transactions *tx = prep_customer_rows(j->ds, (uint32_t)c, j->week.start, j->week.end, &lo, &hi);
        rows += hi - lo;
        if (hi - lo > 4096)
            hi = lo + 4096; /* more than 4096 rows in a week: count the first 4096 */
        j->count[c] = distinct_into(tx->article, lo, hi, tmp);
    }
    j->rows[tid] = rows;
    return 0;
}

static int truth_fill(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct truth_job *j = ud;
    for (size_t c = begin; c < end; c++) {
        if (!j->count[c])
            continue;
        uint64_t lo, hi;
        const struct data_transactions *tx = prep_customer_rows(j->ds, (uint32_t)c, j->week.start, j->week.end, &lo, &hi);
        if (hi - lo > 4096)
            hi = lo + 4096;
        distinct_into(tx->article, lo, hi, j->items + j->pos[c]);
    }
    return 0;
}

int prep_truth_build(struct prep_truth *t, const struct data_set *ds, struct prep_week week)
{
    memset(t, 0, sizeof *t);
    uint32_t nc = ds->customers.n;
    int nt = hm_threads();
    struct truth_job j = {ds, week, hm_xcalloc(nc + 1, sizeof(uint32_t)),
                          hm_xcalloc(nc + 1, sizeof(uint64_t)), NULL, hm_xcalloc((size_t)nt, sizeof(uint64_t))};
    hm_parallel_for(nt, nc, truth_count, &j);
    uint64_t total = 0;
    uint32_t users = 0;
    for (uint32_t c = 0; c < nc; c++) {
        j.pos[c] = total;
        total += j.count[c];
        users += j.count[c] > 0;
    }
    for (int i = 0; i < nt; i++)
        t->n_rows += j.rows[i];
    j.items = hm_xmalloc_array(total + 1, sizeof(uint32_t));
    hm_parallel_for(nt, nc, truth_fill, &j);
    t->n_users = users;
    t->user = hm_xmalloc_array((size_t)users + 1, sizeof(uint32_t));
    t->off = hm_xmalloc_array((size_t)users + 1, sizeof(uint64_t));
    t->items = j.items;
    uint32_t u = 0;
    for (uint32_t c = 0; c < nc; c++)
        if (j.count[c]) {
            t->user[u] = c;
            t->off[u++] = j.pos[c];
        }
    t->off[users] = total;
    free(j.count);
    free(j.pos);
    free(j.rows);
    return 0;
}

uint32_t prep_truth_find(const struct prep_truth *t, uint32_t c)
{
    uint32_t lo = 0, hi = t->n_users;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->user[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n_users && t->user[lo] == c ? lo : UINT32_MAX;
}

void prep_truth_release(struct prep_truth *t)
{
    free(t->user);
    free(t->off);
    free(t->items);
    memset(t, 0, sizeof *t);
}

/* ---- the stratified sample ------------------------------------------------------- */

struct bin_job {
    const struct data_set *ds;
    int32_t start, cutoff;
    long cold_max;
    uint8_t *bin; /* (n_customers) */
};

static int bin_of(uint64_t n, long cold_max)
{
    if (n <= (uint64_t)cold_max)
        return PREP_COLD;
    int b = PREP_LOW;
    while (b + 1 < PREP_NBINS && n >= prep_bin_lo[b + 1])
        b++;
    return b;
}

static int bin_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct bin_job *j = ud;
    for (size_t c = begin; c < end; c++) {
        uint64_t lo, hi;
        const struct data_transactions *tx = prep_customer_rows(j->ds, (uint32_t)c, j->start, j->cutoff - 1, &lo, &hi);
        (void)tx; /* only the count */
        j->bin[c] = (uint8_t)bin_of(hi - lo, j->cold_max);
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Splits n between bins in proportion to pop (largest remainder; ties to the lower bin). */
static void apportion(uint64_t n, const uint64_t *pop, int first, int last, uint64_t *got)
{
    uint64_t total = 0, given = 0;
    double rem[PREP_NBINS] = {0};
    for (int b = first; b <= last; b++)
        total += pop[b];
    if (n > total)
        n = total;
    for (int b = first; b <= last; b++) {
        double exact = total ? (double)n * (double)pop[b] / (double)total : 0;
        got[b] = (uint64_t)floor(exact);
        rem[b] = exact - (double)got[b];
        given += got[b];
    }
    while (given < n) {
        int best = -1;
        for (int b = first; b <= last; b++)
            if (got[b] < pop[b] && (best < 0 || rem[b] > rem[best]))
                best = b;
        got[best]++;
        rem[best] = -1;
        given++;
    }
}

int prep_sample_draw(struct prep_sample *s, const struct data_set *ds, const struct prep_params *p,
                     int32_t cutoff)
{
    memset(s, 0, sizeof *s);
    uint32_t nc = ds->customers.n;
    struct bin_job j = {ds, ds->tx.n_all ? ds->tx.day_min : 0, cutoff, p->cold_max, hm_xmalloc(nc + 1)};
    hm_parallel_for(0, nc, bin_range, &j);
    /* on shards each rank bins its own customers and the bins' sizes are every rank's */
    for (uint32_t c = 0; c < nc; c++) {
        if (!data_customer_in_shard(ds, c))
            j.bin[c] = PREP_NBINS;
        else
            s->pop[j.bin[c]]++;
    }
    comm_allreduce_u64(s->pop, PREP_NBINS, COMM_SUM);
    uint64_t active = nc - s->pop[PREP_COLD];
    uint64_t want = p->users < 0 || (uint64_t)p->users >= nc ? nc : (uint64_t)p->users;
    uint64_t n_cold = (uint64_t)llround((double)want * p->cold_share);
    if (n_cold > s->pop[PREP_COLD])
        n_cold = s->pop[PREP_COLD];
    uint64_t n_active = want - n_cold;
    if (n_active > active) { /* not enough active customers: the rest from the cold ones */
        n_active = active;
        n_cold = want - n_active;
    }
    s->got[PREP_COLD] = n_cold;
    apportion(n_active, s->pop, PREP_LOW, PREP_EXTREME, s->got);
    s->user = hm_xmalloc_array(want + 1, sizeof(uint32_t));
    s->bin = hm_xmalloc(want + 1);
    /* rank each bin's members by a seeded hash of their row and keep the first got[b] (of
     * every rank: the got[b]-th smallest key is the bound) */
    uint64_t *keys = hm_xmalloc_array((size_t)nc + 1, sizeof(uint64_t));
    uint32_t n = 0;
    uint64_t total = 0;
    for (int b = 0; b < PREP_NBINS; b++) {
        uint64_t m = 0;
        total += s->got[b];
        if (s->got[b] == s->pop[b]) {
            for (uint32_t c = 0; c < nc; c++)
                if (j.bin[c] == b)
                    s->user[n++] = c;
            continue;
        }
        for (uint32_t c = 0; c < nc; c++)
            if (j.bin[c] == b)
                keys[m++] = (hm_mix64((uint64_t)p->seed * 0x9e3779b97f4a7c15ULL + c) & ~0xffffffffULL) | c;
        if (!s->got[b])
            continue;
        uint64_t bound = comm_kth_smallest(keys, m, s->got[b]);
        for (uint64_t i = 0; i < m; i++)
            if (keys[i] <= bound)
                s->user[n++] = (uint32_t)keys[i];
    }
    HM_ASSERT(total == want && (ds->n_shards > 1 || n == want));
    s->n = n;
    qsort(s->user, n, sizeof *s->user, cmp_u32);
    for (uint32_t i = 0; i < n; i++)
        s->bin[i] = j.bin[s->user[i]];
    free(keys);
    free(j.bin);
    return 0;
}

void prep_sample_release(struct prep_sample *s)
{
    free(s->user);
    free(s->bin);
    memset(s, 0, sizeof *s);
}

/* ---- the item filter ------------------------------------------------------------------ */

struct item_job {
    const struct data_set *ds;
    int32_t start, cutoff;
    uint64_t min;
    uint8_t *keep;
};

static int item_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct item_job *j = ud;
    const struct data_transactions *tx = &j->ds->art.tx;
    for (size_t a = begin; a < end; a++) {
        uint64_t n = 0;
        for (uint64_t k = tx->art_off[a]; k < tx->art_off[a + 1] && n < j->min; k++) {
            int32_t d = tx->day[tx->art_rows[k]];
            n += d >= j->start && d < j->cutoff;
        }
        j->keep[a] = n >= j->min;
    }
    return 0;
}

int prep_items_filter(struct prep_items *it, const struct data_set *ds, int32_t history_start,
                      int32_t cutoff, long min_purchases)
{
    memset(it, 0, sizeof *it);
    uint32_t na = ds->articles.n;
    struct item_job j = {ds, history_start, cutoff, (uint64_t)min_purchases, hm_xcalloc(na + 1, 1)};
    data_article_pass(ds, 0, 1024, item_range, &j);
    data_article_share(ds, j.keep, 1);
    it->keep = j.keep;
    it->n_articles = na;
    for (uint32_t a = 0; a < na; a++)
        it->n += j.keep[a];
    it->item = hm_xmalloc_array((size_t)it->n + 1, sizeof(uint32_t));
    for (uint32_t a = 0, k = 0; a < na; a++)
        if (j.keep[a])
            it->item[k++] = a;
    return 0;
}

void prep_items_release(struct prep_items *it)
{
    free(it->item);
    free(it->keep);
    memset(it, 0, sizeof *it);
}
