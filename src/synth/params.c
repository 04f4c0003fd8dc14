/* synth/params.c: the generator's parameters, their defaults and the presets. */
#include "synth/synth.h"

#include <stddef.h>
#include <string.h>

#define P(f) offsetof(struct synth_params, f)
static const struct hm_setting table[] = {
    {"synth.preset", HM_SET_STRING, P(preset), "small", 0, 0, 0, "preset the sizes came from"},
    {"synth.seed", HM_SET_INT, P(seed), "42", 0, 4e18, 0, "random seed"},
    {"synth.n_customers", HM_SET_INT, P(n_customers), "100000", 10, 2e7, 0, "customers"},
    {"synth.n_articles", HM_SET_INT, P(n_articles), "20000", 50, 2e6, 0, "articles"},
    {"synth.first_day", HM_SET_STRING, P(first_day), "2018-09-20", 0, 0, 0, "first transaction day"},
    {"synth.last_day", HM_SET_STRING, P(last_day), "2020-09-22", 0, 0, 0, "last transaction day"},
    {"synth.oracle_weeks", HM_SET_INT, P(oracle_weeks), "2", 1, 8, 0, "last weeks with an oracle"},
    {"synth.test_week", HM_SET_INT, P(test_week), "1", 0, 1, 0,
     "1: also simulate the week after the data (its truth and oracle in oracle/, never in the "
     "transactions)"},
    {"synth.images", HM_SET_INT, P(images), "0", 0, 1, 0, "1: draw JPEG product images"},
    {"synth.image_size", HM_SET_INT, P(image_size), "64", 16, 512, 0, "JPEG side in pixels"},
    {"synth.visit_rate", HM_SET_DOUBLE, P(visit_rate), "0.036", 0, 10, 0,
     "median visits per week of an active customer"},
    {"synth.visit_sigma", HM_SET_DOUBLE, P(visit_sigma), "1.25", 0, 4, 0, "log-normal sigma of visit rates"},
    {"synth.never_share", HM_SET_DOUBLE, P(never_share), "0.0071", 0, 1, 0, "customers who never buy"},
    {"synth.cold_share", HM_SET_DOUBLE, P(cold_share), "0.25", 0, 1, 0, "customers joining late"},
    {"synth.churn_share", HM_SET_DOUBLE, P(churn_share), "0.30", 0, 1, 0, "customers who churn"},
    {"synth.online_mean", HM_SET_DOUBLE, P(online_mean), "0.70", 0, 1, 0, "mean online probability"},
    {"synth.n_personas", HM_SET_INT, P(n_personas), "96", 1, 100000, 0, "shared taste profiles"},
    {"synth.postal_share", HM_SET_DOUBLE, P(postal_share), "0.35", 0, 1, 0,
     "probability of the postal code's persona"},
    {"synth.taste_cells", HM_SET_INT, P(taste_cells), "14", 1, 24, 0, "cells in a customer's taste"},
    {"synth.basket_extra", HM_SET_DOUBLE, P(basket_extra), "1.85", 0, 50, 0,
     "mean extra articles per visit"},
    {"synth.dup_prob", HM_SET_DOUBLE, P(dup_prob), "0.045", 0, 1, 0, "items bought in quantity > 1"},
    {"synth.w_repurchase", HM_SET_DOUBLE, P(w_repurchase), "0.04", 0, 1, 0, "repurchase weight"},
    {"synth.rep_sibling", HM_SET_DOUBLE, P(rep_sibling), "0.45", 0, 1, 0,
     "share of repurchase draws that take another colour"},
    {"synth.rep_decay_weeks", HM_SET_DOUBLE, P(rep_decay_weeks), "4", 0.1, 1000, 0,
     "recency decay of the repurchase pool"},
    {"synth.w_trend", HM_SET_DOUBLE, P(w_trend), "0.07", 0, 1, 0, "trend-following weight"},
    {"synth.novelty", HM_SET_DOUBLE, P(novelty), "0.98", 0, 1, 0,
     "probability a trend/taste draw of an article bought before is redrawn"},
    {"synth.trend_size", HM_SET_INT, P(trend_size), "100", 1, 10000, 0, "articles in the trending set"},
    {"synth.trend_power", HM_SET_DOUBLE, P(trend_power), "1.0", 0, 4, 0, "popularity exponent in the trend set"},
    {"synth.w_partner", HM_SET_DOUBLE, P(w_partner), "0.18", 0, 1, 0, "next item is the complement"},
    {"synth.w_sibling", HM_SET_DOUBLE, P(w_sibling), "0.07", 0, 1, 0, "next item is another colour"},
    {"synth.style_focus", HM_SET_DOUBLE, P(style_focus), "0.5", 0, 1, 0, "mass of the main style"},
    {"synth.attract_sigma", HM_SET_DOUBLE, P(attract_sigma), "0.85", 0, 4, 0, "sigma of log attractiveness"},
    {"synth.life_weeks", HM_SET_DOUBLE, P(life_weeks), "8", 0.5, 1000, 0, "median decay time in weeks"},
    {"synth.basic_share", HM_SET_DOUBLE, P(basic_share), "0.03", 0, 1, 0, "long-lived basics"},
    {"synth.season_amp", HM_SET_DOUBLE, P(season_amp), "0.8", 0, 1, 0, "seasonal amplitude"},
    {"synth.price_scale", HM_SET_DOUBLE, P(price_scale), "590", 1, 1e6, 0, "SEK per written price unit"},
    {"synth.sale_discount", HM_SET_DOUBLE, P(sale_discount), "0.35", 0, 0.9, 0, "mean sale discount"},
    {"synth.image_noise", HM_SET_DOUBLE, P(image_noise), "0", 0, 100, 0,
     "noise added to an article's attributes before its image embedding (0: none)"},
    {"synth.code_noise", HM_SET_DOUBLE, P(code_noise), "0", 0, 1000, 0,
     "sd in weeks of the launch order that product codes follow (0: codes rise with launches)"},
};
#undef P

const struct hm_setting *synth_settings(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

void synth_params_init(struct synth_params *p)
{
    memset(p, 0, sizeof *p);
    hm_settings_defaults(table, sizeof table / sizeof table[0], p);
}

int synth_params_preset(struct synth_params *p, const char *name)
{
    static const struct { const char *name; long customers, articles; } presets[] = {
        {"tiny", 400, 600},
        {"small", 100000, 20000},
        {"seed", 52000, 16000},
        {"full", 1371980, 105542},
    };
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(name, presets[i].name)) {
            strcpy(p->preset, name);
            p->n_customers = presets[i].customers;
            p->n_articles = presets[i].articles;
            /* a catalogue five times larger spreads the tastes thinner: lean more on the trend
             * and on repurchase so that the popularity and repurchase statistics stay put.
             * A week's breadth (distinct articles sold) follows the number of articles on
             * sale, more than half of which sell in any week: a shorter life keeps about 20 k
             * of them on sale instead of 46 k, which brings the distinct articles sold per
             * 1,000 buyers to the real 261. That figure is a target only at the real scale,
             * so the smaller presets keep the default life. With fewer articles on sale the
             * same article comes up twice on a day more often (an exact duplicate row), so
             * quantities are a little rarer to keep the duplicate-row share at the real one. */
            if (!strcmp(name, "full")) {
                p->w_trend = 0.10;
                p->w_repurchase = 0.055;
                p->dup_prob = 0.056;
                p->basket_extra = 1.9;
                p->life_weeks = 3.0;
            }
            return 0;
        }
    return hm_error(HM_EINVAL, "unknown preset '%s' (expected tiny, small, seed or full)", name);
}
