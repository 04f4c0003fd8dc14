/* Stage 2's driver: the merged pool of a week's customers, streamed in blocks through the
 * recall engine; recall statistics against the week's purchases and a reference file; the
 * artifacts of the validation week and of every training week. */
#include "pipeline/pipeline.h"
#include "io/submission.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

int pipeline_reference_labels(const struct pipeline *p)
{
    return !strcmp(p->c.rank.labels, "reference");
}

int pipeline_labels_check(const struct pipeline *p)
{
    if (strcmp(p->c.rank.labels, "weekly") && strcmp(p->c.rank.labels, "reference"))
        return hm_error(HM_EINVAL, "rank.labels: expected weekly or reference, found \"%s\"", p->c.rank.labels);
    return 0;
}

char *pipeline_candidates_reference_path(const struct pipeline *p)
{
    return pipeline_path(p, "candidates_reference.hmt");
}

char *pipeline_candidates_path(const struct pipeline *p, struct pipeline_week w)
{
    char name[64];
    if (w.kind == PIPELINE_WEEK_TRAIN)
        snprintf(name, sizeof name, "candidates_train_%d.hmt", w.index);
    else if (w.kind == PIPELINE_WEEK_TEST)
        snprintf(name, sizeof name, "candidates_test.hmt");
    else
        snprintf(name, sizeof name, "candidates.hmt");
    return pipeline_path(p, name);
}

int pipeline_week_days(struct pipeline *p, struct pipeline_week w, struct prep_week *out)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    struct prep_windows win;
    if ((rc = prep_windows_init(&win, ds, &p->c.prep)) != 0)
        return rc;
    if (w.kind == PIPELINE_WEEK_TRAIN && (w.index < 1 || w.index > win.n_train))
        rc = hm_error(HM_EINVAL, "training week %d: prepare.train_weeks is %d", w.index, win.n_train);
    else
        *out = w.kind == PIPELINE_WEEK_TEST ? win.test : w.kind == PIPELINE_WEEK_VALIDATION ? win.val
                                                                                             : win.train[w.index - 1];
    prep_windows_release(&win);
    return rc;
}

/* ---- the customers ----------------------------------------------------------------------- */

/* The union of two ascending lists. */
static uint32_t merge_sorted(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb, uint32_t *out)
{
    uint32_t i = 0, k = 0, n = 0;
    while (i < na || k < nb) {
        if (k == nb || (i < na && a[i] < b[k]))
            out[n++] = a[i++];
        else if (i == na || b[k] < a[i])
            out[n++] = b[k++];
        else
            out[n++] = a[i++], k++;
    }
    return n;
}

/* The intersection of two ascending lists. */
static uint32_t intersect_sorted(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb, uint32_t *out)
{
    uint32_t i = 0, k = 0, n = 0;
    while (i < na && k < nb) {
        if (a[i] < b[k])
            i++;
        else if (b[k] < a[i])
            k++;
        else
            out[n++] = a[i++], k++;
    }
    return n;
}

static int week_users(struct pipeline *p, const struct data_set *ds, enum pipeline_users kind,
                      const struct prep_truth *truth, uint32_t **users, uint32_t *n)
{
    *users = NULL;
    *n = 0;
    if (kind == PIPELINE_USERS_ALL) {
        *users = hm_xmalloc_array((size_t)ds->customers.n + 1, sizeof **users);
        for (uint32_t i = 0; i < ds->customers.n; i++)
            (*users)[i] = i;
        *n = ds->customers.n;
        return 0;
    }
    if (kind == PIPELINE_USERS_BUYERS || (kind == PIPELINE_USERS_TRAINING && p->c.prep.users < 0)) {
        *users = hm_xmalloc_array((size_t)truth->n_users + 1, sizeof **users);
        memcpy(*users, truth->user, (size_t)truth->n_users * sizeof **users);
        *n = truth->n_users;
        return 0;
    }
    /* the sample is drawn as of the validation cutoff, whatever the week */
    struct prep_week val;
    int rc = pipeline_week_days(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0}, &val);
    if (rc)
        return rc;
    struct prep_sample s;
    if ((rc = prep_sample_draw(&s, ds, &p->c.prep, val.start)) != 0)
        return rc;
    *users = hm_xmalloc_array((size_t)s.n + truth->n_users + 1, sizeof **users);
    if (kind == PIPELINE_USERS_SAMPLE_ONLY) {
        *n = 0;
        for (uint32_t i = 0; i < s.n; i++)
            if (prep_truth_find(truth, s.user[i]) == UINT32_MAX)
                (*users)[(*n)++] = s.user[i];
    } else {
        *n = kind == PIPELINE_USERS_POOL ? merge_sorted(s.user, s.n, truth->user, truth->n_users, *users)
                                         : intersect_sorted(s.user, s.n, truth->user, truth->n_users, *users);
    }
    prep_sample_release(&s);
    return 0;
}

/* ---- a reference file (e.g. the synthetic data's oracle) ---------------------------------- */

/* Its 12 predictions per customer, and how many of them the pool contains. */
struct ref_job {
    struct data_id_index ix;
    uint32_t *pred;   /* (n_customers, 12) article rows */
    uint8_t *npred;   /* (n_customers) */
    uint64_t unknown;
};

static int ref_row(const struct io_subrow *row, void *ud)
{
    struct ref_job *j = ud;
    uint32_t c = data_id_index_customer(&j->ix, row->customer_id, 64);
    if (c == UINT32_MAX) {
        j->unknown++;
        return 0;
    }
    uint8_t n = 0;
    for (size_t k = 0; k < row->n && n < RECALL_K; k++) {
        uint32_t a = data_id_index_article(&j->ix, row->articles[k]);
        if (a != UINT32_MAX)
            j->pred[(size_t)c * RECALL_K + n++] = a;
    }
    j->npred[c] = n;
    return 0;
}

struct ref_stats {
    uint64_t users;        /* customers of the pool that bought and have reference predictions */
    uint64_t truth;        /* their purchase pairs */
    uint64_t preds;        /* their reference predictions */
    uint64_t in_pool;      /* predictions the pool contains */
    uint64_t hits;         /* predictions that were bought */
    uint64_t hits_in_pool; /* ... and that the pool contains */
    uint64_t pool_hits;    /* purchase pairs in the pool (same customers) */
};

static int in_rows(const struct recall_candidates *c, uint64_t b, uint64_t e, uint32_t a)
{
    for (uint64_t r = b; r < e; r++)
        if (c->item[r] == a)
            return 1;
    return 0;
}

static void ref_add(struct ref_stats *rs, const struct ref_job *j, const struct recall_candidates *c,
                    const struct prep_truth *t, uint32_t pool)
{
    for (uint32_t i = 0; i < c->n_users; i++) {
        uint32_t u = c->user[i], x = prep_truth_find(t, u);
        if (!j->npred[u] || x == UINT32_MAX)
            continue;
        uint64_t b = c->off[i], e = c->off[i + 1];
        if (e - b > pool)
            e = b + pool;
        const uint32_t *truth = t->items + t->off[x];
        uint64_t nt = t->off[x + 1] - t->off[x];
        rs->users++;
        rs->truth += nt;
        for (uint64_t k = 0; k < nt; k++)
            rs->pool_hits += in_rows(c, b, e, truth[k]);
        for (uint8_t k = 0; k < j->npred[u]; k++) {
            uint32_t a = j->pred[(size_t)u * RECALL_K + k];
            int in = in_rows(c, b, e, a), bought = 0;
            for (uint64_t y = 0; y < nt && !bought; y++)
                bought = truth[y] == a;
            rs->preds++;
            rs->in_pool += in;
            rs->hits += bought;
            rs->hits_in_pool += in && bought;
        }
    }
}

static char *ref_format(const struct ref_stats *rs, const char *path, uint32_t pool)
{
    double d = rs->truth ? (double)rs->truth : 1, p = rs->preds ? (double)rs->preds : 1;
    return hm_xasprintf("reference %s (%llu of these buyers):\n"
                        "  its 12 per customer reach %.4f of their purchase pairs; the pool (%u) reaches %.4f\n"
                        "  the pool contains %.4f of its predictions and %.4f of its hits (%llu of %llu)\n",
                        path, (unsigned long long)rs->users, (double)rs->hits / d, pool,
                        (double)rs->pool_hits / d, (double)rs->in_pool / p,
                        rs->hits ? (double)rs->hits_in_pool / (double)rs->hits : 0,
                        (unsigned long long)rs->hits_in_pool, (unsigned long long)rs->hits);
}

/* The yardstick: the `recent` baseline's recall (own purchases, then popular; 12 each). */
static double baseline_recall(const struct pipeline *p, const struct data_set *ds, int32_t cutoff,
                              const struct prep_truth *truth)
{
    uint32_t *bp = hm_xmalloc_array((size_t)truth->n_users * RECALL_K + 1, sizeof *bp);
    uint8_t *bn = hm_xmalloc((size_t)truth->n_users + 1);
    struct eval_recall br = {0, 0};
    if (recall_baseline_predict(ds, RECALL_RECENT, &p->c.base, cutoff, truth->user, truth->n_users, bp, bn) == 0)
        for (uint32_t i = 0; i < truth->n_users; i++)
            eval_recall_add(&br, bp + (size_t)i * RECALL_K, bn[i], truth->items + truth->off[i],
                            truth->off[i + 1] - truth->off[i]);
    free(bp);
    free(bn);
    return br.total ? (double)br.hits / (double)br.total : 0;
}

static int write_text(const char *path, const char *text)
{
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    if (rc)
        return rc;
    hm_awriter_write(&w, text, strlen(text));
    return hm_awriter_commit(&w);
}

/* ---- the statistics as numbers (candidates_stats.tsv, read by the report) ------------------ */

static char *stats_tsv(const struct recall_stats *st)
{
    struct hm_buf b = {0};
    hm_buf_printf(&b, "# recall statistics of the validation week's pool: key <TAB> value\npool\t%u\nusers\t%llu\n"
                  "rows\t%llu\ntruth_users\t%llu\ntruth_pairs\t%llu\nhits\t%llu\n",
                  st->pool, (unsigned long long)st->users, (unsigned long long)st->rows,
                  (unsigned long long)st->truth_users, (unsigned long long)st->truth_pairs, (unsigned long long)st->hits);
    for (int s = 0; s < recall_n_strategies; s++)
        hm_buf_printf(&b, "strategy.%s\t%llu %llu %llu\n", recall_strategies[s]->name,
                      (unsigned long long)st->hits_strategy[s], (unsigned long long)st->unique[s],
                      (unsigned long long)st->strat_rows[s]);
    for (int z = 0; z < RECALL_NSIZES; z++)
        hm_buf_printf(&b, "size.%u\t%llu %llu\n", recall_stat_sizes[z], (unsigned long long)st->hits_size[z],
                      (unsigned long long)st->rows_size[z]);
    return hm_buf_take(&b);
}

int pipeline_candidates_stats(struct pipeline *p, struct recall_stats *st)
{
    memset(st, 0, sizeof *st);
    char *path = pipeline_path(p, "candidates_stats.tsv"), *text = NULL;
    int rc = hm_read_file(path, &text, NULL);
    if (rc) {
        free(path);
        return rc;
    }
    int line = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && !rc; l = strtok_r(NULL, "\n", &save)) {
        line++;
        char key[96];
        unsigned long long a = 0, b = 0, c = 0;
        if (l[0] == '#')
            continue;
        int n = sscanf(l, "%95s %llu %llu %llu", key, &a, &b, &c);
        if (n < 2) {
            rc = hm_error(HM_EFORMAT, "%s:%d: expected a key and numbers", path, line);
            break;
        }
        if (!strcmp(key, "pool"))
            st->pool = (uint32_t)a;
        else if (!strcmp(key, "users"))
            st->users = a;
        else if (!strcmp(key, "rows"))
            st->rows = a;
        else if (!strcmp(key, "truth_users"))
            st->truth_users = a;
        else if (!strcmp(key, "truth_pairs"))
            st->truth_pairs = a;
        else if (!strcmp(key, "hits"))
            st->hits = a;
        else if (!strncmp(key, "strategy.", 9)) {
            int s = recall_strategy_find(key + 9);
            if (s >= 0) { /* a strategy this build does not know is left out */
                st->hits_strategy[s] = a;
                st->unique[s] = b;
                st->strat_rows[s] = c;
            }
        } else if (!strncmp(key, "size.", 5)) {
            for (int z = 0; z < RECALL_NSIZES; z++)
                if ((unsigned)atoi(key + 5) == recall_stat_sizes[z]) {
                    st->hits_size[z] = a;
                    st->rows_size[z] = b;
                }
        }
    }
    free(text);
    free(path);
    return rc;
}

static const char *week_label(struct pipeline_week w, char *buf, size_t n)
{
    if (w.kind == PIPELINE_WEEK_TRAIN)
        snprintf(buf, n, "training week %d", w.index);
    else
        snprintf(buf, n, "%s week", w.kind == PIPELINE_WEEK_TEST ? "test" : "validation");
    return buf;
}

/* ---- one week -------------------------------------------------------------------------- */

/* The engine's inputs that do not depend on the week, borrowed from the pipeline (which loads
 * them once): the text embeddings when a strategy needs them, and the image embeddings of
 * features.image when one needs them and the file is configured. */
struct cand_inputs {
    const struct data_article_matrix *text;
    const struct feat_image *image;
};

static int strategy_needs(const struct pipeline *p, unsigned what)
{
    for (int s = 0; s < recall_n_strategies; s++)
        if ((recall_strategies[s]->needs & what) && recall_list_of(&p->c.recall, s)->n > 0)
            return 1;
    return 0;
}

static int load_inputs(struct pipeline *p, struct cand_inputs *in)
{
    memset(in, 0, sizeof *in);
    int need_text = strategy_needs(p, RECALL_NEEDS_TEXT), need_image = strategy_needs(p, RECALL_NEEDS_IMAGE);
    int rc = pipeline_inputs(p, need_text ? &in->text : NULL, need_image ? &in->image : NULL);
    if (!rc && in->image)
        hm_info("candidates: image embeddings %s (%u dimensions, %u articles without one)", p->c.feat.image,
                in->image->dim, in->image->n_missing);
    return rc;
}

struct recall_inputs pipeline_recall_inputs(const uint8_t *keep, const struct data_article_matrix *text,
                                            const struct feat_image *image)
{
    struct recall_inputs in = {.keep = keep};
    if (text) {
        in.text_emb = text->x;
        in.text_dim = text->dim;
    }
    if (image) {
        in.image_emb = image->emb;
        in.image_missing = image->missing;
        in.image_dim = image->dim;
    }
    return in;
}

static int candidates_week(struct pipeline *p, const struct pipeline_cand_opts *o,
                           const struct cand_inputs *ci)
{
    int64_t t0 = hm_now_ns();
    uint64_t rss0 = hm_peak_rss();
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    struct prep_week week;
    if (rc || (rc = pipeline_week_days(p, o->week, &week)) != 0)
        return rc;
    int32_t cutoff = week.start, start = prep_history_start(ds, &p->c.prep, cutoff);
    struct prep_items items;
    if ((rc = prep_items_filter(&items, ds, start, cutoff, p->c.prep.min_item_purchases)) != 0)
        return rc;
    struct prep_truth truth;
    if ((rc = prep_truth_build(&truth, ds, week)) != 0) {
        prep_items_release(&items);
        return rc;
    }
    uint32_t *users = NULL, n_users = 0;
    rc = week_users(p, ds, o->users, &truth, &users, &n_users);
    if (!rc && o->share > 0 && o->share < 1) {
        uint32_t m = 0;
        for (uint32_t i = 0; i < n_users; i++)
            if ((double)(hm_mix64(users[i] ^ 0x5a3e1b2c4d6f7a8bULL) >> 11) * 0x1.0p-53 < o->share)
                users[m++] = users[i];
        n_users = m;
    }
    char day[11], label[32];
    hm_date_format(cutoff, day);
    week_label(o->week, label, sizeof label);
    if (!rc)
        hm_report("candidates: %s, cutoff %s, %u customers, %u articles in the universe", label, day, n_users,
                  items.n);
    struct recall_engine e;
    memset(&e, 0, sizeof e);
    struct recall_inputs in = pipeline_recall_inputs(items.keep, ci->text, ci->image);
    int64_t t1 = hm_now_ns();
    if (!rc)
        rc = recall_engine_init(&e, ds, &p->c.recall, start, cutoff, &in);
    double s_init = hm_seconds_since(t1);
    uint32_t pool = (uint32_t)p->c.recall.pool;
    struct recall_stats st;
    memset(&st, 0, sizeof st);
    st.pool = pool;
    struct recall_candidates all;
    recall_candidates_init(&all);
    struct ref_job ref;
    memset(&ref, 0, sizeof ref);
    struct ref_stats rs;
    memset(&rs, 0, sizeof rs);
    if (!rc && o->stats && o->reference) {
        data_id_index_init(&ref.ix, ds);
        ref.pred = hm_xmalloc_array((size_t)ds->customers.n * RECALL_K + 1, sizeof *ref.pred);
        ref.npred = hm_xcalloc((size_t)ds->customers.n + 1, 1);
        rc = io_submission_read(o->reference, RECALL_K, ref_row, &ref);
    }
    /* statistics need each customer's whole union (recall at 200 > pool) */
    int64_t t2 = hm_now_ns();
    struct hm_progress prog;
    hm_progress_begin(&prog, "candidates", n_users);
    struct recall_cut_ctx *cut_ctx = NULL;
    struct recall_cut cut;
    if (!rc && p->c.recall.wide > 0 && o->week.kind == PIPELINE_WEEK_TRAIN && o->week.index >= pipeline_cut_week(p))
        rc = hm_error(HM_EINVAL, "training week %d: the two-stage scorer learns from week %d (recall.cut_week), "
                                 "which must be earlier than every week it cuts", o->week.index, pipeline_cut_week(p));
    if (!rc)
        rc = pipeline_cut_begin(p, &e, &cut_ctx, &cut);
    if (!rc) {
        struct recall_stream stream;
        recall_stream_init_cut(&stream, &e, users, n_users, o->block, o->stats ? 0 : pool, &cut, &prog);
        const struct recall_candidates *c;
        while ((rc = recall_stream_next(&stream, &c)) > 0) {
            if (o->stats)
                recall_stats_add(&st, c, &truth);
            if (ref.pred)
                ref_add(&rs, &ref, c, &truth, pool);
            if (o->write)
                recall_candidates_append(&all, c, pool);
            hm_fault_point("block");
        }
        recall_stream_release(&stream);
    }
    recall_cut_end(&cut_ctx);
    hm_progress_end(&prog);
    double s_build = hm_seconds_since(t2);
    if (!rc) {
        struct hm_buf b = {0};
        hm_buf_printf(&b, "candidates: strategies' shared state in %.1fs (window %.2fs, style topics %.2fs", s_init,
                      e.seconds_window, e.seconds_style);
        for (int s = 0; s < recall_n_strategies; s++)
            if (e.seconds_init[s] > 0)
                hm_buf_printf(&b, ", %s %.2fs", recall_strategies[s]->name, e.seconds_init[s]);
        hm_buf_printf(&b, "); per-customer lists and merge%s in %.1fs",
                      cut.wide ? " (wide pool, learned cut)" : "", s_build);
        hm_report("%s", b.s);
        hm_buf_release(&b);
    }
    if (e.ds)
        recall_engine_release(&e);
    if (!rc && o->write) {
        char *path = o->path ? hm_xstrdup(o->path) : pipeline_candidates_path(p, o->week);
        if ((rc = hm_mkdirs(p->work)) == 0 && (rc = recall_candidates_write(&all, pool, path)) == 0)
            hm_report("candidates: wrote %s (%llu rows, %u customers)", path, (unsigned long long)all.n,
                      all.n_users);
        free(path);
    }
    if (!rc && o->stats) {
        if (truth.n_users == 0) {
            hm_report("candidates: the week has no purchases, no recall to report");
        } else {
            char *text_stats = recall_stats_format(&st), *svg = recall_stats_svg(&st);
            char a[11], z[11];
            hm_date_format(week.start, a);
            hm_date_format(week.end, z);
            struct hm_buf full = {0};
            hm_buf_printf(&full, "candidate recall for the week %s .. %s\n%s", a, z, text_stats);
            hm_buf_printf(&full, "baseline 'recent' (own purchases, then popular; 12 per customer): recall %.4f\n",
                          baseline_recall(p, ds, cutoff, &truth));
            if (ref.pred) {
                char *r = ref_format(&rs, o->reference, pool);
                hm_buf_puts(&full, r);
                free(r);
            }
            hm_report("%.*s", (int)(full.len && full.s[full.len - 1] == '\n' ? full.len - 1 : full.len), full.s);
            char *tp = pipeline_path(p, "candidates_stats.txt"), *sp = pipeline_path(p, "candidates_recall.svg");
            char *kp = pipeline_path(p, "candidates_stats.tsv"), *kv = stats_tsv(&st);
            if ((rc = hm_mkdirs(p->work)) == 0 && (rc = write_text(tp, full.s)) == 0 && (rc = write_text(sp, svg)) == 0 &&
                (rc = write_text(kp, kv)) == 0)
                hm_report("candidates: wrote %s and %s", tp, sp);
            free(tp);
            free(sp);
            free(kp);
            free(kv);
            hm_buf_release(&full);
            free(text_stats);
            free(svg);
        }
    }
    if (!rc)
        hm_report("candidates: %.1fs in all, peak RSS %.0f MiB (%.0f MiB before)", hm_seconds_since(t0),
                  mib(hm_peak_rss()), mib(rss0));
    recall_candidates_release(&all);
    if (ref.pred)
        data_id_index_release(&ref.ix);
    free(ref.pred);
    free(ref.npred);
    free(users);
    prep_truth_release(&truth);
    prep_items_release(&items);
    return rc;
}

/* The two-stage scorer, trained once with the week's engine inputs (nothing when
 * recall.wide is 0). */
static int train_cut(struct pipeline *p, const struct cand_inputs *ci)
{
    struct recall_inputs in = pipeline_recall_inputs(NULL, ci->text, ci->image);
    return pipeline_cut_train(p, &in);
}

int pipeline_candidates(struct pipeline *p, const struct pipeline_cand_opts *o)
{
    struct cand_inputs in;
    int rc = pipeline_lock(p); /* it reads (and may write) the work directory's artifacts */
    if (!rc)
        rc = load_inputs(p, &in);
    if (!rc)
        rc = train_cut(p, &in);
    if (!rc)
        rc = candidates_week(p, o, &in);
    return rc;
}

int pipeline_candidates_stage(struct pipeline *p)
{
    struct cand_inputs in;
    int rc = load_inputs(p, &in);
    if (!rc)
        rc = train_cut(p, &in);
    /* the validation week's buyers: the customers every model is scored on (statistics count
     * them only anyway); with prepare.users = all the sample is everyone, too many to write */
    struct pipeline_cand_opts o = {.week = {PIPELINE_WEEK_VALIDATION, 0}, .users = PIPELINE_USERS_BUYERS,
                                   .stats = 1, .write = 1};
    if (!rc)
        rc = candidates_week(p, &o, &in);
    if (!rc)
        rc = pipeline_labels_check(p);
    if (!rc && pipeline_reference_labels(p)) {
        /* the reference labelling: the sample's other customers as of the validation cutoff */
        char *path = pipeline_candidates_reference_path(p);
        struct pipeline_cand_opts r = {.week = {PIPELINE_WEEK_VALIDATION, 0}, .users = PIPELINE_USERS_SAMPLE_ONLY,
                                       .write = 1, .path = path};
        rc = candidates_week(p, &r, &in);
        free(path);
    }
    for (long i = 1; i <= p->c.prep.train_weeks && !rc && !pipeline_reference_labels(p); i++) {
        struct pipeline_cand_opts t = {.week = {PIPELINE_WEEK_TRAIN, (int)i}, .users = PIPELINE_USERS_TRAINING,
                                       .write = 1};
        rc = candidates_week(p, &t, &in);
    }
    return rc;
}
