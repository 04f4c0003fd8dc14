/* The stage table, and the stages small enough to live beside it (ingest). */
#include "pipeline/pipeline.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- outputs ------------------------------------------------------------------------------- */

/* A NULL-terminated list of malloc'ed paths from work-relative names. */
static char **work_files(const struct pipeline *p, const char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    char **out = hm_xcalloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = pipeline_path(p, names[i]);
    return out;
}

static char **ingest_outputs(const struct pipeline *p)
{
    char **out = hm_xcalloc(4, sizeof *out);
    out[0] = hm_path_join(p->store, DATA_STORE_ARTICLES);
    out[1] = hm_path_join(p->store, DATA_STORE_CUSTOMERS);
    out[2] = hm_path_join(p->store, DATA_STORE_TRANSACTIONS);
    return out;
}

static char **prepare_outputs(const struct pipeline *p)
{
    return work_files(p, (const char *const[]){"prepare.hmt", NULL});
}

static char **text_outputs(const struct pipeline *p)
{
    return work_files(p, (const char *const[]){"text_emb.npy", "text_emb.ids.txt", NULL});
}

static char **candidates_outputs(const struct pipeline *p)
{
    long n = pipeline_reference_labels(p) ? 0 : p->c.prep.train_weeks;
    char **out = hm_xcalloc((size_t)n + 7, sizeof *out);
    out[0] = pipeline_candidates_path(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0});
    out[1] = pipeline_path(p, "candidates_stats.txt");
    out[2] = pipeline_path(p, "candidates_recall.svg");
    out[3] = pipeline_path(p, "candidates_stats.tsv");
    long k = 4;
    for (long i = 1; i <= n; i++)
        out[k++] = pipeline_candidates_path(p, (struct pipeline_week){PIPELINE_WEEK_TRAIN, (int)i});
    if (pipeline_reference_labels(p))
        out[k++] = pipeline_candidates_reference_path(p);
    if (p->c.recall.wide > 0)
        out[k++] = pipeline_cut_path(p);
    return out;
}

static char **features_outputs(const struct pipeline *p)
{
    long n = pipeline_reference_labels(p) ? 1 : p->c.prep.train_weeks;
    char **out = hm_xcalloc(2 * (size_t)n + 1, sizeof *out);
    for (long i = 1; i <= n; i++) {
        out[2 * (i - 1)] = pipeline_features_path(p, (int)i, 0);
        out[2 * (i - 1) + 1] = pipeline_features_path(p, (int)i, 1);
    }
    return out;
}

static char **rank_outputs(const struct pipeline *p)
{
    struct rank_model models[RANK_MAX_MODELS];
    int n = 0;
    if (rank_models_parse(p->c.rank.models, &p->c.models, models, &n) != 0) {
        /* (pipeline_check reports it before any stage runs) */
        hm_clear_error();
    }
    char **out = hm_xcalloc((size_t)n + 5, sizeof *out);
    size_t k = 0;
    out[k++] = pipeline_path(p, "rank_results.tsv");
    out[k++] = pipeline_path(p, "rank_curves.tsv");
    out[k++] = pipeline_path(p, "rank_importance.txt");
    out[k++] = pipeline_path(p, "models/ensemble.tsv");
    char *dir = pipeline_models_dir(p, 0);
    for (int m = 0; m < n; m++)
        out[k++] = rank_model_file(dir, models[m].name);
    free(dir);
    return out;
}

static char **evaluate_outputs(const struct pipeline *p)
{
    return work_files(p, (const char *const[]){"metrics.txt", "metrics.tsv", NULL});
}

static char **report_outputs(const struct pipeline *p)
{
    return work_files(p, (const char *const[]){"report.html", "report.txt", NULL});
}

/* models/final/ensemble.tsv, the validation week's features (training and held-out rows) and
 * the retrained models: those the submission's model stands for, as the rank stage's results
 * say (known before the stage runs). Nothing when retrain is off or the submission comes from
 * a baseline. */
static char **retrain_outputs(const struct pipeline *p)
{
    char models[RANK_MAX_MODELS][32];
    int n = 0;
    if (!p->c.rank.retrain || pipeline_reference_labels(p) ||
        (pipeline_submit_models(p, "models", models, &n) == 0 && n == 0)) {
        hm_clear_error();
        return work_files(p, (const char *const[]){NULL});
    }
    /* unreadable rank results: the list without the models (the stage itself then fails) */
    hm_clear_error();
    char **out = hm_xcalloc((size_t)n + 4, sizeof *out);
    out[0] = pipeline_path(p, "models/final/ensemble.tsv");
    out[1] = pipeline_features_path(p, 0, 0);
    out[2] = pipeline_features_path(p, 0, 1);
    char *dir = pipeline_models_dir(p, 1);
    for (int m = 0; m < n; m++)
        out[3 + m] = rank_model_file(dir, models[m]);
    free(dir);
    return out;
}

static char **submit_outputs(const struct pipeline *p)
{
    char **out = hm_xcalloc(2, sizeof *out);
    out[0] = pipeline_submission_path(p);
    return out;
}

/* ---- ingest ------------------------------------------------------------------------------- */

/* A file's size and modification time (zeros when missing) mixed into h. */
static uint64_t stat_hash(const char *path, uint64_t h)
{
    struct stat st;
    uint64_t v[3] = {0, 0, 0};
    if (stat(path, &st) == 0) {
        v[0] = (uint64_t)st.st_size;
        v[1] = (uint64_t)st.st_mtim.tv_sec;
        v[2] = (uint64_t)st.st_mtim.tv_nsec;
    }
    h = hm_hash64(v, sizeof v, h);
    return hm_hash64(path, strlen(path), h);
}

/* The work directory's purchase log (hmrec serve), when it holds more than its header (caller
 * frees). */
static char *purchase_log(const struct pipeline *p)
{
    char *path = pipeline_path(p, PIPELINE_PURCHASE_LOG);
    struct stat st;
    if (stat(path, &st) == 0 && (size_t)st.st_size > strlen(PIPELINE_PURCHASE_LOG_HEADER))
        return path;
    free(path);
    return NULL;
}

/* The CSV inputs: names, sizes and modification times; the purchase log's too when there is
 * one. */
static uint64_t csv_fingerprint(const struct pipeline *p)
{
    static const char *const names[] = {"articles.csv", "customers.csv", "transactions_train.csv"};
    uint64_t h = 0x5eed;
    for (int i = 0; i < 3; i++) {
        char *path = hm_path_join(p->c.run.data, names[i]);
        h = stat_hash(path, h);
        free(path);
    }
    char *log = purchase_log(p);
    if (log)
        h = stat_hash(log, h);
    free(log);
    return h;
}

/* The outside input of the candidates and features: the image embeddings of features.image
 * (the file and, for a .npy, both spellings of its ids file), when configured. */
static uint64_t image_fingerprint(const struct pipeline *p)
{
    const char *npy = p->c.feat.image;
    if (!npy[0])
        return 0;
    size_t n = strlen(npy);
    if (n > 4 && !strcmp(npy + n - 4, ".npy"))
        n -= 4;
    char *a = hm_xasprintf("%.*s.ids.txt", (int)n, npy), *b = hm_xasprintf("%.*s_ids.txt", (int)n, npy);
    uint64_t h = stat_hash(b, stat_hash(a, stat_hash(npy, 0x1ca6e)));
    free(a);
    free(b);
    return h;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The outside input of evaluate: the files of run.data/oracle/ (hmrec synth's oracle, whose
 * row the metrics table shows, and the weeks' truth), by content: names and bytes, in name
 * order (a file edited in place, whatever its time, changes it). */
static uint64_t oracle_fingerprint(const struct pipeline *p)
{
    if (!p->c.run.data[0])
        return 0;
    char *dir = hm_path_join(p->c.run.data, "oracle");
    DIR *d = opendir(dir);
    uint64_t h = 0x0dac1e;
    if (d) {
        HM_VEC(char *) names = {0};
        for (struct dirent *de; (de = readdir(d)) != NULL;)
            if (de->d_name[0] != '.')
                HM_VEC_PUSH(&names, hm_xstrdup(de->d_name));
        closedir(d);
        if (names.n)
            qsort(names.v, names.n, sizeof *names.v, by_name);
        for (size_t i = 0; i < names.n; i++) {
            char *path = hm_path_join(dir, names.v[i]);
            struct hm_map m;
            h = hm_hash64(names.v[i], strlen(names.v[i]) + 1, h);
            if (hm_map_file(&m, path) == 0) {
                h = hm_hash64(m.size ? m.data : (const uint8_t *)"", m.size, h);
                hm_map_release(&m);
            }
            hm_clear_error();
            free(path);
            free(names.v[i]);
        }
        free(names.v);
    }
    free(dir);
    return h;
}

/* The store's content: the headers of its table files (they hold every checksum). */
static int store_fingerprint(struct pipeline *p, uint64_t *fp)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    uint64_t h = 0x570e;
    for (int i = 0; i < 3; i++)
        h = hm_hash64(ds->files[i].map.data, ds->files[i].map.size < 128 ? ds->files[i].map.size : 128, h);
    *fp = h;
    return 0;
}

int pipeline_ingest(struct pipeline *p)
{
    if (!p->c.run.data[0]) {
        /* no CSV files configured: the store is an input of the run */
        const struct data_set *ds;
        return pipeline_data(p, &ds);
    }
    if (p->ds_open) {
        data_set_release(&p->ds);
        p->ds_open = 0;
    }
    char *log = purchase_log(p);
    struct data_ingest_opts o = {.data_dir = p->c.run.data, .store_dir = p->store, .bad_rows = IO_BAD_FAIL,
                                 .missing_refs = IO_REFS_FAIL, .purchases = log};
    struct data_ingest_report rep;
    int rc = data_ingest(&o, &rep);
    if (!rc)
        hm_report("ingest: %s -> %s: %llu transactions, %llu customers, %llu articles in %.1fs",
                  p->c.run.data, p->store, (unsigned long long)rep.transactions.rows,
                  (unsigned long long)rep.customers.rows, (unsigned long long)rep.articles.rows, rep.seconds);
    if (!rc && log)
        hm_report("ingest: folded in %llu purchases of %s (its first %llu bytes)",
                  (unsigned long long)rep.purchases.rows, log, (unsigned long long)rep.purchases.bytes);
    free(log);
    return rc;
}

/* ---- the table ----------------------------------------------------------------------------- */

const struct pipeline_stage pipeline_stages[] = {
    {"ingest", 1, "the CSV files into the columnar store", NULL, NULL, ingest_outputs, pipeline_ingest,
     csv_fingerprint, store_fingerprint},
    {"prepare", 1, "Stage 1: windows, user sample, item filter", (const char *const[]){"prepare.", NULL},
     (const char *const[]){"ingest", NULL}, prepare_outputs, pipeline_prepare, NULL, NULL},
    {"text", 1, "article text embeddings (TF-IDF + SVD)", (const char *const[]){"text.", NULL},
     (const char *const[]){"ingest", NULL}, text_outputs, pipeline_text, NULL, NULL},
    {"candidates", 2, "Stage 2: the merged candidate pools of the validation and training weeks",
     (const char *const[]){"recall.", "rank.labels", "features.image", NULL}, (const char *const[]){"prepare", "text", NULL},
     candidates_outputs, pipeline_candidates_stage, image_fingerprint, NULL},
    {"features", 2, "Stage 3: the training weeks' features, down-sampled, and the held-out customers'",
     (const char *const[]){"features.", "gbm.neg_share", "gbm.holdout", "gbm.seed", "rank.labels", "rank.holdout_max",
                           NULL},
     (const char *const[]){"candidates", "text", NULL}, features_outputs, pipeline_features_stage, image_fingerprint,
     NULL},
    {"rank", 1, "Stage 4: the models, ensembles, and every model on the validation week",
     (const char *const[]){RANK_MODEL_SETTINGS, "rank.models", "rank.score_pool", NULL},
     (const char *const[]){"features", NULL}, rank_outputs, pipeline_rank_stage, NULL, NULL},
    {"retrain", 2, "the submission's models once more, the validation week included",
     (const char *const[]){"rank.retrain", "run.submit_model", NULL}, (const char *const[]){"rank", NULL},
     retrain_outputs, pipeline_retrain_stage, NULL, NULL},
    {"submit", 2, "12 articles for every customer, the week after the data",
     (const char *const[]){"baseline.", "run.submit_model", "run.submission", "rank.score_pool", NULL},
     (const char *const[]){"ingest", "rank", "retrain", NULL}, submit_outputs, pipeline_submit_stage, NULL, NULL},
    /* after the submission: it scores it on the held-out test week when the data have one */
    {"evaluate", 2, "the metrics table of the validation week (and of the held-out test week)",
     (const char *const[]){"baseline.", "run.baselines", "run.data", "run.submit_model", NULL},
     (const char *const[]){"ingest", "rank", "submit", NULL}, evaluate_outputs, pipeline_evaluate_stage, oracle_fingerprint,
     NULL},
    {"report", 2, "report.html and report.txt: the metrics, plots, example customers",
     (const char *const[]){"report.", NULL}, (const char *const[]){"evaluate", "rank", NULL}, report_outputs,
     pipeline_report_stage, NULL, NULL},
};
const int pipeline_n_stages = (int)(sizeof pipeline_stages / sizeof pipeline_stages[0]);
_Static_assert(sizeof pipeline_stages / sizeof pipeline_stages[0] <= PIPELINE_MAX_STAGES, "stage table");
