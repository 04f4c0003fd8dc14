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
 * Part 2, the recall strategies (one file and one table row each), the per-cutoff engine that holds their
 * shared state (engine.c), the merged candidate pool (merge.c) and its artifact
 * (candidates.c).
 *
 * Everything uses only transactions strictly before the cutoff. Ties break by the lower
 * article row. Ownership: structs with _init/_release own what they point to; the engine's
 * arrays are read-only after recall_engine_init and shared by the worker threads.
 */
#ifndef HM_RECALL_H
#define HM_RECALL_H

#include <math.h>

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

/* Every strategy proposes, for one customer as of a cutoff day, up to n scored articles
 * (best first) from transactions strictly before the cutoff, restricted to the item
 * universe (prep's item filter: articles with >= prepare.min_item_purchases rows in the
 * history). The merge joins the lists per customer (docs/recall.md).
 *
 * A strategy is one file and one line of the table in engine.c (recall_strategies): a
 * `struct recall_strategy` with its name, its settings (rows of its own params struct,
 * whose first member is a struct recall_list_params), what shared state it needs, and its
 * functions. Its params live in the strategy's slot of struct recall_params. */

#define RECALL_MAX_STRATEGIES 16   /* flags are 16 bits */
#define RECALL_PARAMS_BYTES 256    /* room for one strategy's params struct */

/* The head of every strategy's params struct. */
struct recall_list_params {
    long n;     /* candidates per customer (0: the strategy is off) */
    double w;   /* merge weight */
};

/* ---- style topics (style.c) ------------------------------------------------------------- */

/* A topic model of the customers' purchases over colour x pattern pairs: k styles, each a
 * distribution over the pairs, and every customer a mix of them (docs/recall.md). */
#define RECALL_STYLE_MAX 32
struct recall_style_params {
    long k;           /* styles (at most RECALL_STYLE_MAX; 0: no model) */
    long iters;       /* EM iterations of the fit */
    double share;     /* pseudo-random share of the customers fitted on */
    double tau;       /* time constant (days) of a row's weight */
    double kappa;     /* prior weight (rows) of the shop's mix in a customer's */
};
struct recall_style {
    uint32_t k, n_pairs;   /* n_pairs = RECALL_CAPPED_VALUES x patterns */
    uint32_t *pair;        /* (n_articles) the article's pair */
    float *phi;            /* (n_pairs, k) P(pair | style t) at phi[pair * k + t] */
    float *mix;            /* (k) the styles' share of the fitted rows */
    float *marg;           /* (n_pairs) P(pair) = sum_t mix_t phi_t(pair) */
    uint32_t n_fitted;     /* customers in the fit */
};
/* Fits the model on the rows in [start, cutoff) of a pseudo-random share of the customers;
 * an article's pair is (its capped colour master id, its capped pattern id), as
 * recall_capped_ids numbers them. Deterministic. */
void recall_style_fit(const struct data_set *ds, int32_t start, int32_t cutoff, const struct recall_style_params *sp,
                      struct recall_style *st);
void recall_style_release(struct recall_style *st);
/* A customer's mix theta (k) from their rows [lo, hi) (weights exp(-age / sp->tau)), shrunk
 * towards the shop's mix with the weight of sp->kappa rows; the shop's mix without rows. */
void recall_style_customer(const struct recall_style *st, const struct recall_style_params *sp,
                           const struct data_transactions *tx, uint64_t lo, uint64_t hi, int32_t cutoff,
                           float *theta);
/* Their lift of a pair: P(pair | theta) / P(pair); 1 for a pair the shop never bought. */
float recall_style_lift(const struct recall_style *st, const float *theta, uint32_t pair);

struct recall_params {
    long pool;              /* candidates per customer kept by the merge (150) */
    double merge_k;         /* reciprocal rank fusion constant (20) */
    double merge_style;     /* exponent of the customer's style lift on the fused score (0: none) */
    long window_weeks;      /* weeks before the cutoff of the co-purchase / user-KNN index (26) */
    long window_items;      /* most recent distinct items per customer in that index (50) */
    long query_items;       /* a customer's best history items that seed co-purchase/KNN (30) */
    double tau;             /* recency time constant (days) of a customer's history (60) */
    /* the two-stage option (docs/recall.md): the merge keeps `wide` rows, a learned scorer
     * (trained and applied by the pipeline) keeps the best `pool` of them */
    long wide;              /* rows the merge keeps before the learned cut (0: no cut) */
    long cut_keep;          /* its first rows kept in the merge's order, not scored */
    long cut_week;          /* the scorer's training week, counted back from the validation
                               week (0: the one before the oldest training week) */
    long cut_users;         /* that week's buyers the scorer learns from (a fixed sample) */
    double cut_negatives;   /* share of their negative rows kept for training */
    long cut_rounds;        /* boosting rounds of the scorer */
    long cut_depth;         /* depth of its trees */
    struct recall_style_params style; /* the style topics (recall.style_*) */
    /* (strategy s) its params struct, recall_strategies[s]->params_size bytes */
    _Alignas(8) unsigned char strategy[RECALL_MAX_STRATEGIES][RECALL_PARAMS_BYTES];
};
/* The settings table of recall_params: the common rows, then every strategy's rows in table
 * order (built once; keys "recall.*"). */
const struct hm_setting *recall_settings_table(size_t *n);
/* Strategy s's params struct inside p. */
static inline const void *recall_params_of(const struct recall_params *p, int s)
{
    return p->strategy[s];
}
static inline const struct recall_list_params *recall_list_of(const struct recall_params *p, int s)
{
    return (const struct recall_list_params *)p->strategy[s];
}

struct recall_engine;
struct recall_scratch;

/* Shared state an engine builds once for all strategies that ask for it. */
enum {
    RECALL_NEEDS_WINDOW = 1, /* the recent-purchase index (struct recall_window) */
    RECALL_NEEDS_TEXT = 2,   /* the article text embeddings (the engine's inputs) */
    RECALL_NEEDS_IMAGE = 4,  /* the article image embeddings (the engine's inputs); a strategy
                                that needs them is off when the inputs have none */
    RECALL_NEEDS_STYLE = 8,  /* the style topics (struct recall_style; none when style_k is 0) */
};

struct recall_strategy {
    const char *name;        /* "copurchase": statistics, artifact columns <name>_score/_rank */
    const char *help;        /* one line */
    const struct hm_setting *settings; /* offsets into its own params struct */
    size_t n_settings;
    size_t params_size;      /* <= RECALL_PARAMS_BYTES */
    unsigned needs;          /* RECALL_NEEDS_* */
    /* Builds the strategy's per-cutoff state (NULL: none); *state is released by release. */
    int (*init)(const struct recall_engine *e, int s, void **state);
    void (*release)(void *state);
    /* Per customer (one of user or block is set): up to n candidates of customer c into
     * items/scores, best first; returns how many. s->hist holds c's history. Called from
     * worker threads with their own scratch. */
    uint32_t (*user)(const struct recall_engine *e, int s, struct recall_scratch *sc, uint32_t c,
                     uint32_t *items, float *scores);
    /* Per block of customers, for strategies that work best batched (text: one sgemm;
     * user-KNN: its exchanges with the other ranks): ids/scores (n, list n) best first, count
     * (n). sc: the caller's nt per-thread scratches (parallel work runs on nt threads, thread t
     * with sc[t]). On shards every rank calls it the same number of times (n may be 0: the
     * merger agrees on its number of batches). */
    int (*block)(const struct recall_engine *e, int s, struct recall_scratch *const *sc, int nt,
                 const uint32_t *users, uint32_t n, uint32_t *ids, float *scores, uint32_t *count);
};

/* The table (engine.c), in the order of flags bits and artifact columns. */
extern const struct recall_strategy *const recall_strategies[];
extern const int recall_n_strategies;
/* The strategy of that name, or -1. */
int recall_strategy_find(const char *name);

/* Same basket's neighbours of article a (strategy s): their count, and pointers to the
 * articles (best first) and their conditional probabilities P(j | a). */
uint32_t recall_basket_neighbours(const struct recall_engine *e, int s, uint32_t a, const uint32_t **nbr,
                                  const float **prob);

/* ---- a customer's history (history.c) --------------------------------------- */

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

/* ---- article attributes (articles.c) ----------------------------------------------------- */

/* Dense ids 0..n-1 of the distinct values of col[0..na) (ascending value order) into out
 * (na); returns n. */
uint32_t recall_dense_ids(const int32_t *col, uint32_t na, uint32_t *out);
/* The same for the distinct pairs (a[x], b[x]) (e.g. product type x index group). */
uint32_t recall_dense_pairs(const int32_t *a, const int32_t *b, uint32_t na, uint32_t *out);
/* Dense ids of the distinct values of keys[0..n) (ascending) into out (n); returns how many. */
uint32_t recall_dense_u64(const uint64_t *keys, uint32_t n, uint32_t *out);
/* Dense ids of col[0..na) capped at RECALL_CAPPED_VALUES - 1 (rarer values share the last id;
 * col NULL: all 0) into out (na); returns the number of ids used. */
#define RECALL_CAPPED_VALUES 256
uint32_t recall_capped_ids(const int32_t *col, uint32_t na, uint8_t *out);
/* Dense cell ids (product type x index group) of every article into cell (n_articles);
 * returns the number of cells (one cell for all when either column is missing). */
uint32_t recall_cells(const struct data_articles *art, uint32_t *cell);

/* A customer's short list of cells (segment popularity, new arrivals): the position of cell k
 * in cells[0..*n), appended with weight 0 when absent and *n < cap; UINT32_MAX when absent
 * and the list is full. */
static inline uint32_t recall_cell_slot(uint32_t *cells, float *cw, uint32_t *n, uint32_t cap, uint32_t k)
{
    uint32_t x = 0;
    while (x < *n && cells[x] != k)
        x++;
    if (x == *n) {
        if (*n == cap)
            return UINT32_MAX;
        cells[x] = k;
        cw[x] = 0;
        (*n)++;
    }
    return x;
}

/* A customer's lift of an attribute value: [(w + kappa g) / (total + kappa)] / g raised to ex,
 * their weight w (of total) on the value against the shop's share g; 1 when g or ex is 0. */
static inline float recall_lift(float w, float total, double g, double kappa, double ex)
{
    return g > 0 && ex > 0 ? (float)pow((w + kappa * g) / (total + kappa) / g, ex) : 1.0f;
}

/* The articles of every group (a dense id per article), ascending: group v's articles are
 * item[off[v] .. off[v+1]). keep (may be NULL): only those articles. */
struct recall_groups {
    uint32_t n;        /* groups */
    uint32_t *off;     /* (n + 1) */
    uint32_t *item;    /* article rows */
};
void recall_groups_init(struct recall_groups *g, const uint32_t *group, uint32_t n_groups, uint32_t na,
                        const uint8_t *keep);
void recall_groups_release(struct recall_groups *g);

/* Each article's price level within its group: its reference price is the highest price
 * paid for it in [start, cutoff) (sales lower prices, the list price is the top), and the
 * articles of a group with a price are split by rank into `levels` equal parts, 0 the
 * cheapest; out (n_articles) = level, or `levels` when the article did not sell. */
void recall_price_levels(const struct data_set *ds, int32_t start, int32_t cutoff, const uint32_t *group,
                         uint32_t n_groups, uint32_t levels, uint8_t *out);

/* ---- the engine: the strategies' shared state for one cutoff --------------------------- */

/* Each customer's most recent distinct items in [window start, cutoff) (kept items only,
 * at most window_items, most recent first) and its transpose, the item -> customers index
 * (customers ascending). Shared by co-purchase and user-KNN (window.c). On shards the lists
 * are those of the rank's customers; the article side's view gathers, for the articles of
 * the rank's article side, every rank's buyers with their whole lists (in a whole store the
 * view is the index itself). */
struct recall_window {
    int32_t start;
    uint64_t *uoff;   /* (n_customers + 1) into uitem */
    uint32_t *uitem;  /* article rows */
    uint64_t *ioff;   /* (n_articles + 1) into iuser */
    uint32_t *iuser;  /* customer rows */
    /* the article side's view */
    uint32_t n_buyers;
    const uint32_t *buyer;  /* (n_buyers) customer rows ascending (NULL: buyer x is customer x) */
    const uint64_t *boff;   /* (n_buyers + 1) buyer x's list: bitem[boff[x] .. boff[x+1]) */
    const uint32_t *bitem;
    const uint64_t *aoff;   /* (n_articles + 1) buyers of article a: auser[aoff[a] .. aoff[a+1]),
                               empty outside the article side's range */
    const uint32_t *auser;  /* buyer indexes, ascending */
    uint32_t *deg;          /* (n_articles) customers of every rank with the article in their list */
    void *view_buf[5];      /* owns the view's arrays on shards */
};
int recall_window_init(struct recall_window *w, const struct recall_engine *e);
void recall_window_release(struct recall_window *w);

/* What an engine reads besides the transactions. */
struct recall_inputs {
    const uint8_t *keep;     /* (n_articles) the item universe */
    const float *text_emb;   /* (n_articles, text_dim) unit rows: the text stage's article
                                embeddings; NULL when no strategy needs them */
    uint32_t text_dim;
    const float *image_emb;  /* (n_articles, image_dim) the article image embeddings, or NULL
                                (the strategies that need them are then off) */
    const uint8_t *image_missing; /* (n_articles) 1: no image (a zero row), or NULL */
    uint32_t image_dim;
};

/* Everything the strategies need for one cutoff, built once and shared (read-only)
 * between threads. */
struct recall_engine {
    const struct data_set *ds;
    struct recall_params p;
    int32_t cutoff;          /* day: only rows with day < cutoff are used */
    int32_t start;           /* first day of the history */
    const uint8_t *keep;     /* (n_articles) the item universe */
    const float *text_emb;   /* see struct recall_inputs */
    uint32_t text_dim;
    const float *image_emb;  /* see struct recall_inputs */
    const uint8_t *image_missing;
    uint32_t image_dim;
    struct recall_window win;                 /* when a strategy needs it */
    struct recall_style style;                /* when a strategy needs it (k 0: none) */
    void *state[RECALL_MAX_STRATEGIES];       /* each strategy's init result */
    double seconds_window;                    /* time to build the window index */
    double seconds_style;                     /* time to fit the style topics */
    double seconds_init[RECALL_MAX_STRATEGIES];
};

/* Builds the shared state of every strategy in use for the cutoff. A strategy that needs
 * the image embeddings is turned off (its list length set to 0 in e->p) when in has none. */
int recall_engine_init(struct recall_engine *e, const struct data_set *ds, const struct recall_params *p,
                       int32_t start, int32_t cutoff, const struct recall_inputs *in);
void recall_engine_release(struct recall_engine *e);
/* A view of engine e that reads customers' rows from ds, e's store seen through an overlay
 * (data_customer_rows): e's shared state is borrowed, nothing is built or copied, and the view
 * is never released (it is valid while e lives). What e computed from the article side stays
 * as of e's data. */
void recall_engine_view(struct recall_engine *view, const struct recall_engine *e, const struct data_set *ds);
/* 1 when strategy s proposes candidates (its list length is > 0). */
static inline int recall_engine_uses(const struct recall_engine *e, int s)
{
    return recall_list_of(&e->p, s)->n > 0;
}

/* Per-thread scratch of the per-customer queries. */
struct recall_scratch {
    struct recall_hist hist;
    struct hm_acc items;       /* over articles */
    struct hm_acc users;       /* over customers (user-KNN) */
    uint32_t *knn_len;         /* (customers, with users) user-KNN: a visited customer's list length */
    uint32_t *knn_item;        /* (customers, with users) user-KNN: the item it was first visited by */
    uint8_t *mark;             /* (n_articles) */
    uint32_t *tmp_items;       /* (tmp_cap) */
    float *tmp_scores;         /* (tmp_cap) */
    uint32_t tmp_cap;
    uint32_t visit;            /* the current customer's visit (recall_scratch_begin), from 1 */
    float theta[RECALL_STYLE_MAX]; /* the current customer's style mix (recall_scratch_style) */
    uint32_t theta_visit;      /* the visit theta was computed in (0: none) */
    float *lift;               /* (style pairs) the current customer's style lifts, valid */
    uint32_t *lift_visit;      /* (style pairs) where computed in the current visit */
};
void recall_scratch_init(struct recall_scratch *s, const struct recall_engine *e);
void recall_scratch_release(struct recall_scratch *s);
/* Starts customer c's queries: their history into s->hist, and a new visit, so that what
 * the scratch keeps per customer (style mix, lifts) is computed afresh, even for the customer
 * of the visit before (whose rows may have changed: an overlay). */
void recall_scratch_begin(struct recall_scratch *s, const struct recall_engine *e, uint32_t c);
/* Customer c's style mix (the engine's style topics, which must exist), computed once per
 * visit and kept in the scratch for the strategies and the merge that follow. */
const float *recall_scratch_style(const struct recall_engine *e, struct recall_scratch *s, uint32_t c);
/* Customer c's style lift of a pair (recall_style_lift of their mix) raised to ex, the
 * lift computed once per visit and pair. */
static inline float recall_scratch_lift(const struct recall_engine *e, struct recall_scratch *s, uint32_t c,
                                        uint32_t pair, double ex)
{
    if (s->lift_visit[pair] != s->visit) {
        s->lift[pair] = recall_style_lift(&e->style, recall_scratch_style(e, s, c), pair);
        s->lift_visit[pair] = s->visit;
    }
    return ex == 1 ? s->lift[pair] : powf(s->lift[pair], (float)ex);
}

/* Runs strategy s for customers users[0..n) outside the merge (tests, tools): ids/scores
 * (n, its list length) best first, count (n). */
int recall_strategy_run(const struct recall_engine *e, int s, const uint32_t *users, uint32_t n,
                        uint32_t *ids, float *scores, uint32_t *count);

/* Co-purchase's neighbours of article a in the engine's table (strategy s): their count, and
 * pointers to the (most similar first) articles and their similarities. */
uint32_t recall_copurchase_neighbours(const struct recall_engine *e, int s, uint32_t a,
                                      const uint32_t **nbr, const float **sim);

/* Per-article counts over rows with day in [start, cutoff): rows (weighted by
 * exp(-(cutoff - 1 - day) / tau) when tau > 0) into score, distinct customers into buyers
 * (either may be NULL). (n_articles) each. Parallel over articles (popular.c). */
void recall_article_counts(const struct data_set *ds, int32_t start, int32_t cutoff, double tau,
                           double *score, uint32_t *buyers);
/* Per article, the day of its first row in [start, cutoff) (INT32_MAX: none). (n_articles).
 * Parallel over articles (popular.c). */
void recall_article_first_sale(const struct data_set *ds, int32_t start, int32_t cutoff, int32_t *first);

/* ---- item neighbour tables (itemnbrs.c), shared by co-purchase and same basket ----------- */

/* For every article, its (at most k) heaviest neighbours, heaviest first. */
struct recall_item_nbrs {
    uint32_t k;
    uint32_t *nbr;      /* (n_articles, k) neighbour articles */
    float *w;           /* (n_articles, k) their weights */
    uint8_t *n_nbr;     /* (n_articles) neighbours listed */
};
/* Adds the weights of article i's neighbours (not i itself) into acc, a per-thread
 * accumulator over the articles, empty on entry; ud is the builder's. */
typedef void (*recall_nbr_fn)(uint32_t i, struct hm_acc *acc, void *ud);
/* Builds t for the data set's articles and k (at most 255) neighbours each: fn for every
 * article of the article side on hm_threads() threads, the k heaviest kept (hm_acc_top's order:
 * the same table for any thread count); on shards each rank builds its articles' rows and
 * the ranks share them (collective). */
void recall_item_nbrs_build(struct recall_item_nbrs *t, const struct data_set *ds, uint32_t k, recall_nbr_fn fn,
                            void *ud);
/* Counts of article pairs: for article i, the articles j it was counted with and how often. */
struct recall_pairs {
    uint64_t *off;     /* (n_articles + 1) pairs of i: [off[i], off[i+1]), j ascending */
    uint32_t *item;    /* j */
    uint32_t *count;   /* how many keys i << 32 | j were given, over every rank */
};
/* Collective: the counts of the pairs keys[0..n) (i << 32 | j, one key per occurrence; sorted
 * in place) of every rank, for the articles i of this rank's article side (every article in
 * a whole store; the others have none). */
void recall_pair_counts(const struct data_set *ds, uint64_t *keys, uint64_t n, struct recall_pairs *out);
void recall_pairs_release(struct recall_pairs *p);
void recall_item_nbrs_release(struct recall_item_nbrs *t);
/* Releases and frees a table allocated with hm_xcalloc (a strategy's state; NULL is fine). */
void recall_item_nbrs_free(void *state);
/* A customer's neighbours: for their best e->p.query_items kept history items (h, best
 * first), each neighbour's weight times the history item's score, added into out. */
void recall_item_nbrs_gather(const struct recall_engine *e, const struct recall_item_nbrs *t,
                             const struct recall_hist *h, struct hm_acc *out);
/* Article a's neighbours: their count, and pointers into the table. */
uint32_t recall_item_nbrs_of(const struct recall_item_nbrs *t, uint32_t a, const uint32_t **nbr, const float **w);

/* ---- embedding similarity (embsim.c), shared by the text and image strategies ------------- */

/* The searched articles of an article embedding matrix: the `items` most popular kept
 * articles (decayed rows over `weeks` weeks) that have an embedding. */
struct recall_embsim {
    const float *emb;         /* (n_articles, dim) unit rows, borrowed */
    uint32_t dim;
    uint32_t n_docs;          /* searched articles */
    uint32_t *doc_item;       /* (n_docs) article row of each, most popular first */
    uint32_t *item_doc;       /* (n_articles) doc of an article, UINT32_MAX when not searched */
    float *docs;              /* (n_docs, dim) their embeddings */
};
/* missing (may be NULL): (n_articles) 1 for articles without an embedding. */
void recall_embsim_init(struct recall_embsim *m, const struct recall_engine *e, const float *emb, uint32_t dim,
                        const uint8_t *missing, long items, long weeks);
void recall_embsim_release(struct recall_embsim *m);
/* For customers users[0..n): their profile is the history-score weighted mean of their best
 * query_items history items' embeddings (normalised); ids/scores (n, top): the `top` searched
 * articles of highest cosine, best first, the query items excluded; count (n). Customers
 * without history, or whose items have no embedding, get none. */
int recall_embsim_block(const struct recall_engine *e, const struct recall_embsim *m, uint32_t top,
                        const uint32_t *users, uint32_t n, uint32_t *ids, float *scores, uint32_t *count);

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
    uint16_t *flags;       /* (n) bit s set: strategy s proposed it */
    uint8_t *n_strat;      /* (n) strategies that proposed it */
    float *score[RECALL_MAX_STRATEGIES];   /* (n) strategy s's score, 0 when not proposed
                                              (s < recall_n_strategies) */
    uint16_t *rank[RECALL_MAX_STRATEGIES]; /* (n) 1-based rank in strategy s, 0 when not */
    uint64_t cap;          /* allocated rows */
};
void recall_candidates_init(struct recall_candidates *c);
void recall_candidates_release(struct recall_candidates *c);
/* Empties c, keeping its allocations. */
void recall_candidates_clear(struct recall_candidates *c);
/* Appends the first `pool` rows of each customer of src to dst (pool 0: all). */
void recall_candidates_append(struct recall_candidates *dst, const struct recall_candidates *src,
                              uint32_t pool);

/* Appends to dst the rows of src that keep marks (keep: src->n; NULL keeps all), customer by
 * customer; a customer none of whose rows is kept is left out. */
void recall_candidates_subset(struct recall_candidates *dst, const struct recall_candidates *src,
                              const uint8_t *keep);
/* dst = customers [i0, i1) of src (dst is cleared first). */
void recall_candidates_slice(struct recall_candidates *dst, const struct recall_candidates *src, uint32_t i0,
                             uint32_t i1);

/* The merge's per-thread scratch for one engine, reused across calls. */
struct recall_merger;
struct recall_merger *recall_merger_new(const struct recall_engine *e, uint32_t pool);
void recall_merger_free(struct recall_merger **m);
/* Merged candidates for users[0..n), appended to out (initialised), at most the merger's
 * pool per customer (0: no cap, the whole union). Parallel over customers; identical output
 * for any thread count. prog (may be NULL): advanced by one per customer. */
int recall_merger_run(struct recall_merger *m, const uint32_t *users, uint32_t n,
                      struct recall_candidates *out, struct hm_progress *prog);

/* recall_merger_run with a merger of its own (one call). */
int recall_candidates_build(const struct recall_engine *e, const uint32_t *users, uint32_t n,
                            uint32_t pool, struct recall_candidates *out, struct hm_progress *prog);

/* A learned cut of the merged pool (the two-stage option): the merge keeps the first `wide`
 * rows of each customer; the first `keep` of them stay first, in the merge's order, and
 * `score` gives each of the others a score (higher is better): the best of those by that
 * score (ties: the earlier merged row) fill the pool, best first, with every column (flags,
 * strategies' scores and ranks, the fused score) as the merge left it. */
struct recall_cut {
    uint32_t wide;
    /* Fills score[r] for the rows keep <= r < wide of every customer of c (the others are
     * not read); 0 or an error. Called once per block, from the stream's thread. */
    int (*score)(void *ud, const struct recall_candidates *c, uint32_t wide, float *score);
    void *ud;
    uint32_t keep;
};

/* dst (cleared first) = src with each customer's rows keep..wide-1 reordered by score
 * (descending; ties: the earlier row) after the first `keep`, then cut to `pool` rows (pool
 * 0: no cap, the rows after the first `wide` follow in their order). Parallel over
 * customers; the same output for any thread count. */
void recall_candidates_cut(struct recall_candidates *dst, const struct recall_candidates *src, const float *score,
                           uint32_t wide, uint32_t keep, uint32_t pool);

/* The merged pool of many customers, one block at a time: memory is bounded by the block
 * whatever the number of customers, so a consumer (statistics, features, scoring, the
 * submission) can walk every customer without the pool ever existing whole.
 *     struct recall_stream st;
 *     recall_stream_init(&st, e, users, n, 32768, pool, prog);
 *     const struct recall_candidates *c;
 *     while ((rc = recall_stream_next(&st, &c)) > 0) { ... c: the next block ... }
 *     recall_stream_release(&st);
 * Blocks follow users' order; threads work inside a block. block 0: 32,768 customers, or
 * fewer when their rows (at most `pool`, or every list slot when pool is 0) could pass
 * 512 MiB. On shards the stream is collective (user-KNN exchanges with the other ranks): every
 * rank must walk its stream to the end, and takes as many blocks as the rank with the most
 * customers, the last ones empty (0 customers). */
struct recall_stream {
    struct recall_merger *m;
    const uint32_t *users;   /* (n) borrowed */
    uint32_t n, next, block;
    uint64_t blocks, taken;  /* blocks to give (every rank the same number) and given */
    uint32_t pool;
    struct recall_candidates c; /* the current block */
    struct hm_progress *prog;
    struct recall_cut cut;      /* wide 0: none */
    struct recall_candidates wide; /* with a cut: the merge's rows before it */
    float *score;               /* (rows of wide) with a cut */
    uint64_t score_cap;
};
void recall_stream_init(struct recall_stream *st, const struct recall_engine *e, const uint32_t *users,
                        uint32_t n, uint32_t block, uint32_t pool, struct hm_progress *prog);
/* The same with a learned cut (cut may be NULL or have wide 0: none): the merge keeps
 * cut->wide rows per customer (every row when pool is 0, for statistics), each block is
 * scored and cut to `pool`. The block size accounts for the wide rows. */
void recall_stream_init_cut(struct recall_stream *st, const struct recall_engine *e, const uint32_t *users,
                            uint32_t n, uint32_t block, uint32_t pool, const struct recall_cut *cut,
                            struct hm_progress *prog);
/* 1 and *out = the next block (valid until the next call), 0 at the end, or an error. */
int recall_stream_next(struct recall_stream *st, const struct recall_candidates **out);
void recall_stream_release(struct recall_stream *st);

/* ---- statistics of a pool against a week's purchases (stats.c) -------------------- */

#define RECALL_NSIZES 5
extern const uint32_t recall_stat_sizes[RECALL_NSIZES]; /* 25, 50, 100, 150, 200 */

struct recall_stats {
    uint32_t pool;                 /* the configured pool size */
    uint64_t users, rows;          /* customers and candidate rows counted (first `pool`) */
    uint64_t truth_users, truth_pairs;  /* scored customers and their (customer, article) pairs */
    uint64_t hits;                 /* pairs inside the pool */
    uint64_t hits_strategy[RECALL_MAX_STRATEGIES]; /* pairs in the strategy's whole list */
    uint64_t unique[RECALL_MAX_STRATEGIES];        /* pairs in the pool that only s proposed */
    uint64_t hits_size[RECALL_NSIZES];          /* pairs in the first 25, 50, 100, 150, 200 */
    uint64_t rows_size[RECALL_NSIZES];
    uint64_t strat_rows[RECALL_MAX_STRATEGIES];    /* candidates each strategy proposed */
    double ceiling;     /* sum over scored customers of min(hits in the pool, 12) /
                           min(purchases, 12): the AP@12 of a perfect ranker of the pool */
};
/* Adds the customers of c (built with pool 0: the whole union) to st; truth: the week's
 * purchases (customers ascending). Only customers with purchases count for recall and for
 * the ceiling (the MAP@12 a perfect ranker reaches within the first `pool` rows). */
void recall_stats_add(struct recall_stats *st, const struct recall_candidates *c,
                      const struct prep_truth *truth);
/* The stats as a text table (malloc'ed). */
char *recall_stats_format(const struct recall_stats *st);
/* SVG charts (eval's, malloc'ed): recall of the first N merged candidates against N with
 * the configured pool marked; recall of each strategy's list against the merged pool's. */
char *recall_stats_svg(const struct recall_stats *st);
char *recall_stats_strategy_svg(const struct recall_stats *st);

/* ---- the artifact (candidates.c) ------------------------------------------------------ */

/* Table "candidates" (docs/recall.md): columns user, user_off, item, merged, flags,
 * n_strat, and per strategy <name>_score, <name>_rank; meta: cutoff, strategies, pool. */
int recall_candidates_write(const struct recall_candidates *c, uint32_t pool, const char *path);
int recall_candidates_read(struct recall_candidates *c, const char *path);

#endif
