/* Stage 1-3 on shards: the item universe, the merged candidate pool of every customer (all
 * twelve strategies' lists, scores and ranks, the fused score) and every feature of every
 * candidate, as of the validation cutoff of the tiny preset, computed by 1 process on the whole store and by
 * 2 and 3 ranks under mpirun on their shards (loopback, bounded in time). Each rank writes
 * its customers' rows; merged by customer, the bytes must be the one process's.
 *
 * The program is also its own rank: `test_ranks --job DATA STORE WORK OUT` computes the rows
 * of this rank's customers (every customer with one process) into OUT/rank-R.bin. */
#include "comm/comm.h"
#include "mpirun.h"
#include "pipeline/pipeline.h"
#include "test.h"

#include <unistd.h>

/* ---- a rank ------------------------------------------------------------------------------ */

static int write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

/* One customer's record: customer, rows, then per row the candidate's columns and features. */
static int write_block(FILE *f, const struct recall_candidates *c, const float *x, uint32_t nc)
{
    int rc = 0;
    for (uint32_t i = 0; i < c->n_users && !rc; i++) {
        uint32_t head[2] = {c->user[i], (uint32_t)(c->off[i + 1] - c->off[i])};
        rc = write_all(f, head, sizeof head);
        for (uint64_t r = c->off[i]; r < c->off[i + 1] && !rc; r++) {
            rc |= write_all(f, &c->item[r], 4);
            rc |= write_all(f, &c->merged[r], 4);
            rc |= write_all(f, &c->flags[r], 2);
            rc |= write_all(f, &c->n_strat[r], 1);
            for (int s = 0; s < recall_n_strategies; s++) {
                rc |= write_all(f, &c->score[s][r], 4);
                rc |= write_all(f, &c->rank[s][r], 2);
            }
            rc |= write_all(f, x + r * nc, (size_t)nc * sizeof *x);
        }
    }
    return rc;
}

static int job(const char *data, const char *store, const char *work, const char *out)
{
    int me = comm_rank(), n = comm_size();
    char *dir = data_shard_dir(store, me, n), wdir[200], image[200], path[700];
    snprintf(wdir, sizeof wdir, "%s/rank-%d-of-%d", work, me, n);
    snprintf(image, sizeof image, "%s/image_embeddings.npy", data);
    /* every strategy on, text similarity and category too (off by default) */
    char *sets[] = {"recall.text_n=30", "recall.cat_n=30", "prepare.users=150"};
    struct pipeline_config cfg;
    int rc = pipeline_config_load(&cfg, NULL, sets, 3);
    snprintf(cfg.run.store, sizeof cfg.run.store, "%s", dir);
    snprintf(cfg.run.work, sizeof cfg.run.work, "%s", wdir);
    snprintf(cfg.feat.image, sizeof cfg.feat.image, "%s", image);
    free(dir);
    struct pipeline p;
    pipeline_init(&p, &cfg);
    const struct data_set *ds;
    struct data_article_matrix text;
    struct feat_image im;
    memset(&text, 0, sizeof text);
    memset(&im, 0, sizeof im);
    if (!rc)
        rc = pipeline_data(&p, &ds);
    if (!rc)
        rc = pipeline_text(&p);
    if (!rc)
        rc = pipeline_text_load(&p, &text);
    if (!rc)
        rc = feat_image_load(&im, ds, image, FEAT_IMAGE_DIM);
    struct prep_windows win;
    if (!rc)
        rc = prep_windows_init(&win, ds, &cfg.prep);
    if (rc) {
        fprintf(stderr, "%s: %s\n", comm_label(), hm_last_error());
        return 1;
    }
    int32_t cutoff = win.val.start, start = prep_history_start(ds, &cfg.prep, cutoff);
    struct prep_items items;
    prep_items_filter(&items, ds, start, cutoff, cfg.prep.min_item_purchases);
    struct recall_inputs in = pipeline_recall_inputs(items.keep, &text, &im);
    struct recall_engine e;
    rc = recall_engine_init(&e, ds, &cfg.recall, start, cutoff, &in);
    struct feat_inputs fin = {.ds = ds, .text = text.x, .text_rows = ds->articles.n, .text_dim = text.dim, .image = &im};
    struct feat_ctx ctx;
    if (!rc)
        rc = feat_ctx_init(&ctx, &fin, cutoff, &cfg.feat);
    uint32_t *users = hm_xmalloc_array((size_t)ds->customers.n + 1, sizeof *users), nu = 0;
    for (uint32_t c = 0; c < ds->customers.n; c++)
        if (data_customer_in_shard(ds, c))
            users[nu++] = c;
    snprintf(path, sizeof path, "%s/rank-%d.bin", out, me);
    FILE *f = rc ? NULL : fopen(path, "wb");
    if (!rc && !f)
        rc = hm_error(HM_EIO, "cannot write %s", path);
    /* the item universe (one record of customer UINT32_MAX) and the sample (UINT32_MAX - 1:
     * its customers and bins, gathered), on rank 0 */
    struct prep_sample sample;
    if (!rc)
        rc = prep_sample_draw(&sample, ds, &cfg.prep, cutoff);
    if (!rc) {
        prep_sample_gather(&sample);
        if (me == 0) {
            uint32_t head[2] = {UINT32_MAX, items.n_articles}, head2[2] = {UINT32_MAX - 1, sample.n * 5};
            rc = write_all(f, head, sizeof head) || write_all(f, items.keep, items.n_articles) ||
                 write_all(f, head2, sizeof head2) || write_all(f, sample.user, sample.n * 4) ||
                 write_all(f, sample.bin, sample.n);
        }
        prep_sample_release(&sample);
    }
    if (!rc) {
        struct recall_stream st;
        recall_stream_init(&st, &e, users, nu, 64, (uint32_t)cfg.recall.pool, NULL);
        const struct recall_candidates *c;
        uint32_t nc = feat_n_cols();
        float *x = NULL;
        uint64_t cap = 0;
        while ((rc = recall_stream_next(&st, &c)) > 0) {
            HM_GROW(x, cap, c->n * nc + 1);
            if ((rc = feat_block(&ctx, c, x)) != 0 || (rc = write_block(f, c, x, nc)) != 0)
                break;
        }
        free(x);
        recall_stream_release(&st);
        feat_ctx_release(&ctx);
    }
    if (f && fclose(f) && !rc)
        rc = hm_error(HM_EIO, "cannot write %s", path);
    if (e.ds)
        recall_engine_release(&e);
    prep_items_release(&items);
    prep_windows_release(&win);
    free(users);
    data_article_matrix_release(&text);
    feat_image_release(&im);
    pipeline_release(&p);
    if (rc)
        fprintf(stderr, "%s: %s\n", comm_label(), hm_last_error());
    return rc ? 1 : 0;
}

/* ---- the test ---------------------------------------------------------------------------- */

static const char *bin;
static char tmp[512], self[1024];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

struct rec {
    uint32_t customer;
    const uint8_t *p;
    size_t len;
};

static int rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    return x->customer < y->customer ? -1 : x->customer > y->customer;
}

/* Every rank's records of run `name` (n ranks), sorted by customer; *buf holds the bytes. */
static struct rec *read_run(const char *name, int n, size_t *n_rec, char ***bufs)
{
    size_t row = 4 + 4 + 2 + 1 + (size_t)recall_n_strategies * 6 + (size_t)feat_n_cols() * 4;
    HM_VEC(struct rec) v = {0};
    *bufs = hm_xcalloc((size_t)n, sizeof **bufs);
    for (int r = 0; r < n; r++) {
        char path[800];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s/rank-%d.bin", tmp, name, r);
        if (hm_read_file(path, &(*bufs)[r], &len))
            return NULL;
        const uint8_t *p = (const uint8_t *)(*bufs)[r], *end = p + len;
        while (p < end) {
            uint32_t head[2];
            memcpy(head, p, sizeof head);
            size_t bytes = sizeof head + (head[0] >= UINT32_MAX - 1 ? head[1] : head[1] * row);
            HM_VEC_PUSH(&v, ((struct rec){head[0], p, bytes}));
            p += bytes;
        }
    }
    qsort(v.v, v.n, sizeof *v.v, rec_cmp);
    *n_rec = v.n;
    return v.v;
}

/* Where two records of a customer first differ: the row and, within it, the column. */
static void explain(const struct rec *a, const struct rec *b)
{
    size_t row = 4 + 4 + 2 + 1 + (size_t)recall_n_strategies * 6 + (size_t)feat_n_cols() * 4;
    size_t k = 0;
    while (k < a->len && k < b->len && a->p[k] == b->p[k])
        k++;
    if (k < 8) {
        fprintf(stderr, "  customer %u: row counts differ\n", a->customer);
        return;
    }
    size_t r = (k - 8) / row, o = (k - 8) % row;
    const char *what = o < 4 ? "item" : o < 8 ? "merged score" : o < 11 ? "flags" : NULL;
    if (what) {
        fprintf(stderr, "  customer %u, row %zu: %s differs\n", a->customer, r, what);
    } else if (o < 11 + (size_t)recall_n_strategies * 6) {
        fprintf(stderr, "  customer %u, row %zu: strategy %s's score or rank differs\n", a->customer, r,
                recall_strategies[(o - 11) / 6]->name);
    } else {
        size_t col = (o - 11 - (size_t)recall_n_strategies * 6) / 4;
        fprintf(stderr, "  customer %u, row %zu: feature %s differs\n", a->customer, r, feat_columns()[col].name);
    }
}

TEST(test_ranks_match_one_process)
{
    char data[600], whole[600], store[600];
    snprintf(data, sizeof data, "%s/tiny", tmp);
    snprintf(whole, sizeof whole, "%s/whole", tmp);
    snprintf(store, sizeof store, "%s/sharded", tmp);
    CHECK(sh("%s synth --preset tiny %s >/dev/null 2>&1", bin, data) == 0);
    CHECK(sh("%s ingest --data %s --out %s >/dev/null 2>&1", bin, data, whole) == 0);
    CHECK(sh("HMREC_QUIET=1 %s --job %s %s %s/work %s/one >%s/one.txt 2>&1 || (cat %s/one.txt; exit 1)", self, data,
             whole, tmp, tmp, tmp, tmp) == 0);
    size_t n1;
    char **b1;
    struct rec *one = read_run("one", 1, &n1, &b1);
    CHECK(one != NULL);
    CHECK(n1 == 402); /* the universe, the sample and the tiny preset's 400 customers */
    for (int n = 2; n <= 3; n++) {
        CHECK(sh("%s %d %s ingest --data %s --out %s >%s/ingest.txt 2>&1", test_mpirun(300), n, bin, data, store,
                 tmp) == 0);
        char name[16];
        snprintf(name, sizeof name, "n%d", n);
        CHECK(sh("mkdir -p %s/%s && HMREC_QUIET=1 %s %d %s --job %s %s %s/work %s/%s >%s/%s.txt 2>&1 || "
                 "(cat %s/%s.txt; exit 1)",
                 tmp, name, test_mpirun(600), n, self, data, store, tmp, tmp, name, tmp, name, tmp, name) == 0);
        size_t nn;
        char **bn;
        struct rec *many = read_run(name, n, &nn, &bn);
        CHECK(many != NULL);
        CHECK_EQ_INT(nn, n1);
        int bad = 0;
        for (size_t i = 0; i < n1; i++) {
            if (one[i].customer != many[i].customer || one[i].len != many[i].len ||
                memcmp(one[i].p, many[i].p, one[i].len)) {
                if (bad++ < 5)
                    explain(&one[i], &many[i]);
            }
        }
        if (bad)
            fprintf(stderr, "  %d ranks: %d of %zu records differ\n", n, bad, n1);
        CHECK_EQ_INT(bad, 0);
        for (int r = 0; r < n; r++)
            free(bn[r]);
        free(bn);
        free(many);
    }
    free(b1[0]);
    free(b1);
    free(one);
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "--job")) {
        if (comm_init(&argc, &argv) != 0)
            return 1;
        hm_mkdirs(argv[5]);
        int rc = job(argv[2], argv[3], argv[4], argv[5]);
        comm_finalize();
        return rc;
    }
    bin = getenv("HMREC_BIN");
    if (!bin) {
        fprintf(stderr, "HMREC_BIN is not set (run through ctest)\n");
        return 1;
    }
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return 1;
    self[len] = 0;
    snprintf(tmp, sizeof tmp, "/tmp/hmrec_test_ranks.%d", (int)getpid());
    sh("rm -rf %s && mkdir -p %s", tmp, tmp);
    RUN(test_ranks_match_one_process);
    if (!test_failures)
        sh("rm -rf %s", tmp);
    TEST_EXIT();
}
