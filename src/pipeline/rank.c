/* Stage 4's driver: the models of rank.models trained on the training set of Stage 3 (the
 * boosted models share one XGBoost dataset; the network trains on the same rows), ensembles
 * fitted on the held-out customers, then every model and ensemble scored on the validation
 * week, streamed block by block through the features (nothing of the week is held whole).
 *
 * Outputs (work directory): models/<name>.model for every model, models/ensemble.tsv (the
 * weights), rank_results.tsv (every model's and ensemble's metric sums on the validation week,
 * with the pool ceiling; read by the evaluate and submit stages), rank_curves.tsv (held-out
 * MAP@12 per round or epoch) and rank_importance.txt (the boosted models' top features). */
#include "pipeline/pipeline.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- models --------------------------------------------------------------------------------- */

void pipeline_model_release(struct pipeline_model *m)
{
    gbm_free(&m->gbm);
    nn_free(&m->nn);
    free(m->curve);
    memset(m, 0, sizeof *m);
}

int pipeline_curves_read(struct pipeline *p, struct pipeline_curves *c)
{
    memset(c, 0, sizeof *c);
    char *path = pipeline_path(p, "rank_curves.tsv"), *text = NULL;
    int rc = hm_read_file(path, &text, NULL);
    free(path);
    if (rc)
        return rc;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char name[32];
        unsigned round;
        double map;
        if (l[0] == '#' || sscanf(l, "%31s %u %lf", name, &round, &map) != 3 || round == 0 || round > 100000)
            continue;
        int k = 0;
        while (k < c->n && strcmp(c->name[k], name))
            k++;
        if (k == c->n) {
            if (c->n == PIPELINE_MAX_MODELS)
                continue;
            snprintf(c->name[c->n++], sizeof c->name[0], "%s", name);
        }
        while (c->curve[k].n < round)
            HM_VEC_PUSH(&c->curve[k], NAN);
        c->curve[k].v[round - 1] = map;
    }
    free(text);
    return 0;
}

void pipeline_curves_release(struct pipeline_curves *c)
{
    for (int k = 0; k < c->n; k++)
        free(c->curve[k].v);
    memset(c, 0, sizeof *c);
}

int pipeline_model_score(const struct pipeline_model *m, const struct rank_data *d, float *out)
{
    if (m->gbm)
        return gbm_predict_data(m->gbm, d, out);
    return nn_score(m->nn, d, out);
}

char *pipeline_model_path(const struct pipeline *p, const char *name)
{
    return pipeline_model_path_in(p, "models", name);
}

char *pipeline_model_path_in(const struct pipeline *p, const char *dir, const char *name)
{
    char *file = hm_xasprintf("%s/%s.model", dir, name), *path = pipeline_path(p, file);
    free(file);
    return path;
}

int pipeline_model_load(struct pipeline *p, const char *dir, const char *name, struct pipeline_model *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->is_nn = !strcmp(name, "nn");
    char *path = pipeline_model_path_in(p, dir, name);
    int rc = !strcmp(name, "nn") ? nn_load(path, &m->nn) : gbm_load(path, &m->gbm);
    free(path);
    return rc;
}

/* The models rank.models names, parsed (names checked before anything is trained). */
int pipeline_parse_models(const struct pipeline *p, struct pipeline_model *out, int *n)
{
    char list[HM_SETTING_STRLEN];
    snprintf(list, sizeof list, "%s", p->c.rank.models);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (*n == PIPELINE_MAX_MODELS)
            return hm_error(HM_EINVAL, "rank.models: at most %d models", PIPELINE_MAX_MODELS);
        struct pipeline_model *m = &out[*n];
        memset(m, 0, sizeof *m);
        if (!strcmp(tok, "nn")) {
            m->is_nn = 1;
        } else {
            int rc = gbm_kind_parse(tok, &p->c.gbm, &m->kind);
            if (rc)
                return hm_error_wrap(rc, "rank.models");
        }
        /* "lambdarank" is saved under the objective it resolves to */
        snprintf(m->name, sizeof m->name, "%s", m->is_nn ? "nn" : gbm_kind_name(m->kind));
        for (int k = 0; k < *n; k++)
            if (!strcmp(out[k].name, m->name))
                return hm_error(HM_EINVAL, "rank.models: '%s' named twice", m->name);
        (*n)++;
    }
    if (*n == 0)
        return hm_error(HM_EINVAL, "rank.models is empty: name at least one model");
    return 0;
}

/* ---- the training set --------------------------------------------------------------------- */

static uint8_t column_tower[FEAT_MAX_COLS];

static void column_towers_init(void)
{
    const struct feat_column *cols = feat_columns();
    for (uint32_t c = 0; c < feat_n_cols(); c++)
        column_tower[c] = cols[c].group == FEAT_G_USER ? RANK_TOWER_USER
                          : cols[c].group == FEAT_G_ITEM ? RANK_TOWER_ITEM
                                                         : RANK_TOWER_PAIR;
}

const uint8_t *pipeline_column_towers(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, column_towers_init);
    return column_tower;
}

/* Appends the groups of a features table of training week w (labelled from the week's
 * purchases) to s; only the groups that keep marks when keep is not NULL. */
static int add_table(struct pipeline *p, int w, int holdout, struct rank_set *s)
{
    const struct data_set *ds;
    struct prep_week cut, days;
    int rc = pipeline_data(p, &ds);
    if (rc || (rc = pipeline_label_days(p, w, &cut, &days)) != 0)
        return rc;
    char *path = pipeline_features_path(p, w, holdout);
    struct feat_table t;
    rc = feat_table_read(&t, path);
    free(path);
    if (rc)
        return rc;
    struct prep_truth truth;
    if ((rc = prep_truth_build(&truth, ds, days)) != 0) {
        feat_table_release(&t);
        return rc;
    }
    uint32_t nc = t.n_cols;
    float *x = NULL, *label = NULL;
    uint64_t cap = 0;
    for (uint32_t i = 0; i < t.n_users; i++) {
        uint64_t b = t.off[i], e = t.off[i + 1], n = e - b;
        if (n > cap) {
            cap = hm_grow_cap(cap, n);
            x = hm_xrealloc(x, cap * nc * sizeof *x);
            label = hm_xrealloc(label, cap * sizeof *label);
        }
        feat_table_rows(&t, b, e, x);
        uint32_t k = prep_truth_find(&truth, t.user[i]);
        uint64_t nb = k == UINT32_MAX ? 0 : truth.off[k + 1] - truth.off[k];
        for (uint64_t r = 0; r < n; r++) {
            label[r] = 0;
            for (uint64_t j = 0; j < nb; j++)
                if (truth.items[truth.off[k] + j] == t.item[b + r])
                    label[r] = 1;
        }
        rank_set_add_group(s, t.user[i], (uint32_t)nb, n, x, t.item + b, label);
    }
    free(x);
    free(label);
    prep_truth_release(&truth);
    feat_table_release(&t);
    return 0;
}

/* Weeks first..last of the features stage's tables (week 0: the validation week, as the
 * retrain stage writes it). */
static int load_training_set(struct pipeline *p, const struct feat_image *image, int first, int last,
                             struct rank_set *train, struct rank_set *holdout)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    const uint8_t *towers = pipeline_column_towers();
    for (int h = 0; h < 2; h++)
        rank_set_init(h ? holdout : train, feat_n_cols(), feat_column_names(), towers, image ? image->emb : NULL,
                      image ? image->dim : 0, ds->articles.n);
    /* (the features stage bounded the held-out customers by rank.holdout_max) */
    for (int w = first; w <= last && !rc; w++)
        if ((rc = add_table(p, w, 0, train)) == 0)
            rc = add_table(p, w, 1, holdout);
    return rc;
}

/* ---- results ------------------------------------------------------------------------------- */

/* ---- the validation week, streamed --------------------------------------------------------- */

struct val_job {
    struct pipeline_model *models;
    int n_models;
    const struct ensemble *ens;   /* (2) weighted, average */
    struct eval_sum *sums;        /* (n_models + 3): models, ensembles, pool ceiling */
    double *seconds;              /* (n_models + 1): each model's scoring, then the features */
    uint64_t rows;
};

static int score_block(struct val_job *j, const struct rank_data *d)
{
    int nm = j->n_models;
    float **scores = hm_xcalloc((size_t)nm + 1, sizeof *scores);
    float *tmp = hm_xmalloc_array(d->n_rows + 1, sizeof *tmp);
    int rc = 0;
    for (int m = 0; m < nm && !rc; m++) {
        scores[m] = hm_xmalloc_array(d->n_rows + 1, sizeof(float));
        int64_t t0 = hm_now_ns();
        rc = pipeline_model_score(&j->models[m], d, scores[m]);
        j->seconds[m] += hm_seconds_since(t0);
        if (!rc) {
            struct eval_sum s;
            rank_eval(d, scores[m], &s);
            eval_sum_merge(&j->sums[m], &s);
        }
    }
    for (int e = 0; e < 2 && !rc; e++) {
        struct eval_sum s;
        ensemble_score(&j->ens[e], d, (const float *const *)scores, tmp);
        rank_eval(d, tmp, &s);
        eval_sum_merge(&j->sums[nm + e], &s);
    }
    if (!rc) {
        struct eval_sum s;
        for (uint64_t r = 0; r < d->n_rows; r++)
            tmp[r] = d->label[r];
        rank_eval(d, tmp, &s);
        eval_sum_merge(&j->sums[nm + 2], &s);
    }
    for (int m = 0; m < nm; m++)
        free(scores[m]);
    free(scores);
    free(tmp);
    return rc;
}

/* Every model and ensemble on the validation week's buyers, block by block. */
static int validate(struct pipeline *p, struct val_job *j, const struct feat_inputs *in)
{
    const struct data_set *ds;
    struct prep_week days;
    int rc = pipeline_data(p, &ds);
    if (rc || (rc = pipeline_week_days(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0}, &days)) != 0)
        return rc;
    char *cpath = pipeline_candidates_path(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0});
    struct recall_candidates pool, buyers, blk;
    rc = recall_candidates_read(&pool, cpath);
    free(cpath);
    if (rc)
        return rc;
    struct prep_truth truth;
    if ((rc = prep_truth_build(&truth, ds, days)) != 0) {
        recall_candidates_release(&pool);
        return rc;
    }
    /* the week's buyers: the customers that are scored; of each, the first rank.score_pool
     * candidates of the merged order, as the submission scores them */
    uint8_t *keep = hm_xcalloc(pool.n + 1, 1);
    uint64_t k = (uint64_t)p->c.rank.score_pool;
    for (uint32_t i = 0; i < pool.n_users; i++)
        if (prep_truth_find(&truth, pool.user[i]) != UINT32_MAX) {
            uint64_t n = pool.off[i + 1] - pool.off[i];
            memset(keep + pool.off[i], 1, n < k ? n : k);
        }
    recall_candidates_init(&buyers);
    recall_candidates_subset(&buyers, &pool, keep);
    free(keep);
    recall_candidates_release(&pool);
    struct feat_ctx ctx;
    if ((rc = feat_ctx_init(&ctx, in, days.start, &p->c.feat)) != 0) {
        recall_candidates_release(&buyers);
        prep_truth_release(&truth);
        return rc;
    }
    recall_candidates_init(&blk);
    const uint8_t *towers = pipeline_column_towers();
    uint32_t block = (uint32_t)p->c.rank.block, nc = feat_n_cols();
    struct hm_progress prog;
    hm_progress_begin(&prog, "validation", buyers.n_users);
    for (uint32_t i = 0; i < buyers.n_users && !rc; i += block) {
        uint32_t e = buyers.n_users - i < block ? buyers.n_users : i + block;
        recall_candidates_slice(&blk, &buyers, i, e);
        float *x = hm_xmalloc_array(blk.n * nc + 1, sizeof *x), *label = hm_xmalloc_array(blk.n + 1, sizeof *label);
        uint32_t *gt = hm_xmalloc_array((size_t)blk.n_users + 1, sizeof *gt);
        pipeline_label_rows(&truth, &blk, label, gt);
        int64_t t0 = hm_now_ns();
        rc = feat_block(&ctx, &blk, x);
        j->seconds[j->n_models] += hm_seconds_since(t0);
        j->rows += blk.n;
        if (!rc) {
            struct rank_data d = {.n_rows = blk.n, .n_cols = nc, .x = x, .col_name = feat_column_names(),
                                  .col_tower = towers, .n_groups = blk.n_users, .group_off = blk.off,
                                  .group_user = blk.user, .group_truth = gt, .item = blk.item, .label = label,
                                  .image = in->image ? in->image->emb : NULL,
                                  .image_dim = in->image ? in->image->dim : 0, .n_articles = ds->articles.n};
            rc = score_block(j, &d);
        }
        free(x);
        free(label);
        free(gt);
        hm_progress_add(&prog, e - i);
    }
    hm_progress_end(&prog);
    recall_candidates_release(&blk);
    feat_ctx_release(&ctx);
    recall_candidates_release(&buyers);
    prep_truth_release(&truth);
    return rc;
}

/* ---- the stage ------------------------------------------------------------------------------ */

static int write_file(const char *path, const char *text, size_t len)
{
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    if (rc)
        return rc;
    hm_awriter_write(&w, text, len);
    return hm_awriter_commit(&w);
}

/* Trains models[0..n) on train, early-stopping on holdout (the boosted models share one
 * XGBoost dataset), saves each as <dir>/<name>.model and fills hs[m] (malloc'ed) with its
 * held-out scores; curves and importance get their text. cap, when not NULL: cap[m] > 0 is
 * the most rounds (epochs for the network) model m may train. */
static int train_models(struct pipeline *p, struct pipeline_model *models, int n_models, const struct rank_set *train_set,
                        const struct rank_set *holdout_set, const char *dir, const char *who, struct hm_buf *curves,
                        struct hm_buf *importance, float **hs, const uint32_t *cap)
{
    const struct rank_set *tr = train_set, *ho = holdout_set;
    char *mdir = pipeline_path(p, dir);
    int rc = hm_mkdirs(mdir);
    free(mdir);
    struct gbm_dataset *gds = NULL;
    for (int m = 0; m < n_models && !rc; m++) {
        struct pipeline_model *pm = &models[m];
        int64_t t1 = hm_now_ns();
        struct gbm_params gp = p->c.gbm;
        struct nn_params np = p->c.nn;
        if (cap && cap[m] > 0) {
            gp.rounds = gp.rounds < (long)cap[m] ? gp.rounds : (long)cap[m];
            np.epochs = np.epochs < (long)cap[m] ? np.epochs : (long)cap[m];
        }
        if (pm->is_nn) {
            struct nn_curve curve;
            memset(&curve, 0, sizeof curve);
            if ((rc = nn_train(&np, &tr->d, &ho->d, &pm->nn, &curve)) == 0) {
                pm->n_curve = curve.n;
                pm->curve = hm_xmalloc_array(curve.n + 1, sizeof *pm->curve);
                for (uint32_t e = 0; e < curve.n; e++) {
                    pm->curve[e] = (float)curve.epoch[e].map12;
                    hm_buf_printf(curves, "nn\t%u\t%.6f\n", e + 1, curve.epoch[e].map12);
                }
                pm->best = curve.best + 1;
                hm_report("%s: nn: %u epochs (best %u), %.1fs", who, curve.n, curve.best + 1, hm_seconds_since(t1));
            }
            nn_curve_release(&curve);
        } else {
            if (!gds && (rc = gbm_dataset_new(&p->c.gbm, &tr->d, &ho->d, &gds)) != 0)
                break;
            struct gbm_report rep;
            memset(&rep, 0, sizeof rep);
            if ((rc = gbm_train_on(pm->kind, &gp, gds, &pm->gbm, &rep)) == 0) {
                pm->n_curve = rep.rounds;
                pm->curve = hm_xmalloc_array((size_t)rep.rounds + 1, sizeof *pm->curve);
                memcpy(pm->curve, rep.curve, rep.rounds * sizeof *pm->curve);
                for (uint32_t r = 0; r < rep.rounds; r++)
                    if (!isnan(rep.curve[r]))
                        hm_buf_printf(curves, "%s\t%u\t%.6f\n", pm->name, r + 1, rep.curve[r]);
                pm->best = rep.best_rounds;
                double outside = rep.seconds > 0 ? 1 - rep.seconds_xgb / rep.seconds : 0;
                hm_report("%s: %s: %u rounds (best %u, held-out MAP@12 %.5f), %.1fs, %.1f%% outside XGBoost",
                          who, pm->name, rep.rounds, rep.best_rounds, rep.best_map12, rep.seconds, 100 * outside);
                char *imp = gbm_importance_format(pm->gbm, 30);
                if (imp) {
                    hm_buf_printf(importance, "%s: the top features by gain\n%s\n", pm->name, imp);
                    free(imp);
                }
            }
            gbm_report_release(&rep);
        }
        if (!rc) {
            char *file = hm_xasprintf("%s/%s.model", dir, pm->name);
            char *path = pipeline_path(p, file);
            free(file);
            rc = pm->is_nn ? nn_save(pm->nn, path) : gbm_save(pm->gbm, path);
            free(path);
        }
        if (!rc) {
            hs[m] = hm_xmalloc_array(ho->d.n_rows + 1, sizeof(float));
            rc = pipeline_model_score(pm, &ho->d, hs[m]);
            pm->holdout_map12 = rc ? 0 : rank_map12(&ho->d, hs[m], NULL);
        }
        if (!rc) { /* the training rows' MAP@12 next to the held-out one shows over- or underfitting */
            float *ts = hm_xmalloc_array(tr->d.n_rows + 1, sizeof *ts);
            if ((rc = pipeline_model_score(pm, &tr->d, ts)) == 0)
                hm_info("%s: %s: MAP@12 on its (down-sampled) training rows %.5f, held out %.5f", who, pm->name,
                        rank_map12(&tr->d, ts, NULL), pm->holdout_map12);
            free(ts);
        }
    }
    gbm_dataset_free(&gds);
    return rc;
}

int pipeline_rank_stage(struct pipeline *p)
{
    const struct data_article_matrix *text;
    const struct feat_image *image;
    const struct data_set *ds;
    struct pipeline_model models[PIPELINE_MAX_MODELS];
    int n_models = 0;
    int rc = pipeline_data(p, &ds);
    if (rc || (rc = pipeline_parse_models(p, models, &n_models)) != 0 || (rc = gbm_params_check(&p->c.gbm)) != 0 ||
        (rc = nn_params_check(&p->c.nn)) != 0 || (rc = pipeline_inputs(p, &text, &image)) != 0)
        return rc;
    int64_t t0 = hm_now_ns();
    struct rank_set train, holdout;
    if ((rc = load_training_set(p, image, 1, pipeline_reference_labels(p) ? 1 : (int)p->c.prep.train_weeks, &train,
                                &holdout)) != 0) {
        rank_set_release(&train);
        rank_set_release(&holdout);
        return rc;
    }
    uint64_t pos = 0;
    for (uint64_t r = 0; r < train.d.n_rows; r++)
        pos += train.d.label[r] > 0;
    hm_report("rank: training set %llu rows of %u customers (%.1f%% positive), held out %llu rows of %u customers "
              "(pool ceiling %.5f), %u columns, image embeddings %s",
              (unsigned long long)train.d.n_rows, train.d.n_groups,
              train.d.n_rows ? 100.0 * (double)pos / (double)train.d.n_rows : 0.0, (unsigned long long)holdout.d.n_rows,
              holdout.d.n_groups, rank_pool_ceiling(&holdout.d), train.d.n_cols, image ? "yes" : "no");
    struct hm_buf curves = {0}, importance = {0};
    hm_buf_puts(&curves, "# model\tround\theld-out MAP@12\n");
    float **hs = hm_xcalloc((size_t)n_models + 1, sizeof *hs); /* held-out scores */
    if (!rc)
        rc = train_models(p, models, n_models, &train, &holdout, "models", "rank", &curves, &importance, hs, NULL);
    /* the ensembles, fitted on the held-out customers (never on the validation week) */
    struct ensemble ens[2];
    memset(ens, 0, sizeof ens);
    if (!rc) {
        struct ensemble_params ep;
        ensemble_params_defaults(&ep);
        rc = ensemble_fit(&holdout.d, (const float *const *)hs, (uint32_t)n_models, &ep, &ens[0]);
        ensemble_average(&ens[1], (uint32_t)n_models);
    }
    if (!rc) {
        struct hm_buf b = {0};
        hm_buf_puts(&b, "# ensemble\tmodel\tweight\n");
        for (int e = 0; e < 2; e++)
            for (int m = 0; m < n_models; m++)
                hm_buf_printf(&b, "%s\t%s\t%.17g\n", e ? "average" : "ensemble", models[m].name, ens[e].w[m]);
        char *path = pipeline_path(p, "models/ensemble.tsv");
        rc = write_file(path, b.s, b.len);
        free(path);
        hm_buf_release(&b);
    }
    for (int m = 0; m <= n_models; m++)
        free(hs[m]);
    free(hs);
    double train_seconds = hm_seconds_since(t0);
    rank_set_release(&train);
    rank_set_release(&holdout);
    /* the validation week */
    struct eval_sum *sums = hm_xcalloc((size_t)n_models + 3, sizeof *sums);
    if (!rc) {
        struct feat_inputs in = {.ds = ds, .text = text->x, .text_rows = ds->articles.n, .text_dim = text->dim,
                                 .image = image};
        double *secs = hm_xcalloc((size_t)n_models + 1, sizeof *secs);
        struct val_job j = {models, n_models, ens, sums, secs, 0};
        rc = validate(p, &j, &in);
        if (!rc) {
            struct hm_buf b = {0};
            hm_buf_printf(&b, "rank: the validation week's %llu candidates: features %.1fs (%.2f M rows/s)",
                          (unsigned long long)j.rows, secs[n_models],
                          secs[n_models] > 0 ? (double)j.rows / secs[n_models] / 1e6 : 0);
            for (int m = 0; m < n_models; m++)
                hm_buf_printf(&b, ", %s %.1fs (%.2f M rows/s)", models[m].name, secs[m],
                              secs[m] > 0 ? (double)j.rows / secs[m] / 1e6 : 0);
            hm_report("%s", b.s);
            hm_buf_release(&b);
        }
        free(secs);
    }
    if (!rc) {
        struct hm_buf b = {0};
        hm_buf_puts(&b, "# name\tkind\tusers\tthen per k in 1,3,5,10,12: sums of AP, precision, recall, NDCG\n");
        for (int m = 0; m < n_models; m++)
            pipeline_result_format(&b, models[m].name, "model", &sums[m]);
        pipeline_result_format(&b, "ensemble", "ensemble", &sums[n_models]);
        pipeline_result_format(&b, "average", "ensemble", &sums[n_models + 1]);
        pipeline_result_format(&b, "pool ceiling", "ceiling", &sums[n_models + 2]);
        char *rp = pipeline_path(p, "rank_results.tsv"), *cp = pipeline_path(p, "rank_curves.tsv"),
             *ip = pipeline_path(p, "rank_importance.txt");
        if ((rc = write_file(rp, b.s, b.len)) == 0 && (rc = write_file(cp, curves.s, curves.len)) == 0)
            rc = write_file(ip, importance.s ? importance.s : "", importance.len);
        free(rp);
        free(cp);
        free(ip);
        hm_buf_release(&b);
        if (!rc) {
            for (int m = 0; m < n_models; m++)
                hm_report("rank: %-12s held-out MAP@12 %.5f, validation MAP@12 %.5f", models[m].name,
                          models[m].holdout_map12, eval_map12(&sums[m]));
            hm_report("rank: ensemble (weighted) validation MAP@12 %.5f, average %.5f; pool ceiling %.5f; "
                      "training %.1fs, in all %.1fs",
                      eval_map12(&sums[n_models]), eval_map12(&sums[n_models + 1]), eval_map12(&sums[n_models + 2]),
                      train_seconds, hm_seconds_since(t0));
            if (importance.len)
                hm_report("%.*s", (int)importance.len - 1, importance.s);
        }
    }
    free(sums);
    for (int e = 0; e < 2; e++)
        ensemble_release(&ens[e]);
    for (int m = 0; m < n_models; m++)
        pipeline_model_release(&models[m]);
    hm_buf_release(&curves);
    hm_buf_release(&importance);
    return rc;
}

/* ---- scorers: a model or an ensemble, loaded from the work directory ------------------------- */

void pipeline_scorer_release(struct pipeline_scorer *s)
{
    for (int m = 0; m < s->n_models; m++)
        pipeline_model_release(&s->models[m]);
    ensemble_release(&s->ens);
    memset(s, 0, sizeof *s);
}

int pipeline_scorer_load(struct pipeline *p, const char *dir, const char *name, struct pipeline_scorer *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    if (strcmp(name, "ensemble") && strcmp(name, "average")) {
        s->n_models = 1;
        return pipeline_model_load(p, dir, name, &s->models[0]);
    }
    /* <dir>/ensemble.tsv: "<ensemble>\t<model>\t<weight>" lines */
    char *file = hm_xasprintf("%s/ensemble.tsv", dir), *path = pipeline_path(p, file), *text = NULL;
    free(file);
    int rc = hm_read_file(path, &text, NULL);
    free(path);
    if (rc)
        return rc;
    double w[PIPELINE_MAX_MODELS];
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && !rc; l = strtok_r(NULL, "\n", &save)) {
        char ens[32], model[32];
        double weight;
        if (l[0] == '#' || sscanf(l, "%31s %31s %lf", ens, model, &weight) != 3 || strcmp(ens, name))
            continue;
        if (s->n_models == PIPELINE_MAX_MODELS)
            rc = hm_error(HM_EFORMAT, "models/ensemble.tsv: more than %d models", PIPELINE_MAX_MODELS);
        else if ((rc = pipeline_model_load(p, dir, model, &s->models[s->n_models])) == 0)
            w[s->n_models++] = weight;
    }
    free(text);
    if (!rc && s->n_models == 0)
        rc = hm_error(HM_EFORMAT, "models/ensemble.tsv has no weights of '%s'", name);
    if (!rc) {
        s->ens.n_models = (uint32_t)s->n_models;
        s->ens.w = hm_xmalloc_array((size_t)s->n_models, sizeof *s->ens.w);
        memcpy(s->ens.w, w, (size_t)s->n_models * sizeof *w);
    }
    if (rc)
        pipeline_scorer_release(s);
    return rc;
}

int pipeline_scorer_score(const struct pipeline_scorer *s, const struct rank_data *d, float *out)
{
    if (s->n_models == 1 && !s->ens.w)
        return pipeline_model_score(&s->models[0], d, out);
    float **scores = hm_xcalloc((size_t)s->n_models + 1, sizeof *scores);
    int rc = 0;
    for (int m = 0; m < s->n_models && !rc; m++) {
        scores[m] = hm_xmalloc_array(d->n_rows + 1, sizeof(float));
        rc = pipeline_model_score(&s->models[m], d, scores[m]);
    }
    if (!rc)
        ensemble_score(&s->ens, d, (const float *const *)scores, out);
    for (int m = 0; m < s->n_models; m++)
        free(scores[m]);
    free(scores);
    return rc;
}

int pipeline_best_model(struct pipeline *p, char *name, size_t n)
{
    struct pipeline_result *res;
    int nr;
    char *path = pipeline_path(p, "rank_results.tsv");
    int rc = pipeline_results_read(path, &res, &nr);
    free(path);
    if (rc)
        return rc;
    double best = -1;
    for (int i = 0; i < nr; i++)
        if (strcmp(res[i].kind, "ceiling") && eval_map12(&res[i].sum) > best) {
            best = eval_map12(&res[i].sum);
            snprintf(name, n, "%s", res[i].name);
        }
    free(res);
    if (best < 0)
        return hm_error(HM_EFORMAT, "rank_results.tsv names no model");
    return 0;
}

/* ---- retrain: the submission's models once more, the validation week included ------------- */

/* The epoch whose weights the rank stage's network kept: the first best of its held-out
 * MAP@12 in rank_curves.tsv; 0 when there is none. */
static uint32_t nn_best_epoch(struct pipeline *p)
{
    struct pipeline_curves c;
    uint32_t best = 0;
    if (pipeline_curves_read(p, &c) == 0) {
        for (int k = 0; k < c.n; k++) {
            if (strcmp(c.name[k], "nn"))
                continue;
            double best_map = -1;
            for (size_t e = 0; e < c.curve[k].n; e++)
                if (c.curve[k].v[e] > best_map) {
                    best_map = c.curve[k].v[e];
                    best = (uint32_t)e + 1;
                }
        }
        pipeline_curves_release(&c);
    }
    hm_clear_error();
    return best;
}

int pipeline_retrain_stage(struct pipeline *p)
{
    if (!p->c.rank.retrain || pipeline_reference_labels(p)) {
        hm_report("retrain: off (%s): the submission scores with the rank stage's models",
                  p->c.rank.retrain ? "the reference labelling has no weeks to shift" : "rank.retrain = 0");
        return 0;
    }
    char best[32];
    const char *name = p->c.run.submit_model;
    int rc = 0;
    if (!strcmp(name, "best")) {
        if ((rc = pipeline_best_model(p, best, sizeof best)) != 0)
            return rc;
        name = best;
    }
    if (recall_baseline_find(name) >= 0) {
        hm_report("retrain: the submission comes from the baseline %s: nothing to retrain", name);
        return 0;
    }
    const struct data_article_matrix *text;
    const struct feat_image *image;
    const struct data_set *ds;
    struct pipeline_scorer sc; /* which models, and the ensemble's weights (kept as fitted) */
    if ((rc = pipeline_data(p, &ds)) != 0 || (rc = pipeline_inputs(p, &text, &image)) != 0 ||
        (rc = pipeline_scorer_load(p, "models", name, &sc)) != 0)
        return rc;
    int64_t t0 = hm_now_ns();
    struct pipeline_model models[PIPELINE_MAX_MODELS];
    int n = sc.n_models;
    /* each model trains for at most the rounds (epochs) it kept on the validation week: the
     * length validated there, without the rounds that only waited for early stopping */
    uint32_t cap[PIPELINE_MAX_MODELS];
    for (int m = 0; m < n; m++) {
        memset(&models[m], 0, sizeof models[m]);
        snprintf(models[m].name, sizeof models[m].name, "%s", sc.models[m].name);
        models[m].is_nn = sc.models[m].is_nn;
        if (!models[m].is_nn)
            models[m].kind = gbm_model_kind(sc.models[m].gbm);
        cap[m] = models[m].is_nn ? nn_best_epoch(p) : gbm_model_rounds(sc.models[m].gbm);
    }
    /* the validation week becomes training week 0; the oldest training week goes */
    struct feat_inputs in = {.ds = ds, .text = text->x, .text_rows = ds->articles.n, .text_dim = text->dim,
                             .image = image};
    struct hm_buf summary = {0}, curves = {0}, importance = {0};
    rc = pipeline_features_week(p, 0, &in, &summary);
    struct rank_set train, holdout;
    memset(&train, 0, sizeof train);
    memset(&holdout, 0, sizeof holdout);
    if (!rc)
        rc = load_training_set(p, image, 0, (int)p->c.prep.train_weeks - 1, &train, &holdout);
    float **hs = hm_xcalloc((size_t)n + 1, sizeof *hs);
    if (!rc) {
        hm_report("retrain: %s on the training weeks shifted by one (the validation week included): %llu rows of %u "
                  "customers, held out %u",
                  name, (unsigned long long)train.d.n_rows, train.d.n_groups, holdout.d.n_groups);
        rc = train_models(p, models, n, &train, &holdout, "models/final", "retrain", &curves, &importance, hs, cap);
    }
    if (!rc) {
        struct hm_buf b = {0};
        hm_buf_puts(&b, "# ensemble\tmodel\tweight (the rank stage's weights; the models retrained)\n");
        for (int m = 0; m < n; m++)
            hm_buf_printf(&b, "%s\t%s\t%.17g\n", name, models[m].name, sc.ens.w ? sc.ens.w[m] : 1.0);
        char *path = pipeline_path(p, "models/final/ensemble.tsv");
        rc = write_file(path, b.s, b.len);
        free(path);
        hm_buf_release(&b);
    }
    if (!rc)
        hm_report("retrain: %d model%s in %.1fs", n, n == 1 ? "" : "s", hm_seconds_since(t0));
    for (int m = 0; m <= n; m++)
        free(hs[m]);
    free(hs);
    for (int m = 0; m < n; m++)
        pipeline_model_release(&models[m]);
    rank_set_release(&train);
    rank_set_release(&holdout);
    hm_buf_release(&summary);
    hm_buf_release(&curves);
    hm_buf_release(&importance);
    pipeline_scorer_release(&sc);
    return rc;
}
