/* pipeline/predict: recommendations as of one cutoff, the way the submission makes them.
 *
 * A predictor holds what scoring customers as of a cutoff needs: the feature context
 * (Stage 3), a scorer (a model or an ensemble of the rank stage, rank/model.h), the fill
 * (the week before the cutoff's best sellers) and, on first use, the recall engine with the
 * two-stage cut (Stage 2). pipeline_predict_block turns a block of candidates into each
 * customer's 12 articles: features, scores, the 12 best, then the fill where fewer.
 * pipeline_predict_users makes the candidates of any customers and does the same, block by
 * block: the submission calls it for every customer; serving for one. Both paths are the same
 * code, so a customer gets the same 12 articles from either.
 *
 * A predictor is used by one thread at a time (it keeps its block buffers); each call uses
 * hm_threads() threads inside. pipeline_predictor_share makes one for another thread that
 * shares everything but the buffers and the cut (hmrec serve: one per scoring thread). */
#ifndef HM_PIPELINE_PREDICT_H
#define HM_PIPELINE_PREDICT_H

#include "pipeline/pipeline.h"

struct pipeline_predictor;

struct pipeline_predict_opts {
    const char *model;   /* a model of rank.models, "ensemble" or "average" */
    int final;           /* 1: the retrain stage's models (models/final), 0: the rank stage's */
    int32_t cutoff;      /* the first day of the predicted week: its history ends the day before */
    int fill;            /* 1: customers with fewer than 12 candidates get the week before's best
                            sellers after them */
};
/* Loads the scorer and the inputs (the store, text and image embeddings through p, which must
 * outlive the predictor) and prepares the features of the cutoff. */
int pipeline_predictor_open(struct pipeline *p, const struct pipeline_predict_opts *o, struct pipeline_predictor **out);
void pipeline_predictor_close(struct pipeline_predictor **pr);
/* The scorer's name and the cutoff. */
const char *pipeline_predictor_model(const struct pipeline_predictor *pr);
/* A predictor for another thread: pr's scorer, feature context, fill and recall engine (made
 * now when pr had none) are shared, read-only; its block buffers and two-stage cut are its
 * own. It reads customers' rows from ds, pr's data set or a copy of it whose overlay the
 * caller may set between calls (data_customer_rows: purchases posted since the data count for
 * those customers). pr must outlive it. */
int pipeline_predictor_share(struct pipeline_predictor *pr, const struct data_set *ds, struct pipeline_predictor **out);
/* The recall engine of the cutoff (made on first use). */
int pipeline_predictor_engine(struct pipeline_predictor *pr, const struct recall_engine **e);
/* During pipeline_predict_users' emit: the scorer's score of every row of the block. */
const float *pipeline_predictor_scores(const struct pipeline_predictor *pr);

/* Each customer of block c (candidates as of the cutoff, in the merged order): top
 * (c->n_users, 12) article rows, best first, n (c->n_users) how many (12 unless the pool and
 * the fill hold fewer). scores (may be NULL) gets the scorer's score of every row (c->n). */
int pipeline_predict_block(struct pipeline_predictor *pr, const struct recall_candidates *c, uint32_t *top,
                           uint8_t *n, float *scores);

/* The submission's predictor options for its model (pipeline_submit_model's name, borrowed):
 * the retrained models when the retrain stage made them, the week after the data, the fill
 * (submit.c; hmrec serve opens the same predictor). */
int pipeline_submit_opts(struct pipeline *p, const char *model, struct pipeline_predict_opts *o);

/* What pipeline_predict_users hands over, one block of customers at a time. */
typedef int (*pipeline_predict_emit)(void *ud, const struct recall_candidates *c, const uint32_t *top,
                                     const uint8_t *n);
/* The candidates of users[0..n) (customer rows) as of the cutoff, rank.score_pool of them each
 * (the two-stage cut when recall.wide is set), streamed in blocks of rank.block customers,
 * each block scored as pipeline_predict_block and handed to emit (a non-zero return stops
 * and is returned). prog (may be NULL) counts customers. */
int pipeline_predict_users(struct pipeline_predictor *pr, const uint32_t *users, uint32_t n, struct hm_progress *prog,
                           pipeline_predict_emit emit, void *ud);

#endif
