/* The combined settings table of the pipeline: the run's own rows, then every module's. */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

#define R(f) offsetof(struct run_params, f)
static const struct hm_setting run_settings[] = {
    {"run.data", HM_SET_STRING, R(data), "", 0, 0, 0,
     "directory with transactions_train.csv, articles.csv, customers.csv"},
    {"run.store", HM_SET_STRING, R(store), "", 0, 0, 0, "store directory (empty: <work>/store)"},
    {"run.work", HM_SET_STRING, R(work), "work", 0, 0, 0, "work directory"},
    {"run.baselines", HM_SET_STRING, R(baselines), "popular,decayed,recent", 0, 0, 0,
     "baselines in the metrics table"},
    {"run.submit_model", HM_SET_STRING, R(submit_model), "best", 0, 0, 0,
     "what writes the submission: best (the best model or ensemble on the validation week), a model "
     "of rank.models, ensemble, average, or a baseline"},
    {"run.submission", HM_SET_STRING, R(submission), "", 0, 0, 0,
     "submission file (empty: <work>/submission.csv.gz)"},
};
#undef R

#define K(f) offsetof(struct pipeline_rank_params, f)
static const struct hm_setting rank_settings[] = {
    {"rank.models", HM_SET_STRING, K(models), "classifier,ndcg,map,xendcg,deep,nn", 0, 0, 0,
     "models the rank stage trains: classifier, ndcg, map, lambdarank, xendcg, deep, nn"},
    {"rank.block", HM_SET_INT, K(block), "4096", 1, 1 << 20, 0,
     "customers per block when streamed candidates are scored"},
    {"rank.labels", HM_SET_STRING, K(labels), "weekly", 0, 0, 0,
     "training labels: weekly (each training week's buyers labelled with that week's purchases) or reference "
     "(the sample's other customers labelled with their purchases of the training weeks, as the original system)"},
    {"rank.retrain", HM_SET_INT, K(retrain), "1", 0, 1, 0,
     "1: before the submission, train its model(s) once more with the validation week as the newest training "
     "week (the weeks shifted by one); 0: submit with the models scored on the validation week"},
    {"rank.score_pool", HM_SET_INT, K(score_pool), "all", 1, 1e9, 1,
     "candidates per customer (the first of the merged order) the models score on the validation week "
     "and for the submission; all: the whole pool"},
    {"rank.holdout_max", HM_SET_INT, K(holdout_max), "20000", 100, 1e9, 0,
     "held-out customers (over all training weeks) whose full candidate lists early stopping scores"},
};
#undef K

#define Q(f) offsetof(struct pipeline_report_params, f)
static const struct hm_setting report_settings[] = {
    {"report.examples", HM_SET_INT, Q(examples), "4", 0, 100, 0,
     "example customers in the report: their last purchases and their recommendations"},
    {"report.images", HM_SET_STRING, Q(images), "", 0, 0, 0,
     "article images for the report's thumbnails (DIR/0XX/0XXXXXXXXX.jpg; empty: run.data/images)"},
};
#undef Q

const struct hm_setting *pipeline_config_table(size_t *n)
{
    static struct hm_setting *table;
    static size_t table_n;
    if (!table) {
        size_t nr, nm;
        const struct hm_setting *recall = recall_settings_table(&nr), *models = rank_model_settings(&nm);
#define ADD(rows, n, field) hm_settings_append(&table, &table_n, rows, n, offsetof(struct pipeline_config, field))
        ADD(run_settings, sizeof run_settings / sizeof run_settings[0], run);
        ADD(prep_settings, prep_n_settings, prep);
        ADD(text_settings, text_n_settings, text);
        ADD(recall_base_settings, recall_base_n_settings, base);
        ADD(recall, nr, recall);
        ADD(feat_settings, feat_n_settings, feat);
        ADD(models, nm, models);
        ADD(rank_settings, sizeof rank_settings / sizeof rank_settings[0], rank);
        ADD(report_settings, sizeof report_settings / sizeof report_settings[0], report);
#undef ADD
    }
    *n = table_n;
    return table;
}

int pipeline_config_load(struct pipeline_config *c, const char *path, char **overrides, int n_overrides)
{
    size_t n;
    const struct hm_setting *t = pipeline_config_table(&n);
    memset(c, 0, sizeof *c);
    hm_settings_defaults(t, n, c);
    int rc;
    if (path && (rc = hm_settings_parse_file(t, n, c, path)) != 0)
        return rc;
    for (int i = 0; i < n_overrides; i++)
        if ((rc = hm_settings_override(t, n, c, overrides[i])) != 0)
            return rc;
    return 0;
}

char *pipeline_config_text(const struct pipeline_config *c, const char *prefix)
{
    size_t n;
    const struct hm_setting *t = pipeline_config_table(&n);
    return hm_settings_format(t, n, c, prefix);
}
