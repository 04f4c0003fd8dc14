/* Statistics of a candidate pool against a week's purchases: recall overall, per strategy,
 * each strategy's unique contribution and recall at pool sizes; as text and as an SVG plot. */
#include "recall/recall.h"
#include "eval/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const uint32_t recall_stat_sizes[RECALL_NSIZES] = {25, 50, 100, 200};

void recall_stats_add(struct recall_stats *st, const struct recall_candidates *c,
                      const struct prep_truth *truth)
{
    for (uint32_t i = 0; i < c->n_users; i++) {
        uint64_t b = c->off[i], e = c->off[i + 1], n = e - b;
        st->users++;
        st->rows += st->pool && n > st->pool ? st->pool : n;
        for (int z = 0; z < RECALL_NSIZES; z++)
            st->rows_size[z] += n < recall_stat_sizes[z] ? n : recall_stat_sizes[z];
        for (uint64_t r = b; r < e; r++)
            for (int s = 0; s < recall_n_strategies; s++)
                st->strat_rows[s] += c->flags[r] >> s & 1;
        /* the customer's purchases in the week */
        uint32_t lo = prep_truth_find(truth, c->user[i]);
        if (lo == UINT32_MAX)
            continue;
        st->truth_users++;
        for (uint64_t k = truth->off[lo]; k < truth->off[lo + 1]; k++) {
            st->truth_pairs++;
            uint64_t r = b;
            while (r < e && c->item[r] != truth->items[k])
                r++;
            if (r == e)
                continue;
            uint64_t pos = r - b;
            int in_pool = !st->pool || pos < st->pool;
            st->hits += in_pool;
            for (int z = 0; z < RECALL_NSIZES; z++)
                st->hits_size[z] += pos < recall_stat_sizes[z];
            for (int s = 0; s < recall_n_strategies; s++) {
                st->hits_strategy[s] += c->flags[r] >> s & 1;
                st->unique[s] += in_pool && c->flags[r] == (1u << s);
            }
        }
    }
}

static double share(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0; }

char *recall_stats_format(const struct recall_stats *st)
{
    struct hm_buf b = {0};
#define OUT(...) hm_buf_printf(&b, __VA_ARGS__)
    OUT("customers %llu (%llu bought in the week: %llu purchase pairs)\n", (unsigned long long)st->users,
        (unsigned long long)st->truth_users, (unsigned long long)st->truth_pairs);
    OUT("pool: at most %u per customer, mean %.1f\n", st->pool, share(st->rows, st->users));
    OUT("%-12s %12s %10s %10s\n", "strategy", "cands/user", "recall", "unique");
    for (int s = 0; s < recall_n_strategies; s++)
        OUT("%-12s %12.1f %10.4f %10.4f\n", recall_strategies[s]->name, share(st->strat_rows[s], st->users),
            share(st->hits_strategy[s], st->truth_pairs), share(st->unique[s], st->truth_pairs));
    OUT("%-12s %12.1f %10.4f\n", "merged pool", share(st->rows, st->users), share(st->hits, st->truth_pairs));
    OUT("recall at pool size:");
    for (int z = 0; z < RECALL_NSIZES; z++)
        OUT("  %u: %.4f", recall_stat_sizes[z], share(st->hits_size[z], st->truth_pairs));
    OUT("\n");
#undef OUT
    return hm_buf_take(&b);
}

char *recall_stats_svg(const struct recall_stats *st)
{
    /* recall of the first 25/50/100/200 merged candidates, with the configured pool
     * inserted in its place and marked */
    double x[RECALL_NSIZES + 1], y[RECALL_NSIZES + 1];
    size_t n = 0, mark = SIZE_MAX;
    for (int z = 0; z <= RECALL_NSIZES; z++) {
        uint32_t size = z < RECALL_NSIZES ? recall_stat_sizes[z] : UINT32_MAX;
        if (st->pool && mark == SIZE_MAX && st->pool <= size) {
            mark = n;
            x[n] = st->pool;
            y[n++] = share(st->hits, st->truth_pairs);
            if (st->pool == size)
                continue;
        }
        if (z < RECALL_NSIZES) {
            x[n] = size;
            y[n++] = share(st->hits_size[z], st->truth_pairs);
        }
    }
    struct eval_series merged = {"merged pool", y};
    struct eval_ref all = {"all candidates", share(st->hits, st->truth_pairs)};
    struct eval_line_chart c = {.title = "Candidate recall against pool size",
                                .x_label = "candidates per customer (first N of the merged pool)",
                                .y_label = "recall (share of the week's purchases)",
                                .x = x, .n = n, .series = &merged, .n_series = 1, .y_zero = 1,
                                .x_unit = EVAL_COUNT, .y_unit = EVAL_NUMBER};
    if (mark != SIZE_MAX) {
        c.mark_label = "configured pool";
        c.mark_index = mark;
    } else { /* pool 0: the whole union, as a line */
        c.refs = &all;
        c.n_refs = 1;
    }
    char *svg = eval_plot_line(&c);
    if (!svg)
        HM_BUG("recall plot: %s", hm_last_error());
    return svg;
}

char *recall_stats_strategy_svg(const struct recall_stats *st)
{
    const char *names[RECALL_MAX_STRATEGIES];
    double v[RECALL_MAX_STRATEGIES];
    for (int s = 0; s < recall_n_strategies; s++) {
        names[s] = recall_strategies[s]->name;
        v[s] = share(st->hits_strategy[s], st->truth_pairs);
    }
    struct eval_ref pool = {"merged pool", share(st->hits, st->truth_pairs)};
    struct eval_bar_chart c = {.title = "Candidate recall per strategy", .category_label = "strategy",
                               .value_label = "recall of the strategy's whole list", .names = names,
                               .values = v, .n = (size_t)recall_n_strategies, .refs = &pool, .n_refs = 1};
    char *svg = eval_plot_bars(&c);
    if (!svg)
        HM_BUG("recall plot: %s", hm_last_error());
    return svg;
}
