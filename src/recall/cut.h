/* recall/cut: the two-stage pool's learned cut (recall.wide > 0, docs/recall.md): the merge
 * keeps a wide pool, and a light learned scorer cuts it to recall.pool per customer.
 *
 * The scorer is a small boosted classifier (binary:logistic, recall.cut_rounds trees of depth
 * recall.cut_depth) on cheap features that every row of the merge has: each strategy's rank
 * and score, the number of strategies, the fused score and position, the article's sales of
 * the last 7 and 28 days, the customer's purchases and days since the last one. It learns
 * from one week (recall_cut_train): a fixed sample of the week's buyers, their wide pools at
 * its cutoff, label = bought in the week, the negatives down-sampled. Applied as a stream's
 * cut (struct recall_cut, recall_cut_begin) it scores every customer's rows after the first
 * recall.cut_keep; scoring walks the compiled trees (gbm_forest) on the merge's threads, so
 * that hundreds of rows per customer for every customer stay cheap. */
#ifndef HM_RECALL_CUT_H
#define HM_RECALL_CUT_H

#include "recall/recall.h"

/* The scorer's feature columns: every strategy's rank and score, then 7 more. */
uint32_t recall_cut_n_cols(void);
/* Checks wide >= pool > cut_keep. */
int recall_cut_check(const struct recall_params *rp);

struct recall_cut_scorer;   /* a trained or loaded scorer */

/* What training did. */
struct recall_cut_report {
    uint32_t users;         /* sampled buyers */
    uint32_t buyers;        /* the week's buyers */
    uint64_t rows;          /* rows of their wide pools */
    uint64_t train_rows;    /* rows the scorer learned from */
    uint64_t positives;     /* of them bought */
    uint64_t truth_pairs;   /* the sampled buyers' purchases in the week */
    uint32_t trees;
    double seconds, seconds_pools;
};
/* Trains a scorer on the week (its cutoff the first day): a fixed sample of recall.cut_users
 * of its buyers, their wide pools from an engine of rp at that cutoff (history from
 * prep_history_start, the item universe prep_items_filter keeps; base: the engine's other
 * inputs), labelled with their purchases of the week. week_no names the week in errors
 * ("recall.cut_week N"). */
int recall_cut_train(const struct data_set *ds, const struct prep_params *pp, const struct recall_params *rp,
                     struct prep_week week, int week_no, const struct recall_inputs *base,
                     struct recall_cut_scorer **out, struct recall_cut_report *rep);
int recall_cut_save(const struct recall_cut_scorer *s, const char *path);
/* Reads a scorer written by recall_cut_save: a file of another feature set is an error. */
int recall_cut_load(const char *path, struct recall_cut_scorer **out);
void recall_cut_free(struct recall_cut_scorer **s);
/* Its top features by gain, as text (malloc'ed; may be empty). */
char *recall_cut_importance(const struct recall_cut_scorer *s, uint32_t top);

/* The scorer's features at an engine's cutoff, and the hook a stream cuts through (its
 * engine's recall.wide and recall.cut_keep). Release *ctx with recall_cut_end after the
 * stream. */
struct recall_cut_ctx;
int recall_cut_begin(const struct recall_cut_scorer *s, const struct recall_engine *e, struct recall_cut_ctx **ctx,
                     struct recall_cut *hook);
void recall_cut_end(struct recall_cut_ctx **ctx);

#endif
