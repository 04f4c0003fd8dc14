/* The merge: an outer join of every strategy's list per customer, ranked by reciprocal rank
 * fusion; the merger that runs it over blocks of customers; the block stream. */
#include "recall/recall.h"
#include "comm/comm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the candidates struct ---------------------------------------------------------------- */

void recall_candidates_init(struct recall_candidates *c)
{
    memset(c, 0, sizeof *c);
    c->off = hm_xcalloc(1, sizeof *c->off);
}

void recall_candidates_release(struct recall_candidates *c)
{
    free(c->user);
    free(c->off);
    free(c->item);
    free(c->merged);
    free(c->flags);
    free(c->n_strat);
    for (int s = 0; s < RECALL_MAX_STRATEGIES; s++) {
        free(c->score[s]);
        free(c->rank[s]);
    }
    memset(c, 0, sizeof *c);
}

void recall_candidates_clear(struct recall_candidates *c)
{
    c->n_users = 0;
    c->n = 0;
    c->off[0] = 0;
}

/* Room for `rows` rows and `users` customers (user: users, off: users + 1). */
static void candidates_reserve(struct recall_candidates *c, uint64_t rows, uint32_t users)
{
    c->user = hm_xrealloc(c->user, ((size_t)users + 1) * sizeof *c->user);
    c->off = hm_xrealloc(c->off, ((size_t)users + 2) * sizeof *c->off);
    if (rows <= c->cap)
        return;
    uint64_t cap = hm_grow_cap(c->cap < 1024 ? 1024 : c->cap, rows);
    c->item = hm_xrealloc(c->item, cap * sizeof *c->item);
    c->merged = hm_xrealloc(c->merged, cap * sizeof *c->merged);
    c->flags = hm_xrealloc(c->flags, cap * sizeof *c->flags);
    c->n_strat = hm_xrealloc(c->n_strat, cap);
    for (int s = 0; s < recall_n_strategies; s++) {
        c->score[s] = hm_xrealloc(c->score[s], cap * sizeof(float));
        c->rank[s] = hm_xrealloc(c->rank[s], cap * sizeof(uint16_t));
    }
    c->cap = cap;
}

void recall_candidates_append(struct recall_candidates *dst, const struct recall_candidates *src,
                              uint32_t pool)
{
    uint64_t rows = dst->n;
    for (uint32_t i = 0; i < src->n_users; i++) {
        uint64_t n = src->off[i + 1] - src->off[i];
        rows += pool && n > pool ? pool : n;
    }
    candidates_reserve(dst, rows, dst->n_users + src->n_users);
    for (uint32_t i = 0; i < src->n_users; i++) {
        uint64_t b = src->off[i], n = src->off[i + 1] - b, o = dst->n;
        if (pool && n > pool)
            n = pool;
        if (n) {
            memcpy(dst->item + o, src->item + b, n * sizeof *dst->item);
            memcpy(dst->merged + o, src->merged + b, n * sizeof *dst->merged);
            memcpy(dst->flags + o, src->flags + b, n * sizeof *dst->flags);
            memcpy(dst->n_strat + o, src->n_strat + b, n);
            for (int s = 0; s < recall_n_strategies; s++) {
                memcpy(dst->score[s] + o, src->score[s] + b, n * sizeof(float));
                memcpy(dst->rank[s] + o, src->rank[s] + b, n * sizeof(uint16_t));
            }
        }
        dst->user[dst->n_users] = src->user[i];
        dst->off[dst->n_users] = o;
        dst->n = o + n;
        dst->off[++dst->n_users] = dst->n;
    }
    dst->cutoff = src->cutoff;
}

void recall_candidates_subset(struct recall_candidates *dst, const struct recall_candidates *src,
                              const uint8_t *keep)
{
    uint64_t rows = dst->n;
    for (uint64_t r = 0; r < src->n; r++)
        rows += !keep || keep[r];
    candidates_reserve(dst, rows, dst->n_users + src->n_users);
    for (uint32_t i = 0; i < src->n_users; i++) {
        uint64_t o = dst->n;
        for (uint64_t r = src->off[i]; r < src->off[i + 1]; r++) {
            if (keep && !keep[r])
                continue;
            dst->item[o] = src->item[r];
            dst->merged[o] = src->merged[r];
            dst->flags[o] = src->flags[r];
            dst->n_strat[o] = src->n_strat[r];
            for (int s = 0; s < recall_n_strategies; s++) {
                dst->score[s][o] = src->score[s][r];
                dst->rank[s][o] = src->rank[s][r];
            }
            o++;
        }
        if (o == dst->n)
            continue;
        dst->user[dst->n_users] = src->user[i];
        dst->off[dst->n_users] = dst->n;
        dst->n = o;
        dst->off[++dst->n_users] = o;
    }
    dst->cutoff = src->cutoff;
}

void recall_candidates_slice(struct recall_candidates *dst, const struct recall_candidates *src, uint32_t i0,
                             uint32_t i1)
{
    struct recall_candidates view = *src;
    view.user = src->user + i0;
    view.off = src->off + i0;
    view.n_users = i1 - i0;
    recall_candidates_clear(dst);
    recall_candidates_append(dst, &view, 0);
}

/* ---- the learned cut ----------------------------------------------------------------------- */

struct cut_job {
    struct recall_candidates *dst;
    const struct recall_candidates *src;
    const float *score;
    uint32_t wide, keep, pool;
    struct hm_hit *hits;   /* (threads, wide) */
    struct recall_candidates *tmp; /* (threads) in place: a customer's scored rows */
};

/* Rows r..r+n-1 of src into rows w..w+n-1 of dst, column by column. */
static inline void copy_rows(struct recall_candidates *dst, uint64_t w, const struct recall_candidates *src,
                             uint64_t r, uint64_t n)
{
    if (!n)
        return;
    memcpy(dst->item + w, src->item + r, n * sizeof *dst->item);
    memcpy(dst->merged + w, src->merged + r, n * sizeof *dst->merged);
    memcpy(dst->flags + w, src->flags + r, n * sizeof *dst->flags);
    memcpy(dst->n_strat + w, src->n_strat + r, n * sizeof *dst->n_strat);
    for (int s = 0; s < recall_n_strategies; s++) {
        memcpy(dst->score[s] + w, src->score[s] + r, n * sizeof *dst->score[s]);
        memcpy(dst->rank[s] + w, src->rank[s] + r, n * sizeof *dst->rank[s]);
    }
}

/* Row r of src into row w of dst, every column. */
static inline void copy_row(struct recall_candidates *dst, uint64_t w, const struct recall_candidates *src, uint64_t r)
{
    copy_rows(dst, w, src, r, 1);
}

static int cut_range(size_t begin, size_t end, int tid, void *ud)
{
    struct cut_job *j = ud;
    const struct recall_candidates *src = j->src;
    struct recall_candidates *dst = j->dst;
    struct hm_hit *h = j->hits + (size_t)tid * j->wide;
    for (size_t i = begin; i < end; i++) {
        uint64_t b = src->off[i], n = src->off[i + 1] - b, o = dst->off[i];
        uint32_t scored = n < j->wide ? (uint32_t)n : j->wide;
        uint32_t k = j->pool && j->pool < scored ? j->pool : scored;
        uint32_t fixed = j->keep < k ? j->keep : k; /* the merge's first rows, kept as they are */
        struct hm_topk t;
        hm_topk_init(&t, h, k - fixed);
        for (uint32_t r = fixed; r < scored; r++)
            hm_topk_push(&t, j->score[b + r], r);
        uint32_t got = hm_topk_sort(&t);
        if (got != k - fixed) /* a NaN score: the scorer is broken */
            HM_BUG("the learned cut got %u of %u rows (a NaN score)", got, k - fixed);
        if (j->tmp) { /* in place (pool 0): the scored rows are permuted, the rest stay */
            struct recall_candidates *tmp = &j->tmp[tid];
            for (uint32_t x = fixed; x < scored; x++)
                copy_row(tmp, x, src, b + x);
            for (uint32_t x = fixed; x < scored; x++)
                copy_row(dst, b + x, tmp, h[x - fixed].id);
            continue;
        }
        uint64_t rows = dst->off[i + 1] - o;
        copy_rows(dst, o, src, b, fixed);
        for (uint64_t x = fixed; x < rows; x++)
            copy_row(dst, o + x, src, b + (x < k ? h[x - fixed].id : x));
    }
    return 0;
}

/* Rows a customer of n merged rows keeps after the cut. */
static uint64_t cut_rows(uint64_t n, uint32_t wide, uint32_t pool)
{
    uint64_t scored = n < wide ? n : wide;
    return pool ? (scored < pool ? scored : pool) : n;
}

/* The cut of c with pool 0, in place: each customer's first `wide` rows reordered. */
static void cut_in_place(struct recall_candidates *c, const float *score, uint32_t wide, uint32_t keep)
{
    int nt = hm_threads() > 256 ? 256 : hm_threads();
    struct cut_job j = {c, c, score, wide, keep, 0, hm_xmalloc_array((size_t)nt * wide, sizeof(struct hm_hit)),
                        hm_xcalloc((size_t)nt, sizeof(struct recall_candidates))};
    for (int t = 0; t < nt; t++) {
        recall_candidates_init(&j.tmp[t]);
        candidates_reserve(&j.tmp[t], wide, 0);
    }
    hm_parallel_chunks(nt, c->n_users, 256, cut_range, &j);
    for (int t = 0; t < nt; t++)
        recall_candidates_release(&j.tmp[t]);
    free(j.tmp);
    free(j.hits);
}

void recall_candidates_cut(struct recall_candidates *dst, const struct recall_candidates *src, const float *score,
                           uint32_t wide, uint32_t keep, uint32_t pool)
{
    recall_candidates_clear(dst);
    if (!wide)
        wide = 1;
    uint64_t rows = 0;
    for (uint32_t i = 0; i < src->n_users; i++)
        rows += cut_rows(src->off[i + 1] - src->off[i], wide, pool);
    candidates_reserve(dst, rows, src->n_users);
    dst->off[0] = 0;
    for (uint32_t i = 0; i < src->n_users; i++) {
        dst->user[i] = src->user[i];
        dst->off[i + 1] = dst->off[i] + cut_rows(src->off[i + 1] - src->off[i], wide, pool);
    }
    dst->n_users = src->n_users;
    dst->n = rows;
    dst->cutoff = src->cutoff;
    int nt = hm_threads() > 256 ? 256 : hm_threads();
    struct cut_job j = {dst, src, score, wide, keep, pool, hm_xmalloc_array((size_t)nt * wide, sizeof(struct hm_hit)), NULL};
    hm_parallel_chunks(nt, src->n_users, 256, cut_range, &j);
    free(j.hits);
}

/* ---- one block of customers --------------------------------------------------------- */

/* One distinct article of a customer's union. Its per-strategy ranks and scores live beside,
 * in (slots, recall_n_strategies) arrays, so a row stays 12 bytes whatever the table's size. */
struct slot_row {
    uint32_t item;
    float merged;
    uint16_t flags;
    uint8_t n_strat;
};

struct merge_thread {
    struct recall_scratch s;
    uint32_t *list_item[RECALL_MAX_STRATEGIES]; /* (n_s) */
    float *list_score[RECALL_MAX_STRATEGIES];
    uint64_t *keys;                          /* (m) sort keys */
    struct slot_row *groups;                 /* (m) one per distinct article */
    uint16_t *grank;                         /* (m, ns) each group's rank in each strategy */
    float *gscore;                           /* (m, ns) */
    uint32_t *slot;                          /* (n_articles) group of an article, UINT32_MAX */
};

/* Customers per batch (the block strategies' sgemm, then the per-customer merge): 4096, or
 * fewer when a customer's slots (the sum of the list lengths) would make a batch's rows
 * exceed MERGE_BATCH_BYTES. */
#define MERGE_BLOCK 4096
#define MERGE_BLOCK_MIN 256
#define MERGE_BATCH_BYTES (96u << 20)

struct recall_merger {
    const struct recall_engine *e;
    const uint32_t *users;   /* the current batch */
    uint32_t pool;           /* 0: no cap */
    uint32_t n[RECALL_MAX_STRATEGIES];
    double w[RECALL_MAX_STRATEGIES];
    uint32_t m;              /* slots per customer: sum of n */
    int ns;                  /* recall_n_strategies */
    uint32_t batch;          /* customers per batch (<= MERGE_BLOCK) */
    struct slot_row *rows;   /* (batch, m) each customer's merged rows, best first */
    uint16_t *rrank;         /* (batch, m, ns) */
    float *rscore;           /* (batch, m, ns) */
    uint32_t *count;         /* (batch) */
    uint32_t *blk_ids[RECALL_MAX_STRATEGIES];   /* block strategies: (batch, n_s) */
    float *blk_scores[RECALL_MAX_STRATEGIES];
    uint32_t *blk_count[RECALL_MAX_STRATEGIES]; /* (batch) */
    int nt;
    struct merge_thread *t;
    struct recall_scratch **sc; /* (nt) the threads' scratches, for block strategies */
};

static inline uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

#define ITEM_BITS 27 /* sort keys: ~merged (32 bits) | 31 - n_strat (5 bits) | item (27 bits) */

static int merge_range(size_t begin, size_t end, int tid, void *ud)
{
    struct recall_merger *j = ud;
    const struct recall_engine *e = j->e;
    struct merge_thread *t = &j->t[tid];
    const int ns = j->ns;
    for (size_t i = begin; i < end; i++) {
        uint32_t c = j->users[i];
        recall_scratch_begin(&t->s, e, c);
        /* outer join by article: slot[article] is the article's group, UINT32_MAX when none */
        uint32_t g = 0;
        for (int s = 0; s < recall_n_strategies; s++) {
            if (!j->n[s])
                continue;
            const uint32_t *items;
            const float *scores;
            uint32_t n;
            if (recall_strategies[s]->block) {
                items = j->blk_ids[s] + i * j->n[s];
                scores = j->blk_scores[s] + i * j->n[s];
                n = j->blk_count[s][i];
            } else {
                n = recall_strategies[s]->user(e, s, &t->s, c, t->list_item[s], t->list_score[s]);
                items = t->list_item[s];
                scores = t->list_score[s];
            }
            for (uint32_t r = 0; r < n; r++) {
                uint32_t a = items[r], x = t->slot[a];
                if (x == UINT32_MAX) {
                    x = t->slot[a] = g++;
                    t->groups[x] = (struct slot_row){.item = a};
                    memset(t->grank + (size_t)x * ns, 0, (size_t)ns * sizeof *t->grank);
                    memset(t->gscore + (size_t)x * ns, 0, (size_t)ns * sizeof *t->gscore);
                }
                struct slot_row *row = &t->groups[x];
                row->flags |= (uint16_t)(1u << s);
                row->n_strat++;
                t->grank[(size_t)x * ns + s] = (uint16_t)(r + 1);
                t->gscore[(size_t)x * ns + s] = scores[r];
                row->merged += (float)(j->w[s] / (e->p.merge_k + (double)(r + 1)));
            }
        }
        if (e->p.merge_style > 0 && e->style.k) {
            /* the fused score times the customer's style lift of the article */
            for (uint32_t k = 0; k < g; k++) {
                struct slot_row *row = &t->groups[k];
                row->merged *= recall_scratch_lift(e, &t->s, c, e->style.pair[row->item], e->p.merge_style);
            }
        }
        /* merged order: fused score descending, then more strategies, then lower article;
         * fused scores are >= 0, so their bit patterns order like the values */
        for (uint32_t k = 0; k < g; k++) {
            const struct slot_row *row = &t->groups[k];
            t->keys[k] = (uint64_t)(~float_bits(row->merged)) << 32 |
                         (uint64_t)(31 - row->n_strat) << ITEM_BITS | row->item;
        }
        uint32_t keep = j->pool && g > j->pool ? j->pool : g;
        hm_smallest_u64(t->keys, g, keep); /* the first `keep` in order, the rest only cleared */
        size_t base = i * (size_t)j->m;
        for (uint32_t k = 0; k < g; k++) {
            uint32_t a = (uint32_t)(t->keys[k] & ((1u << ITEM_BITS) - 1)), x = t->slot[a];
            if (k < keep) {
                j->rows[base + k] = t->groups[x];
                memcpy(j->rrank + (base + k) * ns, t->grank + (size_t)x * ns, (size_t)ns * sizeof *j->rrank);
                memcpy(j->rscore + (base + k) * ns, t->gscore + (size_t)x * ns, (size_t)ns * sizeof *j->rscore);
            }
            t->slot[a] = UINT32_MAX;
        }
        j->count[i] = keep;
    }
    return 0;
}

struct recall_merger *recall_merger_new(const struct recall_engine *e, uint32_t pool)
{
    struct recall_merger *j = hm_xcalloc(1, sizeof *j);
    j->e = e;
    j->pool = pool;
    j->ns = recall_n_strategies;
    for (int s = 0; s < recall_n_strategies; s++) {
        const struct recall_list_params *l = recall_list_of(&e->p, s);
        j->n[s] = (uint32_t)l->n;
        j->w[s] = l->w;
        j->m += j->n[s];
    }
    size_t per_customer = ((size_t)j->m + 1) * (sizeof(struct slot_row) + (size_t)j->ns * (sizeof(uint16_t) + sizeof(float)));
    j->batch = MERGE_BLOCK;
    while (j->batch > MERGE_BLOCK_MIN && (size_t)j->batch * per_customer > MERGE_BATCH_BYTES)
        j->batch /= 2;
    for (int s = 0; s < recall_n_strategies; s++)
        if (j->n[s] && recall_strategies[s]->block) {
            j->blk_ids[s] = hm_xmalloc_array((size_t)j->batch * j->n[s], sizeof(uint32_t));
            j->blk_scores[s] = hm_xmalloc_array((size_t)j->batch * j->n[s], sizeof(float));
            j->blk_count[s] = hm_xmalloc_array(j->batch, sizeof(uint32_t));
        }
    j->nt = hm_threads() > 256 ? 256 : hm_threads();
    j->t = hm_xcalloc((size_t)j->nt, sizeof *j->t);
    j->sc = hm_xcalloc((size_t)j->nt, sizeof *j->sc);
    for (int t = 0; t < j->nt; t++) {
        recall_scratch_init(&j->t[t].s, e);
        j->sc[t] = &j->t[t].s;
        for (int s = 0; s < recall_n_strategies; s++) {
            j->t[t].list_item[s] = hm_xmalloc_array((size_t)j->n[s] + 1, sizeof(uint32_t));
            j->t[t].list_score[s] = hm_xmalloc_array((size_t)j->n[s] + 1, sizeof(float));
        }
        j->t[t].keys = hm_xmalloc_array((size_t)j->m + 1, sizeof(uint64_t));
        j->t[t].groups = hm_xmalloc_array((size_t)j->m + 1, sizeof(struct slot_row));
        j->t[t].grank = hm_xmalloc_array(((size_t)j->m + 1) * j->ns, sizeof(uint16_t));
        j->t[t].gscore = hm_xmalloc_array(((size_t)j->m + 1) * j->ns, sizeof(float));
        j->t[t].slot = hm_xmalloc_array((size_t)e->ds->articles.n + 1, sizeof(uint32_t));
        memset(j->t[t].slot, 0xff, ((size_t)e->ds->articles.n + 1) * sizeof(uint32_t));
    }
    j->rows = hm_xmalloc_array((size_t)j->batch * (j->m + 1), sizeof *j->rows);
    j->rrank = hm_xmalloc_array((size_t)j->batch * (j->m + 1) * j->ns, sizeof *j->rrank);
    j->rscore = hm_xmalloc_array((size_t)j->batch * (j->m + 1) * j->ns, sizeof *j->rscore);
    j->count = hm_xmalloc_array(j->batch, sizeof *j->count);
    return j;
}

void recall_merger_free(struct recall_merger **mp)
{
    struct recall_merger *j = *mp;
    if (!j)
        return;
    for (int t = 0; t < j->nt; t++) {
        recall_scratch_release(&j->t[t].s);
        for (int s = 0; s < recall_n_strategies; s++) {
            free(j->t[t].list_item[s]);
            free(j->t[t].list_score[s]);
        }
        free(j->t[t].keys);
        free(j->t[t].groups);
        free(j->t[t].grank);
        free(j->t[t].gscore);
        free(j->t[t].slot);
    }
    for (int s = 0; s < recall_n_strategies; s++) {
        free(j->blk_ids[s]);
        free(j->blk_scores[s]);
        free(j->blk_count[s]);
    }
    free(j->t);
    free(j->sc);
    free(j->rows);
    free(j->rrank);
    free(j->rscore);
    free(j->count);
    free(j);
    *mp = NULL;
}

int recall_merger_run(struct recall_merger *j, const uint32_t *users, uint32_t n,
                      struct recall_candidates *out, struct hm_progress *prog)
{
    const struct recall_engine *e = j->e;
    if (e->ds->articles.n >= (1u << ITEM_BITS))
        return hm_error(HM_EINVAL, "%u articles: the merge supports fewer than 2^%d", e->ds->articles.n,
                        ITEM_BITS);
    for (uint32_t i = 0; i < n; i++)
        if (users[i] >= e->ds->customers.n)
            return hm_error(HM_EINVAL, "customer row %u out of range (%u customers)", users[i],
                            e->ds->customers.n);
    int rc = 0;
    /* on shards every rank runs as many batches as the rank with the most (block strategies
     * may exchange with the other ranks) */
    uint64_t batches = ((uint64_t)n + j->batch - 1) / j->batch;
    comm_allreduce_u64(&batches, 1, COMM_MAX);
    for (uint64_t k = 0; k < batches && !rc; k++) {
        uint32_t b = (uint32_t)(k * j->batch), m = b < n ? (n - b < j->batch ? n - b : j->batch) : 0;
        j->users = users + (b < n ? b : n);
        for (int s = 0; s < recall_n_strategies && !rc; s++)
            if (j->n[s] && recall_strategies[s]->block)
                rc = recall_strategies[s]->block(e, s, j->sc, j->nt, j->users, m, j->blk_ids[s], j->blk_scores[s],
                                                 j->blk_count[s]);
        if (rc || (rc = hm_parallel_chunks(j->nt, m, 32, merge_range, j)) != 0)
            break;
        uint64_t rows = out->n;
        for (uint32_t i = 0; i < m; i++)
            rows += j->count[i];
        candidates_reserve(out, rows, out->n_users + m);
        const int ns = j->ns;
        for (uint32_t i = 0; i < m; i++) {
            size_t base = (size_t)i * j->m;
            const struct slot_row *src = j->rows + base;
            uint64_t o = out->n;
            for (uint32_t r = 0; r < j->count[i]; r++, o++) {
                out->item[o] = src[r].item;
                out->merged[o] = src[r].merged;
                out->flags[o] = src[r].flags;
                out->n_strat[o] = src[r].n_strat;
                const uint16_t *rk = j->rrank + (base + r) * ns;
                const float *sc = j->rscore + (base + r) * ns;
                for (int s = 0; s < ns; s++) {
                    out->score[s][o] = sc[s];
                    out->rank[s][o] = rk[s];
                }
            }
            out->user[out->n_users] = users[b + i];
            out->off[out->n_users] = out->n;
            out->n = o;
            out->off[++out->n_users] = o;
        }
        if (prog)
            hm_progress_add(prog, m);
    }
    out->cutoff = e->cutoff;
    return rc;
}

int recall_candidates_build(const struct recall_engine *e, const uint32_t *users, uint32_t n,
                            uint32_t pool, struct recall_candidates *out, struct hm_progress *prog)
{
    struct recall_merger *m = recall_merger_new(e, pool);
    int rc = recall_merger_run(m, users, n, out, prog);
    recall_merger_free(&m);
    return rc;
}

/* ---- the stream ---------------------------------------------------------------------------- */

#define STREAM_BLOCK_BYTES (512ull << 20)

void recall_stream_init(struct recall_stream *st, const struct recall_engine *e, const uint32_t *users,
                        uint32_t n, uint32_t block, uint32_t pool, struct hm_progress *prog)
{
    recall_stream_init_cut(st, e, users, n, block, pool, NULL, prog);
}

void recall_stream_init_cut(struct recall_stream *st, const struct recall_engine *e, const uint32_t *users,
                            uint32_t n, uint32_t block, uint32_t pool, const struct recall_cut *cut,
                            struct hm_progress *prog)
{
    memset(st, 0, sizeof *st);
    if (cut && cut->wide)
        st->cut = *cut;
    /* with a cut the merge keeps the wide rows (every row for statistics) */
    uint32_t merge_pool = st->cut.wide && pool ? st->cut.wide : pool;
    st->m = recall_merger_new(e, merge_pool);
    st->users = users;
    st->n = n;
    st->pool = pool;
    if (!block) {
        /* 32,768 customers, or fewer when their rows would pass STREAM_BLOCK_BYTES: a row is
         * 12 bytes plus a score and a rank per strategy, at most `pool` (or every slot) each;
         * with a cut, the merge's rows (and their scores) besides the kept ones */
        uint64_t slots = 0;
        for (int s = 0; s < recall_n_strategies; s++)
            slots += (uint64_t)recall_list_of(&e->p, s)->n;
        uint64_t kept = pool && pool < slots ? pool : slots, merged = merge_pool && merge_pool < slots ? merge_pool : slots;
        uint64_t row = 12 + (uint64_t)recall_n_strategies * (sizeof(float) + sizeof(uint16_t));
        uint64_t per = (kept + 1) * row + (st->cut.wide ? (merged + 1) * (row + sizeof(float)) : 0);
        block = 32768;
        while (block > 1024 && (uint64_t)block * per > STREAM_BLOCK_BYTES)
            block /= 2;
    }
    st->block = block;
    /* on shards every rank takes as many blocks as the rank with the most (the merge may
     * exchange with the other ranks): the last ones may be empty */
    st->blocks = ((uint64_t)n + block - 1) / block;
    comm_allreduce_u64(&st->blocks, 1, COMM_MAX);
    st->prog = prog;
    recall_candidates_init(&st->c);
    recall_candidates_init(&st->wide);
}

int recall_stream_next(struct recall_stream *st, const struct recall_candidates **out)
{
    *out = NULL;
    if (st->taken >= st->blocks)
        return 0;
    st->taken++;
    uint32_t m = st->n - st->next < st->block ? st->n - st->next : st->block;
    struct recall_candidates *c = st->cut.wide ? &st->wide : &st->c;
    recall_candidates_clear(c);
    int rc = recall_merger_run(st->m, st->users + st->next, m, c, st->prog);
    if (!rc && st->cut.wide) {
        HM_GROW(st->score, st->score_cap, c->n + 1);
        if ((rc = st->cut.score(st->cut.ud, c, st->cut.wide, st->score)) == 0) {
            if (st->pool)
                recall_candidates_cut(&st->c, c, st->score, st->cut.wide, st->cut.keep, st->pool);
            else
                cut_in_place(c, st->score, st->cut.wide, st->cut.keep);
        }
    }
    if (rc)
        return rc;
    st->next += m;
    *out = st->cut.wide && !st->pool ? &st->wide : &st->c;
    return 1;
}

void recall_stream_release(struct recall_stream *st)
{
    recall_merger_free(&st->m);
    recall_candidates_release(&st->c);
    recall_candidates_release(&st->wide);
    free(st->score);
    memset(st, 0, sizeof *st);
}
