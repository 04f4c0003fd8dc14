/* The report page builder: blocks added in reading order, copied into the page; images
 * read and turned into data: URIs here (see eval.h; rendered by html.c and page_text.c). */
#include "eval/page_impl.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *dup_or_null(const char *s)
{
    return s ? hm_xstrdup(s) : NULL;
}

static struct eval_block *add_block(struct eval_page *p, enum page_kind kind)
{
    HM_GROW(p->blocks, p->cap, p->n + 1);
    struct eval_block *b = &p->blocks[p->n++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    return b;
}

size_t page_text_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *q = (const unsigned char *)(s ? s : ""); *q; q++)
        n += (*q & 0xC0) != 0x80;
    return n;
}

void eval_page_init(struct eval_page *p, const char *title)
{
    memset(p, 0, sizeof *p);
    p->title = hm_xstrdup(title ? title : "");
}

static void block_release(struct eval_block *b)
{
    free(b->text);
    free(b->id);
    free(b->svg);
    free(b->uri);
    free(b->alt);
    size_t n_cells = b->kind == PB_TABLE ? (b->n_rows + 1) * b->n_cols : b->n_rows * b->n_cols;
    for (size_t i = 0; b->cells && i < n_cells; i++)
        free(b->cells[i]);
    free(b->cells);
    free(b->align);
    free(b->highlight);
    free(b->bar);
    for (size_t i = 0; i < b->n_tiles; i++) {
        free(b->tiles[i].uri);
        free(b->tiles[i].title);
        free(b->tiles[i].note);
    }
    free(b->tiles);
}

void eval_page_release(struct eval_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        block_release(&p->blocks[i]);
    free(p->blocks);
    free(p->title);
    free(p->subtitle);
    memset(p, 0, sizeof *p);
}

void eval_page_subtitle(struct eval_page *p, const char *text)
{
    free(p->subtitle);
    p->subtitle = dup_or_null(text);
}

/* ---- headings and text -------------------------------------------------------------------- */

static int id_taken(const struct eval_page *p, const char *id)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->blocks[i].id && strcmp(p->blocks[i].id, id) == 0)
            return 1;
    return 0;
}

/* A fragment id from text: lower-case ASCII letters and digits, other runs as one '-'. */
static char *slug(const char *text)
{
    struct hm_buf b = {0};
    int dash = 0;
    for (const unsigned char *q = (const unsigned char *)(text ? text : ""); *q; q++) {
        if (isalnum(*q) && *q < 0x80) {
            if (dash && b.len)
                hm_buf_puts(&b, "-");
            char c = (char)tolower(*q);
            hm_buf_append(&b, &c, 1);
            dash = 0;
        } else
            dash = 1;
    }
    if (!b.len)
        hm_buf_puts(&b, "section");
    return hm_buf_take(&b);
}

const char *eval_page_heading(struct eval_page *p, int level, const char *text, const char *anchor)
{
    char *base = slug(anchor && *anchor ? anchor : text);
    char *id = hm_xstrdup(base);
    for (int k = 2; id_taken(p, id); k++) {
        free(id);
        id = hm_xasprintf("%s-%d", base, k);
    }
    free(base);
    struct eval_block *b = add_block(p, PB_HEADING);
    b->level = level <= 2 ? 2 : 3;
    b->text = hm_xstrdup(text ? text : "");
    b->id = id;
    return id;
}

void eval_page_paragraph(struct eval_page *p, const char *text)
{
    add_block(p, PB_PARA)->text = hm_xstrdup(text ? text : "");
}

void eval_page_paragraphf(struct eval_page *p, const char *fmt, ...)
{
    struct hm_buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    hm_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    add_block(p, PB_PARA)->text = hm_buf_take(&b);
}

void eval_page_pre(struct eval_page *p, const char *text)
{
    add_block(p, PB_PRE)->text = hm_xstrdup(text ? text : "");
}

void eval_page_toc(struct eval_page *p)
{
    add_block(p, PB_TOC);
}

void eval_page_cards(struct eval_page *p, const struct eval_card *cards, size_t n)
{
    struct eval_block *b = add_block(p, PB_CARDS);
    b->n_rows = n;
    b->n_cols = 3;
    b->cells = hm_xcalloc(n * 3 + 1, sizeof *b->cells);
    for (size_t i = 0; i < n; i++) {
        b->cells[i * 3] = hm_xstrdup(cards[i].label ? cards[i].label : "");
        b->cells[i * 3 + 1] = hm_xstrdup(cards[i].value ? cards[i].value : "");
        b->cells[i * 3 + 2] = dup_or_null(cards[i].note);
    }
}

/* ---- tables -------------------------------------------------------------------------------- */

/* 1 when a cell reads as a number ("0.0234", "-5", "+12%", "1,234", "12.3 s"); 0 when it
 * does not; -1 when it says nothing either way (empty, "n/a", "-"). */
static int numeric_cell(const char *s)
{
    if (!s || !*s || strcmp(s, "n/a") == 0 || strcmp(s, "-") == 0 || strcmp(s, "\xE2\x80\x94") == 0)
        return -1;
    if (*s == '+' || *s == '-')
        s++;
    return isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]));
}

int eval_page_table(struct eval_page *p, const struct eval_table_spec *t)
{
    if (!t || !t->n_cols || !t->header)
        return hm_error(HM_EINVAL, "report table '%s': expected a header of at least one column",
                        t && t->caption ? t->caption : "");
    if (t->n_rows && !t->cells)
        return hm_error(HM_EINVAL, "report table '%s': %zu rows but no cells",
                        t->caption ? t->caption : "", t->n_rows);
    if (t->bar && t->bar_col >= t->n_cols)
        return hm_error(HM_EINVAL, "report table '%s': bar column %zu of %zu columns",
                        t->caption ? t->caption : "", t->bar_col, t->n_cols);
    for (size_t c = 0; t->align && c < t->n_cols; c++)
        if (t->align[c] != 'l' && t->align[c] != 'r')
            return hm_error(HM_EINVAL, "report table '%s': alignment of column %zu is '%c'; expected "
                            "'l' or 'r'", t->caption ? t->caption : "", c, t->align[c] ? t->align[c] : '0');
    struct eval_block *b = add_block(p, PB_TABLE);
    b->number = (int)++p->n_tables;
    b->id = hm_xasprintf("table-%d", b->number);
    b->text = dup_or_null(t->caption);
    b->n_rows = t->n_rows;
    b->n_cols = t->n_cols;
    b->cells = hm_xcalloc((t->n_rows + 1) * t->n_cols, sizeof *b->cells);
    for (size_t c = 0; c < t->n_cols; c++)
        b->cells[c] = hm_xstrdup(t->header[c] ? t->header[c] : "");
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        b->cells[t->n_cols + i] = hm_xstrdup(t->cells[i] ? t->cells[i] : "");
    b->align = hm_xmalloc(t->n_cols + 1);
    for (size_t c = 0; c < t->n_cols; c++) {
        if (t->align) {
            b->align[c] = t->align[c];
            continue;
        }
        int num = 0, text = 0;
        for (size_t r = 0; r < t->n_rows; r++) {
            int k = numeric_cell(t->cells[r * t->n_cols + c]);
            num += k == 1;
            text += k == 0;
        }
        b->align[c] = num && !text ? 'r' : 'l';
    }
    b->align[t->n_cols] = '\0';
    b->highlight = hm_xcalloc(t->n_rows + 1, 1);
    if (t->highlight)
        memcpy(b->highlight, t->highlight, t->n_rows);
    if (t->bar) {
        b->bar = hm_xmalloc_array(t->n_rows + 1, sizeof *b->bar);
        memcpy(b->bar, t->bar, t->n_rows * sizeof *b->bar);
        b->bar_col = t->bar_col;
    }
    return 0;
}

/* ---- figures and images ------------------------------------------------------------------ */

int eval_page_figure(struct eval_page *p, const char *svg, const char *caption)
{
    if (!svg || strncmp(svg, "<svg", 4) != 0 || !strstr(svg, "</svg>"))
        return hm_error(HM_EINVAL, "report figure '%s': expected an <svg> element, found \"%.20s\"",
                        caption ? caption : "", svg ? svg : "(null)");
    struct eval_block *b = add_block(p, PB_FIGURE);
    b->number = (int)++p->n_figures;
    b->id = hm_xasprintf("fig-%d", b->number);
    b->svg = hm_xstrdup(svg);
    b->text = dup_or_null(caption);
    return 0;
}

/* Reads a JPEG or PNG file into a data: URI. */
static int image_uri(const char *path, char **out)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return hm_error(HM_EIO, "image '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return hm_error(HM_EINVAL, "image '%s': not a regular file", path);
    if ((uint64_t)st.st_size > EVAL_IMAGE_MAX)
        return hm_error(HM_EINVAL, "image '%s': %llu bytes; an inline image may have at most %u "
                        "(pass a thumbnail)", path, (unsigned long long)st.st_size, EVAL_IMAGE_MAX);
    char *data;
    size_t len;
    int rc = hm_read_file(path, &data, &len);
    if (rc < 0)
        return rc;
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    const unsigned char *u = (const unsigned char *)data;
    const char *mime = NULL;
    if (len >= 8 && memcmp(u, png, 8) == 0)
        mime = "image/png";
    else if (len >= 3 && u[0] == 0xFF && u[1] == 0xD8 && u[2] == 0xFF)
        mime = "image/jpeg";
    if (!mime) {
        rc = hm_error(HM_EFORMAT, "image '%s': expected a JPEG or PNG file, found %s", path,
                      len ? "other content" : "an empty file");
        free(data);
        return rc;
    }
    struct hm_buf b = {0};
    hm_buf_printf(&b, "data:%s;base64,", mime);
    eval_base64(&b, data, len);
    free(data);
    *out = hm_buf_take(&b);
    return 0;
}

int eval_page_image(struct eval_page *p, const char *path, const char *alt, const char *caption)
{
    char *uri;
    int rc = image_uri(path, &uri);
    if (rc < 0)
        return rc;
    struct eval_block *b = add_block(p, PB_IMAGE);
    b->uri = uri;
    b->alt = hm_xstrdup(alt ? alt : "");
    b->text = dup_or_null(caption);
    return 0;
}

int eval_page_tiles(struct eval_page *p, const char *caption, const char *mark_label,
                    const struct eval_tile *tiles, size_t n)
{
    if (n && !tiles)
        return hm_error(HM_EINVAL, "report tiles '%s': %zu tiles but no array", caption ? caption : "", n);
    struct page_tile *t = hm_xcalloc(n + 1, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        if (tiles[i].image) {
            int rc = image_uri(tiles[i].image, &t[i].uri);
            if (rc < 0) {
                for (size_t k = 0; k < i; k++) {
                    free(t[k].uri);
                    free(t[k].title);
                    free(t[k].note);
                }
                free(t);
                return hm_error_wrap(rc, "report tiles '%s'", caption ? caption : "");
            }
        }
        t[i].title = hm_xstrdup(tiles[i].title ? tiles[i].title : "");
        t[i].note = dup_or_null(tiles[i].note);
        t[i].marked = tiles[i].marked;
    }
    struct eval_block *b = add_block(p, PB_TILES);
    b->text = dup_or_null(caption);
    b->alt = dup_or_null(mark_label);
    b->tiles = t;
    b->n_tiles = n;
    return 0;
}
