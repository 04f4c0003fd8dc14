/* The candidates artifact: a table file (io_table_write) with one row per (customer,
 * article), rows contiguous per customer. Format in docs/recall.md. */
#include "recall/recall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { META_CUTOFF, META_NSTRAT, META_POOL, META_USERS };

int recall_candidates_write(const struct recall_candidates *c, uint32_t pool, const char *path)
{
    uint64_t meta[IO_TABLE_META] = {0};
    meta[META_CUTOFF] = (uint64_t)c->cutoff;
    meta[META_NSTRAT] = (uint64_t)recall_n_strategies;
    meta[META_POOL] = pool;
    meta[META_USERS] = c->n_users;
    struct io_column_desc cols[6 + 2 * RECALL_MAX_STRATEGIES] = {
        {"user", IO_U32, 4, c->n_users, c->user},
        {"user_off", IO_U64, 8, (uint64_t)c->n_users + 1, c->off},
        {"item", IO_U32, 4, c->n, c->item},
        {"merged", IO_F32, 4, c->n, c->merged},
        {"flags", IO_U16, 2, c->n, c->flags},
        {"n_strat", IO_U8, 1, c->n, c->n_strat},
    };
    char names[2 * RECALL_MAX_STRATEGIES][48];
    for (int s = 0; s < recall_n_strategies; s++) {
        snprintf(names[2 * s], 48, "%s_score", recall_strategies[s]->name);
        snprintf(names[2 * s + 1], 48, "%s_rank", recall_strategies[s]->name);
        cols[6 + 2 * s] = (struct io_column_desc){names[2 * s], IO_F32, 4, c->n, c->score[s]};
        cols[7 + 2 * s] = (struct io_column_desc){names[2 * s + 1], IO_U16, 2, c->n, c->rank[s]};
    }
    return io_table_write(path, "candidates", c->n, meta, cols, 6 + 2 * recall_n_strategies);
}

int recall_candidates_read(struct recall_candidates *c, const char *path)
{
    memset(c, 0, sizeof *c);
    struct io_table t;
    int rc = io_table_open(&t, path, "candidates", 0);
    if (rc)
        return rc;
    if (t.meta[META_NSTRAT] != (uint64_t)recall_n_strategies) {
        rc = hm_error(HM_EFORMAT, "%s: %llu strategies, this build knows %d", path,
                      (unsigned long long)t.meta[META_NSTRAT], recall_n_strategies);
        io_table_release(&t);
        return rc;
    }
    uint64_t n = t.n_rows, nu = t.meta[META_USERS];
    const void *user, *off, *item, *merged, *flags, *nst, *score[RECALL_MAX_STRATEGIES], *rank[RECALL_MAX_STRATEGIES];
    if ((rc = io_table_column(&t, "user", IO_U32, nu, &user)) ||
        (rc = io_table_column(&t, "user_off", IO_U64, nu + 1, &off)) ||
        (rc = io_table_column(&t, "item", IO_U32, n, &item)) ||
        (rc = io_table_column(&t, "merged", IO_F32, n, &merged)) ||
        (rc = io_table_column(&t, "flags", IO_U16, n, &flags)) ||
        (rc = io_table_column(&t, "n_strat", IO_U8, n, &nst))) {
        io_table_release(&t);
        return rc;
    }
    for (int s = 0; s < recall_n_strategies; s++) {
        char name[48];
        snprintf(name, sizeof name, "%s_score", recall_strategies[s]->name);
        if ((rc = io_table_column(&t, name, IO_F32, n, &score[s])) != 0)
            break;
        snprintf(name, sizeof name, "%s_rank", recall_strategies[s]->name);
        if ((rc = io_table_column(&t, name, IO_U16, n, &rank[s])) != 0)
            break;
    }
    if (rc) {
        io_table_release(&t);
        return rc;
    }
    /* the offsets must be a CSR over the rows */
    const uint64_t *o = off;
    int bad = o[0] != 0 || o[nu] != n;
    for (uint64_t i = 0; i < nu && !bad; i++)
        bad = o[i] > o[i + 1];
    if (bad) {
        io_table_release(&t);
        return hm_error(HM_EFORMAT, "%s: user_off is not a valid offset array over %llu rows", path,
                        (unsigned long long)n);
    }
    c->cutoff = (int32_t)t.meta[META_CUTOFF];
    c->n_users = (uint32_t)nu;
    c->n = c->cap = n;
#define COPY(dst, src, bytes) (dst = hm_xmalloc((bytes) + 1), ((bytes) != 0) ? memcpy(dst, src, bytes) : NULL)
    COPY(c->user, user, nu * 4);
    COPY(c->off, off, (nu + 1) * 8);
    COPY(c->item, item, n * 4);
    COPY(c->merged, merged, n * 4);
    COPY(c->flags, flags, n * 2);
    COPY(c->n_strat, nst, n);
    for (int s = 0; s < recall_n_strategies; s++) {
        COPY(c->score[s], score[s], n * 4);
        COPY(c->rank[s], rank[s], n * 2);
    }
#undef COPY
    io_table_release(&t);
    return 0;
}
