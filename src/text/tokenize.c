/* The tokenizer: ASCII lower-casing, splitting on non-alphanumerics (UTF-8 bytes kept),
 * a built-in English stop-word list and a minimum token length. */
#include "text/text.h"

#include <string.h>

void text_tok_opts_default(struct text_tok_opts *o)
{
    o->min_len = 2;
    o->stop_words = 1;
}

/* A small English list (the usual function words); kept sorted for binary search. */
static const char *const stop_words[] = {
    "a",      "about",   "above", "after", "again", "against", "all",   "am",    "an",
    "and",    "any",     "are",   "as",    "at",    "be",      "been",  "before", "being",
    "below",  "between", "both",  "but",   "by",    "can",     "could", "did",   "do",
    "does",   "doing",   "down",  "during", "each", "few",     "for",   "from",  "further",
    "had",    "has",     "have",  "having", "he",   "her",     "here",  "hers",  "herself",
    "him",    "himself", "his",   "how",   "i",     "if",      "in",    "into",  "is",
    "it",     "its",     "itself", "just", "me",    "more",    "most",  "my",    "myself",
    "no",     "nor",     "not",   "now",   "of",    "off",     "on",    "once",  "only",
    "or",     "other",   "our",   "ours",  "ourselves", "out", "over",  "own",   "same",
    "she",    "should",  "so",    "some",  "such",  "than",    "that",  "the",   "their",
    "theirs", "them",    "themselves", "then", "there", "these", "they", "this", "those",
    "through", "to",     "too",   "under", "until", "up",      "very",  "was",   "we",
    "were",   "what",    "when",  "where", "which", "while",   "who",   "whom",  "why",
    "will",   "with",    "would", "you",   "your",  "yours",   "yourself", "yourselves",
};

int text_is_stop_word(const char *tok, size_t len)
{
    size_t lo = 0, hi = sizeof stop_words / sizeof *stop_words;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *w = stop_words[mid];
        size_t wl = strlen(w);
        int c = memcmp(tok, w, len < wl ? len : wl);
        if (c == 0)
            c = len < wl ? -1 : len > wl ? 1 : 0;
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

static inline int is_token_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

int text_tokenize(const char *s, size_t len, const struct text_tok_opts *o, text_token_fn fn,
                  void *ud)
{
    char buf[TEXT_MAX_TOKEN];
    size_t i = 0;
    while (i < len) {
        while (i < len && !is_token_byte((unsigned char)s[i]))
            i++;
        size_t n = 0;
        while (i < len && is_token_byte((unsigned char)s[i])) {
            unsigned char c = (unsigned char)s[i++];
            if (n < TEXT_MAX_TOKEN)
                buf[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        if (n == 0)
            continue;
        if ((int)n < o->min_len)
            continue;
        if (o->stop_words && text_is_stop_word(buf, n))
            continue;
        int rc = fn(buf, n, ud);
        if (rc)
            return rc;
    }
    return 0;
}
