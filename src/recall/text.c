/* Text similarity: articles are embedded by the text stage (TF-IDF over their descriptive
 * text reduced by randomized truncated SVD, src/text; the engine's text_emb). A customer's
 * embedding is the recency x frequency weighted mean of their best history items; the
 * candidates are the searched articles (the most popular kept items) of highest cosine
 * similarity, in batches (sgemm; embsim.c). */
#include "recall/recall.h"

#include <stdlib.h>
#include <string.h>

struct textsim_params {
    struct recall_list_params list;
    long items;             /* most popular kept items searched (10000) */
    long weeks;             /* weeks of (decayed) sales that choose them (4) */
};
_Static_assert(sizeof(struct textsim_params) <= RECALL_PARAMS_BYTES, "params slot");

#define P(f) offsetof(struct textsim_params, f)
static const struct hm_setting textsim_settings[] = {
    {"recall.text_n", HM_SET_INT, P(list.n), "0", 0, 255, 0, "text similarity: candidates per customer"},
    {"recall.text_items", HM_SET_INT, P(items), "10000", 1, 1e9, 0,
     "text similarity: most popular kept items searched"},
    {"recall.text_weeks", HM_SET_INT, P(weeks), "4", 1, 520, 0,
     "text similarity: weeks of (decayed) sales that choose the searched items"},
    {"recall.text_w", HM_SET_DOUBLE, P(list.w), "0.04", 0, 1e6, 0, "text similarity: merge weight"},
};
#undef P

static void text_release(void *state)
{
    struct recall_embsim *m = state;
    if (!m)
        return;
    recall_embsim_release(m);
    free(m);
}

static int text_init(const struct recall_engine *e, int s, void **state)
{
    const struct textsim_params *p = recall_params_of(&e->p, s);
    if (!e->text_emb)
        return hm_error(HM_EINVAL, "recall: the text strategy needs the article text embeddings "
                                   "(the text stage's text_emb.npy)");
    struct recall_embsim *m = hm_xcalloc(1, sizeof *m);
    recall_embsim_init(m, e, e->text_emb, e->text_dim, NULL, p->items, p->weeks);
    *state = m;
    return 0;
}

static int text_block(const struct recall_engine *e, int s, struct recall_scratch *const *sc, int nt,
                      const uint32_t *users, uint32_t n, uint32_t *ids, float *scores, uint32_t *count)
{
    (void)sc;
    (void)nt;
    return recall_embsim_block(e, e->state[s], (uint32_t)recall_list_of(&e->p, s)->n, users, n, ids, scores, count);
}

const struct recall_strategy recall_text = {
    .name = "text",
    .help = "articles whose text embedding is closest to the customer's",
    .settings = textsim_settings,
    .n_settings = sizeof textsim_settings / sizeof textsim_settings[0],
    .params_size = sizeof(struct textsim_params),
    .needs = RECALL_NEEDS_TEXT,
    .init = text_init,
    .release = text_release,
    .block = text_block,
};
