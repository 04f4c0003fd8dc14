/* synth: a synthetic H&M data set in the Kaggle formats, with a ground-truth oracle.
 *
 * synth_generate() writes, into one directory:
 *   transactions_train.csv, articles.csv, customers.csv  (formats of docs/data.md)
 *   image_embeddings.npy (n_articles, 512) float32, L2-normalised rows, and
 *   image_embeddings_ids.txt (one 10-digit article id per row, the .npy's row order)
 *   oracle/ (the generator's own best top-12 for each of the last K weeks and, unless
 *           test_week is 0, for the held-out week after the data with its purchases;
 *           docs/synth.md)
 *   manifest.txt (seed, preset, every parameter, row counts)
 *   images/0XX/0XXXXXXXXX.jpg when params.images is set
 * The same parameters give the same bytes, whatever the number of threads.
 *
 * synth_check() reads a directory back (transactions and customers), measures the
 * statistics that docs/data.md lists for the real data and compares them with their targets.
 * The statistics are computed by synth_stats_compute() over plain arrays, so any reader
 * (the ingest module later) can feed them. The model is documented in docs/synth.md. */
#ifndef HM_SYNTH_H
#define HM_SYNTH_H

#include "core/core.h"

/* ---- parameters --------------------------------------------------------- */

/* Every parameter of the generator. Set by synth_params_init (defaults of preset
 * "small"), synth_params_preset, or the settings table (keys "synth.<field>"). */
struct synth_params {
    char preset[HM_SETTING_STRLEN];    /* tiny, small, seed, full */
    long seed;
    long n_customers;
    long n_articles;
    char first_day[HM_SETTING_STRLEN]; /* YYYY-MM-DD, first transaction day */
    char last_day[HM_SETTING_STRLEN];  /* YYYY-MM-DD, last transaction day (end of last week) */
    long oracle_weeks;                 /* last K weeks with an oracle */
    long test_week;                    /* 1: also the held-out week after the last day */
    long images;                       /* 1: also draw JPEG images */
    long image_size;                   /* pixels per side of the JPEGs */
    /* customers */
    double visit_rate;        /* median shopping visits per week of an active customer */
    double visit_sigma;       /* log-normal sigma of the visit rate (heavy tail) */
    double never_share;       /* share of customers who never buy */
    double cold_share;        /* share who join after the first day (cold starts) */
    double churn_share;       /* share who stop buying before the last day */
    double online_mean;       /* mean of the customers' online-channel probability */
    long n_personas;          /* shared taste profiles */
    double postal_share;      /* probability a customer takes the postal code's persona */
    long taste_cells;         /* (type, index group) cells in a customer's taste */
    /* purchases */
    double basket_extra;      /* mean extra unique articles per visit (geometric) */
    double dup_prob;          /* probability an item is bought in quantity > 1 */
    double w_repurchase;      /* mixture weight: an article from the own history */
    double rep_sibling;       /* ... of which: another colour of that product */
    double rep_decay_weeks;   /* recency decay of the repurchase pool */
    double w_trend;           /* mixture weight: the week's trending articles */
    double novelty;           /* a trend/taste draw of an article bought before is redrawn
                                 once with this probability */
    long trend_size;          /* articles in the week's trending set */
    double trend_power;       /* exponent on popularity inside the trending set */
    double w_partner;         /* next basket item is the previous item's complement */
    double w_sibling;         /* next basket item is another colour of the previous one */
    double style_focus;       /* probability mass of the customer's main style */
    /* catalogue */
    double attract_sigma;     /* log-normal sigma of article attractiveness */
    double life_weeks;        /* median weeks of an article's decay time constant */
    double basic_share;       /* share of long-lived basics */
    double season_amp;        /* amplitude of an item's seasonal fit */
    double price_scale;       /* SEK per unit of the written price (the real set: 590) */
    double sale_discount;     /* mean discount of sale-period prices */
    /* how clean the side signals are (docs/synth.md: worlds) */
    double image_noise;       /* norm of the noise added to an article's latent attributes before
                                 its image embedding (theirs: about 2); 0 none */
    double code_noise;        /* product codes follow launch week + code_noise N(0,1) instead of
                                 the launch week; 0: strictly increasing with launches */
};

void synth_params_init(struct synth_params *p);
/* Applies a preset's sizes (tiny, small, seed, full); HM_EINVAL for an unknown name. */
int synth_params_preset(struct synth_params *p, const char *name);
/* The settings table over struct synth_params (keys "synth.<field>"). */
const struct hm_setting *synth_settings(size_t *n);

/* ---- generation ---------------------------------------------------------- */

#define SYNTH_MAX_ORACLE_WEEKS 8

/* The mechanisms that choose a purchased article (docs/synth.md). */
enum synth_source {
    SYNTH_SRC_REPEAT,        /* repurchase of an earlier article */
    SYNTH_SRC_REPEAT_COLOUR, /* repurchase: another colour of an earlier product */
    SYNTH_SRC_TREND,         /* the week's trending articles */
    SYNTH_SRC_TASTE,         /* the customer's cells x styles x price tiers */
    SYNTH_SRC_PARTNER,       /* basket follow-up: the previous item's complement */
    SYNTH_SRC_COLOUR,        /* basket follow-up: another colour of the previous item */
    SYNTH_N_SOURCES
};
extern const char *const synth_source_names[SYNTH_N_SOURCES];

/* What a run produced (also written to manifest.txt and oracle/summary.tsv). */
struct synth_summary {
    uint64_t n_rows;            /* transaction rows written */
    uint64_t n_customers, n_articles, n_products;
    uint64_t n_never;           /* customers without a transaction */
    int n_weeks;                /* oracle weeks, the held-out week (when any) last */
    int test_week;              /* 1: weeks[n_weeks - 1] is the held-out week after the data */
    uint64_t n_test_rows;       /* purchase rows of the held-out week (not in the transactions) */
    struct synth_week_result {
        int32_t first_day;      /* days since 1970-01-01 */
        uint64_t n_buyers;      /* scored customers */
        double map_oracle;      /* MAP@12 of the oracle */
        double map_prev_top12;  /* previous week's top-12 for everyone */
        double map_own_pop;     /* own last 12 distinct purchases (most recent first), then
                                   the previous week's top-12 (not the metrics table's
                                   `recent`, which ranks by recency x frequency) */
        double map_alltime_top12; /* all-time best sellers */
    } weeks[SYNTH_MAX_ORACLE_WEEKS + 1];
    uint64_t items_by_source[SYNTH_N_SOURCES]; /* purchased items (rows without quantity) */
    uint64_t test_items_by_source[SYNTH_N_SOURCES]; /* the same in the held-out week */
    double seconds;
};

/* Generates the data set into dir (created if needed). */
int synth_generate(const struct synth_params *p, const char *dir, struct synth_summary *out);

/* ---- statistics and calibration check ------------------------------------ */

/* Transactions as plain columns (any order). Customers and articles are dense indexes. */
struct synth_txcols {
    size_t n;
    const int32_t *day;       /* (n) days since 1970-01-01 */
    const uint32_t *customer; /* (n) customer index */
    const uint32_t *article;  /* (n) article index */
    const double *price;      /* (n) */
    const uint8_t *channel;   /* (n) 1 store, 2 online */
    size_t n_customers, n_articles;
};

/* One row of the calibration table: the target, what was measured, the accepted range. A row
 * whose target holds only at the real set's scale is measured but not compared elsewhere. */
struct synth_check_row {
    char name[64];
    char target[48];          /* the real data's figure, as text */
    double measured;
    double lo, hi;            /* pass when lo <= measured <= hi */
    int compared;             /* 0: measured only (the data set is not at the real scale) */
    int pass;                 /* compared and within [lo, hi]; 0 when not compared */
};

/* The real set's size (docs/data.md): statistics that depend on the numbers of articles and
 * customers are compared only when both are within SYNTH_REAL_SCALE_TOL of these. */
#define SYNTH_REAL_ARTICLES 105542
#define SYNTH_REAL_CUSTOMERS 1371980
#define SYNTH_REAL_SCALE_TOL 0.10

#define SYNTH_CHECK_MAX_ROWS 32
struct synth_check_report {
    int n_rows;
    struct synth_check_row rows[SYNTH_CHECK_MAX_ROWS];
    int n_failed;             /* compared rows out of range */
    int n_not_compared;       /* rows measured but not compared (scale) */
    /* the baselines against the oracle, on the last week (0 when no oracle/ was found) */
    double map_oracle, map_prev_top12, map_own_pop, map_alltime_top12;
    /* the held-out week after the last day, when oracle/ has its truth file: its buyers and the
     * oracle's MAP@12 against that file (test_buyers 0 when absent) */
    int32_t test_first_day;
    uint64_t test_buyers;
    double map_test_oracle;
};

/* Measures the statistics of docs/data.md ("How customers behave"). ages: (n_customers) age in
 * years, < 0 when missing. */
void synth_stats_compute(const struct synth_txcols *tx, const float *ages,
                         struct synth_check_report *rep);

/* The simple baselines for the week starting at week_day (7 days), over customers who buy in
 * that week, using only transactions before it. Each result is a MAP@12. */
struct synth_baselines {
    uint64_t n_buyers;
    double prev_top12, own_pop, alltime_top12;
};
void synth_baselines_compute(const struct synth_txcols *tx, int32_t week_day,
                             struct synth_baselines *out);

/* Reads dir's articles.csv, customers.csv and transactions_train.csv with the ingest
 * module's strict readers, computes the statistics and, when dir/oracle exists, the
 * oracle's MAP@12 on the last week against the baselines, and on the held-out week against
 * its truth file (whose customers and articles must be the data's). */
int synth_check(const char *dir, struct synth_check_report *rep);

#endif
