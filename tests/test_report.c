/* Tests for the report's building blocks (src/eval: format.c, plot*.c, page.c, html.c,
 * page_text.c): escaping, numbers, base64, axis ticks, every chart's content and
 * structure, the page in HTML and text, and a full sample page.
 *
 * `test_report --sample-page DIR` writes the sample page to DIR/report.html and
 * DIR/report.txt and prints the number of figures (for tests/cli/report_render.sh). */
#include "core/core.h"
#include "eval/eval.h"
#include "eval/plot_impl.h"
#include "test.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <unistd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a small XML checker ----------------------------------------------------------------------
 * Enough of XML to prove the documents are well-formed: tags balanced and nested, attribute
 * values quoted, no raw '<' or '&' in text or attributes, only the entities we write. */

struct xml_stats {
    int elements;          /* start tags */
    int svg;               /* <svg> elements */
    int max_depth;
};

static const char *xml_entity(const char *p)
{
    /* p at '&': returns the byte after ';' or NULL */
    static const char *const ok[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    for (size_t i = 0; i < N(ok); i++)
        if (strncmp(p, ok[i], strlen(ok[i])) == 0)
            return p + strlen(ok[i]);
    return NULL;
}

/* Returns NULL when doc is well-formed, else a message (static). */
static const char *xml_check(const char *doc, struct xml_stats *st)
{
    static char msg[256];
    char stack[64][32];
    int depth = 0;
    memset(st, 0, sizeof *st);
    const char *p = doc;
    while (*p) {
        if (*p == '&') {
            const char *q = xml_entity(p);
            if (!q) {
                snprintf(msg, sizeof msg, "bad entity at offset %td: %.12s", p - doc, p);
                return msg;
            }
            p = q;
            continue;
        }
        if (*p != '<') {
            if (*p == '>' && depth == 0 && p != doc) {
                snprintf(msg, sizeof msg, "stray '>' at offset %td", p - doc);
                return msg;
            }
            p++;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0) {
            const char *q = strstr(p, "-->");
            if (!q)
                return "unterminated comment";
            p = q + 3;
            continue;
        }
        if (strncmp(p, "<!DOCTYPE", 9) == 0) {
            if (depth)
                return "DOCTYPE inside an element";
            p = strchr(p, '>');
            if (!p)
                return "unterminated DOCTYPE";
            p++;
            continue;
        }
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t nl = 0;
        while (isalnum((unsigned char)name[nl]) || name[nl] == '-' || name[nl] == ':')
            nl++;
        if (!nl || nl >= 32) {
            snprintf(msg, sizeof msg, "bad tag name at offset %td: %.12s", p - doc, p);
            return msg;
        }
        const char *q = name + nl;
        if (closing) {
            if (*q != '>')
                return "junk in an end tag";
            if (!depth || strlen(stack[depth - 1]) != nl || strncmp(stack[depth - 1], name, nl) != 0) {
                snprintf(msg, sizeof msg, "end tag </%.*s> at offset %td closes <%s>", (int)nl, name,
                         p - doc, depth ? stack[depth - 1] : "(nothing)");
                return msg;
            }
            depth--;
            p = q + 1;
            continue;
        }
        /* attributes: name="value" */
        for (;;) {
            while (*q == ' ' || *q == '\n' || *q == '\t')
                q++;
            if (*q == '>' || (q[0] == '/' && q[1] == '>'))
                break;
            size_t an = 0;
            while (isalnum((unsigned char)q[an]) || q[an] == '-' || q[an] == ':' || q[an] == '_')
                an++;
            if (!an || q[an] != '=' || q[an + 1] != '"') {
                snprintf(msg, sizeof msg, "bad attribute at offset %td: %.20s", q - doc, q);
                return msg;
            }
            q += an + 2;
            while (*q && *q != '"') {
                if (*q == '<')
                    return "'<' in an attribute value";
                if (*q == '&') {
                    const char *e = xml_entity(q);
                    if (!e)
                        return "bad entity in an attribute value";
                    q = e;
                    continue;
                }
                q++;
            }
            if (!*q)
                return "unterminated attribute value";
            q++;
        }
        st->elements++;
        st->svg += nl == 3 && strncmp(name, "svg", 3) == 0;
        if (*q == '/') {
            p = q + 2;
            continue;
        }
        if (depth == 64)
            return "nesting too deep";
        memcpy(stack[depth], name, nl);
        stack[depth][nl] = '\0';
        depth++;
        st->max_depth = depth > st->max_depth ? depth : st->max_depth;
        p = q + 1;
    }
    if (depth) {
        snprintf(msg, sizeof msg, "<%s> is never closed", stack[depth - 1]);
        return msg;
    }
    return NULL;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The text between the first "<tag" ... ">" and its end tag. */
static int has_text(const char *svg, const char *text)
{
    struct hm_buf b = {0};
    hm_buf_puts(&b, ">");
    eval_escape(&b, text);
    hm_buf_puts(&b, "<");
    int found = strstr(svg, b.s) != NULL;
    hm_buf_release(&b);
    return found;
}

TEST(test_xml_checker_catches_errors)
{
    struct xml_stats st;
    CHECK(xml_check("<a><b x=\"1\"/>t &amp; u</a>", &st) == NULL);
    CHECK_EQ_INT(st.elements, 2);
    CHECK(xml_check("<a><b></a></b>", &st) != NULL);
    CHECK(xml_check("<a>x & y</a>", &st) != NULL);
    CHECK(xml_check("<a x=1></a>", &st) != NULL);
    CHECK(xml_check("<a x=\"<\"></a>", &st) != NULL);
    CHECK(xml_check("<a>", &st) != NULL);
    CHECK(xml_check("<a></b>", &st) != NULL);
}

/* ---- escaping, numbers, base64 --------------------------------------------------------------- */

static char *escaped(const char *s)
{
    struct hm_buf b = {0};
    eval_escape(&b, s);
    return hm_buf_take(&b);
}

TEST(test_escape)
{
    char *e = escaped("a&b<c>\"d'e");
    CHECK_STR(e, "a&amp;b&lt;c&gt;&quot;d&#39;e");
    free(e);
    e = escaped("tab\tnl\nctl\x01" "del\x7F" "end");
    CHECK_STR(e, "tab\tnl\nctl del end");
    free(e);
    e = escaped("caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x91\x97"); /* 2-, 3- and 4-byte UTF-8 kept */
    CHECK_STR(e, "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x91\x97");
    free(e);
    e = escaped("bad\xFFx"); /* a stray byte */
    CHECK_STR(e, "bad\xEF\xBF\xBDx");
    free(e);
    e = escaped("\xC0\xAF"); /* an overlong '/' : both bytes invalid */
    CHECK_STR(e, "\xEF\xBF\xBD\xEF\xBF\xBD");
    free(e);
    e = escaped("cut\xE2\x82"); /* a sequence cut by the end of the string */
    CHECK_STR(e, "cut\xEF\xBF\xBD\xEF\xBF\xBD");
    free(e);
    e = escaped("\xED\xA0\x80"); /* a UTF-16 surrogate is not UTF-8 */
    CHECK_STR(e, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    free(e);
    e = escaped(NULL);
    CHECK_STR(e, "");
    free(e);
}

static const char *fmt(double v, enum eval_unit u)
{
    static char buf[64];
    return eval_format(v, u, buf, sizeof buf);
}

TEST(test_format_numbers)
{
    CHECK_STR(fmt(0, EVAL_NUMBER), "0");
    CHECK_STR(fmt(0.0123, EVAL_NUMBER), "0.0123");
    CHECK_STR(fmt(0.012345, EVAL_NUMBER), "0.0123");
    CHECK_STR(fmt(12.345, EVAL_NUMBER), "12.3");
    CHECK_STR(fmt(456, EVAL_NUMBER), "456");
    CHECK_STR(fmt(999.4, EVAL_NUMBER), "999");
    CHECK_STR(fmt(999.6, EVAL_NUMBER), "1,000");
    CHECK_STR(fmt(12345.6, EVAL_NUMBER), "12,346");
    CHECK_STR(fmt(-0.5, EVAL_NUMBER), "-0.5");
    CHECK_STR(fmt(1e-5, EVAL_NUMBER), "1e-05");
    CHECK_STR(fmt(NAN, EVAL_NUMBER), "n/a");
    CHECK_STR(fmt(-INFINITY, EVAL_NUMBER), "-inf");

    CHECK_STR(fmt(0.4231, EVAL_SHARE), "42.3%");
    CHECK_STR(fmt(0.00512, EVAL_SHARE), "0.51%");
    CHECK_STR(fmt(1, EVAL_SHARE), "100%");
    CHECK_STR(fmt(0.99996, EVAL_SHARE), "100%");
    CHECK_STR(fmt(0.999, EVAL_SHARE), "99.9%");
    CHECK_STR(fmt(0, EVAL_SHARE), "0%");
    CHECK_STR(fmt(0.0000123, EVAL_SHARE), "0.0012%");
    CHECK_STR(fmt(-0.05, EVAL_SHARE), "-5.0%");

    CHECK_STR(fmt(0, EVAL_SECONDS), "0 s");
    CHECK_STR(fmt(0.0000015, EVAL_SECONDS), "1.5 \xC2\xB5s");
    CHECK_STR(fmt(0.85, EVAL_SECONDS), "850 ms");
    CHECK_STR(fmt(12.34, EVAL_SECONDS), "12.3 s");
    CHECK_STR(fmt(59.96, EVAL_SECONDS), "1 min 00 s");
    CHECK_STR(fmt(245, EVAL_SECONDS), "4 min 05 s");
    CHECK_STR(fmt(3725, EVAL_SECONDS), "1 h 02 min");

    CHECK_STR(fmt(512, EVAL_BYTES), "512 B");
    CHECK_STR(fmt(3.4 * 1024, EVAL_BYTES), "3.4 KiB");
    CHECK_STR(fmt(1.2 * 1073741824.0, EVAL_BYTES), "1.2 GiB");
    CHECK_STR(fmt(11.83 * 1073741824.0, EVAL_BYTES), "11.8 GiB");
    CHECK_STR(fmt(1023.6 * 1024, EVAL_BYTES), "1 MiB");

    CHECK_STR(fmt(1371980, EVAL_COUNT), "1,371,980");
    CHECK_STR(fmt(12.6, EVAL_COUNT), "13");
    CHECK_STR(fmt(-1234, EVAL_COUNT), "-1,234");
    CHECK_STR(fmt(999, EVAL_COUNT), "999");
    CHECK_STR(fmt(-0.2, EVAL_COUNT), "0");

    char small[6];
    CHECK_STR(eval_format(1371980, EVAL_COUNT, small, sizeof small), "1,371"); /* truncated, terminated */
}

TEST(test_base64_vectors)
{
    /* RFC 4648, section 10 */
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < N(in); i++) {
        struct hm_buf b = {0};
        hm_buf_puts(&b, "<");
        eval_base64(&b, in[i], strlen(in[i]));
        char want[32];
        snprintf(want, sizeof want, "<%s", out[i]);
        CHECK_STR(b.s, want);
        hm_buf_release(&b);
    }
    /* every byte value: 0x00 0x10 0x83 0xFF 0xFE -> 000000 000001 000010 000011 111111 111111 111110 (pad) */
    const unsigned char bin[] = {0x00, 0x10, 0x83, 0xFF, 0xFF, 0xFE};
    struct hm_buf b = {0};
    eval_base64(&b, bin, sizeof bin);
    CHECK_STR(b.s, "ABCD///+");
    hm_buf_release(&b);
}

/* ---- axes and text measurement ----------------------------------------------------------- */

static const char *tick(const struct plot_axis *a, int i)
{
    static char buf[64];
    plot_axis_label(a, a->ticks[i], buf, sizeof buf);
    return buf;
}

TEST(test_axis_ticks)
{
    struct plot_axis a;
    /* 0..0.0234 in ~6 ticks: a step of 0.005 (0.00468 rounded), up to 0.025 */
    plot_axis_make(&a, 0, 0.0234, 6, EVAL_NUMBER);
    CHECK_EQ_INT(a.n_ticks, 6);
    CHECK_NEAR(a.hi, 0.025, 1e-12);
    CHECK_STR(tick(&a, 0), "0");
    CHECK_STR(tick(&a, 2), "0.010");
    CHECK_STR(tick(&a, 5), "0.025");
    /* 845 s reads in minutes: 14.1 min / 5 = 2.8 -> steps of 2 min up to 16 */
    plot_axis_make(&a, 0, 845, 6, EVAL_SECONDS);
    CHECK_EQ_INT(a.n_ticks, 9);
    CHECK_STR(tick(&a, 1), "2 min");
    CHECK_NEAR(a.hi, 960, 1e-9);
    /* 9.8 GiB: steps of 2 GiB up to 10 */
    plot_axis_make(&a, 0, 9.8 * 1073741824.0, 6, EVAL_BYTES);
    CHECK_EQ_INT(a.n_ticks, 6);
    CHECK_STR(tick(&a, 5), "10 GiB");
    /* shares as percentages: 0..0.42 -> 0, 10%, ..., 50% (8.4 rounds to 10) */
    plot_axis_make(&a, 0, 0.42, 6, EVAL_SHARE);
    CHECK_EQ_INT(a.n_ticks, 6);
    CHECK_STR(tick(&a, 1), "10%");
    /* counts in millions: 1,371,980 -> 0.2M steps up to 1.4M */
    plot_axis_make(&a, 0, 1371980, 6, EVAL_COUNT);
    CHECK_EQ_INT(a.n_ticks, 8);
    CHECK_STR(tick(&a, 7), "1.4M");
    /* a range across zero, and no data at all */
    plot_axis_make(&a, -3, 7, 6, EVAL_NUMBER);
    CHECK_NEAR(a.lo, -4, 1e-12);
    CHECK_NEAR(a.hi, 8, 1e-12);
    CHECK_STR(tick(&a, 2), "0");
    plot_axis_make(&a, NAN, NAN, 6, EVAL_NUMBER);
    CHECK_NEAR(a.lo, 0, 0);
    CHECK_NEAR(a.hi, 1, 1e-12);
    /* one value: a range around it */
    plot_axis_make(&a, 5, 5, 6, EVAL_NUMBER);
    CHECK(a.lo <= 4.5 && a.hi >= 5.5);
    /* small whole counts never get fractional ticks */
    plot_axis_make(&a, 0, 3, 8, EVAL_COUNT);
    CHECK_EQ_INT(a.n_ticks, 4);
}

TEST(test_text_width_and_fit)
{
    /* DejaVu Sans: 'i' 0.278 em, 'm' 0.974 em, digits 0.636 em */
    CHECK_NEAR(plot_text_width("i", 10), 2.78, 1e-9);
    CHECK_NEAR(plot_text_width("mm", 10), 19.48, 1e-9);
    CHECK_NEAR(plot_text_width("0.5", 10), 6.36 * 2 + 3.18, 1e-9);
    CHECK_NEAR(plot_text_width("\xC3\xA9", 10), 7.0, 1e-9); /* one code point, not two bytes */
    struct hm_buf b = {0};
    CHECK_EQ_INT(plot_fit_text(&b, "short", 100, 10), 0);
    CHECK_STR(b.s, "short");
    hm_buf_release(&b);
    /* "abcdefgh" is 48.2 wide at 10: in 30 units (20 for text + 10 for the ellipsis)
     * fit a, b, c (6.13 + 6.35 + 5.50 = 17.98) */
    CHECK_EQ_INT(plot_fit_text(&b, "abcdefgh", 30, 10), 1);
    CHECK_STR(b.s, "abc\xE2\x80\xA6");
    hm_buf_release(&b);
    /* cutting never splits a code point and escapes what it keeps */
    CHECK_EQ_INT(plot_fit_text(&b, "&\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 30, 10), 1);
    CHECK_STR(b.s, "&amp;\xC3\xA9\xE2\x80\xA6"); /* & 7.8 + é 7.0 fit in 20, a second é not */
    hm_buf_release(&b);
}

/* ---- charts ----------------------------------------------------------------------------------- */

/* Checks the structure every chart shares; returns the number of failures. */
static int chart_ok(const char *svg, const char *title)
{
    struct xml_stats st;
    const char *err = svg ? xml_check(svg, &st) : "no chart";
    if (err) {
        fprintf(stderr, "chart '%s': %s\n", title, err);
        return 0;
    }
    return strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"hm-plot\" viewBox=\"0 0 640 ", 71) == 0 &&
           st.svg == 1 && count(svg, "<title>") >= 1 && has_text(svg, title);
}

static const char *const hard_name = "xgb & mlp <\"blend\">";

TEST(test_line_chart)
{
    double x[] = {25, 50, 100, 200};
    double a[] = {0.21, 0.27, 0.33, 0.38};
    double b[] = {0.11, NAN, 0.19, 0.24};
    struct eval_series s[] = {{"merged pool", a}, {hard_name, b}};
    struct eval_ref refs[] = {{"oracle", 0.45}};
    struct eval_line_chart c = {.title = "Recall & pool size", .x_label = "candidates per customer",
                                .y_label = "recall", .x = x, .n = 4, .series = s, .n_series = 2,
                                .y_unit = EVAL_SHARE, .y_zero = 1, .refs = refs, .n_refs = 1,
                                .mark_label = "pool", .mark_series = 0, .mark_index = 2};
    char *svg = eval_plot_line(&c);
    CHECK(chart_ok(svg, c.title));
    CHECK(has_text(svg, "candidates per customer"));
    CHECK(has_text(svg, "recall"));
    CHECK(has_text(svg, "merged pool"));
    CHECK(has_text(svg, hard_name));            /* escaped in the legend */
    CHECK(has_text(svg, "oracle 45.0%"));       /* the reference line's label */
    CHECK(has_text(svg, "pool: 33.0% at 100")); /* the mark */
    CHECK(has_text(svg, "40%"));                /* round ticks in percent */
    CHECK(has_text(svg, "200"));
    /* the gap: the second series' path starts again after the NaN */
    const char *p = strstr(svg, "<title>xgb &amp; mlp");
    CHECK(p != NULL);
    p = strstr(p, " d=\"");
    CHECK(p != NULL && p[4] == 'M' && strchr(p + 5, 'M') < strchr(p + 5, '"'));
    /* circles: 4 points of series 0, its legend swatch, the mark's ring; squares: 3 points of
     * series 1 (one is NaN) and its legend swatch */
    CHECK_EQ_INT(count(svg, "<circle"), 4 + 1 + 1);
    CHECK_EQ_INT(count(svg, "<rect x="), 3 + 1);
    free(svg);

    /* x = NULL: rounds 1..n; a series of NaN only; no series at all */
    double nan3[] = {NAN, NAN, NAN};
    struct eval_series only_nan = {"nothing", nan3};
    struct eval_line_chart e = {.title = "empty", .n = 3, .series = &only_nan, .n_series = 1};
    svg = eval_plot_line(&e);
    CHECK(chart_ok(svg, "empty"));
    CHECK(has_text(svg, "no data"));
    free(svg);
    struct eval_line_chart none = {.title = "none"};
    svg = eval_plot_line(&none);
    CHECK(chart_ok(svg, "none"));
    free(svg);
}

TEST(test_line_chart_errors)
{
    double y[] = {1, 2};
    double bad_x[] = {2, 1};
    struct eval_series s = {"s", y};
    struct eval_line_chart c = {.title = "t", .n = 2, .series = &s, .n_series = 1, .x = bad_x};
    CHECK(eval_plot_line(&c) == NULL);
    CHECK(strstr(hm_last_error(), "ascending") != NULL);
    c.x = NULL;
    c.mark_label = "best";
    c.mark_index = 2;
    CHECK(eval_plot_line(&c) == NULL);
    CHECK(strstr(hm_last_error(), "the mark 'best'") != NULL);
    struct eval_series no_values = {"s", NULL};
    struct eval_line_chart d = {.title = "t", .n = 2, .series = &no_values, .n_series = 1};
    CHECK(eval_plot_line(&d) == NULL);
    CHECK(strstr(hm_last_error(), "has no values") != NULL);
    CHECK(eval_plot_line(NULL) == NULL);
}

TEST(test_bar_charts)
{
    const char *names[] = {"popularity", "repurchase", hard_name};
    double v[] = {0.0214, 0.0189, 0.0312};
    uint8_t hl[] = {0, 0, 1};
    struct eval_ref refs[] = {{"pool ceiling", 0.142}, {"oracle", 0.0611}};
    struct eval_bar_chart c = {.title = "MAP@12 per model", .value_label = "MAP@12", .names = names,
                               .values = v, .n = 3, .horizontal = 1, .highlight = hl, .refs = refs, .n_refs = 2};
    for (int horizontal = 0; horizontal < 2; horizontal++) {
        c.horizontal = horizontal;
        char *svg = eval_plot_bars(&c);
        CHECK(chart_ok(svg, c.title));
        CHECK(has_text(svg, "0.0214"));
        CHECK(has_text(svg, "0.0312"));
        CHECK(has_text(svg, "pool ceiling 0.142"));
        CHECK(has_text(svg, "oracle 0.0611"));
        CHECK(has_text(svg, hard_name));
        CHECK(has_text(svg, "MAP@12"));
        CHECK_EQ_INT(count(svg, "fill=\"" PLOT_ACCENT "\""), 1); /* the highlighted bar */
        CHECK_EQ_INT(count(svg, "fill=\"" PLOT_BAR "\""), 2);
        CHECK_EQ_INT(count(svg, "stroke-dasharray"), 2);         /* the reference lines */
        free(svg);
    }
    /* NaN bars read n/a; negative values are drawn left of zero */
    double w[] = {NAN, -0.5, 1.5};
    c.values = w;
    c.refs = NULL;
    c.n_refs = 0;
    char *svg = eval_plot_bars(&c);
    CHECK(chart_ok(svg, c.title));
    CHECK(has_text(svg, "n/a"));
    CHECK(has_text(svg, "-0.5"));
    CHECK_EQ_INT(count(svg, "<rect x="), 2);
    free(svg);
    c.values = NULL;
    CHECK(eval_plot_bars(&c) == NULL);
    CHECK(strstr(hm_last_error(), "no values") != NULL);
}

TEST(test_group_charts)
{
    const char *stages[] = {"ingest", "candidates", "features", "rank"};
    double t[] = {7.1, 95, 240, 410};
    double m[] = {1.1 * 1073741824.0, 3.4 * 1073741824.0, 9.8 * 1073741824.0, 6.2 * 1073741824.0};
    struct eval_series tm[] = {{"wall time", t}, {"peak memory", m}};
    enum eval_unit units[] = {EVAL_SECONDS, EVAL_BYTES};
    struct eval_group_chart c = {.title = "Time and peak memory per stage", .categories = stages,
                                 .n_categories = 4, .series = tm, .n_series = 2,
                                 .layout = EVAL_BARS_PANELS, .units = units};
    char *svg = eval_plot_groups(&c);
    CHECK(chart_ok(svg, c.title));
    CHECK(has_text(svg, "wall time"));
    CHECK(has_text(svg, "peak memory"));
    CHECK(has_text(svg, "6 min 50 s"));  /* 410 s */
    CHECK(has_text(svg, "9.8 GiB"));
    CHECK(has_text(svg, "4 min"));       /* a time tick */
    CHECK(has_text(svg, "10 GiB"));      /* a memory tick */
    CHECK_EQ_INT(count(svg, "<rect x="), 8);
    free(svg);

    /* stacked: parts and totals; grouped: one bar per series, a legend */
    double read[] = {2, 10, 20, 30}, comp[] = {4, 80, 200, 360}, wr[] = {1.1, 5, 20, 20};
    struct eval_series parts[] = {{"read", read}, {"compute", comp}, {"write", wr}};
    struct eval_group_chart s = {.title = "Time per stage", .value_label = "seconds",
                                 .categories = stages, .n_categories = 4, .series = parts, .n_series = 3,
                                 .layout = EVAL_BARS_STACKED, .unit = EVAL_SECONDS, .horizontal = 1};
    for (int layout = 0; layout < 2; layout++) {
        s.layout = layout ? EVAL_BARS_STACKED : EVAL_BARS_GROUPED;
        for (int horizontal = 0; horizontal < 2; horizontal++) {
            s.horizontal = horizontal;
            svg = eval_plot_groups(&s);
            CHECK(chart_ok(svg, s.title));
            CHECK(has_text(svg, "compute"));
            CHECK(has_text(svg, "features"));
            CHECK_EQ_INT(count(svg, "<rect x=") - 3, 12); /* 3 legend swatches */
            if (layout)
                CHECK(has_text(svg, "6 min 50 s")); /* the rank stage's total */
            else
                CHECK(has_text(svg, "6 min 00 s")); /* its compute bar */
            free(svg);
        }
    }
    comp[1] = -1;
    s.layout = EVAL_BARS_STACKED;
    CHECK(eval_plot_groups(&s) == NULL);
    CHECK(strstr(hm_last_error(), "negative") != NULL);
}

TEST(test_long_names_are_cut)
{
    const char *names[] = {"a feature name far too long to fit the room a horizontal bar chart leaves for it", "x"};
    double v[] = {1, 2};
    struct eval_bar_chart c = {.title = "importance", .names = names, .values = v, .n = 2, .horizontal = 1};
    char *svg = eval_plot_bars(&c);
    CHECK(chart_ok(svg, "importance"));
    /* the label is cut (the whole name stays in the bar's tooltip) */
    CHECK(!has_text(svg, names[0]));
    CHECK(strstr(svg, ">a feature name far") != NULL);
    CHECK(strstr(svg, "\xE2\x80\xA6</text>") != NULL);
    CHECK(strstr(svg, "<title>a feature name far too long to fit the room a horizontal bar chart leaves for it: 1</title>") != NULL);
    free(svg);
}

/* No NaN or infinity may reach a coordinate, whatever the values. */
static int finite_coordinates(const char *svg)
{
    return svg && !strstr(svg, "nan") && !strstr(svg, "inf\"") && !strstr(svg, "inf,") &&
           !strstr(svg, "inf ");
}

TEST(test_charts_on_odd_values)
{
    static const double odd[][3] = {
        {1e300, -1e300, 0}, {DBL_MAX, DBL_MAX, DBL_MAX}, {-DBL_MAX, DBL_MAX, NAN}, {5e-324, 5e-324, 5e-324},
        {1e15, 1e15 + 0.25, 1e15}, {INFINITY, -INFINITY, NAN}, {0, 0, 0}, {-1, -2, -3}, {7, 7, 7},
    };
    const char *names[] = {"a", "b", "c"};
    for (size_t k = 0; k < N(odd); k++)
        for (int u = EVAL_NUMBER; u <= EVAL_COUNT; u++) {
            struct eval_series s = {"s", odd[k]};
            struct eval_ref r = {"ref", odd[k][0]};
            struct eval_line_chart l = {.title = "line", .n = 3, .series = &s, .n_series = 1, .y_unit = u,
                                        .refs = &r, .n_refs = 1};
            char *svg = eval_plot_line(&l);
            if (!(chart_ok(svg, "line") && finite_coordinates(svg)))
                fprintf(stderr, "case %zu unit %d:\n%s\n", k, u, svg ? svg : "(null)");
            CHECK(chart_ok(svg, "line") && finite_coordinates(svg));
            free(svg);
            struct eval_bar_chart b = {.title = "bars", .names = names, .values = odd[k], .n = 3, .unit = u,
                                       .horizontal = (int)k & 1, .refs = &r, .n_refs = 1};
            svg = eval_plot_bars(&b);
            if (!(chart_ok(svg, "bars") && finite_coordinates(svg)))
                fprintf(stderr, "case %zu unit %d:\n%s\n", k, u, svg ? svg : "(null)");
            CHECK(chart_ok(svg, "bars") && finite_coordinates(svg));
            free(svg);
            struct eval_group_chart g = {.title = "panels", .categories = names, .n_categories = 3,
                                         .series = &s, .n_series = 1, .layout = EVAL_BARS_PANELS, .unit = u};
            svg = eval_plot_groups(&g);
            CHECK(chart_ok(svg, "panels") && finite_coordinates(svg));
            free(svg);
        }
    /* no categories at all */
    struct eval_bar_chart empty = {.title = "empty"};
    for (int h = 0; h < 2; h++) {
        empty.horizontal = h;
        char *svg = eval_plot_bars(&empty);
        CHECK(chart_ok(svg, "empty") && finite_coordinates(svg));
        free(svg);
    }
}

/* ---- the page --------------------------------------------------------------------------------- */

static const char *test_dir(void)
{
    const char *d = getenv("HMREC_TESTS");
    return d ? d : ".";
}

TEST(test_page_table_text)
{
    struct eval_page p;
    eval_page_init(&p, "T");
    const char *head[] = {"model", "MAP@12", "% oracle"};
    const char *cells[] = {"pop", "0.0214", "35.0%", "xgb & co", "0.0312", "51.1%", "oracle", "0.0611", "100%"};
    uint8_t hl[] = {0, 1, 0};
    double bar[] = {0.35, 0.511, 1};
    struct eval_table_spec t = {.caption = "Metrics", .header = head, .n_cols = 3, .cells = cells,
                                .n_rows = 3, .highlight = hl, .bar = bar, .bar_col = 2};
    CHECK_EQ_INT(eval_page_table(&p, &t), 0);
    char *text = eval_page_text(&p);
    /* numeric columns right-aligned, the bar after its cell, lined up (3.5 -> 4 of 10,
     * 5.11 -> 5), the highlighted row marked */
    CHECK_STR(text, "T\n"
                    "=\n"
                    "\n"
                    "Table 1. Metrics\n"
                    "  model     MAP@12          % oracle\n"
                    "  --------  ------  ----------------\n"
                    "  pop       0.0214  35.0% ####......\n"
                    "> xgb & co  0.0312  51.1% #####.....\n"
                    "  oracle    0.0611   100% ##########\n");
    free(text);
    char *html = eval_page_finish(&p);
    CHECK(strstr(html, "<tr class=\"hl\"><td>xgb &amp; co</td><td class=\"num\">0.0312</td>"
                       "<td class=\"num bar\" style=\"--p:51.1%\">51.1%</td></tr>") != NULL);
    CHECK(strstr(html, "<th scope=\"col\">model</th><th scope=\"col\" class=\"num\">MAP@12</th>") != NULL);
    free(html);
    /* bad tables */
    t.bar_col = 3;
    CHECK(eval_page_table(&p, &t) < 0);
    t.bar_col = 2;
    t.align = "lrx";
    CHECK(eval_page_table(&p, &t) < 0);
    CHECK(strstr(hm_last_error(), "'x'") != NULL);
    eval_page_release(&p);
}

TEST(test_page_text_blocks)
{
    struct eval_page p;
    eval_page_init(&p, "Report");
    eval_page_subtitle(&p, "small preset");
    eval_page_toc(&p);
    CHECK_STR(eval_page_heading(&p, 2, "Metrics & more", NULL), "metrics-more");
    CHECK_STR(eval_page_heading(&p, 3, "Detail", NULL), "detail");
    CHECK_STR(eval_page_heading(&p, 2, "Metrics & more", NULL), "metrics-more-2");
    CHECK_STR(eval_page_heading(&p, 2, "\xC3\xA9\xC3\xA9", "x y"), "x-y");
    struct eval_card cards[] = {{"best MAP@12", "0.0312", "xgb"}, {"time", "14 min", NULL}};
    eval_page_cards(&p, cards, 2);
    eval_page_paragraph(&p, "one two three four five six seven eight nine ten eleven twelve thirteen "
                            "fourteen fifteen sixteen");
    char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>";
    CHECK_EQ_INT(eval_page_figure(&p, svg, "A chart"), 0);
    CHECK(eval_page_figure(&p, "<div/>", "not a chart") < 0);
    struct eval_tile tiles[] = {{NULL, "Tee", "0706016001", 1}, {NULL, "Jeans", NULL, 0}};
    CHECK_EQ_INT(eval_page_tiles(&p, "recommended", "bought", tiles, 2), 0);
    char *text = eval_page_text(&p);
    CHECK_STR(text, "Report\n"
                    "======\n"
                    "small preset\n"
                    "\n"
                    "Contents\n"
                    "  1. Metrics & more\n"
                    "     1.1 Detail\n"
                    "  2. Metrics & more\n"
                    "  3. \xC3\xA9\xC3\xA9\n"
                    "\n"
                    "\n"
                    "Metrics & more\n"
                    "--------------\n"
                    "\n"
                    "Detail\n"
                    "~~~~~~\n"
                    "\n"
                    "\n"
                    "Metrics & more\n"
                    "--------------\n"
                    "\n"
                    "\n"
                    "\xC3\xA9\xC3\xA9\n"
                    "--\n"
                    "\n"
                    "  best MAP@12  0.0312  xgb\n"
                    "  time         14 min\n"
                    "\n"
                    "one two three four five six seven eight nine ten eleven twelve thirteen\n"
                    "fourteen fifteen sixteen\n"
                    "\n"
                    "[Figure 1, in the HTML report: A chart]\n"
                    "\n"
                    "recommended:\n"
                    "   1. Tee (0706016001)  [bought]\n"
                    "   2. Jeans\n");
    free(text);
    char *html = eval_page_finish(&p);
    struct xml_stats st;
    const char *err = xml_check(html, &st);
    if (err)
        fprintf(stderr, "%s\n", err);
    CHECK(err == NULL);
    CHECK(strstr(html, "<li><a href=\"#metrics-more\">Metrics &amp; more</a><ol><li><a href=\"#detail\">Detail</a></li></ol></li>") != NULL);
    CHECK(strstr(html, "<h2 id=\"metrics-more-2\">") != NULL);
    CHECK(strstr(html, "<figcaption><b>Figure 1.</b> A chart</figcaption>") != NULL);
    CHECK(strstr(html, "<div class=\"tile marked\"><div class=\"noimg\">no image</div><span class=\"mark\">\xE2\x9C\x93 bought</span>") != NULL);
    CHECK(strstr(html, "<p class=\"tiles-caption\">recommended <span>(1 bought)</span></p>") != NULL);
    CHECK(strstr(html, "<script") == NULL);
    CHECK_EQ_INT(count(html, "http"), count(html, "xmlns=\"http://")); /* namespaces only */
    free(html);
    eval_page_release(&p);
}

TEST(test_page_images)
{
    struct eval_page p;
    eval_page_init(&p, "images");
    char *png = hm_xasprintf("%s/embed/img_rgb.png", test_dir());
    char *jpg = hm_xasprintf("%s/embed/img_rgb.jpg", test_dir());
    CHECK_EQ_INT(eval_page_image(&p, png, "a <png>", "caption"), 0);
    struct eval_tile tiles[] = {{jpg, "jpeg", NULL, 0}};
    CHECK_EQ_INT(eval_page_tiles(&p, "row", NULL, tiles, 1), 0);
    char *html = eval_page_finish(&p);
    CHECK(strstr(html, "<img class=\"picture\" src=\"data:image/png;base64,iVBORw0KGgo") != NULL);
    CHECK(strstr(html, "alt=\"a &lt;png&gt;\"") != NULL);
    CHECK(strstr(html, "<img src=\"data:image/jpeg;base64,/9j/") != NULL);
    /* the data URI decodes to the file: its length is 4 * ceil(size / 3) */
    char *data;
    size_t len;
    CHECK_EQ_INT(hm_read_file(png, &data, &len), 0);
    const char *u = strstr(html, "base64,") + 7;
    CHECK_EQ_INT(strcspn(u, "\""), (len + 2) / 3 * 4);
    free(data);
    free(html);
    /* not an image, a missing file */
    char *txt = hm_xasprintf("%s/embed/images.txt", test_dir());
    CHECK(eval_page_image(&p, txt, "x", NULL) == HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "expected a JPEG or PNG file") != NULL);
    CHECK(eval_page_image(&p, "/nonexistent/x.png", "x", NULL) == HM_EIO);
    struct eval_tile bad[] = {{jpg, "ok", NULL, 0}, {txt, "bad", NULL, 0}};
    CHECK(eval_page_tiles(&p, "row", NULL, bad, 2) == HM_EFORMAT);
    CHECK(strstr(hm_last_error(), "report tiles 'row'") != NULL);
    free(txt);
    free(png);
    free(jpg);
    eval_page_release(&p);
}

/* ---- the sample page ---------------------------------------------------------------------------- */

/* A page with every kind of block and chart, with numbers shaped like a real run's; 
 * returns the number of figures. */
static int sample_page(struct eval_page *p)
{
    eval_page_init(p, "hmrec report: sample page");
    eval_page_subtitle(p, "The report's building blocks with made-up numbers shaped like a run on the "
                          "small preset (100,000 customers, validation week 2020-09-16 to 2020-09-22).");
    struct eval_card cards[] = {
        {"best MAP@12", "0.0312", "lambdarank & mlp blend: +45.8% over the best baseline"},
        {"best baseline", "0.0214", "popularity of the last week"},
        {"pool ceiling", "0.142", "MAP@12 if the ranker were perfect"},
        {"wall time", "14 min 05 s", "2 threads, 11 training weeks"},
        {"peak memory", "9.8 GiB", "during features"},
    };
    eval_page_cards(p, cards, N(cards));
    eval_page_toc(p);
    int figures = 0;

    /* metrics */
    eval_page_heading(p, 2, "Metrics on the validation week", "metrics");
    eval_page_paragraph(p, "Every model and baseline ranked by MAP@12 on the 38,412 customers who bought in "
                           "the validation week. The share of the oracle is the MAP@12 of each row divided "
                           "by the generator's oracle (0.0611): how much of what can be predicted is.");
    const char *models[] = {"blend (lambdarank & mlp)", "lambdarank", "three-tower mlp", "xgb classifier",
                            "popularity (last week)", "repurchase + popularity", "<random>"};
    double map[] = {0.0312, 0.0298, 0.0271, 0.0266, 0.0214, 0.0201, 0.0003};
    char cell[N(models)][5][32];
    const char *cells[N(models) * 6];
    double share[N(models)];
    uint8_t best[N(models)] = {1};
    for (size_t i = 0; i < N(models); i++) {
        share[i] = map[i] / 0.0611;
        snprintf(cell[i][0], 32, "%.5f", map[i]);
        eval_format(share[i], EVAL_SHARE, cell[i][1], 32);
        snprintf(cell[i][2], 32, "%.4f", map[i] * 0.61);
        snprintf(cell[i][3], 32, "%.4f", map[i] * 3.1);
        snprintf(cell[i][4], 32, "%.4f", map[i] * 1.7);
        cells[i * 6] = models[i];
        for (int k = 0; k < 5; k++)
            cells[i * 6 + 1 + k] = cell[i][k];
    }
    const char *head[] = {"model", "MAP@12", "% of oracle", "P@12", "R@12", "NDCG@12"};
    struct eval_table_spec t = {.caption = "MAP@12 and the other metrics at 12, best first.", .header = head,
                                .n_cols = 6, .cells = cells, .n_rows = N(models), .highlight = best,
                                .bar = share, .bar_col = 2};
    eval_page_table(p, &t);
    struct eval_ref refs[] = {{"oracle", 0.0611}, {"pool ceiling", 0.142}};
    struct eval_bar_chart bars = {.title = "MAP@12 per model", .value_label = "MAP@12 on the validation week",
                                  .names = models, .values = map, .n = N(models), .horizontal = 1,
                                  .highlight = best, .refs = refs, .n_refs = 2};
    char *svg = eval_plot_bars(&bars);
    eval_page_figure(p, svg, "MAP@12 of every model and baseline; the pool ceiling is the MAP@12 a perfect "
                             "ranker of the candidate pool would reach.");
    free(svg);
    figures++;

    /* candidates */
    eval_page_heading(p, 2, "Candidates", NULL);
    eval_page_paragraph(p, "Six strategies propose candidates; the merged pool keeps the best 100 per "
                           "customer. Recall is the share of the week's (customer, article) purchases the "
                           "candidates contain.");
    const char *strat[] = {"repurchase", "popularity", "co-purchase", "user-KNN", "category", "text similarity"};
    double rec[] = {0.118, 0.097, 0.142, 0.086, 0.064, 0.051};
    struct eval_ref pool_ref[] = {{"merged pool", 0.312}};
    struct eval_bar_chart rb = {.title = "Candidate recall per strategy", .category_label = "strategy",
                                .value_label = "recall", .names = strat, .values = rec, .n = N(strat),
                                .unit = EVAL_SHARE, .refs = pool_ref, .n_refs = 1};
    svg = eval_plot_bars(&rb);
    eval_page_figure(p, svg, "Recall of each strategy's whole list, and of the merged pool.");
    free(svg);
    figures++;
    double sizes[] = {25, 50, 100, 150, 200};
    double merged[] = {0.201, 0.262, 0.312, 0.338, 0.355};
    double cop[] = {0.082, 0.109, 0.131, NAN, 0.142};
    double pop[] = {0.061, 0.075, 0.088, 0.094, 0.097};
    struct eval_series rs[] = {{"merged pool", merged}, {"co-purchase", cop}, {"popularity", pop}};
    struct eval_line_chart rl = {.title = "Candidate recall against pool size", .x_label = "candidates per customer",
                                 .y_label = "recall", .x = sizes, .n = N(sizes), .series = rs, .n_series = 3,
                                 .y_unit = EVAL_SHARE, .y_zero = 1, .mark_label = "configured pool",
                                 .mark_series = 0, .mark_index = 2};
    svg = eval_plot_line(&rl);
    eval_page_figure(p, svg, "Recall of the first N candidates (co-purchase was not measured at 150).");
    free(svg);
    figures++;
    double r25[] = {0.081, 0.045, 0.074, 0.040, 0.030, 0.022}, r100[] = {0.112, 0.082, 0.131, 0.071, 0.055, 0.043};
    struct eval_series rg[] = {{"first 25", r25}, {"first 100", r100}, {"whole list", rec}};
    struct eval_group_chart gc = {.title = "Recall per strategy at three list lengths", .value_label = "recall",
                                  .categories = strat, .n_categories = N(strat), .series = rg, .n_series = 3,
                                  .layout = EVAL_BARS_GROUPED, .unit = EVAL_SHARE, .horizontal = 1};
    svg = eval_plot_groups(&gc);
    eval_page_figure(p, svg, "Grouped bars: each strategy's recall when its list is cut at 25 and 100.");
    free(svg);
    figures++;

    /* learning */
    eval_page_heading(p, 2, "Learning curves", "learning");
    double lr[300], cl[300], nn[300];
    for (int i = 0; i < 300; i++) {
        lr[i] = 0.0298 * (1 - exp(-(i + 1) / 40.0)) - 0.000004 * fmax(0, i - 180);
        cl[i] = i < 220 ? 0.0266 * (1 - exp(-(i + 1) / 60.0)) : NAN; /* stopped early */
        nn[i] = i % 10 == 9 ? 0.0271 * (1 - exp(-(i + 1) / 30.0)) : NAN; /* evaluated every 10th */
    }
    int best_round = 0;
    for (int i = 1; i < 300; i++)
        if (lr[i] > lr[best_round])
            best_round = i;
    struct eval_series ls[] = {{"lambdarank", lr}, {"xgb classifier", cl}, {"three-tower mlp (per 10 steps)", nn}};
    struct eval_ref base_ref[] = {{"best baseline", 0.0214}};
    struct eval_line_chart lc = {.title = "Validation MAP@12 per boosting round", .x_label = "round",
                                 .y_label = "MAP@12", .n = 300, .series = ls, .n_series = 3, .y_zero = 1,
                                 .refs = base_ref, .n_refs = 1, .mark_label = "best round",
                                 .mark_series = 0, .mark_index = (size_t)best_round};
    svg = eval_plot_line(&lc);
    eval_page_figure(p, svg, "Learning curves; the classifier stopped early at round 220.");
    free(svg);
    figures++;
    eval_page_heading(p, 3, "Feature importance", NULL);
    const char *feat[30];
    double gain[30];
    char fname[30][48];
    static const char *const stem[] = {"item_pop", "user_item_buys", "days_since_last_buy", "price_ratio",
                                       "copurchase_score", "text_sim", "age_bucket_share", "repurchase_rate",
                                       "category_share", "knn_score"};
    for (int i = 0; i < 30; i++) {
        snprintf(fname[i], sizeof fname[i], "%s_%dd", stem[i % 10], 7 << (i / 10));
        feat[i] = fname[i];
        gain[i] = 1800.0 * exp(-i / 7.0) + 15;
    }
    struct eval_bar_chart fb = {.title = "Feature importance (gain), top 30", .value_label = "total gain",
                                .names = feat, .values = gain, .n = 30, .horizontal = 1};
    svg = eval_plot_bars(&fb);
    eval_page_figure(p, svg, "The 30 features with the largest total gain in the lambdarank model.");
    free(svg);
    figures++;

    /* time and memory */
    eval_page_heading(p, 2, "Time and memory", "time");
    const char *stages[] = {"ingest", "prepare", "text", "candidates", "features", "rank", "submit"};
    double secs[] = {7.1, 3.2, 21.5, 95, 240, 410, 68};
    double mem[] = {1.1, 0.6, 1.9, 3.4, 9.8, 6.2, 2.0};
    for (size_t i = 0; i < N(mem); i++)
        mem[i] *= 1073741824.0;
    struct eval_series tm[] = {{"wall time", secs}, {"peak memory", mem}};
    enum eval_unit units[] = {EVAL_SECONDS, EVAL_BYTES};
    struct eval_group_chart pc = {.title = "Wall time and peak memory per stage", .categories = stages,
                                  .n_categories = N(stages), .series = tm, .n_series = 2,
                                  .layout = EVAL_BARS_PANELS, .units = units};
    svg = eval_plot_groups(&pc);
    eval_page_figure(p, svg, "Each stage's wall time and the peak resident memory of the process while it ran.");
    free(svg);
    figures++;
    double rd[] = {2.0, 1.0, 3.5, 10, 20, 30, 8}, cp[] = {4.1, 2.0, 16, 80, 200, 360, 50},
           wr[] = {1.0, 0.2, 2.0, 5, 20, 20, 10};
    struct eval_series parts[] = {{"read", rd}, {"compute", cp}, {"write", wr}};
    struct eval_group_chart sc = {.title = "Where the time goes", .category_label = "stage",
                                  .value_label = "wall time", .categories = stages, .n_categories = N(stages),
                                  .series = parts, .n_series = 3, .layout = EVAL_BARS_STACKED,
                                  .unit = EVAL_SECONDS};
    svg = eval_plot_groups(&sc);
    eval_page_figure(p, svg, "Stacked bars: reading inputs, computing and writing outputs in each stage.");
    free(svg);
    figures++;

    /* example customers */
    eval_page_heading(p, 2, "Example customers", "examples");
    eval_page_paragraph(p, "Recent purchases and the 12 recommendations of two customers; a green frame "
                           "marks an article the customer bought in the validation week.");
    char *img[4];
    static const char *const files[4] = {"img_rgb.jpg", "img_rgb.png", "img_gray.jpg", "img_rgba.png"};
    for (int i = 0; i < 4; i++)
        img[i] = hm_xasprintf("%s/embed/%s", test_dir(), files[i]);
    static const char *const names[] = {"Tigra tee", "Luna denim shorts", "Pluto trousers", "Bella bra",
                                        "Rib top <2-pack>", "Jade & June dress"};
    for (int cust = 0; cust < 2; cust++) {
        char h[64];
        snprintf(h, sizeof h, "Customer %s", cust ? "7c2b\xE2\x80\xA6" "e91f" : "00a1\xE2\x80\xA6" "4f3d");
        eval_page_heading(p, 3, h, NULL);
        struct eval_tile bought[4], rec12[12];
        char notes[16][40];
        for (int i = 0; i < 4; i++) {
            snprintf(notes[i], sizeof notes[i], "07%08d \xC2\xB7 2020-09-%02d", 6016001 + 97 * i + cust, 10 - i);
            bought[i] = (struct eval_tile){i == 2 ? NULL : img[(i + cust) % 4], names[(i + cust) % 6], notes[i], 0};
        }
        eval_page_tiles(p, "last purchases", NULL, bought, 4);
        for (int i = 0; i < 12; i++) {
            snprintf(notes[4 + i % 12], sizeof notes[0], "#%d \xC2\xB7 07%08d", i + 1, 5000000 + 311 * i + cust);
            rec12[i] = (struct eval_tile){i % 5 == 4 ? NULL : img[(i + cust) % 4], names[(i + 2 * cust) % 6],
                                          notes[4 + i], (i == 1 && cust == 0) || i == 6};
        }
        eval_page_tiles(p, "recommended", "bought", rec12, 12);
    }
    for (int i = 0; i < 4; i++)
        free(img[i]);

    eval_page_heading(p, 2, "Settings", NULL);
    eval_page_paragraph(p, "The settings of the run (the canonical text that fingerprints each stage):");
    eval_page_pre(p, "prepare.users = 50000\nprepare.train_weeks = 11\nrecall.pool = 100\n"
                     "rank.models = lambdarank, classifier, mlp\nrun.data = data/small   # <a & b>\n");
    return figures;
}

TEST(test_sample_page)
{
    struct eval_page p;
    int figures = sample_page(&p);
    char *html = eval_page_finish(&p);
    struct xml_stats st;
    const char *err = xml_check(html, &st);
    if (err)
        fprintf(stderr, "sample page: %s\n", err);
    CHECK(err == NULL);
    CHECK_EQ_INT(st.svg, figures);
    CHECK_EQ_INT(count(html, "<figure id=\"fig-"), figures);
    CHECK_EQ_INT(count(html, "<img "), 2 * (3 + 10));  /* two customers, images on 3 + 10 tiles */
    CHECK_EQ_INT(count(html, "<div class=\"tile marked\">"), 3);
    /* self-contained: no script, no external resource */
    CHECK(strstr(html, "<script") == NULL);
    CHECK(strstr(html, "src=\"http") == NULL && strstr(html, "href=\"http") == NULL);
    CHECK(strstr(html, "url(") == NULL && strstr(html, "<link") == NULL);

    /* written atomically, and the same bytes come back */
    char dir[] = "/tmp/hmrec_test_report_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *path = hm_path_join(dir, "report.html");
    CHECK_EQ_INT(eval_page_write(&p, path), 0);
    char *back;
    size_t len;
    CHECK_EQ_INT(hm_read_file(path, &back, &len), 0);
    CHECK_EQ_INT(len, strlen(html));
    CHECK(memcmp(back, html, len) == 0);
    free(back);
    unlink(path);
    rmdir(dir);
    free(path);

    /* the text twin says the same things */
    char *text = eval_page_text(&p);
    CHECK(strstr(text, "hmrec report: sample page\n=========================\n") != NULL);
    CHECK(strstr(text, "> blend (lambdarank & mlp)  0.03120") != NULL);
    CHECK(strstr(text, "[Figure 1, in the HTML report: MAP@12 of every model") != NULL);
    char fig[32];
    snprintf(fig, sizeof fig, "[Figure %d,", figures);
    CHECK(strstr(text, fig) != NULL);
    CHECK(strstr(text, "   2. Luna denim shorts (#2 \xC2\xB7 0705000311)  [bought]\n") != NULL);
    CHECK(strstr(text, "    prepare.users = 50000\n") != NULL);
    free(text);
    free(html);
    eval_page_release(&p);
}

static int write_sample(const char *dir)
{
    struct eval_page p;
    int figures = sample_page(&p);
    char *html_path = hm_path_join(dir, "report.html"), *text_path = hm_path_join(dir, "report.txt");
    char *text = eval_page_text(&p);
    int rc = eval_page_write(&p, html_path);
    FILE *f = rc == 0 ? fopen(text_path, "w") : NULL;
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    if (rc < 0 || !f)
        fprintf(stderr, "test_report: could not write the sample page to %s: %s\n", dir,
                rc < 0 ? hm_last_error() : "cannot open report.txt");
    else
        printf("%d\n", figures);
    free(text);
    free(html_path);
    free(text_path);
    eval_page_release(&p);
    return rc < 0 || !f;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--sample-page") == 0)
        return write_sample(argv[2]);
    RUN(test_xml_checker_catches_errors);
    RUN(test_escape);
    RUN(test_format_numbers);
    RUN(test_base64_vectors);
    RUN(test_axis_ticks);
    RUN(test_text_width_and_fit);
    RUN(test_line_chart);
    RUN(test_line_chart_errors);
    RUN(test_bar_charts);
    RUN(test_group_charts);
    RUN(test_long_names_are_cut);
    RUN(test_charts_on_odd_values);
    RUN(test_page_table_text);
    RUN(test_page_text_blocks);
    RUN(test_page_images);
    RUN(test_sample_page);
    TEST_EXIT();
}
