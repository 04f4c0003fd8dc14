/* The report page as one self-contained HTML document: inline CSS (readable type, a
 * responsive column, print rules), no script, SVG inline, images as data: URIs. The
 * output is also well-formed XML, so xmllint can check it. */
#include "eval/page_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The style sheet: a single readable column, tables that scroll on small screens,
 * tabular figures, key-figure cards, tiles, and print rules (no breaks inside figures,
 * tables and cards; the shading of highlighted rows and bars kept). */
static const char page_css[] =
    ":root{--ink:#1d2330;--muted:#5b6474;--rule:#e2e5ea;--soft:#f5f6f8;--accent:#0072b2;"
    "--hl:#fff1c7;--bar:#cde2f2;--ok:#009e73}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
    "body{margin:0;background:#fff;color:var(--ink);font:16px/1.55 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,'DejaVu Sans',sans-serif}\n"
    "main{max-width:60rem;margin:0 auto;padding:2.5rem 1.25rem 4rem}\n"
    "h1{font-size:2rem;line-height:1.2;margin:0 0 .35rem;letter-spacing:-.01em}\n"
    ".subtitle{color:var(--muted);margin:0 0 1.75rem}\n"
    "h2{font-size:1.45rem;line-height:1.3;margin:2.75rem 0 .8rem;padding-bottom:.35rem;"
    "border-bottom:1px solid var(--rule)}\n"
    "h3{font-size:1.12rem;margin:1.9rem 0 .5rem}\n"
    "h2 a.anchor,h3 a.anchor{color:#b8bec8;text-decoration:none;margin-left:.4rem;"
    "font-weight:400;visibility:hidden}\n"
    "h2:hover a.anchor,h3:hover a.anchor{visibility:visible}\n"
    "p{margin:.8rem 0;max-width:46rem}\n"
    "a{color:var(--accent)}\n"
    "pre{background:var(--soft);border:1px solid var(--rule);border-radius:6px;padding:.75rem 1rem;"
    "overflow-x:auto;font:13px/1.45 ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace}\n"
    "nav.toc{background:var(--soft);border:1px solid var(--rule);border-radius:8px;"
    "padding:.8rem 1.2rem;margin:1.5rem 0;max-width:34rem}\n"
    "nav.toc .toc-title{font-weight:600;margin:0 0 .3rem}\n"
    "nav.toc ol{margin:0;padding-left:1.3rem}\n"
    "nav.toc ol ol{list-style:none;padding-left:.9rem;font-size:.92em}\n"
    "nav.toc li{margin:.15rem 0}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.75rem;"
    "margin:1.25rem 0 1.75rem}\n"
    ".card{border:1px solid var(--rule);border-radius:10px;padding:.8rem 1rem;background:var(--soft)}\n"
    ".card .label{font-size:.78rem;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}\n"
    ".card .value{font-size:clamp(1.15rem,4.6vw,1.5rem);font-weight:650;line-height:1.25;"
    "margin:.15rem 0;font-variant-numeric:tabular-nums;overflow-wrap:break-word}\n"
    ".card .value.long{font-size:clamp(1rem,4vw,1.2rem);line-height:1.5}\n"
    ".card .value.nw{white-space:nowrap}\n"
    ".card .note{font-size:.86rem;color:var(--muted);line-height:1.35}\n"
    ".tw{overflow-x:auto;margin:1.1rem 0 1.5rem}\n"
    "table{border-collapse:collapse;font-size:.9rem;font-variant-numeric:tabular-nums}\n"
    "caption{caption-side:top;text-align:left;padding:0 0 .45rem;color:var(--muted)}\n"
    "caption b,figcaption b{color:var(--ink)}\n"
    "th,td{padding:.38rem .65rem;border-bottom:1px solid var(--rule);text-align:left;"
    "vertical-align:top;white-space:nowrap}\n"
    "thead th{border-bottom:2px solid #c4c9d2;font-weight:600;vertical-align:bottom}\n"
    "th.num,td.num{text-align:right}\n"
    "tbody tr:hover td{background-color:#f7f8fa}\n"
    "tr.hl td,tbody tr.hl:hover td{background-color:var(--hl);font-weight:600}\n"
    "td.bar{background-image:linear-gradient(90deg,var(--bar) var(--p),transparent var(--p));"
    "background-repeat:no-repeat;background-size:100% 64%;background-position:0 50%;min-width:8rem}\n"
    "figure{margin:1.75rem 0}\n"
    "figure.plot .scroll{overflow-x:auto}\n"
    "figure svg,figure img.picture{display:block;width:100%;max-width:760px;height:auto}\n"
    "figure svg{min-width:540px}\n"
    "figcaption{color:var(--muted);font-size:.9rem;margin-top:.45rem;max-width:46rem}\n"
    ".tiles-caption{font-weight:600;margin:1.1rem 0 .45rem}\n"
    ".tiles-caption span{font-weight:400;color:var(--muted)}\n"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.2rem,1fr));gap:.6rem;"
    "margin:0 0 1rem}\n"
    ".tile{position:relative;border:1px solid var(--rule);border-radius:8px;padding:.4rem;"
    "font-size:.8rem;line-height:1.3;background:#fff}\n"
    ".tile img,.tile .noimg{display:block;width:100%;aspect-ratio:3/4;object-fit:cover;"
    "border-radius:5px;background:var(--soft)}\n"
    ".tile .noimg{display:flex;align-items:center;justify-content:center;color:#9aa1ad;"
    "font-size:.75rem}\n"
    ".tile .t{font-weight:600;margin-top:.35rem;overflow-wrap:anywhere}\n"
    ".tile .n{color:var(--muted);overflow-wrap:anywhere}\n"
    ".tile.marked{border:2px solid var(--ok);padding:calc(.4rem - 1px)}\n"
    ".tile .mark{position:absolute;top:.55rem;left:.55rem;background:var(--ok);color:#fff;"
    "font-size:.7rem;font-weight:600;padding:.05rem .4rem;border-radius:4px}\n"
    "@media (max-width:40rem){main{padding:1.25rem .8rem 3rem}h1{font-size:1.6rem}"
    "h2{font-size:1.25rem}}\n"
    "@media print{body{font-size:10.5pt}main{max-width:none;padding:0}a{color:inherit;"
    "text-decoration:none}h2 a.anchor,h3 a.anchor{display:none}.tw,figure.plot .scroll{overflow:visible}"
    "figure svg{min-width:0}"
    "figure,table,.card,.tile,pre{break-inside:avoid}h2,h3,.tiles-caption{break-after:avoid}"
    "tr.hl td,td.bar,.card,nav.toc,.tile .mark{-webkit-print-color-adjust:exact;"
    "print-color-adjust:exact}}\n";

/* ---- blocks ---------------------------------------------------------------------------------- */

static void put_heading(struct hm_buf *b, const struct eval_block *k)
{
    hm_buf_printf(b, "<h%d id=\"", k->level);
    eval_escape(b, k->id);
    hm_buf_puts(b, "\">");
    eval_escape(b, k->text);
    hm_buf_puts(b, "<a class=\"anchor\" href=\"#");
    eval_escape(b, k->id);
    hm_buf_printf(b, "\" aria-label=\"link to this section\">#</a></h%d>\n", k->level);
}

static void put_toc(struct hm_buf *b, const struct eval_page *p)
{
    hm_buf_puts(b, "<nav class=\"toc\" aria-label=\"contents\"><p class=\"toc-title\">Contents</p>\n<ol>");
    int open_li = 0, open_sub = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct eval_block *k = &p->blocks[i];
        if (k->kind != PB_HEADING)
            continue;
        if (k->level == 2) {
            if (open_sub)
                hm_buf_puts(b, "</ol>");
            if (open_li)
                hm_buf_puts(b, "</li>\n");
            open_sub = 0;
            open_li = 1;
            hm_buf_puts(b, "<li>");
        } else {
            if (!open_li) { /* a subsection before any section */
                hm_buf_puts(b, "<li>");
                open_li = 1;
            }
            if (!open_sub)
                hm_buf_puts(b, "<ol>");
            open_sub = 1;
            hm_buf_puts(b, "<li>");
        }
        hm_buf_puts(b, "<a href=\"#");
        eval_escape(b, k->id);
        hm_buf_puts(b, "\">");
        eval_escape(b, k->text);
        hm_buf_puts(b, "</a>");
        if (k->level == 3)
            hm_buf_puts(b, "</li>");
    }
    if (open_sub)
        hm_buf_puts(b, "</ol>");
    if (open_li)
        hm_buf_puts(b, "</li>");
    hm_buf_puts(b, "</ol></nav>\n");
}

static void put_cards(struct hm_buf *b, const struct eval_block *k)
{
    hm_buf_puts(b, "<div class=\"cards\">\n");
    for (size_t i = 0; i < k->n_rows; i++) {
        hm_buf_puts(b, "<div class=\"card\"><div class=\"label\">");
        eval_escape(b, k->cells[i * 3]);
        /* a value reads on one line ("14 min 05 s" not "14 min 05 / s"): longer ones smaller */
        size_t len = page_text_len(k->cells[i * 3 + 1]);
        hm_buf_printf(b, "</div><div class=\"value%s%s\">", len > 8 ? " long" : "", len <= 16 ? " nw" : "");
        eval_escape(b, k->cells[i * 3 + 1]);
        hm_buf_puts(b, "</div>");
        if (k->cells[i * 3 + 2]) {
            hm_buf_puts(b, "<div class=\"note\">");
            eval_escape(b, k->cells[i * 3 + 2]);
            hm_buf_puts(b, "</div>");
        }
        hm_buf_puts(b, "</div>\n");
    }
    hm_buf_puts(b, "</div>\n");
}

static void put_table(struct hm_buf *b, const struct eval_block *k)
{
    hm_buf_printf(b, "<div class=\"tw\"><table id=\"%s\">\n", k->id);
    if (k->text) {
        hm_buf_printf(b, "<caption><b>Table %d.</b> ", k->number);
        eval_escape(b, k->text);
        hm_buf_puts(b, "</caption>\n");
    }
    hm_buf_puts(b, "<thead><tr>");
    for (size_t c = 0; c < k->n_cols; c++) {
        hm_buf_printf(b, "<th scope=\"col\"%s>", k->align[c] == 'r' ? " class=\"num\"" : "");
        eval_escape(b, k->cells[c]);
        hm_buf_puts(b, "</th>");
    }
    hm_buf_puts(b, "</tr></thead>\n<tbody>\n");
    for (size_t r = 0; r < k->n_rows; r++) {
        hm_buf_puts(b, k->highlight[r] ? "<tr class=\"hl\">" : "<tr>");
        for (size_t c = 0; c < k->n_cols; c++) {
            int has_bar = k->bar && c == k->bar_col && isfinite(k->bar[r]);
            const char *cls = k->align[c] == 'r' ? (has_bar ? "num bar" : "num") : (has_bar ? "bar" : NULL);
            hm_buf_puts(b, "<td");
            if (cls)
                hm_buf_printf(b, " class=\"%s\"", cls);
            if (has_bar)
                hm_buf_printf(b, " style=\"--p:%.1f%%\"", 100.0 * fmin(fmax(k->bar[r], 0), 1));
            hm_buf_puts(b, ">");
            eval_escape(b, k->cells[(r + 1) * k->n_cols + c]);
            hm_buf_puts(b, "</td>");
        }
        hm_buf_puts(b, "</tr>\n");
    }
    hm_buf_puts(b, "</tbody></table></div>\n");
}

static void put_figure(struct hm_buf *b, const struct eval_block *k)
{
    hm_buf_printf(b, "<figure id=\"%s\" class=\"plot\">\n", k->id);
    hm_buf_puts(b, "<div class=\"scroll\">");
    hm_buf_puts(b, k->svg);
    hm_buf_puts(b, "</div>\n");
    if (k->text) {
        hm_buf_printf(b, "<figcaption><b>Figure %d.</b> ", k->number);
        eval_escape(b, k->text);
        hm_buf_puts(b, "</figcaption>\n");
    }
    hm_buf_puts(b, "</figure>\n");
}

static void put_image(struct hm_buf *b, const struct eval_block *k)
{
    hm_buf_puts(b, "<figure><img class=\"picture\" src=\"");
    hm_buf_puts(b, k->uri); /* base64 and a fixed prefix: nothing to escape */
    hm_buf_puts(b, "\" alt=\"");
    eval_escape(b, k->alt);
    hm_buf_puts(b, "\"/>");
    if (k->text) {
        hm_buf_puts(b, "<figcaption>");
        eval_escape(b, k->text);
        hm_buf_puts(b, "</figcaption>");
    }
    hm_buf_puts(b, "</figure>\n");
}

static void put_tiles(struct hm_buf *b, const struct eval_block *k)
{
    if (k->text) {
        hm_buf_puts(b, "<p class=\"tiles-caption\">");
        eval_escape(b, k->text);
        size_t marked = 0;
        for (size_t i = 0; i < k->n_tiles; i++)
            marked += k->tiles[i].marked != 0;
        if (k->alt && marked) {
            hm_buf_printf(b, " <span>(%zu ", marked);
            eval_escape(b, k->alt);
            hm_buf_puts(b, ")</span>");
        }
        hm_buf_puts(b, "</p>\n");
    }
    hm_buf_puts(b, "<div class=\"tiles\">\n");
    for (size_t i = 0; i < k->n_tiles; i++) {
        const struct page_tile *t = &k->tiles[i];
        hm_buf_puts(b, t->marked ? "<div class=\"tile marked\">" : "<div class=\"tile\">");
        if (t->uri) {
            hm_buf_printf(b, "<img src=\"%s\" alt=\"", t->uri);
            eval_escape(b, t->title);
            hm_buf_puts(b, "\"/>");
        } else
            hm_buf_puts(b, "<div class=\"noimg\">no image</div>");
        if (t->marked) {
            hm_buf_puts(b, "<span class=\"mark\">\xE2\x9C\x93 ");
            eval_escape(b, k->alt ? k->alt : "");
            hm_buf_puts(b, "</span>");
        }
        hm_buf_puts(b, "<div class=\"t\">");
        eval_escape(b, t->title);
        hm_buf_puts(b, "</div>");
        if (t->note) {
            hm_buf_puts(b, "<div class=\"n\">");
            eval_escape(b, t->note);
            hm_buf_puts(b, "</div>");
        }
        hm_buf_puts(b, "</div>\n");
    }
    hm_buf_puts(b, "</div>\n");
}

/* ---- the document ------------------------------------------------------------------------------ */

char *eval_page_finish(const struct eval_page *p)
{
    struct hm_buf b = {0};
    hm_buf_puts(&b, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
                    "<meta charset=\"utf-8\"/>\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                    "<meta name=\"generator\" content=\"hmrec\"/>\n<title>");
    eval_escape(&b, p->title);
    hm_buf_printf(&b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<h1>", page_css);
    eval_escape(&b, p->title);
    hm_buf_puts(&b, "</h1>\n");
    if (p->subtitle) {
        hm_buf_puts(&b, "<p class=\"subtitle\">");
        eval_escape(&b, p->subtitle);
        hm_buf_puts(&b, "</p>\n");
    }
    for (size_t i = 0; i < p->n; i++) {
        const struct eval_block *k = &p->blocks[i];
        switch (k->kind) {
        case PB_HEADING: put_heading(&b, k); break;
        case PB_PARA:
            hm_buf_puts(&b, "<p>");
            eval_escape(&b, k->text);
            hm_buf_puts(&b, "</p>\n");
            break;
        case PB_PRE:
            hm_buf_puts(&b, "<pre>");
            eval_escape(&b, k->text);
            hm_buf_puts(&b, "</pre>\n");
            break;
        case PB_TOC: put_toc(&b, p); break;
        case PB_CARDS: put_cards(&b, k); break;
        case PB_TABLE: put_table(&b, k); break;
        case PB_FIGURE: put_figure(&b, k); break;
        case PB_IMAGE: put_image(&b, k); break;
        case PB_TILES: put_tiles(&b, k); break;
        }
    }
    hm_buf_puts(&b, "</main>\n</body>\n</html>\n");
    return hm_buf_take(&b);
}

int eval_page_write(const struct eval_page *p, const char *path)
{
    char *doc = eval_page_finish(p);
    struct hm_awriter w;
    int rc = hm_awriter_open(&w, path);
    if (rc == 0) {
        rc = hm_awriter_write(&w, doc, strlen(doc));
        rc = rc < 0 ? (hm_awriter_abort(&w), rc) : hm_awriter_commit(&w);
    }
    free(doc);
    return rc;
}
