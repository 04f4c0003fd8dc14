/* libFuzzer target for the text module's parsers: the model artifact loader (any bytes must
 * load or fail with HM_EFORMAT, never crash) and the tokenizer plus TF-IDF on arbitrary text. */
#include "text/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int count_token(const char *tok, size_t len, void *ud)
{
    (void)tok;
    *(size_t *)ud += len;
    return 0;
}

static char path[64];
static void remove_file(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz_text_%d.bin", (int)getpid());
        atexit(remove_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct text_model m;
    if (text_model_load(&m, path) == 0)
        text_model_release(&m);

    /* the same bytes as text: three documents of two fields split at NUL bytes */
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    struct text_tok_opts o = {1, 1};
    size_t total = 0;
    text_tokenize(s, size, &o, count_token, &total);
    const char *cells[6] = {s, "", s + size / 3, NULL, s + 2 * size / 3, "x y"};
    struct text_field fields[2] = {{"a", 1, 0, 1}, {"b", 0.5f, 1, 0}};
    struct text_tfidf_opts to;
    text_tfidf_opts_default(&to);
    to.min_df = 1;
    struct text_tfidf t;
    struct text_csr a;
    if (text_tfidf_fit(&t, fields, 2, cells, 3, &to, &a) == 0) {
        text_csr_release(&a);
        text_tfidf_release(&t);
    }
    free(s);
    return 0;
}
