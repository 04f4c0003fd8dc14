/* hmrec export: a store back to Kaggle-format CSV files. */
#include "cli.h"
#include "data/data.h"

#include <string.h>

int cmd_export(int argc, char **argv)
{
    const char *store = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: hmrec export STORE --out DIR\n\nWrites DIR/articles.csv, "
                   "DIR/customers.csv and DIR/transactions_train.csv in the\nKaggle format "
                   "(10-digit article ids; prices with the fewest digits that read back\nas "
                   "the stored float; transactions by day). Ingesting them gives the same "
                   "store.\n");
            return 0;
        }
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] != '-' && !store)
            store = argv[i];
        else
            return cli_usage_error("export", "unexpected argument %s", argv[i]);
    }
    if (!store || !out)
        return cli_usage_error("export", "expected STORE and --out DIR");
    struct data_set ds;
    if (data_set_open(&ds, store, 0))
        return cli_fail();
    int rc = data_set_export(&ds, out);
    if (!rc)
        printf("exported %u articles, %u customers, %llu transactions to %s\n", ds.articles.n,
               ds.customers.n, (unsigned long long)ds.tx.n, out);
    data_set_release(&ds);
    if (rc)
        return cli_fail();
    return 0;
}
