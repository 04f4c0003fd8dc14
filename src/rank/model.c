/* The table of model kinds and what goes through it: parsing rank.models, training a list of
 * models, model files, scoring, learning curves, scorers (a model or an ensemble). */
#include "rank/model.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- the boosted models (rank/gbm.h) ------------------------------------------------------------ */

static int gbm_m_train(const struct rank_model_kind *k, const struct rank_model_params *p,
                       const struct rank_train_opts *o, const struct rank_data *train, const struct rank_data *holdout,
                       void **shared, struct rank_model *m)
{
    struct gbm_params gp = p->gbm;
    if (o->cap > 0 && (long)o->cap < gp.rounds)
        gp.rounds = (long)o->cap;
    /* the dataset is built with the settings as they are (the cap changes no bin) */
    int rc;
    if (!*shared && (rc = gbm_dataset_new(&p->gbm, train, holdout, (struct gbm_dataset **)shared)) != 0)
        return rc;
    struct gbm_report rep;
    memset(&rep, 0, sizeof rep);
    struct gbm_model *g = NULL;
    if ((rc = gbm_train_on((enum gbm_kind)k->sub, &gp, *shared, &g, &rep)) == 0) {
        m->impl = g;
        m->n_curve = rep.rounds;
        m->curve = hm_xmalloc_array((size_t)rep.rounds + 1, sizeof *m->curve);
        for (uint32_t r = 0; r < rep.rounds; r++)
            m->curve[r] = rep.curve[r];
        m->best = rep.best_rounds;
        double outside = rep.seconds > 0 ? 1 - rep.seconds_xgb / rep.seconds : 0;
        hm_report("%s: %s: %u rounds (best %u, held-out MAP@12 %.5f), %.1fs, %.1f%% outside XGBoost", o->who,
                  m->name, rep.rounds, rep.best_rounds, rep.best_map12, rep.seconds, 100 * outside);
    }
    gbm_report_release(&rep);
    return rc;
}

static void gbm_m_free_shared(void **shared)
{
    struct gbm_dataset *ds = *shared;
    gbm_dataset_free(&ds);
    *shared = NULL;
}

static int gbm_m_save(const struct rank_model *m, const char *path) { return gbm_save(m->impl, path); }

static int gbm_m_load(const char *path, struct rank_model *m)
{
    struct gbm_model *g = NULL;
    int rc = gbm_load(path, &g);
    m->impl = g;
    return rc;
}

static int gbm_m_score(const struct rank_model *m, const struct rank_data *d, float *out)
{
    return gbm_predict_data(m->impl, d, out);
}

static void gbm_m_free(struct rank_model *m)
{
    struct gbm_model *g = m->impl;
    gbm_free(&g);
    m->impl = NULL;
}

static uint32_t gbm_m_kept(const struct rank_model *m) { return gbm_model_rounds(m->impl); }

static char *gbm_m_importance_text(const struct rank_model *m, uint32_t top)
{
    return gbm_importance_format(m->impl, top);
}

static int gbm_m_importance(const struct rank_model *m, struct rank_importance **out, uint32_t *n)
{
    struct gbm_feature *f;
    int rc = gbm_importance(m->impl, &f, n);
    if (rc)
        return rc;
    *out = hm_xmalloc_array((size_t)*n + 1, sizeof **out);
    for (uint32_t i = 0; i < *n; i++)
        (*out)[i] = (struct rank_importance){gbm_model_col_name(m->impl, f[i].col), f[i].gain, f[i].total_gain,
                                             f[i].splits};
    free(f);
    return 0;
}

/* ---- the network (rank/nn.h) ------------------------------------------------------------------- */

static int nn_m_train(const struct rank_model_kind *k, const struct rank_model_params *p, const struct rank_train_opts *o,
                      const struct rank_data *train, const struct rank_data *holdout, void **shared,
                      struct rank_model *m)
{
    (void)k;
    (void)shared;
    struct nn_params np = p->nn;
    if (o->cap > 0 && (long)o->cap < np.epochs)
        np.epochs = (long)o->cap;
    int64_t t0 = hm_now_ns();
    struct nn_curve curve;
    memset(&curve, 0, sizeof curve);
    struct nn_model *net = NULL;
    int rc = nn_train(&np, train, holdout, &net, &curve);
    if (!rc) {
        m->impl = net;
        m->n_curve = curve.n;
        m->curve = hm_xmalloc_array(curve.n + 1, sizeof *m->curve);
        for (uint32_t e = 0; e < curve.n; e++)
            m->curve[e] = curve.epoch[e].map12;
        m->best = curve.best + 1;
        hm_report("%s: %s: %u epochs (best %u), %.1fs", o->who, m->name, curve.n, curve.best + 1,
                  hm_seconds_since(t0));
    }
    nn_curve_release(&curve);
    return rc;
}

static int nn_m_save(const struct rank_model *m, const char *path) { return nn_save(m->impl, path); }

static int nn_m_load(const char *path, struct rank_model *m)
{
    struct nn_model *net = NULL;
    int rc = nn_load(path, &net);
    m->impl = net;
    return rc;
}

static int nn_m_score(const struct rank_model *m, const struct rank_data *d, float *out)
{
    return nn_score(m->impl, d, out);
}

static void nn_m_free(struct rank_model *m)
{
    struct nn_model *net = m->impl;
    nn_free(&net);
    m->impl = NULL;
}

/* ---- the table ------------------------------------------------------------------------------------ */

#define GBM_KIND(name, kind)                                                                                       \
    {name, "gbm.", kind, "boosting round", "Boosted models: held-out MAP@12 per round",                             \
     "The boosted models' learning curves.", gbm_m_train, gbm_m_free_shared, gbm_m_save, gbm_m_load, gbm_m_score,    \
     gbm_m_free, gbm_m_kept, gbm_m_importance_text, gbm_m_importance}

const struct rank_model_kind rank_model_kinds[] = {
    GBM_KIND("classifier", GBM_CLASSIFIER),
    GBM_KIND("ndcg", GBM_NDCG),
    GBM_KIND("map", GBM_MAP),
    GBM_KIND("xendcg", GBM_XENDCG),
    GBM_KIND("deep", GBM_DEEP),
    {"nn", "nn.", 0, "epoch", "The network: held-out MAP@12 per epoch", "The network's learning curve.", nn_m_train,
     NULL, nn_m_save, nn_m_load, nn_m_score, nn_m_free, NULL, NULL, NULL},
};
const int rank_n_model_kinds = (int)(sizeof rank_model_kinds / sizeof rank_model_kinds[0]);
_Static_assert(sizeof rank_model_kinds / sizeof rank_model_kinds[0] <= RANK_MAX_MODELS, "model table");

const struct rank_model_kind *rank_model_kind_find(const char *name)
{
    for (int k = 0; k < rank_n_model_kinds; k++)
        if (!strcmp(rank_model_kinds[k].name, name))
            return &rank_model_kinds[k];
    return NULL;
}

/* ---- settings ------------------------------------------------------------------------------------- */

const struct hm_setting *rank_model_settings(size_t *n)
{
    static struct hm_setting *table;
    static size_t table_n;
    if (!table) {
        hm_settings_append(&table, &table_n, gbm_settings, gbm_n_settings, offsetof(struct rank_model_params, gbm));
        hm_settings_append(&table, &table_n, nn_settings, nn_n_settings, offsetof(struct rank_model_params, nn));
    }
    *n = table_n;
    return table;
}

int rank_model_params_check(const struct rank_model_params *p)
{
    int rc = gbm_params_check(&p->gbm);
    return rc ? rc : nn_params_check(&p->nn);
}

void rank_model_sample_params(const struct rank_model_params *p, struct rank_sample_params *out)
{
    memset(out, 0, sizeof *out);
    out->holdout = p->gbm.holdout;
    out->neg_share = p->gbm.neg_share;
    out->seed = (uint64_t)p->gbm.seed;
    out->keep_empty = 1;
}

/* ---- models ---------------------------------------------------------------------------------------- */

void rank_model_release(struct rank_model *m)
{
    if (m->impl && m->kind)
        m->kind->free(m);
    free(m->curve);
    memset(m, 0, sizeof *m);
}

static int unknown_model(const char *name)
{
    struct hm_buf b = {0};
    for (int k = 0; k < rank_n_model_kinds; k++)
        hm_buf_printf(&b, "%s, ", rank_model_kinds[k].name);
    int rc = hm_error(HM_EINVAL, "rank.models: unknown model \"%s\" (known: %slambdarank)", name, b.s);
    hm_buf_release(&b);
    return rc;
}

int rank_models_parse(const char *list, const struct rank_model_params *p, struct rank_model *out, int *n)
{
    char buf[HM_SETTING_STRLEN];
    snprintf(buf, sizeof buf, "%s", list);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (*n == RANK_MAX_MODELS)
            return hm_error(HM_EINVAL, "rank.models: at most %d models", RANK_MAX_MODELS);
        const char *name = tok;
        enum gbm_kind g;
        if (!rank_model_kind_find(tok)) {
            /* the boosted models' alias: the LambdaRank objective gbm.lambdarank names */
            if (strcmp(tok, "lambdarank"))
                return unknown_model(tok);
            gbm_kind_parse(tok, &p->gbm, &g);
            name = gbm_kind_name(g);
        }
        struct rank_model *m = &out[*n];
        memset(m, 0, sizeof *m);
        m->kind = rank_model_kind_find(name);
        snprintf(m->name, sizeof m->name, "%s", name);
        for (int k = 0; k < *n; k++)
            if (!strcmp(out[k].name, m->name))
                return hm_error(HM_EINVAL, "rank.models: '%s' named twice", m->name);
        (*n)++;
    }
    if (*n == 0)
        return hm_error(HM_EINVAL, "rank.models is empty: name at least one model");
    return 0;
}

char *rank_model_file(const char *dir, const char *name)
{
    char *file = hm_xasprintf("%s.model", name), *path = hm_path_join(dir, file);
    free(file);
    return path;
}

int rank_model_save(const struct rank_model *m, const char *dir)
{
    char *path = rank_model_file(dir, m->name);
    int rc = m->kind->save(m, path);
    free(path);
    return rc;
}

int rank_model_load(const char *dir, const char *name, struct rank_model *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->kind = rank_model_kind_find(name);
    if (!m->kind)
        return hm_error(HM_EINVAL, "no model kind is called \"%s\"", name);
    char *path = rank_model_file(dir, name);
    int rc = m->kind->load(path, m);
    free(path);
    return rc;
}

int rank_model_score(const struct rank_model *m, const struct rank_data *d, float *out)
{
    return m->kind->score(m, d, out);
}

uint32_t rank_model_kept(const struct rank_model *m)
{
    return m->kind->kept ? m->kind->kept(m) : 0;
}

int rank_model_importance(const struct rank_model *m, struct rank_importance **out, uint32_t *n)
{
    if (!m->kind->importance)
        return hm_error(HM_EINVAL, "%s: the model has no feature importance", m->name);
    return m->kind->importance(m, out, n);
}

/* ---- training a list of models ------------------------------------------------------------------------ */

int rank_models_train(const struct rank_model_params *p, struct rank_model *models, int n, const struct rank_data *train,
                      const struct rank_data *holdout, const uint32_t *cap, const char *dir, const char *who,
                      struct hm_buf *curves, struct hm_buf *importance, float **hs)
{
    int rc = hm_mkdirs(dir);
    /* state shared by the kinds of one settings family, by the family's first kind */
    void *shared[RANK_MAX_MODELS] = {0};
    const struct rank_model_kind *owner[RANK_MAX_MODELS] = {0};
    int n_shared = 0;
    for (int i = 0; i < n && !rc; i++) {
        struct rank_model *m = &models[i];
        const struct rank_model_kind *k = m->kind;
        int s = 0;
        while (s < n_shared && strcmp(owner[s]->settings, k->settings))
            s++;
        if (s == n_shared)
            owner[n_shared++] = k;
        struct rank_train_opts o = {cap ? cap[i] : 0, who};
        if ((rc = k->train(k, p, &o, train, holdout, &shared[s], m)) != 0)
            break;
        for (uint32_t r = 0; r < m->n_curve; r++)
            if (!isnan(m->curve[r]))
                hm_buf_printf(curves, "%s\t%u\t%.6f\n", m->name, r + 1, m->curve[r]);
        if (k->importance_text) {
            char *imp = k->importance_text(m, 30);
            if (imp) {
                hm_buf_printf(importance, "%s: the top features by gain\n%s\n", m->name, imp);
                free(imp);
            }
        }
        if ((rc = rank_model_save(m, dir)) != 0)
            break;
        hs[i] = hm_xmalloc_array(holdout->n_rows + 1, sizeof(float));
        rc = rank_model_score(m, holdout, hs[i]);
        m->holdout_map12 = rc ? 0 : rank_map12(holdout, hs[i], NULL);
        if (!rc) { /* the training rows' MAP@12 next to the held-out one shows over- or underfitting */
            float *ts = hm_xmalloc_array(train->n_rows + 1, sizeof *ts);
            if ((rc = rank_model_score(m, train, ts)) == 0)
                hm_info("%s: %s: MAP@12 on its (down-sampled) training rows %.5f, held out %.5f", who, m->name,
                        rank_map12(train, ts, NULL), m->holdout_map12);
            free(ts);
        }
    }
    for (int s = 0; s < n_shared; s++)
        if (owner[s]->free_shared)
            owner[s]->free_shared(&shared[s]);
    return rc;
}

/* ---- learning curves -------------------------------------------------------------------------------- */

int rank_curves_read(const char *path, struct rank_curves *c)
{
    memset(c, 0, sizeof *c);
    char *text = NULL;
    int rc = hm_read_file(path, &text, NULL);
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
            if (c->n == RANK_MAX_MODELS)
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

void rank_curves_release(struct rank_curves *c)
{
    for (int k = 0; k < c->n; k++)
        free(c->curve[k].v);
    memset(c, 0, sizeof *c);
}

uint32_t rank_curves_best(const struct rank_curves *c, const char *name)
{
    uint32_t best = 0;
    for (int k = 0; k < c->n; k++) {
        if (strcmp(c->name[k], name))
            continue;
        double best_map = -1;
        for (size_t e = 0; e < c->curve[k].n; e++)
            if (c->curve[k].v[e] > best_map) {
                best_map = c->curve[k].v[e];
                best = (uint32_t)e + 1;
            }
    }
    return best;
}

/* ---- scorers ------------------------------------------------------------------------------------------- */

void rank_scorer_release(struct rank_scorer *s)
{
    for (int m = 0; m < s->n_models; m++)
        rank_model_release(&s->models[m]);
    ensemble_release(&s->ens);
    memset(s, 0, sizeof *s);
}

/* A number field: the whole text, finite, in [lo, hi]. */
static int weight_field(const char *path, int line, const char *what, const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !isfinite(v) || v < 0 || v > 1)
        return hm_error(HM_EFORMAT, "%s:%d: %s: expected a finite number in [0, 1], found \"%s\"", path, line, what,
                        text);
    *out = v;
    return 0;
}

int rank_ensemble_read(const char *path, const char *name, char (*models)[32], double *w, int *n)
{
    *n = 0;
    char *text = NULL;
    int rc = hm_read_file(path, &text, NULL), line = 0;
    if (rc)
        return rc;
    double total = 0;
    for (char *cur = text, *l; !rc && (l = hm_next_line(&cur)) != NULL;) {
        line++;
        if (l[0] == '#' || !l[0])
            continue;
        char *f[3];
        int nf = hm_split_fields(l, '\t', f, 3);
        if (nf != 3) {
            rc = hm_error(HM_EFORMAT, "%s:%d: expected \"ensemble<TAB>model<TAB>weight\", found %s%d field%s", path,
                          line, nf > 3 ? "more than " : "", nf > 3 ? 3 : nf, nf == 1 ? "" : "s");
            break;
        }
        if (strcmp(f[0], name))
            continue;
        double weight = 0;
        char what[96];
        snprintf(what, sizeof what, "the weight of %.31s in %.31s", f[1], name);
        if (!rank_model_kind_find(f[1])) {
            rc = hm_error(HM_EFORMAT, "%s:%d: expected a model kind, found \"%s\"", path, line, f[1]);
        } else if ((rc = weight_field(path, line, what, f[2], &weight)) == 0) {
            for (int k = 0; k < *n && !rc; k++)
                if (!strcmp(models[k], f[1]))
                    rc = hm_error(HM_EFORMAT, "%s:%d: %s names %s twice", path, line, name, f[1]);
            if (!rc && *n == RANK_MAX_MODELS)
                rc = hm_error(HM_EFORMAT, "%s:%d: %s has more than %d models", path, line, name, RANK_MAX_MODELS);
            if (!rc) {
                snprintf(models[*n], 32, "%s", f[1]);
                w[(*n)++] = weight;
                total += weight;
            }
        }
    }
    free(text);
    if (!rc && *n == 0)
        rc = hm_error(HM_EFORMAT, "%s has no weights of '%s'", path, name);
    if (!rc && fabs(total - 1) > 1e-9)
        rc = hm_error(HM_EFORMAT, "%s: the weights of %s sum to %.17g, not 1", path, name, total);
    if (rc)
        *n = 0;
    return rc;
}

int rank_scorer_load(const char *dir, const char *name, struct rank_scorer *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    if (strcmp(name, "ensemble") && strcmp(name, "average")) {
        s->n_models = 1;
        return rank_model_load(dir, name, &s->models[0]);
    }
    char *path = hm_path_join(dir, "ensemble.tsv");
    char names[RANK_MAX_MODELS][32];
    double w[RANK_MAX_MODELS];
    int n = 0;
    int rc = rank_ensemble_read(path, name, names, w, &n);
    free(path);
    for (int m = 0; m < n && !rc; m++)
        if ((rc = rank_model_load(dir, names[m], &s->models[m])) == 0)
            s->n_models = m + 1;
    if (!rc) {
        s->ens.n_models = (uint32_t)s->n_models;
        s->ens.w = hm_xmalloc_array((size_t)s->n_models, sizeof *s->ens.w);
        memcpy(s->ens.w, w, (size_t)s->n_models * sizeof *w);
    }
    if (rc)
        rank_scorer_release(s);
    return rc;
}

int rank_scorer_score(const struct rank_scorer *s, const struct rank_data *d, float *out)
{
    if (s->n_models == 1 && !s->ens.w)
        return rank_model_score(&s->models[0], d, out);
    float **scores = hm_xcalloc((size_t)s->n_models + 1, sizeof *scores);
    int rc = 0;
    for (int m = 0; m < s->n_models && !rc; m++) {
        scores[m] = hm_xmalloc_array(d->n_rows + 1, sizeof(float));
        rc = rank_model_score(&s->models[m], d, scores[m]);
    }
    if (!rc)
        ensemble_score(&s->ens, d, (const float *const *)scores, out);
    for (int m = 0; m < s->n_models; m++)
        free(scores[m]);
    free(scores);
    return rc;
}

void rank_ensemble_format(struct hm_buf *b, const char *name, const struct rank_model *models, int n, const double *w)
{
    for (int m = 0; m < n; m++)
        hm_buf_printf(b, "%s\t%s\t%.17g\n", name, models[m].name, w ? w[m] : 1.0);
}
