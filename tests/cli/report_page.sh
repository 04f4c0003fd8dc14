#!/usr/bin/env bash
# The report of a real run (the tiny preset with its article images, so thumbnails appear):
# report.html is well-formed, renders in headless Chromium without a console message, every
# chart is in the rendered DOM and readable (the checks of lib/report_check.bash), the
# example customers' thumbnails decode, and a screenshot is saved; report.txt has the same
# sections.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
command -v chromium >/dev/null || { echo "chromium is not installed (scripts/install-deps.sh installs it)"; exit 1; }
command -v xmllint >/dev/null || { echo "xmllint is not installed (scripts/install-deps.sh installs libxml2-utils)"; exit 1; }
"$bin" synth --preset tiny --images "$tmp/data" >/dev/null 2>&1
printf '[run]\ndata = %s\nwork = %s\n[prepare]\ntrain_weeks = 3\nusers = 200\n[features]\nimage = %s\n[rank]\nmodels = classifier,map,nn\n' \
  "$tmp/data" "$tmp/work" "$tmp/data/image_embeddings.npy" > "$tmp/run.conf"
"$bin" run --config "$tmp/run.conf" >"$tmp/run.log" 2>&1
page="$tmp/work/report.html"
xmllint --noout "$page"
figures=$(grep -o '<svg xmlns="http://www.w3.org/2000/svg" class="hm-plot"' "$page" | wc -l)
# metrics, recall per strategy and against pool size, two learning curves, importance, time
[ "$figures" -ge 7 ] || { echo "expected at least 7 charts, the report has $figures"; exit 1; }
images=$(grep -o '<img ' "$page" | wc -l)
[ "$images" -ge 10 ] || { echo "expected the example customers' thumbnails, found $images images"; exit 1; }
for s in "Metrics on the validation week" "Candidates" "Learning curves" "Time and memory" "Example customers" "Settings"; do
  grep -q "$s" "$page" || { echo "the page has no section '$s'"; exit 1; }
  grep -q "^$s" "$tmp/work/report.txt" || { echo "report.txt has no section '$s'"; exit 1; }
done
. "$(dirname "$0")/lib/report_check.bash"
inject "$page" "$tmp/checked.html"
browse "$tmp/desktop" 1280,2000 --dump-dom "file://$tmp/checked.html"
v=$(verdict "$tmp/desktop.out")
[ "$v" = "plots=$figures images=$images problems=0" ] || { echo "FAIL: the rendered report has problems: $v"; exit 1; }
browse "$tmp/shot" 1280,4000 --screenshot="$tmp/report.png" "file://$page"
if grep -a 'CONSOLE' "$tmp/shot.err"; then echo "FAIL: console messages"; exit 1; fi
[ "$(head -c 8 "$tmp/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "FAIL: no screenshot"; exit 1; }
rm -rf "$tmp"/profile.* "$tmp"/checked.html
echo "report page ok: $figures charts, $images images, screenshot $tmp/report.png"
