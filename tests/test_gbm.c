/* Tests for the boosted rankers: the XE-NDCG gradient, settings, training of every model kind
 * on synthetic groups with a known utility, early stopping, determinism, prediction from
 * several threads, model files and feature importance. */
#include "io/table.h"
#include "rank/gbm.h"
#include "test.h"

#include <pthread.h>
#include <unistd.h>

/* ---- synthetic ranking data ------------------------------------------------------------------- */

/* Columns of the synthetic data; the utility of a row is
 *   u = 3 strong + 3 inter * user - 1.5 [gauss > 0.5] + (missing is NaN ? 1 : 0.5 missing)
 * and it is bought with probability sigmoid(2 u - 9); noise is unrelated. user is the same for
 * every row of a group (a customer feature). Customers also bought, with probability 0.3,
 * something the pool missed (group_truth counts it). */
enum { C_STRONG, C_INTER, C_USER, C_GAUSS, C_NOISE, C_MISSING, NC };
static const char *const col_names[NC] = {"strong", "inter", "user", "gauss", "noise", "missing"};

static void make_data(uint32_t groups, uint32_t rows, uint64_t seed, struct rank_set *s,
                      float **utility)
{
    struct hm_rng r;
    hm_rng_seed(&r, seed);
    rank_set_init(s, NC, col_names, NULL, NULL, 0, 100000);
    float *x = malloc(sizeof(float) * rows * NC), *label = malloc(sizeof(float) * rows);
    uint32_t *item = malloc(sizeof(uint32_t) * rows);
    *utility = malloc(sizeof(float) * groups * rows);
    for (uint32_t g = 0; g < groups; g++) {
        float user = (float)hm_rng_uniform(&r);
        uint32_t pos = 0;
        for (uint32_t i = 0; i < rows; i++) {
            float *v = x + (size_t)i * NC;
            v[C_STRONG] = (float)hm_rng_uniform(&r);
            v[C_INTER] = (float)hm_rng_uniform(&r);
            v[C_USER] = user;
            v[C_GAUSS] = (float)hm_rng_normal(&r);
            v[C_NOISE] = (float)hm_rng_normal(&r);
            v[C_MISSING] = hm_rng_uniform(&r) < 0.2 ? NAN : (float)hm_rng_uniform(&r);
            double u = 3 * v[C_STRONG] + 3 * v[C_INTER] * user - 1.5 * (v[C_GAUSS] > 0.5) +
                       (isnan(v[C_MISSING]) ? 1.0 : 0.5 * v[C_MISSING]);
            (*utility)[(size_t)g * rows + i] = (float)u;
            label[i] = hm_rng_uniform(&r) < 1 / (1 + exp(-(2 * u - 9))) ? 1.0f : 0.0f;
            pos += label[i] > 0;
            item[i] = (uint32_t)hm_rng_below(&r, 100000);
        }
        rank_set_add_group(s, g, pos + (hm_rng_uniform(&r) < 0.3), rows, x, item, label);
    }
    free(x);
    free(label);
    free(item);
}

/* One shared data set: training groups (sampled into train and held-out sets as the pipeline
 * does) and an independent test set from the same distribution. */
static struct rank_set all, test;
static float *all_u, *test_u;

static void params_for_tests(struct gbm_params *p)
{
    gbm_params_defaults(p);
    p->rounds = 300;
    p->depth = 5;
    p->patience = 15;
    p->deep_eta = 0.1;
    p->deep_leaves = 31;
}

static double random_map(const struct rank_data *d)
{
    float *s = malloc(sizeof(float) * d->n_rows);
    struct hm_rng r;
    hm_rng_seed(&r, 99);
    for (uint64_t i = 0; i < d->n_rows; i++)
        s[i] = (float)hm_rng_uniform(&r);
    double m = rank_map12(d, s, NULL);
    free(s);
    return m;
}

/* ---- XE-NDCG ---------------------------------------------------------------------------------- */

TEST(test_xendcg_by_hand)
{
    /* s = (0, 0), labels (1, 0), gamma (0.5, 0.5): phi = (1.5, 0.5) / 2, rho = (0.5, 0.5) */
    double s[2] = {0, 0}, gamma[2] = {0.5, 0.5}, grad[2], hess[2];
    float label[2] = {1, 0};
    double loss = xendcg_group(s, label, gamma, 2, 1, grad, hess);
    CHECK_NEAR(loss, log(2.0), 1e-15);
    CHECK_NEAR(grad[0], 0.5 - 0.75, 1e-15);
    CHECK_NEAR(grad[1], 0.5 - 0.25, 1e-15);
    CHECK_NEAR(hess[0], 0.25, 1e-15);
    CHECK_NEAR(hess[1], 0.25, 1e-15);
    /* a single row: nothing to rank */
    double one = 3, g1, h1;
    CHECK_NEAR(xendcg_group(&one, label, gamma, 1, 3, &g1, &h1), 0, 1e-15);
    CHECK_NEAR(g1, 0, 1e-15);
    CHECK_NEAR(h1, 0, 1e-15);
}

TEST(test_xendcg_finite_differences)
{
    enum { N = 7 };
    double s[N] = {0.3, -1.2, 2.0, 0.1, 0.1, -0.4, 1.1}, gamma[N], grad[N], hess[N];
    float label[N] = {0, 1, 0, 0, 1, 0, 2};
    for (int i = 0; i < N; i++)
        gamma[i] = xendcg_gamma(11, 4, (uint64_t)i); /* the noise of one round, fixed */
    xendcg_group(s, label, gamma, N, 1, grad, hess);
    const double h = 1e-5;
    for (int i = 0; i < N; i++) {
        double sp[N], sm[N], gp[N], gm[N];
        memcpy(sp, s, sizeof s);
        memcpy(sm, s, sizeof s);
        sp[i] += h;
        sm[i] -= h;
        double lp = xendcg_group(sp, label, gamma, N, 1, gp, NULL);
        double lm = xendcg_group(sm, label, gamma, N, 1, gm, NULL);
        CHECK_NEAR(grad[i], (lp - lm) / (2 * h), 1e-8);
        CHECK_NEAR(hess[i], (gp[i] - gm[i]) / (2 * h), 1e-8);
    }
    /* the gradients of a softmax cross entropy sum to 0 */
    double sum = 0;
    for (int i = 0; i < N; i++)
        sum += grad[i];
    CHECK_NEAR(sum, 0, 1e-14);
}

TEST(test_xendcg_order3)
{
    /* LightGBM's form written out in O(n^2): L1 = rho - phi, L2_i = sum_{j != i} L1_j /
     * (1 - rho_j), L3_i = sum_{j != i} rho_j L2_j / (1 - rho_j), grad = L1 + rho (L2 + L3) */
    enum { N = 5 };
    double s[N] = {0.5, -0.3, 1.7, 0.0, -2.0}, gamma[N] = {0.1, 0.9, 0.3, 0.5, 0.7}, grad[N], hess[N];
    float label[N] = {1, 0, 0, 1, 0};
    xendcg_group(s, label, gamma, N, 3, grad, hess);
    double z = 0, ps = 0, rho[N], l1[N], l2[N] = {0}, l3[N] = {0};
    for (int i = 0; i < N; i++) {
        z += exp(s[i]);
        ps += exp2(label[i]) - gamma[i];
    }
    for (int i = 0; i < N; i++) {
        rho[i] = exp(s[i]) / z;
        l1[i] = rho[i] - (exp2(label[i]) - gamma[i]) / ps;
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (j != i)
                l2[i] += l1[j] / (1 - rho[j]);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (j != i)
                l3[i] += rho[j] * l2[j] / (1 - rho[j]);
    for (int i = 0; i < N; i++) {
        CHECK_NEAR(grad[i], l1[i] + rho[i] * (l2[i] + l3[i]), 1e-12);
        CHECK_NEAR(hess[i], rho[i] * (1 - rho[i]), 1e-15);
    }
}

TEST(test_xendcg_all_groups)
{
    /* the parallel driver gives each group the noise of (seed, round, row) */
    struct rank_set s;
    float *u;
    make_data(40, 9, 5, &s, &u);
    float *grad = malloc(sizeof(float) * s.d.n_rows), *hess = malloc(sizeof(float) * s.d.n_rows);
    double mean = xendcg_gradients(&s.d, u, 21, 3, 1, grad, hess);
    double total = 0;
    for (uint32_t g = 0; g < s.d.n_groups; g++) {
        uint64_t b = s.d.group_off[g];
        double sc[9], gamma[9], gr[9], he[9];
        for (int i = 0; i < 9; i++) {
            sc[i] = u[b + i];
            gamma[i] = xendcg_gamma(21, 3, b + i);
        }
        total += xendcg_group(sc, s.d.label + b, gamma, 9, 1, gr, he);
        for (int i = 0; i < 9; i++) {
            CHECK(grad[b + i] == (float)gr[i]);
            CHECK(hess[b + i] == (float)he[i]);
        }
    }
    CHECK_NEAR(mean, total / s.d.n_groups, 1e-12);
    /* the noise: in [0, 1), reproducible, different in another round */
    CHECK(xendcg_gamma(21, 3, 7) == xendcg_gamma(21, 3, 7));
    CHECK(xendcg_gamma(21, 3, 7) != xendcg_gamma(21, 4, 7));
    double lo = 1, hi = 0;
    for (uint64_t r = 0; r < 10000; r++) {
        double x = xendcg_gamma(1, 0, r);
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    CHECK(lo >= 0 && lo < 0.001 && hi < 1 && hi > 0.999);
    free(grad);
    free(hess);
    free(u);
    rank_set_release(&s);
}

/* ---- settings --------------------------------------------------------------------------------- */

TEST(test_params)
{
    struct gbm_params p;
    gbm_params_defaults(&p);
    CHECK_EQ_INT(gbm_params_check(&p), 0);
    CHECK_EQ_INT(p.rounds, 1000);
    CHECK_NEAR(p.neg_share, 0.6, 0);
    CHECK_NEAR(p.holdout, 0.15, 0);
    CHECK_EQ_INT(hm_settings_set(gbm_settings, gbm_n_settings, &p, "gbm.eta", "0.05", "--set"), 0);
    CHECK_NEAR(p.eta, 0.05, 0);
    CHECK(hm_settings_set(gbm_settings, gbm_n_settings, &p, "gbm.subsample", "2", "--set") != 0);
    snprintf(p.lambdarank, sizeof p.lambdarank, "pairwise");
    CHECK_EQ_INT(gbm_params_check(&p), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "gbm.lambdarank") != NULL);
    gbm_params_defaults(&p);
    p.xendcg_order = 2;
    CHECK_EQ_INT(gbm_params_check(&p), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "gbm.xendcg_order") != NULL);
    /* model names */
    gbm_params_defaults(&p);
    enum gbm_kind k;
    CHECK_EQ_INT(gbm_kind_parse("xendcg", &p, &k), 0);
    CHECK_EQ_INT(k, GBM_XENDCG);
    CHECK_EQ_INT(gbm_kind_parse("lambdarank", &p, &k), 0); /* rank:map by default */
    CHECK_EQ_INT(k, GBM_MAP);
    snprintf(p.lambdarank, sizeof p.lambdarank, "ndcg");
    CHECK_EQ_INT(gbm_kind_parse("lambdarank", &p, &k), 0);
    CHECK_EQ_INT(k, GBM_NDCG);
    CHECK_EQ_INT(gbm_kind_parse("lightgbm", &p, &k), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "unknown boosted model \"lightgbm\"") != NULL);
    CHECK_STR(gbm_kind_name(GBM_DEEP), "deep");
    /* sampling per kind: empty groups kept for the classifier only */
    struct rank_sample_params sp;
    gbm_sample_params(&p, GBM_CLASSIFIER, &sp);
    CHECK_EQ_INT(sp.keep_empty, 1);
    gbm_sample_params(&p, GBM_NDCG, &sp);
    CHECK_EQ_INT(sp.keep_empty, 0);
    snprintf(p.empty_groups, sizeof p.empty_groups, "keep");
    gbm_sample_params(&p, GBM_NDCG, &sp);
    CHECK_EQ_INT(sp.keep_empty, 1);
}

/* ---- training ------------------------------------------------------------------------------- */

struct trained {
    struct gbm_model *m;
    struct gbm_report rep;
    double test_map;
};

static int train_kind(enum gbm_kind kind, const struct gbm_params *p, struct trained *t)
{
    struct rank_sample_params sp;
    struct rank_set train, hold;
    gbm_sample_params(p, kind, &sp);
    int rc = rank_sample(&all.d, &sp, &train, &hold);
    if (!rc)
        rc = gbm_train(kind, p, &train.d, &hold.d, &t->m, &t->rep);
    if (!rc) {
        float *s = malloc(sizeof(float) * test.d.n_rows);
        rc = gbm_predict_data(t->m, &test.d, s);
        t->test_map = rank_map12(&test.d, s, NULL);
        free(s);
    }
    rank_set_release(&train);
    rank_set_release(&hold);
    return rc;
}

TEST(test_every_kind_learns)
{
    double oracle = rank_map12(&test.d, test_u, NULL), random = random_map(&test.d);
    double ceiling = rank_pool_ceiling(&test.d);
    fprintf(stderr, "  test set: MAP@12 random %.4f, utility (oracle) %.4f, pool ceiling %.4f\n",
            random, oracle, ceiling);
    CHECK(oracle > 3 * random);
    struct gbm_params p;
    params_for_tests(&p);
    static const struct {
        enum gbm_kind kind;
        int order;
        const char *label;
    } runs[] = {{GBM_CLASSIFIER, 1, "classifier"}, {GBM_NDCG, 1, "ndcg"}, {GBM_MAP, 1, "map"},
                {GBM_XENDCG, 1, "xendcg (order 1)"}, {GBM_XENDCG, 3, "xendcg (order 3)"},
                {GBM_DEEP, 1, "deep"}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        struct trained t = {0};
        p.xendcg_order = runs[i].order;
        int rc = train_kind(runs[i].kind, &p, &t);
        if (rc)
            fprintf(stderr, "%s\n", hm_last_error());
        CHECK_EQ_INT(rc, 0);
        fprintf(stderr, "  %-17s rounds %3u kept %3u held-out %.4f test %.4f (%.0f%% of oracle)"
                        " %.2fs (xgb %.2fs, metric %.2fs, %llu rows)\n", runs[i].label, t.rep.rounds, t.rep.best_rounds,
                t.rep.best_map12, t.test_map, 100 * t.test_map / oracle, t.rep.seconds, t.rep.seconds_xgb, t.rep.seconds_metric, (unsigned long long)t.rep.train_rows);
        /* learns: far above a random order, close to the utility's order */
        CHECK(t.test_map > 3 * random);
        CHECK(t.test_map > 0.9 * oracle);
        /* stopped early: patience rounds after the best */
        CHECK(t.rep.rounds < (uint32_t)p.rounds);
        CHECK_EQ_INT(t.rep.rounds, t.rep.best_rounds + (uint32_t)p.patience);
        CHECK_EQ_INT(gbm_model_rounds(t.m), t.rep.best_rounds);
        CHECK(t.rep.seconds_xgb <= t.rep.seconds);
        gbm_report_release(&t.rep);
        gbm_free(&t.m);
    }
}

TEST(test_early_stopping_keeps_the_best_round)
{
    struct gbm_params p;
    params_for_tests(&p);
    p.eval_period = 4;
    struct rank_sample_params sp;
    struct rank_set train, hold;
    gbm_sample_params(&p, GBM_NDCG, &sp);
    CHECK_EQ_INT(rank_sample(&all.d, &sp, &train, &hold), 0);
    struct gbm_model *m;
    struct gbm_report rep;
    CHECK_EQ_INT(gbm_train(GBM_NDCG, &p, &train.d, &hold.d, &m, &rep), 0);
    /* the curve: evaluated every 4th round only; its best is the kept round */
    double best = -1;
    uint32_t best_round = 0;
    for (uint32_t t = 0; t < rep.rounds; t++) {
        if ((t + 1) % 4) {
            CHECK(isnan(rep.curve[t]));
            continue;
        }
        CHECK(!isnan(rep.curve[t]));
        if (rep.curve[t] > best) {
            best = rep.curve[t];
            best_round = t + 1;
        }
    }
    CHECK_EQ_INT(rep.best_rounds, best_round);
    CHECK_EQ_INT(rep.best_rounds % 4, 0);
    CHECK_NEAR(rep.best_map12, best, 1e-6);
    /* the kept trees reproduce the best round's held-out MAP@12 exactly */
    float *s = malloc(sizeof(float) * hold.d.n_rows);
    CHECK_EQ_INT(gbm_predict_data(m, &hold.d, s), 0);
    CHECK_NEAR(rank_map12(&hold.d, s, NULL), rep.best_map12, 1e-12);
    /* without held-out data every round is kept */
    struct gbm_model *all_rounds;
    struct gbm_report rep2;
    p.rounds = 7;
    CHECK_EQ_INT(gbm_train(GBM_NDCG, &p, &train.d, NULL, &all_rounds, &rep2), 0);
    CHECK_EQ_INT(rep2.rounds, 7);
    CHECK_EQ_INT(rep2.best_rounds, 7);
    CHECK_EQ_INT(gbm_model_rounds(all_rounds), 7);
    free(s);
    gbm_free(&all_rounds);
    gbm_report_release(&rep2);
    gbm_free(&m);
    gbm_report_release(&rep);
    rank_set_release(&train);
    rank_set_release(&hold);
}

static float *train_and_predict(enum gbm_kind kind, const struct gbm_params *p)
{
    struct trained t = {0};
    if (train_kind(kind, p, &t))
        return NULL;
    float *s = malloc(sizeof(float) * test.d.n_rows);
    gbm_predict_data(t.m, &test.d, s);
    gbm_free(&t.m);
    gbm_report_release(&t.rep);
    return s;
}

/* The compiled forest gives the model's margins (missing values included), so it ranks the
 * test customers as well as the model and far better than chance. */
TEST(test_forest_equals_model)
{
    struct gbm_params p;
    params_for_tests(&p);
    p.rounds = 30;
    p.depth = 4;
    struct gbm_model *m = NULL;
    CHECK_EQ_INT(gbm_train(GBM_CLASSIFIER, &p, &all.d, NULL, &m, NULL), 0);
    struct gbm_forest *f = NULL;
    CHECK_EQ_INT(gbm_forest_new(m, test.d.x, 200, &f), 0);
    CHECK_EQ_INT(gbm_forest_n_cols(f), NC);
    CHECK_EQ_INT(gbm_forest_n_trees(f), 30);
    float *want = malloc(sizeof(float) * test.d.n_rows), *got = malloc(sizeof(float) * test.d.n_rows);
    CHECK_EQ_INT(gbm_predict_xgboost(m, test.d.x, test.d.n_rows, test.d.n_cols, want), 0);
    gbm_forest_predict(f, test.d.x, test.d.n_rows, got);
    double worst = 0;
    for (uint64_t r = 0; r < test.d.n_rows; r++)
        if (fabs(got[r] - want[r]) > worst)
            worst = fabs(got[r] - want[r]);
    CHECK(worst < 1e-4);
    double map_forest = rank_map12(&test.d, got, NULL), chance = random_map(&test.d);
    CHECK(map_forest > 2 * chance);
    /* many rows at once (walked in blocks of rows) give bit for bit the margins of the
     * rows one by one, NaNs included, whatever the remainder */
    uint64_t nr = test.d.n_rows < 203 ? test.d.n_rows : 203;
    float *one = malloc(sizeof(float) * nr);
    float *xs = malloc(sizeof(float) * nr * NC);
    memcpy(xs, test.d.x, sizeof(float) * nr * NC);
    for (uint64_t r = 0; r < nr; r += 7)
        xs[r * NC + r % NC] = NAN;
    gbm_forest_predict(f, xs, nr, got);
    for (uint64_t r = 0; r < nr; r++)
        gbm_forest_predict(f, xs + r * NC, 1, one + r);
    CHECK(memcmp(got, one, sizeof(float) * nr) == 0);
    free(one);
    free(xs);
    gbm_forest_predict(f, test.d.x, test.d.n_rows, got);
    /* and without check rows: the offset from a row of NaNs */
    struct gbm_forest *g = NULL;
    CHECK_EQ_INT(gbm_forest_new(m, NULL, 0, &g), 0);
    gbm_forest_predict(g, test.d.x, 100, got);
    for (uint64_t r = 0; r < 100; r++)
        CHECK(fabs(got[r] - want[r]) < 1e-4);
    gbm_forest_free(&g);
    CHECK(g == NULL);
    gbm_forest_free(&f);
    gbm_free(&m);
    free(want);
    free(got);
}

/* gbm_predict walks the compiled forest only when it gives XGBoost's margins bit for bit:
 * for the logistic (base margin 0) and the ranking objectives (base margin 0.5) alike, every
 * kind (deep grows its trees leaf-wise). */
TEST(test_predict_through_forest)
{
    struct gbm_params p;
    params_for_tests(&p);
    p.rounds = 25;
    static const enum gbm_kind kinds[] = {GBM_CLASSIFIER, GBM_NDCG, GBM_MAP, GBM_XENDCG, GBM_DEEP};
    uint64_t n = test.d.n_rows;
    CHECK(n >= 2000);
    float *want = malloc(sizeof(float) * n), *got = malloc(sizeof(float) * n);
    for (int i = 0; i < 5; i++) {
        struct gbm_model *m = NULL;
        CHECK_EQ_INT(gbm_train(kinds[i], &p, &all.d, NULL, &m, NULL), 0);
        CHECK_STR(gbm_predictor(m), "not yet chosen");
        /* a small call: XGBoost, nothing chosen yet */
        CHECK_EQ_INT(gbm_predict(m, test.d.x, 100, test.d.n_cols, got), 0);
        CHECK_STR(gbm_predictor(m), "not yet chosen");
        CHECK_EQ_INT(gbm_predict_xgboost(m, test.d.x, n, test.d.n_cols, want), 0);
        CHECK(memcmp(want, got, 100 * sizeof *got) == 0);
        CHECK_EQ_INT(gbm_predict_data(m, &test.d, got), 0);
        CHECK_STR(gbm_predictor(m), "compiled forest");
        CHECK(memcmp(want, got, n * sizeof *got) == 0);
        gbm_free(&m);
    }
    free(want);
    free(got);
}

TEST(test_determinism)
{
    struct gbm_params p;
    params_for_tests(&p);
    p.rounds = 40;
    static const enum gbm_kind kinds[] = {GBM_NDCG, GBM_XENDCG};
    for (int i = 0; i < 2; i++) {
        float *a = train_and_predict(kinds[i], &p), *b = train_and_predict(kinds[i], &p);
        CHECK(a && b);
        CHECK(memcmp(a, b, sizeof(float) * test.d.n_rows) == 0);
        p.seed = 43; /* another seed samples other rows and trees */
        float *c = train_and_predict(kinds[i], &p);
        p.seed = 42;
        CHECK(c && memcmp(a, c, sizeof(float) * test.d.n_rows) != 0);
        free(a);
        free(b);
        free(c);
    }
}

TEST(test_shared_dataset)
{
    /* models trained on one dataset are the models gbm_train gives */
    struct gbm_params p;
    params_for_tests(&p);
    p.rounds = 30;
    struct rank_sample_params sp;
    struct rank_set train, hold;
    gbm_sample_params(&p, GBM_NDCG, &sp);
    CHECK_EQ_INT(rank_sample(&all.d, &sp, &train, &hold), 0);
    struct gbm_dataset *ds;
    CHECK_EQ_INT(gbm_dataset_new(&p, &train.d, &hold.d, &ds), 0);
    CHECK(gbm_dataset_seconds(ds) > 0);
    static const enum gbm_kind kinds[] = {GBM_XENDCG, GBM_NDCG, GBM_DEEP};
    float *a = malloc(sizeof(float) * test.d.n_rows), *b = malloc(sizeof(float) * test.d.n_rows);
    for (int i = 0; i < 3; i++) {
        struct gbm_model *shared, *alone;
        struct gbm_report r1, r2;
        CHECK_EQ_INT(gbm_train_on(kinds[i], &p, ds, &shared, &r1), 0);
        CHECK_EQ_INT(gbm_train(kinds[i], &p, &train.d, &hold.d, &alone, &r2), 0);
        CHECK_EQ_INT(r1.best_rounds, r2.best_rounds);
        CHECK(r1.seconds_data == 0 && r2.seconds_data > 0);
        CHECK_EQ_INT(gbm_predict_data(shared, &test.d, a), 0);
        CHECK_EQ_INT(gbm_predict_data(alone, &test.d, b), 0);
        CHECK(memcmp(a, b, sizeof(float) * test.d.n_rows) == 0);
        gbm_free(&shared);
        gbm_free(&alone);
        gbm_report_release(&r1);
        gbm_report_release(&r2);
    }
    /* the bins are the dataset's */
    struct gbm_model *m;
    p.max_bin = 64;
    CHECK_EQ_INT(gbm_train_on(GBM_NDCG, &p, ds, &m, NULL), HM_EINVAL);
    CHECK_STR(hm_last_error(), "training the ndcg model: gbm.max_bin is 64 but the dataset was "
                               "binned with 256");
    free(a);
    free(b);
    gbm_dataset_free(&ds);
    CHECK(ds == NULL);
    rank_set_release(&train);
    rank_set_release(&hold);
}

/* ---- prediction ------------------------------------------------------------------------------ */

struct half {
    const struct gbm_model *m;
    const float *x;
    uint64_t n;
    float *out;
    int rc;
};

static void *predict_half(void *arg)
{
    struct half *h = arg;
    for (int rep = 0; rep < 5 && !h->rc; rep++)
        h->rc = gbm_predict(h->m, h->x, h->n, NC, h->out);
    return NULL;
}

TEST(test_predict_from_threads)
{
    struct gbm_params p;
    params_for_tests(&p);
    p.rounds = 30;
    struct trained t = {0};
    CHECK_EQ_INT(train_kind(GBM_CLASSIFIER, &p, &t), 0);
    uint64_t n = test.d.n_rows, h = n / 2;
    float *one = malloc(sizeof(float) * n), *two = malloc(sizeof(float) * n);
    CHECK_EQ_INT(gbm_predict(t.m, test.d.x, n, NC, one), 0);
    struct half a = {t.m, test.d.x, h, two, 0}, b = {t.m, test.d.x + h * NC, n - h, two + h, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, predict_half, &a);
    pthread_create(&tb, NULL, predict_half, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_EQ_INT(a.rc, 0);
    CHECK_EQ_INT(b.rc, 0);
    CHECK(memcmp(one, two, sizeof(float) * n) == 0);
    /* row by row gives the same scores as a block */
    for (uint64_t r = 0; r < 50; r++) {
        float s;
        CHECK_EQ_INT(gbm_predict(t.m, test.d.x + r * NC, 1, NC, &s), 0);
        CHECK(s == one[r]);
    }
    /* the wrong number of columns */
    CHECK_EQ_INT(gbm_predict(t.m, test.d.x, 10, NC - 1, one), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "5 columns given, the classifier model has 6") != NULL);
    free(one);
    free(two);
    gbm_free(&t.m);
    gbm_report_release(&t.rep);
}

/* ---- model files ---------------------------------------------------------------------------- */

static char tmpdir[64];

static char *tmp_path(const char *name)
{
    static char path[160];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

TEST(test_save_load)
{
    struct gbm_params p;
    params_for_tests(&p);
    p.rounds = 25;
    struct trained t = {0};
    CHECK_EQ_INT(train_kind(GBM_DEEP, &p, &t), 0);
    char path[160];
    snprintf(path, sizeof path, "%s", tmp_path("deep.hmt"));
    CHECK_EQ_INT(gbm_save(t.m, path), 0);
    struct gbm_model *back;
    CHECK_EQ_INT(gbm_load(path, &back), 0);
    CHECK_EQ_INT(gbm_model_kind(back), GBM_DEEP);
    CHECK_EQ_INT(gbm_model_rounds(back), gbm_model_rounds(t.m));
    CHECK_EQ_INT(gbm_model_n_cols(back), NC);
    CHECK_STR(gbm_model_col_name(back, C_MISSING), "missing");
    CHECK(gbm_model_map12(back) == t.rep.best_map12);
    uint32_t n_curve;
    const float *curve = gbm_model_curve(back, &n_curve);
    CHECK_EQ_INT(n_curve, t.rep.rounds);
    CHECK(memcmp(curve, t.rep.curve, n_curve * sizeof *curve) == 0);
    float *a = malloc(sizeof(float) * test.d.n_rows), *b = malloc(sizeof(float) * test.d.n_rows);
    CHECK_EQ_INT(gbm_predict_data(t.m, &test.d, a), 0);
    CHECK_EQ_INT(gbm_predict_data(back, &test.d, b), 0);
    CHECK(memcmp(a, b, sizeof(float) * test.d.n_rows) == 0);
    char *fa = gbm_importance_format(t.m, 30), *fb = gbm_importance_format(back, 30);
    CHECK_STR(fa, fb);
    free(fa);
    free(fb);

    /* data whose columns differ: a renamed column, a missing column */
    struct rank_data renamed = test.d;
    const char *names[NC];
    memcpy(names, col_names, sizeof names);
    names[C_GAUSS] = "gauss_v2";
    renamed.col_name = names;
    CHECK_EQ_INT(gbm_predict_data(back, &renamed, b), HM_EINVAL);
    CHECK_STR(hm_last_error(), "feature column 3 is 'gauss_v2' in the data but the deep model was "
                               "trained with 'gauss' there");
    struct rank_data narrow = test.d;
    narrow.n_cols = NC - 1;
    CHECK_EQ_INT(gbm_check_columns(back, &narrow), HM_EINVAL);
    CHECK_STR(hm_last_error(), "the deep model was trained on 6 feature columns, the data has 5");

    /* truncated, corrupted and foreign files */
    char *bytes;
    size_t len;
    CHECK_EQ_INT(hm_read_file(path, &bytes, &len), 0);
    char bad[160];
    snprintf(bad, sizeof bad, "%s", tmp_path("bad.hmt"));
    struct gbm_model *none = NULL;
    write_bytes(bad, bytes, len / 2);
    CHECK(gbm_load(bad, &none) != 0);
    CHECK(strstr(hm_last_error(), "truncated") != NULL);
    CHECK(none == NULL);
    bytes[len - 100] ^= 0x40; /* inside the last column's data or padding */
    bytes[300] ^= 0x40;       /* inside the column directory or the first column */
    write_bytes(bad, bytes, len);
    CHECK(gbm_load(bad, &none) != 0);
    CHECK(strstr(hm_last_error(), "bad.hmt") != NULL);
    write_bytes(bad, "tree,0,1\n", 9);
    CHECK(gbm_load(bad, &none) != 0);
    CHECK(strstr(hm_last_error(), "not an hmrec table file") != NULL);
    /* another hmrec table */
    uint64_t meta[IO_TABLE_META] = {0};
    uint32_t v[3] = {1, 2, 3};
    struct io_column_desc col = {"x", IO_U32, 4, 3, v};
    CHECK_EQ_INT(io_table_write(bad, "candidates", 3, meta, &col, 1), 0);
    CHECK(gbm_load(bad, &none) != 0);
    CHECK(strstr(hm_last_error(), "gbm_model") != NULL);
    /* a valid table whose XGBoost bytes are not a model */
    uint8_t junk[64];
    memset(junk, 'x', sizeof junk);
    uint64_t off[2] = {0, 1};
    float one_round[1] = {0};
    uint64_t hmeta[IO_TABLE_META] = {1, GBM_NDCG, 1, 1, 1, 0, 0, 0};
    /* the names' checksum as gbm_save computes it: hm_hash64 chained over "a\0" */
    hmeta[6] = hm_hash64("a", 2, 0);
    struct io_column_desc cols[] = {{"xgboost_ubj", IO_U8, 1, sizeof junk, junk},
                                    {"col_name.off", IO_U64, 8, 2, off},
                                    {"col_name.bytes", IO_U8, 1, 1, "a"},
                                    {"curve", IO_F32, 4, 1, one_round}};
    CHECK_EQ_INT(io_table_write(bad, "gbm_model", 1, hmeta, cols, 4), 0);
    CHECK(gbm_load(bad, &none) != 0);
    CHECK(strstr(hm_last_error(), "xgboost: reading the model") != NULL);
    CHECK(strchr(hm_last_error(), '\n') == NULL); /* XGBoost's stack trace is not part of it */
    CHECK(none == NULL);
    free(bytes);
    unlink(bad);
    unlink(path);
    free(a);
    free(b);
    gbm_free(&back);
    gbm_free(&t.m);
    gbm_report_release(&t.rep);
}

/* ---- importance and bad input ------------------------------------------------------------------ */

TEST(test_importance)
{
    struct gbm_params p;
    params_for_tests(&p);
    p.rounds = 60;
    struct trained t = {0};
    CHECK_EQ_INT(train_kind(GBM_CLASSIFIER, &p, &t), 0);
    struct gbm_feature *f;
    uint32_t n;
    CHECK_EQ_INT(gbm_importance(t.m, &f, &n), 0);
    CHECK_EQ_INT(n, NC);
    /* by gain: sorted; the strongest column leads, the unrelated one is not in the top 3 */
    for (uint32_t i = 1; i < n; i++)
        CHECK(f[i - 1].gain >= f[i].gain);
    uint32_t noise_rank = 0;
    for (uint32_t i = 0; i < n; i++)
        if (f[i].col == C_NOISE)
            noise_rank = i;
    CHECK(f[0].col == C_STRONG || f[0].col == C_INTER);
    CHECK(noise_rank >= 3);
    CHECK(f[0].splits > 0 && f[0].total_gain >= f[0].gain);
    char *text = gbm_importance_format(t.m, 2);
    fprintf(stderr, "%s", text);
    CHECK(strstr(text, col_names[f[0].col]) != NULL);
    CHECK(strstr(text, col_names[f[2].col]) == NULL || f[2].col == f[0].col);
    free(text);
    free(f);
    gbm_free(&t.m);
    gbm_report_release(&t.rep);
}

TEST(test_bad_training_input)
{
    struct gbm_params p;
    params_for_tests(&p);
    struct rank_sample_params sp;
    struct rank_set train, hold;
    gbm_sample_params(&p, GBM_NDCG, &sp);
    CHECK_EQ_INT(rank_sample(&all.d, &sp, &train, &hold), 0);
    struct gbm_model *m = NULL;
    /* no positive row */
    struct rank_data d = train.d;
    float *zero = calloc(d.n_rows, sizeof(float));
    d.label = zero;
    CHECK_EQ_INT(gbm_train(GBM_NDCG, &p, &d, &hold.d, &m, NULL), HM_EINVAL);
    CHECK_STR(hm_last_error(), "training the ndcg model: the training set has no positive row");
    CHECK(m == NULL);
    /* held-out customers who bought nothing */
    struct rank_data h = hold.d;
    uint32_t *truth = calloc(h.n_groups, sizeof(uint32_t));
    h.group_truth = truth;
    CHECK_EQ_INT(gbm_train(GBM_NDCG, &p, &train.d, &h, &m, NULL), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "no held-out customer bought anything") != NULL);
    /* columns that differ */
    h = hold.d;
    h.n_cols = NC - 1;
    CHECK_EQ_INT(gbm_train(GBM_NDCG, &p, &train.d, &h, &m, NULL), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "held-out set has 5 columns, training set 6") != NULL);
    /* a bad setting */
    snprintf(p.deep_objective, sizeof p.deep_objective, "hinge");
    CHECK_EQ_INT(gbm_train(GBM_DEEP, &p, &train.d, &hold.d, &m, NULL), HM_EINVAL);
    CHECK(strstr(hm_last_error(), "gbm.deep_objective") != NULL);
    free(zero);
    free(truth);
    rank_set_release(&train);
    rank_set_release(&hold);
}

static int warnings;
static void count_warnings(int level, const char *msg, void *ud)
{
    (void)ud;
    if (level <= HM_LOG_WARN) {
        warnings++;
        fprintf(stderr, "  warning: %s\n", msg);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    /* XGBoost's OpenMP threads spin while they wait for each other; on a shared machine whose
     * cores are busy that makes this test 10-20 times slower. Wait passively unless the
     * caller chose a policy (libgomp reads it only at start, hence the exec). */
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        execv("/proc/self/exe", argv);
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hm_test_gbm_XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    hm_log_set_hook(count_warnings, NULL);
    make_data(3000, 50, 1, &all, &all_u);
    make_data(1000, 50, 2, &test, &test_u);
    RUN(test_xendcg_by_hand);
    RUN(test_xendcg_finite_differences);
    RUN(test_xendcg_order3);
    RUN(test_xendcg_all_groups);
    RUN(test_params);
    RUN(test_every_kind_learns);
    RUN(test_early_stopping_keeps_the_best_round);
    RUN(test_forest_equals_model);
    RUN(test_predict_through_forest);
    RUN(test_determinism);
    RUN(test_shared_dataset);
    RUN(test_predict_from_threads);
    RUN(test_save_load);
    RUN(test_importance);
    RUN(test_bad_training_input);
    /* XGBoost said nothing: every parameter was used, nothing deprecated */
    if (warnings) {
        fprintf(stderr, "FAIL: %d warnings were logged\n", warnings);
        test_failures++;
    }
    rank_set_release(&all);
    rank_set_release(&test);
    free(all_u);
    free(test_u);
    rmdir(tmpdir);
    TEST_EXIT();
}
