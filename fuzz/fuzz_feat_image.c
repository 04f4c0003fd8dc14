/* libFuzzer target for the image embeddings loader of the features: the first byte picks the
 * format; for CSV the rest is the file, for .npy the rest is split at the first 0xff byte
 * into the .npy bytes and the ids file. A data set of 8 articles (ids 100000001..8) receives
 * them with 4 dimensions. Whatever the bytes, the loader must return 0 with finite,
 * consistent embeddings, or an error with a message; never crash. */
#include "features/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void put(const char *name, const uint8_t *data, size_t len)
{
    char *p = hm_path_join(dir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz_feat_image_%d", (int)getpid());
        hm_mkdirs(dir);
    }
    if (size < 1)
        return 0;
    static const uint32_t ids[8] = {100000001, 100000002, 100000003, 100000004,
                                    100000005, 100000006, 100000007, 100000008};
    struct data_set ds;
    memset(&ds, 0, sizeof ds);
    ds.articles.n = 8;
    ds.articles.article_id = ids;
    const char *name;
    if (data[0] & 1) {
        name = "emb.csv";
        put(name, data + 1, size - 1);
    } else {
        name = "emb.npy";
        const uint8_t *sep = memchr(data + 1, 0xff, size - 1);
        size_t n1 = sep ? (size_t)(sep - data - 1) : size - 1;
        put(name, data + 1, n1);
        put("emb.ids.txt", sep ? sep + 1 : data + size, sep ? size - n1 - 2 : 0);
    }
    char *path = hm_path_join(dir, name);
    struct feat_image im;
    int rc = feat_image_load(&im, &ds, path, 4);
    if (rc == 0) {
        if (im.n_articles != 8 || im.dim != 4 || im.n_missing > 8)
            abort();
        for (size_t i = 0; i < 8 * 4; i++)
            if (!isfinite(im.emb[i]))
                abort();
        feat_image_release(&im);
    } else if (!hm_last_error()[0]) {
        abort();
    }
    free(path);
    return 0;
}
