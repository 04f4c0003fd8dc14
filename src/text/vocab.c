/* The vocabulary: an open-addressing hash table from term bytes to dense ids, with the
 * bytes in one growing arena (no allocation per term). */
#include "text/text.h"

#include <stdlib.h>
#include <string.h>

#define VOCAB_SEED 0x7465787476ULL

void text_vocab_init(struct text_vocab *v)
{
    memset(v, 0, sizeof *v);
    v->n_slots = 1024;
    v->slots = hm_xcalloc(v->n_slots, sizeof *v->slots);
    v->offs_cap = 1024;
    v->offs = hm_xmalloc_array(v->offs_cap, sizeof *v->offs);
    v->offs[0] = 0;
    v->arena_cap = 16384;
    v->arena = hm_xmalloc(v->arena_cap);
}

void text_vocab_release(struct text_vocab *v)
{
    free(v->arena);
    free(v->offs);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

static inline int term_eq(const struct text_vocab *v, uint32_t t, const char *tok, size_t len)
{
    return v->offs[t + 1] - v->offs[t] == len && memcmp(v->arena + v->offs[t], tok, len) == 0;
}

static void grow_slots(struct text_vocab *v)
{
    uint64_t n = v->n_slots * 2;
    uint32_t *s = hm_xcalloc(n, sizeof *s);
    for (uint32_t t = 0; t < v->n_terms; t++) {
        uint64_t h = hm_hash64(v->arena + v->offs[t], v->offs[t + 1] - v->offs[t], VOCAB_SEED);
        uint64_t i = h & (n - 1);
        while (s[i])
            i = (i + 1) & (n - 1);
        s[i] = t + 1;
    }
    free(v->slots);
    v->slots = s;
    v->n_slots = n;
}

int64_t text_vocab_find(const struct text_vocab *v, const char *tok, size_t len)
{
    if (!v->slots)
        return -1;
    uint64_t i = hm_hash64(tok, len, VOCAB_SEED) & (v->n_slots - 1);
    for (;;) {
        uint32_t s = v->slots[i];
        if (!s)
            return -1;
        if (term_eq(v, s - 1, tok, len))
            return (int64_t)(s - 1);
        i = (i + 1) & (v->n_slots - 1);
    }
}

uint32_t text_vocab_add(struct text_vocab *v, const char *tok, size_t len, int *added)
{
    uint64_t i = hm_hash64(tok, len, VOCAB_SEED) & (v->n_slots - 1);
    for (;;) {
        uint32_t s = v->slots[i];
        if (!s)
            break;
        if (term_eq(v, s - 1, tok, len)) {
            if (added)
                *added = 0;
            return s - 1;
        }
        i = (i + 1) & (v->n_slots - 1);
    }
    if (v->n_terms == UINT32_MAX - 1)
        HM_BUG("vocabulary overflow");
    uint32_t t = v->n_terms++;
    HM_GROW(v->arena, v->arena_cap, v->arena_len + len);
    memcpy(v->arena + v->arena_len, tok, len);
    v->arena_len += len;
    HM_GROW(v->offs, v->offs_cap, (size_t)v->n_terms + 1);
    v->offs[t + 1] = v->arena_len;
    v->slots[i] = t + 1;
    if ((uint64_t)v->n_terms * 2 > v->n_slots)
        grow_slots(v);
    if (added)
        *added = 1;
    return t;
}

const char *text_vocab_term(const struct text_vocab *v, uint32_t t, size_t *len)
{
    HM_ASSERT(t < v->n_terms);
    *len = v->offs[t + 1] - v->offs[t];
    return v->arena + v->offs[t];
}
