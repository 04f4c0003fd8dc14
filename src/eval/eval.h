/* eval: ranking metrics as Kaggle's H&M competition defines them (docs/data.md), and the
 * building blocks of the report: SVG charts, the HTML page and its text twin (docs/report.md).
 *
 * Predictions are ranked lists of article indexes (best first); duplicates count once, at
 * their first position. Truth is the set of articles a customer bought in the target week
 * (duplicates in it are ignored). Customers with an empty truth are not scored: callers skip
 * them, and these functions return 0 for them. */
#ifndef EVAL_H
#define EVAL_H

#include <stddef.h>
#include <stdint.h>

/* AP@k = 1/min(|truth|, k) * sum_{i<=k} precision@i * rel(i). */
double eval_ap_at_k(const uint32_t *pred, size_t n_pred, const uint32_t *truth, size_t n_truth,
                       int k);

/* All metrics at one cutoff k for one customer. */
struct eval_one {
    double ap;        /* AP@k as above */
    double precision; /* hits in the first k distinct predictions / k */
    double recall;    /* hits / |truth| */
    double ndcg;      /* binary-gain NDCG@k with ideal = min(|truth|, k) hits on top */
};
void eval_at_k(const uint32_t *pred, size_t n_pred, const uint32_t *truth, size_t n_truth, int k,
                  struct eval_one *out);

/* ---- averages over customers ------------------------------------------------ */

#define EVAL_NK 5
extern const int eval_ks[EVAL_NK]; /* 1, 3, 5, 10, 12 */

/* Running sums of every metric at every cutoff over the scored customers. */
struct eval_sum {
    uint64_t users;                 /* customers with a non-empty truth */
    double ap[EVAL_NK], precision[EVAL_NK], recall[EVAL_NK], ndcg[EVAL_NK];
};
/* Adds one customer (ignored when truth is empty). */
void eval_sum_add(struct eval_sum *s, const uint32_t *pred, size_t n_pred,
                     const uint32_t *truth, size_t n_truth);
/* Adds b into a (combine per-thread sums in a fixed order for determinism). */
void eval_sum_merge(struct eval_sum *a, const struct eval_sum *b);
/* MAP@12 of the sums (0 when no customer was scored). */
double eval_map12(const struct eval_sum *s);

/* A named row of the metrics table. */
struct eval_row {
    const char *name;
    struct eval_sum sum;
};
/* Formats rows as an aligned text table: MAP@12 first, then MAP/P/R/NDCG at each k;
 * when ref_map12 > 0 a column gives each row's MAP@12 as a share of it (the oracle).
 * Returns a malloc'ed string. */
char *eval_table_format(const struct eval_row *rows, size_t n, double ref_map12);
/* The same with any number of reference columns: refs[k] > 0 adds a column "%<ref_names[k]>"
 * with each row's MAP@12 as a share of refs[k] (e.g. the oracle and the pool ceiling). */
char *eval_table_format_refs(const struct eval_row *rows, size_t n, const double *refs,
                             const char *const *ref_names, int n_refs);

/* Candidate recall: the share of (customer, article) purchase pairs of the target week
 * that the customer's candidate set contains. Accumulate with eval_recall_add. */
struct eval_recall {
    uint64_t hits, total;
};
void eval_recall_add(struct eval_recall *r, const uint32_t *cands, size_t n_cands,
                        const uint32_t *truth, size_t n_truth);

/* ---- report text: escaping, numbers, base64 (format.c) ------------------------------ */

struct hm_buf;

/* Appends s to b escaped for HTML and SVG text and attribute values: & < > " ' become
 * entities; control characters other than tab and newline become spaces and invalid UTF-8
 * becomes U+FFFD, so the result is always well-formed. NULL appends nothing. */
void eval_escape(struct hm_buf *b, const char *s);

/* How a number reads in a report. */
enum eval_unit {
    EVAL_NUMBER = 0, /* 3 significant digits: 0.0123, 12.3, 456; 12,345 from 1000 up */
    EVAL_SHARE,      /* a fraction as a percentage: 0.4231 -> 42.3%, 0.00512 -> 0.51% */
    EVAL_SECONDS,    /* 850 ms, 12.3 s, 4 min 05 s, 1 h 02 min */
    EVAL_BYTES,      /* 512 B, 3.4 KiB, 1.2 GiB (powers of 1024) */
    EVAL_COUNT,      /* a whole number with thousands separators: 1,371,980 */
};
/* Writes v as a reader expects it in unit (NaN: "n/a", infinities: "inf"/"-inf") into
 * buf, truncated to size bytes (32 always suffice); returns buf. Like every number hmrec
 * prints, in the "C" locale that the command layer sets. */
const char *eval_format(double v, enum eval_unit unit, char *buf, size_t size);

/* Appends the base64 encoding (RFC 4648, with padding, no line breaks) of data[0..n). */
void eval_base64(struct hm_buf *b, const void *data, size_t n);

/* ---- SVG charts (plot.c, plot_bar.c) ----------------------------------------------------
 *
 * Every chart is one self-contained `<svg class="hm-plot" ...>...</svg>` string (malloc'ed;
 * the caller frees it): 640 units wide with a fixed viewBox (it scales with the page), a
 * title (also as the SVG <title>), axis labels, tick labels at round numbers in the unit of
 * the axis, and a colour-blind-safe palette (Okabe-Ito; series also differ by marker). Names
 * may be any UTF-8 text: it is escaped, and names too long for their room are cut with an
 * ellipsis (the full name stays in a tooltip). Non-finite values are gaps ("n/a" on bars).
 * On bad arguments (NULL arrays where values are needed, a mark out of range, negative
 * values in a stacked bar) a chart function returns NULL with the message in
 * hm_last_error(). */

/* A named series: one value per x value (line charts) or per category (bar charts). */
struct eval_series {
    const char *name;
    const double *v;   /* (n) NaN: no value */
};

/* A reference value drawn across the plot as a dashed line labelled with its name and
 * value, e.g. {"pool ceiling", 0.142} or {"oracle", 0.061}. */
struct eval_ref {
    const char *name;
    double value;
};

/* Lines over shared x values: learning curves, recall against pool size. */
struct eval_line_chart {
    const char *title;
    const char *x_label, *y_label;   /* axis titles */
    const double *x;                 /* (n) ascending x values; NULL: 1, 2, ..., n */
    size_t n;
    const struct eval_series *series;
    size_t n_series;
    enum eval_unit x_unit, y_unit;   /* how the tick labels read */
    int y_zero;                      /* 1: the y axis starts at 0 (or includes it) */
    const struct eval_ref *refs;     /* (n_refs) horizontal reference lines, may be NULL */
    size_t n_refs;
    const char *mark_label;          /* a marked point ("best round"), NULL: none */
    size_t mark_series, mark_index;  /* which value the mark points at (finite) */
};
char *eval_plot_line(const struct eval_line_chart *c);

/* Named bars, one value each: MAP@12 per model, recall per strategy. */
struct eval_bar_chart {
    const char *title;
    const char *category_label;      /* the axis of the names (may be NULL) */
    const char *value_label;         /* the axis of the values */
    const char *const *names;        /* (n) */
    const double *values;            /* (n) NaN: "n/a" */
    size_t n;
    enum eval_unit unit;
    int horizontal;                  /* 1: bars grow to the right, names on the left */
    const uint8_t *highlight;        /* (n) 1: drawn in the accent colour; may be NULL */
    const struct eval_ref *refs;     /* (n_refs) reference lines, may be NULL */
    size_t n_refs;
};
char *eval_plot_bars(const struct eval_bar_chart *c);

enum eval_bar_layout {
    EVAL_BARS_GROUPED = 0, /* one bar per series side by side in each category */
    EVAL_BARS_STACKED,     /* one bar per category, series stacked (values >= 0), total labelled */
    EVAL_BARS_PANELS,      /* one panel per series side by side, each with its own axis and
                            * unit (time and peak memory per stage); always horizontal */
};

/* Several series over named categories: e.g. recall per strategy at several pool sizes
 * (grouped), time per stage and step (stacked), time and memory per stage (panels). */
struct eval_group_chart {
    const char *title;
    const char *category_label;      /* may be NULL */
    const char *value_label;         /* GROUPED/STACKED: the value axis */
    const char *const *categories;   /* (n_categories) */
    size_t n_categories;
    const struct eval_series *series; /* (n_series), each (n_categories) values */
    size_t n_series;
    enum eval_bar_layout layout;
    enum eval_unit unit;             /* GROUPED/STACKED: the unit of every value */
    const enum eval_unit *units;     /* PANELS: (n_series) one unit per panel; NULL: unit */
    int horizontal;                  /* GROUPED/STACKED: 1 for bars growing to the right */
    const struct eval_ref *refs;     /* GROUPED/STACKED: reference lines, may be NULL */
    size_t n_refs;
};
char *eval_plot_groups(const struct eval_group_chart *c);

/* ---- the report page (html.c: HTML, page_text.c: the same content as text) -------------
 *
 * A page is a list of blocks added in reading order: headings (with anchors for the table
 * of contents), paragraphs, key-figure cards, tables, SVG figures, images and tiles (small
 * cards with a thumbnail, e.g. articles bought and recommended). eval_page_finish renders a
 * self-contained HTML document (inline CSS, no script, images as data: URIs, readable on a
 * phone and printable); eval_page_text renders the same content for a terminal. All text
 * given to the page is plain text (escaped when rendered); only SVG figures are markup.
 * The page copies what it is given. */

struct eval_block; /* one block of content (html.c) */

struct eval_page {
    char *title, *subtitle;
    struct eval_block *blocks;  /* (n) in reading order */
    size_t n, cap;
    size_t n_figures, n_tables; /* numbering of captions */
};

void eval_page_init(struct eval_page *p, const char *title);
void eval_page_release(struct eval_page *p);
/* A line under the title (data set, date, configuration). */
void eval_page_subtitle(struct eval_page *p, const char *text);
/* A section heading of level 2 (a section) or 3 (a subsection); anchor: the fragment id
 * (NULL: made from the text); ids are made unique. Returns the id used (owned by p). */
const char *eval_page_heading(struct eval_page *p, int level, const char *text, const char *anchor);
void eval_page_paragraph(struct eval_page *p, const char *text);
void eval_page_paragraphf(struct eval_page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Preformatted text (settings of a run, a log excerpt), shown as is. */
void eval_page_pre(struct eval_page *p, const char *text);
/* Where the table of contents goes: every level 2 and 3 heading of the page, linked. */
void eval_page_toc(struct eval_page *p);

/* A key figure: "best MAP@12" / "0.0312" / "xgb-rank, +18% over the best baseline". */
struct eval_card {
    const char *label, *value, *note;   /* note may be NULL */
};
void eval_page_cards(struct eval_page *p, const struct eval_card *cards, size_t n);

/* A table of text cells (format numbers with eval_format or printf). */
struct eval_table_spec {
    const char *caption;          /* may be NULL */
    const char *const *header;    /* (n_cols) */
    size_t n_cols;
    const char *const *cells;     /* (n_rows, n_cols) row-major; NULL cells are empty */
    size_t n_rows;
    const char *align;            /* (n_cols) 'l' or 'r' each; NULL: numeric-looking columns right */
    const uint8_t *highlight;     /* (n_rows) 1: a highlighted row (the best model); may be NULL */
    const double *bar;            /* (n_rows) a share 0..1 drawn as a bar behind the cell of
                                   * column bar_col ("% of oracle"); NaN: none; may be NULL */
    size_t bar_col;
};
int eval_page_table(struct eval_page *p, const struct eval_table_spec *t);

/* An SVG chart (eval_plot_*) with a caption, numbered "Figure N". */
int eval_page_figure(struct eval_page *p, const char *svg, const char *caption);

/* A JPEG or PNG file embedded as a data: URI (at most EVAL_IMAGE_MAX bytes: pass thumbnails). */
#define EVAL_IMAGE_MAX (4u << 20)
int eval_page_image(struct eval_page *p, const char *path, const char *alt, const char *caption);

/* A row of tiles: an article with its thumbnail (image: a JPEG/PNG path or NULL), name,
 * a note (id, product type) and a mark (e.g. bought in the validation week). */
struct eval_tile {
    const char *image;
    const char *title;
    const char *note;     /* may be NULL */
    int marked;
};
/* caption: what the row is ("last purchases", "recommended"); mark_label: what a mark
 * means ("bought"). */
int eval_page_tiles(struct eval_page *p, const char *caption, const char *mark_label,
                    const struct eval_tile *tiles, size_t n);

/* The whole HTML document (malloc'ed); the page is unchanged and can be rendered again. */
char *eval_page_finish(const struct eval_page *p);
/* The same content as plain text: tables aligned, figures as their captions (malloc'ed). */
char *eval_page_text(const struct eval_page *p);
/* Writes eval_page_finish's document to path atomically. */
int eval_page_write(const struct eval_page *p, const char *path);

#endif
