/* The merge: an outer join of every strategy's list per customer, ranked by reciprocal
 * rank fusion; and the statistics of a pool against a week's purchases. */
#include "recall/recall.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t (*strategy_fn)(const struct recall_engine *, struct recall_scratch *, uint32_t, uint32_t *,
                                float *);
static const strategy_fn strategy_user[RECALL_NSTRATEGIES] = {
    recall_repurchase_user, recall_popular_user, recall_copurchase_user, recall_userknn_user,
    recall_category_user,   recall_text_user,
};

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
    for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
        free(c->score[s]);
        free(c->rank[s]);
    }
    memset(c, 0, sizeof *c);
}

static void candidates_reserve(struct recall_candidates *c, uint64_t rows, uint32_t users)
{
    c->user = hm_xrealloc(c->user, ((size_t)users + 1) * sizeof *c->user);
    c->off = hm_xrealloc(c->off, ((size_t)users + 2) * sizeof *c->off);
    if (rows <= c->cap)
        return;
    uint64_t cap = c->cap ? c->cap : 1024;
    while (cap < rows)
        cap += cap / 2;
    c->item = hm_xrealloc(c->item, cap * sizeof *c->item);
    c->merged = hm_xrealloc(c->merged, cap * sizeof *c->merged);
    c->flags = hm_xrealloc(c->flags, cap);
    c->n_strat = hm_xrealloc(c->n_strat, cap);
    for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
        c->score[s] = hm_xrealloc(c->score[s], cap * sizeof(float));
        c->rank[s] = hm_xrealloc(c->rank[s], cap * sizeof(uint16_t));
    }
    c->cap = cap;
}

/* ---- one block of customers --------------------------------------------------------- */

struct slot_row {
    uint32_t item;
    float merged;
    uint8_t flags, n_strat;
    uint16_t rank[RECALL_NSTRATEGIES];
    float score[RECALL_NSTRATEGIES];
};

struct merge_thread {
    struct recall_scratch s;
    uint32_t *list_item[RECALL_NSTRATEGIES]; /* (n_s) */
    float *list_score[RECALL_NSTRATEGIES];
    uint64_t *keys;                          /* (M) sort keys */
    struct slot_row *groups;                 /* (M) one per distinct article */
    uint32_t *slot;                          /* (n_articles) group of an article, UINT32_MAX */
};

struct merge_job {
    const struct recall_engine *e;
    const uint32_t *users;
    uint32_t pool;         /* 0: no cap */
    uint32_t n[RECALL_NSTRATEGIES];
    double w[RECALL_NSTRATEGIES];
    uint32_t m;            /* slots per customer: sum of n */
    struct slot_row *rows; /* (block, m) */
    uint32_t *text_ids;    /* (block, text_n) the block's text lists (one batch search) */
    float *text_scores;
    uint32_t *text_count;  /* (block) */
    uint32_t *count;       /* (block) */
    struct merge_thread *t;
};

static inline uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static int merge_range(size_t begin, size_t end, int tid, void *ud)
{
    struct merge_job *j = ud;
    const struct recall_engine *e = j->e;
    struct merge_thread *t = &j->t[tid];
    for (size_t i = begin; i < end; i++) {
        uint32_t c = j->users[i];
        recall_hist_build(&t->s.hist, e->ds, c, e->start, e->cutoff, e->p.tau);
        if (j->n[RECALL_S_TEXT]) {
            t->s.text_items = j->text_ids + i * (size_t)j->n[RECALL_S_TEXT];
            t->s.text_scores = j->text_scores + i * (size_t)j->n[RECALL_S_TEXT];
            t->s.text_n = j->text_count[i];
        }
        /* outer join by article: slot[article] is the article's group, UINT32_MAX when none */
        uint32_t g = 0;
        for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
            if (!j->n[s])
                continue;
            uint32_t n = strategy_user[s](e, &t->s, c, t->list_item[s], t->list_score[s]);
            for (uint32_t r = 0; r < n; r++) {
                uint32_t a = t->list_item[s][r];
                struct slot_row *row;
                if (t->slot[a] == UINT32_MAX) {
                    t->slot[a] = g;
                    row = &t->groups[g++];
                    memset(row, 0, sizeof *row);
                    row->item = a;
                } else {
                    row = &t->groups[t->slot[a]];
                }
                row->flags |= (uint8_t)(1u << s);
                row->n_strat++;
                row->rank[s] = (uint16_t)(r + 1);
                row->score[s] = t->list_score[s][r];
                row->merged += (float)(j->w[s] / (e->p.merge_k + (double)(r + 1)));
            }
        }
        /* merged order: fused score descending, then more strategies, then lower article;
         * fused scores are >= 0, so their bit patterns order like the values */
        for (uint32_t k = 0; k < g; k++) {
            const struct slot_row *row = &t->groups[k];
            t->keys[k] = (uint64_t)(~float_bits(row->merged)) << 32 | (uint64_t)(7 - row->n_strat) << 29 | row->item;
        }
        hm_sort_u64(t->keys, g);
        uint32_t keep = j->pool && g > j->pool ? j->pool : g;
        struct slot_row *out = j->rows + i * (size_t)j->m;
        for (uint32_t k = 0; k < g; k++) {
            uint32_t a = (uint32_t)(t->keys[k] & ((1u << 29) - 1));
            if (k < keep)
                out[k] = t->groups[t->slot[a]];
            t->slot[a] = UINT32_MAX;
        }
        j->count[i] = keep;
    }
    return 0;
}

int recall_candidates_build(const struct recall_engine *e, const uint32_t *users, uint32_t n,
                            uint32_t pool, struct recall_candidates *out, struct hm_progress *prog)
{
    struct merge_job j = {.e = e, .pool = pool};
    recall_params_lists(&e->p, j.n, j.w);
    for (int s = 0; s < RECALL_NSTRATEGIES; s++)
        j.m += j.n[s];
    if (e->ds->articles.n >= (1u << 29))
        return hm_error(HM_EINVAL, "%u articles: the merge supports fewer than 2^29", e->ds->articles.n);
    for (uint32_t i = 0; i < n; i++)
        if (users[i] >= e->ds->customers.n)
            return hm_error(HM_EINVAL, "customer row %u out of range (%u customers)", users[i],
                            e->ds->customers.n);
    int nt = hm_threads();
    if (nt > 256)
        nt = 256;
    j.t = hm_xcalloc((size_t)nt, sizeof *j.t);
    for (int t = 0; t < nt; t++) {
        recall_scratch_init(&j.t[t].s, e);
        for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
            j.t[t].list_item[s] = hm_xmalloc_array((size_t)j.n[s] + 1, sizeof(uint32_t));
            j.t[t].list_score[s] = hm_xmalloc_array((size_t)j.n[s] + 1, sizeof(float));
        }
        j.t[t].keys = hm_xmalloc_array((size_t)j.m + 1, sizeof(uint64_t));
        j.t[t].groups = hm_xmalloc_array((size_t)j.m + 1, sizeof(struct slot_row));
        j.t[t].slot = hm_xmalloc_array((size_t)e->ds->articles.n + 1, sizeof(uint32_t));
        memset(j.t[t].slot, 0xff, ((size_t)e->ds->articles.n + 1) * sizeof(uint32_t));
    }
    const uint32_t block = 4096;
    j.rows = hm_xmalloc_array((size_t)block * (j.m + 1), sizeof *j.rows);
    j.count = hm_xmalloc_array(block, sizeof *j.count);
    uint32_t tn = j.n[RECALL_S_TEXT];
    if (tn) {
        j.text_ids = hm_xmalloc_array((size_t)block * tn, sizeof *j.text_ids);
        j.text_scores = hm_xmalloc_array((size_t)block * tn, sizeof *j.text_scores);
        j.text_count = hm_xmalloc_array(block, sizeof *j.text_count);
    }
    int rc = 0;
    for (uint32_t b = 0; b < n && !rc; b += block) {
        uint32_t m = n - b < block ? n - b : block;
        j.users = users + b;
        if (tn && (rc = recall_text_batch(e, j.users, m, j.text_ids, j.text_scores, j.text_count)) != 0)
            break;
        if ((rc = hm_parallel_chunks(nt, m, 32, merge_range, &j)) != 0)
            break;
        uint64_t rows = out->n;
        for (uint32_t i = 0; i < m; i++)
            rows += j.count[i];
        candidates_reserve(out, rows, out->n_users + m);
        for (uint32_t i = 0; i < m; i++) {
            const struct slot_row *src = j.rows + (size_t)i * j.m;
            uint64_t o = out->n;
            for (uint32_t r = 0; r < j.count[i]; r++, o++) {
                out->item[o] = src[r].item;
                out->merged[o] = src[r].merged;
                out->flags[o] = src[r].flags;
                out->n_strat[o] = src[r].n_strat;
                for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
                    out->score[s][o] = src[r].score[s];
                    out->rank[s][o] = src[r].rank[s];
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
    for (int t = 0; t < nt; t++) {
        recall_scratch_release(&j.t[t].s);
        for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
            free(j.t[t].list_item[s]);
            free(j.t[t].list_score[s]);
        }
        free(j.t[t].keys);
        free(j.t[t].groups);
        free(j.t[t].slot);
    }
    free(j.t);
    free(j.rows);
    free(j.count);
    free(j.text_ids);
    free(j.text_scores);
    free(j.text_count);
    return rc;
}

/* ---- statistics ------------------------------------------------------------------------ */

const uint32_t recall_stat_sizes[RECALL_NSIZES] = {25, 50, 100, 200};

void recall_stats_add(struct recall_stats *st, const struct recall_candidates *c,
                      const struct prep_truth *truth)
{
    for (uint32_t i = 0; i < c->n_users; i++) {
        uint64_t b = c->off[i], e = c->off[i + 1], n = e - b;
        st->users++;
        st->rows += st->pool && n > st->pool ? st->pool : n;
        for (int z = 0; z < RECALL_NSIZES; z++)
            st->rows_size[z] += n < recall_stat_sizes[z] ? n : recall_stat_sizes[z];
        for (uint64_t r = b; r < e; r++)
            for (int s = 0; s < RECALL_NSTRATEGIES; s++)
                st->strat_rows[s] += c->flags[r] >> s & 1;
        /* the customer's purchases in the week (truth users ascending) */
        uint32_t lo = 0, hi = truth->n_users, u = c->user[i];
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (truth->user[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == truth->n_users || truth->user[lo] != u)
            continue;
        st->truth_users++;
        for (uint64_t k = truth->off[lo]; k < truth->off[lo + 1]; k++) {
            st->truth_pairs++;
            uint64_t r = b;
            while (r < e && c->item[r] != truth->items[k])
                r++;
            if (r == e)
                continue;
            uint64_t pos = r - b;
            int in_pool = !st->pool || pos < st->pool;
            st->hits += in_pool;
            for (int z = 0; z < RECALL_NSIZES; z++)
                st->hits_size[z] += pos < recall_stat_sizes[z];
            for (int s = 0; s < RECALL_NSTRATEGIES; s++) {
                st->hits_strategy[s] += c->flags[r] >> s & 1;
                st->unique[s] += in_pool && c->flags[r] == (1u << s);
            }
        }
    }
}

static double share(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0; }

char *recall_stats_format(const struct recall_stats *st)
{
    size_t cap = 4096, len = 0;
    char *out = hm_xmalloc(cap);
#define OUT(...) len += (size_t)snprintf(out + len, cap - len, __VA_ARGS__)
    OUT("customers %llu (%llu bought in the week: %llu purchase pairs)\n", (unsigned long long)st->users,
        (unsigned long long)st->truth_users, (unsigned long long)st->truth_pairs);
    OUT("pool: at most %u per customer, mean %.1f\n", st->pool, share(st->rows, st->users));
    OUT("%-12s %12s %10s %10s\n", "strategy", "cands/user", "recall", "unique");
    for (int s = 0; s < RECALL_NSTRATEGIES; s++)
        OUT("%-12s %12.1f %10.4f %10.4f\n", recall_strategy_name[s], share(st->strat_rows[s], st->users),
            share(st->hits_strategy[s], st->truth_pairs), share(st->unique[s], st->truth_pairs));
    OUT("%-12s %12.1f %10.4f\n", "merged pool", share(st->rows, st->users), share(st->hits, st->truth_pairs));
    OUT("recall at pool size:");
    for (int z = 0; z < RECALL_NSIZES; z++)
        OUT("  %u: %.4f", recall_stat_sizes[z], share(st->hits_size[z], st->truth_pairs));
    OUT("\n");
#undef OUT
    return out;
}

char *recall_stats_svg(const struct recall_stats *st)
{
    /* 480 x 300, x: pool size 0..200 (linear), y: recall 0..ymax */
    double ymax = 0;
    for (int z = 0; z < RECALL_NSIZES; z++)
        if (share(st->hits_size[z], st->truth_pairs) > ymax)
            ymax = share(st->hits_size[z], st->truth_pairs);
    ymax = ymax > 0 ? ceil(ymax * 20 + 0.5) / 20 : 0.05;
    size_t cap = 8192, len = 0;
    char *out = hm_xmalloc(cap);
#define OUT(...) len += (size_t)snprintf(out + len, cap - len, __VA_ARGS__)
#define X(v) (60.0 + (double)(v) / 200.0 * 390.0)
#define Y(v) (250.0 - (v) / ymax * 220.0)
    OUT("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"300\" font-family=\"sans-serif\" "
        "font-size=\"11\">\n<rect width=\"480\" height=\"300\" fill=\"white\"/>\n");
    OUT("<text x=\"240\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">candidate recall vs pool size</text>\n");
    OUT("<line x1=\"60\" y1=\"250\" x2=\"450\" y2=\"250\" stroke=\"black\"/>\n"
        "<line x1=\"60\" y1=\"250\" x2=\"60\" y2=\"30\" stroke=\"black\"/>\n");
    for (int k = 0; k <= 4; k++) {
        double v = ymax * k / 4;
        OUT("<line x1=\"56\" y1=\"%.1f\" x2=\"450\" y2=\"%.1f\" stroke=\"#ddd\"/>"
            "<text x=\"52\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>\n", Y(v), Y(v), Y(v) + 4, v);
    }
    for (int z = 0; z < RECALL_NSIZES; z++)
        OUT("<text x=\"%.1f\" y=\"266\" text-anchor=\"middle\">%u</text>\n", X(recall_stat_sizes[z]),
            recall_stat_sizes[z]);
    OUT("<text x=\"255\" y=\"288\" text-anchor=\"middle\">candidates per customer</text>\n");
    OUT("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"%.1f,%.1f", X(0), Y(0.0));
    for (int z = 0; z < RECALL_NSIZES; z++)
        OUT(" %.1f,%.1f", X(recall_stat_sizes[z]), Y(share(st->hits_size[z], st->truth_pairs)));
    OUT("\"/>\n");
    for (int z = 0; z < RECALL_NSIZES; z++) {
        double r = share(st->hits_size[z], st->truth_pairs);
        OUT("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.4f</text>\n",
            X(recall_stat_sizes[z]), Y(r), X(recall_stat_sizes[z]), Y(r) - 7, r);
    }
    OUT("</svg>\n");
#undef X
#undef Y
#undef OUT
    return out;
}
