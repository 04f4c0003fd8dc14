/* The drawing kit of the SVG charts: palette, text measurement, axes with round ticks,
 * frame, legend, markers and reference lines (see plot_impl.h). */
#include "eval/plot_impl.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Okabe & Ito's colour-blind-safe palette, in the order the series use it; the ink is
 * the text colour with enough contrast on the fill. */
const struct plot_colour plot_palette[PLOT_NCOLOURS] = {
    {"#0072B2", "#fff"}, {"#E69F00", "#000"}, {"#009E73", "#fff"}, {"#CC79A7", "#000"},
    {"#56B4E9", "#000"}, {"#D55E00", "#fff"}, {"#F0E442", "#000"}, {"#000000", "#fff"},
};

/* ---- text measurement ------------------------------------------------------------------ */

/* DejaVu Sans advance widths of ASCII 32..126 in thousandths of an em. */
static const unsigned short ascii_width[95] = {
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, /* ' '../ */
    636, 636, 636, 636, 636, 636, 636, 636, 636, 636,                               /* 0..9 */
    337, 337, 838, 838, 838, 531, 1000,                                             /* :..@ */
    684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695,
    635, 611, 732, 684, 989, 685, 611, 685,                                         /* A..Z */
    390, 337, 390, 838, 500, 500,                                                   /* [..` */
    613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411,
    521, 392, 634, 592, 818, 592, 592, 525,                                         /* a..z */
    636, 337, 636, 838,                                                             /* {..~ */
};

/* Decodes one UTF-8 code point at *p (advancing it); invalid bytes count as one U+FFFD. */
static unsigned next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    unsigned cp = n == 1 ? c : c & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p = s + 1;
            return 0xFFFD;
        }
        cp = cp << 6 | (s[i] & 0x3F);
    }
    *p = s + n;
    return n == 1 && c >= 0x80 ? 0xFFFD : cp;
}

static double cp_width(unsigned cp)
{
    if (cp >= 32 && cp < 127)
        return ascii_width[cp - 32] / 1000.0;
    if (cp == 0x2026 || cp >= 0x2E80)
        return 1.0; /* ellipsis, CJK */
    return 0.7;
}

double plot_text_width(const char *s, double fs)
{
    double w = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p)
        w += cp_width(next_cp(&p));
    return w * fs;
}

int plot_fit_text(struct hm_buf *b, const char *s, double max_w, double fs)
{
    if (!s)
        s = "";
    if (plot_text_width(s, fs) <= max_w) {
        eval_escape(b, s);
        return 0;
    }
    /* keep the longest prefix (whole code points) that fits with the ellipsis */
    double room = max_w - fs * 1.0, w = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p;
    while (*p) {
        const unsigned char *q = p;
        double cw = cp_width(next_cp(&q)) * fs;
        if (w + cw > room)
            break;
        w += cw;
        p = q;
        end = p;
    }
    char *cut = hm_xmalloc((size_t)(end - (const unsigned char *)s) + 1);
    memcpy(cut, s, (size_t)(end - (const unsigned char *)s));
    cut[end - (const unsigned char *)s] = '\0';
    /* no trailing space before the ellipsis */
    size_t len = strlen(cut);
    while (len && cut[len - 1] == ' ')
        cut[--len] = '\0';
    eval_escape(b, cut);
    hm_buf_puts(b, "\xE2\x80\xA6");
    free(cut);
    return 1;
}

/* ---- axes -------------------------------------------------------------------------------- */

/* The round number (1, 2 or 5 times a power of ten) nearest x > 0. */
static double nice_num(double x)
{
    double e = floor(log10(x)), f = x / pow(10, e);
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * pow(10, e);
}

static void choose_scale(struct plot_axis *a, double m)
{
    a->scale = 1;
    a->suffix = "";
    switch (a->unit) {
    case EVAL_SHARE:
        a->scale = 0.01;
        a->suffix = "%";
        break;
    case EVAL_SECONDS:
        if (m >= 2 * 3600) { a->scale = 3600; a->suffix = " h"; }
        else if (m >= 120) { a->scale = 60; a->suffix = " min"; }
        else if (m >= 1) { a->scale = 1; a->suffix = " s"; }
        else if (m >= 1e-3) { a->scale = 1e-3; a->suffix = " ms"; }
        else { a->scale = 1e-6; a->suffix = " \xC2\xB5s"; }
        break;
    case EVAL_BYTES: {
        static const char *const sfx[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB"};
        int k = 0;
        while (k < 5 && m / a->scale >= 1024) {
            a->scale *= 1024;
            k++;
        }
        a->suffix = sfx[k];
        break;
    }
    case EVAL_NUMBER:
    case EVAL_COUNT:
        if (m >= 1e6) { a->scale = 1e6; a->suffix = "M"; }
        else if (m >= 1e4) { a->scale = 1e3; a->suffix = "k"; }
        break;
    }
}

/* An axis of two ticks at lo and hi, labelled in %g: for ranges too wide for doubles or
 * too narrow for their precision. */
static void axis_ends(struct plot_axis *a, double lo, double hi)
{
    if (!(hi / 2 - lo / 2 >= DBL_MIN)) { /* too narrow even for that: from or to zero */
        lo = fmin(lo, 0);
        hi = fmax(hi, 0);
        if (!(hi / 2 - lo / 2 >= DBL_MIN))
            hi = lo + 1;
    }
    a->n_ticks = 2;
    a->ticks[0] = a->lo = lo;
    a->ticks[1] = a->hi = hi;
    a->scale = 1;
    a->suffix = "";
    a->decimals = -1;
}

void plot_axis_make(struct plot_axis *a, double lo, double hi, int target, enum eval_unit unit)
{
    memset(a, 0, sizeof *a);
    a->unit = unit;
    if (!isfinite(lo) && !isfinite(hi)) {
        lo = 0;
        hi = 1;
    } else if (!isfinite(lo))
        lo = hi;
    else if (!isfinite(hi))
        hi = lo;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (lo == hi) {
        double d = lo == 0 ? 1 : fabs(lo) * 0.1;
        if (isfinite(hi + d))
            hi += d;
        if (lo != 0 && isfinite(lo - d))
            lo -= d;
    }
    choose_scale(a, fmax(fabs(lo), fabs(hi)));
    if (target < 2)
        target = 2;
    double slo = lo / a->scale, shi = hi / a->scale;
    if (!isfinite(shi - slo) || shi - slo < fmax(fabs(slo), fabs(shi)) * 1e-12 || shi - slo < 1e-290) {
        axis_ends(a, lo, hi);
        return;
    }
    double step = nice_num((shi - slo) / (target - 1));
    int integral = (unit == EVAL_COUNT || unit == EVAL_BYTES) && a->scale == 1;
    if (integral && step < 1)
        step = 1;
    double g0 = floor(slo / step + 1e-9) * step, g1 = ceil(shi / step - 1e-9) * step;
    while ((g1 - g0) / step + 1.5 > PLOT_MAX_TICKS) {
        step *= 2;
        g0 = floor(slo / step + 1e-9) * step;
        g1 = ceil(shi / step - 1e-9) * step;
    }
    if (!isfinite(g0 * a->scale) || !isfinite(g1 * a->scale) || /* round ends beyond doubles */
        !(g1 * a->scale / 2 - g0 * a->scale / 2 >= DBL_MIN)) {
        axis_ends(a, lo, hi);
        return;
    }
    a->n_ticks = (int)floor((g1 - g0) / step + 1.5);
    for (int i = 0; i < a->n_ticks; i++) {
        double t = g0 + i * step;
        if (fabs(t) < step * 1e-9)
            t = 0;
        a->ticks[i] = t * a->scale;
    }
    a->lo = g0 * a->scale;
    a->hi = g1 * a->scale;
    a->decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
}

void plot_axis_fit(struct plot_axis *a, double lo, double hi, int target, enum eval_unit unit,
                   double length)
{
    for (; target >= 2; target--) {
        plot_axis_make(a, lo, hi, target, unit);
        if (a->n_ticks < 2 || length / (a->n_ticks - 1) >= plot_axis_label_width(a) + 10)
            return;
    }
}

void plot_axis_label(const struct plot_axis *a, double v, char *buf, size_t size)
{
    double x = v / a->scale;
    if (fabs(x) < 1e-12)
        x = 0;
    if (x == 0) {
        snprintf(buf, size, "0");
        return;
    }
    char num[48];
    if (a->decimals < 0)
        snprintf(num, sizeof num, "%.3g", x);
    else if (a->decimals == 0 && fabs(x) >= 999.5)
        eval_format(x, EVAL_COUNT, num, sizeof num);
    else
        snprintf(num, sizeof num, "%.*f", a->decimals, x);
    snprintf(buf, size, "%s%s", num, a->suffix);
}

double plot_axis_label_width(const struct plot_axis *a)
{
    double w = 0;
    for (int i = 0; i < a->n_ticks; i++) {
        char t[64];
        plot_axis_label(a, a->ticks[i], t, sizeof t);
        w = fmax(w, plot_text_width(t, PLOT_FONT_SMALL));
    }
    return w;
}

void plot_line(struct hm_buf *b, double x1, double y1, double x2, double y2, const char *stroke)
{
    hm_buf_printf(b, "<line x1=\"" PLOT_F "\" y1=\"" PLOT_F "\" x2=\"" PLOT_F "\" y2=\"" PLOT_F "\" stroke=\"%s\"/>",
                  x1, y1, x2, y2, stroke);
}

void plot_axis_x(struct hm_buf *b, const struct plot_axis *a, double x0, double x1, double y_top,
                 double y_base, int grid)
{
    for (int i = 0; i < a->n_ticks; i++) {
        double x = plot_axis_pos(a, a->ticks[i], x0, x1);
        char t[64];
        plot_axis_label(a, a->ticks[i], t, sizeof t);
        if (grid)
            plot_line(b, x, y_top, x, y_base, "#e4e4e4");
        plot_line(b, x, y_base, x, y_base + 4, "#888");
        hm_buf_printf(b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"middle\" font-size=\"%g\" fill=\"#444\">",
                      x, y_base + 16, PLOT_FONT_SMALL);
        eval_escape(b, t);
        hm_buf_puts(b, "</text>\n");
    }
    plot_line(b, x0, y_base, x1, y_base, "#888");
    hm_buf_puts(b, "\n");
}

void plot_axis_y(struct hm_buf *b, const struct plot_axis *a, double y0, double y1, double x_base,
                 double x_right, int grid)
{
    for (int i = 0; i < a->n_ticks; i++) {
        double y = plot_axis_pos(a, a->ticks[i], y0, y1);
        char t[64];
        plot_axis_label(a, a->ticks[i], t, sizeof t);
        if (grid)
            plot_line(b, x_base, y, x_right, y, "#e4e4e4");
        plot_line(b, x_base - 4, y, x_base, y, "#888");
        hm_buf_printf(b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"end\" font-size=\"%g\" fill=\"#444\">",
                      x_base - 7, y + 4, PLOT_FONT_SMALL);
        eval_escape(b, t);
        hm_buf_puts(b, "</text>\n");
    }
    plot_line(b, x_base, y0, x_base, y1, "#888");
    hm_buf_puts(b, "\n");
}

void plot_x_title(struct hm_buf *b, const char *s, double cx, double y, double max_w)
{
    if (!s || !*s)
        return;
    hm_buf_printf(b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"middle\" fill=\"#222\">", cx, y);
    plot_fit_text(b, s, max_w, PLOT_FONT);
    hm_buf_puts(b, "</text>\n");
}

void plot_y_title(struct hm_buf *b, const char *s, double x, double cy, double max_w)
{
    if (!s || !*s)
        return;
    hm_buf_printf(b, "<text transform=\"translate(" PLOT_F "," PLOT_F ") rotate(-90)\" text-anchor=\"middle\" fill=\"#222\">",
                  x, cy);
    plot_fit_text(b, s, max_w, PLOT_FONT);
    hm_buf_puts(b, "</text>\n");
}

/* ---- frame, title, legend, markers -------------------------------------------------------- */

void plot_begin(struct hm_buf *b, double h, const char *title)
{
    int ih = (int)ceil(h);
    hm_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"hm-plot\" viewBox=\"0 0 %d %d\" "
                     "width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
                  (int)PLOT_W, ih, (int)PLOT_W, ih);
    eval_escape(b, title);
    hm_buf_printf(b, "\" font-family=\"'DejaVu Sans', Verdana, Geneva, sans-serif\" font-size=\"%g\">\n<title>",
                  PLOT_FONT);
    eval_escape(b, title);
    hm_buf_printf(b, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", (int)PLOT_W, ih);
}

void plot_end(struct hm_buf *b)
{
    hm_buf_puts(b, "</svg>\n");
}

double plot_title(struct hm_buf *b, const char *title)
{
    hm_buf_printf(b, "<text x=\"%g\" y=\"24\" text-anchor=\"middle\" font-size=\"%g\" font-weight=\"bold\" fill=\"#111\">",
                  PLOT_W / 2, PLOT_FONT_TITLE);
    /* bold is about 10% wider than the regular widths plot_fit_text assumes */
    plot_fit_text(b, title, (PLOT_W - 24) / 1.1, PLOT_FONT_TITLE);
    hm_buf_puts(b, "</text>\n");
    return 34;
}

void plot_marker(struct hm_buf *b, int m, const char *colour, double x, double y, double r)
{
    switch (m % 4) {
    case 0:
        hm_buf_printf(b, "<circle cx=\"" PLOT_F "\" cy=\"" PLOT_F "\" r=\"%.1f\" fill=\"%s\"/>", x, y, r, colour);
        break;
    case 1:
        hm_buf_printf(b, "<rect x=\"" PLOT_F "\" y=\"" PLOT_F "\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                      x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8, colour);
        break;
    case 2:
        hm_buf_printf(b, "<path d=\"M" PLOT_F "," PLOT_F "L" PLOT_F "," PLOT_F "L" PLOT_F "," PLOT_F "L" PLOT_F
                         "," PLOT_F "Z\" fill=\"%s\"/>",
                      x, y - r * 1.25, x + r * 1.25, y, x, y + r * 1.25, x - r * 1.25, y, colour);
        break;
    default:
        hm_buf_printf(b, "<path d=\"M" PLOT_F "," PLOT_F "L" PLOT_F "," PLOT_F "L" PLOT_F "," PLOT_F "Z\" fill=\"%s\"/>",
                      x, y - r * 1.3, x + r * 1.2, y + r * 0.85, x - r * 1.2, y + r * 0.85, colour);
        break;
    }
}

#define KEY_SWATCH_LINE 24.0
#define KEY_SWATCH_BOX 12.0
#define KEY_ROW 17.0

static double key_width(const struct plot_key *k)
{
    return (k->marker < 0 ? KEY_SWATCH_BOX : KEY_SWATCH_LINE) + 5 +
           fmin(plot_text_width(k->name, PLOT_FONT), 220);
}

double plot_legend(struct hm_buf *b, const struct plot_key *keys, size_t n, double x0, double x1,
                   double y, int draw)
{
    const double gap = 18;
    size_t i = 0;
    int rows = 0;
    while (i < n) {
        /* one row: as many entries as fit */
        size_t j = i;
        double w = 0;
        while (j < n) {
            if (!keys[j].name || !*keys[j].name) {
                j++;
                continue;
            }
            double kw = key_width(&keys[j]);
            if (w > 0 && w + gap + kw > x1 - x0)
                break;
            w += (w > 0 ? gap : 0) + kw;
            j++;
        }
        if (w == 0)
            break; /* only unnamed entries were left */
        if (draw) {
            double x = (x0 + x1) / 2 - w / 2, cy = y + rows * KEY_ROW + 8;
            for (size_t k = i; k < j; k++) {
                const struct plot_key *e = &keys[k];
                if (!e->name || !*e->name)
                    continue;
                const char *col = plot_palette[e->colour % PLOT_NCOLOURS].fill;
                double sw = e->marker < 0 ? KEY_SWATCH_BOX : KEY_SWATCH_LINE;
                if (e->marker < 0)
                    hm_buf_printf(b, "<rect x=\"" PLOT_F "\" y=\"" PLOT_F "\" width=\"12\" height=\"12\" fill=\"%s\"/>",
                                  x, cy - 6, col);
                else {
                    hm_buf_printf(b, "<line x1=\"" PLOT_F "\" y1=\"" PLOT_F "\" x2=\"" PLOT_F "\" y2=\"" PLOT_F
                                     "\" stroke=\"%s\" stroke-width=\"2\"%s/>",
                                  x, cy, x + sw, cy, col, e->dashed ? " stroke-dasharray=\"5 3\"" : "");
                    plot_marker(b, e->marker, col, x + sw / 2, cy, 3.2);
                }
                hm_buf_printf(b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\">", x + sw + 5, cy + 4);
                plot_fit_text(b, e->name, 220, PLOT_FONT);
                hm_buf_puts(b, "</text>\n");
                x += key_width(e) + gap;
            }
        }
        rows++;
        i = j;
    }
    return rows ? rows * KEY_ROW + 4 : 0;
}

/* ---- reference lines ------------------------------------------------------------------- */

static const char *const ref_dash[3] = {"6 4", "2 3", "10 3 2 3"};

void plot_ref_text(const struct eval_ref *r, enum eval_unit unit, char *buf, size_t size)
{
    char v[48];
    eval_format(r->value, unit, v, sizeof v);
    snprintf(buf, size, "%s %s", r->name ? r->name : "", v);
}

/* Order of refs by value (small n: insertion sort into idx). */
static void ref_order(const struct eval_ref *refs, size_t n, size_t *idx)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && refs[idx[j - 1]].value > refs[i].value) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
}

void plot_refs_h(struct hm_buf *b, const struct eval_ref *refs, size_t n, const struct plot_axis *a,
                 double x0, double x1, double y0, double y1)
{
    size_t *idx = hm_xmalloc_array(n ? n : 1, sizeof *idx);
    ref_order(refs, n, idx);
    double last_label = INFINITY; /* y of the previous label (larger y = lower value) */
    for (size_t k = 0; k < n; k++) {
        const struct eval_ref *r = &refs[idx[k]];
        if (!isfinite(r->value))
            continue;
        double y = plot_axis_pos(a, r->value, y0, y1);
        hm_buf_printf(b, "<line x1=\"" PLOT_F "\" y1=\"" PLOT_F "\" x2=\"" PLOT_F "\" y2=\"" PLOT_F
                         "\" stroke=\"#333\" stroke-width=\"1.3\" stroke-dasharray=\"%s\"/>",
                      x0, y, x1, y, ref_dash[idx[k] % 3]);
        /* the label above its line, or below when the previous label is in the way */
        double ly = y - 5;
        if (last_label - ly < 13)
            ly = last_label - 13;
        char t[160];
        plot_ref_text(r, a->unit, t, sizeof t);
        hm_buf_printf(b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"end\" font-size=\"%g\" fill=\"#222\" "
                         "stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">",
                      x1 - 4, ly, PLOT_FONT_SMALL);
        plot_fit_text(b, t, (x1 - x0) * 0.6, PLOT_FONT_SMALL);
        hm_buf_puts(b, "</text>\n");
        last_label = ly;
    }
    free(idx);
}

/* The label rows of vertical reference lines: the row of each (by value order) and the
 * label's centre x; returns the number of rows. */
static int ref_layout(const struct eval_ref *refs, size_t n, const struct plot_axis *a, double x0,
                      double x1, size_t *idx, int *row, double *cx)
{
    double right[8];
    int rows = 0;
    ref_order(refs, n, idx);
    for (size_t k = 0; k < n; k++) {
        const struct eval_ref *r = &refs[idx[k]];
        row[k] = -1;
        if (!isfinite(r->value))
            continue;
        char t[160];
        plot_ref_text(r, a->unit, t, sizeof t);
        double w = fmin(plot_text_width(t, PLOT_FONT_SMALL), PLOT_W * 0.45);
        double x = plot_axis_pos(a, r->value, x0, x1);
        x = fmax(x, w / 2 + 4);
        x = fmin(x, PLOT_W - w / 2 - 4);
        cx[k] = x;
        int rw = 0;
        while (rw < rows && right[rw] + 10 > x - w / 2)
            rw++;
        if (rw == rows && rows < 8)
            rows++;
        if (rw >= 8)
            rw = 7;
        right[rw] = x + w / 2;
        row[k] = rw;
    }
    return rows;
}

int plot_ref_rows(const struct eval_ref *refs, size_t n, const struct plot_axis *a, double x0,
                  double x1)
{
    if (!n)
        return 0;
    size_t *idx = hm_xmalloc_array(n, sizeof *idx);
    int *row = hm_xmalloc_array(n, sizeof *row);
    double *cx = hm_xmalloc_array(n, sizeof *cx);
    int rows = ref_layout(refs, n, a, x0, x1, idx, row, cx);
    free(idx);
    free(row);
    free(cx);
    return rows;
}

void plot_refs_v(struct hm_buf *b, const struct eval_ref *refs, size_t n, const struct plot_axis *a,
                 double x0, double x1, double y_top, double y_base)
{
    if (!n)
        return;
    size_t *idx = hm_xmalloc_array(n, sizeof *idx);
    int *row = hm_xmalloc_array(n, sizeof *row);
    double *cx = hm_xmalloc_array(n, sizeof *cx);
    int rows = ref_layout(refs, n, a, x0, x1, idx, row, cx);
    for (size_t k = 0; k < n; k++) {
        if (row[k] < 0)
            continue;
        const struct eval_ref *r = &refs[idx[k]];
        double x = plot_axis_pos(a, r->value, x0, x1);
        double ly = y_top - 6 - (rows - 1 - row[k]) * 14;
        hm_buf_printf(b, "<line x1=\"" PLOT_F "\" y1=\"" PLOT_F "\" x2=\"" PLOT_F "\" y2=\"" PLOT_F
                         "\" stroke=\"#333\" stroke-width=\"1.3\" stroke-dasharray=\"%s\"/>",
                      x, y_top - 2, x, y_base, ref_dash[idx[k] % 3]);
        char t[160];
        plot_ref_text(r, a->unit, t, sizeof t);
        hm_buf_printf(b, "<text x=\"" PLOT_F "\" y=\"" PLOT_F "\" text-anchor=\"middle\" font-size=\"%g\" fill=\"#222\">",
                      cx[k], ly, PLOT_FONT_SMALL);
        plot_fit_text(b, t, PLOT_W * 0.45, PLOT_FONT_SMALL);
        hm_buf_puts(b, "</text>\n");
    }
    free(idx);
    free(row);
    free(cx);
}
