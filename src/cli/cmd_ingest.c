/* hmrec ingest: the H&M CSV files -> a columnar store. */
#include "cli.h"
#include "comm/comm.h"
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

static const char ingest_help[] =
    "usage: hmrec ingest --data DIR --out STORE [--bad-rows fail|skip]\n"
    "                    [--missing-refs fail|drop|keep] [--purchases LOG]\n\n"
    "Reads DIR/articles.csv, DIR/customers.csv and DIR/transactions_train.csv and writes the\n"
    "store STORE/ (articles.hmt, customers.hmt, transactions.hmt). Under mpirun -np N (N > 1)\n"
    "each rank reads a part of the transactions and writes its shard STORE/shard-R-of-N/\n"
    "(docs/scale.md).\n\n"
    "  --data DIR            directory of the three Kaggle CSV files\n"
    "  --out STORE           store directory (created when missing)\n"
    "  --bad-rows MODE       fail (default): stop at the first malformed row with\n"
    "                        file:line:column; skip: skip malformed rows, count them by kind\n"
    "  --missing-refs MODE   transactions naming a customer or article missing from the\n"
    "                        other files: fail (default), drop the rows, or keep them with\n"
    "                        a placeholder customer/article row\n"
    "  --purchases LOG       also read the purchases of LOG (hmrec serve's purchases.csv,\n"
    "                        the format of transactions_train.csv) after the transactions;\n"
    "                        the store records how much of it it holds (docs/serve.md)\n"
    "  --segment-bytes N     bytes per thread per parallel segment (default 32 MiB; small\n"
    "                        values exercise the chunk splitting in tests)\n"
    "Environment: HMREC_THREADS (parser threads; the store is identical for any value).\n";

static void print_stats(const char *name, const struct io_read_stats *s,
                        const char *const *cols, int n_cols)
{
    printf("%-13s %12llu rows  %10.1f MB  %6.2f s  %8.0f MB/s\n", name,
           (unsigned long long)s->rows, s->bytes / 1e6, s->seconds,
           s->bytes / 1e6 / (s->seconds > 0 ? s->seconds : 1e-9));
    if (s->bad_total) {
        char *sum = io_read_stats_bad_summary(s, cols, n_cols);
        printf("%-13s skipped %llu bad rows: %s\n", "", (unsigned long long)s->bad_total, sum);
        free(sum);
    }
}

int cmd_ingest(int argc, char **argv)
{
    struct data_ingest_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(ingest_help, stdout);
            return 0;
        }
        if (i + 1 >= argc)
            return cli_usage_error("ingest", "unknown option or missing value: %s", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--data"))
            o.data_dir = v;
        else if (!strcmp(a, "--out"))
            o.store_dir = v;
        else if (!strcmp(a, "--purchases"))
            o.purchases = v;
        else if (!strcmp(a, "--segment-bytes")) {
            long n;
            if (cli_parse_long("ingest", a, v, &n))
                return 2;
            o.seg_bytes = (size_t)n;
        } else if (!strcmp(a, "--bad-rows")) {
            if (!strcmp(v, "fail"))
                o.bad_rows = IO_BAD_FAIL;
            else if (!strcmp(v, "skip"))
                o.bad_rows = IO_BAD_SKIP;
            else
                return cli_usage_error("ingest", "--bad-rows expects fail or skip, found \"%s\"", v);
        } else if (!strcmp(a, "--missing-refs")) {
            if (!strcmp(v, "fail"))
                o.missing_refs = IO_REFS_FAIL;
            else if (!strcmp(v, "drop"))
                o.missing_refs = IO_REFS_DROP;
            else if (!strcmp(v, "keep"))
                o.missing_refs = IO_REFS_KEEP;
            else
                return cli_usage_error("ingest",
                                       "--missing-refs expects fail, drop or keep, found \"%s\"", v);
        } else
            return cli_usage_error("ingest", "unknown option %s", a);
    }
    if (!o.data_dir || !o.store_dir)
        return cli_usage_error("ingest", "--data and --out are required");
    struct data_ingest_report r;
    if (data_ingest(&o, &r))
        return cli_fail();
    /* under mpirun: the shards' bytes and the largest rank's memory, reported by rank 0 */
    uint64_t sent = comm_bytes_sent(), bytes = r.store_bytes, rss = hm_peak_rss();
    comm_allreduce_u64(&sent, 1, COMM_SUM);
    comm_allreduce_u64(&bytes, 1, COMM_SUM);
    comm_allreduce_u64(&rss, 1, COMM_MAX);
    if (comm_rank() > 0)
        return 0;
    print_stats("articles", &r.articles, io_art_col_name, IO_ART_NCOLS);
    print_stats("customers", &r.customers, io_cust_col_name, IO_CUST_NCOLS);
    print_stats("transactions", &r.transactions, io_tx_col_name, IO_TX_NCOLS);
    if (o.purchases)
        print_stats("purchases", &r.purchases, io_tx_col_name, IO_TX_NCOLS);
    const struct io_read_stats *t = &r.transactions;
    if (t->missing_rows && comm_size() > 1) {
        printf("unknown references: %llu rows dropped (%llu name unknown customers, %llu unknown articles)\n",
               (unsigned long long)t->missing_rows, (unsigned long long)t->missing_customer_rows,
               (unsigned long long)t->missing_article_rows);
    } else if (t->missing_rows) {
        const char *what = o.missing_refs == IO_REFS_DROP ? "dropped" : "kept with placeholders";
        printf("unknown references: %llu rows %s (%llu rows name %u unknown customers, "
               "%llu rows name %u unknown articles)\n",
               (unsigned long long)t->missing_rows, what,
               (unsigned long long)t->missing_customer_rows, t->missing_customers,
               (unsigned long long)t->missing_article_rows, t->missing_articles);
    }
    uint64_t in_bytes = r.articles.bytes + r.customers.bytes + r.transactions.bytes;
    printf("sort+index %.2f s, write %.2f s, total %.2f s (%.0f MB/s), peak RSS %.0f MiB%s\n",
           r.seconds_sort, r.seconds_write, r.seconds, in_bytes / 1e6 / r.seconds, rss / 1048576.0,
           comm_size() > 1 ? " (the largest rank)" : "");
    if (comm_size() > 1)
        printf("store %s: %.1f MB in %d shards (%s/shard-R-of-%d), %.1f MB sent between the ranks\n", o.store_dir,
               bytes / 1e6, comm_size(), o.store_dir, comm_size(), sent / 1e6);
    else
        printf("store %s: %.1f MB\n", o.store_dir, r.store_bytes / 1e6);
    return 0;
}
