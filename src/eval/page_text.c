/* The report page as plain text for a terminal: headings underlined, paragraphs wrapped,
 * tables aligned (numeric columns to the right, highlighted rows marked '>', share bars
 * drawn with '#'), figures and images as their captions, tiles as numbered lists. */
#include "eval/page_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_WIDTH 78
#define TEXT_BAR 10 /* characters of a share bar */

static void pad(struct hm_buf *b, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        hm_buf_append(b, &c, 1);
}

/* Removes spaces before the end of the last line. */
static void trim_line(struct hm_buf *b)
{
    while (b->len && b->s[b->len - 1] == ' ')
        b->s[--b->len] = '\0';
}

static void underline(struct hm_buf *b, const char *text, char c)
{
    hm_buf_printf(b, "%s\n", text);
    pad(b, page_text_len(text), c);
    hm_buf_puts(b, "\n");
}

/* Appends text wrapped at TEXT_WIDTH with each line indented; newlines in text break. */
static void wrap(struct hm_buf *b, const char *text, size_t indent)
{
    size_t col = 0;
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            hm_buf_puts(b, "\n");
            col = 0;
            p++;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t n = strcspn(p, " \n"), w = 0;
        for (size_t i = 0; i < n; i++)
            w += ((unsigned char)p[i] & 0xC0) != 0x80;
        if (col && col + 1 + w > TEXT_WIDTH) {
            hm_buf_puts(b, "\n");
            col = 0;
        }
        if (col == 0) {
            pad(b, indent, ' ');
            col = indent;
        } else {
            hm_buf_puts(b, " ");
            col++;
        }
        hm_buf_append(b, p, n);
        col += w;
        p += n;
    }
    hm_buf_puts(b, "\n");
}

/* ---- blocks ------------------------------------------------------------------------------------- */

static void text_toc(struct hm_buf *b, const struct eval_page *p)
{
    hm_buf_puts(b, "Contents\n");
    int sec = 0, sub = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct eval_block *k = &p->blocks[i];
        if (k->kind != PB_HEADING)
            continue;
        if (k->level == 2) {
            sec++;
            sub = 0;
            hm_buf_printf(b, "  %d. %s\n", sec, k->text);
        } else
            hm_buf_printf(b, "     %d.%d %s\n", sec, ++sub, k->text);
    }
}

static void text_cards(struct hm_buf *b, const struct eval_block *k)
{
    size_t wl = 0, wv = 0;
    for (size_t i = 0; i < k->n_rows; i++) {
        wl = page_text_len(k->cells[i * 3]) > wl ? page_text_len(k->cells[i * 3]) : wl;
        wv = page_text_len(k->cells[i * 3 + 1]) > wv ? page_text_len(k->cells[i * 3 + 1]) : wv;
    }
    for (size_t i = 0; i < k->n_rows; i++) {
        hm_buf_printf(b, "  %s", k->cells[i * 3]);
        pad(b, wl - page_text_len(k->cells[i * 3]) + 2, ' ');
        hm_buf_puts(b, k->cells[i * 3 + 1]);
        if (k->cells[i * 3 + 2]) {
            pad(b, wv - page_text_len(k->cells[i * 3 + 1]) + 2, ' ');
            hm_buf_puts(b, k->cells[i * 3 + 2]);
        }
        trim_line(b);
        hm_buf_puts(b, "\n");
    }
}

/* A cell as text: the bar column gets its share bar after the text, which is right-aligned
 * in text_w columns so that the bars line up. */
static void cell_text(struct hm_buf *out, const struct eval_block *k, size_t r, size_t c, size_t text_w)
{
    const char *cell = k->cells[(r + 1) * k->n_cols + c];
    if (k->bar && c == k->bar_col)
        pad(out, text_w - page_text_len(cell), ' ');
    hm_buf_puts(out, cell);
    if (k->bar && c == k->bar_col) {
        double s = k->bar[r];
        size_t fill = isfinite(s) ? (size_t)lround(fmin(fmax(s, 0), 1) * TEXT_BAR) : 0;
        hm_buf_puts(out, " ");
        if (isfinite(s)) {
            pad(out, fill, '#');
            pad(out, TEXT_BAR - fill, '.');
        } else
            pad(out, TEXT_BAR, ' ');
    }
}

static void text_table(struct hm_buf *b, const struct eval_block *k)
{
    if (k->text)
        hm_buf_printf(b, "Table %d. %s\n", k->number, k->text);
    size_t nc = k->n_cols, nr = k->n_rows;
    char **cell = hm_xcalloc((nr + 1) * nc, sizeof *cell);
    size_t *w = hm_xcalloc(nc, sizeof *w);
    int any_hl = 0;
    size_t bar_w = 0; /* the widest text of the bar column */
    for (size_t r = 0; k->bar && r < nr; r++) {
        size_t len = page_text_len(k->cells[(r + 1) * nc + k->bar_col]);
        bar_w = len > bar_w ? len : bar_w;
    }
    for (size_t r = 0; r <= nr; r++)
        for (size_t c = 0; c < nc; c++) {
            struct hm_buf t = {0};
            if (r == 0)
                hm_buf_puts(&t, k->cells[c]);
            else
                cell_text(&t, k, r - 1, c, bar_w);
            cell[r * nc + c] = hm_buf_take(&t);
            size_t len = page_text_len(cell[r * nc + c]);
            w[c] = len > w[c] ? len : w[c];
        }
    for (size_t r = 0; r < nr; r++)
        any_hl |= k->highlight[r];
    for (size_t r = 0; r <= nr; r++) {
        if (any_hl)
            hm_buf_puts(b, r > 0 && k->highlight[r - 1] ? "> " : "  ");
        for (size_t c = 0; c < nc; c++) {
            const char *s = cell[r * nc + c];
            size_t gap = w[c] - page_text_len(s);
            if (c)
                hm_buf_puts(b, "  ");
            if (k->align[c] == 'r')
                pad(b, gap, ' ');
            hm_buf_puts(b, s);
            if (k->align[c] != 'r')
                pad(b, gap, ' ');
        }
        trim_line(b);
        hm_buf_puts(b, "\n");
        if (r == 0) {
            if (any_hl)
                hm_buf_puts(b, "  ");
            for (size_t c = 0; c < nc; c++) {
                if (c)
                    hm_buf_puts(b, "  ");
                pad(b, w[c], '-');
            }
            hm_buf_puts(b, "\n");
        }
    }
    for (size_t i = 0; i < (nr + 1) * nc; i++)
        free(cell[i]);
    free(cell);
    free(w);
}

static void text_tiles(struct hm_buf *b, const struct eval_block *k)
{
    if (k->text)
        hm_buf_printf(b, "%s:\n", k->text);
    for (size_t i = 0; i < k->n_tiles; i++) {
        const struct page_tile *t = &k->tiles[i];
        hm_buf_printf(b, "  %2zu. %s", i + 1, t->title);
        if (t->note)
            hm_buf_printf(b, " (%s)", t->note);
        if (t->marked)
            hm_buf_printf(b, "  [%s]", k->alt ? k->alt : "*");
        hm_buf_puts(b, "\n");
    }
}

/* ---- the page ------------------------------------------------------------------------------------ */

char *eval_page_text(const struct eval_page *p)
{
    struct hm_buf b = {0};
    underline(&b, p->title, '=');
    if (p->subtitle)
        wrap(&b, p->subtitle, 0);
    for (size_t i = 0; i < p->n; i++) {
        const struct eval_block *k = &p->blocks[i];
        hm_buf_puts(&b, "\n");
        switch (k->kind) {
        case PB_HEADING:
            if (k->level == 2)
                hm_buf_puts(&b, "\n");
            underline(&b, k->text, k->level == 2 ? '-' : '~');
            break;
        case PB_PARA: wrap(&b, k->text, 0); break;
        case PB_PRE: {
            /* indented by four, as is */
            const char *q = k->text;
            while (*q) {
                size_t n = strcspn(q, "\n");
                hm_buf_puts(&b, "    ");
                hm_buf_append(&b, q, n);
                hm_buf_puts(&b, "\n");
                q += n + (q[n] == '\n');
            }
            break;
        }
        case PB_TOC: text_toc(&b, p); break;
        case PB_CARDS: text_cards(&b, k); break;
        case PB_TABLE: text_table(&b, k); break;
        case PB_FIGURE: {
            char *t = hm_xasprintf("[Figure %d, in the HTML report%s%s]", k->number, k->text ? ": " : "",
                                   k->text ? k->text : "");
            wrap(&b, t, 0);
            free(t);
            break;
        }
        case PB_IMAGE: {
            char *t = hm_xasprintf("[Image: %s%s%s]", k->alt, k->text ? ". " : "", k->text ? k->text : "");
            wrap(&b, t, 0);
            free(t);
            break;
        }
        case PB_TILES: text_tiles(&b, k); break;
        }
    }
    return hm_buf_take(&b);
}
