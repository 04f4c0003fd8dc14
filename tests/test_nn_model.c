/* Tests of the network as a model: the summary and parameter count, the split scorer against
 * the plain forward pass, model files (exact round trip, truncated, corrupted and foreign
 * files), inputs that do not fit the model, and training on synthetic ranking data with a
 * known signal (MAP@12 well above random, deterministic for a seed). */
#include "rank/nn_internal.h"

#include "io/table.h"
#include "test.h"

#include <unistd.h>

static char tmp_model[256], tmp_other[256];

/* ---- synthetic ranking data ------------------------------------------------------------------ */

/* Customers have a taste vector a (user columns u0..u2), articles a style vector b (item columns
 * i0..i2), a popularity (i3) and an image embedding that also carries b. A customer buys the two
 * candidates with the largest a.b + 0.5 pop + noise. Pair column p0 is a noisy a.b (like a recall
 * score). Other columns are noise on other scales, some NaN. Columns are interleaved by tower. */
struct gen {
    uint32_t nu, ni, np, dim;     /* columns per tower (nu, ni >= 4 when labelled), image dim */
    uint32_t groups, rows_min, rows_max, articles;
    uint32_t big_group;           /* rows of one extra large group (0: none) */
    uint64_t seed;
};

struct synth {
    struct rank_set s;
    float *image; /* (articles, dim) */
    char **names;
};

static void make_data(struct synth *y, const struct gen *g)
{
    struct hm_rng r;
    hm_rng_seed(&r, g->seed);
    uint32_t nc = g->nu + g->ni + g->np;
    y->names = hm_xcalloc(nc, sizeof *y->names);
    uint8_t *tower = hm_xcalloc(nc, 1);
    uint32_t *cu = hm_xcalloc(g->nu + 1, 4), *ci = hm_xcalloc(g->ni + 1, 4), *cp = hm_xcalloc(g->np + 1, 4);
    uint32_t c = 0, ku = 0, ki = 0, kp = 0;
    while (c < nc) { /* interleave u, i, p columns */
        if (ku < g->nu) {
            cu[ku] = c, tower[c] = RANK_TOWER_USER, y->names[c++] = hm_xasprintf("u%u", ku), ku++;
        }
        if (ki < g->ni) {
            ci[ki] = c, tower[c] = RANK_TOWER_ITEM, y->names[c++] = hm_xasprintf("i%u", ki), ki++;
        }
        if (kp < g->np) {
            cp[kp] = c, tower[c] = RANK_TOWER_PAIR, y->names[c++] = hm_xasprintf("p%u", kp), kp++;
        }
    }
    /* articles */
    float *art = hm_xcalloc((size_t)g->articles * (g->ni + 1), sizeof *art); /* (articles, ni) */
    for (uint32_t a = 0; a < g->articles; a++)
        for (uint32_t j = 0; j < g->ni; j++) {
            double v = j < 4 ? hm_rng_normal(&r) : 100 + 30 * hm_rng_normal(&r);
            art[(size_t)a * g->ni + j] = j >= 4 && hm_rng_uniform(&r) < 0.05 ? NAN : (float)v;
        }
    y->image = NULL;
    if (g->dim) {
        y->image = hm_xcalloc((size_t)g->articles * g->dim, sizeof *y->image);
        for (uint32_t a = 0; a < g->articles; a++)
            for (uint32_t j = 0; j < g->dim; j++)
                y->image[(size_t)a * g->dim + j] =
                    (float)(0.05 * (g->ni ? art[(size_t)a * g->ni + j % 3] : 0) + 0.02 * hm_rng_normal(&r));
    }
    rank_set_init(&y->s, nc, (const char *const *)y->names, tower, y->image, g->dim, g->articles);
    uint32_t cap = (g->rows_max > g->big_group ? g->rows_max : g->big_group) + 1;
    float *x = hm_xcalloc((size_t)cap * nc, sizeof *x), *label = hm_xcalloc(cap, sizeof *label);
    float *util = hm_xcalloc(cap, sizeof *util);
    uint32_t *item = hm_xcalloc(cap, sizeof *item);
    uint8_t *used = hm_xcalloc(g->articles, 1);
    float *u = hm_xcalloc(g->nu + 1, sizeof *u);
    for (uint32_t k = 0; k <= g->groups; k++) {
        if (k == g->groups && !g->big_group)
            break;
        uint32_t n = k == g->groups ? g->big_group
                                    : g->rows_min + (uint32_t)hm_rng_below(&r, g->rows_max - g->rows_min + 1);
        for (uint32_t j = 0; j < g->nu; j++) {
            double v = j < 3 ? hm_rng_normal(&r) : -5 + 0.1 * hm_rng_normal(&r);
            u[j] = j >= 3 && hm_rng_uniform(&r) < 0.05 ? NAN : (float)v;
        }
        for (uint32_t i = 0; i < n; i++) {
            uint32_t a;
            do /* distinct articles within a normal group */
                a = (uint32_t)hm_rng_below(&r, g->articles);
            while (n <= g->articles / 2 && used[a]);
            used[a] = 1;
            item[i] = a;
            const float *b = art + (size_t)a * g->ni;
            double ab = 0;
            for (uint32_t j = 0; j < 3 && j < g->nu && j < g->ni; j++)
                ab += u[j] * b[j];
            util[i] = (float)(ab + (g->ni > 3 ? 0.5 * b[3] : 0) + 0.5 * hm_rng_normal(&r));
            float *row = x + (size_t)i * nc;
            for (uint32_t j = 0; j < g->nu; j++)
                row[cu[j]] = u[j];
            for (uint32_t j = 0; j < g->ni; j++)
                row[ci[j]] = b[j];
            for (uint32_t j = 0; j < g->np; j++)
                row[cp[j]] = (float)(j == 0 ? ab + 0.7 * hm_rng_normal(&r) : hm_rng_normal(&r));
        }
        for (uint32_t i = 0; i < n; i++)
            used[item[i]] = 0;
        /* the two best by utility are bought; sometimes one more outside the pool */
        uint32_t pos = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t better = 0;
            for (uint32_t j = 0; j < n; j++)
                better += util[j] > util[i] || (util[j] == util[i] && j < i);
            label[i] = better < 2;
            pos += better < 2;
        }
        uint32_t truth = pos + (hm_rng_uniform(&r) < 0.3);
        rank_set_add_group(&y->s, k, truth, n, x, item, label);
    }
    free(u);
    free(used);
    free(item);
    free(util);
    free(label);
    free(x);
    free(art);
    free(cu);
    free(ci);
    free(cp);
    free(tower);
}

static void free_data(struct synth *y)
{
    for (uint32_t c = 0; c < y->s.d.n_cols; c++)
        free(y->names[c]);
    free(y->names);
    rank_set_release(&y->s);
    free(y->image);
}

static void default_params(struct nn_params *p)
{
    hm_settings_defaults(nn_settings, nn_n_settings, p);
    p->pair_tower = 0; /* the tests choose the pair tower explicitly */
}

/* ---- summary ----------------------------------------------------------------------------------- */

TEST(test_summary_reference_widths)
{
    /* the reference profile: 43 user and 29 item columns, 512-d image embeddings */
    struct synth y;
    struct gen g = {.nu = 43, .ni = 29, .np = 5, .dim = 512, .groups = 2, .rows_min = 3, .rows_max = 3,
                    .articles = 10, .seed = 1};
    make_data(&y, &g);
    struct nn_params p;
    default_params(&p);
    p.pair_tower = 0; /* the reference's three towers */
    struct nn_model *m;
    CHECK_EQ_INT(nn_new(&p, &y.s.d, &m), 0);
    CHECK_EQ_INT(nn_n_params(m), 346689);
    char *s = nn_summary(m);
    fprintf(stderr, "%s", s);
    CHECK(strstr(s, "total trainable parameters") && strstr(s, "346,689"));
    CHECK(strstr(s, "43 -> 256") && strstr(s, "11,264"));      /* user 1: 43 * 256 + 256 */
    CHECK(strstr(s, "320 -> 256") && strstr(s, "82,176"));     /* fusion 1 */
    CHECK(strstr(s, "(user 128 + item 64 + image 128)"));
    CHECK(strstr(s, "64 -> 1"));
    free(s);
    nn_free(&m);
    CHECK(m == NULL);
    /* the pair tower adds 5 -> 64 -> 32 and widens the fusion input to 352 */
    p.pair_tower = 1;
    CHECK_EQ_INT(nn_new(&p, &y.s.d, &m), 0);
    size_t pair = (5 * 64 + 64 + 128) + (64 * 32 + 32 + 64), wider = 32 * 256;
    CHECK_EQ_INT(nn_n_params(m), 346689 + pair + wider);
    nn_free(&m);
    free_data(&y);
}

/* ---- split scorer vs the plain forward pass ---------------------------------------------------- */

/* Makes an untrained model look trained: BatchNorm affine and running statistics and the
 * standardisation away from their identity values. */
static void perturb(struct nn_model *m, uint64_t seed)
{
    struct hm_rng r;
    hm_rng_seed(&r, seed);
    const struct nn_arch *a = &m->a;
    for (uint32_t k = 0; k < a->n_blocks; k++) {
        const struct nn_block *b = &a->blk[k];
        for (uint32_t o = 0; o < b->out; o++) {
            m->params[b->gamma + o] = (float)(0.5 + hm_rng_uniform(&r));
            m->params[b->beta + o] = (float)(hm_rng_uniform(&r) - 0.5);
            m->running[b->rmean + o] = (float)(hm_rng_uniform(&r) - 0.5);
            m->running[b->rvar + o] = (float)(0.5 + 1.5 * hm_rng_uniform(&r));
        }
    }
    for (uint32_t i = 0; i < a->head_in; i++) /* a head that spreads the scores */
        m->params[a->head_w + i] *= 10;
    for (uint32_t i = 0; i < m->n_in; i++) {
        m->in_mean[i] = (float)hm_rng_normal(&r);
        m->in_scale[i] = (float)(0.5 + hm_rng_uniform(&r));
    }
    for (uint32_t i = 0; i < m->image_dim; i++) {
        m->img_mean[i] = (float)(0.01 * hm_rng_normal(&r));
        m->img_scale[i] = (float)(5 + 10 * hm_rng_uniform(&r));
    }
}

static double max_rel_diff(const float *a, const float *b, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n; i++)
        w = fmax(w, fabs((double)a[i] - b[i]) / (1 + fabs((double)b[i])));
    return w;
}

static void split_case(int pair_tower, int image)
{
    struct synth y;
    /* groups of 0..60 rows, one of 2,500 (several tiles), 300 articles */
    struct gen g = {.nu = 6, .ni = 5, .np = 3, .dim = image ? 16 : 0, .groups = 60, .rows_min = 0,
                    .rows_max = 60, .articles = 300, .big_group = 2500, .seed = 7 + (uint64_t)pair_tower};
    make_data(&y, &g);
    struct nn_params p;
    default_params(&p);
    snprintf(p.user_hidden, sizeof p.user_hidden, "24,16");
    snprintf(p.item_hidden, sizeof p.item_hidden, "20,12");
    snprintf(p.image_hidden, sizeof p.image_hidden, "16,8");
    snprintf(p.pair_hidden, sizeof p.pair_hidden, "8,6");
    snprintf(p.fusion_hidden, sizeof p.fusion_hidden, "32,16,8");
    p.pair_tower = pair_tower;
    struct nn_model *m;
    CHECK_EQ_INT(nn_new(&p, &y.s.d, &m), 0);
    CHECK_EQ_INT(m->a.in[NN_PAIR], pair_tower ? 3 : 0);
    CHECK_EQ_INT(m->a.in[NN_IMAGE], image ? 16 : 0);
    perturb(m, 99);
    size_t n = y.s.d.n_rows;
    float *plain = hm_xmalloc_array(n, sizeof *plain), *split = hm_xmalloc_array(n, sizeof *split);
    float *split1 = hm_xmalloc_array(n, sizeof *split1);
    CHECK_EQ_INT(nn_score_plain(m, &y.s.d, plain), 0);
    hm_threads_set(2);
    CHECK_EQ_INT(nn_score(m, &y.s.d, split), 0);
    hm_threads_set(1);
    CHECK_EQ_INT(nn_score(m, &y.s.d, split1), 0);
    hm_threads_set(0);
    double d = max_rel_diff(split, plain, n), spread = 0;
    for (size_t i = 1; i < n; i++)
        spread = fmax(spread, fabs((double)plain[i] - plain[0]));
    fprintf(stderr, "  pair %d image %d: %zu rows, split vs plain: largest difference %.3g (scores spread %.3g)\n",
            pair_tower, image, n, d, spread);
    CHECK(spread > 0.5); /* the scores are not trivially equal */
    CHECK(d < 1e-5);
    CHECK(memcmp(split, split1, n * sizeof *split) == 0); /* the same for 1 and 2 threads */
    free(plain);
    free(split);
    free(split1);
    nn_free(&m);
    free_data(&y);
}

TEST(test_split_matches_plain)
{
    split_case(0, 1);
    split_case(1, 1);
    split_case(1, 0);
}

/* ---- model files ------------------------------------------------------------------------------- */

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

TEST(test_model_file)
{
    struct synth y;
    struct gen g = {.nu = 5, .ni = 4, .np = 2, .dim = 8, .groups = 30, .rows_min = 5, .rows_max = 20,
                    .articles = 100, .seed = 3};
    make_data(&y, &g);
    struct nn_params p;
    default_params(&p);
    snprintf(p.fusion_hidden, sizeof p.fusion_hidden, "16,8");
    p.pair_tower = 1;
    struct nn_model *m, *l;
    CHECK_EQ_INT(nn_new(&p, &y.s.d, &m), 0);
    perturb(m, 5);
    CHECK_EQ_INT(nn_save(m, tmp_model), 0);
    CHECK_EQ_INT(nn_load(tmp_model, &l), 0);
    size_t n = y.s.d.n_rows;
    float *a = hm_xmalloc_array(n, sizeof *a), *b = hm_xmalloc_array(n, sizeof *b);
    CHECK_EQ_INT(nn_score(m, &y.s.d, a), 0);
    CHECK_EQ_INT(nn_score(l, &y.s.d, b), 0);
    CHECK(memcmp(a, b, n * sizeof *a) == 0); /* identical scores after reload */
    CHECK(memcmp(m->params, l->params, m->a.n_params * sizeof *m->params) == 0);
    CHECK_EQ_INT(l->n_in, m->n_in);
    CHECK_STR(l->in_name[m->n_in - 1], m->in_name[m->n_in - 1]);
    char *s1 = nn_summary(m), *s2 = nn_summary(l);
    CHECK_STR(s1, s2);
    free(s1);
    free(s2);
    nn_free(&l);

    char *bytes;
    size_t len;
    CHECK_EQ_INT(hm_read_file(tmp_model, &bytes, &len), 0);
    /* truncated */
    write_bytes(tmp_other, bytes, len / 2);
    CHECK_EQ_INT(nn_load(tmp_other, &l), HM_EFORMAT);
    CHECK(l == NULL && strstr(hm_last_error(), "truncated"));
    /* one flipped bit in the parameters */
    bytes[len - 100] ^= 4;
    write_bytes(tmp_other, bytes, len);
    CHECK_EQ_INT(nn_load(tmp_other, &l), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "checksum"));
    free(bytes);
    /* foreign: text, and another table */
    write_bytes(tmp_other, "customer_id,prediction\n", 23);
    CHECK_EQ_INT(nn_load(tmp_other, &l), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "not an hmrec table file"));
    uint32_t v[3] = {1, 2, 3};
    struct io_column_desc col = {"x", IO_U32, 4, 3, v};
    CHECK_EQ_INT(io_table_write(tmp_other, "prepare", 3, NULL, &col, 1), 0);
    CHECK_EQ_INT(nn_load(tmp_other, &l), HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "expected 'nn_model'"));
    /* a missing file */
    CHECK(nn_load("/nonexistent/dir/model.hmt", &l) != 0);
    unlink(tmp_other);
    unlink(tmp_model);
    free(a);
    free(b);
    nn_free(&m);
    free_data(&y);
}

/* ---- inputs that do not fit ---------------------------------------------------------------------- */

TEST(test_input_errors)
{
    struct synth y;
    struct gen g = {.nu = 5, .ni = 4, .np = 2, .dim = 8, .groups = 20, .rows_min = 5, .rows_max = 20,
                    .articles = 100, .seed = 4};
    make_data(&y, &g);
    struct nn_params p;
    default_params(&p);
    snprintf(p.fusion_hidden, sizeof p.fusion_hidden, "16,8");
    struct nn_model *m;
    CHECK_EQ_INT(nn_new(&p, &y.s.d, &m), 0);
    size_t n = y.s.d.n_rows;
    float *out = hm_xmalloc_array(n, sizeof *out);
    CHECK_EQ_INT(nn_score(m, &y.s.d, out), 0);
    /* the pair column p0 (column 2) is not an input without the pair tower */
    char *keep = y.s.col_name[2];
    y.s.col_name[2] = hm_xstrdup("other");
    CHECK_EQ_INT(nn_score(m, &y.s.d, out), 0);
    free(y.s.col_name[2]);
    /* an input column renamed (column 4 is i1) */
    y.s.col_name[2] = keep;
    keep = y.s.col_name[4];
    y.s.col_name[4] = hm_xstrdup("other");
    CHECK_EQ_INT(nn_score(m, &y.s.d, out), HM_ENOTFOUND);
    CHECK(strstr(hm_last_error(), "the data has no column 'i1', one of the 9 the network was trained on"));
    free(y.s.col_name[4]);
    y.s.col_name[4] = keep;
    /* a column fed another tower */
    y.s.col_tower[0] = RANK_TOWER_ITEM;
    CHECK_EQ_INT(nn_score(m, &y.s.d, out), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "column 'u0' is tagged item in the data but fed the user tower"));
    y.s.col_tower[0] = RANK_TOWER_USER;
    /* no image embeddings */
    y.s.d.image = NULL;
    CHECK_EQ_INT(nn_score(m, &y.s.d, out), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "no image embeddings"));
    y.s.d.image = y.image;
    /* a user column that varies within a customer's rows */
    uint32_t nc = y.s.d.n_cols;
    float was = y.s.x[3 * nc + 0];
    y.s.x[3 * nc + 0] += 1;
    CHECK_EQ_INT(nn_score(m, &y.s.d, out), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "row 3: user column 'u0' differs from row 0"));
    y.s.x[3 * nc + 0] = was;
    /* an item column that differs between rows of one article (stacked weeks: the article as of
     * two cutoffs) is two article parts: that row's score changes, no other row's does */
    uint64_t r2 = 0;
    for (uint64_t r = 0; r < n && !r2; r++)
        for (uint64_t q = r + 1; q < n && !r2; q++)
            if (y.s.item[q] == y.s.item[r])
                r2 = q;
    CHECK(r2 > 0);
    float *before = malloc(n * sizeof *before);
    CHECK_EQ_INT(nn_score(m, &y.s.d, before), 0);
    was = y.s.x[r2 * nc + 1]; /* column 1 is i0 */
    y.s.x[r2 * nc + 1] += 1;
    CHECK_EQ_INT(nn_score(m, &y.s.d, out), 0);
    for (uint64_t r = 0; r < n; r++)
        CHECK(r == r2 ? out[r] != before[r] : out[r] == before[r]);
    free(before);
    y.s.x[r2 * nc + 1] = was;
    /* groups that do not cover the rows */
    y.s.d.n_groups--;
    CHECK_EQ_INT(nn_score(m, &y.s.d, out), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "the groups do not cover"));
    y.s.d.n_groups++;
    /* an infinite value (user column u1 of the first group) */
    for (uint64_t r = 0; r < y.s.d.group_off[1]; r++)
        y.s.x[r * nc + 3] = INFINITY;
    CHECK_EQ_INT(nn_score(m, &y.s.d, out), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "row 0 has an infinite feature value"));
    /* training on it says where */
    struct nn_model *t;
    p.epochs = 1;
    CHECK_EQ_INT(nn_train(&p, &y.s.d, NULL, &t, NULL), HM_EINVAL);
    CHECK(t == NULL && strstr(hm_last_error(), "training row 0, column 'u1' is infinite"));
    /* unlabelled, too small */
    const float *lab = y.s.d.label;
    y.s.d.label = NULL;
    CHECK_EQ_INT(nn_train(&p, &y.s.d, NULL, &t, NULL), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "no labels"));
    y.s.d.label = lab;
    uint64_t rows = y.s.d.n_rows;
    y.s.d.n_rows = 1;
    CHECK_EQ_INT(nn_train(&p, &y.s.d, NULL, &t, NULL), HM_EINVAL);
    y.s.d.n_rows = rows;
    free(out);
    nn_free(&m);
    free_data(&y);
}

/* ---- training ---------------------------------------------------------------------------------- */

static void train_params(struct nn_params *p)
{
    default_params(p);
    snprintf(p->user_hidden, sizeof p->user_hidden, "32,16");
    snprintf(p->item_hidden, sizeof p->item_hidden, "32,16");
    snprintf(p->image_hidden, sizeof p->image_hidden, "16,8");
    snprintf(p->fusion_hidden, sizeof p->fusion_hidden, "32,16");
    p->batch = 256;
    p->epochs = 6;
    p->patience = 3;
    p->lr = 3e-3;
    p->dropout = 0.1;
}

TEST(test_training_learns)
{
    struct synth tr, va;
    struct gen g = {.nu = 5, .ni = 6, .np = 2, .dim = 8, .groups = 700, .rows_min = 20, .rows_max = 30,
                    .articles = 1500, .seed = 11};
    make_data(&tr, &g);
    g.groups = 250, g.seed = 12;
    make_data(&va, &g);
    va.s.d.image = tr.image; /* the same articles: one image table */
    struct nn_params p;
    train_params(&p);
    struct nn_model *m, *m2;
    struct nn_curve c, c2;
    CHECK_EQ_INT(nn_train(&p, &tr.s.d, &va.s.d, &m, &c), 0);
    /* random scores, and the untrained network, as the baselines */
    size_t n = va.s.d.n_rows;
    float *s = hm_xmalloc_array(n, sizeof *s);
    struct hm_rng r;
    hm_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++)
        s[i] = (float)hm_rng_uniform(&r);
    double random = rank_map12(&va.s.d, s, NULL), ceiling = rank_pool_ceiling(&va.s.d);
    CHECK_EQ_INT(nn_score(m, &va.s.d, s), 0);
    double trained = rank_map12(&va.s.d, s, NULL);
    fprintf(stderr, "  %llu training rows; validation MAP@12: random %.4f, trained %.4f, pool ceiling %.4f\n",
            (unsigned long long)tr.s.d.n_rows, random, trained, ceiling);
    for (uint32_t e = 0; e < c.n; e++)
        fprintf(stderr, "  epoch %u: loss %.5f, MAP@12 %.4f, lr %.2g\n", e + 1, c.epoch[e].loss,
                c.epoch[e].map12, c.epoch[e].lr);
    CHECK(trained > 3 * random);
    CHECK(trained > 0.5 * ceiling);
    CHECK(c.n >= 1 && c.n <= 6);
    CHECK(c.epoch[c.n - 1].loss < c.epoch[0].loss);
    /* the model keeps the best epoch's weights: its MAP@12 is the curve's best */
    CHECK_NEAR(trained, c.epoch[c.best].map12, 1e-12);
    for (uint32_t e = 0; e < c.n; e++)
        CHECK(c.epoch[e].map12 <= c.epoch[c.best].map12);
    /* deterministic for the seed */
    CHECK_EQ_INT(nn_train(&p, &tr.s.d, &va.s.d, &m2, &c2), 0);
    CHECK(memcmp(m->params, m2->params, m->a.n_params * sizeof *m->params) == 0);
    CHECK(memcmp(m->running, m2->running, m->a.n_running * sizeof *m->running) == 0);
    CHECK_EQ_INT(c2.n, c.n);
    CHECK_NEAR(c2.epoch[c.n - 1].loss, c.epoch[c.n - 1].loss, 0);
    nn_free(&m2);
    nn_curve_release(&c2);
    /* the pair tower trains too (here p0 carries a noisy a.b, so it should help) */
    p.pair_tower = 1;
    CHECK_EQ_INT(nn_train(&p, &tr.s.d, &va.s.d, &m2, &c2), 0);
    CHECK_EQ_INT(m2->a.in[NN_PAIR], 2);
    fprintf(stderr, "  with the pair tower: validation MAP@12 %.4f (best epoch %u)\n",
            c2.epoch[c2.best].map12, c2.best + 1);
    CHECK(c2.epoch[c2.best].map12 > 3 * random);
    nn_free(&m2);
    nn_curve_release(&c2);
    p.pair_tower = 0;
    /* another seed gives another network */
    p.seed = 43;
    p.epochs = 1;
    CHECK_EQ_INT(nn_train(&p, &tr.s.d, NULL, &m2, &c2), 0);
    CHECK(memcmp(m->params, m2->params, m->a.n_params * sizeof *m->params) != 0);
    CHECK_EQ_INT(c2.n, 1);
    CHECK(isnan(c2.epoch[0].map12));
    nn_free(&m2);
    nn_curve_release(&c2);
    /* validation data without the training columns is refused before training */
    free(va.s.col_name[0]);
    va.s.col_name[0] = hm_xstrdup("renamed");
    CHECK_EQ_INT(nn_train(&p, &tr.s.d, &va.s.d, &m2, NULL), HM_ENOTFOUND);
    CHECK(strstr(hm_last_error(), "validation data: nn: the data has no column 'u0'"));
    free(s);
    nn_curve_release(&c);
    nn_free(&m);
    free_data(&tr);
    va.s.d.image = va.image;
    free_data(&va);
}

TEST(test_training_stops_early)
{
    /* a high learning rate that is cut after every epoch without a better MAP@12
     * (lr_patience 0), stopping after the second such epoch */
    struct synth tr, va;
    struct gen g = {.nu = 5, .ni = 6, .np = 2, .dim = 8, .groups = 250, .rows_min = 20, .rows_max = 30,
                    .articles = 800, .seed = 21};
    make_data(&tr, &g);
    g.groups = 120, g.seed = 22;
    make_data(&va, &g);
    va.s.d.image = tr.image;
    struct nn_params p;
    train_params(&p);
    p.lr = 0.05, p.lr_patience = 0, p.patience = 2, p.epochs = 40;
    struct nn_model *m;
    struct nn_curve c;
    CHECK_EQ_INT(nn_train(&p, &tr.s.d, &va.s.d, &m, &c), 0);
    fprintf(stderr, "  %u epochs, best %u, lr", c.n, c.best + 1);
    for (uint32_t e = 0; e < c.n; e++)
        fprintf(stderr, " %.3g", c.epoch[e].lr);
    fprintf(stderr, "\n");
    CHECK(c.stopped_early && c.n < 40);
    CHECK_EQ_INT(c.best, c.n - 3); /* two epochs without improvement, then the stop */
    CHECK(c.epoch[c.n - 1].lr < c.epoch[c.best].lr); /* cut after a bad epoch */
    /* the model holds the best epoch's weights */
    float *s = hm_xmalloc_array(va.s.d.n_rows, sizeof *s);
    CHECK_EQ_INT(nn_score(m, &va.s.d, s), 0);
    CHECK_NEAR(rank_map12(&va.s.d, s, NULL), c.epoch[c.best].map12, 1e-12);
    free(s);
    nn_free(&m);
    nn_curve_release(&c);
    free_data(&tr);
    va.s.d.image = va.image;
    free_data(&va);
}

int main(int argc, char **argv)
{
    (void)argc;
    hm_blas_ensure_coretype(argv);
    snprintf(tmp_model, sizeof tmp_model, "/tmp/hm_test_nn_%d.model", (int)getpid());
    snprintf(tmp_other, sizeof tmp_other, "/tmp/hm_test_nn_%d.other", (int)getpid());
    RUN(test_summary_reference_widths);
    RUN(test_split_matches_plain);
    RUN(test_model_file);
    RUN(test_input_errors);
    RUN(test_training_learns);
    RUN(test_training_stops_early);
    TEST_EXIT();
}
