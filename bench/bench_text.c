/* Benchmark of the text module at the size of the H&M catalogue: 105,542 synthetic article
 * texts -> TF-IDF -> randomized truncated SVD with k components -> 100,000 user vectors ->
 * top-50 cosine neighbours each. One run per process (so peak RSS belongs to that k):
 *
 *   bench_text K [seed]
 *
 * prints one line of key=value figures. bench/bench_text.sh builds and runs it (3 runs per k,
 * medians). Like hmrec, it sets OPENBLAS_CORETYPE and re-executes itself when this CPU
 * needs it; HMREC_THREADS sets the worker threads. */
#include "core/core.h"
#include "text/text.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_ARTICLES 105542
#define N_PRODUCTS 47224
#define N_USERS 100000
#define TOP 50

/* ---- a plausible synthetic catalogue ----------------------------------------------- */

static const char *types[] = {
    "Trousers", "Dress", "Sweater", "T-shirt", "Top", "Blouse", "Jacket", "Shorts", "Shirt",
    "Vest top", "Underwear bottom", "Skirt", "Hoodie", "Bra", "Socks", "Leggings/Tights",
    "Sneakers", "Cardigan", "Hat/beanie", "Garment Set", "Earring", "Bag", "Bikini top",
    "Swimwear bottom", "Coat", "Boots", "Scarf", "Jumpsuit/Playsuit", "Pyjama set", "Blazer",
    "Sandals", "Belt", "Swimsuit", "Sunglasses", "Gloves", "Necklace", "Ballerinas", "Bodysuit",
    "Night gown", "Kaftan", "Robe", "Polo shirt", "Tailored Waistcoat", "Outdoor trousers",
    "Dungarees", "Hair clip", "Wallet", "Slippers", "Umbrella", "Watch"};
static const char *colours[] = {
    "Black", "Dark Blue", "White", "Light Pink", "Grey", "Light Beige", "Blue", "Red",
    "Light Blue", "Greenish Khaki", "Dark Grey", "Off White", "Beige", "Dark Red", "Dark Green",
    "Yellow", "Pink", "Light Grey", "Khaki green", "Dark Beige", "Gold", "Light Orange",
    "Greyish Beige", "Dark Orange", "Orange", "Silver", "Yellowish Brown", "Light Turquoise",
    "Green", "Turquoise", "Light Yellow", "Dark Pink", "Other Pink", "Lilac Purple",
    "Yellowish Green", "Dark Yellow", "Light Green", "Dark Purple", "Other", "Light Purple",
    "Bronze/Copper", "Transparent", "Light Red", "Dark Turquoise", "Other Orange", "Purple",
    "Other Red", "Other Yellow", "Other Blue", "Other Green"};
static const char *sections[] = {
    "Womens Everyday Collection", "Divided Collection", "Baby Essentials & Complements",
    "Kids Girl", "Young Girl", "Womens Lingerie", "Girls Underwear & Basics", "Womens Tailoring",
    "Kids Boy", "Womens Small accessories", "Womens Casual", "Kids Outerwear", "Divided Basics",
    "H&M+", "Men Underwear", "Womens Swimwear, beachwear & nightwear", "Ladies Denim",
    "Mens Outerwear", "Contemporary Smart", "Womens Big accessories", "Kids Accessories",
    "Young Boy", "Womens Trend", "Ladies H&M Sport", "Divided Selected", "Womens Shoes",
    "Men Suits & Tailoring", "Men Accessories", "Womens Nightwear, Socks & Tigh",
    "Men H&M Sport", "Denim Men", "Contemporary Casual", "Contemporary Street", "Kids Sports",
    "Collaborations", "Special Collections", "Mama", "Men Shoes", "Men Edition",
    "Divided Projects", "Womens Premium", "EQ Divided", "Ladies Other", "Kids & Baby Shoes",
    "Men Project", "Womens Jackets", "Divided Accessories", "Men Other", "Men Other 2",
    "Campaigns", "Denim Men 2", "Young Girl 2", "Kids Local Relevance", "Studio Collection",
    "Divided Complements Other", "Ladies Premium"};
static const char *garments[] = {
    "Jersey Fancy", "Accessories", "Jersey Basic", "Knitwear", "Under-, Nightwear",
    "Trousers", "Blouses", "Shoes", "Dresses Ladies", "Outdoor", "Unknown", "Trousers Denim",
    "Swimwear", "Socks and Tights", "Shirts", "Woven/Jersey/Knitted mix Baby", "Shorts",
    "Dresses/Skirts girls", "Skirts", "Special Offers", "Dressed"};
static const char *dept_words[] = {
    "Jersey", "Basic", "Tops", "Knit", "Denim", "Trousers", "Shorts", "Dresses", "Swimwear",
    "Shoes", "Accessories", "Outdoor", "Blouse", "Shirt", "Lingerie", "Nightwear", "Socks",
    "Tights", "Kids", "Baby", "Girl", "Boy", "Men", "Ladies", "Divided", "Premium", "Sport",
    "Casual", "Fancy", "Tailoring", "Small", "Big", "Jewellery", "Bags", "Belts", "Hats",
    "Projects", "Trend", "Edition", "Campaign"};
/* about 300 words for names and descriptions */
static const char *words[] = {
    "in", "a", "with", "and", "the", "of", "at", "soft", "cotton", "jersey", "fabric",
    "front", "top", "waist", "sleeves", "long", "short", "elasticated", "back", "pockets",
    "buttons", "lined", "zip", "fitted", "regular", "fit", "high", "side", "hem", "weave",
    "collar", "straps", "neckline", "knit", "fine", "wide", "slim", "legs", "cuffs", "ribbed",
    "adjustable", "tie", "belt", "printed", "pattern", "motif", "glittery", "lace", "mesh",
    "padded", "cups", "underwired", "wireless", "lightweight", "woven", "viscose", "linen",
    "wool", "blend", "denim", "stretch", "washed", "rigid", "ankle", "length", "hood",
    "drawstring", "kangaroo", "pocket", "sweatshirt", "brushed", "inside", "rounded",
    "concealed", "press-studs", "fastening", "shoulder", "frill", "trim", "smocked", "flared",
    "skirt", "sewn", "seams", "gathered", "yoke", "chest", "dropped", "shoulders", "raw-edge",
    "v-neck", "round", "wrap", "over", "double-layered", "sheer", "chiffon", "satin", "shiny",
    "matt", "crêpe", "velour", "faux", "leather", "suede", "fur", "pile", "lining", "quilted",
    "insulated", "water-repellent", "outer", "layer", "detachable", "heel", "toes", "insoles",
    "soles", "rubber", "block", "platform", "pointed", "straw", "canvas", "metal", "chain",
    "pendant", "earrings", "hoop", "studs", "pearls", "beads", "sequins", "embroidery",
    "appliqué", "tulle", "ruffles", "bow", "cropped", "oversized", "relaxed", "boxy",
    "tapered", "straight", "skinny", "mom", "loose", "baggy", "cargo", "joggers", "leggings",
    "tights", "socks", "pack", "5-pack", "2-pack", "organic", "recycled", "polyester",
    "polyamide", "elastane", "modal", "lyocell", "silk", "cashmere", "merino", "mohair",
    "alpaca", "cable", "chunky", "cosy", "warm", "winter", "summer", "beach", "bikini",
    "swimsuit", "briefs", "thong", "bra", "push-up", "nursing", "maternity", "baby", "kids",
    "girls", "boys", "sport", "running", "training", "yoga", "breathable", "quick-drying",
    "functional", "reflective", "details", "logo", "text", "graphic", "photo", "picture",
    "stripes", "striped", "checked", "floral", "dots", "spotted", "leopard", "tie-dye",
    "colour-block", "contrasting", "colour", "trims", "piping", "pleats", "pleated", "creases",
    "tailored", "jacket", "blazer", "lapels", "notch", "single-breasted", "double-breasted",
    "vent", "waistcoat", "shirt", "blouse", "dress", "tunic", "kaftan", "playsuit",
    "jumpsuit", "dungarees", "bodysuit", "vest", "camisole", "cardigan", "jumper", "sweater",
    "hoodie", "coat", "parka", "puffer", "trench", "gilet", "scarf", "hat", "beanie", "cap",
    "gloves", "bag", "shopper", "handbag", "clutch", "wallet", "sunglasses", "tinted",
    "lenses", "frame", "hair", "clip", "scrunchie", "slippers", "sandals", "boots", "sneakers",
    "trainers", "laces", "velcro", "ballet", "pumps", "mules", "espadrilles", "nightdress",
    "pyjamas", "robe", "dressing", "gown", "night", "sleep", "lounge", "party", "festive",
    "occasion", "evening", "everyday", "basic", "essential", "classic", "vintage", "retro",
    "feminine", "romantic", "edgy", "sporty", "smart", "casual", "premium", "selected",
    "collection", "limited", "edition", "conscious", "sustainable", "fairtrade", "care",
    "machine", "washable"};
#define NW (sizeof words / sizeof *words)
#define NT (sizeof types / sizeof *types)

/* a Zipf-ish index in [0, n) */
static size_t zipf(struct hm_rng *r, size_t n)
{
    double u = hm_rng_uniform(r);
    size_t i = (size_t)(n * u * u * u);
    return i < n ? i : n - 1;
}

static void append(char **p, const char *s)
{
    size_t n = strlen(s);
    memcpy(*p, s, n);
    *p += n;
}

static char depts[300][48]; /* department names ("Jersey Basic"), referenced by the cells */

/* Fills the (N_ARTICLES, 7) cells: one text per product code, shared by its colours. */
static char *make_catalogue(const char **cells, uint64_t seed)
{
    char *arena = hm_xmalloc((size_t)N_PRODUCTS * 512);
    char *p = arena;
    char **pname = hm_xmalloc_array(N_PRODUCTS, sizeof *pname);
    char **pdesc = hm_xmalloc_array(N_PRODUCTS, sizeof *pdesc);
    int *ptype = hm_xmalloc_array(N_PRODUCTS, sizeof *ptype);
    struct hm_rng r;
    hm_rng_seed2(&r, seed, 1);
    for (int d = 0; d < 300; d++)
        snprintf(depts[d], sizeof depts[d], "%s %s",
                 dept_words[hm_rng_below(&r, sizeof dept_words / sizeof *dept_words)],
                 dept_words[hm_rng_below(&r, sizeof dept_words / sizeof *dept_words)]);
    for (int i = 0; i < N_PRODUCTS; i++) {
        int t = (int)zipf(&r, NT);
        ptype[i] = t;
        /* each type leans on its own slice of the vocabulary (topic structure) */
        size_t topic = (size_t)t * 37 % NW;
        pname[i] = p;
        /* a style name from ~3000 made-up ones ("Tilly", "Jade"), as in the real prod_name */
        size_t style = zipf(&r, 3000);
        static const char *syl[] = {"ta", "li", "jo", "ma", "de", "ri", "sa", "no", "ve", "ka",
                                    "lu", "mi", "be", "ro", "xi", "fe", "zo", "pa", "gu", "ne"};
        append(&p, syl[style % 20]);
        append(&p, syl[style / 20 % 20]);
        if (style >= 400)
            append(&p, syl[style / 400 % 20]);
        *p++ = ' ';
        int nn = 1 + (int)hm_rng_below(&r, 3);
        for (int w = 0; w < nn; w++) {
            append(&p, words[(topic + zipf(&r, 40)) % NW]);
            *p++ = ' ';
        }
        append(&p, types[t]);
        *p++ = 0;
        pdesc[i] = p;
        int nd = 20 + (int)hm_rng_below(&r, 21);
        for (int w = 0; w < nd; w++) {
            const char *wd = hm_rng_uniform(&r) < 0.5 ? words[(topic + zipf(&r, 60)) % NW]
                                                      : words[zipf(&r, NW)];
            append(&p, wd);
            *p++ = w % 9 == 8 ? '.' : ' ';
        }
        *p++ = 0;
        HM_ASSERT((size_t)(p - arena) < (size_t)N_PRODUCTS * 512);
    }
    for (int a = 0; a < N_ARTICLES; a++) {
        int i = a < N_PRODUCTS ? a : (int)hm_rng_below(&r, N_PRODUCTS);
        const char **c = cells + (size_t)a * 7;
        int t = ptype[i];
        c[0] = types[t];
        c[1] = colours[zipf(&r, sizeof colours / sizeof *colours)];
        c[2] = depts[(t * 7 + (int)hm_rng_below(&r, 6)) % 300];
        c[3] = sections[(t * 3 + (int)hm_rng_below(&r, 4)) % (sizeof sections / sizeof *sections)];
        c[4] = garments[(t + (int)hm_rng_below(&r, 2)) % (sizeof garments / sizeof *garments)];
        c[5] = pname[i];
        c[6] = hm_rng_below(&r, 250) == 0 ? "" : pdesc[i]; /* ~0.4% empty like the real set */
    }
    free(pname);
    free(pdesc);
    free(ptype);
    return arena;
}

static void log_line(int level, const char *msg, void *ud)
{
    (void)level;
    (void)ud;
    fprintf(stderr, "%s\n", msg);
}

int main(int argc, char **argv)
{
    hm_blas_ensure_coretype(argv);
    setlocale(LC_ALL, "C");
    const char *th = getenv("HMREC_THREADS");
    if (th && atoi(th) > 0)
        hm_threads_set(atoi(th));
    if (argc < 2) {
        fprintf(stderr, "usage: bench_text K [seed]\n");
        return 2;
    }
    if (getenv("HMREC_DEBUG"))
        hm_log_set_hook(log_line, NULL);
    uint32_t k = (uint32_t)atoi(argv[1]);
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;

    const char **cells = hm_xmalloc_array((size_t)N_ARTICLES * 7, sizeof *cells);
    char *arena = make_catalogue(cells, seed);

    struct text_field f[TEXT_HM_NFIELDS];
    text_hm_fields(f);
    struct text_model_opts o;
    text_model_opts_default(&o);
    o.svd.k = k;

    int64_t t0 = hm_now_ns();
    struct text_tfidf tf;
    struct text_csr a;
    if (text_tfidf_fit(&tf, f, TEXT_HM_NFIELDS, cells, N_ARTICLES, &o.tfidf, &a)) {
        fprintf(stderr, "tfidf: %s\n", hm_last_error());
        return 1;
    }
    double t_tfidf = hm_seconds_since(t0);
    int64_t t1 = hm_now_ns();
    struct text_svd s;
    if (text_svd_fit(&a, &o.svd, &s)) {
        fprintf(stderr, "svd: %s\n", hm_last_error());
        return 1;
    }
    text_l2_normalize_rows(s.us, s.n_rows, s.k);
    double t_svd = hm_seconds_since(t1);

    /* users: 1..20 purchases each, clustered around a random article's product type */
    struct hm_rng r;
    hm_rng_seed2(&r, seed, 2);
    uint64_t *ptr = hm_xmalloc_array(N_USERS + 1, sizeof *ptr);
    uint32_t *items = hm_xmalloc_array((size_t)N_USERS * 20, sizeof *items);
    ptr[0] = 0;
    for (int u = 0; u < N_USERS; u++) {
        int n = 1 + (int)hm_rng_below(&r, 20);
        for (int i = 0; i < n; i++)
            items[ptr[u] + i] = (uint32_t)hm_rng_below(&r, N_ARTICLES);
        ptr[u + 1] = ptr[u] + n;
    }
    float *ue = hm_xmalloc_array((size_t)N_USERS * s.k, sizeof *ue);
    uint32_t *ids = hm_xmalloc_array((size_t)N_USERS * TOP, sizeof *ids);
    float *sc = hm_xmalloc_array((size_t)N_USERS * TOP, sizeof *sc);
    int64_t t2 = hm_now_ns();
    if (text_user_embed(s.us, s.n_rows, s.k, ptr, items, NULL, N_USERS, ue)) {
        fprintf(stderr, "users: %s\n", hm_last_error());
        return 1;
    }
    double t_users = hm_seconds_since(t2);
    int64_t t3 = hm_now_ns();
    if (text_topn(ue, N_USERS, s.us, s.n_rows, s.k, TOP, ptr, items, ids, sc)) {
        fprintf(stderr, "topn: %s\n", hm_last_error());
        return 1;
    }
    double t_topn = hm_seconds_since(t3);
    uint64_t check = hm_hash64(ids, (size_t)N_USERS * TOP * sizeof *ids, 0);

    printf("k=%u threads=%d kernel=%s docs=%d terms=%u nnz=%llu tfidf_s=%.3f svd_s=%.3f "
           "users_s=%.3f top50_s=%.3f peak_rss_mib=%.0f s0=%.4f s_last=%.4f topn_hash=%016llx\n",
           s.k, hm_threads(), hm_blas_corename(), N_ARTICLES, tf.vocab.n_terms,
           (unsigned long long)a.rowptr[a.n_rows], t_tfidf, t_svd, t_users, t_topn,
           hm_peak_rss() / 1048576.0, s.s[0], s.s[s.k - 1], (unsigned long long)check);

    free(ue);
    free(ids);
    free(sc);
    free(ptr);
    free(items);
    text_svd_release(&s);
    text_csr_release(&a);
    text_tfidf_release(&tf);
    free(cells);
    free(arena);
    return 0;
}
