/* The text stage's driver: TF-IDF over every article's descriptive text (product type,
 * colour, department, section, garment group as categorical terms; prod_name and
 * detail_desc as words), reduced by randomized truncated SVD (src/text), written once as
 * <work>/text_emb.npy + text_emb.ids.txt for recall and features. Article text does not
 * depend on time, so one model serves every cutoff. */
#include "pipeline/pipeline.h"

#include <stdlib.h>
#include <string.h>

/* The articles' text cells (n_articles, TEXT_HM_NFIELDS) as NUL-terminated strings in buf. */
static const char **article_cells(const struct data_set *ds, char **buf)
{
    const struct data_articles *art = &ds->articles;
    static const int cols[TEXT_HM_NFIELDS] = {IO_ART_PRODUCT_TYPE_NAME, IO_ART_COLOUR_GROUP_NAME,
                                              IO_ART_DEPARTMENT_NAME,   IO_ART_SECTION_NAME,
                                              IO_ART_GARMENT_GROUP_NAME, IO_ART_PROD_NAME,
                                              IO_ART_DETAIL_DESC};
    uint32_t na = art->n;
    uint64_t bytes = 0;
    for (int f = 0; f < TEXT_HM_NFIELDS; f++)
        if (art->code[cols[f]])
            for (uint32_t a = 0; a < na; a++) {
                uint32_t len;
                data_dict_get(&art->dict[cols[f]], art->code[cols[f]][a], &len);
                bytes += len + 1;
            }
    char *w = *buf = hm_xmalloc(bytes + 1);
    const char **cells = hm_xcalloc((size_t)na * TEXT_HM_NFIELDS + 1, sizeof *cells);
    for (uint32_t a = 0; a < na; a++)
        for (int f = 0; f < TEXT_HM_NFIELDS; f++) {
            if (!art->code[cols[f]])
                continue;
            uint32_t len;
            const char *s = data_dict_get(&art->dict[cols[f]], art->code[cols[f]][a], &len);
            memcpy(w, s, len);
            w[len] = '\0';
            cells[(size_t)a * TEXT_HM_NFIELDS + f] = w;
            w += len + 1;
        }
    return cells;
}

int pipeline_text(struct pipeline *p)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    int64_t t0 = hm_now_ns();
    char *buf;
    const char **cells = article_cells(ds, &buf);
    struct text_field fields[TEXT_HM_NFIELDS];
    text_hm_fields(fields);
    struct text_model_opts o;
    text_model_opts_from(&o, &p->c.text);
    struct text_model m;
    rc = text_model_fit(&m, fields, TEXT_HM_NFIELDS, (const char *const *)cells, ds->articles.n, &o);
    free(cells);
    free(buf);
    if (rc)
        return hm_error_wrap(rc, "text model");
    char *npy = pipeline_path(p, "text_emb.npy"), *ids = pipeline_path(p, "text_emb.ids.txt");
    if ((rc = hm_mkdirs(p->work)) == 0)
        rc = data_article_matrix_write(ds, m.svd.us, m.svd.k, npy, ids);
    if (!rc)
        hm_report("text: %u articles, %u terms, %u dimensions: wrote %s in %.1fs", ds->articles.n,
                  m.tfidf.vocab.n_terms, m.svd.k, npy, hm_seconds_since(t0));
    text_model_release(&m);
    free(npy);
    free(ids);
    return rc;
}

int pipeline_text_load(struct pipeline *p, struct data_article_matrix *m)
{
    const struct data_set *ds;
    int rc = pipeline_data(p, &ds);
    if (rc)
        return rc;
    char *npy = pipeline_path(p, "text_emb.npy"), *ids = pipeline_path(p, "text_emb.ids.txt");
    rc = data_article_matrix_load(m, ds, npy, ids);
    free(npy);
    free(ids);
    return rc;
}
