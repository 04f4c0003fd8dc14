/* synth/catalogue.c: the synthetic catalogue. Products (one product in several colours)
 * drawn with the real taxonomy frequencies; prices by type and index group; launch weeks,
 * life cycles and seasons; styles, price tiers, complements and latent attribute vectors. */
#include "synth/synth_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------------------ */

/* Index drawn with probability proportional to w[i] (n > 0, some w > 0). */
static int draw_weighted(struct hm_rng *r, const double *w, int n)
{
    double tot = 0;
    for (int i = 0; i < n; i++)
        tot += w[i];
    double u = hm_rng_uniform(r) * tot;
    for (int i = 0; i < n; i++) {
        u -= w[i];
        if (u < 0)
            return i;
    }
    return n - 1;
}

static int has_word(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (!strcmp(s, *words))
            return 1;
    return 0;
}

/* Typical price of a product type, in units of the written price times price_scale. */
static double type_base_price(const char *type, const char *group)
{
    static const struct { const char *t; double p; } tp[] = {
        {"Trousers", 26}, {"Dress", 26}, {"Sweater", 24}, {"T-shirt", 10}, {"Top", 13},
        {"Blouse", 21}, {"Jacket", 34}, {"Shorts", 16}, {"Shirt", 21}, {"Vest top", 8},
        {"Underwear bottom", 7}, {"Skirt", 19}, {"Hoodie", 22}, {"Bra", 16}, {"Socks", 5},
        {"Leggings/Tights", 13}, {"Sneakers", 28}, {"Cardigan", 24}, {"Hat/beanie", 9},
        {"Garment Set", 16}, {"Swimwear bottom", 11}, {"Bag", 17}, {"Earring", 7},
        {"Jumpsuit/Playsuit", 24}, {"Pyjama set", 19}, {"Blazer", 34}, {"Coat", 42},
        {"Boots", 36}, {"Swimsuit", 19}, {"Bikini top", 13},
    };
    for (size_t i = 0; i < sizeof tp / sizeof tp[0]; i++)
        if (!strcmp(type, tp[i].t))
            return tp[i].p;
    if (!strcmp(group, "Accessories") || !strcmp(group, "Items") || !strcmp(group, "Cosmetic"))
        return 8;
    if (!strcmp(group, "Shoes"))
        return 30;
    if (!strcmp(group, "Underwear") || !strcmp(group, "Socks & Tights"))
        return 8;
    return 16;
}

static int type_season(const char *type, struct hm_rng *r)
{
    static const char *const summer[] = {"Shorts", "Swimwear bottom", "Bikini top", "Swimsuit",
        "Sandals", "Vest top", "Sunglasses", "Flip flop", "Sarong", "Swimwear set", NULL};
    static const char *const winter[] = {"Sweater", "Jacket", "Coat", "Cardigan", "Hoodie",
        "Hat/beanie", "Gloves", "Scarf", "Boots", "Outdoor overall", "Hat/brim", NULL};
    if (has_word(type, summer))
        return hm_rng_uniform(r) < 0.85 ? 1 : 0;
    if (has_word(type, winter))
        return hm_rng_uniform(r) < 0.80 ? 2 : 0;
    double u = hm_rng_uniform(r);
    return u < 0.22 ? 1 : u < 0.40 ? 2 : 0;
}

/* The complementary type (bought in the same basket) of a type, or NULL. */
static const char *type_complement(const char *type)
{
    static const char *pairs[][2] = {
        {"Bra", "Underwear bottom"}, {"Underwear bottom", "Bra"}, {"Bikini top", "Swimwear bottom"},
        {"Swimwear bottom", "Bikini top"}, {"Trousers", "Top"}, {"Top", "Trousers"},
        {"T-shirt", "Shorts"}, {"Shorts", "T-shirt"}, {"Skirt", "Blouse"}, {"Blouse", "Skirt"},
        {"Jacket", "Trousers"}, {"Sweater", "Trousers"}, {"Shirt", "Trousers"},
        {"Hoodie", "Trousers"}, {"Leggings/Tights", "Vest top"}, {"Vest top", "Leggings/Tights"},
        {"Sneakers", "Socks"}, {"Socks", "Sneakers"}, {"Dress", "Earring"}, {"Earring", "Dress"},
        {"Blazer", "Trousers"}, {"Cardigan", "Top"}, {"Pyjama set", "Underwear bottom"},
        {"Hat/beanie", "Scarf"}, {"Scarf", "Hat/beanie"}, {"Bag", "Dress"},
        {"Jumpsuit/Playsuit", "Bag"}, {"Garment Set", "Socks"}, {"Coat", "Scarf"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (!strcmp(type, pairs[i][0]))
            return pairs[i][1];
    return NULL;
}

/* ---- products ------------------------------------------------------------------- */

struct product {
    int cell, index, section, gg, app, season, tier;
    int n_colours;
    int launch;          /* week */
    double code_key;     /* the order of product codes: the launch week, plus noise */
    float tau, attract;
    double price;        /* units */
    uint32_t order;      /* generation order (tie breaker) */
};

static int cmp_product(const void *a, const void *b)
{
    const struct product *x = a, *y = b;
    if (x->code_key != y->code_key)
        return x->code_key < y->code_key ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int draw_gg(const struct synth_taxonomy *t, int type, int ig, struct hm_rng *r)
{
    static const char *const free_groups[] = {"Jersey Fancy", "Unknown", "Special Offers", NULL};
    const char *igname = t->ig[ig].name;
    const char *tn = t->types[type].name;
    int fixed = t->types[type].gg;
    double u = hm_rng_uniform(r);
    const char *want = NULL;
    if (!strcmp(igname, "Baby/Children") && u < 0.30)
        want = "Woven/Jersey/Knitted mix Baby";
    else if (!strcmp(igname, "Baby/Children") && u < 0.45 && (!strcmp(tn, "Dress") || !strcmp(tn, "Skirt")))
        want = "Dresses/Skirts girls";
    else if (!strcmp(tn, "Trousers") && u < 0.35)
        want = "Trousers Denim";
    else if (fixed >= 0 && u < 0.82)
        return fixed;
    if (!want) {
        double w[32];
        for (int g = 0; g < t->n_gg; g++)
            w[g] = has_word(t->gg[g].name, free_groups) ? t->gg[g].count : 0;
        return draw_weighted(r, w, t->n_gg);
    }
    for (int g = 0; g < t->n_gg; g++)
        if (!strcmp(t->gg[g].name, want))
            return g;
    return fixed >= 0 ? fixed : 0;
}

/* ---- building ------------------------------------------------------------------------ */

/* Draws products until n articles are placed: cell, index, section, garment group,
 * appearance, season, colours, price tier and price, launch week, life and attractiveness.
 * Returns the products (generation order) and their number in *np. */
static struct product *draw_products(struct hm_rng *r, const struct synth_taxonomy *t,
                                     const struct synth_params *p, int n_weeks, size_t *np_out)
{
    size_t n = (size_t)p->n_articles, cap = n, np = 0, placed = 0;
    struct product *pr = hm_xmalloc_array(cap, sizeof *pr);
    double cw[400], iw[16], sw[64], aw[40];
    for (int i = 0; i < t->n_cells; i++)
        cw[i] = t->cells[i].count;
    for (int i = 0; i < t->n_app; i++)
        aw[i] = t->app[i].count;
    while (placed < n) {
        struct product *q = &pr[np];
        memset(q, 0, sizeof *q);
        q->order = (uint32_t)np;
        q->cell = draw_weighted(r, cw, t->n_cells);
        int type = t->cells[q->cell].type, ig = t->cells[q->cell].ig;
        for (int i = 0; i < t->n_index; i++)
            iw[i] = t->index[i].ig == ig ? t->index[i].count : 0;
        q->index = draw_weighted(r, iw, t->n_index);
        for (int i = 0; i < t->n_sections; i++)
            sw[i] = t->sections[i].ig == ig ? t->sections[i].count : 0;
        q->section = draw_weighted(r, sw, t->n_sections);
        q->gg = draw_gg(t, type, ig, r);
        q->app = draw_weighted(r, aw, t->n_app);
        if (!strcmp(t->gg[q->gg].name, "Trousers Denim") && hm_rng_uniform(r) < 0.8)
            for (int i = 0; i < t->n_app; i++)
                if (!strcmp(t->app[i].name, "Denim"))
                    q->app = i;
        q->season = type_season(t->types[type].name, r);
        /* colours: geometric with mean 105542 / 47224 = 2.23 */
        q->n_colours = 1;
        while (q->n_colours < 30 && hm_rng_uniform(r) < 0.552)
            q->n_colours++;
        if (placed + (size_t)q->n_colours > n)
            q->n_colours = (int)(n - placed);
        /* price: type base x index group factor x product noise */
        const char *ign = t->ig[ig].name;
        double f = !strcmp(ign, "Divided") ? 0.72 : !strcmp(ign, "Baby/Children") ? 0.62
                 : !strcmp(ign, "Menswear") ? 1.05 : !strcmp(ign, "Sport") ? 1.0 : 1.08;
        double z = hm_rng_normal(r);
        q->tier = z < -0.43 ? 0 : z > 0.43 ? 2 : 1;
        q->price = type_base_price(t->types[type].name, t->types[type].group) * f * exp(0.30 * z);
        /* life cycle */
        int basic = hm_rng_uniform(r) < p->basic_share;
        if (basic) {
            q->launch = -60 + (int)hm_rng_below(r, 40);
            q->tau = 1000;
        } else {
            /* launches through the whole period, some stock older than the data */
            q->launch = -20 + (int)hm_rng_below(r, (uint64_t)n_weeks + 20);
            q->tau = (float)(p->life_weeks * exp(0.6 * hm_rng_normal(r)));
        }
        q->attract = (float)exp(p->attract_sigma * hm_rng_normal(r) + (basic ? 1.0 : 0.0));
        placed += (size_t)q->n_colours;
        np++;
        HM_GROW(pr, cap, np + 1);
    }
    *np_out = np;
    return pr;
}

/* Product codes: distinct and increasing in the products' order (their launch order, or a noisy
 * one with code_noise). */
static uint32_t *draw_codes(struct hm_rng *r, size_t np)
{
    uint32_t *codes = hm_xmalloc_array(np, sizeof *codes);
    for (size_t i = 0; i < np; i++)
        codes[i] = 108775 + (uint32_t)hm_rng_below(r, 959461 - 108775 - np);
    qsort(codes, np, sizeof *codes, cmp_u32);
    for (size_t i = 0; i < np; i++)
        codes[i] += (uint32_t)i; /* strictly increasing, still below 959461 */
    return codes;
}

static void catalogue_alloc(struct synth_catalogue *c, size_t n, size_t np, int n_cells)
{
    c->n = n;
    c->n_products = np;
    c->prod_first = hm_xmalloc_array(np + 1, sizeof(uint32_t));
    c->product = hm_xmalloc_array(n, sizeof(uint32_t));
    c->colour_no = hm_xmalloc_array(n, sizeof(uint16_t));
    uint16_t **cols[] = {&c->cell, &c->type, &c->ig, &c->index, &c->section, &c->gg, &c->app,
                         &c->colour, &c->dept};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        *cols[i] = hm_xmalloc_array(n, sizeof(uint16_t));
    c->style = hm_xmalloc(n);
    c->tier = hm_xmalloc(n);
    c->season = hm_xmalloc(n);
    c->price_ore = hm_xmalloc_array(n, sizeof(uint32_t));
    c->attract = hm_xmalloc_array(n, sizeof(float));
    c->launch_week = hm_xmalloc_array(n, sizeof(int16_t));
    c->life_tau = hm_xmalloc_array(n, sizeof(float));
    c->partner = hm_xmalloc_array(n, sizeof(uint32_t));
    c->z = hm_xcalloc(n * SYNTH_ZDIM, sizeof(float));
    c->n_cells = n_cells;
}

/* Style vectors of colour masters and appearances, and the latent vector of every value of
 * every attribute (rows at the E_* offsets). */
enum { E_TYPE = 0, E_IG = 160, E_SEC = 168, E_MASTER = 232, E_VALUE = 264, E_APP = 280,
       E_TIER = 320, E_STYLE = 324, E_TOTAL = 332 };
struct latent {
    float mv[32][SYNTH_STYLES], av[40][SYNTH_STYLES];
    float emb[E_TOTAL * SYNTH_ZDIM];
    double aw[40];            /* appearance counts */
};

static void latent_draw(struct latent *L, const struct synth_taxonomy *t, struct hm_rng *r)
{
    for (int i = 0; i < 32; i++)
        for (int k = 0; k < SYNTH_STYLES; k++)
            L->mv[i][k] = (float)hm_rng_normal(r);
    for (int i = 0; i < 40; i++)
        for (int k = 0; k < SYNTH_STYLES; k++)
            L->av[i][k] = (float)(0.7 * hm_rng_normal(r));
    for (size_t i = 0; i < (size_t)E_TOTAL * SYNTH_ZDIM; i++)
        L->emb[i] = (float)(hm_rng_normal(r) / sqrt(SYNTH_ZDIM));
    for (int i = 0; i < t->n_app; i++)
        L->aw[i] = t->app[i].count;
}

/* Departments: one per (section, garment group), numbered and named on first use. */
struct depts { int cap; int *key; };

static int dept_of(struct synth_catalogue *c, struct depts *D, const struct synth_taxonomy *t,
                   const struct product *q)
{
    int key = q->section * 64 + q->gg, d;
    for (d = 0; d < c->n_depts && D->key[d] != key; d++)
        ;
    if (d < c->n_depts)
        return d;
    if (d == D->cap) {
        D->cap = (int)hm_grow_cap((size_t)D->cap, (size_t)d + 1);
        c->dept_no = hm_xrealloc(c->dept_no, (size_t)D->cap * sizeof(int));
        c->dept_name = hm_xrealloc(c->dept_name, (size_t)D->cap * sizeof *c->dept_name);
        D->key = hm_xrealloc(D->key, (size_t)D->cap * sizeof(int));
    }
    D->key[d] = key;
    c->dept_no[d] = 1201 + (int)(hm_mix64((uint64_t)key * 7919 + 1) % 8000);
    for (int k = 0; k < d; k++)
        if (c->dept_no[k] == c->dept_no[d])
            c->dept_no[d] += 1, k = -1;
    /* "<first word of the section> <garment group>", cut to the field's size */
    const char *sec = t->sections[q->section].name;
    int first_len = (int)strcspn(sec, " ");
    if (first_len > 23)
        first_len = 23;
    int written = snprintf(c->dept_name[d], sizeof c->dept_name[0], "%.*s %s", first_len, sec,
                           t->gg[q->gg].name);
    (void)written; /* truncation is intended: names are at most the field's size */
    c->n_depts++;
    return d;
}

/* A colour of the product, distinct in colour code from the ones it has (a few retries). */
static int draw_colour(struct hm_rng *r, const struct synth_taxonomy *t, const double *colw,
                       const int *used, int n_used)
{
    int col = draw_weighted(r, colw, t->n_colours);
    for (int tries = 0; tries < 6; tries++) {
        int dup = 0;
        for (int u = 0; u < n_used; u++)
            dup |= t->colours[used[u]].code == t->colours[col].code;
        if (!dup)
            break;
        col = draw_weighted(r, colw, t->n_colours);
    }
    return col;
}

/* Article a, the k-th colour (colour col) of product i: its attributes, price, attractiveness,
 * launch, style and latent vector. */
static void make_article(struct synth_catalogue *c, const struct synth_taxonomy *t, struct hm_rng *r,
                         const struct latent *L, const struct product *q, size_t i, int k, size_t a,
                         int col, int d)
{
    c->product[a] = (uint32_t)i;
    c->colour_no[a] = (uint16_t)(k + 1);
    c->cell[a] = (uint16_t)q->cell;
    c->type[a] = (uint16_t)t->cells[q->cell].type;
    c->ig[a] = (uint16_t)t->cells[q->cell].ig;
    c->index[a] = (uint16_t)q->index;
    c->section[a] = (uint16_t)q->section;
    c->gg[a] = (uint16_t)q->gg;
    c->app[a] = (uint16_t)(hm_rng_uniform(r) < 0.12 ? draw_weighted(r, L->aw, t->n_app) : q->app);
    c->colour[a] = (uint16_t)col;
    c->dept[a] = (uint16_t)d;
    c->tier[a] = (uint8_t)q->tier;
    c->season[a] = (uint8_t)q->season;
    double units = q->price * exp(0.05 * hm_rng_normal(r));
    units = 12 * pow(units / 12, 0.8); /* compress the expensive end */
    long whole = lround(units);
    if (whole < 1)
        whole = 1;
    c->price_ore[a] = (uint32_t)(whole * 100 - 1); /* 24.99 */
    int black = !strcmp(t->colours[col].name, "Black");
    c->attract[a] = (float)(q->attract * exp(0.5 * hm_rng_normal(r)) * (black ? 1.7 : 1.0));
    c->launch_week[a] = (int16_t)(q->launch + (k > 0 && hm_rng_uniform(r) < 0.3 ? (int)hm_rng_below(r, 6) : 0));
    c->life_tau[a] = q->tau;
    /* style: the colour master's and the appearance's affinities */
    int mi = 0;
    for (int m = 0; m < t->n_masters; m++)
        if (t->master_ids[m] == t->colours[col].master_id)
            mi = m;
    int best = 0;
    double bv = -1e9;
    for (int s = 0; s < SYNTH_STYLES; s++) {
        double v = L->mv[mi][s] + L->av[c->app[a]][s] + 0.35 * hm_rng_normal(r);
        if (v > bv)
            bv = v, best = s;
    }
    c->style[a] = (uint8_t)best;
    /* latent attribute vector */
    float *z = c->z + a * SYNTH_ZDIM;
    int vi = t->colours[col].value_id & 15;
    struct { int row; float w; } parts[] = {
        {E_TYPE + c->type[a], 1.0f}, {E_IG + c->ig[a], 0.6f}, {E_SEC + q->section, 0.5f},
        {E_MASTER + mi, 0.9f}, {E_VALUE + vi, 0.4f}, {E_APP + c->app[a], 0.8f},
        {E_TIER + q->tier, 0.4f}, {E_STYLE + best, 0.7f},
    };
    for (size_t pi = 0; pi < sizeof parts / sizeof parts[0]; pi++)
        for (int k2 = 0; k2 < SYNTH_ZDIM; k2++)
            z[k2] += parts[pi].w * L->emb[(size_t)parts[pi].row * SYNTH_ZDIM + k2];
    for (int k2 = 0; k2 < SYNTH_ZDIM; k2++)
        z[k2] += (float)(0.25 * hm_rng_normal(r) / sqrt(SYNTH_ZDIM));
}

/* Every product's articles, in product order. */
static void make_articles(struct synth_catalogue *c, const struct synth_taxonomy *t, struct hm_rng *r,
                          const struct product *pr, size_t np)
{
    struct latent *L = hm_xmalloc(sizeof *L);
    latent_draw(L, t, r);
    struct depts D = {64, hm_xmalloc_array(64, sizeof(int))};
    c->dept_no = hm_xmalloc_array((size_t)D.cap, sizeof(int));
    c->dept_name = hm_xmalloc_array((size_t)D.cap, sizeof *c->dept_name);
    double colw[320];
    for (int k = 0; k < t->n_colours; k++)
        colw[k] = t->colours[k].count;
    size_t a = 0;
    for (size_t i = 0; i < np; i++) {
        const struct product *q = &pr[i];
        c->prod_first[i] = (uint32_t)a;
        int d = dept_of(c, &D, t, q);
        int used[32], n_used = 0;
        for (int k = 0; k < q->n_colours; k++, a++) {
            int col = draw_colour(r, t, colw, used, n_used);
            if (n_used < 32)
                used[n_used++] = col;
            make_article(c, t, r, L, q, i, k, a, col, d);
        }
    }
    c->prod_first[np] = (uint32_t)a;
    HM_ASSERT(a == c->n);
    free(D.key);
    free(L);
}

/* Sublists: articles sorted by (cell, style, tier), stable. */
static void build_sublists(struct synth_catalogue *c)
{
    size_t n = c->n, n_sub = (size_t)c->n_cells * SYNTH_STYLES * SYNTH_TIERS;
    c->sub_first = hm_xcalloc(n_sub + 1, sizeof(uint32_t));
    c->cell_first = hm_xcalloc((size_t)c->n_cells + 1, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        c->sub_first[((size_t)c->cell[i] * SYNTH_STYLES + c->style[i]) * SYNTH_TIERS + c->tier[i] + 1]++;
    for (size_t s = 0; s < n_sub; s++)
        c->sub_first[s + 1] += c->sub_first[s];
    for (int k = 0; k <= c->n_cells; k++)
        c->cell_first[k] = c->sub_first[(size_t)k * SYNTH_STYLES * SYNTH_TIERS];
    uint32_t *fill = hm_xmalloc_array(n_sub, sizeof(uint32_t));
    memcpy(fill, c->sub_first, n_sub * sizeof(uint32_t));
    c->perm = hm_xmalloc_array(n, sizeof(uint32_t));
    c->pos = hm_xmalloc_array(n, sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        size_t s = ((size_t)c->cell[i] * SYNTH_STYLES + c->style[i]) * SYNTH_TIERS + c->tier[i];
        c->pos[i] = fill[s];
        c->perm[fill[s]++] = (uint32_t)i;
    }
    free(fill);
}

/* Complements: a cell's complementary cell has the complementary type, same index group.
 * An article's partner is an attractive article of the complementary cell in the same style
 * (else any style), launched close in time; without a complementary cell, one of its own. */
static void build_partners(struct synth_catalogue *c, const struct synth_taxonomy *t, struct hm_rng *r)
{
    c->comp_cell = hm_xmalloc_array((size_t)c->n_cells, sizeof(int));
    for (int k = 0; k < c->n_cells; k++) {
        c->comp_cell[k] = -1;
        const char *want = type_complement(t->types[t->cells[k].type].name);
        if (!want)
            continue;
        for (int j = 0; j < c->n_cells; j++)
            if (t->cells[j].ig == t->cells[k].ig && !strcmp(t->types[t->cells[j].type].name, want) &&
                c->cell_first[j + 1] > c->cell_first[j])
                c->comp_cell[k] = j;
    }
    for (size_t i = 0; i < c->n; i++) {
        int cc = c->comp_cell[c->cell[i]];
        if (cc < 0)
            cc = c->cell[i];
        size_t lo = c->sub_first[((size_t)cc * SYNTH_STYLES + c->style[i]) * SYNTH_TIERS];
        size_t hi = c->sub_first[((size_t)cc * SYNTH_STYLES + c->style[i] + 1) * SYNTH_TIERS];
        if (hi - lo < 2) {
            lo = c->cell_first[cc];
            hi = c->cell_first[cc + 1];
        }
        uint32_t best = (uint32_t)i;
        double bv = -1e30;
        for (int tries = 0; tries < 12 && hi > lo; tries++) {
            uint32_t b = c->perm[lo + hm_rng_below(r, hi - lo)];
            if (b == i)
                continue;
            double v = log(c->attract[b] + 1e-9) - 0.15 * fabs((double)c->launch_week[b] - c->launch_week[i]);
            if (v > bv)
                bv = v, best = b;
        }
        c->partner[i] = best;
    }
}

void synth_catalogue_build(struct synth_catalogue *c, const struct synth_taxonomy *t,
                           const struct synth_params *p, int n_weeks)
{
    memset(c, 0, sizeof *c);
    struct hm_rng r;
    hm_rng_seed2(&r, (uint64_t)p->seed, 0xCA7A106ULL);
    size_t np;
    struct product *pr = draw_products(&r, t, p, n_weeks, &np);
    /* products (and so their codes and article ids) in launch order, or with code_noise in a
     * noisy launch order drawn from a stream of its own */
    for (size_t i = 0; i < np; i++) {
        pr[i].code_key = pr[i].launch;
        if (p->code_noise > 0) {
            struct hm_rng rc;
            hm_rng_seed2(&rc, (uint64_t)p->seed ^ 0xC0DEULL, i);
            pr[i].code_key += p->code_noise * hm_rng_normal(&rc);
        }
    }
    qsort(pr, np, sizeof *pr, cmp_product);
    uint32_t *codes = draw_codes(&r, np);
    catalogue_alloc(c, (size_t)p->n_articles, np, t->n_cells);
    c->product_code = codes;
    make_articles(c, t, &r, pr, np);
    free(pr);
    build_sublists(c);
    build_partners(c, t, &r);
}

void synth_catalogue_release(struct synth_catalogue *c)
{
    void *ptrs[] = {c->prod_first, c->product_code, c->product, c->colour_no, c->cell, c->type,
                    c->ig, c->index, c->section, c->gg, c->app, c->colour, c->dept, c->style,
                    c->tier, c->season, c->price_ore, c->attract, c->launch_week, c->life_tau,
                    c->partner, c->z, c->perm, c->pos, c->sub_first, c->cell_first, c->dept_no,
                    c->dept_name, c->comp_cell};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
        free(ptrs[i]);
    memset(c, 0, sizeof *c);
}
