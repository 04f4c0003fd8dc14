/* pipeline: the stages of hmrec as a table, the settings of a run, the work directory, and
 * the drivers that run a stage through its module and report what it did.
 *
 * A stage is a row of pipeline_stages (stages.c): its name, the settings prefixes it reads,
 * the stages whose outputs it reads, the files it writes and its run function. Its
 * fingerprint is derived from the text of its settings and its inputs' fingerprints, so a
 * stage reruns exactly when something it depends on changed, and `pipeline_run` says why.
 * Adding a stage is one row here plus its module under src/.
 *
 * Reports go through hm_report (the command layer prints them to stdout); progress and
 * diagnostics through the other hooks. Nothing here exits or prints directly. */
#ifndef HM_PIPELINE_H
#define HM_PIPELINE_H

#include "core/core.h"
#include "data/data.h"
#include "eval/eval.h"
#include "features/features.h"
#include "prep/prep.h"
#include "rank/label.h"
#include "rank/model.h"
#include "recall/cut.h"
#include "recall/recall.h"
#include "text/text.h"

/* ---- settings (config.c) ------------------------------------------------------------- */

struct run_params {
    char data[HM_SETTING_STRLEN];       /* directory of the Kaggle CSV files */
    char store[HM_SETTING_STRLEN];      /* store directory ("" = <work>/store) */
    char work[HM_SETTING_STRLEN];       /* work directory */
    char baselines[HM_SETTING_STRLEN];  /* comma-separated baselines to evaluate */
    char submit_model[HM_SETTING_STRLEN];
    char submission[HM_SETTING_STRLEN]; /* "" = <work>/submission.csv.gz */
};

/* The rank stage's own settings (keys rank.*). */
struct pipeline_rank_params {
    char models[HM_SETTING_STRLEN]; /* comma-separated models to train: classifier, ndcg, map,
                                       lambdarank, xendcg, deep (boosted), nn (the network) */
    long block;                     /* customers per block when scoring streamed candidates */
    long holdout_max;               /* held-out customers kept for early stopping, over all
                                       training weeks (their full lists are large) */
    long retrain;                   /* 1: retrain the submission's models with the validation
                                       week before the submission */
    char labels[HM_SETTING_STRLEN]; /* "weekly": each training week's buyers labelled with that
                                       week's purchases; "reference": the original system's
                                       scheme (docs/rank.md) */
    long score_pool;                /* candidates per customer the models score on the
                                       validation week and for the submission: the first of
                                       the merged order (all: the whole pool) */
};

/* The report stage's settings (keys report.*). */
struct pipeline_report_params {
    long examples;                   /* example customers in the report (4) */
    char images[HM_SETTING_STRLEN];  /* article images (DIR/0XX/0XXXXXXXXX.jpg); "" = run.data/images */
};

/* Every module's settings, gathered: one config file, one table (docs/config.md). */
struct pipeline_config {
    struct run_params run;
    struct prep_params prep;
    struct text_params text;
    struct recall_base_params base;
    struct recall_params recall;
    struct feat_params feat;
    struct rank_model_params models;   /* gbm.*, nn.* */
    struct pipeline_rank_params rank;
    struct pipeline_report_params report;
};
/* The combined table (built once). */
const struct hm_setting *pipeline_config_table(size_t *n);
/* Defaults, then the file (when path is not NULL), then the "key=value" overrides. */
int pipeline_config_load(struct pipeline_config *c, const char *path, char **overrides, int n_overrides);
/* The canonical "key = value" text of the settings whose keys start with prefix. */
char *pipeline_config_text(const struct pipeline_config *c, const char *prefix);

/* ---- a run over a work directory (run.c) ------------------------------------------------ */

#define PIPELINE_MAX_STAGES 32

struct pipeline {
    struct pipeline_config c;
    char *work;              /* run.work */
    char *store;             /* run.store, else <work>/store */
    struct data_set ds;      /* opened on first use (pipeline_data) */
    int ds_open;
    uint64_t fp[PIPELINE_MAX_STAGES];  /* fingerprints of the stages run or checked */
    uint8_t fp_known[PIPELINE_MAX_STAGES];
    uint8_t done[PIPELINE_MAX_STAGES];  /* checked or run in this process */
    struct data_article_matrix text;     /* loaded on first use (pipeline_inputs) */
    struct feat_image image;
    int text_loaded, image_loaded;
    struct recall_cut_scorer *cut;       /* the two-stage scorer, trained or loaded (cut.c) */
    struct hm_lock lock;                 /* the work directory's (pipeline_lock) */
    struct hm_lock store_lock;           /* a store outside the work directory's */
    int locked;
    int as_is;                           /* 1: the work directory is used as it is, its stages
                                            never run (pipeline_require does nothing): hmrec
                                            serve, which checks the submit stage's record itself */
};
/* The purchase log hmrec serve appends to in the work directory (the transactions_train.csv
 * format). When it exists, the ingest stage reads its complete lines after the CSV files'
 * transactions (their fingerprint includes it), so the next run folds it into the data. */
#define PIPELINE_PURCHASE_LOG "purchases.csv"
/* Its first line (the transactions_train.csv header): a log of this line alone holds nothing. */
#define PIPELINE_PURCHASE_LOG_HEADER "t_dat,customer_id,article_id,price,sales_channel_id\n"

/* Copies the config; opens nothing yet. */
void pipeline_init(struct pipeline *p, const struct pipeline_config *c);
void pipeline_release(struct pipeline *p);
/* The store, opened (and verified) on first use. */
int pipeline_data(struct pipeline *p, const struct data_set **ds);
/* work/name (caller frees). */
char *pipeline_path(const struct pipeline *p, const char *name);
/* The submission file of the config (run.submission, else <work>/submission.csv.gz). */
char *pipeline_submission_path(const struct pipeline *p);

/* ---- the stage table (stages.c) ---------------------------------------------------------- */

struct pipeline_stage {
    const char *name;
    /* The version of what the stage writes: raised when a new hmrec writes different outputs
     * from the same inputs and settings (a fixed feature, a new column), so that a work
     * directory of an older hmrec reruns the stage instead of reusing stale outputs. */
    int version;
    const char *summary;                /* one line */
    const char *const *settings;        /* key prefixes it reads ("prepare.", "run.baselines") */
    const char *const *deps;            /* stages whose outputs it reads */
    /* Its output files (absolute or relative to the current directory), NULL-terminated,
     * malloc'ed with the array. */
    char **(*outputs)(const struct pipeline *p);
    int (*run)(struct pipeline *p);
    /* A fingerprint of inputs from outside the work directory (ingest: the CSV files), or
     * NULL. */
    uint64_t (*external)(const struct pipeline *p);
    /* What dependents see as this stage's fingerprint, when not its own (ingest: the
     * store's content, so that a store given directly works the same), or NULL. */
    int (*output_fp)(struct pipeline *p, uint64_t *fp);
};
extern const struct pipeline_stage pipeline_stages[];
extern const int pipeline_n_stages;
/* The stage of that name, or -1. */
int pipeline_stage_find(const char *name);

/* Runs every stage in table order, skipping those whose fingerprint and outputs are
 * unchanged (and saying why a stage runs), then reports the metrics table. */
int pipeline_run(struct pipeline *p);
/* Checks the settings that the settings table's ranges cannot (names of models, objectives,
 * labellings; the network's widths): pipeline_run calls it before any stage. */
int pipeline_check(const struct pipeline *p);
/* Takes the work directory for this process (once; held until pipeline_release): its lock,
 * exclusive (a second run, or a single command that writes there, fails at once naming the
 * process that holds it), and the lock of a store outside it (shared when run.data is empty:
 * the run only reads it; else exclusive); then removes what killed runs left half-written
 * there. pipeline_run, pipeline_require and the drivers that write in the work directory
 * call it. */
int pipeline_lock(struct pipeline *p);
/* Makes sure the stage's outputs are up to date: its dependencies first, then the stage
 * itself runs unless its record matches (single commands call this for what they read).
 * Nothing at all when p->as_is. */
int pipeline_require(struct pipeline *p, const char *stage);
/* 1 when the stage is up to date: its record matches the fingerprint its settings and inputs
 * make now, and its outputs are intact; else 0 with the reason in why, or an error. Nothing
 * runs (hmrec serve checks the submit stage of the directory it serves). */
int pipeline_stage_current(struct pipeline *p, const char *name, struct hm_buf *why);
/* What the stage took when it last ran (its record): wall seconds and the process's peak
 * resident bytes at its end. 1 when known, 0 otherwise (zeros). */
int pipeline_stage_took(const struct pipeline *p, const char *stage, double *seconds, uint64_t *peak_rss);
/* The stage's fingerprint (its inputs' are computed first). */
int pipeline_fingerprint(struct pipeline *p, int stage, uint64_t *fp);

/* The inputs beside the transactions that later stages read, loaded once: the text stage's
 * article embeddings (running that stage first when needed) and, when features.image names a
 * file, the image embeddings (*image NULL otherwise). */
int pipeline_inputs(struct pipeline *p, const struct data_article_matrix **text,
                    const struct feat_image **image);

/* The recall engine's inputs for the item universe keep: the text embeddings and the image
 * embeddings (either may be NULL) as pipeline_inputs loaded them. Every caller that builds
 * pools (the candidates stage, the submission, the features export) uses it, so that they
 * all run the same strategies. */
struct recall_inputs pipeline_recall_inputs(const uint8_t *keep, const struct data_article_matrix *text,
                                            const struct feat_image *image);

/* ---- the stages' drivers, also used by the single commands ---------------------------- */

/* ingest (stages.c): the CSV files of run.data into the store. */
int pipeline_ingest(struct pipeline *p);

/* Stage 1 (prepare.c): windows, sample, item filter; writes <work>/prepare.hmt. */
int pipeline_prepare(struct pipeline *p);

/* The text stage (textstage.c): the article text embeddings, <work>/text_emb.npy and
 * <work>/text_emb.ids.txt. */
int pipeline_text(struct pipeline *p);
/* Reads them back (checked against the store's articles). */
int pipeline_text_load(struct pipeline *p, struct data_article_matrix *m);

/* Stage 2 (candidates.c). Which week's cutoff, and which customers. */
enum pipeline_week_kind {
    PIPELINE_WEEK_VALIDATION,  /* the last week of the data */
    PIPELINE_WEEK_TRAIN,       /* training week i before it (1 = the week just before) */
    PIPELINE_WEEK_TEST,        /* the week after the data (the submission's) */
};
struct pipeline_week {
    enum pipeline_week_kind kind;
    int index;                 /* PIPELINE_WEEK_TRAIN: 1 .. prepare.train_weeks */
};
enum pipeline_users {
    PIPELINE_USERS_POOL,       /* the prepare sample and the week's buyers */
    PIPELINE_USERS_BUYERS,     /* the week's buyers */
    PIPELINE_USERS_TRAINING,   /* the week's buyers within the training population (the
                                  sample, or everyone when prepare.users is "all") */
    PIPELINE_USERS_ALL,        /* every customer */
    PIPELINE_USERS_SAMPLE_ONLY, /* the sample's customers who did not buy in the week (the
                                   reference labelling's training-only customers) */
};
struct pipeline_cand_opts {
    struct pipeline_week week;
    enum pipeline_users users;
    int stats;            /* report recall statistics and write candidates_stats.txt and
                             candidates_recall.svg */
    int write;            /* write the artifact (path, or the stage's file for the week) */
    const char *path;
    const char *reference; /* with stats: a submission-format file (e.g. the synth oracle) to
                              compare the pool with, or NULL */
    uint32_t block;       /* customers per streamed block (0: the default) */
    double share;         /* keep this pseudo-random share of the customers (a fixed hash of
                             the customer row decides; 0 or 1: all) */
};
int pipeline_candidates(struct pipeline *p, const struct pipeline_cand_opts *o);
/* The candidates stage: the validation week (pool and buyers, with statistics) and every
 * training week (their buyers in the training population). */
int pipeline_candidates_stage(struct pipeline *p);
/* The validation week's recall statistics as the candidates stage left them
 * (candidates_stats.tsv). */
int pipeline_candidates_stats(struct pipeline *p, struct recall_stats *st);
/* 1 when rank.labels is "reference" (checked by pipeline_labels_check). */
int pipeline_reference_labels(const struct pipeline *p);
int pipeline_labels_check(const struct pipeline *p);
/* The reference labelling's candidates: the sample's customers who did not buy in the
 * validation week, as of its cutoff (<work>/candidates_reference.hmt). */
char *pipeline_candidates_reference_path(const struct pipeline *p);
/* The artifact of a week: <work>/candidates.hmt (validation), candidates_train_<i>.hmt. */
char *pipeline_candidates_path(const struct pipeline *p, struct pipeline_week w);
/* Training week w as a week: w >= 1 the training weeks, 0 the validation week (which the
 * retrain stage trains on before the submission). */
static inline struct pipeline_week pipeline_train_week(int w)
{
    return w ? (struct pipeline_week){PIPELINE_WEEK_TRAIN, w} : (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0};
}
/* The week's first and last day (its cutoff is the first). */
int pipeline_week_days(struct pipeline *p, struct pipeline_week w, struct prep_week *out);

/* The two-stage pool (cut.c, recall.wide > 0; recall/cut.h): a light boosted scorer of the
 * wide merged pool, trained on training week pipeline_cut_week (earlier than every week the
 * pipeline scores) and written to pipeline_cut_path, cuts every customer's rows to
 * recall.pool. */
/* <work>/candidates_scorer.model. */
char *pipeline_cut_path(const struct pipeline *p);
/* recall.cut_week, or prepare.train_weeks + 1 when it is 0. */
int pipeline_cut_week(const struct pipeline *p);
/* Trains the scorer (once per pipeline; nothing when recall.wide is 0) and writes it. base:
 * the engine's inputs besides the item universe (text, image). */
int pipeline_cut_train(struct pipeline *p, const struct recall_inputs *base);
/* Loads the scorer the candidates stage wrote (nothing when recall.wide is 0 or it is
 * there). */
int pipeline_cut_load(struct pipeline *p);
/* The stream's cut for an engine's cutoff: *hook gets wide 0 (no cut) when recall.wide is 0;
 * otherwise the scorer must be trained or loaded. Release *ctx with recall_cut_end after the
 * stream. */
int pipeline_cut_begin(struct pipeline *p, const struct recall_engine *e, struct recall_cut_ctx **ctx,
                       struct recall_cut *hook);

/* Evaluation (evaluate.c). */
struct pipeline_result;
/* Scores a baseline on the week whose purchases are truth; fills row. */
int pipeline_baseline_eval(struct pipeline *p, int kind, const struct prep_truth *truth,
                           struct eval_row *row);
/* Writes a baseline's predictions for users[0..n) (NULL: every customer) as a submission. */
int pipeline_write_predictions(struct pipeline *p, int kind, int32_t cutoff, const uint32_t *users,
                               uint32_t n, const char *path);
/* Scores a submission-format file against the purchases of a week. */
int pipeline_evaluate_file(const struct data_set *ds, const struct prep_truth *truth, const char *path,
                           struct eval_sum *sum);
/* The oracle file hmrec synth wrote for the week starting on `start` in data_dir, or NULL. */
char *pipeline_oracle_path(const char *data_dir, int32_t start);
/* The purchases file hmrec synth wrote for that week (oracle/week_<start>_truth.csv), or NULL;
 * for the week after the data, the held-out test week. */
char *pipeline_test_truth_path(const char *data_dir, int32_t start);
/* The oracle file beside a truth file (".../week_<day>_truth.csv" -> "..._oracle.csv") when it
 * exists, else NULL. */
char *pipeline_truth_oracle_path(const char *truth_path);
/* A week's purchases read from a "customer_id,purchases" file (space-separated article ids),
 * over the store's customers and articles: buyers in customer order, each one's distinct
 * articles in file order. Buyers the store does not know are skipped and articles it does not
 * know kept as purchases no prediction can name (each with a warning). */
int pipeline_truth_read(const struct data_set *ds, const char *path, struct prep_truth *t);
/* The metrics table of the baselines in `names` (comma-separated), the oracle file (when not
 * NULL) and the rows of `extra` (the rank stage's models, ensembles and pool ceiling) on the
 * validation week, whose purchases are truth: the ceilings first, then every row ranked by
 * MAP@12, with each row's share of the oracle and of the pool ceiling (caller frees *table).
 * tsv (may be NULL) gets every row as a metrics.tsv line. */
int pipeline_metrics_table(struct pipeline *p, const struct prep_truth *truth, const char *names,
                           const char *oracle, const struct pipeline_result *extra, int n_extra, char **table,
                           struct hm_buf *tsv);
/* The evaluate stage: <work>/metrics.txt and metrics.tsv, the validation week's table and,
 * when the data folder has the held-out test week, the submission, the baselines and the
 * oracle on it (rows of kinds "test oracle", "test submission", "test baseline"). */
int pipeline_evaluate_stage(struct pipeline *p);

/* Stage 3 (features.c): the training set of every training week. */
char *pipeline_features_path(const struct pipeline *p, int week, int holdout);
int pipeline_features_stage(struct pipeline *p);
/* One week's tables (w >= 1 a training week, 0 the validation week's buyers in the training
 * population); summary gets a line. */
int pipeline_features_week(struct pipeline *p, int w, const struct feat_inputs *in, struct hm_buf *summary);
/* The cutoff of training set w and the days its labels come from: training week w for both
 * (weekly labels), or the validation week's cutoff and the training weeks before it
 * (rank.labels = reference: the labels overlap the features' history). */
int pipeline_label_days(struct pipeline *p, int w, struct prep_week *cutoff_week, struct prep_week *labels);
/* The wide view of a week's features for a pandas user: the candidates of the week's first
 * n_users buyers (of every customer for the test week) as of its cutoff, every feature and the
 * image dimensions, as CSV (feat_export_csv). */
int pipeline_features_export(struct pipeline *p, struct pipeline_week week, uint32_t n_users, const char *path);

/* Stage 4 (rank.c): models (through rank/model.h), ensembles, the validation week. */
/* The tower of each feature column (feat_n_cols() of them) for struct rank_data: user
 * columns to the user tower, item columns to the item tower, the rest to the pair tower. */
const uint8_t *pipeline_column_towers(void);
/* <work>/models (the rank stage's models) or <work>/models/final (the retrain stage's):
 * caller frees. */
char *pipeline_models_dir(const struct pipeline *p, int final);
int pipeline_rank_stage(struct pipeline *p);
/* One row of rank_results.tsv: a model's, ensemble's or the pool ceiling's metric sums on the
 * validation week. */
struct pipeline_result {
    char name[32];
    char kind[16];   /* "model", "ensemble", "ceiling", "baseline", "oracle" */
    struct eval_sum sum;
};
/* One line of such a file (results.c): name, kind, then the sums (%.17g). */
void pipeline_result_format(struct hm_buf *b, const char *name, const char *kind, const struct eval_sum *s);
/* Reads every row of a rank_results.tsv or metrics.tsv, checked: a name, a known kind, a count
 * of customers and every sum a finite number in [0, customers] (errors name the file, line
 * and field). */
int pipeline_results_read(const char *path, struct pipeline_result **out, int *n);
/* The model or ensemble with the best validation MAP@12 (rank_results.tsv). */
int pipeline_best_model(const struct pipeline *p, char *name, size_t n);
/* The learning curves the rank stage wrote (rank_curves.tsv). */
int pipeline_curves_read(struct pipeline *p, struct rank_curves *c);
/* The model or ensemble run.submit_model names, "best" resolved through rank_results.tsv. */
int pipeline_submit_model(const struct pipeline *p, char *name, size_t n);
/* The models run.submit_model stands for ("best" resolved through rank_results.tsv, an
 * ensemble through <dir>/ensemble.tsv, dir relative to the work directory); none for a
 * baseline. */
int pipeline_submit_models(const struct pipeline *p, const char *dir, char (*models)[32], int *n);
/* The retrain stage: the submission's model(s) trained once more on the training weeks
 * shifted by one week (the validation week as the newest), into models/final/. */
int pipeline_retrain_stage(struct pipeline *p);

/* The report (report.c): report.html and report.txt from what the stages left. */
int pipeline_report_stage(struct pipeline *p);

/* The submission (submit.c): 12 articles for every customer, cutoff the day after the data. */
int pipeline_submit(struct pipeline *p, const char *path);
/* The submit stage: run.submit_model into pipeline_submission_path. */
int pipeline_submit_stage(struct pipeline *p);

#endif
