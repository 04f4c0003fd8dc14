/* The blocks of a report page, shared by the builder (page.c) and the two renderers
 * (html.c, page_text.c). Internal to the eval module. */
#ifndef EVAL_PAGE_IMPL_H
#define EVAL_PAGE_IMPL_H

#include "core/core.h"
#include "eval/eval.h"

enum page_kind {
    PB_HEADING,
    PB_PARA,
    PB_PRE,
    PB_TOC,
    PB_CARDS,
    PB_TABLE,
    PB_FIGURE,
    PB_IMAGE,
    PB_TILES,
};

struct page_tile {
    char *uri;     /* data: URI of the thumbnail, NULL when none */
    char *title, *note;
    int marked;
};

struct eval_block {
    enum page_kind kind;
    int level;            /* PB_HEADING: 2 or 3 */
    int number;           /* PB_TABLE, PB_FIGURE: the caption's number */
    char *text;           /* heading, paragraph or preformatted text; a caption (may be NULL) */
    char *id;             /* PB_HEADING: the anchor; PB_FIGURE: "fig-N"; PB_TABLE: "table-N" */
    char *svg;            /* PB_FIGURE */
    char *uri;            /* PB_IMAGE: data: URI */
    char *alt;            /* PB_IMAGE: alternative text; PB_TILES: what a mark means */
    char **cells;         /* PB_TABLE: (1 + n_rows, n_cols), the header first;
                           * PB_CARDS: (n_rows, 3) label, value, note */
    size_t n_rows, n_cols;
    char *align;          /* PB_TABLE: (n_cols) 'l' or 'r' */
    uint8_t *highlight;   /* PB_TABLE: (n_rows) */
    double *bar;          /* PB_TABLE: (n_rows) share or NaN; NULL: no bars */
    size_t bar_col;
    struct page_tile *tiles; /* PB_TILES: (n_tiles) */
    size_t n_tiles;
};

/* The number of code points of s (the width of text in a terminal, near enough). */
size_t page_text_len(const char *s);

#endif
