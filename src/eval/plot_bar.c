/* Bar charts: named bars (vertical or horizontal, highlighted bars, reference lines),
 * grouped and stacked bars over categories, and side-by-side panels with one axis each
 * (the drawing kit is in plot_kit.c). */
#include "eval/plot_impl.h"

#include <math.h>
#include <string.h>

#define BAR_PLOT_H 240.0   /* height of the plot area of vertical bars */
#define BAR_NAME_MAX 0.36  /* share of the width the names of horizontal bars may take */
#define BAR_ROT_MAX 140.0  /* longest rotated category label (user units) */

/* Every bar chart after normalisation: simple bars are one unnamed series. */
struct bars {
    const char *title, *category_label, *value_label;
    const char *const *names;
    size_t n;                        /* categories */
    const struct eval_series *series;
    size_t n_series;
    enum eval_bar_layout layout;
    enum eval_unit unit;
    const enum eval_unit *units;     /* panels */
    int horizontal, legend;
    const uint8_t *highlight;
    const struct eval_ref *refs;
    size_t n_refs;
};

/* ---- checks and helpers ------------------------------------------------------------------ */

static int bars_check(const struct bars *c, const char *what)
{
    const char *t = c->title ? c->title : "(untitled)";
    if (c->n && !c->names)
        return hm_error(HM_EINVAL, "%s '%s': %zu bars but no names", what, t, c->n);
    if (c->n_series && !c->series)
        return hm_error(HM_EINVAL, "%s '%s': %zu series but no series array", what, t, c->n_series);
    if (c->n_refs && !c->refs)
        return hm_error(HM_EINVAL, "%s '%s': %zu reference lines but no array", what, t, c->n_refs);
    for (size_t s = 0; s < c->n_series; s++) {
        if (c->n && !c->series[s].v)
            return hm_error(HM_EINVAL, "%s '%s': series %zu ('%s') has no values", what, t, s,
                            c->series[s].name ? c->series[s].name : "");
        for (size_t i = 0; c->layout == EVAL_BARS_STACKED && i < c->n; i++)
            if (c->series[s].v[i] < 0)
                return hm_error(HM_EINVAL, "%s '%s': stacked value %g of '%s' in '%s' is negative; "
                                "stacked bars need values >= 0", what, t, c->series[s].v[i],
                                c->series[s].name ? c->series[s].name : "", c->names[i] ? c->names[i] : "");
    }
    return 0;
}

static double val(const struct bars *c, size_t s, size_t i)
{
    return c->series[s].v[i];
}

/* The stacked total of category i (NaN when no part is finite). */
static double total(const struct bars *c, size_t i)
{
    double t = 0;
    int any = 0;
    for (size_t s = 0; s < c->n_series; s++)
        if (isfinite(val(c, s, i))) {
            t += val(c, s, i);
            any = 1;
        }
    return any ? t : NAN;
}

/* The value that carries a label in category i, series s: the bar's own value, or the
 * stack's total (s ignored). */
static double label_value(const struct bars *c, size_t s, size_t i)
{
    return c->layout == EVAL_BARS_STACKED ? total(c, i) : val(c, s, i);
}

static double widest_value(const struct bars *c, double fs)
{
    double w = 0;
    for (size_t s = 0; s < (c->layout == EVAL_BARS_STACKED ? 1 : c->n_series); s++)
        for (size_t i = 0; i < c->n; i++) {
            char t[48];
            eval_format(label_value(c, s, i), c->unit, t, sizeof t);
            w = fmax(w, plot_text_width(t, fs));
        }
    return w;
}

static double widest_name(const struct bars *c)
{
    double w = 0;
    for (size_t i = 0; i < c->n; i++) /* highlighted names are bold: about 10% wider */
        w = fmax(w, plot_text_width(c->names[i], PLOT_FONT) * (c->highlight && c->highlight[i] ? 1.1 : 1));
    return w;
}

static const char *bar_colour(const struct bars *c, size_t s, size_t i)
{
    if (c->n_series == 1 && !c->legend)
        return c->highlight && c->highlight[i] ? PLOT_ACCENT : PLOT_BAR;
    return plot_palette[s % PLOT_NCOLOURS].fill;
}

/* A rectangle between values v0 and v1 on the value axis, at [c0, c0 + cw) across it, with
 * a tooltip "name: value". */
static void bar_rect(struct hm_buf *b, const struct bars *c, const struct plot_axis *a, double p0,
                     double p1, double c0, double cw, double v0, double v1, const char *fill, size_t s,
                     size_t i, double shown)
{
    double a0 = plot_axis_pos(a, v0, p0, p1), a1 = plot_axis_pos(a, v1, p0, p1);
    double lo = fmin(a0, a1), len = fabs(a1 - a0);
    if (c->horizontal)
        hm_buf_printf(b, "<rect x=\"" PLOT_F "\" y=\"" PLOT_F "\" width=\"" PLOT_F "\" height=\"" PLOT_F "\" fill=\"%s\">",
                      lo, c0, len, cw, fill);
    else
        hm_buf_printf(b, "<rect x=\"" PLOT_F "\" y=\"" PLOT_F "\" width=\"" PLOT_F "\" height=\"" PLOT_F "\" fill=\"%s\">",
                      c0, lo, cw, len, fill);
    char t[48];
    eval_format(shown, c->unit, t, sizeof t);
    hm_buf_puts(b, "<title>");
    eval_escape(b, c->names[i]);
    if (c->n_series > 1 || c->legend) {
        hm_buf_puts(b, ", ");
        eval_escape(b, c->series[s].name);
    }
    hm_buf_puts(b, ": ");
    eval_escape(b, t);
    hm_buf_puts(b, "</title></rect>\n");
}

static void text_at(struct hm_buf *b, double x, double y, const char *anchor, double fs, const char *fill,
                    const char *s)
{
    hm_buf_printf(b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"%s\" font-size=\"%g\" fill=\"%s\">", x, y,
                  anchor, fs, fill);
    eval_escape(b, s);
    hm_buf_puts(b, "</text>\n");
}

static void legend_keys(const struct bars *c, struct plot_key *keys)
{
    for (size_t s = 0; s < c->n_series; s++)
        keys[s] = (struct plot_key){c->series[s].name, (int)(s % PLOT_NCOLOURS), -1, 0};
}

/* The value range: 0, every bar (or stack) and every reference line. */
static void value_range(const struct bars *c, double *lo, double *hi)
{
    *lo = 0;
    *hi = 0;
    for (size_t i = 0; i < c->n; i++)
        for (size_t s = 0; s < (c->layout == EVAL_BARS_STACKED ? 1 : c->n_series); s++) {
            double v = label_value(c, s, i);
            if (isfinite(v)) {
                *lo = fmin(*lo, v);
                *hi = fmax(*hi, v);
            }
        }
    for (size_t r = 0; r < c->n_refs; r++)
        if (isfinite(c->refs[r].value)) {
            *lo = fmin(*lo, c->refs[r].value);
            *hi = fmax(*hi, c->refs[r].value);
        }
}

/* ---- the bars of one category ------------------------------------------------------------- */

/* Draws category i's bars across [c0, c0 + band) with their value labels. Value positions run
 * from p0 (axis lo) to p1 (axis hi); fs_label is the value label size; rotate: vertical
 * charts whose labels do not fit across a bar write them upwards. */
static void draw_category(struct hm_buf *b, const struct bars *c, const struct plot_axis *a, double p0,
                          double p1, size_t i, double c0, double band, double fs_label, int rotate)
{
    int stacked = c->layout == EVAL_BARS_STACKED;
    size_t nb = stacked ? 1 : c->n_series;
    double inner = band * (c->horizontal ? (nb == 1 ? 0.7 : 0.84) : (nb == 1 ? 0.66 : 0.82));
    double bw = inner / (double)nb, start = c0 + (band - inner) / 2;
    double zero = plot_axis_pos(a, 0, p0, p1);
    for (size_t k = 0; k < nb; k++) {
        double cpos = start + (double)k * bw;
        double v = label_value(c, k, i);
        if (stacked) {
            double acc = 0;
            for (size_t s = 0; s < c->n_series; s++) {
                double x = val(c, s, i);
                if (!isfinite(x) || x == 0)
                    continue;
                bar_rect(b, c, a, p0, p1, cpos, bw, acc, acc + x, bar_colour(c, s, i), s, i, x);
                /* the part's value inside it when it fits */
                char t[48];
                eval_format(x, c->unit, t, sizeof t);
                double len = fabs(plot_axis_pos(a, acc + x, p0, p1) - plot_axis_pos(a, acc, p0, p1));
                double mid = plot_axis_pos(a, acc + x / 2, p0, p1);
                double tw = plot_text_width(t, fs_label);
                const char *ink = plot_palette[s % PLOT_NCOLOURS].ink;
                if (c->horizontal && len >= tw + 6 && bw >= fs_label + 2)
                    text_at(b, mid, cpos + bw / 2 + fs_label * 0.36, "middle", fs_label, ink, t);
                else if (!c->horizontal && len >= fs_label + 4 && bw >= tw + 4)
                    text_at(b, cpos + bw / 2, mid + fs_label * 0.36, "middle", fs_label, ink, t);
                acc += x;
            }
        } else if (isfinite(v)) {
            bar_rect(b, c, a, p0, p1, cpos, bw > 2 ? bw - (nb > 1) : bw, 0, v, bar_colour(c, k, i), k, i, v);
        }
        /* the value label beyond the end of the bar */
        char t[48];
        eval_format(v, c->unit, t, sizeof t);
        const char *ink = isfinite(v) ? "#222" : "#888";
        double end = isfinite(v) ? plot_axis_pos(a, v, p0, p1) : zero;
        int neg = isfinite(v) && v < 0;
        if (c->horizontal)
            text_at(b, end + (neg ? -5 : 5), cpos + bw / 2 + fs_label * 0.36, neg ? "end" : "start", fs_label, ink, t);
        else if (!rotate)
            text_at(b, cpos + bw / 2, neg ? end + fs_label + 3 : end - 4, "middle", fs_label, ink, t);
        else {
            hm_buf_printf(b, "<text transform=\"translate(" PLOT_F "," PLOT_F ") rotate(-90)\" text-anchor=\"%s\" "
                             "font-size=\"%g\" fill=\"%s\">",
                          cpos + bw / 2 + fs_label * 0.36, neg ? end + 4 : end - 4, neg ? "end" : "start", fs_label, ink);
            eval_escape(b, t);
            hm_buf_puts(b, "</text>\n");
        }
    }
}

/* ---- horizontal bars ------------------------------------------------------------------- */

static char *draw_horizontal(const struct bars *c)
{
    size_t nb = c->layout == EVAL_BARS_STACKED ? 1 : c->n_series;
    double band = nb == 1 ? 26 : (double)nb * 13 + 10;
    double fs_label = nb == 1 ? PLOT_FONT_SMALL : 10;
    struct plot_key *keys = hm_xcalloc(c->n_series ? c->n_series : 1, sizeof *keys);
    legend_keys(c, keys);
    double legend_h = c->legend ? plot_legend(NULL, keys, c->n_series, 16, PLOT_W - 16, 0, 0) : 0;

    double lo, hi;
    value_range(c, &lo, &hi);
    double name_w = fmin(widest_name(c), PLOT_W * BAR_NAME_MAX);
    double left0 = c->category_label && *c->category_label ? 30 : 12;
    double val_w = widest_value(c, fs_label) + 8;
    double left = left0 + name_w + 10 + (lo < 0 ? val_w : 0), right = PLOT_W - 16 - (hi > 0 ? val_w : 0);
    struct plot_axis a;
    plot_axis_fit(&a, lo, hi, 7, c->unit, right - left);
    int rows = plot_ref_rows(c->refs, c->n_refs, &a, left, right);
    double top = 34 + legend_h + 10 + rows * 14, bottom = top + band * (double)c->n;
    double h = bottom + (c->value_label && *c->value_label ? 50 : 30);

    struct hm_buf b = {0};
    plot_begin(&b, h, c->title);
    plot_title(&b, c->title);
    if (c->legend)
        plot_legend(&b, keys, c->n_series, 16, PLOT_W - 16, 38, 1);
    plot_axis_x(&b, &a, left, right, top, bottom, 1);
    for (size_t i = 0; i < c->n; i++) {
        double c0 = top + band * (double)i;
        hm_buf_printf(&b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"end\"%s>",
                      left - (lo < 0 ? val_w : 0) - 8, c0 + band / 2 + 4,
                      c->highlight && c->highlight[i] ? " font-weight=\"bold\"" : "");
        plot_fit_text(&b, c->names[i], c->highlight && c->highlight[i] ? name_w / 1.1 : name_w, PLOT_FONT);
        hm_buf_puts(&b, "</text>\n");
        draw_category(&b, c, &a, left, right, i, c0, band, fs_label, 0);
    }
    double x0 = plot_axis_pos(&a, 0, left, right);
    plot_line(&b, x0, top, x0, bottom, "#666");
    hm_buf_puts(&b, "\n");
    plot_refs_v(&b, c->refs, c->n_refs, &a, left, right, top, bottom);
    plot_x_title(&b, c->value_label, (left + right) / 2, bottom + 38, right - left);
    plot_y_title(&b, c->category_label, 16, (top + bottom) / 2, bottom - top);
    plot_end(&b);
    free(keys);
    return hm_buf_take(&b);
}

/* ---- vertical bars ------------------------------------------------------------------------ */

static char *draw_vertical(const struct bars *c)
{
    size_t nb = c->layout == EVAL_BARS_STACKED ? 1 : c->n_series;
    struct plot_key *keys = hm_xcalloc(c->n_series ? c->n_series : 1, sizeof *keys);
    legend_keys(c, keys);
    double legend_h = c->legend ? plot_legend(NULL, keys, c->n_series, 16, PLOT_W - 16, 0, 0) : 0;

    double lo, hi;
    value_range(c, &lo, &hi);
    struct plot_axis a;
    plot_axis_make(&a, lo, hi, 6, c->unit);
    double left = (c->value_label && *c->value_label ? 30 : 12) + plot_axis_label_width(&a) + 8;
    double right = PLOT_W - 16;
    /* category labels: across when they fit under their band, else rotated (then the
     * first one must not run off the left edge) */
    double name_w = widest_name(c), band = 0;
    int rot_names = 0;
    for (int pass = 0; pass < 2; pass++) {
        band = (right - left) / (double)(c->n ? c->n : 1);
        rot_names = name_w > band - 6;
        if (rot_names)
            left = fmax(left, fmin(name_w, BAR_ROT_MAX) * 0.77 + 6 - band / 2);
    }
    double name_h = rot_names ? fmin(name_w, BAR_ROT_MAX) * 0.64 + 10 : 6;
    /* value labels: across the bar when they fit, else upwards (needing headroom) */
    double fs_label = nb == 1 ? PLOT_FONT_SMALL : 10;
    double bw = band * (nb == 1 ? 0.66 : 0.82) / (double)nb, val_w = widest_value(c, fs_label);
    int rotate = val_w > fmax(bw, band * 0.9 / (double)nb);
    double headroom = rotate ? val_w + 8 : 16;
    double top = 34 + legend_h + headroom, bottom = top + BAR_PLOT_H;
    double h = bottom + name_h + 16 + (c->category_label && *c->category_label ? 24 : 0);

    struct hm_buf b = {0};
    plot_begin(&b, h, c->title);
    plot_title(&b, c->title);
    if (c->legend)
        plot_legend(&b, keys, c->n_series, 16, PLOT_W - 16, 38, 1);
    plot_axis_y(&b, &a, bottom, top, left, right, 1);
    for (size_t i = 0; i < c->n; i++) {
        double c0 = left + band * (double)i, cx = c0 + band / 2;
        const char *bold = c->highlight && c->highlight[i] ? " font-weight=\"bold\"" : "";
        if (rot_names)
            hm_buf_printf(&b, "<text transform=\"translate(" PLOT_F "," PLOT_F ") rotate(-40)\" text-anchor=\"end\"%s>",
                          cx + 4, bottom + 14, bold);
        else
            hm_buf_printf(&b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"middle\"%s>", cx, bottom + 16, bold);
        plot_fit_text(&b, c->names[i], (rot_names ? BAR_ROT_MAX : band - 6) / (*bold ? 1.1 : 1), PLOT_FONT);
        hm_buf_puts(&b, "</text>\n");
        draw_category(&b, c, &a, bottom, top, i, c0, band, fs_label, rotate);
    }
    double y0 = plot_axis_pos(&a, 0, bottom, top);
    plot_line(&b, left, y0, right, y0, "#666");
    hm_buf_puts(&b, "\n");
    plot_refs_h(&b, c->refs, c->n_refs, &a, left, right, bottom, top);
    plot_x_title(&b, c->category_label, (left + right) / 2, h - 12, right - left);
    plot_y_title(&b, c->value_label, 16, (top + bottom) / 2, bottom - top);
    plot_end(&b);
    free(keys);
    return hm_buf_take(&b);
}

/* ---- panels: one axis per series ----------------------------------------------------------- */

static char *draw_panels(const struct bars *c)
{
    size_t np = c->n_series ? c->n_series : 1;
    double band = 24, fs = PLOT_FONT_SMALL, gap = 26;
    double name_w = fmin(widest_name(c), PLOT_W * 0.3);
    double left0 = (c->category_label && *c->category_label ? 30 : 12) + name_w + 10;
    double pw = (PLOT_W - 16 - left0 - gap * (double)(np - 1)) / (double)np;
    double top = 34 + 26, bottom = top + band * (double)c->n, h = bottom + 30;

    struct hm_buf b = {0};
    plot_begin(&b, h, c->title);
    plot_title(&b, c->title);
    for (size_t i = 0; i < c->n; i++) {
        hm_buf_printf(&b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"end\">", left0 - 8,
                      top + band * (double)i + band / 2 + 4);
        plot_fit_text(&b, c->names[i], name_w, PLOT_FONT);
        hm_buf_puts(&b, "</text>\n");
    }
    for (size_t s = 0; s < c->n_series; s++) {
        /* this panel as a one-series horizontal chart in its own unit */
        struct bars p = *c;
        p.series = &c->series[s];
        p.n_series = 1;
        p.unit = c->units ? c->units[s] : c->unit;
        p.layout = EVAL_BARS_GROUPED;
        p.horizontal = 1;
        p.legend = 0;
        p.highlight = NULL;
        double x0 = left0 + (double)s * (pw + gap), x1 = x0 + pw - (widest_value(&p, fs) + 8);
        double lo, hi;
        p.n_refs = 0;
        value_range(&p, &lo, &hi);
        struct plot_axis a;
        plot_axis_fit(&a, lo, hi, 5, p.unit, x1 - x0);
        hm_buf_printf(&b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"middle\" font-weight=\"bold\">",
                      (x0 + x0 + pw) / 2, top - 10);
        plot_fit_text(&b, c->series[s].name, pw / 1.1, PLOT_FONT);
        hm_buf_puts(&b, "</text>\n");
        plot_axis_x(&b, &a, x0, x1, top, bottom, 1);
        for (size_t i = 0; i < c->n; i++) {
            double c0 = top + band * (double)i;
            double v = val(&p, 0, i);
            if (isfinite(v))
                bar_rect(&b, &p, &a, x0, x1, c0 + band * 0.15, band * 0.7, 0, v,
                         plot_palette[s % PLOT_NCOLOURS].fill, 0, i, v);
            char t[48];
            eval_format(v, p.unit, t, sizeof t);
            double end = isfinite(v) ? plot_axis_pos(&a, v, x0, x1) : plot_axis_pos(&a, 0, x0, x1);
            text_at(&b, end + (v < 0 ? -5 : 5), c0 + band / 2 + fs * 0.36, v < 0 ? "end" : "start", fs,
                    isfinite(v) ? "#222" : "#888", t);
        }
        double z = plot_axis_pos(&a, 0, x0, x1);
        plot_line(&b, z, top, z, bottom, "#666");
        hm_buf_puts(&b, "\n");
    }
    plot_y_title(&b, c->category_label, 16, (top + bottom) / 2, bottom - top);
    plot_end(&b);
    return hm_buf_take(&b);
}

/* ---- the public charts ---------------------------------------------------------------------- */

char *eval_plot_bars(const struct eval_bar_chart *c)
{
    if (!c) {
        hm_error(HM_EINVAL, "bar chart: no chart description");
        return NULL;
    }
    if (c->n && !c->values) {
        hm_error(HM_EINVAL, "bar chart '%s': %zu bars but no values", c->title ? c->title : "(untitled)", c->n);
        return NULL;
    }
    struct eval_series one = {NULL, c->values};
    struct bars b = {c->title, c->category_label, c->value_label, c->names, c->n, &one, 1,
                     EVAL_BARS_GROUPED, c->unit, NULL, c->horizontal, 0, c->highlight, c->refs, c->n_refs};
    if (bars_check(&b, "bar chart") < 0)
        return NULL;
    return c->horizontal ? draw_horizontal(&b) : draw_vertical(&b);
}

char *eval_plot_groups(const struct eval_group_chart *c)
{
    if (!c) {
        hm_error(HM_EINVAL, "bar chart: no chart description");
        return NULL;
    }
    struct bars b = {c->title, c->category_label, c->value_label, c->categories, c->n_categories,
                     c->series, c->n_series, c->layout, c->unit, c->units, c->horizontal, 1, NULL,
                     c->refs, c->n_refs};
    if (bars_check(&b, "bar chart") < 0)
        return NULL;
    if (c->layout == EVAL_BARS_PANELS)
        return draw_panels(&b);
    return c->horizontal ? draw_horizontal(&b) : draw_vertical(&b);
}
