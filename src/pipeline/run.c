/* A run over a work directory: the lazily opened store, stage fingerprints and records, the
 * decision to run or skip a stage (and why), and the loop over the stage table. */
#include "pipeline/pipeline.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pipeline_init(struct pipeline *p, const struct pipeline_config *c)
{
    memset(p, 0, sizeof *p);
    p->c = *c;
    p->work = hm_xstrdup(c->run.work);
    p->store = c->run.store[0] ? hm_xstrdup(c->run.store) : hm_path_join(c->run.work, "store");
    p->lock.fd = p->store_lock.fd = -1;
}

int pipeline_inputs(struct pipeline *p, const struct data_article_matrix **text,
                    const struct feat_image **image)
{
    int rc = 0;
    if (text && !p->text_loaded) {
        if ((rc = pipeline_require(p, "text")) != 0 || (rc = pipeline_text_load(p, &p->text)) != 0)
            return rc;
        p->text_loaded = 1;
    }
    if (image && !p->image_loaded && p->c.feat.image[0]) {
        const struct data_set *ds = NULL;
        if ((rc = pipeline_data(p, &ds)) != 0 ||
            (rc = feat_image_load(&p->image, ds, p->c.feat.image, FEAT_IMAGE_DIM)) != 0)
            return rc;
        p->image_loaded = 1;
        if (p->image.n_missing)
            hm_info("image embeddings: %u of %u articles have none (imputed)", p->image.n_missing,
                    p->image.n_articles);
    }
    if (text)
        *text = &p->text;
    if (image)
        *image = p->image_loaded ? &p->image : NULL;
    return 0;
}

void pipeline_release(struct pipeline *p)
{
    if (p->text_loaded)
        data_article_matrix_release(&p->text);
    if (p->image_loaded)
        feat_image_release(&p->image);
    recall_cut_free(&p->cut);
    if (p->ds_open)
        data_set_release(&p->ds);
    hm_lock_release(&p->store_lock);
    hm_lock_release(&p->lock);
    free(p->work);
    free(p->store);
    memset(p, 0, sizeof *p);
}

int pipeline_data(struct pipeline *p, const struct data_set **ds)
{
    if (!p->ds_open) {
        int rc = data_set_open(&p->ds, p->store, 0);
        if (rc)
            return p->c.run.data[0] ? rc : hm_error_wrap(rc, "run.data is empty and the store cannot be opened");
        p->ds_open = 1;
    }
    *ds = &p->ds;
    return 0;
}

char *pipeline_path(const struct pipeline *p, const char *name)
{
    return hm_path_join(p->work, name);
}

char *pipeline_submission_path(const struct pipeline *p)
{
    return p->c.run.submission[0] ? hm_xstrdup(p->c.run.submission) : pipeline_path(p, "submission.csv.gz");
}

int pipeline_stage_find(const char *name)
{
    for (int i = 0; i < pipeline_n_stages; i++)
        if (!strcmp(pipeline_stages[i].name, name))
            return i;
    return -1;
}

/* ---- fingerprints and records ----------------------------------------------------------- */

/* What the fingerprint of a stage is made of, as the lines of its record: "input NAME FP"
 * for every dependency, "external FP" for outside inputs, then its settings' text. */
struct stage_inputs {
    uint64_t fp;
    struct hm_buf record;
};

static int stage_output_fp(struct pipeline *p, int i, uint64_t *fp);

static int stage_inputs(struct pipeline *p, int i, struct stage_inputs *in)
{
    const struct pipeline_stage *st = &pipeline_stages[i];
    memset(in, 0, sizeof *in);
    uint64_t h = 0x5eed;
    int first = 1;
    if (st->version > 1) {
        uint64_t v = (uint64_t)st->version;
        h = hm_hash64(&v, sizeof v, h);
        hm_buf_printf(&in->record, "version %d\n", st->version);
        first = 0;
    }
    if (st->external) {
        h = st->external(p);
        hm_buf_printf(&in->record, "external %016llx\n", (unsigned long long)h);
        first = 0;
    }
    for (int d = 0; st->deps && st->deps[d]; d++) {
        int k = pipeline_stage_find(st->deps[d]);
        if (k < 0 || k >= i)
            HM_BUG("stage %s depends on '%s', which is not an earlier stage", st->name, st->deps[d]);
        uint64_t f;
        int rc = stage_output_fp(p, k, &f);
        if (rc) {
            hm_buf_release(&in->record);
            return rc;
        }
        /* one input alone is the seed itself: a stage with one input and its settings keeps
         * its fingerprint across versions that only add inputs elsewhere */
        h = first ? f : hm_hash64(&f, sizeof f, h);
        first = 0;
        hm_buf_printf(&in->record, "input %s %016llx\n", st->deps[d], (unsigned long long)f);
    }
    for (int s = 0; st->settings && st->settings[s]; s++) {
        char *text = pipeline_config_text(&p->c, st->settings[s]);
        h = hm_hash64(text, strlen(text), h);
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
            hm_buf_printf(&in->record, "setting %s\n", line);
        free(text);
    }
    in->fp = h;
    return 0;
}

int pipeline_fingerprint(struct pipeline *p, int i, uint64_t *fp)
{
    if (p->fp_known[i]) {
        *fp = p->fp[i];
        return 0;
    }
    struct stage_inputs in;
    int rc = stage_inputs(p, i, &in);
    if (rc)
        return rc;
    hm_buf_release(&in.record);
    p->fp[i] = *fp = in.fp;
    p->fp_known[i] = 1;
    return 0;
}

static int stage_output_fp(struct pipeline *p, int i, uint64_t *fp)
{
    if (pipeline_stages[i].output_fp)
        return pipeline_stages[i].output_fp(p, fp);
    return pipeline_fingerprint(p, i, fp);
}

static char *record_path(const struct pipeline *p, const char *stage)
{
    char name[96];
    snprintf(name, sizeof name, "stages/%s.fp", stage);
    return pipeline_path(p, name);
}

/* The first line of a record while its stage runs. */
#define RECORD_UNFINISHED "unfinished"

static char *took_path(const struct pipeline *p, const char *stage)
{
    char name[96];
    snprintf(name, sizeof name, "stages/%s.took", stage);
    return pipeline_path(p, name);
}

/* How a record names an output: relative to the work directory when inside it (the same
 * records wherever the directory is), else its absolute path. Malloc'ed. */
static char *output_name(const struct pipeline *p, const char *path)
{
    size_t n = strlen(p->work);
    while (n > 1 && p->work[n - 1] == '/')
        n--;
    if (!strncmp(path, p->work, n) && path[n] == '/')
        return hm_xstrdup(path + n + 1);
    if (path[0] == '/')
        return hm_xstrdup(path);
    char cwd[4096];
    return getcwd(cwd, sizeof cwd) ? hm_path_join(cwd, path) : hm_xstrdup(path);
}

/* A record's "output NAME BYTES CHECKSUM" line at l (n bytes): the name's length, and the
 * numbers; 0 when l is not such a line. */
static int output_line(const char *l, size_t n, size_t *name_len, unsigned long long *size,
                       unsigned long long *sum)
{
    if (n < 8 || strncmp(l, "output ", 7))
        return 0;
    char tail[64];
    size_t k = n, spaces = 0;
    while (k > 7 && spaces < 2)
        spaces += l[--k] == ' ';
    if (spaces < 2 || k <= 7 || n - k >= sizeof tail)
        return 0;
    memcpy(tail, l + k, n - k);
    tail[n - k] = '\0';
    char end;
    if (sscanf(tail, " %llu %llx%c", size, sum, &end) != 2)
        return 0;
    *name_len = k - 7;
    return 1;
}

/* The line after l in a NUL-terminated text, or NULL; *n gets l's length. */
static const char *line_next(const char *l, size_t *n)
{
    const char *e = strchr(l, '\n');
    *n = e ? (size_t)(e - l) : strlen(l);
    return e ? e + 1 : NULL;
}

/* A file's size and checksum (hm_hash64 of its bytes). */
static int output_sum(const char *path, uint64_t *size, uint64_t *sum)
{
    struct hm_map m;
    int rc = hm_map_file(&m, path);
    if (rc)
        return rc;
    *size = m.size;
    *sum = hm_hash64(m.size ? m.data : (const uint8_t *)"", m.size, 0x6f7574);
    hm_map_release(&m);
    return 0;
}

/* What the stage may have written in this work directory, as "pending NAME" lines: the
 * outputs its record names (finished or not: an unfinished record keeps the list), and what
 * it is about to write (out). Malloc'ed. */
static char *pending_outputs(const struct pipeline *p, const char *stage, char **out)
{
    char *path = record_path(p, stage), *text = NULL;
    struct hm_buf b = {0};
    hm_buf_puts(&b, "");
    if (hm_read_file(path, &text, NULL) == 0) {
        size_t n, nl;
        unsigned long long size, sum;
        for (const char *l = text, *next; l && *l; l = next) {
            next = line_next(l, &n);
            if (output_line(l, n, &nl, &size, &sum))
                hm_buf_printf(&b, "pending %.*s\n", (int)nl, l + 7);
            else if (!strncmp(l, "pending ", 8))
                hm_buf_printf(&b, "%.*s\n", (int)n, l);
        }
        free(text);
    }
    hm_clear_error();
    for (int k = 0; out && out[k]; k++) {
        char *name = output_name(p, out[k]);
        char *line = hm_xasprintf("pending %s\n", name);
        if (!strstr(b.s, line))
            hm_buf_puts(&b, line);
        free(line);
        free(name);
    }
    free(path);
    return hm_buf_take(&b);
}

/* Before a stage writes anything: its record says it has not finished, so that outputs half
 * rewritten by a run that is killed, or that fails, are never taken as up to date, whatever
 * the settings are on the next run. It lists what the stage may have written (pending), for
 * the run that finishes it. */
static int mark_unfinished(const struct pipeline *p, const char *stage, const char *pending)
{
    char *dir = pipeline_path(p, "stages"), *path = record_path(p, stage);
    struct hm_buf b = {0};
    hm_buf_printf(&b, RECORD_UNFINISHED "\n# the stage started and has not finished: its outputs may be "
                                        "half-written; the files it may have written:\n%s", pending);
    int rc = hm_mkdirs(dir);
    if (!rc)
        rc = hm_write_file(path, b.s, b.len);
    hm_buf_release(&b);
    free(dir);
    free(path);
    return rc;
}

/* Removes the files inside the work directory that the stage may have written before
 * (pending) and this run did not (out): a training week, a model no longer asked for, one
 * that a killed run of other settings wrote. They are hmrec's own (its records name them);
 * nothing outside the work directory is touched (an earlier submission file stays). */
static int remove_dropped_outputs(const struct pipeline *p, char **out, const char *pending)
{
    size_t n;
    int rc = 0;
    for (const char *l = pending, *next; l && *l && !rc; l = next) {
        next = line_next(l, &n);
        if (n <= 8 || strncmp(l, "pending ", 8) || l[8] == '/')
            continue;
        char *name = hm_xasprintf("%.*s", (int)(n - 8), l + 8);
        int kept = strstr(name, "..") != NULL;
        for (int k = 0; out && out[k] && !kept; k++) {
            char *o = output_name(p, out[k]);
            kept = !strcmp(o, name);
            free(o);
        }
        if (!kept) {
            char *path = pipeline_path(p, name);
            if (unlink(path) == 0)
                hm_info("removed %s: the stage no longer writes it", path);
            else if (errno != ENOENT)
                rc = hm_error(HM_EIO, "could not remove '%s': %s", path, strerror(errno));
            free(path);
        }
        free(name);
    }
    return rc;
}

/* What the stage has just written, recorded after everything else (deterministic: the same
 * inputs give the same bytes): its fingerprint, what it was made of and the size and
 * checksum of every output; and beside it what the run took (wall seconds, the process's
 * peak resident bytes at its end). Files it may have written before and did not now go first. */
static int write_record(const struct pipeline *p, int i, const struct stage_inputs *in, const char *pending,
                        double seconds, uint64_t peak_rss)
{
    const struct pipeline_stage *st = &pipeline_stages[i];
    char *path = record_path(p, st->name), *tp = took_path(p, st->name);
    char text[96];
    int n = snprintf(text, sizeof text, "%.3f %llu\n", seconds, (unsigned long long)peak_rss);
    int rc = hm_write_file(tp, text, (size_t)n);
    free(tp);
    struct hm_buf b = {0};
    hm_buf_printf(&b, "%016llx\n# the inputs and settings this fingerprint was made of\n%s",
                  (unsigned long long)in->fp, in->record.s ? in->record.s : "");
    hm_buf_puts(&b, "# what the stage wrote: file, bytes, checksum\n");
    char **out = st->outputs ? st->outputs(p) : NULL;
    for (int k = 0; out && out[k] && !rc; k++) {
        uint64_t size, sum;
        if ((rc = output_sum(out[k], &size, &sum)) != 0) {
            hm_error_wrap(rc, "stage %s: an output it should have written", st->name);
        } else {
            char *name = output_name(p, out[k]);
            hm_buf_printf(&b, "output %s %llu %016llx\n", name, (unsigned long long)size, (unsigned long long)sum);
            free(name);
        }
    }
    if (!rc)
        rc = remove_dropped_outputs(p, out, pending);
    for (int k = 0; out && out[k]; k++)
        free(out[k]);
    free(out);
    if (!rc)
        rc = hm_write_file(path, b.s, b.len);
    hm_buf_release(&b);
    free(path);
    return rc;
}

/* Checks every output against the record: 1 when each is there with the size and checksum the
 * stage recorded; else 0 with the first difference in why. */
static int outputs_intact(const struct pipeline *p, const struct pipeline_stage *st, const char *record,
                          struct hm_buf *why)
{
    if (!st->outputs)
        return 1;
    char **out = st->outputs(p);
    int ok = 1;
    for (int k = 0; out[k] && ok; k++) {
        char *name = output_name(p, out[k]);
        size_t nl = strlen(name), n, ln;
        unsigned long long rsize = 0, rsum = 0;
        int listed = 0;
        for (const char *l = record, *next; l && *l && !listed; l = next) {
            next = line_next(l, &n);
            listed = output_line(l, n, &ln, &rsize, &rsum) && ln == nl && !strncmp(l + 7, name, nl);
        }
        uint64_t size, sum;
        if (access(out[k], F_OK) != 0) {
            ok = 0;
            hm_buf_printf(why, "%s is missing", out[k]);
        } else if (!listed) {
            ok = 0;
            hm_buf_printf(why, "its record has no checksum of %s (written by an earlier hmrec)", name);
        } else if (output_sum(out[k], &size, &sum) != 0) {
            ok = 0;
            hm_buf_printf(why, "%s cannot be read (%s)", out[k], hm_last_error());
            hm_clear_error();
        } else if (size != rsize) {
            ok = 0;
            hm_buf_printf(why, "%s is %llu bytes, not the %llu the stage wrote", out[k], (unsigned long long)size,
                          rsize);
        } else if (sum != rsum) {
            ok = 0;
            hm_buf_printf(why, "%s changed since the stage wrote it (checksum)", out[k]);
        }
        free(name);
    }
    for (int k = 0; out[k]; k++)
        free(out[k]);
    free(out);
    return ok;
}

/* The value of "KEY" in a record's "setting KEY = VALUE" lines, or NULL. */
static const char *record_setting(const char *record, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    for (const char *l = record; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "setting ", 8) || strncmp(l + 8, key, kl) || strncmp(l + 8 + kl, " = ", 3))
            continue;
        const char *v = l + 8 + kl + 3, *e = strchr(v, '\n');
        *len = e ? (size_t)(e - v) : strlen(v);
        return v;
    }
    return NULL;
}

/* 1 when the record text holds the line l (n bytes, without its newline). */
static int record_has_line(const char *text, const char *l, size_t n)
{
    for (const char *o = text; o && *o; o = strchr(o, '\n') ? strchr(o, '\n') + 1 : NULL)
        if (!strncmp(o, l, n) && (o[n] == '\n' || o[n] == '\0'))
            return 1;
    return 0;
}

/* The reasons a stage reruns, joined by "; ": the first REASONS_SHOWN, then how many more
 * (a new hmrec can change dozens of settings' defaults at once). */
enum { REASONS_SHOWN = 6 };
struct reasons {
    struct hm_buf *why;
    int n;
};

static void reason(struct reasons *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(struct reasons *r, const char *fmt, ...)
{
    if (r->n++ >= REASONS_SHOWN)
        return;
    if (r->n > 1)
        hm_buf_puts(r->why, "; ");
    va_list ap;
    va_start(ap, fmt);
    hm_buf_vprintf(r->why, fmt, ap);
    va_end(ap);
}

/* Appends to why what differs between an old record and the new one. */
static void explain_change(const char *old, const char *now, struct hm_buf *why)
{
    struct reasons r = {why, why->len > 0};
    for (const char *l = now; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        if (!strncmp(l, "setting ", 8)) {
            const char *eq = strstr(l, " = ");
            if (!eq || eq > l + n)
                continue;
            char key[160];
            snprintf(key, sizeof key, "%.*s", (int)(eq - l - 8), l + 8);
            size_t vl, ol;
            const char *v = eq + 3, *ov = record_setting(old, key, &ol);
            vl = n - (size_t)(v - l);
            if (!ov)
                reason(&r, "%s is new (%.*s)", key, (int)vl, v);
            else if (ol != vl || strncmp(ov, v, vl))
                reason(&r, "%s %.*s -> %.*s", key, (int)ol, ov,
                              (int)vl, v);
        } else if (!strncmp(l, "version ", 8)) {
            if (!record_has_line(old, l, n))
                reason(&r, "this hmrec writes version %.*s of its outputs", (int)(n - 8), l + 8);
        } else if (!strncmp(l, "input ", 6) || !strncmp(l, "external ", 9)) {
            /* the same line in the old record: unchanged */
            if (!record_has_line(old, l, n)) {
                if (l[0] == 'e')
                    reason(&r, "its input files changed");
                else
                    reason(&r, "%.*s changed", (int)(strchr(l + 6, ' ') - (l + 6)), l + 6);
            }
        }
    }
    /* settings the stage no longer has */
    for (const char *l = old; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "setting ", 8))
            continue;
        const char *eq = strstr(l, " = ");
        if (!eq)
            continue;
        char key[160];
        snprintf(key, sizeof key, "%.*s", (int)(eq - l - 8), l + 8);
        size_t vl;
        if (!record_setting(now, key, &vl))
            reason(&r, "%s is gone", key);
    }
    if (r.n > REASONS_SHOWN)
        hm_buf_printf(why, "; and %d more", r.n - REASONS_SHOWN);
}

/* 1 when the stage is up to date; else 0 with the reason in why. */
static int stage_fresh(struct pipeline *p, int i, const struct stage_inputs *in, struct hm_buf *why)
{
    const struct pipeline_stage *st = &pipeline_stages[i];
    char *path = record_path(p, st->name), *text = NULL;
    int have = hm_read_file(path, &text, NULL) == 0;
    hm_clear_error();
    free(path);
    if (!have) {
        hm_buf_puts(why, "not run yet in this work directory");
        return 0;
    }
    if (!strncmp(text, RECORD_UNFINISHED "\n", strlen(RECORD_UNFINISHED) + 1)) {
        hm_buf_puts(why, "its last run did not finish");
        free(text);
        return 0;
    }
    int fresh = strtoull(text, NULL, 16) == in->fp;
    const char *body = strchr(text, '\n');
    body = body ? body + 1 : "";
    if (!fresh) {
        if (!strstr(body, "setting ") && !strstr(body, "input ") && !strstr(body, "external "))
            hm_buf_puts(why, "recorded by an earlier version of hmrec, which did not record its "
                             "settings; running again");
        else
            explain_change(body, in->record.s ? in->record.s : "", why);
        if (!why->len)
            hm_buf_puts(why, "its fingerprint changed");
    }
    if (fresh)
        fresh = outputs_intact(p, st, body, why);
    free(text);
    return fresh;
}

int pipeline_stage_current(struct pipeline *p, const char *name, struct hm_buf *why)
{
    int i = pipeline_stage_find(name);
    if (i < 0)
        HM_BUG("no stage '%s'", name);
    struct stage_inputs in;
    int rc = stage_inputs(p, i, &in);
    if (rc)
        return rc;
    int fresh = stage_fresh(p, i, &in, why);
    hm_buf_release(&in.record);
    return fresh;
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* Removes what killed runs left half-written in the directories the locks cover: every
 * hmrec temporary in the work directory and its folders (and the store inside it); in a store
 * outside it that this run may write, its tables' temporaries; beside a submission outside it,
 * the submission's own. */
static int remove_temporaries(const struct pipeline *p)
{
    static const char *const store_names[] = {DATA_STORE_ARTICLES, DATA_STORE_CUSTOMERS, DATA_STORE_TRANSACTIONS,
                                              NULL};
    char *stages = pipeline_path(p, "stages"), *models = pipeline_path(p, "models"),
         *final = pipeline_path(p, "models/final"), *store = pipeline_path(p, "store");
    const char *dirs[] = {p->work, stages, models, final, store};
    int rc = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && !rc; i++)
        rc = hm_remove_temporaries(dirs[i], NULL, NULL, NULL);
    if (!rc && p->store_lock.exclusive)
        rc = hm_remove_temporaries(p->store, store_names, NULL, NULL);
    if (!rc && p->c.run.submission[0]) {
        char *sub = hm_xstrdup(p->c.run.submission), *base = hm_xstrdup(basename(sub));
        free(sub);
        sub = hm_xstrdup(p->c.run.submission);
        const char *names[] = {base, NULL};
        rc = hm_remove_temporaries(dirname(sub), names, NULL, NULL);
        free(sub);
        free(base);
    }
    free(stages);
    free(models);
    free(final);
    free(store);
    return rc;
}

int pipeline_lock(struct pipeline *p)
{
    if (p->locked)
        return 0;
    char *what = hm_xasprintf("the work directory %s", p->work);
    int rc = hm_lock_dir(&p->lock, p->work, 1, what);
    free(what);
    if (!rc && p->c.run.store[0]) {
        /* a store of its own place: runs that only read it (run.data empty) share it; a run
         * that may ingest into it needs it alone */
        int write = p->c.run.data[0] != 0;
        what = hm_xasprintf("the store %s", p->store);
        if ((rc = hm_lock_dir(&p->store_lock, p->store, write, what)) != 0) {
            char *msg = hm_xstrdup(hm_last_error());
            hm_error(rc, "%s; %s", msg,
                     write ? "a run with run.data set may rewrite the store and needs it alone (runs that "
                             "leave run.data empty only read the store and can share it)"
                           : "a run that may ingest into it (run.data set) has it alone");
            free(msg);
        }
        free(what);
        if (rc)
            hm_lock_release(&p->lock);
    }
    if (!rc) {
        p->locked = 1;
        rc = remove_temporaries(p);
    }
    return rc;
}

/* Runs stage i unless it is up to date; reports either way. */
static int run_stage(struct pipeline *p, int i)
{
    const struct pipeline_stage *st = &pipeline_stages[i];
    struct stage_inputs in;
    int rc = stage_inputs(p, i, &in);
    if (rc)
        return rc;
    struct hm_buf why = {0};
    if (stage_fresh(p, i, &in, &why)) {
        hm_report("[%s] up to date, skipped", st->name);
    } else {
        hm_report("[%s] running: %s", st->name, why.s);
        int64_t t0 = hm_now_ns();
        char **out = st->outputs ? st->outputs(p) : NULL;
        char *pending = pending_outputs(p, st->name, out);
        for (int k = 0; out && out[k]; k++)
            free(out[k]);
        free(out);
        if ((rc = mark_unfinished(p, st->name, pending)) == 0 && (rc = st->run(p)) == 0) {
            double secs = hm_seconds_since(t0);
            uint64_t rss = hm_peak_rss();
            hm_fault_point("stage");
            if ((rc = write_record(p, i, &in, pending, secs, rss)) == 0)
                hm_report("[%s] done in %.1fs (peak RSS %.0f MiB)", st->name, secs, (double)rss / (1024.0 * 1024.0));
        }
        if (rc)
            hm_error_wrap(rc, "stage %s", st->name);
        free(pending);
    }
    if (!rc) {
        p->fp[i] = in.fp;
        p->fp_known[i] = 1;
    }
    hm_buf_release(&why);
    hm_buf_release(&in.record);
    return rc;
}

int pipeline_require(struct pipeline *p, const char *name)
{
    int i = pipeline_stage_find(name);
    if (i < 0)
        HM_BUG("no stage '%s'", name);
    if (p->done[i] || p->as_is)
        return 0;
    int rc = pipeline_lock(p);
    if (rc)
        return rc;
    const struct pipeline_stage *st = &pipeline_stages[i];
    for (int d = 0; st->deps && st->deps[d]; d++) {
        rc = pipeline_require(p, st->deps[d]);
        if (rc)
            return rc;
    }
    if (st->output_fp && !p->c.run.data[0]) {
        /* ingest without CSV files to read: the store, whose content is what dependents see,
         * is the run's input as it is */
        const struct data_set *ds;
        rc = pipeline_data(p, &ds);
        if (!rc) {
            hm_report("[%s] no run.data: the store %s is the input", st->name, p->store);
            p->done[i] = 1;
        }
        return rc;
    }
    rc = run_stage(p, i);
    if (!rc)
        p->done[i] = 1;
    return rc;
}

int pipeline_check(const struct pipeline *p)
{
    struct rank_model models[RANK_MAX_MODELS];
    int n, rc;
    if ((rc = pipeline_labels_check(p)) != 0 || (rc = rank_model_params_check(&p->c.models)) != 0 ||
        (rc = rank_models_parse(p->c.rank.models, &p->c.models, models, &n)) != 0)
        return rc;
    /* the submission's model: known before anything is trained */
    const char *sm = p->c.run.submit_model;
    int known = !strcmp(sm, "best") || !strcmp(sm, "ensemble") || !strcmp(sm, "average") || recall_baseline_find(sm) >= 0;
    struct hm_buf names = {0};
    for (int m = 0; m < n; m++) {
        known |= !strcmp(sm, models[m].name);
        hm_buf_printf(&names, ", %s", models[m].name);
    }
    if (!known)
        rc = hm_error(HM_EINVAL, "run.submit_model = \"%s\": expected best, ensemble, average, a model of rank.models "
                                 "(%s) or a baseline (popular, decayed, recent)", sm, names.s ? names.s + 2 : "");
    hm_buf_release(&names);
    return rc;
}

/* The model the submission comes from, with its MAP@12 against the oracle and the best
 * baseline (metrics.tsv), as one line; nothing when the run has no such row. */
/* A test-week row's name without its "test: " prefix. */
static const char *plain_name(const char *name)
{
    return strncmp(name, "test: ", 6) ? name : name + 6;
}

/* The submission on the held-out test week, beside its oracle and best baseline there. */
static void test_week_line(const struct pipeline_result *res, int n)
{
    int sub = -1, base = -1;
    double oracle = 0;
    for (int i = 0; i < n; i++) {
        double m = eval_map12(&res[i].sum);
        if (!strcmp(res[i].kind, "test submission"))
            sub = i;
        if (!strcmp(res[i].kind, "test oracle"))
            oracle = m;
        if (!strcmp(res[i].kind, "test baseline") && (base < 0 || m > eval_map12(&res[base].sum)))
            base = i;
    }
    if (sub < 0)
        return;
    double m = eval_map12(&res[sub].sum);
    struct hm_buf line = {0};
    hm_buf_printf(&line, "held-out test week: %s, MAP@12 %.5f", plain_name(res[sub].name), m);
    if (oracle > 0)
        hm_buf_printf(&line, ", %.1f%% of its oracle", 100 * m / oracle);
    if (base >= 0 && eval_map12(&res[base].sum) > 0)
        hm_buf_printf(&line, ", %.1fx its best baseline (%s, %.5f)", m / eval_map12(&res[base].sum), plain_name(res[base].name),
                      eval_map12(&res[base].sum));
    hm_report("%s (no setting was chosen on this week)", line.s);
    hm_buf_release(&line);
}

static void summary_model_line(struct pipeline *p)
{
    char name[sizeof p->c.run.submit_model];
    snprintf(name, sizeof name, "%s", p->c.run.submit_model);
    if (!strcmp(name, "best") && pipeline_best_model(p, name, sizeof name) != 0) {
        hm_clear_error();
        return;
    }
    struct pipeline_result *res = NULL;
    int n = 0;
    char *path = pipeline_path(p, "metrics.tsv");
    int rc = pipeline_results_read(path, &res, &n);
    free(path);
    if (rc) {
        hm_clear_error();
        return;
    }
    int self = -1, base = -1;
    double oracle = 0;
    for (int i = 0; i < n; i++) {
        double m = eval_map12(&res[i].sum);
        if (!strcmp(res[i].name, name))
            self = i;
        if (!strcmp(res[i].kind, "oracle"))
            oracle = m;
        if (!strcmp(res[i].kind, "baseline") && (base < 0 || m > eval_map12(&res[base].sum)))
            base = i;
    }
    if (self >= 0) {
        double m = eval_map12(&res[self].sum);
        struct hm_buf line = {0};
        hm_buf_printf(&line, "%s: %s, MAP@12 %.5f", strcmp(p->c.run.submit_model, "best") ? "submission model" : "best",
                      name, m);
        if (oracle > 0)
            hm_buf_printf(&line, ", %.1f%% of the oracle", 100 * m / oracle);
        if (base >= 0 && base != self && eval_map12(&res[base].sum) > 0)
            hm_buf_printf(&line, ", %.1fx the best baseline (%s, %.5f)", m / eval_map12(&res[base].sum),
                          res[base].name, eval_map12(&res[base].sum));
        hm_report("%s", line.s);
        hm_buf_release(&line);
    }
    test_week_line(res, n);
    free(res);
}

/* What a finished run prints last: the metrics table of the validation week, the model the
 * submission comes from and where the report and the submission are. The report's whole text
 * (the other metrics, the charts' data, the settings) is report.txt. */
static int run_summary(struct pipeline *p)
{
    char *path = pipeline_path(p, "metrics.txt"), *text;
    size_t len;
    int rc = hm_read_file(path, &text, &len);
    free(path);
    if (rc)
        return rc;
    /* metrics.txt: the table at 12 first, then one table per metric at 1..12 */
    const char *end = strstr(text, "\n\n");
    size_t n = end ? (size_t)(end - text) : len && text[len - 1] == '\n' ? len - 1 : len;
    hm_report("\n%.*s\n", (int)n, text);
    /* then the held-out test week's table, when the data have that week */
    const char *test = strstr(text, "\n\nheld-out test week ");
    if (test) {
        test += 2;
        const char *tend = strstr(test, "\n\n");
        hm_report("%.*s\n", (int)(tend ? tend - test : (ptrdiff_t)strlen(test)), test);
    }
    free(text);
    summary_model_line(p);
    char *html = pipeline_path(p, "report.html"), *txt = pipeline_path(p, "report.txt");
    char *sub = pipeline_submission_path(p);
    if (access(html, F_OK) == 0)
        hm_report("report: %s (open it in a browser; as text, with the settings: %s)", html, txt);
    if (access(sub, F_OK) == 0)
        hm_report("submission: %s", sub);
    free(html);
    free(txt);
    free(sub);
    return 0;
}

int pipeline_run(struct pipeline *p)
{
    /* settings the table's ranges cannot check, before anything runs */
    int rc = pipeline_check(p);
    if (rc)
        return rc;
    rc = pipeline_lock(p);
    for (int i = 0; i < pipeline_n_stages && !rc; i++)
        rc = pipeline_require(p, pipeline_stages[i].name);
    if (!rc)
        rc = run_summary(p);
    return rc;
}

int pipeline_stage_took(const struct pipeline *p, const char *stage, double *seconds, uint64_t *peak_rss)
{
    char *path = took_path(p, stage), *text = NULL;
    int rc = hm_read_file(path, &text, NULL);
    free(path);
    *seconds = 0;
    *peak_rss = 0;
    if (rc) {
        hm_clear_error();
        return 0;
    }
    unsigned long long r = 0;
    int found = sscanf(text, "%lf %llu", seconds, &r) == 2;
    *peak_rss = r;
    free(text);
    return found;
}
