/* Article attributes as the strategies use them: dense ids of a column's distinct values
 * (or of pairs of columns), and each article's price level within its group. */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

static uint64_t value_key(int32_t v) { return (uint64_t)((int64_t)v - INT32_MIN); }

uint32_t recall_dense_ids(const int32_t *col, uint32_t na, uint32_t *out)
{
    if (!na)
        return 0;
    uint64_t *keys = hm_xmalloc_array(na, sizeof *keys);
    for (uint32_t a = 0; a < na; a++)
        keys[a] = value_key(col[a]) << 32 | a;
    hm_sort_u64(keys, na);
    uint32_t nv = 0;
    for (uint32_t i = 0; i < na; i++) {
        if (i && (keys[i] >> 32) != (keys[i - 1] >> 32))
            nv++;
        out[(uint32_t)keys[i]] = nv;
    }
    free(keys);
    return nv + 1;
}

uint32_t recall_dense_u64(const uint64_t *keys, uint32_t n, uint32_t *out)
{
    uint64_t *sorted = hm_xmalloc_array((size_t)n + 1, sizeof *sorted);
    memcpy(sorted, keys, (size_t)n * sizeof *sorted);
    hm_sort_u64(sorted, n);
    uint32_t nv = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!i || sorted[i] != sorted[i - 1])
            sorted[nv++] = sorted[i];
    for (uint32_t x = 0; x < n; x++) {
        uint32_t lo = 0, hi = nv;
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (sorted[mid] <= keys[x])
                lo = mid;
            else
                hi = mid;
        }
        out[x] = lo;
    }
    free(sorted);
    return nv;
}

uint32_t recall_dense_pairs(const int32_t *a, const int32_t *b, uint32_t na, uint32_t *out)
{
    uint64_t *keys = hm_xmalloc_array((size_t)na + 1, sizeof *keys);
    for (uint32_t x = 0; x < na; x++)
        keys[x] = value_key(a[x]) << 32 | value_key(b[x]);
    uint32_t nv = recall_dense_u64(keys, na, out);
    free(keys);
    return nv;
}

void recall_groups_init(struct recall_groups *g, const uint32_t *group, uint32_t n_groups, uint32_t na,
                        const uint8_t *keep)
{
    g->n = n_groups;
    g->off = hm_xcalloc((size_t)n_groups + 1, sizeof *g->off);
    for (uint32_t a = 0; a < na; a++)
        if (!keep || keep[a])
            g->off[group[a] + 1]++;
    for (uint32_t v = 0; v < n_groups; v++)
        g->off[v + 1] += g->off[v];
    g->item = hm_xmalloc_array((size_t)g->off[n_groups] + 1, sizeof *g->item);
    uint32_t *pos = hm_xmalloc_array((size_t)n_groups + 1, sizeof *pos);
    memcpy(pos, g->off, (size_t)n_groups * sizeof *pos);
    for (uint32_t a = 0; a < na; a++)
        if (!keep || keep[a])
            g->item[pos[group[a]]++] = a;
    free(pos);
}

void recall_groups_release(struct recall_groups *g)
{
    free(g->off);
    free(g->item);
    memset(g, 0, sizeof *g);
}

/* ---- price levels ------------------------------------------------------------------------- */

struct price_job {
    const struct data_set *ds;
    int32_t start, cutoff;
    float *price; /* (n_articles) */
};

static int price_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct price_job *j = ud;
    const struct data_transactions *tx = &j->ds->art.tx;
    for (size_t a = begin; a < end; a++) {
        float best = 0;
        for (uint64_t k = tx->art_off[a]; k < tx->art_off[a + 1]; k++) {
            uint32_t r = tx->art_rows[k];
            if (tx->day[r] >= j->start && tx->day[r] < j->cutoff && tx->price[r] > best)
                best = tx->price[r];
        }
        j->price[a] = best;
    }
    return 0;
}

void recall_price_levels(const struct data_set *ds, int32_t start, int32_t cutoff, const uint32_t *group,
                         uint32_t n_groups, uint32_t levels, uint8_t *out)
{
    uint32_t na = ds->articles.n;
    struct price_job j = {ds, start, cutoff, hm_xmalloc_array((size_t)na + 1, sizeof(float))};
    data_article_pass(ds, 0, 2048, price_range, &j);
    data_article_share(ds, j.price, sizeof *j.price);
    /* articles by (price, article); positive floats order like their bits */
    uint64_t *keys = hm_xmalloc_array((size_t)na + 1, sizeof *keys);
    uint32_t *count = hm_xcalloc((size_t)n_groups + 1, sizeof *count);
    uint32_t m = 0;
    for (uint32_t a = 0; a < na; a++) {
        out[a] = (uint8_t)levels; /* unknown: never sold before the cutoff */
        if (!(j.price[a] > 0))
            continue;
        uint32_t bits;
        memcpy(&bits, &j.price[a], 4);
        keys[m++] = (uint64_t)bits << 32 | a;
        count[group[a]]++;
    }
    hm_sort_u64(keys, m);
    /* walking in price order, an article's rank within its group is the group's count so far */
    uint32_t *seen = hm_xcalloc((size_t)n_groups + 1, sizeof *seen);
    for (uint32_t i = 0; i < m; i++) {
        uint32_t a = (uint32_t)keys[i], g = group[a], r = seen[g]++;
        out[a] = (uint8_t)((uint64_t)r * levels / count[g]);
    }
    free(seen);
    free(count);
    free(keys);
    free(j.price);
}

uint32_t recall_capped_ids(const int32_t *col, uint32_t na, uint8_t *out)
{
    uint32_t *ids = hm_xmalloc_array((size_t)na + 1, sizeof *ids);
    uint32_t n = col ? recall_dense_ids(col, na, ids) : 1;
    for (uint32_t a = 0; a < na; a++)
        out[a] = (uint8_t)(!col ? 0 : ids[a] < RECALL_CAPPED_VALUES - 1 ? ids[a] : RECALL_CAPPED_VALUES - 1);
    free(ids);
    return n < RECALL_CAPPED_VALUES ? n : RECALL_CAPPED_VALUES;
}

uint32_t recall_cells(const struct data_articles *art, uint32_t *cell)
{
    if (art->num[IO_ART_PRODUCT_TYPE_NO] && art->num[IO_ART_INDEX_GROUP_NO])
        return recall_dense_pairs(art->num[IO_ART_PRODUCT_TYPE_NO], art->num[IO_ART_INDEX_GROUP_NO], art->n, cell);
    memset(cell, 0, (size_t)art->n * sizeof *cell);
    return 1;
}
