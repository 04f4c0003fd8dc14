/* synth/taxonomy.c: parses the embedded catalogue taxonomy (taxonomy_data.c). */
#include "synth/synth_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAXF 10

static int split(char *line, char **f)
{
    int n = 0;
    f[n++] = line;
    for (char *s = line; *s; s++)
        if (*s == '\t' && n < MAXF) {
            *s = 0;
            f[n++] = s + 1;
        }
    return n;
}

static int ig_find(struct synth_taxonomy *t, const char *name, int no)
{
    for (int i = 0; i < t->n_ig; i++)
        if (!strcmp(t->ig[i].name, name))
            return i;
    if (no < 0)
        HM_BUG("taxonomy: unknown index group '%s'", name);
    HM_ASSERT(t->n_ig < 8);
    t->ig[t->n_ig].no = no;
    snprintf(t->ig[t->n_ig].name, sizeof t->ig[0].name, "%s", name);
    return t->n_ig++;
}

static int type_find(const struct synth_taxonomy *t, const char *name)
{
    for (int i = 0; i < t->n_types; i++)
        if (!strcmp(t->types[i].name, name))
            return i;
    HM_BUG("taxonomy: unknown product type '%s'", name);
}

static int gg_find(const struct synth_taxonomy *t, const char *name)
{
    for (int i = 0; i < t->n_gg; i++)
        if (!strcmp(t->gg[i].name, name))
            return i;
    HM_BUG("taxonomy: unknown garment group '%s'", name);
}

/* The garment group a product type usually belongs to (-1: drawn by frequency). */
static const char *type_garment(const char *type, const char *group)
{
    static const char *by_group[][2] = {
        {"Accessories", "Accessories"}, {"Shoes", "Shoes"}, {"Underwear", "Under-, Nightwear"},
        {"Nightwear", "Under-, Nightwear"}, {"Underwear/nightwear", "Under-, Nightwear"},
        {"Socks & Tights", "Socks and Tights"}, {"Swimwear", "Swimwear"}, {"Bags", "Accessories"},
        {"Items", "Accessories"}, {"Cosmetic", "Accessories"},
    };
    static const char *by_type[][2] = {
        {"Sweater", "Knitwear"}, {"Cardigan", "Knitwear"}, {"Blouse", "Blouses"},
        {"Shirt", "Shirts"}, {"Jacket", "Outdoor"}, {"Coat", "Outdoor"}, {"Blazer", "Dressed"},
        {"Shorts", "Shorts"}, {"Skirt", "Skirts"}, {"Dress", "Dresses Ladies"},
        {"T-shirt", "Jersey Basic"}, {"Vest top", "Jersey Basic"}, {"Leggings/Tights", "Jersey Basic"},
        {"Trousers", "Trousers"}, {"Top", "Jersey Fancy"}, {"Hoodie", "Jersey Fancy"},
    };
    for (size_t i = 0; i < sizeof by_type / sizeof by_type[0]; i++)
        if (!strcmp(type, by_type[i][0]))
            return by_type[i][1];
    for (size_t i = 0; i < sizeof by_group / sizeof by_group[0]; i++)
        if (!strcmp(group, by_group[i][0]))
            return by_group[i][1];
    return NULL;
}

void synth_taxonomy_load(struct synth_taxonomy *t)
{
    memset(t, 0, sizeof *t);
    char *text = hm_xstrdup(synth_taxonomy_tsv);
    char *save = NULL;
    /* index groups come from the index rows; read them first so sections can refer to them */
    for (int pass = 0; pass < 2; pass++) {
        char *copy = hm_xstrdup(text);
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *f[MAXF];
            int nf = split(line, f);
            double count = atof(f[nf - 1]);
            if (pass == 0) {
                if (!strcmp(f[0], "index") && nf == 6) {
                    struct synth_tx_index *x = &t->index[t->n_index++];
                    snprintf(x->code, sizeof x->code, "%s", f[1]);
                    snprintf(x->name, sizeof x->name, "%s", f[2]);
                    x->ig = ig_find(t, f[4], atoi(f[3]));
                    x->count = count;
                } else if (!strcmp(f[0], "product_type") && nf == 5) {
                    struct synth_tx_type *x = &t->types[t->n_types++];
                    x->no = atoi(f[1]);
                    snprintf(x->name, sizeof x->name, "%s", f[2]);
                    snprintf(x->group, sizeof x->group, "%s", f[3]);
                } else if (!strcmp(f[0], "garment_group") && nf == 4) {
                    struct synth_tx_simple *x = &t->gg[t->n_gg++];
                    x->no = atoi(f[1]);
                    snprintf(x->name, sizeof x->name, "%s", f[2]);
                    x->count = count;
                } else if (!strcmp(f[0], "graphical_appearance") && nf == 4) {
                    struct synth_tx_simple *x = &t->app[t->n_app++];
                    x->no = atoi(f[1]);
                    snprintf(x->name, sizeof x->name, "%s", f[2]);
                    x->count = count;
                } else if (!strcmp(f[0], "colour_group") && nf == 8) {
                    struct synth_tx_colour *x = &t->colours[t->n_colours++];
                    x->code = atoi(f[1]);
                    snprintf(x->name, sizeof x->name, "%s", f[2]);
                    x->value_id = atoi(f[3]);
                    snprintf(x->value_name, sizeof x->value_name, "%s", f[4]);
                    x->master_id = atoi(f[5]);
                    snprintf(x->master_name, sizeof x->master_name, "%s", f[6]);
                    x->count = count;
                }
            } else {
                if (!strcmp(f[0], "section") && nf == 5) {
                    struct synth_tx_section *x = &t->sections[t->n_sections++];
                    x->no = atoi(f[1]);
                    snprintf(x->name, sizeof x->name, "%s", f[2]);
                    x->ig = ig_find(t, f[3], -1);
                    x->count = count;
                } else if (!strcmp(f[0], "type_by_index_group") && nf == 4) {
                    struct synth_tx_cell *x = &t->cells[t->n_cells++];
                    x->type = type_find(t, f[1]);
                    x->ig = ig_find(t, f[2], -1);
                    x->count = count;
                }
            }
            HM_ASSERT(t->n_types < 160 && t->n_cells < 400 && t->n_sections < 64 && t->n_colours < 320 &&
                      t->n_app < 40 && t->n_gg < 32 && t->n_index < 16);
        }
        free(copy);
    }
    free(text);
    for (int i = 0; i < t->n_types; i++) {
        const char *g = type_garment(t->types[i].name, t->types[i].group);
        t->types[i].gg = g ? gg_find(t, g) : -1;
    }
    for (int i = 0; i < t->n_colours; i++) {
        int id = t->colours[i].master_id, found = 0;
        for (int k = 0; k < t->n_masters; k++)
            found |= t->master_ids[k] == id;
        if (!found && t->n_masters < 32)
            t->master_ids[t->n_masters++] = id;
    }
    if (t->n_types < 100 || t->n_cells < 300 || t->n_ig != 5 || t->n_sections < 50)
        HM_BUG("taxonomy: embedded table incomplete");
}
