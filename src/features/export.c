/* The wide CSV view of a block of candidates for people (pandas): the customer and article
 * ids, every feature column, and the article's image embedding gathered per row (the only
 * place the 512 dimensions are copied into rows). */
#include "features/feat_internal.h"
#include "io/parse.h"

#include <stdlib.h>
#include <string.h>

/* Writes b's contents to w once it holds more than `limit` bytes (limit 0: always). */
static void flush(struct hm_awriter *w, struct hm_buf *b, size_t limit)
{
    if (b->len > limit) {
        hm_awriter_write(w, b->s, b->len);
        b->len = 0;
        b->s[0] = '\0';
    }
}

static void put_float(struct hm_buf *b, float v)
{
    char num[32];
    int len = io_format_f32(v, num);
    hm_buf_append(b, ",", 1);
    hm_buf_append(b, num, (size_t)len);
}

int feat_export_csv(const struct feat_ctx *ctx, const struct recall_candidates *block, const float *x,
                    const char *path)
{
    float *own = NULL;
    const uint32_t nc = feat_n_cols();
    int rc;
    if (!x) {
        own = hm_xmalloc_array((size_t)block->n * nc + 1, sizeof(float));
        if ((rc = feat_block(ctx, block, own)) != 0) {
            free(own);
            return rc;
        }
        x = own;
    }
    struct hm_awriter w;
    if ((rc = hm_awriter_open(&w, path)) != 0) {
        free(own);
        return rc;
    }
    const struct feat_column *fc = feat_columns();
    const struct feat_image *im = ctx->in.image;
    struct hm_buf b = {0};
    hm_buf_puts(&b, "customer_id,article_id");
    for (uint32_t k = 0; k < nc; k++) {
        hm_buf_append(&b, ",", 1);
        hm_buf_puts(&b, fc[k].name);
    }
    for (uint32_t k = 0; im && k < im->dim; k++)
        hm_buf_printf(&b, ",e%u", k);
    hm_buf_append(&b, "\n", 1);
    char cid[65], aid[11];
    for (uint32_t i = 0; i < block->n_users; i++) {
        data_customer_hex(ctx->in.ds, block->user[i], cid);
        for (uint64_t r = block->off[i]; r < block->off[i + 1]; r++) {
            uint32_t a = block->item[r];
            data_article_str(ctx->in.ds, a, aid);
            hm_buf_puts(&b, cid);
            hm_buf_append(&b, ",", 1);
            hm_buf_puts(&b, aid);
            for (uint32_t k = 0; k < nc; k++)
                put_float(&b, x[r * nc + k]);
            for (uint32_t k = 0; im && k < im->dim; k++)
                put_float(&b, im->emb[(size_t)a * im->dim + k]);
            hm_buf_append(&b, "\n", 1);
            flush(&w, &b, 1u << 20);
        }
    }
    flush(&w, &b, 0);
    hm_buf_release(&b);
    free(own);
    return hm_awriter_commit(&w);
}
