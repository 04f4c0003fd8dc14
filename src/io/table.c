/* Table files of the columnar store: header, column directory, 64-byte aligned columns,
 * checksums. The layout is documented in docs/formats.md. */
#include "io/table.h"

#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 192u
#define DIR_ENTRY_BYTES 96u
#define NAME_BYTES 48u
#define BYTE_ORDER_MARK 0x01020304u
#define MAX_COLS 4096u

/* ---- encoding helpers ------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint64_t align64(uint64_t x) { return (x + 63) & ~(uint64_t)63; }

static uint32_t type_size(int type)
{
    switch (type) {
    case IO_U8: return 1;
    case IO_U16: return 2;
    case IO_U32: case IO_I32: case IO_F32: return 4;
    case IO_U64: return 8;
    default: return 0;
    }
}

uint64_t io_table_column_bytes(const struct io_column_desc *c) { return c->count * c->elem_size; }

struct sum_job {
    const struct io_column_desc *cols;
    uint64_t *sums;
};

static int sum_column(size_t begin, size_t end, int tid, void *ud)
{
    (void)tid;
    struct sum_job *j = ud;
    for (size_t i = begin; i < end; i++)
        j->sums[i] = hm_hash64(j->cols[i].data ? j->cols[i].data : (const void *)"",
                               io_table_column_bytes(&j->cols[i]), i);
    return 0;
}

/* ---- writing ------------------------------------------------------------------------ */

int io_table_write(const char *path, const char *table, uint64_t n_rows, const uint64_t *meta,
                   const struct io_column_desc *cols, int n_cols)
{
    if (n_cols < 0 || (unsigned)n_cols > MAX_COLS || strlen(table) >= 32)
        return hm_error(HM_EINVAL, "table '%s': bad column count or name", table);
    for (int i = 0; i < n_cols; i++)
        if (strlen(cols[i].name) >= NAME_BYTES || !cols[i].elem_size ||
            (cols[i].type != IO_BYTES && type_size(cols[i].type) != cols[i].elem_size))
            HM_BUG("table '%s': bad column '%s'", table, cols[i].name);
    uint64_t *sums = hm_xcalloc((size_t)n_cols + 1, sizeof *sums);
    struct sum_job job = {cols, sums};
    hm_parallel_chunks(0, (size_t)n_cols, 1, sum_column, &job);

    size_t head_len = HEADER_BYTES + DIR_ENTRY_BYTES * (size_t)n_cols;
    uint8_t *head = hm_xcalloc(head_len, 1);
    uint64_t off = align64(head_len);
    for (int i = 0; i < n_cols; i++) {
        uint8_t *e = head + HEADER_BYTES + DIR_ENTRY_BYTES * (size_t)i;
        memcpy(e, cols[i].name, strlen(cols[i].name));
        put32(e + 48, (uint32_t)cols[i].type);
        put32(e + 52, cols[i].elem_size);
        put64(e + 56, cols[i].count);
        put64(e + 64, off);
        put64(e + 72, io_table_column_bytes(&cols[i]));
        put64(e + 80, sums[i]);
        off = align64(off + io_table_column_bytes(&cols[i]));
    }
    memcpy(head, IO_TABLE_MAGIC, 8);
    put32(head + 8, IO_TABLE_VERSION);
    put32(head + 12, HEADER_BYTES);
    memcpy(head + 16, table, strlen(table));
    put64(head + 48, n_rows);
    put32(head + 56, (uint32_t)n_cols);
    put32(head + 60, BYTE_ORDER_MARK);
    put64(head + 64, off);
    for (int i = 0; i < IO_TABLE_META; i++)
        put64(head + 80 + 8 * i, meta ? meta[i] : 0);
    put64(head + 72, hm_hash64(head, head_len, 0x7ab1e));
    free(sums);

    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    if (rc) {
        free(head);
        return rc;
    }
    static const uint8_t zeros[64];
    uint64_t pos = head_len;
    hm_awriter_write(&w, head, head_len);
    for (int i = 0; i < n_cols; i++) {
        hm_awriter_write(&w, zeros, align64(pos) - pos);
        pos = align64(pos);
        hm_awriter_write(&w, cols[i].data, io_table_column_bytes(&cols[i]));
        pos += io_table_column_bytes(&cols[i]);
    }
    hm_awriter_write(&w, zeros, align64(pos) - pos);
    free(head);
    return hm_awriter_commit(&w);
}

/* ---- reading -------------------------------------------------------------------------- */

static int fail(struct io_table *t, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct io_table *t, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int rc = hm_error(code, "'%s': %s", t->path, msg);
    io_table_release(t);
    return rc;
}

int io_table_open(struct io_table *t, const char *path, const char *table, unsigned flags)
{
    memset(t, 0, sizeof *t);
    t->path = hm_xstrdup(path);
    int rc = hm_map_file(&t->map, path);
    if (rc) {
        free(t->path);
        t->path = NULL;
        return rc;
    }
    const uint8_t *d = t->map.data;
    size_t size = t->map.size;
    if (size < 8 || memcmp(d, IO_TABLE_MAGIC, 8) != 0)
        return fail(t, HM_EFORMAT, "not an hmrec table file (no '%s' magic number)",
                    IO_TABLE_MAGIC);
    if (size < HEADER_BYTES)
        return fail(t, HM_EFORMAT, "truncated: %zu bytes, shorter than the %u-byte header", size,
                    HEADER_BYTES);
    uint32_t version = get32(d + 8);
    if (version != IO_TABLE_VERSION)
        return fail(t, HM_EFORMAT, "format version %u, this hmrec reads version %u", version,
                    IO_TABLE_VERSION);
    if (get32(d + 12) != HEADER_BYTES || get32(d + 60) != BYTE_ORDER_MARK)
        return fail(t, HM_EFORMAT, "corrupted header (header size or byte order)");
    uint64_t file_size = get64(d + 64);
    if (file_size != size)
        return fail(t, HM_EFORMAT, "%s: the header says %llu bytes, the file has %zu",
                    size < file_size ? "truncated" : "corrupted (trailing bytes)",
                    (unsigned long long)file_size, size);
    uint32_t n_cols = get32(d + 56);
    if (n_cols > MAX_COLS || HEADER_BYTES + (uint64_t)DIR_ENTRY_BYTES * n_cols > size)
        return fail(t, HM_EFORMAT, "corrupted header (column count %u)", n_cols);
    size_t head_len = HEADER_BYTES + DIR_ENTRY_BYTES * (size_t)n_cols;
    uint8_t *head = hm_xmalloc(head_len);
    memcpy(head, d, head_len);
    put64(head + 72, 0);
    uint64_t sum = hm_hash64(head, head_len, 0x7ab1e);
    free(head);
    if (sum != get64(d + 72))
        return fail(t, HM_EFORMAT, "corrupted: header checksum mismatch");
    memcpy(t->table, d + 16, 31);
    t->table[31] = '\0';
    if (table && strcmp(t->table, table) != 0)
        return fail(t, HM_EFORMAT, "holds table '%s', expected '%s'", t->table, table);
    t->n_rows = get64(d + 48);
    for (int i = 0; i < IO_TABLE_META; i++)
        t->meta[i] = get64(d + 80 + 8 * i);
    t->n_cols = (int)n_cols;
    t->cols = hm_xcalloc(n_cols + 1, sizeof *t->cols);
    uint64_t *sums = hm_xcalloc(n_cols + 1, sizeof *sums);
    for (uint32_t i = 0; i < n_cols; i++) {
        const uint8_t *e = d + HEADER_BYTES + DIR_ENTRY_BYTES * (size_t)i;
        struct io_column_desc *c = &t->cols[i];
        if (memchr(e, 0, NAME_BYTES) == NULL) {
            free(sums);
            return fail(t, HM_EFORMAT, "corrupted column directory (entry %u)", i);
        }
        c->name = (const char *)e;
        c->type = (int)get32(e + 48);
        c->elem_size = get32(e + 52);
        c->count = get64(e + 56);
        uint64_t off = get64(e + 64), bytes = get64(e + 72);
        sums[i] = get64(e + 80);
        int bad_type = c->type < IO_U8 || c->type > IO_BYTES || c->elem_size == 0 ||
                       (c->type != IO_BYTES && type_size(c->type) != c->elem_size);
        if (bad_type || off % 64 || off < head_len || off > size || bytes > size - off ||
            (c->count && bytes / c->count != c->elem_size) || bytes != c->count * c->elem_size) {
            free(sums);
            return fail(t, HM_EFORMAT, "corrupted column directory (column '%s')", c->name);
        }
        c->data = d + off;
    }
    if (!(flags & IO_TABLE_NOVERIFY)) {
        uint64_t *got = hm_xcalloc(n_cols + 1, sizeof *got);
        struct sum_job job = {t->cols, got};
        hm_parallel_chunks(0, n_cols, 1, sum_column, &job);
        for (uint32_t i = 0; i < n_cols; i++)
            if (got[i] != sums[i]) {
                char name[NAME_BYTES];
                memcpy(name, t->cols[i].name, NAME_BYTES);
                free(got);
                free(sums);
                return fail(t, HM_EFORMAT, "corrupted: checksum mismatch in column '%s'", name);
            }
        free(got);
    }
    free(sums);
    return 0;
}

void io_table_release(struct io_table *t)
{
    hm_map_release(&t->map);
    free(t->path);
    free(t->cols);
    memset(t, 0, sizeof *t);
}

int io_table_column(const struct io_table *t, const char *name, int type, uint64_t count,
                    const void **data)
{
    for (int i = 0; i < t->n_cols; i++) {
        const struct io_column_desc *c = &t->cols[i];
        if (strcmp(c->name, name) != 0)
            continue;
        if (c->type != type)
            return hm_error(HM_EFORMAT, "'%s': column '%s' has type %d, expected %d", t->path,
                            name, c->type, type);
        if (count != UINT64_MAX && c->count != count)
            return hm_error(HM_EFORMAT, "'%s': column '%s' has %llu values, expected %llu",
                            t->path, name, (unsigned long long)c->count,
                            (unsigned long long)count);
        *data = c->data;
        return 0;
    }
    return hm_error(HM_EFORMAT, "'%s': no column '%s'", t->path, name);
}
