/* The settings of the boosted models (keys gbm.*) and the model kinds' names. */
#include "rank/gbm.h"

#include <stddef.h>
#include <string.h>

#define P(f) offsetof(struct gbm_params, f)
const struct hm_setting gbm_settings[] = {
    {"gbm.rounds", HM_SET_INT, P(rounds), "1000", 1, 100000, 0, "at most this many boosting rounds"},
    {"gbm.eta", HM_SET_DOUBLE, P(eta), "0.1", 1e-4, 1, 0, "learning rate"},
    {"gbm.depth", HM_SET_INT, P(depth), "8", 1, 31, 0, "tree depth (depthwise models)"},
    {"gbm.leaves", HM_SET_INT, P(leaves), "0", 0, 65536, 0,
     "leaves per tree of the depthwise models (0: no limit but the depth)"},
    {"gbm.min_child_weight", HM_SET_DOUBLE, P(min_child_weight), "1", 0, 1e9, 0,
     "minimum hessian sum in a leaf"},
    {"gbm.subsample", HM_SET_DOUBLE, P(subsample), "0.8", 0.01, 1, 0, "share of rows sampled per tree"},
    {"gbm.colsample", HM_SET_DOUBLE, P(colsample), "0.8", 0.01, 1, 0,
     "share of columns sampled per tree"},
    {"gbm.lambda", HM_SET_DOUBLE, P(lambda), "1", 0, 1e9, 0, "L2 regularisation of leaf weights"},
    {"gbm.min_split_loss", HM_SET_DOUBLE, P(min_split_loss), "0", 0, 1e9, 0,
     "minimum loss reduction of a split (XGBoost's gamma)"},
    {"gbm.max_bin", HM_SET_INT, P(max_bin), "256", 2, 65536, 0, "histogram bins per feature"},
    {"gbm.patience", HM_SET_INT, P(patience), "50", 1, 100000, 0,
     "early stopping: rounds without a better held-out MAP@12"},
    {"gbm.eval_period", HM_SET_INT, P(eval_period), "1", 1, 100000, 0,
     "early stopping: evaluate the held-out MAP@12 every this many rounds"},
    {"gbm.lambdarank", HM_SET_STRING, P(lambdarank), "map", 0, 0, 0,
     "the LambdaRank objective the model name \"lambdarank\" means: ndcg or map"},
    {"gbm.deep_objective", HM_SET_STRING, P(deep_objective), "map", 0, 0, 0,
     "objective of the deep model: ndcg, map, binary or xendcg"},
    {"gbm.deep_eta", HM_SET_DOUBLE, P(deep_eta), "0.05", 1e-4, 1, 0, "deep model: learning rate"},
    {"gbm.deep_depth", HM_SET_INT, P(deep_depth), "15", 1, 31, 0, "deep model: tree depth"},
    {"gbm.deep_leaves", HM_SET_INT, P(deep_leaves), "127", 2, 65536, 0,
     "deep model: leaves per tree (lossguide growth)"},
    {"gbm.deep_min_child_weight", HM_SET_DOUBLE, P(deep_min_child_weight), "1", 0, 1e9, 0,
     "deep model: minimum hessian sum in a leaf"},
    {"gbm.xendcg_order", HM_SET_INT, P(xendcg_order), "1", 1, 3, 0,
     "XE-NDCG gradient: 1 = exact gradient of the loss, 3 = with LightGBM's higher-order terms"},
    {"gbm.xendcg_eta", HM_SET_DOUBLE, P(xendcg_eta), "0.025", 1e-4, 1, 0,
     "XE-NDCG: learning rate (its Newton steps are large: it overfits early at gbm.eta)"},
    {"gbm.xendcg_min_child_weight", HM_SET_DOUBLE, P(xendcg_min_child_weight), "0.1", 0, 1e9, 0,
     "XE-NDCG: minimum hessian sum in a leaf (its hessians are softmax-sized)"},
    {"gbm.neg_share", HM_SET_DOUBLE, P(neg_share), "0.6", 0, 1, 0,
     "sampling: share of negatives among the kept training rows (1: keep all)"},
    {"gbm.holdout", HM_SET_DOUBLE, P(holdout), "0.15", 0, 0.9, 0,
     "sampling: share of training customers held out for early stopping"},
    {"gbm.empty_groups", HM_SET_STRING, P(empty_groups), "auto", 0, 0, 0,
     "training customers without a positive: auto (kept for the classifier), keep or drop"},
    {"gbm.seed", HM_SET_INT, P(seed), "42", 0, 2147483647.0, 0, "seed of sampling and boosting"},
};
#undef P
const size_t gbm_n_settings = sizeof gbm_settings / sizeof gbm_settings[0];

void gbm_params_defaults(struct gbm_params *p)
{
    hm_settings_defaults(gbm_settings, gbm_n_settings, p);
}

static int one_of(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i]))
            return i;
    return -1;
}

int gbm_params_check(const struct gbm_params *p)
{
    static const char *const rank[] = {"ndcg", "map"};
    static const char *const deep[] = {"ndcg", "map", "binary", "xendcg"};
    static const char *const empty[] = {"auto", "keep", "drop"};
    if (one_of(p->lambdarank, rank, 2) < 0)
        return hm_error(HM_EINVAL, "gbm.lambdarank: expected ndcg or map, found \"%s\"", p->lambdarank);
    if (one_of(p->deep_objective, deep, 4) < 0)
        return hm_error(HM_EINVAL, "gbm.deep_objective: expected ndcg, map, binary or xendcg, "
                                   "found \"%s\"", p->deep_objective);
    if (one_of(p->empty_groups, empty, 3) < 0)
        return hm_error(HM_EINVAL, "gbm.empty_groups: expected auto, keep or drop, found \"%s\"",
                        p->empty_groups);
    if (p->xendcg_order != 1 && p->xendcg_order != 3)
        return hm_error(HM_EINVAL, "gbm.xendcg_order: expected 1 or 3, found %ld", p->xendcg_order);
    if (p->rounds < 1 || p->eval_period < 1 || p->patience < 1)
        return hm_error(HM_EINVAL, "gbm.rounds, gbm.eval_period and gbm.patience must be at least 1");
    if (!(p->eta > 0) || !(p->deep_eta > 0) || !(p->xendcg_eta > 0) ||
        !(p->subsample > 0 && p->subsample <= 1) ||
        !(p->colsample > 0 && p->colsample <= 1))
        return hm_error(HM_EINVAL, "gbm.eta, gbm.deep_eta, gbm.xendcg_eta must be > 0 and "
                                   "gbm.subsample, gbm.colsample in (0, 1]");
    if (!(p->neg_share >= 0 && p->neg_share <= 1) || !(p->holdout >= 0 && p->holdout < 1))
        return hm_error(HM_EINVAL, "gbm.neg_share must be in [0, 1] and gbm.holdout in [0, 1)");
    return 0;
}

static const char *const kind_names[GBM_NKINDS] = {"classifier", "ndcg", "map", "xendcg", "deep"};

const char *gbm_kind_name(enum gbm_kind kind)
{
    return (unsigned)kind < GBM_NKINDS ? kind_names[kind] : "?";
}

int gbm_kind_parse(const char *name, const struct gbm_params *p, enum gbm_kind *out)
{
    if (!strcmp(name, "lambdarank")) {
        *out = !strcmp(p->lambdarank, "map") ? GBM_MAP : GBM_NDCG;
        return 0;
    }
    int k = one_of(name, kind_names, GBM_NKINDS);
    if (k < 0)
        return hm_error(HM_EINVAL, "unknown boosted model \"%s\" (known: classifier, lambdarank, "
                                   "ndcg, map, xendcg, deep)", name);
    *out = (enum gbm_kind)k;
    return 0;
}

void gbm_sample_params(const struct gbm_params *p, enum gbm_kind kind,
                       struct rank_sample_params *out)
{
    int binary = kind == GBM_CLASSIFIER || (kind == GBM_DEEP && !strcmp(p->deep_objective, "binary"));
    out->holdout = p->holdout;
    out->neg_share = p->neg_share;
    out->seed = (uint64_t)p->seed;
    if (!strcmp(p->empty_groups, "keep"))
        out->keep_empty = 1;
    else if (!strcmp(p->empty_groups, "drop"))
        out->keep_empty = 0;
    else
        out->keep_empty = binary;
}
