/* A compiled forest: a boosted model's trees parsed from XGBoost's text dump into flat node
 * arrays and evaluated row by row, without a library call per block. For small models over
 * very many rows (the candidates' learned cut scores hundreds of rows per customer). */
#include "rank/gbm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LEAF UINT32_MAX

struct forest_node {
    uint32_t feat;       /* feature column, LEAF for a leaf */
    float value;         /* split threshold (go to yes when x < value), or the leaf's margin */
    uint32_t yes, no, missing; /* node indexes into the forest's array */
};

/* The evaluation layout: child[0] when x < thr, child[1] otherwise, missing for NaN; a leaf
 * is a node whose children are itself (feature 0, threshold 0) with its margin in leaf. */
struct forest_step {
    uint32_t feat;
    float thr;
    uint32_t child[2];
    uint32_t missing;
    float leaf;
};

struct gbm_forest {
    uint32_t n_cols;
    uint32_t n_trees;
    uint32_t *root;             /* (n_trees) */
    struct forest_node *node;   /* every tree's nodes */
    uint32_t n_nodes;
    uint8_t *depth;             /* (n_trees) levels of splits on the longest path */
    struct forest_step *step;   /* (n_nodes) */
    float offset;               /* the model's constant margin (its base score) */
};

uint32_t gbm_forest_n_cols(const struct gbm_forest *f) { return f->n_cols; }
uint32_t gbm_forest_n_trees(const struct gbm_forest *f) { return f->n_trees; }

void gbm_forest_free(struct gbm_forest **pf)
{
    struct gbm_forest *f = *pf;
    if (!f)
        return;
    free(f->root);
    free(f->depth);
    free(f->step);
    free(f->node);
    free(f);
    *pf = NULL;
}

/* Parses one tree's dump into nodes [base, base + count) of f (node ids are the dump's, offset
 * by base). */
static int parse_tree(struct gbm_forest *f, uint32_t *cap, uint32_t t, const char *text)
{
    uint32_t base = f->n_nodes, count = 0;
    for (const char *l = text; *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        while (len && (*l == '\t' || *l == ' '))
            l++, len--;
        if (len) {
            char line[256];
            if (len >= sizeof line)
                return hm_error(HM_EFORMAT, "tree %u: a dump line of %zu characters", t, len);
            memcpy(line, l, len);
            line[len] = 0;
            unsigned id, feat, yes, no, miss;
            float v;
            struct forest_node nd;
            if (sscanf(line, "%u:leaf=%g", &id, &v) == 2)
                nd = (struct forest_node){LEAF, v, 0, 0, 0};
            else if (sscanf(line, "%u:[f%u<%g] yes=%u,no=%u,missing=%u", &id, &feat, &v, &yes, &no, &miss) == 6) {
                if (feat >= f->n_cols)
                    return hm_error(HM_EFORMAT, "tree %u: a split on column %u of %u", t, feat, f->n_cols);
                nd = (struct forest_node){feat, v, base + yes, base + no, base + miss};
            } else
                return hm_error(HM_EFORMAT, "tree %u: cannot read the dump line \"%s\"", t, line);
            if (id > (1u << 24))
                return hm_error(HM_EFORMAT, "tree %u: node id %u", t, id);
            if (base + id >= *cap) {
                uint32_t old = *cap;
                HM_GROW(f->node, *cap, base + id + 1);
                for (uint32_t k = old; k < *cap; k++)
                    f->node[k].feat = LEAF - 1; /* not seen yet */
            }
            if (f->node[base + id].feat != LEAF - 1)
                return hm_error(HM_EFORMAT, "tree %u: node %u twice", t, id);
            f->node[base + id] = nd;
            if (id + 1 > count)
                count = id + 1;
        }
        l += len + (end ? 1 : 0);
        if (!end)
            break;
    }
    if (!count)
        return hm_error(HM_EFORMAT, "tree %u: no nodes", t);
    /* pruned nodes leave gaps in the ids; every node a split points to must exist, after it */
    if (f->node[base].feat == LEAF - 1)
        return hm_error(HM_EFORMAT, "tree %u: no root", t);
    for (uint32_t k = base; k < base + count; k++) {
        const struct forest_node *nd = &f->node[k];
        if (nd->feat == LEAF || nd->feat == LEAF - 1)
            continue;
        uint32_t ch[3] = {nd->yes, nd->no, nd->missing};
        for (int c = 0; c < 3; c++)
            if (ch[c] >= base + count || ch[c] <= k || f->node[ch[c]].feat == LEAF - 1)
                return hm_error(HM_EFORMAT, "tree %u: node %u points to a node that is not there", t, k - base);
    }
    /* leaves point to themselves, so that a row may take more steps than its path has; the
     * tree's depth bounds the steps (children come after their parent: one forward pass) */
    uint8_t *lvl = hm_xcalloc(count, 1), depth = 0;
    for (uint32_t k = base; k < base + count; k++) {
        struct forest_node *nd = &f->node[k];
        if (nd->feat == LEAF - 1)
            continue;
        if (nd->feat == LEAF) {
            *nd = (struct forest_node){LEAF, nd->value, k, k, k};
            continue;
        }
        uint8_t d = (uint8_t)(lvl[k - base] + 1);
        if (d > depth)
            depth = d;
        lvl[nd->yes - base] = lvl[nd->no - base] = lvl[nd->missing - base] = d;
    }
    free(lvl);
    if (depth > 64)
        return hm_error(HM_EFORMAT, "tree %u: %u levels", t, depth);
    f->depth[t] = depth;
    f->root[t] = base;
    f->n_nodes = base + count;
    return 0;
}

/* The margin of row x: start, then every tree's leaf added in tree order (XGBoost's order:
 * its predictions start at the base margin and add the trees one by one). */
static inline float tree_sum(const struct gbm_forest *f, const float *x, float start)
{
    float sum = start;
    const struct forest_node *node = f->node;
    for (uint32_t t = 0; t < f->n_trees; t++) {
        const struct forest_node *nd = node + f->root[t];
        while (nd->feat != LEAF) {
            float v = x[nd->feat];
            uint32_t next = v < nd->value ? nd->yes : nd->no;
            if (isnan(v))
                next = nd->missing;
            nd = node + next;
        }
        sum += nd->value;
    }
    return sum;
}

/* Rows walked through a tree together: their paths are independent, so the processor
 * overlaps them instead of waiting on one row's chain of loads and compares. */
#define FOREST_BLOCK 32

void gbm_forest_predict(const struct gbm_forest *f, const float *x, uint64_t n_rows, float *out)
{
    const struct forest_step *step = f->step;
    const uint32_t nc = f->n_cols;
    for (uint64_t r0 = 0; r0 < n_rows; r0 += FOREST_BLOCK) {
        uint32_t m = n_rows - r0 < FOREST_BLOCK ? (uint32_t)(n_rows - r0) : FOREST_BLOCK;
        const float *xb = x + r0 * nc;
        float sum[FOREST_BLOCK];
        uint32_t at[FOREST_BLOCK];
        for (uint32_t i = 0; i < m; i++)
            sum[i] = f->offset;
        for (uint32_t t = 0; t < f->n_trees; t++) {
            for (uint32_t i = 0; i < m; i++)
                at[i] = f->root[t];
            for (uint32_t d = 0; d < f->depth[t]; d++)
                for (uint32_t i = 0; i < m; i++) {
                    const struct forest_step *st = step + at[i];
                    float v = xb[(size_t)i * nc + st->feat];
                    uint32_t next = st->child[!(v < st->thr)];
                    if (__builtin_expect(isnan(v), 0))
                        next = st->missing;
                    at[i] = next;
                }
            for (uint32_t i = 0; i < m; i++)
                sum[i] += step[at[i]].leaf;
        }
        for (uint32_t i = 0; i < m; i++)
            out[r0 + i] = sum[i];
    }
}

int gbm_forest_new(const struct gbm_model *m, const float *check, uint32_t n_check, struct gbm_forest **out)
{
    *out = NULL;
    char **trees;
    uint32_t n;
    int rc = gbm_dump_trees(m, &trees, &n);
    if (rc)
        return rc;
    struct gbm_forest *f = hm_xcalloc(1, sizeof *f);
    f->n_cols = gbm_model_n_cols(m);
    f->n_trees = n;
    f->root = hm_xmalloc_array((size_t)n + 1, sizeof *f->root);
    f->depth = hm_xcalloc((size_t)n + 1, 1);
    uint32_t cap = 0;
    for (uint32_t t = 0; t < n && !rc; t++)
        rc = parse_tree(f, &cap, t, trees[t]);
    for (uint32_t t = 0; t < n; t++)
        free(trees[t]);
    free(trees);
    if (!rc) {
        f->step = hm_xcalloc((size_t)f->n_nodes + 1, sizeof *f->step);
        for (uint32_t k = 0; k < f->n_nodes; k++) {
            const struct forest_node *nd = &f->node[k];
            if (nd->feat == LEAF || nd->feat == LEAF - 1)
                f->step[k] = (struct forest_step){0, 0, {k, k}, k, nd->feat == LEAF ? nd->value : 0};
            else
                f->step[k] = (struct forest_step){nd->feat, nd->value, {nd->yes, nd->no}, nd->missing, 0};
        }
    }
    /* the offset from one row, then every check row must agree */
    float *nan_row = NULL;
    if (!rc && !n_check) {
        nan_row = hm_xmalloc_array((size_t)f->n_cols + 1, sizeof *nan_row);
        for (uint32_t c = 0; c < f->n_cols; c++)
            nan_row[c] = NAN;
        check = nan_row;
        n_check = 1;
    }
    float *want = rc ? NULL : hm_xmalloc_array((size_t)n_check + 1, sizeof *want);
    if (!rc && (rc = gbm_predict_xgboost(m, check, n_check, f->n_cols, want)) == 0) {
        /* the base margin: 0.5 (ranking objectives keep base_score as the margin) or 0 (the
         * logistic's logit of 0.5) when one reproduces every check row bit for bit, else
         * what row 0 implies */
        const float bases[2] = {0.5f, 0.0f};
        f->offset = want[0] - tree_sum(f, check, 0);
        for (int k = 0; k < 2; k++) {
            uint32_t r = 0;
            while (r < n_check && tree_sum(f, check + (size_t)r * f->n_cols, bases[k]) == want[r])
                r++;
            if (r == n_check) {
                f->offset = bases[k];
                break;
            }
        }
        for (uint32_t r = 0; r < n_check && !rc; r++) {
            float got = tree_sum(f, check + (size_t)r * f->n_cols, f->offset);
            if (!(fabsf(got - want[r]) <= 1e-4f * (1 + fabsf(want[r]))))
                rc = hm_error(HM_EINVAL, "the compiled forest gives %g on check row %u, the model %g", got, r,
                              want[r]);
        }
    }
    free(want);
    free(nan_row);
    if (rc)
        gbm_forest_free(&f);
    *out = f;
    return rc;
}
