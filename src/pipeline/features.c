/* Stage 3's driver: the training set. For each training week, the candidates of its buyers
 * (Stage 2's candidates_train_<i>.hmt) are labelled with what each customer bought that week,
 * split into training and held-out customers, the training customers' negatives are
 * down-sampled, and the features of the kept rows are computed as of the week's cutoff and
 * written: features_train_<i>.hmt (down-sampled) and features_holdout_<i>.hmt (every row of
 * the held-out buyers, for early stopping on their full lists). Labels are not stored: they
 * are the week's purchases, recomputed from the store by whoever reads the tables. */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

char *pipeline_features_path(const struct pipeline *p, int week, int holdout)
{
    char name[64];
    snprintf(name, sizeof name, "features_%s_%d.hmt", holdout ? "holdout" : "train", week);
    return pipeline_path(p, name);
}

/* ---- labels ----------------------------------------------------------------------------- */

/* A rank_data over a candidates block with its labels (no feature matrix yet). */
static void keys_view(struct rank_data *d, const struct recall_candidates *c, const float *label,
                      const uint32_t *group_truth)
{
    memset(d, 0, sizeof *d);
    d->n_rows = c->n;
    d->n_groups = c->n_users;
    d->group_off = c->off;
    d->group_user = c->user;
    d->group_truth = group_truth;
    d->item = c->item;
    d->label = label;
}

/* ---- one training week -------------------------------------------------------------------- */

/* Keeps the customers of c that are in the prepare sample (the training population; the
 * validation week's pool holds every buyer). */
static int keep_sample(struct pipeline *p, const struct data_set *ds, struct recall_candidates *c)
{
    struct prep_week val;
    int rc = pipeline_week_days(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0}, &val);
    struct prep_sample s;
    if (rc || (rc = prep_sample_draw(&s, ds, &p->c.prep, val.start)) != 0)
        return rc;
    uint8_t *keep = hm_xcalloc(c->n + 1, 1);
    for (uint32_t i = 0, k = 0; i < c->n_users; i++) {
        while (k < s.n && s.user[k] < c->user[i])
            k++;
        if (k < s.n && s.user[k] == c->user[i])
            memset(keep + c->off[i], 1, c->off[i + 1] - c->off[i]);
    }
    struct recall_candidates kept;
    recall_candidates_init(&kept);
    recall_candidates_subset(&kept, c, keep);
    free(keep);
    prep_sample_release(&s);
    recall_candidates_release(c);
    *c = kept;
    return 0;
}

int pipeline_label_days(struct pipeline *p, int w, struct prep_week *cutoff_week, struct prep_week *labels)
{
    int rc;
    if (!pipeline_reference_labels(p)) {
        if ((rc = pipeline_week_days(p, pipeline_train_week(w), cutoff_week)) == 0)
            *labels = *cutoff_week;
        return rc;
    }
    /* the reference labelling: purchases of the training weeks, which the features' history
     * (everything before the validation cutoff) also holds */
    if ((rc = pipeline_week_days(p, (struct pipeline_week){PIPELINE_WEEK_VALIDATION, 0}, cutoff_week)) != 0)
        return rc;
    labels->start = cutoff_week->start - 7 * (int32_t)p->c.prep.train_weeks;
    labels->end = cutoff_week->start - 1;
    return 0;
}

int pipeline_features_week(struct pipeline *p, int w, const struct feat_inputs *in, struct hm_buf *summary)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    struct pipeline_week week = pipeline_train_week(w);
    struct prep_week days, label_days;
    if (rc || (rc = pipeline_label_days(p, w, &days, &label_days)) != 0)
        return rc;
    char *cpath = pipeline_reference_labels(p) ? pipeline_candidates_reference_path(p) : pipeline_candidates_path(p, week);
    struct recall_candidates c;
    rc = recall_candidates_read(&c, cpath);
    free(cpath);
    if (rc)
        return rc;
    if (w == 0 && p->c.prep.users >= 0 && (rc = keep_sample(p, ds, &c)) != 0) {
        recall_candidates_release(&c);
        return rc;
    }
    struct prep_truth truth;
    if ((rc = prep_truth_build(&truth, ds, label_days)) != 0) {
        recall_candidates_release(&c);
        return rc;
    }
    float *label = hm_xmalloc_array(c.n + 1, sizeof *label);
    uint32_t *gtruth = hm_xmalloc_array((size_t)c.n_users + 1, sizeof *gtruth);
    rank_label(&truth, c.n_users, c.off, c.user, c.item, label, gtruth);
    struct rank_data keys;
    keys_view(&keys, &c, label, gtruth);
    /* held-out customers keep every row (when they bought); the others keep their positives and
     * a sample of their negatives */
    struct rank_sample_params sp;
    rank_model_sample_params(&p->c.models, &sp);
    uint8_t *held = hm_xcalloc((size_t)c.n_users + 1, 1);
    uint8_t *keep = hm_xcalloc(c.n + 1, 1), *use = hm_xcalloc((size_t)c.n_users + 1, 1);
    rank_split(&keys, sp.holdout, sp.seed + (uint64_t)w, held);
    for (uint32_t i = 0; i < c.n_users; i++)
        use[i] = !held[i];
    uint64_t kept = rank_downsample(&keys, use, sp.neg_share, sp.seed + (uint64_t)w, keep);
    /* the held-out buyers whose full lists early stopping scores: at most this week's share of
     * rank.holdout_max (their lists are large at scale), the first by a hash of the customer;
     * the others are used for neither */
    long weeks = pipeline_reference_labels(p) ? 1 : p->c.prep.train_weeks;
    uint64_t budget = p->c.rank.holdout_max > 0 ? (uint64_t)((p->c.rank.holdout_max + weeks - 1) / weeks) : UINT64_MAX;
    uint64_t n_scored = 0;
    for (uint32_t i = 0; i < c.n_users; i++)
        n_scored += held[i] && gtruth[i] > 0;
    uint64_t *order = hm_xmalloc_array(n_scored + 1, sizeof *order), m = 0;
    for (uint32_t i = 0; i < c.n_users; i++)
        if (held[i] && gtruth[i] > 0)
            order[m++] = (hm_mix64(sp.seed ^ ((uint64_t)w << 40) ^ c.user[i]) & ~(uint64_t)0xffffffff) | i;
    hm_sort_u64(order, m);
    uint8_t *use_held = hm_xcalloc((size_t)c.n_users + 1, 1);
    for (uint64_t k = 0; k < m && k < budget; k++)
        use_held[(uint32_t)order[k]] = 1;
    free(order);
    uint8_t *keep_held = hm_xcalloc(c.n + 1, 1);
    uint64_t n_pos = 0, n_held = 0;
    for (uint32_t i = 0; i < c.n_users; i++)
        for (uint64_t r = c.off[i]; r < c.off[i + 1]; r++) {
            keep_held[r] = use_held[i];
            n_held += keep_held[r];
            n_pos += keep[r] && label[r] > 0;
        }
    free(use_held);
    struct recall_candidates tr, ho;
    recall_candidates_init(&tr);
    recall_candidates_init(&ho);
    recall_candidates_subset(&tr, &c, keep);
    recall_candidates_subset(&ho, &c, keep_held);
    /* features of the customers' whole lists (a feature may depend on the list, e.g. the
     * position in it), then the kept rows gathered: the rows a model learns from are exactly
     * those it will score later */
    struct feat_ctx ctx;
    uint32_t nc = feat_n_cols();
    float *xt = hm_xmalloc_array(tr.n * nc + 1, sizeof *xt), *xh = hm_xmalloc_array(ho.n * nc + 1, sizeof *xh);
    if ((rc = feat_ctx_init(&ctx, in, days.start, &p->c.feat)) == 0) {
        uint32_t block = (uint32_t)p->c.rank.block;
        struct recall_candidates part;
        recall_candidates_init(&part);
        float *xb = NULL;
        uint64_t cap = 0, pt = 0, ph = 0;
        for (uint32_t i = 0; i < c.n_users && !rc; i += block) {
            uint32_t e = c.n_users - i < block ? c.n_users : i + block;
            recall_candidates_slice(&part, &c, i, e);
            HM_GROW(xb, cap, part.n * nc + 1);
            if ((rc = feat_block(&ctx, &part, xb)) != 0)
                break;
            for (uint64_t r = c.off[i]; r < c.off[e]; r++) {
                const float *src = xb + (r - c.off[i]) * nc;
                if (keep[r])
                    memcpy(xt + pt++ * nc, src, nc * sizeof *src);
                if (keep_held[r])
                    memcpy(xh + ph++ * nc, src, nc * sizeof *src);
            }
        }
        free(xb);
        recall_candidates_release(&part);
        feat_ctx_release(&ctx);
        if (!rc && (pt != tr.n || ph != ho.n))
            HM_BUG("features: gathered %llu + %llu rows for %llu + %llu", (unsigned long long)pt,
                   (unsigned long long)ph, (unsigned long long)tr.n, (unsigned long long)ho.n);
    }
    char *pt = pipeline_features_path(p, w, 0), *ph = pipeline_features_path(p, w, 1);
    if (!rc && (rc = feat_table_write(pt, &tr, xt)) == 0)
        rc = feat_table_write(ph, &ho, xh);
    if (!rc) {
        char a[11];
        hm_date_format(days.start, a);
        hm_buf_printf(summary, "  week %2d (cutoff %s): %6u buyers, %9llu candidates -> train %8llu rows (%llu positive), "
                      "held out %8llu rows of %u buyers\n",
                      w, a, c.n_users, (unsigned long long)c.n, (unsigned long long)kept, (unsigned long long)n_pos,
                      (unsigned long long)n_held, ho.n_users);
    }
    free(pt);
    free(ph);
    free(xt);
    free(xh);
    recall_candidates_release(&tr);
    recall_candidates_release(&ho);
    free(held);
    free(keep);
    free(use);
    free(keep_held);
    free(label);
    free(gtruth);
    prep_truth_release(&truth);
    recall_candidates_release(&c);
    return rc;
}

int pipeline_features_stage(struct pipeline *p)
{
    const struct data_article_matrix *text;
    const struct feat_image *image;
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc || (rc = pipeline_inputs(p, &text, &image)) != 0)
        return rc;
    if ((rc = rank_model_params_check(&p->c.models)) != 0)
        return rc;
    struct feat_inputs in = {.ds = ds, .text = text->x, .text_rows = ds->articles.n, .text_dim = text->dim,
                             .image = image};
    struct hm_buf summary = {0};
    int64_t t0 = hm_now_ns();
    struct hm_progress prog;
    hm_progress_begin(&prog, "features", (uint64_t)p->c.prep.train_weeks);
    if (!rc)
        rc = pipeline_labels_check(p);
    /* the reference labelling has one set (its "week 1"), the weekly one a set per week */
    long weeks = pipeline_reference_labels(p) ? 1 : p->c.prep.train_weeks;
    for (long w = 1; w <= weeks && !rc; w++) {
        rc = pipeline_features_week(p, (int)w, &in, &summary);
        hm_progress_add(&prog, 1);
    }
    hm_progress_end(&prog);
    if (!rc)
        hm_report("features: %u columns (%u user, %u item), image embeddings %s; %s in %.1fs\n%.*s",
                  feat_n_cols(), FEAT_NUSER, FEAT_NITEM, image ? p->c.feat.image : "none (image features imputed)",
                  pipeline_reference_labels(p) ? "the reference labelling (labels: the training weeks' purchases)"
                                               : "the training weeks",
                  hm_seconds_since(t0),
                  (int)(summary.len && summary.s[summary.len - 1] == '\n' ? summary.len - 1 : summary.len),
                  summary.s ? summary.s : "");
    hm_buf_release(&summary);
    return rc;
}

/* ---- the wide CSV view ------------------------------------------------------------------------ */

int pipeline_features_export(struct pipeline *p, struct pipeline_week week, uint32_t n_users, const char *path)
{
    const struct data_set *ds;
    const struct data_article_matrix *text;
    const struct feat_image *image;
    struct prep_week days;
    int rc = pipeline_data(p, &ds);
    if (rc || (rc = pipeline_inputs(p, &text, &image)) != 0 || (rc = pipeline_week_days(p, week, &days)) != 0)
        return rc;
    int32_t cutoff = days.start, start = prep_history_start(ds, &p->c.prep, cutoff);
    /* the week's first buyers (every customer for the week after the data, which has none) */
    struct prep_truth truth;
    if ((rc = prep_truth_build(&truth, ds, days)) != 0)
        return rc;
    uint32_t *users = hm_xmalloc_array((size_t)n_users + 1, sizeof *users), n = 0;
    if (truth.n_users)
        for (; n < n_users && n < truth.n_users; n++)
            users[n] = truth.user[n];
    else
        for (; n < n_users && n < ds->customers.n; n++)
            users[n] = n;
    prep_truth_release(&truth);
    struct prep_items items;
    struct recall_engine e;
    struct recall_candidates c;
    struct feat_ctx ctx;
    memset(&e, 0, sizeof e);
    recall_candidates_init(&c);
    if ((rc = prep_items_filter(&items, ds, start, cutoff, p->c.prep.min_item_purchases)) == 0) {
        struct recall_inputs in = pipeline_recall_inputs(items.keep, text, image);
        struct recall_cut_ctx *cut_ctx = NULL;
        struct recall_cut cut;
        if ((rc = recall_engine_init(&e, ds, &p->c.recall, start, cutoff, &in)) == 0 &&
            (rc = pipeline_cut_load(p)) == 0 && (rc = pipeline_cut_begin(p, &e, &cut_ctx, &cut)) == 0) {
            /* the pool as the candidates stage makes it (with the learned cut when configured) */
            struct recall_stream st;
            recall_stream_init_cut(&st, &e, users, n, 0, (uint32_t)p->c.recall.pool, &cut, NULL);
            const struct recall_candidates *b;
            while ((rc = recall_stream_next(&st, &b)) > 0)
                recall_candidates_append(&c, b, 0);
            recall_stream_release(&st);
        }
        recall_cut_end(&cut_ctx);
        if (!rc) {
            struct feat_inputs fin = {.ds = ds, .text = text->x, .text_rows = ds->articles.n,
                                      .text_dim = text->dim, .image = image};
            if ((rc = feat_ctx_init(&ctx, &fin, cutoff, &p->c.feat)) == 0) {
                rc = feat_export_csv(&ctx, &c, NULL, path);
                feat_ctx_release(&ctx);
            }
        }
        if (e.ds)
            recall_engine_release(&e);
        prep_items_release(&items);
    }
    if (!rc) {
        char day[11];
        hm_date_format(cutoff, day);
        hm_report("features: wrote %s: %llu rows (the candidates of %u customers as of %s), %u features%s", path,
                  (unsigned long long)c.n, c.n_users, day, feat_n_cols(),
                  image ? " and the 512 image dimensions" : "");
    }
    recall_candidates_release(&c);
    free(users);
    return rc;
}
