#!/usr/bin/env bash
# The sample report (written by `test_report --sample-page`) in headless Chromium: it is
# well-formed (xmllint), renders without a console message, every figure is in the rendered
# DOM, every text of every chart lies inside its chart and overlaps no other text, every
# image decodes, no key figure overflows its card and nothing overflows the page at phone
# width; a screenshot at 1280 px is saved as report.png next to the page. A broken copy of
# the page proves the checks can fail.
set -euo pipefail
bin=$1
tmp=$2
test_report="$(dirname "$bin")/test_report"
rm -rf "$tmp"
mkdir -p "$tmp"
command -v chromium >/dev/null || { echo "chromium is not installed (scripts/install-deps.sh installs it)"; exit 1; }
command -v xmllint >/dev/null || { echo "xmllint is not installed (scripts/install-deps.sh installs libxml2-utils)"; exit 1; }

figures=$(HMREC_TESTS="$PWD" "$test_report" --sample-page "$tmp")
[ "$figures" -ge 8 ] || { echo "expected at least 8 figures, the sample page has $figures"; exit 1; }
xmllint --noout "$tmp/report.html"
plots_in_file=$(grep -o '<svg xmlns="http://www.w3.org/2000/svg" class="hm-plot"' "$tmp/report.html" | wc -l)
[ "$plots_in_file" -eq "$figures" ] || { echo "the page holds $plots_in_file charts, expected $figures"; exit 1; }

. "$(dirname "$0")/lib/report_check.bash"

# 1. the checks, at phone width
inject "$tmp/report.html" "$tmp/checked.html"
browse "$tmp/phone" 390,844 --dump-dom "file://$tmp/checked.html"
v=$(verdict "$tmp/phone.out")
echo "phone width: $v"
images=$(grep -o '<img ' "$tmp/report.html" | wc -l)
[ "$v" = "plots=$figures images=$images problems=0" ] || { echo "FAIL: the rendered page has problems"; exit 1; }
if grep -a 'CONSOLE' "$tmp/phone.err"; then echo "FAIL: console messages (the page itself has no script)"; exit 1; fi

# 2. the report itself at desktop width: the same checks by dumping, then a screenshot
browse "$tmp/desktop" 1280,2000 --dump-dom "file://$tmp/checked.html"
v=$(verdict "$tmp/desktop.out")
echo "desktop width: $v"
[ "$v" = "plots=$figures images=$images problems=0" ] || { echo "FAIL: the rendered page has problems"; exit 1; }
browse "$tmp/shot" 1280,2000 --screenshot="$tmp/report.png" "file://$tmp/report.html"
if grep -a 'CONSOLE' "$tmp/shot.err"; then echo "FAIL: console messages"; exit 1; fi
[ -s "$tmp/report.png" ] || { echo "FAIL: no screenshot"; exit 1; }
[ "$(head -c 8 "$tmp/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "FAIL: the screenshot is not a PNG"; exit 1; }

# 3. the checks can fail: a chart text moved out of its chart, one overlapping another, an
#    image that does not decode, a key figure too wide for its card and a console message
#    are all reported
sed -e '0,/<text x="320" y="24"/s//<text x="900" y="24"/' \
    -e 's|<div class="value nw">0.0312</div>|<div class="value nw">WWWWWWWWWWWWWWWW</div>|' \
    -e '0,/<img src="data:image\/jpeg;base64,/s//<img src="data:image\/jpeg;base64,AAAA/' \
    -e 's|</main>|<svg xmlns="http://www.w3.org/2000/svg" class="hm-plot" viewBox="0 0 640 200" width="640" height="200"><text x="50" y="50">one</text><text x="52" y="52">two</text></svg><script>console.error("planted")</script></main>|' \
    "$tmp/report.html" > "$tmp/broken_src.html"
inject "$tmp/broken_src.html" "$tmp/broken.html"
browse "$tmp/broken" 1280,2000 --dump-dom "file://$tmp/broken.html"
v=$(verdict "$tmp/broken.out")
grep -q 'runs out of the chart' <<< "$v" || { echo "FAIL: a text outside its chart went unnoticed: $v"; exit 1; }
grep -q '"one" overlaps "two"' <<< "$v" || { echo "FAIL: overlapping texts went unnoticed: $v"; exit 1; }
grep -q 'an image does not decode' <<< "$v" || { echo "FAIL: a broken image went unnoticed: $v"; exit 1; }
grep -q 'WWWWWWWWWWWWWWWW" overflows its card' <<< "$v" || { echo "FAIL: an overflowing card went unnoticed: $v"; exit 1; }
grep -aq 'CONSOLE.*planted' "$tmp/broken.err" || { echo "FAIL: a console message went unnoticed"; exit 1; }

rm -rf "$tmp"/profile.* "$tmp"/broken* "$tmp"/checked.html
echo "report renders: $figures figures, $images images, screenshot $tmp/report.png"
