/* synth internals: the taxonomy tables, the catalogue, the weekly popularity tables, the
 * customers and the purchase model shared by the generator and the oracle. */
#ifndef HM_SYNTH_INTERNAL_H
#define HM_SYNTH_INTERNAL_H

#include "synth/synth.h"

#define SYNTH_STYLES 8    /* style clusters (colour/pattern families) */
#define SYNTH_TIERS 3     /* price tiers within a product type */
#define SYNTH_ZDIM 32     /* latent attribute space of articles */
#define SYNTH_EMB 512     /* image embedding width */
#define SYNTH_MAX_CELLS 24

/* ---- taxonomy (taxonomy.c) ---------------------------------------------- */

struct synth_tx_type { int no; char name[40]; char group[32]; int gg; };
struct synth_tx_cell { int type; int ig; double count; };      /* (type, index group) */
struct synth_tx_index { char code[4]; char name[48]; int ig; double count; };
struct synth_tx_ig { int no; char name[32]; };
struct synth_tx_section { int no; char name[48]; int ig; double count; };
struct synth_tx_simple { int no; char name[40]; double count; }; /* garment groups, appearances */
struct synth_tx_colour {
    int code; char name[32]; int value_id; char value_name[24]; int master_id; char master_name[24];
    double count;
};

struct synth_taxonomy {
    int n_types, n_cells, n_index, n_ig, n_sections, n_gg, n_app, n_colours;
    struct synth_tx_type types[160];
    struct synth_tx_cell cells[400];
    struct synth_tx_index index[16];
    struct synth_tx_ig ig[8];
    struct synth_tx_section sections[64];
    struct synth_tx_simple gg[32];
    struct synth_tx_simple app[40];
    struct synth_tx_colour colours[320];
    int n_masters;
    int master_ids[32];       /* distinct perceived_colour_master_id values */
};

extern const char synth_taxonomy_tsv[];
/* Parses the embedded table (never fails on the embedded text: a parse error is a bug). */
void synth_taxonomy_load(struct synth_taxonomy *t);

/* ---- catalogue (catalogue.c) --------------------------------------------- */

struct synth_catalogue {
    size_t n;                 /* articles, in article_id order */
    size_t n_products;
    uint32_t *prod_first;     /* (n_products + 1) article range of each product */
    uint32_t *product_code;   /* (n_products) */
    uint32_t *product;        /* (n) product index */
    uint16_t *colour_no;      /* (n) 1-based colour number within the product (id's last 3 digits) */
    uint16_t *cell, *type, *ig, *index, *section, *gg, *app, *colour; /* (n) taxonomy indexes */
    uint16_t *dept;           /* (n) department index */
    uint8_t *style, *tier;    /* (n) */
    uint8_t *season;          /* (n) 0 all year, 1 summer, 2 winter */
    uint32_t *price_ore;      /* (n) list price in öre (SEK / 100) */
    float *attract;           /* (n) base attractiveness */
    int16_t *launch_week;     /* (n) week index of launch (negative: before the data) */
    float *life_tau;          /* (n) decay time constant in weeks */
    uint32_t *partner;        /* (n) the complementary article (may be itself) */
    float *z;                 /* (n, SYNTH_ZDIM) latent attributes */
    /* articles sorted by (cell, style, tier): perm[k] is an article; a sublist s is
     * perm[sub_first[s] .. sub_first[s+1]), a cell c is perm[cell_first[c] .. cell_first[c+1]) */
    uint32_t *perm;           /* (n) */
    uint32_t *pos;            /* (n) inverse of perm */
    uint32_t *sub_first;      /* (n_cells * STYLES * TIERS + 1) */
    uint32_t *cell_first;     /* (n_cells + 1) */
    int n_cells;
    int n_depts;
    int *dept_no;             /* (n_depts) */
    char (*dept_name)[48];    /* (n_depts) */
    int *comp_cell;           /* (n_cells) complementary cell or -1 */
};

void synth_catalogue_build(struct synth_catalogue *c, const struct synth_taxonomy *t,
                           const struct synth_params *p, int n_weeks);
void synth_catalogue_release(struct synth_catalogue *c);
/* Text of an article: its product name and description (buffers of 64 / 512 bytes). */
void synth_article_text(const struct synth_catalogue *c, const struct synth_taxonomy *t,
                        uint64_t seed, size_t a, char *name, char *desc);

/* ---- weekly popularity (weeks.c) -------------------------------------------- */

struct synth_weeks {
    int n_weeks;              /* weeks in the tables: the data's, then the held-out test week */
    int n_data;               /* weeks of transactions_train.csv */
    int32_t day0;             /* first day of week 0 (the last data week ends on the last day) */
    size_t n;                 /* articles */
    float *popw;              /* (n_weeks, n) popularity of article a in week w */
    double *cum;              /* (n_weeks, n + 1) prefix sums of popw in perm order */
    int trend_size;
    uint32_t *trend_ids;      /* (n_weeks, trend_size) the week's trending articles, best first */
    double *trend_cum;        /* (n_weeks, trend_size) cumulative trend weights, last = 1 */
    uint32_t *live;           /* (n_weeks, n) per week, sublist s's on-sale articles by
                                 popularity (best first) at [sub_first[s], + live_n[w][s]) */
    uint32_t *live_n;         /* (n_weeks, n_sub) */
    size_t n_sub;
    float *day_factor;        /* (n_weeks * 7) visit-rate multiplier per day */
    float *discount;          /* (n_weeks) sale-period intensity 0..1 */
};

/* Tables for n_data weeks from day0 and n_held weeks after them (the weeks of one week do not
 * depend on the others: more held-out weeks leave the data's unchanged). */
void synth_weeks_build(struct synth_weeks *wk, const struct synth_catalogue *c,
                       const struct synth_params *p, int32_t day0, int n_data, int n_held);
void synth_weeks_release(struct synth_weeks *wk);
/* Sum of popw over perm[lo..hi) in week w. */
static inline double synth_range_mass(const struct synth_weeks *wk, int w, uint32_t lo, uint32_t hi)
{
    const double *cu = wk->cum + (size_t)w * (wk->n + 1);
    return cu[hi] - cu[lo];
}

/* ---- customers (customers.c) ----------------------------------------------- */

struct synth_customers {
    size_t n;
    uint64_t *id;             /* (n, 4) 256-bit ids, sorted ascending */
    float *age;               /* (n) years, < 0 when missing */
    uint32_t *postal;         /* (n) postal code index */
    size_t n_postal;
    uint8_t *fn, *active, *club, *news; /* codes of the categorical columns */
};

void synth_customers_build(struct synth_customers *cu, const struct synth_params *p);
void synth_customers_release(struct synth_customers *cu);

/* A customer's latent behaviour, derived from its own rng stream (never stored). */
struct synth_taste {
    int n_cells;
    uint16_t cells[SYNTH_MAX_CELLS];
    double cell_w[SYNTH_MAX_CELLS];   /* probabilities, sum 1 */
    double style_w[SYNTH_STYLES];     /* probabilities, sum 1 */
    double tier_w[SYNTH_TIERS];       /* probabilities, sum 1 */
    double w_rep, w_trend, w_taste;   /* mixture weights when a history exists */
    double p_online;
    double basket_extra;              /* mean extra articles per visit of this customer */
    double rate;                      /* visits per week */
    int32_t start_week, end_week;     /* active weeks [start, end] of the data */
    int never;
    int churned;                      /* stops within the data (end_week drawn): no purchase in
                                         the held-out week */
};

struct synth_model {
    const struct synth_params *p;
    const struct synth_taxonomy *tax;
    const struct synth_catalogue *cat;
    const struct synth_weeks *wk;
    const struct synth_customers *cu;
    int n_personas;
    uint16_t *persona_cells;  /* (n_personas, SYNTH_MAX_CELLS) */
    float *persona_cell_w;    /* (n_personas, SYNTH_MAX_CELLS) */
    int *persona_n_cells;     /* (n_personas) */
    uint8_t *persona_style;   /* (n_personas, 2) */
    float *persona_age;       /* (n_personas) typical age */
    uint8_t *persona_male;    /* (n_personas) menswear leaning */
};

void synth_model_init(struct synth_model *m, const struct synth_params *p,
                      const struct synth_taxonomy *tax, const struct synth_catalogue *cat,
                      const struct synth_weeks *wk, const struct synth_customers *cu);
void synth_model_release(struct synth_model *m);
void synth_taste_make(const struct synth_model *m, size_t customer, struct synth_taste *t);

/* ---- purchases (behaviour.c) ------------------------------------------------ */

/* A transaction row in compact form (16 bytes). */
struct synth_rec {
    uint32_t customer;
    uint32_t article;
    uint16_t day;             /* days since synth_weeks.day0 */
    uint16_t price_ore;       /* price in öre (SEK / 100) */
    uint8_t channel;          /* 1 store, 2 online */
    uint8_t pad[3];
};

/* The repurchase pool of a customer: earlier purchases (before the current week). */
struct synth_hist {
    uint32_t *art;
    int16_t *week;
    size_t n, cap;
    size_t n_committed;       /* entries bought before the current week */
    uint8_t *in_hist;         /* (n_articles) 1 for the committed articles; all 0 between customers */
};

/* Per-thread scratch for the oracle's dense scores. */
struct synth_scratch {
    double *score;            /* (n_articles) zero between uses */
    uint32_t *touched;        /* (n_articles) */
    uint8_t *mark;            /* (n_articles) */
    size_t n_touched;
};
void synth_scratch_init(struct synth_scratch *s, size_t n_articles);
void synth_scratch_release(struct synth_scratch *s);

/* The oracle: the model's expected purchases of each article by this customer in week w
 * (history = purchases before w), top 12 into out (best first); returns how many. */
int synth_oracle_top12(const struct synth_model *m, const struct synth_taste *t,
                       const struct synth_hist *h, int w, struct synth_scratch *s, uint32_t *out);

/* The oracle's scores (expected purchases in week w, history before w) of its candidates,
 * left in s->score for the articles s->touched[0 .. n_touched). followups = 0: only the
 * first-draw mixture probability M_uw(a) (exact: what synth_draw_first samples).
 * synth_scratch_clear resets the scratch afterwards. */
void synth_oracle_scores(const struct synth_model *m, const struct synth_taste *t,
                         const struct synth_hist *h, int w, struct synth_scratch *s, int followups);
void synth_scratch_clear(struct synth_scratch *s);
/* One first-item draw from the customer's mixture in week w (the generator's own). */
uint32_t synth_draw_first(const struct synth_model *m, const struct synth_taste *t,
                          const struct synth_hist *h, int w, struct hm_rng *r);

struct synth_recbuf {
    struct synth_rec *r;
    size_t n, cap;
    uint64_t by_source[SYNTH_N_SOURCES]; /* purchased items by the mechanism that chose them */
    uint64_t by_source_held[SYNTH_N_SOURCES]; /* the same in the held-out week */
};
/* Where one customer's oracle goes: n_weeks weeks from first_week (the last oracle weeks of
 * the data, then the held-out week), top (n_weeks, 12), n (n_weeks) counts (0: no purchase). */
struct synth_oracle_slots {
    int first_week, n_weeks;
    uint32_t *top;
    uint8_t *n;
};
/* Generates one customer's transactions, appending to out: the data's weeks from the
 * customer's behaviour stream, then the held-out weeks (m->wk->n_weeks > n_data) from a stream
 * of their own, so that the data's rows are the same with or without them. */
void synth_customer_generate(const struct synth_model *m, size_t customer, struct synth_hist *h,
                             struct synth_scratch *s, struct synth_recbuf *out,
                             const struct synth_oracle_slots *o);

/* ---- oracle files (oracle.c) -------------------------------------------------- */

/* Writes oracle/ for the K weeks from first_week: the oracle's top-12 per buyer
 * (oracle_top (n_customers, K, 12), oracle_n (n_customers, K)), the realised purchases, and
 * the MAP@12 of the oracle and of the baselines into sum->weeks. recs are sorted by day and
 * include the held-out week's rows (weeks from m->wk->n_data), which only oracle/ holds. */
int synth_oracle_write(const struct synth_model *m, const struct synth_rec *recs, size_t n,
                       const uint32_t *oracle_top, const uint8_t *oracle_n, int first_week, int K,
                       const char *dir, struct synth_summary *sum);

/* ---- output helpers (writer.c) ----------------------------------------------- */

/* Appends a CSV field with the quoting pandas uses (quotes around fields with a comma, a
 * quote or a line break; inner quotes doubled). Returns the new end. */
char *synth_csv_field(char *dst, const char *s);
void synth_hex64(uint64_t v, char *dst);           /* 16 lower-case hex digits, no NUL */
void synth_customer_hex(const struct synth_customers *cu, size_t i, char *dst); /* 64 + NUL */
void synth_postal_hex(uint64_t seed, uint32_t code, char *dst);             /* 64 + NUL */
void synth_article_id(const struct synth_catalogue *c, size_t a, char *dst); /* 10 + NUL */

int synth_write_articles(const struct synth_catalogue *c, const struct synth_taxonomy *t,
                         const struct synth_params *p, const char *dir);
int synth_write_customers(const struct synth_customers *cu, const struct synth_params *p,
                          const char *dir);
/* Writes recs (sorted by day) as transactions_train.csv, formatted by hm_threads() threads
 * in chunks and written in order. */
int synth_write_transactions(const struct synth_rec *recs, size_t n, const struct synth_customers *cu,
                             const struct synth_catalogue *c, int32_t day0,
                             double price_scale, const char *dir);
/* The image embeddings: normalise(W (z + attr_noise noise) + 0.35 noise) per article. */
int synth_write_embeddings(const struct synth_catalogue *c, uint64_t seed, double attr_noise, const char *dir);
int synth_write_images(const struct synth_catalogue *c, const struct synth_taxonomy *t,
                       const struct synth_params *p, const char *dir);

/* Formats a price (öre) the way the real file writes prices: price_ore / 100 / scale with
 * 17 significant digits ("0.050830508474576264"). Returns the length. */
int synth_price_text(uint32_t price_ore, double scale, char *dst);


#endif
