/* The drawing kit shared by the SVG charts (plot.c, plot_bar.c): geometry constants, the
 * palette, text measurement, axes with round ticks, the frame, legend and reference lines.
 * Internal to the eval module. */
#ifndef EVAL_PLOT_IMPL_H
#define EVAL_PLOT_IMPL_H

#include "core/core.h"
#include "eval/eval.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define PLOT_W 640.0          /* viewBox width of every chart */
#define PLOT_FONT 12.0        /* labels */
#define PLOT_FONT_SMALL 11.0  /* ticks, value labels */
#define PLOT_FONT_TITLE 15.0
#define PLOT_MAX_TICKS 12

/* One colour of the palette with the text colour that reads on it. */
struct plot_colour {
    const char *fill, *ink;
};
#define PLOT_NCOLOURS 8
extern const struct plot_colour plot_palette[PLOT_NCOLOURS];
#define PLOT_ACCENT "#D55E00" /* highlighted bars */
#define PLOT_BAR "#0072B2"    /* ordinary single-series bars */

/* The width of s in user units at font size fs, estimated from DejaVu Sans / Verdana
 * advance widths (wide fonts, so the estimate is on the safe side for narrower ones). */
double plot_text_width(const char *s, double fs);
/* Appends s escaped, cut with an ellipsis when wider than max_w at size fs; returns 1
 * when it was cut. */
int plot_fit_text(struct hm_buf *b, const char *s, double max_w, double fs);

/* A value axis with round ticks. Tick labels are in a display scale chosen from the
 * range (seconds may read as min or h, bytes as MiB or GiB, counts as k or M). */
struct plot_axis {
    double lo, hi;                 /* the axis range, in data units */
    double ticks[PLOT_MAX_TICKS];  /* data units, ascending */
    int n_ticks;
    double scale;                  /* data units per display unit */
    const char *suffix;            /* appended to tick labels ("", "%", " min", " GiB", "k") */
    int decimals;                  /* of the tick labels in display units; -1: %.3g */
    enum eval_unit unit;
};
/* Chooses the range and about `target` ticks covering [lo, hi] (either may be NaN when
 * there is no data; then a 0..1 axis). */
void plot_axis_make(struct plot_axis *a, double lo, double hi, int target, enum eval_unit unit);
/* Like plot_axis_make for a horizontal axis `length` units long: at most `target` ticks,
 * fewer when their labels would not leave a gap between them. */
void plot_axis_fit(struct plot_axis *a, double lo, double hi, int target, enum eval_unit unit,
                   double length);
/* The tick label of value v on axis a. */
void plot_axis_label(const struct plot_axis *a, double v, char *buf, size_t size);
/* The widest tick label (user units at PLOT_FONT_SMALL). */
double plot_axis_label_width(const struct plot_axis *a);
/* Maps v to [p0, p1] (p0 is lo). */
static inline double plot_axis_pos(const struct plot_axis *a, double v, double p0, double p1)
{
    /* halves first, so that ranges near the largest doubles do not overflow */
    return p0 + (v / 2 - a->lo / 2) / (a->hi / 2 - a->lo / 2) * (p1 - p0);
}

/* Opens the <svg> element with its viewBox, <title> and background; closes it. */
void plot_begin(struct hm_buf *b, double h, const char *title);
void plot_end(struct hm_buf *b);
/* Draws the title centred at the top; returns the y below it. */
double plot_title(struct hm_buf *b, const char *title);

/* A legend entry: swatch colour, marker (-1: a filled box), name. */
struct plot_key {
    const char *name;
    int colour;   /* palette index */
    int marker;   /* -1 box, 0.. a line with that marker */
    int dashed;
};
/* Lays the entries out in rows between x0 and x1 from y; draws them when draw is set;
 * returns the height used (0 when no entry has a name). */
double plot_legend(struct hm_buf *b, const struct plot_key *keys, size_t n, double x0, double x1,
                   double y, int draw);
/* Draws marker m (0 circle, 1 square, 2 diamond, 3 triangle) of colour c at (x, y). */
void plot_marker(struct hm_buf *b, int m, const char *colour, double x, double y, double r);

/* Ticks, grid lines and tick labels of a value axis. Horizontal (vertical = 0): ticks along
 * x between x0 and x1 under the plot at y_base, grid from y_top to y_base. Vertical: ticks
 * along y between y0 (lo) and y1 (hi) left of x_base, grid from x_base to x_right. */
/* A line from (x1, y1) to (x2, y2) in one stroke colour. */
void plot_line(struct hm_buf *b, double x1, double y1, double x2, double y2, const char *stroke);
void plot_axis_x(struct hm_buf *b, const struct plot_axis *a, double x0, double x1, double y_top,
                 double y_base, int grid);
void plot_axis_y(struct hm_buf *b, const struct plot_axis *a, double y0, double y1, double x_base,
                 double x_right, int grid);
/* Axis titles: centred under the plot / rotated left of it. */
void plot_x_title(struct hm_buf *b, const char *s, double cx, double y, double max_w);
void plot_y_title(struct hm_buf *b, const char *s, double x, double cy, double max_w);

/* Reference lines across a plot. Horizontal lines (values on a vertical axis) are labelled
 * at the right end, vertical ones (values on a horizontal axis) above the plot in rows;
 * plot_ref_rows says how many label rows the vertical ones need. */
void plot_refs_h(struct hm_buf *b, const struct eval_ref *refs, size_t n, const struct plot_axis *a,
                 double x0, double x1, double y0, double y1);
int plot_ref_rows(const struct eval_ref *refs, size_t n, const struct plot_axis *a, double x0,
                  double x1);
void plot_refs_v(struct hm_buf *b, const struct eval_ref *refs, size_t n, const struct plot_axis *a,
                 double x0, double x1, double y_top, double y_base);
/* "name value" of a reference line, in the axis unit. */
void plot_ref_text(const struct eval_ref *r, enum eval_unit unit, char *buf, size_t size);

/* Appends " fill=..." style numbers: every coordinate is written with one decimal. */
#define PLOT_F "%.1f"

#endif
