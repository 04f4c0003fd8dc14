/* Training-set sampling: the stratified split of customer groups into training and held-out
 * groups, and negative down-sampling that keeps every positive row. */
#include "rank/rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- hashes -------------------------------------------------------------------------------- */

/* The split key of group g: a hash of (seed, group, customer). */
static uint64_t split_key(uint64_t seed, uint32_t g, uint32_t user)
{
    return hm_mix64(hm_mix64(seed ^ 0x5911c0ffee5eedULL) + (((uint64_t)g << 32) | user));
}

/* The sampling key of row j of group g: a hash of (seed, group, row within the group). */
static inline uint64_t row_key(uint64_t seed_mix, uint32_t g, uint64_t j)
{
    return hm_mix64(seed_mix + hm_mix64(((uint64_t)g << 32) ^ j));
}

static uint64_t positives(const struct rank_data *d, uint32_t g)
{
    uint64_t n = 0;
    for (uint64_t r = d->group_off[g]; r < d->group_off[g + 1]; r++)
        n += d->label[r] > 0;
    return n;
}

/* ---- the split --------------------------------------------------------------------------- */

uint32_t rank_stratum(const struct rank_data *d, uint32_t g)
{
    if (!d->group_truth || !d->group_truth[g])
        return 0;
    uint64_t p = d->label ? positives(d, g) : 0;
    if (!p)
        return 1;
    return 2 + (uint32_t)(p < 5 ? p - 1 : 4);
}

struct keyed {
    uint64_t key;
    uint32_t g;
};

static int keyed_cmp(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->g < y->g ? -1 : x->g > y->g;
}

void rank_split(const struct rank_data *d, double holdout, uint64_t seed, uint8_t *held_out)
{
    uint32_t n = d->n_groups;
    memset(held_out, 0, n);
    if (holdout <= 0 || !n)
        return;
    uint32_t count[RANK_STRATA] = {0}, start[RANK_STRATA + 1] = {0};
    uint8_t *stratum = hm_xmalloc(n);
    for (uint32_t g = 0; g < n; g++) {
        stratum[g] = (uint8_t)rank_stratum(d, g);
        count[stratum[g]]++;
    }
    for (int s = 0; s < RANK_STRATA; s++)
        start[s + 1] = start[s] + count[s];
    struct keyed *k = hm_xmalloc_array(n, sizeof *k);
    uint32_t fill[RANK_STRATA];
    memcpy(fill, start, sizeof fill);
    for (uint32_t g = 0; g < n; g++)
        k[fill[stratum[g]]++] = (struct keyed){split_key(seed, g, d->group_user[g]), g};
    for (int s = 0; s < RANK_STRATA; s++) {
        qsort(k + start[s], count[s], sizeof *k, keyed_cmp);
        uint32_t take = (uint32_t)floor(holdout * count[s] + 0.5);
        if (take > count[s])
            take = count[s];
        for (uint32_t i = 0; i < take; i++)
            held_out[k[start[s] + i].g] = 1;
    }
    free(k);
    free(stratum);
}

/* ---- negative down-sampling ---------------------------------------------------------------- */

/* The kept negatives are those with the smallest (key, row). Their boundary is found without
 * sorting every key: a histogram of the keys' top 16 bits finds the bucket that holds the
 * boundary, and only that bucket's keys are sorted. */
#define DS_BITS 16
#define DS_BUCKETS (1u << DS_BITS)

enum { DS_THRESHOLD, DS_ALL, DS_NONE }; /* which negatives ds_mark keeps */

struct keyed64 {
    uint64_t key, row;
};

struct ds_job {
    const struct rank_data *d;
    const uint8_t *use;
    uint64_t seed_mix;
    uint64_t *hist;            /* (threads, DS_BUCKETS) negatives per key bucket */
    uint64_t *pos;             /* (threads) positives */
    uint32_t bucket;           /* the boundary bucket */
    HM_VEC(struct keyed64) *edge; /* (threads) keys of that bucket */
    int mode;
    uint64_t thr_key, thr_row; /* DS_THRESHOLD: keep negatives with (key, row) <= these */
    uint8_t *keep;
    uint64_t *kept;            /* (threads) */
};

static int ds_count(size_t begin, size_t end, int tid, void *ud)
{
    struct ds_job *j = ud;
    uint64_t *h = j->hist + (size_t)tid * DS_BUCKETS;
    const struct rank_data *d = j->d;
    for (size_t g = begin; g < end; g++) {
        if (j->use && !j->use[g])
            continue;
        uint64_t b = d->group_off[g];
        for (uint64_t r = b; r < d->group_off[g + 1]; r++) {
            if (d->label[r] > 0)
                j->pos[tid]++;
            else
                h[row_key(j->seed_mix, (uint32_t)g, r - b) >> (64 - DS_BITS)]++;
        }
    }
    return 0;
}

static int ds_edge(size_t begin, size_t end, int tid, void *ud)
{
    struct ds_job *j = ud;
    const struct rank_data *d = j->d;
    for (size_t g = begin; g < end; g++) {
        if (j->use && !j->use[g])
            continue;
        uint64_t b = d->group_off[g];
        for (uint64_t r = b; r < d->group_off[g + 1]; r++) {
            if (d->label[r] > 0)
                continue;
            uint64_t key = row_key(j->seed_mix, (uint32_t)g, r - b);
            if ((key >> (64 - DS_BITS)) == j->bucket)
                HM_VEC_PUSH(&j->edge[tid], ((struct keyed64){key, r}));
        }
    }
    return 0;
}

static int ds_mark(size_t begin, size_t end, int tid, void *ud)
{
    struct ds_job *j = ud;
    const struct rank_data *d = j->d;
    for (size_t g = begin; g < end; g++) {
        uint64_t b = d->group_off[g], e = d->group_off[g + 1];
        if (j->use && !j->use[g]) {
            memset(j->keep + b, 0, e - b);
            continue;
        }
        for (uint64_t r = b; r < e; r++) {
            int k = 1;
            if (!(d->label[r] > 0)) {
                if (j->mode == DS_NONE) {
                    k = 0;
                } else if (j->mode == DS_THRESHOLD) {
                    uint64_t key = row_key(j->seed_mix, (uint32_t)g, r - b);
                    k = key < j->thr_key || (key == j->thr_key && r <= j->thr_row);
                }
            }
            j->keep[r] = (uint8_t)k;
            j->kept[tid] += (uint64_t)k;
        }
    }
    return 0;
}

static int keyed64_cmp(const void *a, const void *b)
{
    const struct keyed64 *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Sets j->thr_key/thr_row to the k-th smallest (key, row) of the negatives (k >= 1, at most
 * their number). */
static void ds_threshold(struct ds_job *j, int nt, uint64_t k)
{
    uint64_t below = 0;
    uint32_t bucket = 0;
    for (; bucket < DS_BUCKETS; bucket++) {
        uint64_t c = 0;
        for (int t = 0; t < nt; t++)
            c += j->hist[(size_t)t * DS_BUCKETS + bucket];
        if (below + c >= k)
            break;
        below += c;
    }
    HM_ASSERT(bucket < DS_BUCKETS);
    j->bucket = bucket;
    hm_parallel_for(nt, j->d->n_groups, ds_edge, j);
    HM_VEC(struct keyed64) all = {0};
    for (int t = 0; t < nt; t++) {
        for (size_t i = 0; i < j->edge[t].n; i++)
            HM_VEC_PUSH(&all, j->edge[t].v[i]);
        free(j->edge[t].v);
        j->edge[t].v = NULL;
    }
    qsort(all.v, all.n, sizeof *all.v, keyed64_cmp);
    HM_ASSERT(k - below >= 1 && k - below <= all.n);
    j->thr_key = all.v[k - below - 1].key;
    j->thr_row = all.v[k - below - 1].row;
    free(all.v);
}

uint64_t rank_downsample(const struct rank_data *d, const uint8_t *use, double neg_share,
                         uint64_t seed, uint8_t *keep)
{
    int nt = hm_threads();
    struct ds_job j = {.d = d, .use = use, .seed_mix = hm_mix64(seed ^ 0xd05a3b1e5eedULL),
                       .keep = keep};
    j.hist = hm_xcalloc((size_t)nt * DS_BUCKETS, sizeof *j.hist);
    j.pos = hm_xcalloc((size_t)nt, sizeof *j.pos);
    j.kept = hm_xcalloc((size_t)nt, sizeof *j.kept);
    j.edge = hm_xcalloc((size_t)nt, sizeof *j.edge);
    hm_parallel_for(nt, d->n_groups, ds_count, &j);
    uint64_t n_pos = 0, n_neg = 0;
    for (int t = 0; t < nt; t++) {
        n_pos += j.pos[t];
        for (uint32_t b = 0; b < DS_BUCKETS; b++)
            n_neg += j.hist[(size_t)t * DS_BUCKETS + b];
    }
    double want = neg_share >= 1 ? INFINITY
                                 : floor((double)n_pos * neg_share / (1 - neg_share) + 0.5);
    if (want >= (double)n_neg)
        j.mode = DS_ALL;
    else if (want < 1)
        j.mode = DS_NONE;
    else
        ds_threshold(&j, nt, (uint64_t)want);
    hm_parallel_for(nt, d->n_groups, ds_mark, &j);
    uint64_t kept = 0;
    for (int t = 0; t < nt; t++)
        kept += j.kept[t];
    free(j.hist);
    free(j.pos);
    free(j.kept);
    free(j.edge);
    return kept;
}

/* ---- the training and held-out sets --------------------------------------------------------- */

int rank_sample(const struct rank_data *d, const struct rank_sample_params *p,
                struct rank_set *train, struct rank_set *holdout)
{
    if (!d->label || !d->group_truth)
        return hm_error(HM_EINVAL, "rank_sample: the data has no labels (sampling needs the "
                                   "target week's purchases)");
    if (!(p->holdout >= 0 && p->holdout < 1))
        return hm_error(HM_EINVAL, "rank_sample: held-out share %g is not in [0, 1)", p->holdout);
    if (!(p->neg_share >= 0 && p->neg_share <= 1))
        return hm_error(HM_EINVAL, "rank_sample: negative share %g is not in [0, 1]", p->neg_share);
    uint32_t n = d->n_groups;
    uint8_t *held = hm_xmalloc((size_t)n + 1), *use = hm_xmalloc((size_t)n + 1);
    uint8_t *keep = hm_xmalloc(d->n_rows + 1);
    rank_split(d, p->holdout, p->seed, held);
    for (uint32_t g = 0; g < n; g++)
        use[g] = !held[g] && (p->keep_empty || rank_stratum(d, g) >= 2);
    rank_downsample(d, use, p->neg_share, p->seed, keep);
    rank_set_init(train, d->n_cols, d->col_name, d->col_tower, d->image, d->image_dim,
                  d->n_articles);
    rank_set_init(holdout, d->n_cols, d->col_name, d->col_tower, d->image, d->image_dim,
                  d->n_articles);
    for (uint32_t g = 0; g < n; g++) {
        if (held[g]) {
            if (d->group_truth[g])
                rank_set_add_from(holdout, d, g, NULL);
            continue;
        }
        if (!use[g])
            continue;
        uint64_t rows = 0;
        for (uint64_t r = d->group_off[g]; r < d->group_off[g + 1]; r++)
            rows += keep[r];
        if (rows)
            rank_set_add_from(train, d, g, keep);
    }
    free(held);
    free(use);
    free(keep);
    return 0;
}
