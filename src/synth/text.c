/* synth/text.c: product names and descriptions built from an article's attributes, so
 * that text similarity reflects the catalogue structure (type, pattern, section, colour). */
#include "synth/synth_internal.h"

#include <ctype.h>
#include <string.h>

static const char *const stems[] = {
    "Tilly", "Jade", "Mabel", "Luna", "Nova", "Iris", "Vera", "Stella", "Ada", "Elsa", "Maja",
    "Saga", "Ella", "Freja", "Alva", "Juni", "Wilma", "Ines", "Cleo", "Ruby", "Olive", "Hazel",
    "Felix", "Oscar", "Hugo", "Leo", "Noah", "Liam", "Theo", "Axel", "Milo", "Otto", "Sam",
    "Pluto", "Bamse", "Sunny", "Breeze", "Coast", "Harbour", "Meadow", "Willow", "Aspen",
    "Cedar", "Maple", "Birch", "Fjord", "Nordic", "Urban", "City", "Metro", "Studio", "Atelier",
    "Basic", "Essential", "Classic", "Soft", "Cosy", "Relaxed", "Slim", "Skinny", "Wide",
    "Straight", "Loose", "Oversized", "Cropped", "Fitted", "Flared", "Boxy", "Tapered", "Mom",
};
static const char *const materials[] = {
    "cotton jersey", "soft, fine-knit fabric", "woven fabric", "stretch denim", "viscose",
    "linen blend", "organic cotton", "ribbed jersey", "sweatshirt fabric", "satin", "chiffon",
    "lyocell", "recycled polyester", "mesh", "knitted fabric", "twill", "corduroy", "faux leather",
};
/* Features and closing sentences by product group, so descriptions read like the real ones
 * and text similarity follows the garment kind. */
static const char *const f_upper[] = {
    "a round neckline", "a V-neck", "long sleeves", "short sleeves", "a collar", "buttons down the front",
    "a chest pocket", "narrow shoulder straps", "a wrapover front", "dropped shoulders", "a hood",
    "ribbing at the cuffs and hem", "a concealed zip", "raw-edge hems", NULL};
static const char *const f_lower[] = {
    "an elasticated waist", "side pockets", "a drawstring", "a high waist", "a zip fly and button",
    "back pockets", "wide legs", "tapered legs", "straight legs", "a regular waist", "belt loops",
    "raw-edge hems", NULL};
static const char *const f_full[] = {
    "a V-neck", "narrow shoulder straps", "a tie belt", "a concealed zip at the back", "flounced trims",
    "a wrapover front", "short puff sleeves", "a gathered waist", "a flared skirt", NULL};
static const char *const f_under[] = {
    "adjustable straps", "padded cups", "underwired cups", "a lined gusset", "a narrow elastic waist",
    "lace trims", "a hook-and-eye fastening", "high-cut legs", NULL};
static const char *const f_acc[] = {
    "a metal clasp", "an adjustable strap", "a zip compartment", "a decorative buckle",
    "a printed lining", "a foldover top", "a snap fastener", NULL};
static const char *const f_shoes[] = {
    "a padded footbed", "laces at the front", "a chunky sole", "a pull-on loop at the back",
    "a rubber sole", "a rounded toe", NULL};
static const char *const extras[] = {
    "Unlined.", "Lined.", "Partly lined.", "Soft, brushed inside.", "Made from recycled materials.",
    "Machine washable.", "Slightly longer at the back.", "Relaxed fit.", "Slim fit.", "Regular fit.",
};

static const char *pick(const char *const *list, uint64_t h)
{
    size_t n = 0;
    while (list[n])
        n++;
    return list[h % n];
}

static const char *const *features_for(const char *group)
{
    if (!strcmp(group, "Garment Lower body"))
        return f_lower;
    if (!strcmp(group, "Garment Full body"))
        return f_full;
    if (!strcmp(group, "Underwear") || !strcmp(group, "Swimwear") || !strcmp(group, "Nightwear") ||
        !strcmp(group, "Socks & Tights") || !strcmp(group, "Underwear/nightwear"))
        return f_under;
    if (!strcmp(group, "Shoes"))
        return f_shoes;
    if (!strcmp(group, "Garment Upper body"))
        return f_upper;
    return f_acc;
}

static uint64_t H(uint64_t seed, uint64_t a, uint64_t k)
{
    return hm_mix64(seed * 0x9E3779B97F4A7C15ULL ^ (a << 8) ^ k);
}

static void lower_copy(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = 0;
}

void synth_article_text(const struct synth_catalogue *c, const struct synth_taxonomy *t,
                        uint64_t seed, size_t a, char *name, char *desc)
{
    uint32_t prod = c->product[a];
    uint64_t h = H(seed, prod, 1);
    const char *type = t->types[c->type[a]].name;
    const char *stem = stems[h % (sizeof stems / sizeof stems[0])];
    /* names are per product (every colour shares it), sometimes with a short qualifier */
    static const char *const quals[] = {"", "", "", " HW", " LS", " SS", " 2-pack", " 3p", " (1)", " Slim", " Wide"};
    snprintf(name, 64, "%s%s %s", stem, quals[(h >> 16) % (sizeof quals / sizeof quals[0])], type);
    /* descriptions: about 0.4% are empty; the rest describe the product (same for all
     * colours), its pattern and its section */
    uint64_t hd = H(seed, prod, 2);
    if (hd % 1000 < 4) {
        desc[0] = 0;
        return;
    }
    char tl[48], app[48], sec[48];
    lower_copy(tl, sizeof tl, type);
    lower_copy(app, sizeof app, t->app[c->app[a]].name);
    lower_copy(sec, sizeof sec, t->sections[c->section[a]].name);
    const char *mat = materials[(hd >> 8) % (sizeof materials / sizeof materials[0])];
    const char *const *fl = features_for(t->types[c->type[a]].group);
    const char *f1 = pick(fl, hd >> 16), *f2 = pick(fl, hd >> 24);
    if (f1 == f2)
        f2 = pick(fl, (hd >> 24) + 1);
    const char *ex = extras[(hd >> 32) % (sizeof extras / sizeof extras[0])];
    int n = snprintf(desc, 512, "%s %s in %s with %s and %s. %s", !strcmp(app, "solid") ? "Plain" : "Patterned",
                     tl, mat, f1, f2, ex);
    if ((hd >> 40) % 100 < 3 && n > 0 && n < 400) /* a quoted word, as in real descriptions */
        n += snprintf(desc + n, (size_t)(512 - n), " In a \"%s\" style from %s.", app, sec);
    if ((hd >> 48) % 1000 < 2 && n > 0 && n < 400) /* a rare line break */
        snprintf(desc + n, (size_t)(512 - n), "\nSize: %d-%d", 34 + (int)((hd >> 56) % 4) * 2, 44);
}
