/* synth/generate.c: synth_generate, the whole run. Customers are generated in fixed blocks
 * in parallel (each from its own random stream), the rows are bucketed by day (stable, so
 * the order within a day is the customer order), then every file is written. */
#include "synth/synth_internal.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK 2048 /* customers per generation block */

struct gen_ctx {
    const struct synth_model *m;
    struct synth_recbuf *blocks;     /* (n_blocks) */
    struct synth_scratch *scratch;   /* (threads) */
    struct synth_hist *hist;         /* (threads) */
    uint32_t *oracle_top;            /* (n_customers, k, 12) */
    uint8_t *oracle_n;               /* (n_customers, k) */
    int first_oracle_week, k;        /* the oracle weeks: the data's last ones, the held-out week */
    struct hm_progress *prog;
};

static int gen_block(size_t begin, size_t end, int tid, void *ud)
{
    struct gen_ctx *x = ud;
    size_t b = begin / BLOCK;
    for (size_t i = begin; i < end; i++) {
        struct synth_oracle_slots o = {x->first_oracle_week, x->k, x->oracle_top + i * (size_t)x->k * 12,
                                       x->oracle_n + i * (size_t)x->k};
        synth_customer_generate(x->m, i, &x->hist[tid], &x->scratch[tid], &x->blocks[b], &o);
    }
    hm_progress_add(x->prog, end - begin);
    return 0;
}

/* Every customer's rows, block by block in parallel (each customer from its own streams). */
static void generate_customers(struct gen_ctx *x, size_t nc, size_t n_articles)
{
    int nt = hm_threads();
    x->blocks = hm_xcalloc((nc + BLOCK - 1) / BLOCK, sizeof *x->blocks);
    x->scratch = hm_xmalloc_array((size_t)nt, sizeof *x->scratch);
    x->hist = hm_xcalloc((size_t)nt, sizeof *x->hist);
    for (int i = 0; i < nt; i++) {
        synth_scratch_init(&x->scratch[i], n_articles);
        x->hist[i].in_hist = hm_xcalloc(n_articles, 1);
    }
    x->oracle_top = hm_xmalloc_array(nc * (size_t)x->k * 12, sizeof(uint32_t));
    x->oracle_n = hm_xcalloc(nc * (size_t)x->k, 1);
    struct hm_progress prog;
    hm_progress_begin(&prog, "generate customers", nc);
    x->prog = &prog;
    hm_parallel_chunks(nt, nc, BLOCK, gen_block, x);
    hm_progress_end(&prog);
    for (int i = 0; i < nt; i++) {
        synth_scratch_release(&x->scratch[i]);
        free(x->hist[i].art);
        free(x->hist[i].week);
        free(x->hist[i].in_hist);
    }
    free(x->scratch);
    free(x->hist);
}

/* The blocks' rows bucketed by day, stable (within a day: customer order); frees the blocks.
 * The held-out week's rows come last (its days follow the data's). */
static struct synth_rec *bucket_by_day(struct synth_recbuf *blocks, size_t n_blocks, size_t n_days,
                                       size_t *n_out, struct synth_summary *out)
{
    size_t n = 0;
    size_t *start = hm_xcalloc(n_days + 1, sizeof(size_t));
    for (size_t b = 0; b < n_blocks; b++) {
        n += blocks[b].n;
        for (size_t i = 0; i < blocks[b].n; i++)
            start[blocks[b].r[i].day + 1]++;
    }
    for (size_t d = 0; d < n_days; d++)
        start[d + 1] += start[d];
    struct synth_rec *recs = hm_xmalloc_array(n ? n : 1, sizeof *recs);
    for (size_t b = 0; b < n_blocks; b++) {
        for (size_t i = 0; i < blocks[b].n; i++)
            recs[start[blocks[b].r[i].day]++] = blocks[b].r[i];
        for (int k = 0; k < SYNTH_N_SOURCES; k++) {
            out->items_by_source[k] += blocks[b].by_source[k];
            out->test_items_by_source[k] += blocks[b].by_source_held[k];
        }
        free(blocks[b].r);
    }
    free(blocks);
    free(start);
    *n_out = n;
    return recs;
}

static int write_manifest(const struct synth_params *p, const struct synth_summary *s,
                          const char *dir)
{
    size_t nt;
    const struct hm_setting *t = synth_settings(&nt);
    char *settings = hm_settings_format(t, nt, p, "");
    char *text = hm_xasprintf(
        "# hmrec synth manifest\nformat = 1\n%s"
        "rows.transactions = %llu\nrows.customers = %llu\nrows.articles = %llu\n"
        "rows.products = %llu\ncustomers.never_bought = %llu\noracle.weeks = %d\n",
        settings, (unsigned long long)s->n_rows, (unsigned long long)s->n_customers,
        (unsigned long long)s->n_articles, (unsigned long long)s->n_products,
        (unsigned long long)s->n_never, s->n_weeks - s->test_week);
    free(settings);
    for (int k = 0; k < SYNTH_N_SOURCES; k++) {
        char *more = hm_xasprintf("%sitems.%s = %llu\n", text, synth_source_names[k],
                                  (unsigned long long)s->items_by_source[k]);
        free(text);
        text = more;
    }
    if (s->test_week) {
        char d[11];
        hm_date_format(s->weeks[s->n_weeks - 1].first_day, d);
        char *more = hm_xasprintf("%stest_week.first_day = %s\ntest_week.rows = %llu\ntest_week.buyers = %llu\n",
                                  text, d, (unsigned long long)s->n_test_rows,
                                  (unsigned long long)s->weeks[s->n_weeks - 1].n_buyers);
        free(text);
        text = more;
        for (int k = 0; k < SYNTH_N_SOURCES; k++) {
            more = hm_xasprintf("%stest_week.items.%s = %llu\n", text, synth_source_names[k],
                                (unsigned long long)s->test_items_by_source[k]);
            free(text);
            text = more;
        }
    }
    char *path = hm_path_join(dir, "manifest.txt");
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    free(path);
    if (rc == 0) {
        hm_awriter_write(&w, text, strlen(text));
        rc = hm_awriter_commit(&w);
    }
    free(text);
    return rc;
}

static uint64_t count_never(const struct synth_rec *recs, size_t n, size_t nc)
{
    uint8_t *bought = hm_xcalloc(nc ? nc : 1, 1);
    for (size_t i = 0; i < n; i++)
        bought[recs[i].customer] = 1;
    uint64_t never = 0;
    for (size_t i = 0; i < nc; i++)
        never += !bought[i];
    free(bought);
    return never;
}

/* The data's files: transactions (the data's rows only), articles, customers, embeddings and
 * images. */
static int write_data(const struct synth_params *p, const struct synth_model *m, const struct synth_rec *recs,
                      size_t n_data, const char *dir, int64_t t0)
{
    int rc = synth_write_transactions(recs, n_data, m->cu, m->cat, m->wk->day0, p->price_scale, dir);
    if (rc)
        return rc;
    hm_info("synth: transactions written (%.1f s)", hm_seconds_since(t0));
    if ((rc = synth_write_articles(m->cat, m->tax, p, dir)) || (rc = synth_write_customers(m->cu, p, dir)) ||
        (rc = synth_write_embeddings(m->cat, (uint64_t)p->seed, p->image_noise, dir)))
        return rc;
    if (p->images && (rc = synth_write_images(m->cat, m->tax, p, dir)))
        return rc;
    hm_info("synth: articles, customers and embeddings written (%.1f s)", hm_seconds_since(t0));
    return 0;
}

int synth_generate(const struct synth_params *p, const char *dir, struct synth_summary *out)
{
    int64_t t0 = hm_now_ns();
    memset(out, 0, sizeof *out);
    int32_t first, last;
    if (hm_date_parse(p->first_day, strlen(p->first_day), &first) ||
        hm_date_parse(p->last_day, strlen(p->last_day), &last) || last < first + 6)
        return hm_error(HM_EINVAL, "synth: bad dates '%s' .. '%s' (YYYY-MM-DD, at least a week)",
                        p->first_day, p->last_day);
    int n_weeks = (last - first + 1 + 6) / 7, n_held = p->test_week ? 1 : 0;
    if (n_weeks + n_held > 1024 || p->oracle_weeks >= n_weeks)
        return hm_error(HM_EINVAL, "synth: %d weeks is out of range (oracle weeks %ld)", n_weeks,
                        p->oracle_weeks);
    int32_t day0 = last - 7 * n_weeks + 1;
    int rc = hm_mkdirs(dir);
    if (rc)
        return rc;

    static struct synth_taxonomy tax; /* large; read-only after loading */
    synth_taxonomy_load(&tax);
    struct synth_catalogue cat;
    synth_catalogue_build(&cat, &tax, p, n_weeks);
    hm_info("synth: %zu articles in %zu products (%.1f s)", cat.n, cat.n_products, hm_seconds_since(t0));
    struct synth_weeks wk;
    synth_weeks_build(&wk, &cat, p, day0, n_weeks, n_held);
    struct synth_customers cu;
    synth_customers_build(&cu, p);
    struct synth_model m;
    synth_model_init(&m, p, &tax, &cat, &wk, &cu);
    hm_info("synth: catalogue, weeks and customers ready (%.1f s)", hm_seconds_since(t0));

    /* purchases */
    int K = (int)p->oracle_weeks;
    size_t nc = cu.n, n_blocks = (nc + BLOCK - 1) / BLOCK;
    struct gen_ctx x;
    memset(&x, 0, sizeof x);
    x.m = &m;
    x.first_oracle_week = n_weeks - K;
    x.k = K + n_held;
    generate_customers(&x, nc, cat.n);
    size_t n_all, n = 0;
    struct synth_rec *recs = bucket_by_day(x.blocks, n_blocks, (size_t)wk.n_weeks * 7, &n_all, out);
    while (n < n_all && recs[n].day < 7 * n_weeks)
        n++; /* the data's rows; the held-out week's follow */
    hm_info("synth: %zu transaction rows generated, %zu in the held-out week (%.1f s)", n, n_all - n,
            hm_seconds_since(t0));

    out->n_rows = n;
    out->n_test_rows = n_all - n;
    out->test_week = n_held;
    out->n_customers = nc;
    out->n_articles = cat.n;
    out->n_products = cat.n_products;
    out->n_never = count_never(recs, n, nc);
    if ((rc = write_data(p, &m, recs, n, dir, t0)) == 0 &&
        (rc = synth_oracle_write(&m, recs, n_all, x.oracle_top, x.oracle_n, n_weeks - K, K + n_held, dir,
                                 out)) == 0) {
        out->seconds = hm_seconds_since(t0);
        rc = write_manifest(p, out, dir);
    }
    free(recs);
    free(x.oracle_top);
    free(x.oracle_n);
    synth_model_release(&m);
    synth_customers_release(&cu);
    synth_weeks_release(&wk);
    synth_catalogue_release(&cat);
    return rc;
}
