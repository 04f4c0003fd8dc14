/* io/table: table files of the columnar store (table.c): a header, a column directory and one
 * checksummed contiguous array per column (docs/formats.md). */
#ifndef HM_IO_TABLE_H
#define HM_IO_TABLE_H

#include "core/core.h"

/* A table file: a 128-byte header, a directory of columns, and the columns, each
 * contiguous and 64-byte aligned, each with its own checksum. See docs/formats.md. */
#define IO_TABLE_MAGIC "HMRTABLE"
#define IO_TABLE_VERSION 1u
#define IO_TABLE_META 8

enum io_type { IO_U8 = 1, IO_U16, IO_U32, IO_U64, IO_I32, IO_F32, IO_BYTES };

struct io_column_desc {
    const char *name;   /* at most 47 bytes */
    int type;           /* enum io_type */
    uint32_t elem_size; /* bytes per element (1, 2, 4, 8 or n for IO_BYTES) */
    uint64_t count;     /* elements */
    const void *data;   /* count * elem_size bytes */
};

/* Writes a table file atomically (temporary name + rename). meta: IO_TABLE_META
 * table-specific numbers (documented per table in docs/formats.md). */
int io_table_write(const char *path, const char *table, uint64_t n_rows, const uint64_t *meta,
                   const struct io_column_desc *cols, int n_cols);

/* A table file opened for reading (mapped). */
struct io_table {
    char *path;
    struct hm_map map;
    char table[32];
    uint64_t n_rows;
    uint64_t meta[IO_TABLE_META];
    int n_cols;
    struct io_column_desc *cols; /* data points into the map */
};

enum { IO_TABLE_NOVERIFY = 1 }; /* skip column checksums (header checksum still checked) */
/* Opens path, checks magic, version, table name, sizes, alignment and checksums. */
int io_table_open(struct io_table *t, const char *path, const char *table, unsigned flags);
void io_table_release(struct io_table *t);
/* Finds column name with the given type and element count (UINT64_MAX: any count). */
int io_table_column(const struct io_table *t, const char *name, int type, uint64_t count,
                    const void **data);
uint64_t io_table_column_bytes(const struct io_column_desc *c);

#endif
