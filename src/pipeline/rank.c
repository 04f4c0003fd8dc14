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

char *pipeline_models_dir(const struct pipeline *p, int final)
{
    return pipeline_path(p, final ? "models/final" : "models");
}

int pipeline_curves_read(struct pipeline *p, struct rank_curves *c)
{
    char *path = pipeline_path(p, "rank_curves.tsv");
    int rc = rank_curves_read(path, c);
    free(path);
    return rc;
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
    float *x = NULL, *label = hm_xmalloc_array(t.n + 1, sizeof *label);
    uint32_t *gt = hm_xmalloc_array((size_t)t.n_users + 1, sizeof *gt);
    rank_label(&truth, t.n_users, t.off, t.user, t.item, label, gt);
    uint64_t cap = 0;
    for (uint32_t i = 0; i < t.n_users; i++) {
        uint64_t b = t.off[i], e = t.off[i + 1], n = e - b;
        HM_GROW(x, cap, n * nc);
        feat_table_rows(&t, b, e, x);
        rank_set_add_group(s, t.user[i], gt[i], n, x, t.item + b, label + b);
    }
    free(x);
    free(label);
    free(gt);
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
    struct rank_model *models;
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
        rc = rank_model_score(&j->models[m], d, scores[m]);
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
        rank_label(&truth, blk.n_users, blk.off, blk.user, blk.item, label, gt);
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

int pipeline_rank_stage(struct pipeline *p)
{
    const struct data_article_matrix *text;
    const struct feat_image *image;
    const struct data_set *ds;
    struct rank_model models[RANK_MAX_MODELS];
    int n_models = 0;
    int rc = pipeline_data(p, &ds);
    if (rc || (rc = rank_models_parse(p->c.rank.models, &p->c.models, models, &n_models)) != 0 ||
        (rc = rank_model_params_check(&p->c.models)) != 0 || (rc = pipeline_inputs(p, &text, &image)) != 0)
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
    if (!rc) {
        char *dir = pipeline_models_dir(p, 0);
        rc = rank_models_train(&p->c.models, models, n_models, &train.d, &holdout.d, NULL, dir, "rank", &curves,
                               &importance, hs);
        free(dir);
    }
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
            rank_ensemble_format(&b, e ? "average" : "ensemble", models, n_models, ens[e].w);
        char *path = pipeline_path(p, "models/ensemble.tsv");
        rc = hm_write_file(path, b.s, b.len);
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
        if ((rc = hm_write_file(rp, b.s, b.len)) == 0 && (rc = hm_write_file(cp, curves.s, curves.len)) == 0)
            rc = hm_write_file(ip, importance.s ? importance.s : "", importance.len);
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
        rank_model_release(&models[m]);
    hm_buf_release(&curves);
    hm_buf_release(&importance);
    return rc;
}

int pipeline_best_model(const struct pipeline *p, char *name, size_t n)
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

/* The rounds (epochs) each of the scorer's models kept on the validation run: what its file
 * says, else the first best of its learning curve in rank_curves.tsv (0 when neither). */
static void kept_rounds(struct pipeline *p, const struct rank_scorer *sc, uint32_t *cap)
{
    struct rank_curves c;
    int have = pipeline_curves_read(p, &c) == 0;
    hm_clear_error();
    for (int m = 0; m < sc->n_models; m++) {
        cap[m] = rank_model_kept(&sc->models[m]);
        if (!cap[m] && have)
            cap[m] = rank_curves_best(&c, sc->models[m].name);
    }
    if (have)
        rank_curves_release(&c);
}

int pipeline_retrain_stage(struct pipeline *p)
{
    if (!p->c.rank.retrain || pipeline_reference_labels(p)) {
        hm_report("retrain: off (%s): the submission scores with the rank stage's models",
                  p->c.rank.retrain ? "the reference labelling has no weeks to shift" : "rank.retrain = 0");
        return 0;
    }
    char name[HM_SETTING_STRLEN];
    int rc = pipeline_submit_model(p, name, sizeof name);
    if (rc)
        return rc;
    if (recall_baseline_find(name) >= 0) {
        hm_report("retrain: the submission comes from the baseline %s: nothing to retrain", name);
        return 0;
    }
    const struct data_article_matrix *text;
    const struct feat_image *image;
    const struct data_set *ds;
    struct rank_scorer sc; /* which models, and the ensemble's weights (kept as fitted) */
    char *dir = pipeline_models_dir(p, 0);
    if ((rc = pipeline_data(p, &ds)) == 0 && (rc = pipeline_inputs(p, &text, &image)) == 0)
        rc = rank_scorer_load(dir, name, &sc);
    free(dir);
    if (rc)
        return rc;
    int64_t t0 = hm_now_ns();
    struct rank_model models[RANK_MAX_MODELS];
    int n = sc.n_models;
    /* each model trains for at most the rounds (epochs) it kept on the validation week: the
     * length validated there, without the rounds that only waited for early stopping */
    uint32_t cap[RANK_MAX_MODELS];
    kept_rounds(p, &sc, cap);
    for (int m = 0; m < n; m++) {
        memset(&models[m], 0, sizeof models[m]);
        snprintf(models[m].name, sizeof models[m].name, "%s", sc.models[m].name);
        models[m].kind = sc.models[m].kind;
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
        char *final = pipeline_models_dir(p, 1);
        rc = rank_models_train(&p->c.models, models, n, &train.d, &holdout.d, cap, final, "retrain", &curves,
                               &importance, hs);
        free(final);
    }
    if (!rc) {
        struct hm_buf b = {0};
        hm_buf_puts(&b, "# ensemble\tmodel\tweight (the rank stage's weights; the models retrained)\n");
        rank_ensemble_format(&b, name, models, n, sc.ens.w);
        char *path = pipeline_path(p, "models/final/ensemble.tsv");
        rc = hm_write_file(path, b.s, b.len);
        free(path);
        hm_buf_release(&b);
    }
    if (!rc)
        hm_report("retrain: %d model%s in %.1fs", n, n == 1 ? "" : "s", hm_seconds_since(t0));
    for (int m = 0; m <= n; m++)
        free(hs[m]);
    free(hs);
    for (int m = 0; m < n; m++)
        rank_model_release(&models[m]);
    rank_set_release(&train);
    rank_set_release(&holdout);
    hm_buf_release(&summary);
    hm_buf_release(&curves);
    hm_buf_release(&importance);
    rank_scorer_release(&sc);
    return rc;
}
