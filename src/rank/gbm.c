/* The XGBoost wrapper: data matrices from ranking data, training with early stopping on our
 * MAP@12, prediction, model files and feature importance. The only file of hmrec that
 * includes xgboost/c_api.h. */
#include "rank/gbm.h"

#include "io/table.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

struct gbm_model {
    BoosterHandle b;
    enum gbm_kind kind;
    uint32_t n_cols;
    char **col_name;       /* (n_cols) */
    uint32_t rounds;       /* rounds kept */
    uint32_t rounds_run;   /* rounds trained */
    double best_map12;
    float *curve;          /* (rounds_run) held-out MAP@12 per round, NaN where not evaluated */
    /* The trees compiled for gbm_predict (forest.c), made on its first large call:
     * forest_state 0 = not yet, 1 = in use, -1 = XGBoost predicts (the forest did not give
     * exactly XGBoost's margins on that call's first rows) */
    _Atomic int forest_state;
    struct gbm_forest *forest;
};

#define GBM_FILE_VERSION 1u
#define PREDICT_BLOCK ((uint64_t)1 << 18) /* rows per XGBoost call */

/* ---- errors and logging ---------------------------------------------------------------------- */

/* XGBoost's message without its time stamp and stack trace. */
static int xgb_fail(const char *what)
{
    const char *m = XGBGetLastError();
    if (!m)
        m = "";
    if (m[0] == '[') {
        const char *c = strchr(m, ']');
        if (c)
            m = c + 1 + (c[1] == ' ');
    }
    size_t len = strcspn(m, "\n");
    while (len && m[len - 1] == ' ')
        len--;
    return hm_error(HM_EINVAL, "xgboost: %s: %.*s", what, (int)len, m);
}

static void xgb_log(const char *msg)
{
    if (msg[0] == '[') {
        const char *c = strchr(msg, ']');
        if (c)
            msg = c + 1 + (c[1] == ' ');
    }
    hm_warn("xgboost: %s", msg);
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static void log_init(void) { XGBRegisterLogCallback(xgb_log); }

/* Time spent inside XGBoost during training. */
struct clock {
    double xgb;
};
#define XGB(ck, call, what)                                                                       \
    do {                                                                                          \
        int64_t t0_ = hm_now_ns();                                                                \
        int rc_ = (call);                                                                         \
        (ck)->xgb += hm_seconds_since(t0_);                                                       \
        if (rc_) {                                                                                \
            rc = xgb_fail(what);                                                                  \
            goto done;                                                                            \
        }                                                                                         \
    } while (0)

/* ---- the model ------------------------------------------------------------------------------ */

static struct gbm_model *model_new(enum gbm_kind kind, uint32_t n_cols)
{
    struct gbm_model *m = hm_xcalloc(1, sizeof *m);
    m->kind = kind;
    m->n_cols = n_cols;
    m->col_name = hm_xcalloc((size_t)n_cols + 1, sizeof *m->col_name);
    return m;
}

void gbm_free(struct gbm_model **pm)
{
    struct gbm_model *m = *pm;
    if (!m)
        return;
    if (m->b)
        XGBoosterFree(m->b);
    for (uint32_t c = 0; c < m->n_cols; c++)
        free(m->col_name[c]);
    free(m->col_name);
    free(m->curve);
    gbm_forest_free(&m->forest);
    free(m);
    *pm = NULL;
}

enum gbm_kind gbm_model_kind(const struct gbm_model *m) { return m->kind; }
uint32_t gbm_model_n_cols(const struct gbm_model *m) { return m->n_cols; }
const char *gbm_model_col_name(const struct gbm_model *m, uint32_t c) { return m->col_name[c]; }
uint32_t gbm_model_rounds(const struct gbm_model *m) { return m->rounds; }
double gbm_model_map12(const struct gbm_model *m) { return m->best_map12; }

const float *gbm_model_curve(const struct gbm_model *m, uint32_t *n)
{
    *n = m->rounds_run;
    return m->curve;
}

void gbm_report_release(struct gbm_report *r)
{
    free(r->curve);
    memset(r, 0, sizeof *r);
}

/* Sets the booster's thread count and makes it configure itself with one prediction, so that
 * later predictions from several threads find it configured. */
static int booster_ready(BoosterHandle b, uint32_t n_cols)
{
    char nt[16];
    snprintf(nt, sizeof nt, "%d", hm_threads());
    if (XGBoosterSetParam(b, "nthread", nt))
        return xgb_fail("setting nthread");
    float *row = hm_xmalloc_array(n_cols, sizeof *row);
    for (uint32_t c = 0; c < n_cols; c++)
        row[c] = NAN;
    char ai[160];
    snprintf(ai, sizeof ai, "{\"data\":[%zu,true],\"shape\":[1,%u],\"typestr\":\"<f4\",\"version\":3}",
             (size_t)row, n_cols);
    bst_ulong const *shape;
    bst_ulong dim;
    const float *res;
    int rc = 0;
    if (XGBoosterPredictFromDense(b, ai, "{\"type\":1,\"training\":false,\"iteration_begin\":0,"
                                  "\"iteration_end\":0,\"strict_shape\":false,\"cache_id\":0,"
                                  "\"missing\":NaN}", NULL, &shape, &dim, &res))
        rc = xgb_fail("first prediction");
    free(row);
    return rc;
}

/* ---- data matrices ----------------------------------------------------------------------------- */

/* Feeds XGBoost's quantile matrix the rows of a rank_data in place, a block at a time: no
 * copy of the floats is made (XGBoost keeps only one byte per value, the bin). */
struct dm_iter {
    const float *x;
    uint64_t n_rows, pos, batch;
    uint32_t n_cols;
    DMatrixHandle proxy;
    int failed;  /* the proxy refused a block: XGBoost saw the data end there */
};

static void dm_reset(DataIterHandle h) { ((struct dm_iter *)h)->pos = 0; }

static int dm_next(DataIterHandle h)
{
    struct dm_iter *it = h;
    if (it->pos >= it->n_rows)
        return 0;
    uint64_t m = it->n_rows - it->pos < it->batch ? it->n_rows - it->pos : it->batch;
    char ai[200];
    snprintf(ai, sizeof ai,
             "{\"data\":[%zu,true],\"shape\":[%llu,%u],\"typestr\":\"<f4\",\"version\":3}",
             (size_t)(it->x + it->pos * it->n_cols), (unsigned long long)m, it->n_cols);
    if (XGProxyDMatrixSetDataDense(it->proxy, ai)) {
        it->failed = 1;
        return 0;
    }
    it->pos += m;
    return 1;
}

/* The training rows as XGBoost's quantile DMatrix (binned while read: one byte per value), with
 * labels and query groups. */
static int dm_train(const struct rank_data *d, const struct gbm_params *p, DMatrixHandle *out,
                    struct clock *ck)
{
    int rc = 0;
    *out = NULL;
    struct dm_iter it = {d->x, d->n_rows, 0, (uint64_t)1 << 20, d->n_cols, NULL, 0};
    char cfg[120];
    snprintf(cfg, sizeof cfg, "{\"missing\":NaN,\"nthread\":%d,\"max_bin\":%ld}", hm_threads(),
             p->max_bin);
    uint32_t *sizes = NULL;
    XGB(ck, XGProxyDMatrixCreate(&it.proxy), "creating a data proxy");
    XGB(ck, XGQuantileDMatrixCreateFromCallback(&it, it.proxy, NULL, dm_reset, dm_next, cfg, out),
        "building the training matrix");
    if (it.failed) {
        rc = xgb_fail("passing a block of rows");
        goto done;
    }
    XGB(ck, XGDMatrixSetFloatInfo(*out, "label", d->label, d->n_rows), "setting labels");
    /* groups without rows are left out: XGBoost wants sizes of at least one */
    sizes = hm_xmalloc_array((size_t)d->n_groups + 1, sizeof *sizes);
    uint32_t n = 0;
    for (uint32_t g = 0; g < d->n_groups; g++) {
        uint64_t s = d->group_off[g + 1] - d->group_off[g];
        if (s > UINT32_MAX) {
            rc = hm_error(HM_EINVAL, "group %u has %llu rows (at most 2^32 - 1)", g,
                          (unsigned long long)s);
            goto done;
        }
        if (s)
            sizes[n++] = (uint32_t)s;
    }
    XGB(ck, XGDMatrixSetUIntInfo(*out, "group", sizes, n), "setting query groups");
done:
    free(sizes);
    if (it.proxy)
        XGDMatrixFree(it.proxy);
    if (rc && *out) {
        XGDMatrixFree(*out);
        *out = NULL;
    }
    return rc;
}

/* The held-out rows as an ordinary DMatrix (a sparse copy of the floats). Not a quantile one:
 * XGBoost 1.7 rebuilds every row from the bins on each prediction from a quantile matrix,
 * which made the per-round held-out prediction 30 times slower. */
static int dm_holdout(const struct rank_data *d, DMatrixHandle *out, struct clock *ck)
{
    int rc = 0;
    *out = NULL;
    char ai[200], cfg[64];
    snprintf(ai, sizeof ai,
             "{\"data\":[%zu,true],\"shape\":[%llu,%u],\"typestr\":\"<f4\",\"version\":3}",
             (size_t)d->x, (unsigned long long)d->n_rows, d->n_cols);
    snprintf(cfg, sizeof cfg, "{\"missing\":NaN,\"nthread\":%d}", hm_threads());
    XGB(ck, XGDMatrixCreateFromDense(ai, cfg, out), "building the held-out matrix");
done:
    return rc;
}

/* ---- training ------------------------------------------------------------------------------ */

enum objective { OBJ_BINARY, OBJ_NDCG, OBJ_MAP, OBJ_XENDCG };

static enum objective objective_of(enum gbm_kind kind, const struct gbm_params *p)
{
    switch (kind) {
    case GBM_CLASSIFIER: return OBJ_BINARY;
    case GBM_NDCG: return OBJ_NDCG;
    case GBM_MAP: return OBJ_MAP;
    case GBM_XENDCG: return OBJ_XENDCG;
    case GBM_DEEP:
        if (!strcmp(p->deep_objective, "binary"))
            return OBJ_BINARY;
        if (!strcmp(p->deep_objective, "map"))
            return OBJ_MAP;
        if (!strcmp(p->deep_objective, "xendcg"))
            return OBJ_XENDCG;
        return OBJ_NDCG;
    }
    HM_BUG("model kind %d", (int)kind);
}

/* The booster's parameters for a kind, as (name, value) pairs. */
static int set_params(BoosterHandle b, enum gbm_kind kind, enum objective obj,
                      const struct gbm_params *p)
{
    static const char *const obj_name[] = {"binary:logistic", "rank:ndcg", "rank:map",
                                           "rank:pairwise"};
    int deep = kind == GBM_DEEP;
    double mcw = deep ? p->deep_min_child_weight
                      : obj == OBJ_XENDCG ? p->xendcg_min_child_weight : p->min_child_weight;
    char v[20][32];
    const char *k[20];
    int n = 0;
#define SET(key, ...) (k[n] = key, snprintf(v[n], sizeof v[n], __VA_ARGS__), n++)
    SET("objective", "%s", obj_name[obj]);
    SET("tree_method", "hist");
    SET("grow_policy", "%s", deep ? "lossguide" : "depthwise");
    SET("eta", "%.17g", deep ? p->deep_eta : obj == OBJ_XENDCG ? p->xendcg_eta : p->eta);
    SET("max_depth", "%ld", deep ? p->deep_depth : p->depth);
    SET("max_leaves", "%ld", deep ? p->deep_leaves : p->leaves);
    SET("min_child_weight", "%.17g", mcw);
    SET("subsample", "%.17g", p->subsample);
    SET("colsample_bytree", "%.17g", p->colsample);
    SET("lambda", "%.17g", p->lambda);
    SET("gamma", "%.17g", p->min_split_loss);
    SET("max_bin", "%ld", p->max_bin);
    SET("seed", "%ld", p->seed);
    SET("nthread", "%d", hm_threads());
    SET("verbosity", "1");
    SET("disable_default_eval_metric", "1");
#undef SET
    for (int i = 0; i < n; i++)
        if (XGBoosterSetParam(b, k[i], v[i]))
            return xgb_fail(k[i]);
    return 0;
}

static int check_train_data(const struct rank_data *train, const struct rank_data *holdout)
{
    if (!train->n_rows || !train->n_cols)
        return hm_error(HM_EINVAL, "the training set is empty (%llu rows, %u columns)",
                        (unsigned long long)train->n_rows, train->n_cols);
    if (!train->label)
        return hm_error(HM_EINVAL, "the training set has no labels");
    uint64_t pos = 0;
    for (uint64_t r = 0; r < train->n_rows; r++) {
        if (!(train->label[r] >= 0 && train->label[r] <= 31))
            return hm_error(HM_EINVAL, "label of training row %llu is %g (expected 0..31)",
                            (unsigned long long)r, (double)train->label[r]);
        pos += train->label[r] > 0;
    }
    if (!pos)
        return hm_error(HM_EINVAL, "the training set has no positive row");
    if (!holdout)
        return 0;
    if (holdout->n_cols != train->n_cols)
        return hm_error(HM_EINVAL, "held-out set has %u columns, training set %u",
                        holdout->n_cols, train->n_cols);
    for (uint32_t c = 0; train->col_name && holdout->col_name && c < train->n_cols; c++)
        if (strcmp(train->col_name[c], holdout->col_name[c]))
            return hm_error(HM_EINVAL, "column %u is '%s' in the training set but "
                                       "'%s' in the held-out set", c, train->col_name[c],
                            holdout->col_name[c]);
    if (!holdout->label || !holdout->group_truth)
        return hm_error(HM_EINVAL, "the held-out set has no labels");
    for (uint32_t g = 0; g < holdout->n_groups; g++)
        if (holdout->group_truth[g])
            return 0;
    return hm_error(HM_EINVAL, "no held-out customer bought anything in the target "
                               "week (early stopping needs some)");
}

/* ---- datasets -------------------------------------------------------------------------------- */

struct gbm_dataset {
    const struct rank_data *train, *holdout;
    DMatrixHandle dtrain, dhold;
    long max_bin;
    double seconds;
};

int gbm_dataset_new(const struct gbm_params *p, const struct rank_data *train,
                    const struct rank_data *holdout, struct gbm_dataset **out)
{
    *out = NULL;
    int rc = check_train_data(train, holdout);
    if (rc)
        return rc;
    pthread_once(&log_once, log_init);
    struct clock ck = {0};
    struct gbm_dataset *ds = hm_xcalloc(1, sizeof *ds);
    ds->train = train;
    ds->holdout = holdout;
    ds->max_bin = p->max_bin;
    /* labels and query groups for every objective: binary:logistic ignores the groups */
    rc = dm_train(train, p, &ds->dtrain, &ck);
    if (!rc && holdout)
        rc = dm_holdout(holdout, &ds->dhold, &ck);
    ds->seconds = ck.xgb;
    if (rc) {
        gbm_dataset_free(&ds);
        return rc;
    }
    *out = ds;
    return 0;
}

void gbm_dataset_free(struct gbm_dataset **pds)
{
    struct gbm_dataset *ds = *pds;
    if (!ds)
        return;
    if (ds->dtrain)
        XGDMatrixFree(ds->dtrain);
    if (ds->dhold)
        XGDMatrixFree(ds->dhold);
    free(ds);
    *pds = NULL;
}

double gbm_dataset_seconds(const struct gbm_dataset *ds) { return ds->seconds; }

/* ---- the boosting loop ------------------------------------------------------------------------- */

static const char *const predict_margin =
    "{\"type\":1,\"training\":false,\"iteration_begin\":0,\"iteration_end\":0,\"strict_shape\":false}";
static const char *const predict_margin_training =
    "{\"type\":1,\"training\":true,\"iteration_begin\":0,\"iteration_end\":0,\"strict_shape\":false}";

int gbm_train_on(enum gbm_kind kind, const struct gbm_params *p, struct gbm_dataset *ds,
                 struct gbm_model **out, struct gbm_report *rep)
{
    int64_t t_start = hm_now_ns();
    *out = NULL;
    if (rep)
        memset(rep, 0, sizeof *rep);
    if ((unsigned)kind >= GBM_NKINDS)
        return hm_error(HM_EINVAL, "gbm_train: model kind %d", (int)kind);
    int rc = gbm_params_check(p);
    if (!rc && p->max_bin != ds->max_bin)
        rc = hm_error(HM_EINVAL, "gbm.max_bin is %ld but the dataset was binned with %ld",
                      p->max_bin, ds->max_bin);
    if (rc)
        return hm_error_wrap(rc, "training the %s model", gbm_kind_name(kind));

    const struct rank_data *train = ds->train, *holdout = ds->holdout;
    struct clock ck = {0};
    enum objective obj = objective_of(kind, p);
    DMatrixHandle cache[2] = {ds->dtrain, ds->dhold};
    BoosterHandle b = NULL;
    struct gbm_model *m = NULL;
    float *grad = NULL, *hess = NULL, *curve = hm_xmalloc_array((size_t)p->rounds, sizeof *curve);
    double sec_obj = 0, sec_metric = 0, sec_hold = 0, best = -1;
    uint32_t t = 0, best_t = 0;
    struct hm_progress prog;
    char label[64];
    snprintf(label, sizeof label, "gbm %s", gbm_kind_name(kind));
    hm_progress_begin(&prog, label, (uint64_t)p->rounds);

    XGB(&ck, XGBoosterCreate(cache, holdout ? 2 : 1, &b), "creating the booster");
    if ((rc = set_params(b, kind, obj, p)))
        goto done;
    if (obj == OBJ_XENDCG) {
        grad = hm_xmalloc_array(train->n_rows, sizeof *grad);
        hess = hm_xmalloc_array(train->n_rows, sizeof *hess);
    }
    for (t = 0; t < (uint32_t)p->rounds; t++) {
        if (obj == OBJ_XENDCG) {
            bst_ulong const *shape;
            bst_ulong dim;
            const float *margin;
            XGB(&ck, XGBoosterPredictFromDMatrix(b, ds->dtrain, predict_margin_training, &shape,
                                                 &dim, &margin), "predicting the training rows");
            int64_t t0 = hm_now_ns();
            xendcg_gradients(train, margin, (uint64_t)p->seed, t, (int)p->xendcg_order, grad, hess);
            sec_obj += hm_seconds_since(t0);
            XGB(&ck, XGBoosterBoostOneIter(b, ds->dtrain, grad, hess, train->n_rows), "boosting");
        } else {
            XGB(&ck, XGBoosterUpdateOneIter(b, (int)t, ds->dtrain), "boosting");
        }
        curve[t] = NAN;
        int last = t + 1 == (uint32_t)p->rounds;
        if (holdout && ((t + 1) % (uint32_t)p->eval_period == 0 || last)) {
            bst_ulong const *shape;
            bst_ulong dim;
            const float *margin;
            double before = ck.xgb;
            XGB(&ck, XGBoosterPredictFromDMatrix(b, ds->dhold, predict_margin, &shape, &dim,
                                                 &margin), "predicting the held-out rows");
            sec_hold += ck.xgb - before;
            int64_t t0 = hm_now_ns();
            double map = rank_map12(holdout, margin, NULL);
            sec_metric += hm_seconds_since(t0);
            curve[t] = (float)map;
            if (map > best) {
                best = map;
                best_t = t;
            }
            hm_debug("gbm %s: round %u held-out MAP@12 %.5f (best %.5f at %u)", gbm_kind_name(kind),
                     t + 1, map, best, best_t + 1);
            if (t - best_t >= (uint32_t)p->patience) {
                t++;
                break;
            }
        }
        hm_progress_add(&prog, 1);
    }
    uint32_t kept = holdout ? best_t + 1 : t;
    if (kept < t) {
        BoosterHandle sliced;
        XGB(&ck, XGBoosterSlice(b, 0, (int)kept, 1, &sliced), "keeping the best rounds");
        XGBoosterFree(b);
        b = sliced;
    }
    if ((rc = booster_ready(b, train->n_cols)))
        goto done;

    m = model_new(kind, train->n_cols);
    m->b = b;
    b = NULL;
    for (uint32_t c = 0; c < train->n_cols; c++) {
        char name[32];
        snprintf(name, sizeof name, "f%u", c);
        m->col_name[c] = hm_xstrdup(train->col_name ? train->col_name[c] : name);
    }
    m->rounds = kept;
    m->rounds_run = t;
    m->best_map12 = holdout ? best : 0;
    m->curve = hm_xmalloc_array((size_t)t + 1, sizeof *m->curve);
    memcpy(m->curve, curve, (size_t)t * sizeof *curve);
    *out = m;
    if (rep) {
        rep->kind = kind;
        rep->rounds = t;
        rep->best_rounds = kept;
        rep->best_map12 = m->best_map12;
        rep->curve = curve;
        curve = NULL;
        rep->train_rows = train->n_rows;
        rep->train_groups = train->n_groups;
        rep->holdout_rows = holdout ? holdout->n_rows : 0;
        rep->holdout_groups = holdout ? holdout->n_groups : 0;
        rep->seconds_xgb = ck.xgb;
        rep->seconds_objective = sec_obj;
        rep->seconds_metric = sec_metric;
        rep->seconds_holdout = sec_hold;
        rep->seconds = hm_seconds_since(t_start);
    }
    hm_info("gbm %s: %u rounds, kept %u, held-out MAP@12 %.5f", gbm_kind_name(kind), t, kept,
            m->best_map12);
done:
    hm_progress_end(&prog);
    if (b)
        XGBoosterFree(b);
    free(grad);
    free(hess);
    free(curve);
    if (rc)
        hm_error_wrap(rc, "training the %s model", gbm_kind_name(kind));
    return rc;
}

int gbm_train(enum gbm_kind kind, const struct gbm_params *p, const struct rank_data *train,
              const struct rank_data *holdout, struct gbm_model **out, struct gbm_report *rep)
{
    int64_t t0 = hm_now_ns();
    *out = NULL;
    if (rep)
        memset(rep, 0, sizeof *rep);
    int rc = gbm_params_check(p);
    struct gbm_dataset *ds = NULL;
    if (!rc)
        rc = gbm_dataset_new(p, train, holdout, &ds);
    if (rc)
        return hm_error_wrap(rc, "training the %s model", gbm_kind_name(kind));
    rc = gbm_train_on(kind, p, ds, out, rep);
    if (!rc && rep) {
        rep->seconds_data = ds->seconds;
        rep->seconds_xgb += ds->seconds;
        rep->seconds = hm_seconds_since(t0);
    }
    gbm_dataset_free(&ds);
    return rc;
}

/* ---- prediction ----------------------------------------------------------------------------- */

int gbm_check_columns(const struct gbm_model *m, const struct rank_data *d)
{
    if (d->n_cols != m->n_cols)
        return hm_error(HM_EINVAL, "the %s model was trained on %u feature columns, the data has %u",
                        gbm_kind_name(m->kind), m->n_cols, d->n_cols);
    if (!d->col_name)
        return 0;
    for (uint32_t c = 0; c < m->n_cols; c++)
        if (strcmp(d->col_name[c], m->col_name[c]))
            return hm_error(HM_EINVAL, "feature column %u is '%s' in the data but the %s model "
                                       "was trained with '%s' there", c, d->col_name[c],
                            gbm_kind_name(m->kind), m->col_name[c]);
    return 0;
}

int gbm_predict_xgboost(const struct gbm_model *m, const float *x, uint64_t n_rows, uint32_t n_cols,
                        float *out)
{
    if (n_cols != m->n_cols)
        return hm_error(HM_EINVAL, "gbm_predict_xgboost: %u columns given, the %s model has %u", n_cols,
                        gbm_kind_name(m->kind), m->n_cols);
    static const char *const cfg = "{\"type\":1,\"training\":false,\"iteration_begin\":0,"
                                   "\"iteration_end\":0,\"strict_shape\":false,\"cache_id\":0,"
                                   "\"missing\":NaN}";
    for (uint64_t r = 0; r < n_rows; r += PREDICT_BLOCK) {
        uint64_t n = n_rows - r < PREDICT_BLOCK ? n_rows - r : PREDICT_BLOCK;
        char ai[200];
        snprintf(ai, sizeof ai,
                 "{\"data\":[%zu,true],\"shape\":[%llu,%u],\"typestr\":\"<f4\",\"version\":3}",
                 (size_t)(x + r * n_cols), (unsigned long long)n, n_cols);
        bst_ulong const *shape;
        bst_ulong dim;
        const float *res;
        if (XGBoosterPredictFromDense(m->b, ai, cfg, NULL, &shape, &dim, &res))
            return xgb_fail("predicting");
        if (dim < 1 || shape[0] != n)
            return hm_error(HM_EINVAL, "xgboost: predicting %llu rows gave %llu scores",
                            (unsigned long long)n, (unsigned long long)(dim ? shape[0] : 0));
        memcpy(out + r, res, n * sizeof *out);
    }
    return 0;
}

enum { FOREST_CHECK_MIN = 256, FOREST_CHECK_MAX = 2000, FOREST_CHUNK = 4096 };
static pthread_mutex_t forest_lock = PTHREAD_MUTEX_INITIALIZER;

/* The model's compiled forest, compiled on the first call with enough rows (x, n_rows) and
 * kept only when its margins equal XGBoost's exactly on that call's first rows; NULL when
 * XGBoost predicts. The model is logically const: the forest is a cache of its trees. */
static const struct gbm_forest *model_forest(const struct gbm_model *cm, const float *x, uint64_t n_rows)
{
    struct gbm_model *m = (struct gbm_model *)cm;
    int state = atomic_load(&m->forest_state);
    if (state)
        return state > 0 ? m->forest : NULL;
    if (n_rows < FOREST_CHECK_MIN)
        return NULL;
    pthread_mutex_lock(&forest_lock);
    if (!atomic_load(&m->forest_state)) {
        uint32_t n = n_rows < FOREST_CHECK_MAX ? (uint32_t)n_rows : FOREST_CHECK_MAX;
        struct gbm_forest *f = NULL;
        int ok = gbm_forest_new(m, x, n, &f) == 0;
        if (ok) {
            float *want = hm_xmalloc_array(n, sizeof *want), *got = hm_xmalloc_array(n, sizeof *got);
            ok = gbm_predict_xgboost(m, x, n, m->n_cols, want) == 0;
            gbm_forest_predict(f, x, n, got);
            for (uint32_t r = 0; r < n && ok; r++)
                ok = memcmp(&want[r], &got[r], sizeof got[r]) == 0;
            free(want);
            free(got);
            /* the tests' way to the fallback: HMREC_FAULT=forest takes every forest as different */
            if (ok && hm_fault_fires("forest"))
                ok = 0;
        }
        hm_clear_error();
        if (!ok)
            gbm_forest_free(&f);
        m->forest = f;
        hm_debug("gbm: the %s model's %u rounds predict through %s", gbm_kind_name(m->kind), m->rounds,
                 ok ? "the compiled forest" : "XGBoost (the forest differed)");
        atomic_store(&m->forest_state, ok ? 1 : -1);
    }
    pthread_mutex_unlock(&forest_lock);
    return atomic_load(&m->forest_state) > 0 ? m->forest : NULL;
}

struct forest_job {
    const struct gbm_forest *f;
    const float *x;
    uint32_t n_cols;
    float *out;
};

static int forest_range(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    const struct forest_job *j = ud;
    gbm_forest_predict(j->f, j->x + begin * j->n_cols, end - begin, j->out + begin);
    return 0;
}

const char *gbm_predictor(const struct gbm_model *m)
{
    int state = atomic_load(&((struct gbm_model *)m)->forest_state);
    return state > 0 ? "compiled forest" : state < 0 ? "xgboost" : "not yet chosen";
}

int gbm_predict(const struct gbm_model *m, const float *x, uint64_t n_rows, uint32_t n_cols, float *out)
{
    if (n_cols != m->n_cols)
        return hm_error(HM_EINVAL, "gbm_predict: %u columns given, the %s model has %u", n_cols,
                        gbm_kind_name(m->kind), m->n_cols);
    const struct gbm_forest *f = model_forest(m, x, n_rows);
    if (!f)
        return gbm_predict_xgboost(m, x, n_rows, n_cols, out);
    struct forest_job j = {f, x, n_cols, out};
    return hm_parallel_chunks(0, n_rows, FOREST_CHUNK, forest_range, &j);
}

int gbm_predict_data(const struct gbm_model *m, const struct rank_data *d, float *out)
{
    int rc = gbm_check_columns(m, d);
    return rc ? rc : gbm_predict(m, d->x, d->n_rows, d->n_cols, out);
}

/* ---- files ------------------------------------------------------------------------------------ */

static uint64_t names_hash(char *const *names, uint32_t n)
{
    uint64_t h = 0;
    for (uint32_t c = 0; c < n; c++)
        h = hm_hash64(names[c], strlen(names[c]) + 1, h);
    return h;
}

int gbm_save(const struct gbm_model *m, const char *path)
{
    pthread_once(&log_once, log_init);
    bst_ulong len;
    const char *buf;
    if (XGBoosterSaveModelToBuffer(m->b, "{\"format\":\"ubj\"}", &len, &buf))
        return hm_error_wrap(xgb_fail("saving the model"), "'%s'", path);
    uint64_t *off = hm_xmalloc_array((size_t)m->n_cols + 1, sizeof *off);
    off[0] = 0;
    for (uint32_t c = 0; c < m->n_cols; c++)
        off[c + 1] = off[c] + strlen(m->col_name[c]);
    char *bytes = hm_xmalloc(off[m->n_cols] + 1);
    for (uint32_t c = 0; c < m->n_cols; c++)
        memcpy(bytes + off[c], m->col_name[c], off[c + 1] - off[c]);
    double best = m->best_map12;
    uint64_t best_bits;
    memcpy(&best_bits, &best, sizeof best_bits);
    uint64_t meta[IO_TABLE_META] = {GBM_FILE_VERSION, (uint64_t)m->kind, m->n_cols, m->rounds,
                                    m->rounds_run, best_bits, names_hash(m->col_name, m->n_cols), 0};
    struct io_column_desc cols[] = {
        {"xgboost_ubj", IO_U8, 1, len, buf},
        {"col_name.off", IO_U64, 8, (uint64_t)m->n_cols + 1, off},
        {"col_name.bytes", IO_U8, 1, off[m->n_cols], bytes},
        {"curve", IO_F32, 4, m->rounds_run, m->curve},
    };
    int rc = io_table_write(path, "gbm_model", m->rounds, meta, cols, 4);
    free(off);
    free(bytes);
    return rc;
}

int gbm_load(const char *path, struct gbm_model **out)
{
    pthread_once(&log_once, log_init);
    *out = NULL;
    struct io_table t;
    int rc = io_table_open(&t, path, "gbm_model", 0);
    if (rc)
        return rc;
    struct gbm_model *m = NULL;
    const uint8_t *xgb, *bytes;
    const uint64_t *off;
    const float *curve;
    uint64_t n_cols = t.meta[2];
    if (t.meta[0] != GBM_FILE_VERSION) {
        rc = hm_error(HM_EFORMAT, "'%s': model format version %llu, this hmrec reads %u", path,
                      (unsigned long long)t.meta[0], GBM_FILE_VERSION);
        goto done;
    }
    if (t.meta[1] >= GBM_NKINDS || !n_cols || n_cols > UINT32_MAX || t.meta[3] > t.meta[4] ||
        t.meta[4] > UINT32_MAX) {
        rc = hm_error(HM_EFORMAT, "'%s': bad model header (kind %llu, %llu columns, %llu of %llu "
                                  "rounds)", path, (unsigned long long)t.meta[1],
                      (unsigned long long)n_cols, (unsigned long long)t.meta[3],
                      (unsigned long long)t.meta[4]);
        goto done;
    }
    if ((rc = io_table_column(&t, "xgboost_ubj", IO_U8, UINT64_MAX, (const void **)&xgb)) ||
        (rc = io_table_column(&t, "col_name.off", IO_U64, n_cols + 1, (const void **)&off)) ||
        (rc = io_table_column(&t, "col_name.bytes", IO_U8, UINT64_MAX, (const void **)&bytes)) ||
        (rc = io_table_column(&t, "curve", IO_F32, t.meta[4], (const void **)&curve))) {
        hm_error_wrap(rc, "'%s'", path);
        goto done;
    }
    uint64_t n_bytes = 0;
    for (int i = 0; i < t.n_cols; i++)
        if (!strcmp(t.cols[i].name, "col_name.bytes"))
            n_bytes = t.cols[i].count;
    m = model_new((enum gbm_kind)t.meta[1], (uint32_t)n_cols);
    for (uint64_t c = 0; c < n_cols; c++) {
        if (off[c] > off[c + 1] || off[c + 1] > n_bytes) {
            rc = hm_error(HM_EFORMAT, "'%s': column name offsets out of order", path);
            goto done;
        }
        m->col_name[c] = hm_xmalloc(off[c + 1] - off[c] + 1);
        memcpy(m->col_name[c], bytes + off[c], off[c + 1] - off[c]);
        m->col_name[c][off[c + 1] - off[c]] = 0;
    }
    if (names_hash(m->col_name, m->n_cols) != t.meta[6]) {
        rc = hm_error(HM_EFORMAT, "'%s': column names do not match their checksum", path);
        goto done;
    }
    m->rounds = (uint32_t)t.meta[3];
    m->rounds_run = (uint32_t)t.meta[4];
    memcpy(&m->best_map12, &t.meta[5], sizeof m->best_map12);
    m->curve = hm_xmalloc_array((size_t)m->rounds_run + 1, sizeof *m->curve);
    memcpy(m->curve, curve, (size_t)m->rounds_run * sizeof *m->curve);
    uint64_t len = 0;
    for (int i = 0; i < t.n_cols; i++)
        if (!strcmp(t.cols[i].name, "xgboost_ubj"))
            len = t.cols[i].count;
    if (XGBoosterCreate(NULL, 0, &m->b) || XGBoosterLoadModelFromBuffer(m->b, xgb, len)) {
        rc = hm_error_wrap(xgb_fail("reading the model"), "'%s'", path);
        goto done;
    }
    int rounds;
    bst_ulong nf;
    if (XGBoosterBoostedRounds(m->b, &rounds) || XGBoosterGetNumFeature(m->b, &nf)) {
        rc = hm_error_wrap(xgb_fail("reading the model"), "'%s'", path);
        goto done;
    }
    if ((uint64_t)rounds != m->rounds || nf != n_cols) {
        rc = hm_error(HM_EFORMAT, "'%s': the XGBoost model has %d rounds and %llu features, the "
                                  "header says %u and %u", path, rounds, (unsigned long long)nf,
                      m->rounds, m->n_cols);
        goto done;
    }
    if ((rc = booster_ready(m->b, m->n_cols))) {
        hm_error_wrap(rc, "'%s'", path);
        goto done;
    }
    *out = m;
    m = NULL;
done:
    gbm_free(&m);
    io_table_release(&t);
    return rc;
}

/* ---- tree dumps ------------------------------------------------------------------------------- */

int gbm_dump_trees(const struct gbm_model *m, char ***trees, uint32_t *n)
{
    *trees = NULL;
    *n = 0;
    bst_ulong len;
    const char **dump;
    if (XGBoosterDumpModelEx(m->b, "", 0, "text", &len, &dump))
        return xgb_fail("dumping the trees");
    char **out = hm_xcalloc((size_t)len + 1, sizeof *out);
    for (bst_ulong i = 0; i < len; i++)
        out[i] = hm_xstrdup(dump[i]);
    *trees = out;
    *n = (uint32_t)len;
    return 0;
}

/* ---- feature importance ------------------------------------------------------------------------- */

static int feature_order(const void *a, const void *b)
{
    const struct gbm_feature *x = a, *y = b;
    if (x->gain != y->gain)
        return x->gain > y->gain ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

/* One importance type into field (0 gain, 1 total gain, 2 splits) of f (n_cols). */
static int score_type(const struct gbm_model *m, const char *type, int field, struct gbm_feature *f)
{
    char cfg[64];
    snprintf(cfg, sizeof cfg, "{\"importance_type\":\"%s\"}", type);
    bst_ulong n, dim;
    const char **names;
    bst_ulong const *shape;
    const float *score;
    if (XGBoosterFeatureScore(m->b, cfg, &n, &names, &dim, &shape, &score))
        return xgb_fail("feature importance");
    for (bst_ulong i = 0; i < n; i++) {
        unsigned c;
        char end;
        if (sscanf(names[i], "f%u%c", &c, &end) != 1 || c >= m->n_cols)
            return hm_error(HM_EINVAL, "xgboost: feature importance names feature '%s'", names[i]);
        if (field == 0)
            f[c].gain = score[i];
        else if (field == 1)
            f[c].total_gain = score[i];
        else
            f[c].splits = (uint64_t)llround(score[i]);
    }
    return 0;
}

int gbm_importance(const struct gbm_model *m, struct gbm_feature **out, uint32_t *n)
{
    struct gbm_feature *f = hm_xcalloc(m->n_cols, sizeof *f);
    for (uint32_t c = 0; c < m->n_cols; c++)
        f[c].col = c;
    int rc = 0;
    if (m->rounds && ((rc = score_type(m, "gain", 0, f)) || (rc = score_type(m, "total_gain", 1, f)) ||
                      (rc = score_type(m, "weight", 2, f)))) {
        free(f);
        return rc;
    }
    qsort(f, m->n_cols, sizeof *f, feature_order);
    *out = f;
    *n = m->n_cols;
    return 0;
}

char *gbm_importance_format(const struct gbm_model *m, uint32_t top)
{
    struct gbm_feature *f;
    uint32_t n;
    if (gbm_importance(m, &f, &n))
        return NULL;
    struct hm_buf b = {0};
    hm_buf_printf(&b, "%4s  %-40s %12s %14s %8s\n", "rank", "feature", "gain", "total gain", "splits");
    for (uint32_t i = 0; i < n && i < top && f[i].splits; i++)
        hm_buf_printf(&b, "%4u  %-40s %12.4g %14.6g %8llu\n", i + 1, m->col_name[f[i].col], f[i].gain,
                      f[i].total_gain, (unsigned long long)f[i].splits);
    free(f);
    return hm_buf_take(&b);
}
