/* embed: the batch driver behind `hmrec embed`: which articles, in which order, decoding in
 * parallel, forward passes in batches, a checkpoint so that an interrupted run resumes, and
 * the output files (see docs/embed.md):
 *
 *   <out>              float32 .npy (n, E): row i is the L2-normalised embedding of the
 *                      i-th article of <stem>.ids.txt; a zero row when its image is missing
 *   <stem>.ids.txt     n lines: the 10-digit article ids, in row order
 *   <stem>.missing.txt one line per zero row: "<10-digit id>\t<reason>"
 *   <out>.partial      the checkpoint while a run is unfinished (removed at the end)
 *
 * Checkpoint: a 64-byte header (magic "HMEMBCK1", a key over the article list and the
 * weights, rows, dim) followed by the finished rows in order. Rows are appended a batch
 * at a time; a torn tail (a partial row) is cut off when resuming. */
#include "embed.h"
#include "io/npy.h"

#include <cblas.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CK_MAGIC "HMEMBCK1"
#define CK_HEADER 64

/* ---- article ids and paths --------------------------------------------------------------- */

char *embed_article_path(const char *images_dir, int64_t id)
{
    return hm_xasprintf("%s/%03lld/%010lld.jpg", images_dir, (long long)(id / 10000000),
                        (long long)id);
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

int embed_scan_articles(const char *images_dir, int64_t **ids_out, size_t *n_out)
{
    DIR *top = opendir(images_dir);
    if (!top)
        return hm_error(HM_EIO, "could not open image directory '%s': %s", images_dir,
                        strerror(errno));
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(top)) != NULL) {
        if (strlen(de->d_name) != 3 || !all_digits(de->d_name, 3))
            continue;
        char *sub = hm_path_join(images_dir, de->d_name);
        DIR *d = opendir(sub);
        free(sub);
        if (!d)
            continue;
        struct dirent *fe;
        while ((fe = readdir(d)) != NULL) {
            const char *f = fe->d_name;
            if (strlen(f) != 14 || strcmp(f + 10, ".jpg") || !all_digits(f, 10) ||
                memcmp(f, de->d_name, 3) != 0)
                continue;
            HM_GROW(ids, cap, n + 1);
            ids[n++] = strtoll(f, NULL, 10);
        }
        closedir(d);
    }
    closedir(top);
    if (n)
        qsort(ids, n, sizeof *ids, cmp_id);
    *ids_out = ids;
    *n_out = n;
    return 0;
}

static int check_unique(const int64_t *ids, size_t n, const char *where)
{
    int64_t *s = hm_xmalloc_array(n ? n : 1, sizeof *s);
    memcpy(s, ids, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_id);
    for (size_t i = 1; i < n; i++)
        if (s[i] == s[i - 1]) {
            long long dup = (long long)s[i];
            free(s);
            return hm_error(HM_EINVAL, "%s: article %010lld is listed twice", where, dup);
        }
    free(s);
    return 0;
}

int embed_read_articles(const char *path, int64_t **ids_out, size_t *n_out)
{
    char *text;
    size_t len;
    int rc = hm_read_file(path, &text, &len);
    if (rc)
        return rc;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    long line = 0;
    for (char *p = text; p < text + len;) {
        char *eol = memchr(p, '\n', (size_t)(text + len - p));
        if (!eol)
            eol = text + len;
        line++;
        size_t k = 0;
        while (p + k < eol && isdigit((unsigned char)p[k]))
            k++;
        char next = p + k < eol ? p[k] : '\n';
        int blank = eol == p || (eol == p + 1 && *p == '\r');
        if (!blank) {
            if (k == 0 || k > 10 || !(next == ',' || next == ' ' || next == '\t' || next == '\r' ||
                                      next == '\n')) {
                if (line == 1 && k == 0) { /* a header line */
                    p = eol + 1;
                    continue;
                }
                rc = hm_error(HM_EPARSE, "%s:%ld: expected an article id (up to 10 digits), "
                              "found \"%.*s\"", path, line, (int)(eol - p > 40 ? 40 : eol - p), p);
                free(text);
                free(ids);
                return rc;
            }
            HM_GROW(ids, cap, n + 1);
            ids[n++] = strtoll(p, NULL, 10);
        }
        p = eol + 1;
    }
    free(text);
    if ((rc = check_unique(ids, n, path)) != 0) {
        free(ids);
        return rc;
    }
    *ids_out = ids;
    *n_out = n;
    return 0;
}

static char *stem_with(const char *out, const char *suffix)
{
    size_t n = strlen(out);
    if (n > 4 && !strcmp(out + n - 4, ".npy"))
        n -= 4;
    return hm_xasprintf("%.*s%s", (int)n, out, suffix);
}

char *embed_ids_path(const char *out) { return stem_with(out, ".ids.txt"); }
char *embed_missing_path(const char *out) { return stem_with(out, ".missing.txt"); }
char *embed_partial_path(const char *out) { return hm_xasprintf("%s.partial", out); }

/* ---- checkpoint ----------------------------------------------------------------------------- */

struct ck_header {
    char magic[8];
    uint64_t key;
    uint64_t rows;
    uint32_t dim;
    uint8_t pad[CK_HEADER - 28];
};

static int write_all(int fd, const void *buf, size_t n, const char *path)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return hm_error(HM_EIO, "could not write '%s': %s", path, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Opens (or creates) the checkpoint; *done = complete rows already in it. */
static int ck_open(const char *path, uint64_t key, size_t rows, int dim, int *fd_out, size_t *done)
{
    size_t row_bytes = (size_t)dim * sizeof(float);
    *done = 0;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        struct ck_header h;
        struct stat st;
        if (fstat(fd, &st) == 0 && read(fd, &h, sizeof h) == (ssize_t)sizeof h &&
            !memcmp(h.magic, CK_MAGIC, 8) && h.key == key && h.rows == rows && h.dim == (uint32_t)dim) {
            size_t have = ((size_t)st.st_size - CK_HEADER) / row_bytes;
            if (have > rows)
                have = rows;
            if (ftruncate(fd, (off_t)(CK_HEADER + have * row_bytes)) != 0 ||
                lseek(fd, 0, SEEK_END) < 0) {
                int e = errno;
                close(fd);
                return hm_error(HM_EIO, "could not reuse checkpoint '%s': %s", path, strerror(e));
            }
            *done = have;
            *fd_out = fd;
            return 0;
        }
        hm_warn("checkpoint '%s' belongs to another article list or model: starting over", path);
        close(fd);
    }
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return hm_error(HM_EIO, "could not create checkpoint '%s': %s", path, strerror(errno));
    struct ck_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CK_MAGIC, 8);
    h.key = key;
    h.rows = rows;
    h.dim = (uint32_t)dim;
    int rc = write_all(fd, &h, sizeof h, path);
    if (rc) {
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

/* ---- one batch ------------------------------------------------------------------------------ */

struct batch {
    const char *images;
    const int64_t *ids;     /* the batch's ids */
    int size;               /* preprocessing size S */
    float *pixels;          /* (batch, 3, S, S) */
    int *ok;                /* (batch) */
    char (*why)[256];       /* (batch) reason when !ok */
};

static int decode_one(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct batch *b = ud;
    size_t plane = 3 * (size_t)b->size * b->size;
    for (size_t i = begin; i < end; i++) {
        char *path = embed_article_path(b->images, b->ids[i]);
        struct embed_image img;
        if (embed_image_load(&img, path) == 0) {
            embed_image_preprocess(&img, b->size, b->pixels + i * plane);
            embed_image_release(&img);
            b->ok[i] = 1;
        } else {
            b->ok[i] = 0;
            snprintf(b->why[i], sizeof b->why[i], "%s", hm_last_error());
        }
        free(path);
    }
    return 0;
}

/* ---- outputs -------------------------------------------------------------------------------- */

static int write_lists(const char *out, const int64_t *ids, size_t n, const float *rows, int dim,
                       const char *images, size_t *missing)
{
    char *ids_path = embed_ids_path(out), *miss_path = embed_missing_path(out);
    struct hm_awriter wi, wm;
    int rc = hm_awriter_open(&wi, ids_path);
    if (!rc && (rc = hm_awriter_open(&wm, miss_path)) != 0)
        hm_awriter_abort(&wi);
    *missing = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        char line[400];
        int len = snprintf(line, sizeof line, "%010lld\n", (long long)ids[i]);
        hm_awriter_write(&wi, line, (size_t)len);
        const float *r = rows + i * (size_t)dim;
        int zero = 1;
        for (int k = 0; k < dim && zero; k++)
            zero = r[k] == 0.0f;
        if (!zero)
            continue;
        /* the reason: decode again (only missing rows) */
        char *path = embed_article_path(images, ids[i]);
        struct embed_image img;
        const char *why = "no embedding (the image was unreadable in an earlier run)";
        if (embed_image_load(&img, path) == 0)
            embed_image_release(&img);
        else
            why = hm_last_error();
        len = snprintf(line, sizeof line, "%010lld\t%s\n", (long long)ids[i], why);
        hm_awriter_write(&wm, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
        free(path);
        (*missing)++;
    }
    if (!rc) {
        rc = hm_awriter_commit(&wi);
        if (rc)
            hm_awriter_abort(&wm);
        else
            rc = hm_awriter_commit(&wm);
    }
    free(ids_path);
    free(miss_path);
    return rc;
}

/* ---- the run -------------------------------------------------------------------------------- */

int embed_run(const struct embed_options *o, struct embed_result *r)
{
    memset(r, 0, sizeof *r);
    int64_t start = hm_now_ns();
    int batch = o->batch > 0 ? o->batch : 32;
    struct embed_clip_model *m = NULL;
    openblas_set_num_threads(hm_threads());
    int rc = embed_clip_model_load(&m, o->weights, o->heads, o->act);
    if (rc)
        return rc;
    const struct embed_clip_config *c = &m->cfg;
    int64_t *ids = NULL;
    size_t n = 0;
    if (o->articles)
        rc = embed_read_articles(o->articles, &ids, &n);
    else
        rc = embed_scan_articles(o->images, &ids, &n);
    if (!rc && n == 0)
        rc = o->articles ? hm_error(HM_EINVAL, "%s: no article ids", o->articles)
                         : hm_error(HM_ENOTFOUND, "no images DIR/0XX/0XXXXXXXXX.jpg found in '%s'",
                                    o->images);
    if (rc) {
        embed_clip_model_free(&m);
        free(ids);
        return rc;
    }
    hm_info("embed: %zu articles; model: %d layers, width %d, %d heads, patch %d, image %d, "
            "%s, %d-d output", n, c->layers, c->width, c->heads, c->patch, c->image_size,
            c->act == EMBED_CLIP_ACT_GELU ? "gelu" : "quick_gelu", c->proj);

    uint64_t key = hm_hash64(ids, n * sizeof *ids, 0xe1bed) ^ hm_mix64(m->weights_id) ^
                   hm_mix64((uint64_t)c->image_size << 32 | (uint64_t)c->proj << 8 | (uint64_t)c->act) ^
                   hm_mix64((uint64_t)c->heads + 0x9e37);
    char *ck_path = embed_partial_path(o->out);
    int fd = -1;
    size_t done = 0;
    const char *slash = strrchr(o->out, '/');
    if (slash && slash != o->out) {
        char *dir = hm_xasprintf("%.*s", (int)(slash - o->out), o->out);
        rc = hm_mkdirs(dir);
        free(dir);
        if (rc)
            goto out;
    }
    if ((rc = ck_open(ck_path, key, n, c->proj, &fd, &done)) != 0)
        goto out;
    r->resumed = done;
    if (done)
        hm_info("embed: resuming: %zu of %zu rows done in '%s'", done, n, ck_path);

    struct embed_clip_ws ws;
    embed_clip_ws_init(&ws, c, batch);
    size_t plane = 3 * (size_t)c->image_size * c->image_size, E = (size_t)c->proj;
    struct batch b = {o->images, NULL, c->image_size,
                      hm_xmalloc_array((size_t)batch * plane, sizeof(float)),
                      hm_xcalloc((size_t)batch, sizeof(int)),
                      hm_xcalloc((size_t)batch, sizeof *b.why)};
    float *emb = hm_xmalloc_array((size_t)batch * E, sizeof(float));
    float *rows = hm_xmalloc_array((size_t)batch * E, sizeof(float));
    struct hm_progress prog;
    hm_progress_begin(&prog, "embed", n);
    hm_progress_add(&prog, done);
    long batches = 0;
    for (size_t at = done; at < n && !rc; at += (size_t)batch) {
        int cnt = (int)(n - at < (size_t)batch ? n - at : (size_t)batch);
        b.ids = ids + at;
        hm_parallel_chunks(0, (size_t)cnt, 1, decode_one, &b);
        /* compact the decoded images to the front, run them, scatter back */
        int k = 0;
        for (int i = 0; i < cnt; i++) {
            if (!b.ok[i]) {
                hm_warn("article %010lld skipped: %s", (long long)ids[at + (size_t)i], b.why[i]);
                continue;
            }
            if (k != i)
                memcpy(b.pixels + (size_t)k * plane, b.pixels + (size_t)i * plane, plane * sizeof(float));
            k++;
        }
        if (k)
            embed_clip_forward(m, &ws, b.pixels, k, emb);
        for (int i = 0, j = 0; i < cnt; i++) {
            if (b.ok[i])
                memcpy(rows + (size_t)i * E, emb + (size_t)j++ * E, E * sizeof(float));
            else
                memset(rows + (size_t)i * E, 0, E * sizeof(float));
        }
        if ((rc = write_all(fd, rows, (size_t)cnt * E * sizeof(float), ck_path)) != 0)
            break;
        if (fdatasync(fd) != 0) {
            rc = hm_error(HM_EIO, "could not sync '%s': %s", ck_path, strerror(errno));
            break;
        }
        hm_progress_add(&prog, (uint64_t)cnt);
        if (o->stop_after > 0 && ++batches >= o->stop_after && at + (size_t)cnt < n)
            rc = hm_error(HM_EINTR, "stopped after %ld batches as asked (%zu of %zu rows in '%s')",
                          batches, at + (size_t)cnt, n, ck_path);
    }
    hm_progress_end(&prog);
    free(b.pixels);
    free(b.ok);
    free(b.why);
    free(emb);
    free(rows);
    embed_clip_ws_release(&ws);
    close(fd);
    if (rc)
        goto out;

    /* all rows are in the checkpoint: write the outputs, then remove it */
    struct hm_map map;
    if ((rc = hm_map_file(&map, ck_path)) != 0)
        goto out;
    if (map.size != CK_HEADER + n * E * sizeof(float)) {
        hm_map_release(&map);
        rc = hm_error(HM_EFORMAT, "checkpoint '%s' has %zu bytes, expected %zu", ck_path, map.size,
                      CK_HEADER + n * E * sizeof(float));
        goto out;
    }
    const float *all = (const float *)(map.data + CK_HEADER);
    rc = write_lists(o->out, ids, n, all, c->proj, o->images, &r->missing);
    if (!rc)
        rc = io_npy_write(o->out, all, n, E);
    hm_map_release(&map);
    if (!rc && unlink(ck_path) != 0)
        rc = hm_error(HM_EIO, "could not remove checkpoint '%s': %s", ck_path, strerror(errno));
    r->rows = n;
out:
    r->seconds = hm_seconds_since(start);
    free(ck_path);
    free(ids);
    embed_clip_model_free(&m);
    return rc;
}
