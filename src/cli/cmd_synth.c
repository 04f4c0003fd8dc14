/* hmrec synth: generate a synthetic H&M data set, or check one against the real data's
 * statistics (--check). */
#include "cli.h"
#include "synth/synth.h"

#include <stdlib.h>
#include <string.h>

static void synth_usage(void)
{
    printf("usage: hmrec synth [--preset tiny|small|seed|full] [--seed N] [--images]\n"
           "                   [--oracle-weeks K] [--set synth.KEY=VALUE]... DIR\n"
           "       hmrec synth --check DIR\n"
           "       hmrec synth --list-settings\n\n"
           "Writes transactions_train.csv, articles.csv, customers.csv, image_embeddings.npy\n"
           "(+ image_embeddings_ids.txt), oracle/ and manifest.txt into DIR (docs/synth.md).\n"
           "--check measures DIR's statistics against the real data's and exits 1 when a row\n"
           "fails. Same seed and settings give the same bytes, whatever HMREC_THREADS is.\n");
}

static int run_check(const char *dir)
{
    struct synth_check_report rep;
    if (synth_check(dir, &rep) != 0)
        return cli_fail();
    printf("%-44s %12s %12s %21s  %s\n", "statistic", "target", "measured", "accepted", "");
    for (int i = 0; i < rep.n_rows; i++) {
        const struct synth_check_row *r = &rep.rows[i];
        char range[48];
        snprintf(range, sizeof range, "[%.4g, %.4g]", r->lo, r->hi);
        printf("%-44s %12s %12.5g %21s  %s\n", r->name, r->target, r->measured, range,
               !r->compared ? "not compared" : r->pass ? "pass" : "FAIL");
    }
    if (rep.n_not_compared)
        printf("\nnot compared: targets that hold only at the real set's scale (%d articles and %d "
               "customers, within %.0f%%)\n", SYNTH_REAL_ARTICLES, SYNTH_REAL_CUSTOMERS,
               100 * SYNTH_REAL_SCALE_TOL);
    if (rep.map_oracle > 0)
        printf("\nMAP@12 on the last week: oracle %.5f | previous week's top-12 %.5f | own last 12 "
               "purchases + top-12 %.5f | all-time top-12 %.5f\n",
               rep.map_oracle, rep.map_prev_top12, rep.map_own_pop, rep.map_alltime_top12);
    if (rep.test_buyers) {
        char d0[11], d1[11];
        hm_date_format(rep.test_first_day, d0);
        hm_date_format(rep.test_first_day + 6, d1);
        printf("held-out test week %s..%s (oracle/ only, not in the transactions): %llu buyers, oracle "
               "MAP@12 %.5f\n", d0, d1, (unsigned long long)rep.test_buyers, rep.map_test_oracle);
    }
    int compared = rep.n_rows - rep.n_not_compared;
    if (rep.n_not_compared)
        printf("%d of %d compared rows pass\n", compared - rep.n_failed, compared);
    else
        printf("%d of %d rows pass\n", rep.n_rows - rep.n_failed, rep.n_rows);
    return rep.n_failed ? 1 : 0;
}

int cmd_synth(int argc, char **argv)
{
    struct synth_params p;
    synth_params_init(&p);
    size_t nset;
    const struct hm_setting *table = synth_settings(&nset);
    const char *dir = NULL, *check = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            synth_usage();
            return 0;
        } else if (!strcmp(a, "--list-settings")) {
            char *s = hm_settings_format(table, nset, &p, "");
            fputs(s, stdout);
            free(s);
            return 0;
        } else if (!strcmp(a, "--check")) {
            if (!v)
                return cli_usage_error("synth", "--check needs a directory");
            check = v;
            i++;
        } else if (!strcmp(a, "--preset")) {
            if (!v)
                return cli_usage_error("synth", "--preset needs a name");
            if (synth_params_preset(&p, v))
                return cli_usage_error("synth", "%s", hm_last_error());
            i++;
        } else if (!strcmp(a, "--seed") || !strcmp(a, "--oracle-weeks")) {
            long x;
            if (!v || cli_parse_long("synth", a, v, &x))
                return v ? 2 : cli_usage_error("synth", "%s needs a value", a);
            if (hm_settings_set(table, nset, &p, !strcmp(a, "--seed") ? "synth.seed" : "synth.oracle_weeks",
                                v, a))
                return cli_usage_error("synth", "%s", hm_last_error());
            i++;
        } else if (!strcmp(a, "--images")) {
            p.images = 1;
        } else if (!strcmp(a, "--set")) {
            if (!v)
                return cli_usage_error("synth", "--set needs KEY=VALUE");
            if (hm_settings_override(table, nset, &p, v))
                return cli_usage_error("synth", "%s", hm_last_error());
            i++;
        } else if (a[0] == '-') {
            return cli_usage_error("synth", "unknown option '%s'", a);
        } else if (!dir) {
            dir = a;
        } else {
            return cli_usage_error("synth", "unexpected argument '%s'", a);
        }
    }
    if (check)
        return run_check(check);
    if (!dir)
        return cli_usage_error("synth", "missing output directory");
    struct synth_summary s;
    if (synth_generate(&p, dir, &s) != 0)
        return cli_fail();
    printf("synth: preset %s, seed %ld: %llu transactions, %llu customers (%llu never bought), "
           "%llu articles in %llu products, %.1f s\n",
           p.preset, p.seed, (unsigned long long)s.n_rows, (unsigned long long)s.n_customers,
           (unsigned long long)s.n_never, (unsigned long long)s.n_articles,
           (unsigned long long)s.n_products, s.seconds);
    uint64_t items = 0;
    for (int k = 0; k < SYNTH_N_SOURCES; k++)
        items += s.items_by_source[k];
    printf("purchased items by mechanism:");
    for (int k = 0; k < SYNTH_N_SOURCES; k++)
        printf(" %s %.1f%%", synth_source_names[k], items ? 100.0 * s.items_by_source[k] / items : 0.0);
    printf("\n");
    for (int k = 0; k < s.n_weeks; k++) {
        char d[11];
        hm_date_format(s.weeks[k].first_day, d);
        printf("%s %s: %llu buyers, MAP@12 oracle %.5f | prev-week top-12 %.5f | own "
               "recent + top-12 %.5f | all-time top-12 %.5f\n",
               s.test_week && k == s.n_weeks - 1 ? "test week (held out, not in the transactions)" : "oracle week",
               d, (unsigned long long)s.weeks[k].n_buyers, s.weeks[k].map_oracle,
               s.weeks[k].map_prev_top12, s.weeks[k].map_own_pop, s.weeks[k].map_alltime_top12);
    }
    return 0;
}
