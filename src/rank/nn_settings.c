/* The network's settings table ("nn.*") and their check. */
#include "rank/nn_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define P(f) offsetof(struct nn_params, f)
const struct hm_setting nn_settings[] = {
    {"nn.user_hidden", HM_SET_STRING, P(user_hidden), "256,128", 0, 0, 0,
     "user tower: output widths of its blocks (Linear + BatchNorm + ReLU + Dropout)"},
    {"nn.item_hidden", HM_SET_STRING, P(item_hidden), "128,64", 0, 0, 0, "item tower: block widths"},
    {"nn.image_hidden", HM_SET_STRING, P(image_hidden), "256,128", 0, 0, 0, "image tower: block widths"},
    {"nn.pair_hidden", HM_SET_STRING, P(pair_hidden), "64,32", 0, 0, 0,
     "pair tower (user-item and recall features): block widths"},
    {"nn.fusion_hidden", HM_SET_STRING, P(fusion_hidden), "256,128,64", 0, 0, 0,
     "fusion over the concatenated towers: block widths (then a Linear to one logit)"},
    {"nn.image_tower", HM_SET_INT, P(image_tower), "1", 0, 1, 0,
     "1: an image tower over the articles' image embeddings when there are any"},
    {"nn.pair_tower", HM_SET_INT, P(pair_tower), "1", 0, 1, 0,
     "1: a fourth tower over the columns that depend on both customer and article (user-item, "
     "recall, text and image similarity); 0: the reference's three towers"},
    {"nn.dropout", HM_SET_DOUBLE, P(dropout), "0.3", 0, 0.95, 0, "dropout probability after every block"},
    {"nn.bn_momentum", HM_SET_DOUBLE, P(bn_momentum), "0.1", 0, 1, 0,
     "BatchNorm: weight of the batch in the running statistics"},
    {"nn.lr", HM_SET_DOUBLE, P(lr), "0.001", 1e-12, 10, 0, "AdamW: learning rate"},
    {"nn.weight_decay", HM_SET_DOUBLE, P(weight_decay), "1e-05", 0, 1, 0,
     "AdamW: decoupled weight decay"},
    {"nn.batch", HM_SET_INT, P(batch), "2048", 2, 1 << 20, 0, "rows per training batch"},
    {"nn.epochs", HM_SET_INT, P(epochs), "30", 1, 100000, 0, "most training epochs"},
    {"nn.patience", HM_SET_INT, P(patience), "5", 1, 100000, 0,
     "early stopping: epochs without a better validation MAP@12"},
    {"nn.lr_factor", HM_SET_DOUBLE, P(lr_factor), "0.5", 1e-6, 1, 0,
     "ReduceLROnPlateau: factor applied to the learning rate"},
    {"nn.lr_patience", HM_SET_INT, P(lr_patience), "2", 0, 100000, 0,
     "ReduceLROnPlateau: epochs without a better validation MAP@12 before a cut"},
    {"nn.lr_min", HM_SET_DOUBLE, P(lr_min), "1e-06", 0, 10, 0, "ReduceLROnPlateau: lowest learning rate"},
    {"nn.seed", HM_SET_INT, P(seed), "42", 0, 9.2e18, 0,
     "random seed of the initial weights, the shuffling and the dropout masks"},
};
#undef P
const size_t nn_n_settings = sizeof nn_settings / sizeof nn_settings[0];

int nn_parse_widths(const char *s, uint32_t w[NN_MAX_DEPTH])
{
    int n = 0;
    while (*s) {
        if (n == NN_MAX_DEPTH)
            return -1;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > NN_MAX_WIDTH)
            return -1;
        w[n++] = (uint32_t)v;
        s = end;
        while (*s == ' ')
            s++;
        if (*s == ',') {
            s++;
            if (!*s)
                return -1;
        } else if (*s) {
            return -1;
        }
    }
    return n ? n : -1;
}

int nn_params_check(const struct nn_params *p)
{
    const char *keys[] = {"nn.user_hidden", "nn.item_hidden", "nn.image_hidden", "nn.pair_hidden",
                          "nn.fusion_hidden"};
    const char *vals[] = {p->user_hidden, p->item_hidden, p->image_hidden, p->pair_hidden,
                          p->fusion_hidden};
    uint32_t w[NN_MAX_DEPTH];
    /* what training would hold, from the settings alone (each tower's first block, whose
     * width depends on the feature set, left out): 16 bytes per parameter (weights,
     * gradients, AdamW's two moments) and 16 per unit of a batch's activations */
    double params[5] = {0, 0, 0, 0, 0}, units = 0, concat = 0;
    int used[5] = {1, 1, p->image_tower != 0, p->pair_tower != 0, 1};
    for (int i = 0; i < 5; i++) {
        int n = nn_parse_widths(vals[i], w);
        if (n < 0)
            return hm_error(HM_EINVAL,
                            "%s = \"%s\": expected 1 to %d comma-separated widths between 1 and %d",
                            keys[i], vals[i], NN_MAX_DEPTH, NN_MAX_WIDTH);
        if (!used[i])
            continue;
        if (i == 4)
            params[i] += concat * w[0];
        for (int k = 0; k < n; k++) {
            units += w[k];
            if (k)
                params[i] += (double)w[k - 1] * w[k];
        }
        if (i < 4)
            concat += w[n - 1];
    }
    double total = 0, bytes, phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    int most = 4;
    for (int i = 0; i < 5; i++) {
        total += params[i];
        if (params[i] > params[most])
            most = i;
    }
    bytes = 16 * total + 16 * (double)(p->batch > 0 ? p->batch : 1) * units;
    if (phys > 0 && bytes > phys) {
        char setting[HM_SETTING_STRLEN + 32];
        if (16 * (double)p->batch * units > 16 * total)
            snprintf(setting, sizeof setting, "nn.batch = %ld", p->batch);
        else
            snprintf(setting, sizeof setting, "%s = \"%.*s\"", keys[most], HM_SETTING_STRLEN - 1, vals[most]);
        return hm_error(HM_EINVAL, "%s: training this network would take about %.1f GiB (%.0f parameters at 16 bytes "
                                   "for weights, gradients and AdamW's moments, and %.0f activations of a batch at 16 "
                                   "bytes), more than this machine's %.1f GiB of memory",
                        setting, bytes / (1 << 30), total, (double)p->batch * units, phys / (1 << 30));
    }
    if (!(p->dropout >= 0 && p->dropout < 1))
        return hm_error(HM_EINVAL, "nn.dropout = %g: expected a probability below 1", p->dropout);
    if (!(p->bn_momentum >= 0 && p->bn_momentum <= 1))
        return hm_error(HM_EINVAL, "nn.bn_momentum = %g: expected 0 to 1", p->bn_momentum);
    if (!(p->lr > 0))
        return hm_error(HM_EINVAL, "nn.lr = %g: expected a positive learning rate", p->lr);
    if (!(p->weight_decay >= 0))
        return hm_error(HM_EINVAL, "nn.weight_decay = %g: expected at least 0", p->weight_decay);
    if (!(p->lr_factor > 0 && p->lr_factor <= 1))
        return hm_error(HM_EINVAL, "nn.lr_factor = %g: expected a factor in (0, 1]", p->lr_factor);
    if (p->batch < 2)
        return hm_error(HM_EINVAL, "nn.batch = %ld: expected at least 2 (BatchNorm needs 2 rows)",
                        p->batch);
    if (p->epochs < 1 || p->patience < 1 || p->lr_patience < 0 || p->seed < 0)
        return hm_error(HM_EINVAL, "nn.epochs, nn.patience, nn.lr_patience, nn.seed: expected "
                                   "positive counts and a non-negative seed");
    return 0;
}
