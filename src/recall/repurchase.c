/* Repurchase: a customer's own earlier purchases, scored by recency and frequency (the
 * history score, history.c). */
#include "recall/recall.h"

struct rep_params {
    struct recall_list_params list;
};
_Static_assert(sizeof(struct rep_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct rep_params, f)
static const struct hm_setting rep_settings[] = {
    {"recall.rep_n", HM_SET_INT, P(list.n), "40", 0, 255, 0, "repurchase: candidates per customer"},
    {"recall.rep_w", HM_SET_DOUBLE, P(list.w), "1.5", 0, 1e6, 0, "repurchase: merge weight"},
};
#undef P

static uint32_t rep_user(const struct recall_engine *e, int s, struct recall_scratch *sc, uint32_t c,
                         uint32_t *items, float *scores)
{
    (void)c;
    const struct recall_hist *h = &sc->hist;
    uint32_t n = 0, k = (uint32_t)recall_list_of(&e->p, s)->n;
    for (uint32_t i = 0; i < h->n && n < k; i++) /* h is best first already */
        if (e->keep[h->item[i]]) {
            items[n] = h->item[i];
            scores[n++] = h->score[i];
        }
    return n;
}

const struct recall_strategy recall_repurchase = {
    .name = "repurchase",
    .help = "the customer's own purchases, recency x frequency",
    .settings = rep_settings,
    .n_settings = sizeof rep_settings / sizeof rep_settings[0],
    .params_size = sizeof(struct rep_params),
    .user = rep_user,
};
