/* recall: Stage 2 of the pipeline, candidate generation (docs/recall.md).
 *
 * Part 1, the three baselines every model must beat (baseline.c), which also serve as the
 * simplest candidate sources:
 *   popular  the best sellers of the last `pop_days` days before the cutoff, for everyone
 *   decayed  time-decayed popularity over the last `decay_weeks` weeks: each row weighs
 *            exp(-(cutoff - 1 - day) / decay_tau)
 *   recent   each customer's own earlier purchases scored by recency and frequency,
 *            sum of exp(-(cutoff - 1 - day) / recent_tau) over their rows of the article,
 *            filled up with `popular`
 *
 * Part 2, the six recall strategies (one file each), the per-cutoff engine that holds their
 * shared state (engine.c), the merged candidate pool (merge.c) and its artifact
 * (candidates.c).
 *
 * Everything uses only transactions strictly before the cutoff. Ties break by the lower
 * article row. Ownership: structs with _init/_release own what they point to; the engine's
 * arrays are read-only after recall_engine_init and shared by the worker threads.
 */
#ifndef HM_RECALL_H
#define HM_RECALL_H

#include "core/core.h"
#include "data/data.h"
#include "prep/prep.h"
#include "text/text.h"

#define RECALL_K 12

enum recall_baseline { RECALL_POPULAR, RECALL_DECAYED, RECALL_RECENT, RECALL_NBASELINES };
extern const char *const recall_baseline_name[RECALL_NBASELINES];
/* The baseline of that name, or -1. */
int recall_baseline_find(const char *name);

struct recall_base_params {
    long pop_days;       /* 7 */
    long decay_weeks;    /* 4 */
    double decay_tau;    /* 7 days */
    double recent_tau;   /* 30 days */
};
extern const struct hm_setting recall_base_settings[];
extern const size_t recall_base_n_settings;

/* The k best articles by score over rows with day in [start, cutoff), each row weighing
 * exp(-(cutoff - 1 - day) / tau) (tau <= 0: every row weighs 1). out: (k) article rows, best
 * first; returns how many were found (fewer when fewer articles sold). */
uint32_t recall_top_articles(const struct data_set *ds, int32_t start, int32_t cutoff, double tau,
                             uint32_t k, uint32_t *out);

/* Predicts RECALL_K articles for each of users[0..n): out (n, RECALL_K) article rows, best
 * first; n_out (n) how many of each row are set (the rest are UINT32_MAX). */
int recall_baseline_predict(const struct data_set *ds, int kind, const struct recall_base_params *p,
                            int32_t cutoff, const uint32_t *users, uint32_t n, uint32_t *out,
                            uint8_t *n_out);

/* ======================================================================== */
/* ---- Stage 2: the recall strategies and the merged candidate pool -------- */
/* ======================================================================== */

/* Every strategy proposes, for one customer as of a cutoff day, up to N scored articles
 * (best first) from transactions strictly before the cutoff, restricted to the item
 * universe (prep's item filter: articles with >= prepare.min_item_purchases rows in the
 * history). The merge joins the lists per customer (docs/recall.md). */
enum recall_strategy {
    RECALL_S_REPURCHASE, /* the customer's own purchases, recency x frequency */
    RECALL_S_POPULAR,    /* sales volume, unique buyers and trend of the last days */
    RECALL_S_COPURCHASE, /* item-item Jaccard over buyer sets, from the customer's items */
    RECALL_S_USERKNN,    /* items of customers with overlapping histories */
    RECALL_S_CATEGORY,   /* popular items of the customer's preferred categories */
    RECALL_S_TEXT,       /* articles whose text embedding is closest to the customer's */
    RECALL_NSTRATEGIES
};
extern const char *const recall_strategy_name[RECALL_NSTRATEGIES];

struct recall_params {
    long pool;              /* candidates per customer kept by the merge (150) */
    double merge_k;         /* reciprocal rank fusion constant (20) */
    long window_weeks;      /* weeks before the cutoff of the co-purchase / user-KNN index (26) */
    long window_items;      /* most recent distinct items per customer in that index (50) */
    long query_items;       /* a customer's best history items that seed co-purchase/KNN (30) */
    double tau;             /* recency time constant (days) of a customer's history (60) */

    long rep_n;             /* repurchase: candidates (40) */
    double rep_w;           /* merge weight (1.5) */

    long pop_n;             /* popularity: candidates (60) */
    long pop_days;          /* days of the volume/buyer counts (7) */
    long pop_trend_periods; /* earlier periods of pop_days that the trend compares with (3) */
    double pop_w_volume, pop_w_buyers, pop_w_trend; /* score mix (1, 1, 0.5) */
    double pop_w;           /* merge weight (1) */

    long co_n;              /* co-purchase: candidates (60) */
    long co_neighbours;     /* neighbours kept per item (30) */
    double co_w;            /* merge weight (1.5) */

    long knn_n;             /* user-KNN: candidates (40) */
    long knn_neighbours;    /* similar customers kept (40) */
    long knn_fanout;        /* customers examined per query item (64) */
    double knn_w;           /* merge weight (1) */

    long cat_n;             /* category: candidates (40) */
    long cat_weeks;         /* weeks of decayed popularity within a category (4) */
    long cat_values;        /* preferred values per attribute (3) */
    long cat_items;         /* most popular items kept per attribute value (40) */
    double cat_w_type, cat_w_department, cat_w_section, cat_w_colour, cat_w_garment; /* (1,1,0.5,0.5,0.5) */
    double cat_w;           /* merge weight (1) */

    long text_n;            /* text similarity: candidates (30) */
    long text_dim;          /* SVD components of the TF-IDF article embeddings (64) */
    long text_items;        /* most popular kept items searched (10000) */
    long text_weeks;        /* weeks of (decayed) sales that choose them (4) */
    double text_w;          /* merge weight (0.5) */
};
extern const struct hm_setting recall_settings[];
extern const size_t recall_n_settings;

/* The strategy lists' lengths and merge weights of p, indexed by enum recall_strategy. */
void recall_params_lists(const struct recall_params *p, uint32_t n[RECALL_NSTRATEGIES],
                         double w[RECALL_NSTRATEGIES]);

/* ---- a customer's history (repurchase.c) --------------------------------------- */

/* The distinct articles a customer bought in [start, cutoff), each scored
 * sum over its rows of exp(-(cutoff - 1 - day) / tau) (recency x frequency), best first
 * (ties: lower article). Caller-owned scratch, reused between customers. */
struct recall_hist {
    uint32_t n;          /* distinct articles */
    uint32_t *item;      /* (n) article rows, best first */
    float *score;        /* (n) */
    uint32_t cap;
    uint64_t *tmp;       /* scratch: (cap) (article << 16 | day) keys */
    uint32_t *tmp_i;     /* scratch: (cap) */
    float *tmp_w;        /* scratch: (cap) */
};
void recall_hist_init(struct recall_hist *h);
void recall_hist_release(struct recall_hist *h);
void recall_hist_build(struct recall_hist *h, const struct data_set *ds, uint32_t customer,
                       int32_t start, int32_t cutoff, double tau);

/* ---- the strategies' shared state for one cutoff ---------------------------------- */

/* Each customer's most recent distinct items in [window start, cutoff) (kept items only,
 * at most window_items, most recent first) and its transpose, the item -> customers index
 * (customers ascending). Shared by co-purchase and user-KNN. */
struct recall_window {
    int32_t start;
    uint64_t *uoff;   /* (n_customers + 1) into uitem */
    uint32_t *uitem;  /* article rows */
    uint64_t *ioff;   /* (n_articles + 1) into iuser */
    uint32_t *iuser;  /* customer rows */
};

struct recall_popular {
    uint32_t n;          /* listed articles */
    uint32_t *item;      /* (n) best first */
    float *score;        /* (n) */
};

struct recall_copurchase {
    uint32_t k;          /* neighbours per item (slots) */
    uint32_t *nbr;       /* (n_articles, k) neighbour articles, most similar first */
    float *sim;          /* (n_articles, k) Jaccard similarity; 0 pads */
    uint8_t *n_nbr;      /* (n_articles) */
};

#define RECALL_CAT_DIMS 5
struct recall_category {
    int n_dims;
    int attr[RECALL_CAT_DIMS];     /* enum io_art_col of each used dimension */
    float weight[RECALL_CAT_DIMS];
    uint32_t *value[RECALL_CAT_DIMS];  /* (n_articles) dense value id of each article */
    uint32_t n_values[RECALL_CAT_DIMS];
    uint64_t *off[RECALL_CAT_DIMS];    /* (n_values + 1) into items/pop */
    uint32_t *items[RECALL_CAT_DIMS];  /* most popular kept items per value, best first */
    float *pop[RECALL_CAT_DIMS];       /* their popularity, scaled to max 1 */
};

/* Text similarity: TF-IDF + truncated SVD embeddings of every article (src/text), and the
 * searched subset (the most popular kept items). */
struct recall_textsim {
    struct text_model model;  /* model.svd.us: (n_articles, k) unit rows */
    uint32_t k;
    uint32_t n_docs;          /* searched articles */
    uint32_t *doc_item;       /* (n_docs) article row of each */
    uint32_t *item_doc;       /* (n_articles) doc of an article, UINT32_MAX when not searched */
    float *docs;              /* (n_docs, k) their embeddings */
};

/* Everything the strategies need for one cutoff, built once and shared (read-only)
 * between threads. */
struct recall_engine {
    const struct data_set *ds;
    struct recall_params p;
    int32_t cutoff;          /* day: only rows with day < cutoff are used */
    int32_t start;           /* first day of the history */
    const uint8_t *keep;     /* (n_articles) the item universe */
    struct recall_window win;
    struct recall_popular pop;
    struct recall_copurchase co;
    struct recall_category cat;
    struct recall_textsim text;
    double seconds_init[RECALL_NSTRATEGIES];
};

int recall_engine_init(struct recall_engine *e, const struct data_set *ds, const struct recall_params *p,
                       int32_t start, int32_t cutoff, const uint8_t *keep);
void recall_engine_release(struct recall_engine *e);

/* Per-thread scratch of the per-customer queries. */
struct recall_scratch {
    struct recall_hist hist;
    struct hm_acc items;   /* over articles */
    struct hm_acc users;   /* over customers (user-KNN) */
    uint8_t *mark;             /* (n_articles) */
    uint32_t *tmp_items;       /* (tmp_cap) */
    float *tmp_scores;         /* (tmp_cap) */
    uint32_t tmp_cap;
    const uint32_t *text_items; /* this customer's text list, set by the merge (batch search) */
    const float *text_scores;
    uint32_t text_n;
};
void recall_scratch_init(struct recall_scratch *s, const struct recall_engine *e);
void recall_scratch_release(struct recall_scratch *s);

/* The strategies (one file each). Each writes up to its N candidates for customer c
 * (best first) into items/scores and returns how many; s->hist must hold c's history
 * (recall_hist_build with the engine's start, cutoff and tau). */
uint32_t recall_repurchase_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                                uint32_t *items, float *scores);
int recall_popular_init(struct recall_popular *m, const struct recall_engine *e);
void recall_popular_release(struct recall_popular *m);
uint32_t recall_popular_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                             uint32_t *items, float *scores);
int recall_window_init(struct recall_window *w, const struct recall_engine *e);
void recall_window_release(struct recall_window *w);
int recall_copurchase_init(struct recall_copurchase *m, const struct recall_engine *e);
void recall_copurchase_release(struct recall_copurchase *m);
uint32_t recall_copurchase_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                                uint32_t *items, float *scores);
uint32_t recall_userknn_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                             uint32_t *items, float *scores);
int recall_category_init(struct recall_category *m, const struct recall_engine *e);
void recall_category_release(struct recall_category *m);
uint32_t recall_category_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                              uint32_t *items, float *scores);

int recall_text_init(struct recall_textsim *m, const struct recall_engine *e);
void recall_text_release(struct recall_textsim *m);
/* Text candidates of customers users[0..n) in one batch (sgemm): ids/scores (n, text_n)
 * article rows, best first; count (n). The customer's best `query_items` history items
 * (weighted by their recency x frequency score) make its embedding and are not proposed. */
int recall_text_batch(const struct recall_engine *e, const uint32_t *users, uint32_t n, uint32_t *ids,
                      float *scores, uint32_t *count);
/* Copies the list the batch left in s (text_items, text_scores, text_n). */
uint32_t recall_text_user(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                          uint32_t *items, float *scores);

/* Per-article counts over rows with day in [start, cutoff): rows (weighted by
 * exp(-(cutoff - 1 - day) / tau) when tau > 0) into score, distinct customers into buyers
 * (either may be NULL). (n_articles) each. Parallel over articles. */
void recall_article_counts(const struct data_set *ds, int32_t start, int32_t cutoff, double tau,
                           double *score, uint32_t *buyers);

/* ---- the merged pool (merge.c) ---------------------------------------------------- */

/* One row per (customer, article) that any strategy proposed; rows contiguous per customer
 * in merged order (best first). Merged score: reciprocal rank fusion,
 * sum over proposing strategies s of w_s / (merge_k + rank_s). */
struct recall_candidates {
    int32_t cutoff;
    uint32_t n_users;
    uint32_t *user;        /* (n_users) customer rows, as asked */
    uint64_t *off;         /* (n_users + 1) rows of user i: [off[i], off[i+1]) */
    uint64_t n;            /* rows */
    uint32_t *item;        /* (n) article rows */
    float *merged;         /* (n) fused score, descending within a customer */
    uint8_t *flags;        /* (n) bit s set: strategy s proposed it */
    uint8_t *n_strat;      /* (n) strategies that proposed it */
    float *score[RECALL_NSTRATEGIES];   /* (n) the strategy's score, 0 when not proposed */
    uint16_t *rank[RECALL_NSTRATEGIES]; /* (n) 1-based rank in the strategy, 0 when not */
    uint64_t cap;          /* allocated rows */
};
void recall_candidates_init(struct recall_candidates *c);
void recall_candidates_release(struct recall_candidates *c);

/* Candidates for users[0..n) (appended to out, which must be initialised), at most `pool`
 * per customer (0: no cap, the whole union). Parallel over customers; identical output for
 * any thread count. prog (may be NULL): advanced by one per customer. */
int recall_candidates_build(const struct recall_engine *e, const uint32_t *users, uint32_t n,
                            uint32_t pool, struct recall_candidates *out, struct hm_progress *prog);

/* ---- statistics of a pool against a week's purchases (merge.c) -------------------- */

#define RECALL_NSIZES 4
extern const uint32_t recall_stat_sizes[RECALL_NSIZES]; /* 25, 50, 100, 200 */

struct recall_stats {
    uint32_t pool;                 /* the configured pool size */
    uint64_t users, rows;          /* customers and candidate rows counted (first `pool`) */
    uint64_t truth_users, truth_pairs;  /* scored customers and their (customer, article) pairs */
    uint64_t hits;                 /* pairs inside the pool */
    uint64_t hits_strategy[RECALL_NSTRATEGIES]; /* pairs in the strategy's whole list */
    uint64_t unique[RECALL_NSTRATEGIES];        /* pairs in the pool that only s proposed */
    uint64_t hits_size[RECALL_NSIZES];          /* pairs in the first 25, 50, 100, 200 */
    uint64_t rows_size[RECALL_NSIZES];
    uint64_t strat_rows[RECALL_NSTRATEGIES];    /* candidates each strategy proposed */
};
/* Adds the customers of c (built with pool 0: the whole union) to st; truth: the week's
 * purchases (customers ascending). Only customers with purchases count for recall. */
void recall_stats_add(struct recall_stats *st, const struct recall_candidates *c,
                      const struct prep_truth *truth);
/* The stats as a text table (malloc'ed). */
char *recall_stats_format(const struct recall_stats *st);
/* A small SVG plot of recall vs pool size (malloc'ed). */
char *recall_stats_svg(const struct recall_stats *st);

/* ---- the artifact (candidates.c) ------------------------------------------------------ */

/* Table "candidates" (docs/recall.md): columns user, user_off, item, merged, flags,
 * n_strat, and per strategy <name>_score, <name>_rank; meta: cutoff, strategies, pool. */
int recall_candidates_write(const struct recall_candidates *c, uint32_t pool, const char *path);
int recall_candidates_read(struct recall_candidates *c, const char *path);

#endif
