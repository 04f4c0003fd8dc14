/* features: what the files of the module share (not part of the public API). The column
 * indexes below are in the order of the table in columns.c; a test checks the names. */
#ifndef HM_FEAT_INTERNAL_H
#define HM_FEAT_INTERNAL_H

#include "features/features.h"

#include <string.h>

/* User columns, offsets from FEAT_USER0. */
enum {
    U_N_ROWS, U_N_ITEMS, U_N_PRODUCTS, U_EXPLORE, U_REPEAT_SHARE,
    U_DAYS_FIRST, U_DAYS_LAST, U_N_VISITS, U_GAP_MEAN, U_GAP_STD, U_VISITS_WEEK, U_DECAYED,
    U_ROWS_1W, U_ROWS_2W, U_ROWS_4W, U_ROWS_12W,
    U_AGE, U_AGE_MISSING, U_FN, U_ACTIVE, U_CLUB, U_NEWS, U_POSTAL_N,
    U_PRICE_MEAN, U_PRICE_MIN, U_PRICE_MAX, U_PRICE_STD, U_SPEND, U_PRICE_TIER, U_PRICE_REL,
    U_ONLINE, U_ONLINE_4W, U_NEWNESS,
    U_TOP_TYPE, U_TOP_INDEX_GROUP, U_TOP_GARMENT, U_N_TYPES, U_TYPE_ENTROPY,
    U_SHARE_LADIES, U_SHARE_DIVIDED, U_SHARE_MENS, U_SHARE_KIDS, U_SHARE_SPORT,
    U_COUNT
};
_Static_assert(U_COUNT == FEAT_NUSER, "user column count");

/* Item columns, offsets from FEAT_ITEM0 (and columns of ctx->item). */
enum {
    I_TYPE, I_GROUP, I_COLOUR, I_PCOLOUR, I_GRAPHIC, I_DEPARTMENT, I_INDEX, I_INDEX_GROUP,
    I_SECTION, I_GARMENT,
    I_TYPE_N, I_DEPARTMENT_N, I_SECTION_N,
    I_ROWS_1W, I_ROWS_2W, I_ROWS_4W, I_ROWS_ALL, I_BUYERS_1W, I_BUYERS_4W, I_BUYERS_ALL,
    I_DAYS_FIRST, I_DAYS_LAST, I_VELOCITY, I_TREND,
    I_PRICE_MEAN, I_PRICE_LAST, I_PRICE_RATIO, I_ONLINE, I_REPURCHASE,
    I_COUNT
};
_Static_assert(I_COUNT == FEAT_NITEM, "item column count");

/* User-item columns, offsets from FEAT_PAIR0. */
enum {
    P_BOUGHT, P_ROWS, P_DAYS_SINCE, P_DECAYED, P_PRODUCT, P_PRODUCT_ROWS,
    P_SHARE_TYPE, P_SHARE_DEPARTMENT, P_SHARE_SECTION, P_SHARE_COLOUR, P_SHARE_GARMENT,
    P_SHARE_INDEX_GROUP, P_PRICE_DIFF, P_PRICE_RATIO, P_DAYS_TYPE, P_AGE_POP, P_AGE_LIFT,
    P_COUNT
};
_Static_assert(P_COUNT == FEAT_NPAIR, "user-item column count");

/* Recall columns, offsets from FEAT_RECALL0: per strategy s < recall_n_strategies, flag 3s,
 * score 3s+1, reciprocal rank 3s+2; then the merge's three at 3n (strategies), 3n+1 (merged
 * score), 3n+2 (position). */
enum { R_FLAG, R_SCORE, R_RRANK, R_PER_STRATEGY };
enum { R_N_STRAT, R_MERGED, R_POSITION, R_MERGE_COLS };

enum { T_SIM, T_SIM_LAST, T_DIVERSITY, T_COUNT };
_Static_assert(T_COUNT == FEAT_NTEXT, "text column count");
enum { M_SIM, M_SIM_LAST, M_DIVERSITY, M_MISSING, M_COUNT };
_Static_assert(M_COUNT == FEAT_NIMAGE, "image column count");

/* The attributes whose share of the customer's rows is a user-item feature, in the order of
 * P_SHARE_TYPE .. P_SHARE_INDEX_GROUP. */
#define FEAT_NSHARE 6
extern const int feat_share_attr[FEAT_NSHARE];

/* The H&M index groups whose share is a user feature (index_group_no), in the order of
 * U_SHARE_LADIES .. U_SHARE_SPORT. */
#define FEAT_NIG 5
extern const int32_t feat_index_groups[FEAT_NIG];

/* Per-article statistics (item.c), called by feat_ctx_init after the attribute codes. */
void feat_item_stats(struct feat_ctx *ctx);

/* ---- one customer (user.c) ------------------------------------------------------------ */

/* Per-thread state of one customer: dense markers over articles, products and attribute
 * values, set from the customer's history by feat_user_begin and cleared by feat_user_end
 * (in O(history)), and what the user-item, text and image features need. */
struct feat_user {
    /* markers, zero outside the current customer's history */
    uint32_t *cnt;          /* (n_articles) rows of each article */
    uint16_t *last;         /* (n_articles) last day bought */
    uint16_t *ndays;        /* (n_articles) distinct days bought */
    float *dec;             /* (n_articles) sum of exp(-age / tau) over its rows */
    uint32_t *prod_cnt;     /* (n_products) rows of each product code */
    uint32_t *share[FEAT_NSHARE]; /* (n_values + 1) rows per value of each share attribute */
    uint16_t *type_last;    /* (n_values[TYPE] + 1) last day bought in each product type */
    uint32_t *types;        /* (n_values[TYPE] + 1) the product types bought (touched list) */
    uint32_t *items;        /* (items_cap) the distinct articles bought, in order of first purchase */
    uint32_t items_cap;
    float *tprof, *tsum;    /* (text_dim) text profile (unit length, or zero without history),
                               sum of the distinct articles' unit vectors */
    float *mprof, *msum;    /* (image dim) the same for the image embeddings */
    /* the current customer */
    uint32_t c;
    const struct data_transactions *tx; /* the table of its rows (the store's or an overlay) */
    uint64_t lo, hi;        /* its transaction rows before the cutoff, in tx */
    float u[FEAT_NUSER];    /* its user features */
    double price_mean;      /* its mean price (0 when no history) */
    int band;               /* age band */
    uint32_t last_art;      /* article of the last row (UINT32_MAX: none) */
    uint32_t last_img;      /* last article with an image embedding (UINT32_MAX: none) */
    float t_div, m_div;     /* t_diversity, im_diversity */
};
void feat_user_init(struct feat_user *s, const struct feat_ctx *ctx);
void feat_user_release(struct feat_user *s);
/* Scans customer c's rows before the cutoff: user features, markers, profiles. */
void feat_user_begin(struct feat_user *s, const struct feat_ctx *ctx, uint32_t c);
/* Clears the markers the last feat_user_begin set. */
void feat_user_end(struct feat_user *s, const struct feat_ctx *ctx);

/* Dot products with 16 independent partial sums held in four 4-float vectors (GCC/clang
 * vector extensions: SSE on any x86-64, NEON elsewhere), then added in a fixed order, so the
 * result is the same bytes on every machine and thread count. */
typedef float feat_v4 __attribute__((vector_size(16)));

static inline feat_v4 feat_load4(const float *p)
{
    feat_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline float feat_hsum(feat_v4 s0, feat_v4 s1, feat_v4 s2, feat_v4 s3, float tail)
{
    feat_v4 t = (s0 + s1) + (s2 + s3);
    return ((t[0] + t[1]) + (t[2] + t[3])) + tail;
}

/* a . b over n floats. */
static inline float feat_dot(const float *a, const float *b, uint32_t n)
{
    feat_v4 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    uint32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 += feat_load4(a + i) * feat_load4(b + i);
        s1 += feat_load4(a + i + 4) * feat_load4(b + i + 4);
        s2 += feat_load4(a + i + 8) * feat_load4(b + i + 8);
        s3 += feat_load4(a + i + 12) * feat_load4(b + i + 12);
    }
    float t = 0;
    for (; i < n; i++)
        t += a[i] * b[i];
    return feat_hsum(s0, s1, s2, s3, t);
}

/* a . b and a . c in one pass over a (the article's vector, usually a cache miss). */
static inline void feat_dot2(const float *a, const float *b, const float *c, uint32_t n, float *ab, float *ac)
{
    feat_v4 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, u0 = {0}, u1 = {0}, u2 = {0}, u3 = {0};
    uint32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        feat_v4 x0 = feat_load4(a + i), x1 = feat_load4(a + i + 4), x2 = feat_load4(a + i + 8),
                x3 = feat_load4(a + i + 12);
        s0 += x0 * feat_load4(b + i);
        s1 += x1 * feat_load4(b + i + 4);
        s2 += x2 * feat_load4(b + i + 8);
        s3 += x3 * feat_load4(b + i + 12);
        u0 += x0 * feat_load4(c + i);
        u1 += x1 * feat_load4(c + i + 4);
        u2 += x2 * feat_load4(c + i + 8);
        u3 += x3 * feat_load4(c + i + 12);
    }
    float t = 0, w = 0;
    for (; i < n; i++) {
        t += a[i] * b[i];
        w += a[i] * c[i];
    }
    *ab = feat_hsum(s0, s1, s2, s3, t);
    *ac = feat_hsum(u0, u1, u2, u3, w);
}

/* v += wv x and u += wu x over n floats (x read once). */
static inline void feat_axpy2(float *v, float wv, float *u, float wu, const float *x, uint32_t n)
{
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        feat_v4 xi = feat_load4(x + i), a = feat_load4(v + i) + wv * xi, b = feat_load4(u + i) + wu * xi;
        memcpy(v + i, &a, sizeof a);
        memcpy(u + i, &b, sizeof b);
    }
    for (; i < n; i++) {
        v[i] += wv * x[i];
        u[i] += wu * x[i];
    }
}

/* Asks the caches for bytes [p, p + len) ahead of use. */
static inline void feat_prefetch(const void *p, size_t len)
{
    for (size_t o = 0; o < len; o += 64)
        __builtin_prefetch((const char *)p + o);
}

#endif
