/* hmrec info: what a store holds. */
#include "cli.h"
#include "data/data.h"

#include <string.h>

static const char *type_name(int t)
{
    static const char *n[] = {"?", "u8", "u16", "u32", "u64", "i32", "f32", "bytes"};
    return t >= 1 && t <= IO_BYTES ? n[t] : "?";
}

int cmd_info(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: hmrec info STORE\n\nPrints the tables of a store: row counts, date "
               "range, bytes per column and in total.\nOpening verifies every checksum.\n");
        return 0;
    }
    if (argc != 2)
        return cli_usage_error("info", "expected one argument: the store directory");
    struct data_set ds;
    if (data_set_open(&ds, argv[1], 0))
        return cli_fail();
    printf("store %s\n", argv[1]);
    if (ds.n_shards > 1)
        printf("shard %u of %u (docs/scale.md): the transactions of its customers (%llu of %llu rows) and the "
               "article side of articles %u .. %u\n",
               ds.shard, ds.n_shards, (unsigned long long)ds.tx.n, (unsigned long long)ds.tx.n_all, ds.art.a0,
               ds.art.a1 ? ds.art.a1 - 1 : 0);
    uint64_t total = 0;
    for (int i = 0; i < (ds.n_shards > 1 ? 4 : 3); i++) {
        const struct io_table *t = &ds.files[i];
        printf("\ntable %s: %llu rows, file %s, %.1f MB\n", t->table,
               (unsigned long long)t->n_rows, t->path, t->map.size / 1e6);
        if (i == 0 && ds.articles.n_placeholder)
            printf("  %u placeholder rows\n", ds.articles.n_placeholder);
        if (i == 1 && ds.customers.n_placeholder)
            printf("  %u placeholder rows\n", ds.customers.n_placeholder);
        if (i == 2 && ds.tx.n) {
            char a[11], b[11];
            hm_date_format(ds.tx.day_min, a);
            hm_date_format(ds.tx.day_max, b);
            uint32_t buyers = 0;
            for (uint32_t c = 0; c < ds.customers.n; c++)
                buyers += ds.tx.cust_off[c + 1] > ds.tx.cust_off[c];
            printf("  dates %s .. %s (%d days), %u customers with transactions\n", a, b,
                   ds.tx.day_max - ds.tx.day_min + 1, buyers);
        }
        for (int k = 0; k < t->n_cols; k++) {
            const struct io_column_desc *c = &t->cols[k];
            printf("  %-40s %-5s x%-3u %12llu  %14llu bytes\n", c->name, type_name(c->type),
                   c->elem_size, (unsigned long long)c->count,
                   (unsigned long long)io_table_column_bytes(c));
        }
        total += t->map.size;
    }
    printf("\ntotal %llu bytes (%.3f GB)\n", (unsigned long long)total, total / 1e9);
    data_set_release(&ds);
    return 0;
}
