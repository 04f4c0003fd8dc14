/* Item neighbour tables, shared by the strategies that propose the neighbours of a customer's
 * items (co-purchase: Jaccard of buyer sets; same basket: P(j | i) within baskets): built
 * once per cutoff in parallel over articles (on shards, each rank its articles, then shared),
 * and gathered per customer from their best history items. Also the article pairs' counts
 * that a table is built from when the customers are spread over ranks. */
#include "recall/recall.h"
#include "comm/comm.h"

#include <stdlib.h>
#include <string.h>

enum { NBRS_MAX_THREADS = 256, NBRS_CHUNK = 256 };

struct nbrs_job {
    struct recall_item_nbrs *t;
    recall_nbr_fn fn;
    void *ud;
    struct hm_acc *acc; /* (threads) over the articles */
};

static int nbrs_range(size_t begin, size_t end, int tid, void *ud)
{
    struct nbrs_job *j = ud;
    struct recall_item_nbrs *t = j->t;
    struct hm_acc *acc = &j->acc[tid];
    for (size_t i = begin; i < end; i++) {
        j->fn((uint32_t)i, acc, j->ud);
        t->n_nbr[i] = acc->n_touched ? (uint8_t)hm_acc_top(acc, t->k, t->nbr + i * t->k, t->w + i * t->k, NULL) : 0;
    }
    return 0;
}

void recall_item_nbrs_build(struct recall_item_nbrs *t, const struct data_set *ds, uint32_t k, recall_nbr_fn fn,
                            void *ud)
{
    uint32_t n_articles = ds->articles.n;
    t->k = k;
    t->nbr = hm_xcalloc((size_t)n_articles * k + 1, sizeof *t->nbr);
    t->w = hm_xcalloc((size_t)n_articles * k + 1, sizeof *t->w);
    t->n_nbr = hm_xcalloc((size_t)n_articles + 1, 1);
    int nt = hm_threads() > NBRS_MAX_THREADS ? NBRS_MAX_THREADS : hm_threads();
    struct nbrs_job j = {t, fn, ud, hm_xcalloc((size_t)nt, sizeof(struct hm_acc))};
    for (int i = 0; i < nt; i++)
        hm_acc_init(&j.acc[i], n_articles);
    data_article_pass(ds, nt, NBRS_CHUNK, nbrs_range, &j);
    for (int i = 0; i < nt; i++)
        hm_acc_release(&j.acc[i]);
    free(j.acc);
    data_article_share(ds, t->nbr, (size_t)k * sizeof *t->nbr);
    data_article_share(ds, t->w, (size_t)k * sizeof *t->w);
    data_article_share(ds, t->n_nbr, 1);
}

/* ---- article pairs' counts ------------------------------------------------------------------ */

/* A pair's count as sent to the rank of its first article. */
struct pair_count {
    uint64_t key;
    uint64_t count;
};

static int pair_key_cmp(const void *a, const void *b)
{
    const struct pair_count *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

void recall_pair_counts(const struct data_set *ds, uint64_t *keys, uint64_t n, struct recall_pairs *out)
{
    memset(out, 0, sizeof *out);
    int nr = comm_size();
    uint32_t na = ds->articles.n;
    /* this rank's counts, in key order */
    hm_sort_u64(keys, n);
    uint64_t m = 0;
    for (uint64_t x = 0; x < n; x++)
        m += !x || keys[x] != keys[x - 1];
    struct pair_count *mine = hm_xmalloc_array(m + 1, sizeof *mine);
    m = 0;
    for (uint64_t x = 0; x < n; x++) {
        if (!x || keys[x] != keys[x - 1])
            mine[m++] = (struct pair_count){keys[x], 0};
        mine[m - 1].count++;
    }
    /* to the ranks of the first articles (keys are sorted: each rank's pairs are a run) */
    uint32_t *edges = hm_xmalloc_array((size_t)nr + 1, sizeof *edges);
    data_article_edges(ds, edges);
    uint64_t *cnt = hm_xcalloc((size_t)nr, sizeof *cnt), *got = hm_xcalloc((size_t)nr, sizeof *got);
    for (uint64_t x = 0; x < m; x++)
        cnt[data_article_owner(edges, nr, (uint32_t)(mine[x].key >> 32))] += sizeof *mine;
    free(edges);
    struct pair_count *all = comm_alltoallv(mine, cnt, got);
    free(mine);
    uint64_t total = 0;
    for (int r = 0; r < nr; r++)
        total += got[r] / sizeof *all;
    free(cnt);
    free(got);
    /* the same pair from several ranks: one count (integers: any order) */
    if (nr > 1)
        qsort(all, total, sizeof *all, pair_key_cmp);
    out->off = hm_xcalloc((size_t)na + 1, sizeof *out->off);
    out->item = hm_xmalloc_array(total + 1, sizeof *out->item);
    out->count = hm_xmalloc_array(total + 1, sizeof *out->count);
    uint64_t k = 0;
    for (uint64_t x = 0; x < total; x++) {
        if (k && all[x].key == all[k - 1].key) {
            all[k - 1].count += all[x].count;
            continue;
        }
        all[k++] = all[x];
    }
    for (uint64_t x = 0; x < k; x++) {
        out->off[(all[x].key >> 32) + 1]++;
        out->item[x] = (uint32_t)all[x].key;
        out->count[x] = all[x].count > UINT32_MAX ? UINT32_MAX : (uint32_t)all[x].count;
    }
    for (uint32_t a = 0; a < na; a++)
        out->off[a + 1] += out->off[a];
    free(all);
}

void recall_pairs_release(struct recall_pairs *p)
{
    free(p->off);
    free(p->item);
    free(p->count);
    memset(p, 0, sizeof *p);
}

void recall_item_nbrs_release(struct recall_item_nbrs *t)
{
    free(t->nbr);
    free(t->w);
    free(t->n_nbr);
    t->nbr = NULL;
    t->w = NULL;
    t->n_nbr = NULL;
}

void recall_item_nbrs_gather(const struct recall_engine *e, const struct recall_item_nbrs *t,
                             const struct recall_hist *h, struct hm_acc *out)
{
    uint32_t q = 0;
    for (uint32_t i = 0; i < h->n && q < (uint32_t)e->p.query_items; i++) {
        uint32_t a = h->item[i];
        if (!e->keep[a])
            continue;
        q++;
        for (uint32_t x = 0; x < t->n_nbr[a]; x++)
            hm_acc_add(out, t->nbr[(size_t)a * t->k + x], h->score[i] * t->w[(size_t)a * t->k + x]);
    }
}

void recall_item_nbrs_free(void *state)
{
    struct recall_item_nbrs *t = state;
    if (!t)
        return;
    recall_item_nbrs_release(t);
    free(t);
}

uint32_t recall_item_nbrs_of(const struct recall_item_nbrs *t, uint32_t a, const uint32_t **nbr, const float **w)
{
    *nbr = t->nbr + (size_t)a * t->k;
    *w = t->w + (size_t)a * t->k;
    return t->n_nbr[a];
}
