/* Evaluation: the baselines and submission-format files scored against a week's purchases,
 * the metrics table of the validation week, and the baselines' predictions as files. */
#include "pipeline/pipeline.h"
#include "io/submission.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A baseline predicting the week from cutoff on, scored on its purchases (truth). */
static int baseline_eval_at(struct pipeline *p, int kind, int32_t cutoff, const struct prep_truth *truth,
                            struct eval_row *row)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    uint32_t n = truth->n_users;
    uint32_t *pred = hm_xmalloc_array((size_t)n * RECALL_K + 1, sizeof *pred);
    uint8_t *npred = hm_xmalloc((size_t)n + 1);
    rc = recall_baseline_predict(ds, kind, &p->c.base, cutoff, truth->user, n, pred, npred);
    if (!rc) {
        memset(&row->sum, 0, sizeof row->sum);
        row->name = recall_baseline_name[kind];
        for (uint32_t i = 0; i < n; i++)
            eval_sum_add(&row->sum, pred + (size_t)i * RECALL_K, npred[i], truth->items + truth->off[i],
                         truth->off[i + 1] - truth->off[i]);
    }
    free(pred);
    free(npred);
    return rc;
}

int pipeline_baseline_eval(struct pipeline *p, int kind, const struct prep_truth *truth, struct eval_row *row)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    return baseline_eval_at(p, kind, ds->tx.day_max - 6, truth, row); /* the validation week */
}

int pipeline_write_predictions(struct pipeline *p, int kind, int32_t cutoff, const uint32_t *users, uint32_t n,
                               const char *path)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    if (!users)
        n = ds->customers.n;
    struct io_subwriter w;
    if ((rc = io_subwriter_open(&w, path)) != 0)
        return rc;
    const uint32_t block = 1 << 16;
    uint32_t *pred = hm_xmalloc_array((size_t)block * RECALL_K, sizeof *pred);
    uint8_t *npred = hm_xmalloc(block);
    uint32_t ids[RECALL_K];
    uint32_t *seq = users ? NULL : hm_xmalloc_array(block, sizeof *seq);
    struct hm_progress prog;
    hm_progress_begin(&prog, "predictions", n);
    for (uint32_t b = 0; b < n && !rc; b += block) {
        uint32_t m = n - b < block ? n - b : block;
        const uint32_t *u = users ? users + b : seq;
        if (!users)
            for (uint32_t i = 0; i < m; i++)
                seq[i] = b + i;
        if ((rc = recall_baseline_predict(ds, kind, &p->c.base, cutoff, u, m, pred, npred)) != 0)
            break;
        for (uint32_t i = 0; i < m && !rc; i++) {
            char hex[65];
            data_customer_hex(ds, u[i], hex);
            for (uint32_t k = 0; k < npred[i]; k++)
                ids[k] = ds->articles.article_id[pred[(size_t)i * RECALL_K + k]];
            rc = io_subwriter_add(&w, hex, ids, npred[i]);
        }
        hm_progress_add(&prog, m);
    }
    hm_progress_end(&prog);
    free(pred);
    free(npred);
    free(seq);
    if (rc) {
        io_subwriter_abort(&w);
        return rc;
    }
    return io_subwriter_commit(&w);
}

/* ---- submission-format files ------------------------------------------------------------- */

struct eval_file_job {
    struct data_id_index ix;
    uint32_t *pred;   /* (n_customers, 12) */
    uint8_t *npred;   /* (n_customers); 255 = no row yet */
    uint64_t unknown, rows;
    uint64_t unknown_articles; /* predictions naming an article the store does not know */
    uint64_t unterminated;     /* line of a last line without its newline, 0 when none */
    const char *path;
};

static int eval_row(const struct io_subrow *row, void *ud)
{
    struct eval_file_job *j = ud;
    j->rows++;
    if (row->unterminated)
        j->unterminated = row->line;
    uint32_t c = data_id_index_customer(&j->ix, row->customer_id, 64);
    if (c == UINT32_MAX) {
        j->unknown++;
        return 0;
    }
    if (j->npred[c] != 255)
        return hm_error(HM_EPARSE, "%s:%llu: customer %s appears twice", j->path, (unsigned long long)row->line,
                        row->customer_id);
    uint8_t n = 0;
    for (size_t k = 0; k < row->n; k++) {
        uint32_t a = data_id_index_article(&j->ix, row->articles[k]);
        j->unknown_articles += a == UINT32_MAX;
        /* an article the store does not know can never be right: it keeps its rank with a
         * value no article has (distinct, so it is not taken for a duplicate) */
        j->pred[(size_t)c * RECALL_K + n++] = a == UINT32_MAX ? UINT32_MAX - (uint32_t)k : a;
    }
    j->npred[c] = n;
    return 0;
}

int pipeline_evaluate_file(const struct data_set *ds, const struct prep_truth *truth, const char *path,
                           struct eval_sum *sum)
{
    uint32_t nc = ds->customers.n;
    struct eval_file_job j = {.path = path};
    data_id_index_init(&j.ix, ds);
    j.pred = hm_xmalloc_array((size_t)nc * RECALL_K + 1, sizeof *j.pred);
    j.npred = hm_xmalloc((size_t)nc + 1);
    memset(j.npred, 255, (size_t)nc + 1);
    int rc = io_submission_read(path, RECALL_K, eval_row, &j);
    if (!rc) {
        memset(sum, 0, sizeof *sum);
        uint64_t missing = 0;
        for (uint32_t i = 0; i < truth->n_users; i++) {
            uint32_t c = truth->user[i];
            missing += j.npred[c] == 255;
            uint8_t n = j.npred[c] == 255 ? 0 : j.npred[c];
            eval_sum_add(sum, j.pred + (size_t)c * RECALL_K, n, truth->items + truth->off[i],
                         truth->off[i + 1] - truth->off[i]);
        }
        /* say what could not be scored, rather than a silent low score */
        if (j.rows == 0)
            hm_warn("%s: no prediction rows (only a header): every buyer scores 0", path);
        if (j.unterminated)
            hm_warn("%s:%llu: the last line has no newline: the file may be cut off, and the line's "
                    "last id a fragment", path, (unsigned long long)j.unterminated);
        if (j.unknown)
            hm_warn("%s: %llu of %llu rows name customers the store does not know (ignored)", path,
                    (unsigned long long)j.unknown, (unsigned long long)j.rows);
        if (j.unknown_articles)
            hm_warn("%s: %llu predictions name articles the store does not know (scored as misses)", path,
                    (unsigned long long)j.unknown_articles);
        if (missing && j.rows)
            hm_warn("%s: %llu of %u buyers of the week have no prediction row (scored 0)", path,
                    (unsigned long long)missing, truth->n_users);
    }
    data_id_index_release(&j.ix);
    free(j.pred);
    free(j.npred);
    return rc;
}

/* data_dir/oracle/week_<start>_<what>.csv when it exists, else NULL. */
static char *synth_week_file(const char *data_dir, int32_t start, const char *what)
{
    if (!data_dir || !data_dir[0])
        return NULL;
    char day[11], name[64];
    hm_date_format(start, day);
    snprintf(name, sizeof name, "oracle/week_%s_%s.csv", day, what);
    char *path = hm_path_join(data_dir, name);
    if (access(path, R_OK) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

char *pipeline_oracle_path(const char *data_dir, int32_t start)
{
    return synth_week_file(data_dir, start, "oracle");
}

char *pipeline_test_truth_path(const char *data_dir, int32_t start)
{
    return synth_week_file(data_dir, start, "truth");
}

char *pipeline_truth_oracle_path(const char *truth_path)
{
    size_t n = strlen(truth_path);
    static const char tail[] = "_truth.csv";
    if (n < sizeof tail - 1 || strcmp(truth_path + n - (sizeof tail - 1), tail))
        return NULL;
    char *path = hm_xasprintf("%.*s_oracle.csv", (int)(n - (sizeof tail - 1)), truth_path);
    if (access(path, R_OK) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

/* ---- a week's purchases from a file ----------------------------------------------------------- */

struct truth_read_job {
    struct data_id_index ix;
    const char *path;
    uint32_t *slot;            /* (n_customers) 1 + index into rows, 0 when none */
    HM_VEC(uint32_t) cust;     /* per buyer: the customer's row */
    HM_VEC(uint64_t) first;    /* per buyer: its first item in items */
    HM_VEC(uint32_t) items;
    uint64_t unknown_customers, unknown_articles;
};

static int truth_read_row(const struct io_subrow *row, void *ud)
{
    struct truth_read_job *j = ud;
    uint32_t c = data_id_index_customer(&j->ix, row->customer_id, 64);
    if (c == UINT32_MAX) {
        j->unknown_customers++;
        return 0;
    }
    if (j->slot[c])
        return hm_error(HM_EPARSE, "%s:%llu: customer %s appears twice", j->path, (unsigned long long)row->line,
                        row->customer_id);
    j->slot[c] = (uint32_t)j->cust.n + 1;
    HM_VEC_PUSH(&j->cust, c);
    HM_VEC_PUSH(&j->first, j->items.n);
    uint64_t begin = j->items.n;
    for (size_t k = 0; k < row->n; k++) {
        uint32_t a = data_id_index_article(&j->ix, row->articles[k]);
        if (a == UINT32_MAX) {
            /* an article the store does not know: no prediction can name it, it stays a
             * purchase (a value no article has, distinct from evaluate_file's) */
            j->unknown_articles++;
            a = UINT32_MAX - 4096 - (uint32_t)k;
        }
        int dup = 0;
        for (uint64_t q = begin; q < j->items.n && !dup; q++)
            dup = j->items.v[q] == a;
        if (!dup)
            HM_VEC_PUSH(&j->items, a);
    }
    return 0;
}

int pipeline_truth_read(const struct data_set *ds, const char *path, struct prep_truth *t)
{
    memset(t, 0, sizeof *t);
    uint32_t nc = ds->customers.n;
    struct truth_read_job j = {.path = path, .slot = hm_xcalloc((size_t)nc + 1, sizeof(uint32_t))};
    data_id_index_init(&j.ix, ds);
    int rc = io_idlist_read(path, "purchases", 4096, truth_read_row, &j);
    if (!rc) {
        if (j.unknown_customers)
            hm_warn("%s: %llu buyers are customers the store does not know (not scored)", path,
                    (unsigned long long)j.unknown_customers);
        if (j.unknown_articles)
            hm_warn("%s: %llu purchases are of articles the store does not know (no prediction can hit them)",
                    path, (unsigned long long)j.unknown_articles);
        /* buyers in customer order, as prep_truth_build gives them */
        t->n_users = (uint32_t)j.cust.n;
        t->user = hm_xmalloc_array(j.cust.n + 1, sizeof *t->user);
        t->off = hm_xmalloc_array(j.cust.n + 1, sizeof *t->off);
        t->items = hm_xmalloc_array(j.items.n + 1, sizeof *t->items);
        uint64_t k = 0;
        uint32_t u = 0;
        for (uint32_t c = 0; c < nc; c++) {
            if (!j.slot[c])
                continue;
            uint32_t r = j.slot[c] - 1;
            uint64_t lo = j.first.v[r], hi = r + 1 < j.first.n ? j.first.v[r + 1] : j.items.n;
            t->user[u] = c;
            t->off[u++] = k;
            memcpy(t->items + k, j.items.v + lo, (hi - lo) * sizeof *t->items);
            k += hi - lo;
        }
        t->off[u] = k;
        t->n_rows = k;
    }
    data_id_index_release(&j.ix);
    free(j.slot);
    free(j.cust.v);
    free(j.first.v);
    free(j.items.v);
    return rc;
}

/* ---- the metrics table ----------------------------------------------------------------- */

/* A row of the table and what it is ("oracle", "ceiling", "baseline", "model", "ensemble"). */
struct table_row {
    struct eval_row r;
    const char *kind;
};

static int by_map12_desc(const void *a, const void *b)
{
    const struct table_row *x = a, *y = b;
    double u = eval_map12(&x->r.sum), v = eval_map12(&y->r.sum);
    return u > v ? -1 : u < v ? 1 : strcmp(x->r.name, y->r.name);
}

int pipeline_metrics_table(struct pipeline *p, const struct prep_truth *truth, const char *names,
                           const char *oracle, const struct pipeline_result *extra, int n_extra, char **table,
                           struct hm_buf *tsv)
{
    *table = NULL;
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    struct table_row *rows = hm_xcalloc(RECALL_NBASELINES + 2 + (size_t)n_extra, sizeof *rows);
    int n = 0;
    double refs[2] = {0, 0};
    const char *ref_names[2] = {"oracle", "ceiling"};
    /* the two ceilings first: the oracle (synthetic data) and a perfect ranker of the pool */
    if (oracle) {
        rows[n].r.name = "oracle";
        rows[n].kind = "oracle";
        if ((rc = pipeline_evaluate_file(ds, truth, oracle, &rows[n].r.sum)) == 0)
            refs[0] = eval_map12(&rows[n++].r.sum);
    }
    for (int k = 0; k < n_extra; k++)
        if (!strcmp(extra[k].kind, "ceiling")) {
            rows[n].r.name = extra[k].name;
            rows[n].r.sum = extra[k].sum;
            rows[n].kind = "ceiling";
            refs[1] = eval_map12(&rows[n++].r.sum);
        }
    int first = n;
    char list[HM_SETTING_STRLEN];
    snprintf(list, sizeof list, "%s", names);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
        int kind = recall_baseline_find(tok);
        if (kind < 0)
            rc = hm_error(HM_EINVAL, "unknown baseline '%s' (popular, decayed, recent)", tok);
        else if (n < first + RECALL_NBASELINES) {
            rows[n].kind = "baseline";
            rc = pipeline_baseline_eval(p, kind, truth, &rows[n++].r);
        }
    }
    for (int k = 0; k < n_extra; k++)
        if (strcmp(extra[k].kind, "ceiling")) {
            rows[n].r.name = extra[k].name;
            rows[n].r.sum = extra[k].sum;
            rows[n++].kind = extra[k].kind;
        }
    /* the rest ranked by MAP@12 */
    qsort(rows + first, (size_t)(n - first), sizeof *rows, by_map12_desc);
    if (!rc) {
        int n_ref = 0;
        double r2[2];
        const char *rn[2];
        for (int k = 0; k < 2; k++)
            if (refs[k] > 0) {
                r2[n_ref] = refs[k];
                rn[n_ref++] = ref_names[k];
            }
        struct eval_row *plain = hm_xmalloc_array((size_t)n + 1, sizeof *plain);
        for (int i = 0; i < n; i++) {
            plain[i] = rows[i].r;
            if (tsv)
                pipeline_result_format(tsv, rows[i].r.name, rows[i].kind, &rows[i].r.sum);
        }
        char *body = eval_table_format_refs(plain, (size_t)n, r2, rn, n_ref);
        free(plain);
        char day0[11], day1[11];
        hm_date_format(ds->tx.day_max - 6, day0);
        hm_date_format(ds->tx.day_max, day1);
        *table = hm_xasprintf("validation week %s..%s: %u customers bought\n%s", day0, day1, truth->n_users, body);
        free(body);
    }
    free(rows);
    return rc;
}

/* ---- the held-out test week -------------------------------------------------------------------- */

#define TEST_MAX_ROWS (2 + RECALL_NBASELINES)

/* The held-out test week, when the data folder has its purchases (hmrec synth's
 * oracle/week_<the day after the data>_truth.csv): the oracle, the submission and the
 * baselines scored on it, as a table (*table, NULL without the week) and metrics.tsv rows of
 * kinds "test oracle", "test submission" and "test baseline". No setting is chosen on it: it
 * only reports. */
static int test_week_table(struct pipeline *p, const struct data_set *ds, char **table, struct hm_buf *tsv)
{
    *table = NULL;
    int32_t start = ds->tx.day_max + 1;
    char *truth_path = pipeline_test_truth_path(p->c.run.data, start);
    if (!truth_path)
        return 0;
    hm_report("evaluate: the submission, the baselines and the oracle on the held-out test week");
    struct prep_truth truth;
    int rc = pipeline_truth_read(ds, truth_path, &truth);
    free(truth_path);
    if (rc)
        return rc;
    struct table_row rows[TEST_MAX_ROWS];
    char names[TEST_MAX_ROWS][HM_SETTING_STRLEN + 32];
    memset(rows, 0, sizeof rows);
    int n = 0;
    double oracle_map = 0;
    char *oracle = pipeline_oracle_path(p->c.run.data, start);
    if (oracle && (rc = pipeline_evaluate_file(ds, &truth, oracle, &rows[n].r.sum)) == 0) {
        rows[n].r.name = "test: oracle";
        rows[n].kind = "test oracle";
        oracle_map = eval_map12(&rows[n++].r.sum);
    }
    free(oracle);
    int first = n;
    char *sub = pipeline_submission_path(p);
    if (!rc && access(sub, R_OK) == 0) {
        char model[HM_SETTING_STRLEN];
        snprintf(model, sizeof model, "%s", p->c.run.submit_model);
        if (!strcmp(model, "best") && pipeline_best_model(p, model, sizeof model) != 0)
            hm_clear_error(), snprintf(model, sizeof model, "best");
        snprintf(names[n], sizeof names[n], "test: submission (%s)", model);
        if ((rc = pipeline_evaluate_file(ds, &truth, sub, &rows[n].r.sum)) == 0) {
            rows[n].r.name = names[n];
            rows[n++].kind = "test submission";
        }
    }
    free(sub);
    char list[HM_SETTING_STRLEN];
    snprintf(list, sizeof list, "%s", p->c.run.baselines);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && !rc && n < TEST_MAX_ROWS;
         tok = strtok_r(NULL, ",", &save)) {
        int kind = recall_baseline_find(tok);
        if (kind < 0)
            continue; /* the validation table has said so */
        snprintf(names[n], sizeof names[n], "test: %s", tok);
        if ((rc = baseline_eval_at(p, kind, start, &truth, &rows[n].r)) == 0) {
            rows[n].r.name = names[n];
            rows[n++].kind = "test baseline";
        }
    }
    if (!rc && n) {
        qsort(rows + first, (size_t)(n - first), sizeof *rows, by_map12_desc);
        struct eval_row plain[TEST_MAX_ROWS];
        for (int i = 0; i < n; i++) {
            plain[i] = rows[i].r;
            pipeline_result_format(tsv, rows[i].r.name, rows[i].kind, &rows[i].r.sum);
        }
        static const char *const ref_name[1] = {"oracle"};
        char *body = eval_table_format_refs(plain, (size_t)n, &oracle_map, ref_name, oracle_map > 0);
        char *end = strstr(body, "\n\n"); /* the table at 12 only */
        if (end)
            end[1] = '\0';
        char d0[11], d1[11];
        hm_date_format(start, d0);
        hm_date_format(start + 6, d1);
        *table = hm_xasprintf("held-out test week %s..%s: %u customers bought (the week after the data, known "
                              "only to the data's oracle/; no setting was chosen on it)\n%s",
                              d0, d1, truth.n_users, body);
        free(body);
    }
    prep_truth_release(&truth);
    return rc;
}

/* metrics.txt: the validation week's table at 12, the test week's (when any), then the
 * validation week's tables per metric at every k. */
static int write_metrics(struct pipeline *p, const char *validation, const char *test, const struct hm_buf *tsv)
{
    const char *rest = strstr(validation, "\n\n");
    size_t head = rest ? (size_t)(rest - validation) + 1 : strlen(validation);
    char *text = test ? hm_xasprintf("%.*s\n%s%s", (int)head, validation, test, rest ? rest + 1 : "")
                      : hm_xstrdup(validation);
    char *path = pipeline_path(p, "metrics.txt");
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    free(path);
    if (rc == 0) {
        hm_awriter_write(&w, text, strlen(text));
        rc = hm_awriter_commit(&w);
    }
    free(text);
    char *tp = pipeline_path(p, "metrics.tsv");
    if (!rc && (rc = hm_awriter_open(&w, tp)) == 0) {
        hm_awriter_write(&w, tsv->s, tsv->len);
        rc = hm_awriter_commit(&w);
    }
    free(tp);
    return rc;
}

int pipeline_evaluate_stage(struct pipeline *p)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    hm_report("evaluate: the baselines on the validation week");
    char *oracle = pipeline_oracle_path(p->c.run.data, ds->tx.day_max - 6), *table = NULL, *test = NULL;
    struct prep_truth truth;
    if ((rc = prep_truth_build(&truth, ds, (struct prep_week){ds->tx.day_max - 6, ds->tx.day_max})) != 0) {
        free(oracle);
        return rc;
    }
    /* the rank stage's models, ensembles and pool ceiling, when it ran */
    struct pipeline_result *res = NULL;
    int n_res = 0;
    char *rp = pipeline_path(p, "rank_results.tsv");
    if (access(rp, F_OK) == 0)
        rc = pipeline_results_read(rp, &res, &n_res);
    free(rp);
    struct hm_buf tsv = {0};
    hm_buf_puts(&tsv, "# name\tkind\tusers\tthen per k in 1,3,5,10,12: sums of AP, precision, recall, NDCG\n");
    if (!rc && (rc = pipeline_metrics_table(p, &truth, p->c.run.baselines, oracle, res, n_res, &table, &tsv)) == 0 &&
        (rc = test_week_table(p, ds, &test, &tsv)) == 0)
        rc = write_metrics(p, table, test, &tsv);
    hm_buf_release(&tsv);
    prep_truth_release(&truth);
    free(res);
    free(table);
    free(test);
    free(oracle);
    return rc;
}
