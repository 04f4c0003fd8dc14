/* Ranking data sets and the metrics of a score vector over customer groups. */
#include "rank/rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the owned set ----------------------------------------------------------------------- */

static void set_view(struct rank_set *s)
{
    s->d.x = s->x;
    s->d.group_off = s->group_off;
    s->d.group_user = s->group_user;
    s->d.group_truth = s->group_truth;
    s->d.item = s->item;
    s->d.label = s->label;
    s->d.col_name = (const char *const *)s->col_name;
    s->d.col_tower = s->col_tower;
}

void rank_set_init(struct rank_set *s, uint32_t n_cols, const char *const *col_name,
                   const uint8_t *col_tower, const float *image, uint32_t image_dim,
                   uint32_t n_articles)
{
    memset(s, 0, sizeof *s);
    s->d.n_cols = n_cols;
    s->col_name = hm_xcalloc((size_t)n_cols + 1, sizeof *s->col_name);
    s->col_tower = hm_xcalloc((size_t)n_cols + 1, 1);
    for (uint32_t c = 0; c < n_cols; c++) {
        s->col_name[c] = hm_xstrdup(col_name[c]);
        s->col_tower[c] = col_tower ? col_tower[c] : RANK_TOWER_PAIR;
    }
    s->group_off = hm_xcalloc(1, sizeof *s->group_off);
    s->d.image = image;
    s->d.image_dim = image_dim;
    s->d.n_articles = n_articles;
    set_view(s);
}

void rank_set_release(struct rank_set *s)
{
    for (uint32_t c = 0; c < s->d.n_cols; c++)
        free(s->col_name[c]);
    free(s->col_name);
    free(s->col_tower);
    free(s->x);
    free(s->group_off);
    free(s->group_user);
    free(s->group_truth);
    free(s->item);
    free(s->label);
    memset(s, 0, sizeof *s);
}

static void reserve_rows(struct rank_set *s, uint64_t rows)
{
    if (rows <= s->cap_rows)
        return;
    uint64_t cap = hm_grow_cap(s->cap_rows, rows);
    s->x = hm_xrealloc(s->x, cap * s->d.n_cols * sizeof *s->x);
    s->item = hm_xrealloc(s->item, cap * sizeof *s->item);
    s->label = hm_xrealloc(s->label, cap * sizeof *s->label);
    s->cap_rows = cap;
}

static void add_group_head(struct rank_set *s, uint32_t user, uint32_t truth)
{
    uint32_t g = s->d.n_groups;
    if ((size_t)g + 1 > s->cap_groups) {
        uint32_t cap = (uint32_t)hm_grow_cap(s->cap_groups, (size_t)g + 1);
        s->group_off = hm_xrealloc(s->group_off, ((size_t)cap + 1) * sizeof *s->group_off);
        s->group_user = hm_xrealloc(s->group_user, (size_t)cap * sizeof *s->group_user);
        s->group_truth = hm_xrealloc(s->group_truth, (size_t)cap * sizeof *s->group_truth);
        s->cap_groups = cap;
    }
    s->group_user[g] = user;
    s->group_truth[g] = truth;
    s->group_off[g + 1] = s->d.n_rows;
    s->d.n_groups = g + 1;
}

void rank_set_add_group(struct rank_set *s, uint32_t user, uint32_t truth, uint64_t n,
                        const float *x, const uint32_t *item, const float *label)
{
    uint64_t r = s->d.n_rows;
    reserve_rows(s, r + n);
    memcpy(s->x + r * s->d.n_cols, x, n * s->d.n_cols * sizeof *x);
    memcpy(s->item + r, item, n * sizeof *item);
    for (uint64_t i = 0; i < n; i++)
        s->label[r + i] = label ? label[i] : 0.0f;
    s->d.n_rows = r + n;
    add_group_head(s, user, truth);
    set_view(s);
}

void rank_set_add_from(struct rank_set *s, const struct rank_data *src, uint32_t g,
                       const uint8_t *keep)
{
    if (src->n_cols != s->d.n_cols)
        HM_BUG("rank_set_add_from: %u columns into a set of %u", src->n_cols, s->d.n_cols);
    uint64_t b = src->group_off[g], e = src->group_off[g + 1], r = s->d.n_rows;
    reserve_rows(s, r + (e - b));
    for (uint64_t i = b; i < e; i++) {
        if (keep && !keep[i])
            continue;
        memcpy(s->x + r * s->d.n_cols, src->x + i * src->n_cols, src->n_cols * sizeof *s->x);
        s->item[r] = src->item[i];
        s->label[r++] = src->label ? src->label[i] : 0.0f;
    }
    s->d.n_rows = r;
    add_group_head(s, src->group_user[g], src->group_truth ? src->group_truth[g] : 0);
    set_view(s);
}

/* ---- metrics ------------------------------------------------------------------------------ */

/* a score as it ranks: NaN last */
static inline float rank_key(const float *score, uint64_t r)
{
    return isnan(score[r]) ? -INFINITY : score[r];
}

uint32_t rank_group_top12(const struct rank_data *d, uint32_t g, const float *score,
                          uint64_t out[12])
{
    /* insertion into a sorted list of at most 12 (groups are a few hundred rows); a row
     * moves up only past strictly lower scores, so ties keep the earlier row first */
    uint64_t b = d->group_off[g], e = d->group_off[g + 1];
    uint32_t n = 0;
    for (uint64_t r = b; r < e; r++) {
        float s = rank_key(score, r);
        if (n == 12 && !(s > rank_key(score, out[11])))
            continue;
        uint32_t i = n < 12 ? n++ : 11;
        for (; i > 0 && s > rank_key(score, out[i - 1]); i--)
            out[i] = out[i - 1];
        out[i] = r;
    }
    return n;
}

/* The group's prediction (its top-12 articles) and truth as eval wants them: the positive
 * rows' articles, then distinct placeholder ids for purchases the pool missed (ids no
 * article has, so they never match a prediction). */
static void group_lists(const struct rank_data *d, uint32_t g, const float *score, uint32_t *pred,
                        uint32_t *n_pred, uint32_t **truth, uint32_t *n_truth, uint32_t *cap)
{
    uint64_t top[12];
    *n_pred = rank_group_top12(d, g, score, top);
    for (uint32_t k = 0; k < *n_pred; k++)
        pred[k] = d->item[top[k]];
    uint32_t nt = d->group_truth[g], m = 0;
    HM_GROW(*truth, *cap, nt + 1);
    for (uint64_t r = d->group_off[g]; r < d->group_off[g + 1] && m < nt; r++)
        if (d->label[r] > 0)
            (*truth)[m++] = d->item[r];
    for (uint32_t k = 0; m < nt; k++)
        (*truth)[m++] = UINT32_MAX - k;
    *n_truth = nt;
}

struct eval_job {
    const struct rank_data *d;
    const float *score;
    double *ap;
    struct eval_sum *sums;   /* (chunks) */
    size_t chunk;
};

static int eval_chunk(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct eval_job *j = ud;
    struct eval_sum *sum = &j->sums[begin / j->chunk];
    uint32_t pred[12], n_pred, n_truth, cap = 0, *truth = NULL;
    for (size_t g = begin; g < end; g++) {
        if (j->ap)
            j->ap[g] = 0;
        if (!j->d->group_truth[g])
            continue;
        group_lists(j->d, (uint32_t)g, j->score, pred, &n_pred, &truth, &n_truth, &cap);
        if (j->ap)
            j->ap[g] = eval_ap_at_k(pred, n_pred, truth, n_truth, 12);
        eval_sum_add(sum, pred, n_pred, truth, n_truth);
    }
    free(truth);
    return 0;
}

/* Sums over fixed chunks of groups, added in order: the same for any thread count. */
static void eval_groups(const struct rank_data *d, const float *score, double *ap, struct eval_sum *sum)
{
    memset(sum, 0, sizeof *sum);
    if (ap)
        memset(ap, 0, (size_t)d->n_groups * sizeof *ap);
    if (!d->group_truth || !d->label || !d->n_groups)
        return;
    struct eval_job j = {d, score, ap, NULL, 4096};
    size_t n_chunks = (d->n_groups + j.chunk - 1) / j.chunk;
    j.sums = hm_xcalloc(n_chunks, sizeof *j.sums);
    hm_parallel_chunks(0, d->n_groups, j.chunk, eval_chunk, &j);
    for (size_t c = 0; c < n_chunks; c++)
        eval_sum_merge(sum, &j.sums[c]);
    free(j.sums);
}

void rank_eval(const struct rank_data *d, const float *score, struct eval_sum *sum)
{
    eval_groups(d, score, NULL, sum);
}

double rank_map12(const struct rank_data *d, const float *score, double *ap)
{
    struct eval_sum sum;
    eval_groups(d, score, ap, &sum);
    return eval_map12(&sum);
}

double rank_pool_ceiling(const struct rank_data *d)
{
    if (!d->label)
        return 0;
    float *perfect = hm_xmalloc_array(d->n_rows + 1, sizeof *perfect);
    for (uint64_t r = 0; r < d->n_rows; r++)
        perfect[r] = d->label[r];
    double m = rank_map12(d, perfect, NULL);
    free(perfect);
    return m;
}
