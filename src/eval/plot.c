/* The line chart: named series over shared x values, gaps at NaN, round ticks, a legend,
 * reference lines and an optional marked point (the drawing kit is in plot_kit.c). */
#include "eval/plot_impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define LINE_PLOT_H 240.0 /* height of the plot area */
#define LINE_MARKERS_MAX 40 /* series with at most this many points get a marker at each */

static double x_at(const struct eval_line_chart *c, size_t i)
{
    return c->x ? c->x[i] : (double)(i + 1);
}

/* Checks what the caller passed; 0 or HM_EINVAL with the reason. */
static int line_check(const struct eval_line_chart *c)
{
    if (!c)
        return hm_error(HM_EINVAL, "line chart: no chart description");
    const char *t = c->title ? c->title : "(untitled)";
    if (c->n_series && !c->series)
        return hm_error(HM_EINVAL, "line chart '%s': %zu series but no series array", t, c->n_series);
    if (c->n_refs && !c->refs)
        return hm_error(HM_EINVAL, "line chart '%s': %zu reference lines but no array", t, c->n_refs);
    for (size_t s = 0; s < c->n_series; s++)
        if (c->n && !c->series[s].v)
            return hm_error(HM_EINVAL, "line chart '%s': series %zu ('%s') has no values", t, s,
                            c->series[s].name ? c->series[s].name : "");
    for (size_t i = 0; c->x && i < c->n; i++)
        if (!isfinite(c->x[i]) || (i && c->x[i] < c->x[i - 1]))
            return hm_error(HM_EINVAL, "line chart '%s': x value %zu is %g; expected finite values in "
                            "ascending order", t, i, c->x[i]);
    if (c->mark_label) {
        if (c->mark_series >= c->n_series || c->mark_index >= c->n)
            return hm_error(HM_EINVAL, "line chart '%s': the mark '%s' points at series %zu, value %zu; "
                            "the chart has %zu series of %zu values", t, c->mark_label, c->mark_series,
                            c->mark_index, c->n_series, c->n);
        if (!isfinite(c->series[c->mark_series].v[c->mark_index]))
            return hm_error(HM_EINVAL, "line chart '%s': the mark '%s' points at a missing value", t,
                            c->mark_label);
    }
    return 0;
}

/* One series: the line through its finite values (broken at gaps), markers. */
static void draw_series(struct hm_buf *b, const struct eval_line_chart *c, size_t s,
                        const struct plot_axis *ax, const struct plot_axis *ay, double left,
                        double right, double top, double bottom)
{
    const double *v = c->series[s].v;
    const char *col = plot_palette[s % PLOT_NCOLOURS].fill;
    int dashed = s >= PLOT_NCOLOURS, marker = (int)(s % 4);
    hm_buf_printf(b, "<g><title>");
    eval_escape(b, c->series[s].name);
    hm_buf_printf(b, "</title><path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"%s d=\"",
                  col, dashed ? " stroke-dasharray=\"6 3\"" : "");
    int in_run = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!isfinite(v[i])) {
            in_run = 0;
            continue;
        }
        hm_buf_printf(b, "%s" PLOT_F "," PLOT_F, in_run ? "L" : "M", plot_axis_pos(ax, x_at(c, i), left, right),
                      plot_axis_pos(ay, v[i], bottom, top));
        in_run = 1;
    }
    hm_buf_puts(b, "\"/>\n");
    for (size_t i = 0; i < c->n; i++) {
        if (!isfinite(v[i]))
            continue;
        int alone = (i == 0 || !isfinite(v[i - 1])) && (i + 1 == c->n || !isfinite(v[i + 1]));
        if (c->n <= LINE_MARKERS_MAX || alone)
            plot_marker(b, marker, col, plot_axis_pos(ax, x_at(c, i), left, right),
                        plot_axis_pos(ay, v[i], bottom, top), 3.2);
    }
    hm_buf_puts(b, "</g>\n");
}

/* The marked point: a ring, a dotted guide down to the x axis and "label: y at x". */
static void draw_mark(struct hm_buf *b, const struct eval_line_chart *c, const struct plot_axis *ax,
                      const struct plot_axis *ay, double left, double right, double top, double bottom)
{
    double xv = x_at(c, c->mark_index), yv = c->series[c->mark_series].v[c->mark_index];
    double px = plot_axis_pos(ax, xv, left, right), py = plot_axis_pos(ay, yv, bottom, top);
    hm_buf_printf(b, "<line x1=\"" PLOT_F "\" y1=\"" PLOT_F "\" x2=\"" PLOT_F "\" y2=\"" PLOT_F
                     "\" stroke=\"#111\" stroke-dasharray=\"1 3\"/>",
                  px, py + 7, px, bottom);
    hm_buf_printf(b, "<circle cx=\"" PLOT_F "\" cy=\"" PLOT_F "\" r=\"7\" fill=\"none\" stroke=\"#111\" stroke-width=\"1.5\"/>",
                  px, py);
    char xs[48], ys[48], t[400];
    eval_format(xv, c->x_unit, xs, sizeof xs);
    eval_format(yv, c->y_unit, ys, sizeof ys);
    snprintf(t, sizeof t, "%s: %s at %s", c->mark_label, ys, xs);
    /* the label where it covers the fewest data points: above, below, left or right of the
     * point (boxes inside the plot only) */
    double w = fmin(plot_text_width(t, PLOT_FONT) * 1.1, right - left), fh = PLOT_FONT;
    static const double place[6][2] = {{0, -14}, {0, 24}, {-1, -14}, {1, -14}, {-1, 24}, {1, 24}};
    double lx = px, ly = py - 14;
    size_t best = SIZE_MAX;
    for (int k = 0; k < 6; k++) {
        double cx = px + place[k][0] * (w / 2 + 10), by = py + place[k][1];
        cx = fmin(fmax(cx, left + w / 2), right - w / 2);
        if (by - fh < top || by + 4 > bottom)
            continue;
        size_t covered = 0;
        for (size_t s = 0; s < c->n_series; s++)
            for (size_t i = 0; i < c->n; i++) {
                double v = c->series[s].v[i];
                if (!isfinite(v))
                    continue;
                double qx = plot_axis_pos(ax, x_at(c, i), left, right), qy = plot_axis_pos(ay, v, bottom, top);
                covered += fabs(qx - cx) <= w / 2 + 4 && qy >= by - fh - 4 && qy <= by + 6;
            }
        if (covered < best) {
            best = covered;
            lx = cx;
            ly = by;
        }
    }
    hm_buf_printf(b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"middle\" font-weight=\"bold\" fill=\"#111\" "
                     "stroke=\"#fff\" stroke-width=\"4\" paint-order=\"stroke\">",
                  lx, ly);
    plot_fit_text(b, t, (right - left) / 1.1, PLOT_FONT);
    hm_buf_puts(b, "</text>\n");
}

char *eval_plot_line(const struct eval_line_chart *c)
{
    if (line_check(c) < 0)
        return NULL;
    /* the ranges of the data */
    double xlo = NAN, xhi = NAN, ylo = NAN, yhi = NAN;
    size_t n_finite = 0;
    for (size_t s = 0; s < c->n_series; s++)
        for (size_t i = 0; i < c->n; i++) {
            double v = c->series[s].v[i];
            if (!isfinite(v))
                continue;
            n_finite++;
            ylo = isnan(ylo) ? v : fmin(ylo, v);
            yhi = isnan(yhi) ? v : fmax(yhi, v);
        }
    for (size_t i = 0; i < c->n; i++) {
        xlo = isnan(xlo) ? x_at(c, i) : fmin(xlo, x_at(c, i));
        xhi = isnan(xhi) ? x_at(c, i) : fmax(xhi, x_at(c, i));
    }
    for (size_t r = 0; r < c->n_refs; r++)
        if (isfinite(c->refs[r].value)) {
            ylo = isnan(ylo) ? c->refs[r].value : fmin(ylo, c->refs[r].value);
            yhi = isnan(yhi) ? c->refs[r].value : fmax(yhi, c->refs[r].value);
        }
    if (c->y_zero) {
        ylo = isnan(ylo) ? 0 : fmin(ylo, 0);
        yhi = isnan(yhi) ? 0 : fmax(yhi, 0);
    }

    /* legend and vertical layout */
    struct plot_key *keys = hm_xcalloc(c->n_series ? c->n_series : 1, sizeof *keys);
    for (size_t s = 0; s < c->n_series; s++)
        keys[s] = (struct plot_key){c->series[s].name, (int)(s % PLOT_NCOLOURS), (int)(s % 4),
                                    s >= PLOT_NCOLOURS};
    double legend_h = plot_legend(NULL, keys, c->n_series, 16, PLOT_W - 16, 0, 0);
    double top = 34 + legend_h + 12, bottom = top + LINE_PLOT_H, h = bottom + 50;

    struct plot_axis ay, ax;
    plot_axis_make(&ay, ylo, yhi, 6, c->y_unit);
    if (c->mark_label) /* room for the mark's label above its point */
        for (int k = 0; k < 4; k++) {
            double my = c->series[c->mark_series].v[c->mark_index];
            if (plot_axis_pos(&ay, my, LINE_PLOT_H, 0) >= 32)
                break;
            yhi = ay.hi + (ay.hi - ay.lo) * 0.08;
            plot_axis_make(&ay, ylo, yhi, 6, c->y_unit);
        }
    double left = (c->y_label && *c->y_label ? 30 : 12) + plot_axis_label_width(&ay) + 8;
    /* x ticks: fewer when their labels would crowd */
    plot_axis_make(&ax, xlo, xhi, 8, c->x_unit);
    double right = PLOT_W - fmax(20, plot_axis_label_width(&ax) / 2 + 6);
    plot_axis_fit(&ax, xlo, xhi, 8, c->x_unit, right - left);

    struct hm_buf b = {0};
    plot_begin(&b, h, c->title);
    plot_title(&b, c->title);
    plot_legend(&b, keys, c->n_series, 16, PLOT_W - 16, 38, 1);
    plot_axis_y(&b, &ay, bottom, top, left, right, 1);
    plot_axis_x(&b, &ax, left, right, top, bottom, 1);
    if (ay.lo < 0 && ay.hi > 0) {
        double y0 = plot_axis_pos(&ay, 0, bottom, top);
        plot_line(&b, left, y0, right, y0, "#888");
        hm_buf_puts(&b, "\n");
    }
    if (n_finite == 0)
        hm_buf_printf(&b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"middle\" fill=\"#666\">no data</text>\n",
                      (left + right) / 2, (top + bottom) / 2);
    for (size_t s = 0; s < c->n_series; s++)
        draw_series(&b, c, s, &ax, &ay, left, right, top, bottom);
    plot_refs_h(&b, c->refs, c->n_refs, &ay, left, right, bottom, top);
    if (c->mark_label)
        draw_mark(&b, c, &ax, &ay, left, right, top, bottom);
    plot_x_title(&b, c->x_label, (left + right) / 2, bottom + 38, right - left);
    plot_y_title(&b, c->y_label, 16, (top + bottom) / 2, bottom - top);
    plot_end(&b);
    free(keys);
    return hm_buf_take(&b);
}
