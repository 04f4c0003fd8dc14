/* Statistics of a candidate pool against a week's purchases: recall overall, per strategy,
 * each strategy's unique contribution and recall at pool sizes; as text and as an SVG plot. */
#include "recall/recall.h"

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
    /* 480 x 300, x: pool size 0..200 (linear), y: recall 0..ymax */
    double ymax = 0;
    for (int z = 0; z < RECALL_NSIZES; z++)
        if (share(st->hits_size[z], st->truth_pairs) > ymax)
            ymax = share(st->hits_size[z], st->truth_pairs);
    ymax = ymax > 0 ? ceil(ymax * 20 + 0.5) / 20 : 0.05;
    struct hm_buf b = {0};
#define OUT(...) hm_buf_printf(&b, __VA_ARGS__)
#define X(v) (60.0 + (double)(v) / 200.0 * 390.0)
#define Y(v) (250.0 - (v) / ymax * 220.0)
    OUT("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"300\" font-family=\"sans-serif\" "
        "font-size=\"11\">\n<rect width=\"480\" height=\"300\" fill=\"white\"/>\n");
    OUT("<text x=\"240\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">candidate recall vs pool size</text>\n");
    OUT("<line x1=\"60\" y1=\"250\" x2=\"450\" y2=\"250\" stroke=\"black\"/>\n"
        "<line x1=\"60\" y1=\"250\" x2=\"60\" y2=\"30\" stroke=\"black\"/>\n");
    for (int k = 0; k <= 4; k++) {
        double v = ymax * k / 4;
        OUT("<line x1=\"56\" y1=\"%.1f\" x2=\"450\" y2=\"%.1f\" stroke=\"#ddd\"/>"
            "<text x=\"52\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>\n", Y(v), Y(v), Y(v) + 4, v);
    }
    for (int z = 0; z < RECALL_NSIZES; z++)
        OUT("<text x=\"%.1f\" y=\"266\" text-anchor=\"middle\">%u</text>\n", X(recall_stat_sizes[z]),
            recall_stat_sizes[z]);
    OUT("<text x=\"255\" y=\"288\" text-anchor=\"middle\">candidates per customer</text>\n");
    OUT("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"%.1f,%.1f", X(0), Y(0.0));
    for (int z = 0; z < RECALL_NSIZES; z++)
        OUT(" %.1f,%.1f", X(recall_stat_sizes[z]), Y(share(st->hits_size[z], st->truth_pairs)));
    OUT("\"/>\n");
    for (int z = 0; z < RECALL_NSIZES; z++) {
        double r = share(st->hits_size[z], st->truth_pairs);
        OUT("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\"/>"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.4f</text>\n",
            X(recall_stat_sizes[z]), Y(r), X(recall_stat_sizes[z]), Y(r) - 7, r);
    }
    OUT("</svg>\n");
#undef X
#undef Y
#undef OUT
    return hm_buf_take(&b);
}
