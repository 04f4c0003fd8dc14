#!/usr/bin/env bash
# hmrec evaluate says what it could not score instead of a silent low score: a file with no
# rows, a last line cut off without its newline, articles and customers the store does not
# know, buyers without a prediction row.
set -euo pipefail
bin=$1
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
"$bin" synth --preset tiny "$tmp/data" >/dev/null 2>&1
"$bin" ingest --data "$tmp/data" --out "$tmp/store" >/dev/null 2>&1
# the oracle of the last data week (not the held-out week after it)
oracle=$tmp/data/oracle/week_$(awk -F'\t' '$8=="data"{d=$1} END{print d}' "$tmp/data/oracle/summary.tsv")_oracle.csv
[ -f "$oracle" ]
# the oracle itself: no notes
out=$("$bin" evaluate --store "$tmp/store" --pred "$oracle" 2>&1)
if grep -q warning <<< "$out"; then echo "unexpected warning: $out"; exit 1; fi
# only a header
printf 'customer_id,prediction\n' > "$tmp/empty.csv"
out=$("$bin" evaluate --store "$tmp/store" --pred "$tmp/empty.csv" 2>&1)
grep -q "empty.csv: no prediction rows" <<< "$out"
# cut off in the middle of an article id, and two buyers' rows dropped
{ head -n 4 "$oracle"; sed -n 7p "$oracle" | cut -c 1-88 | tr -d '\n'; } > "$tmp/cut.csv"
out=$("$bin" evaluate --store "$tmp/store" --pred "$tmp/cut.csv" 2>&1)
grep -q "cut.csv:5: the last line has no newline" <<< "$out"
grep -q "cut.csv: 1 predictions name articles the store does not know" <<< "$out"
grep -q "buyers of the week have no prediction row" <<< "$out"
# a customer the store does not know
{ cat "$oracle"; printf '%064d,0108775015\n' 7; } > "$tmp/stranger.csv"
out=$("$bin" evaluate --store "$tmp/store" --pred "$tmp/stranger.csv" 2>&1)
grep -q "stranger.csv: 1 of .* rows name customers the store does not know" <<< "$out"
# a truth file (--truth): a stranger among the buyers and an unknown article are said; a
# buyer twice, or a file that is not a purchases list, is an error naming the line
truth=$tmp/data/oracle/week_2020-09-23_truth.csv
{ cat "$truth"; printf '%064d,0108775015\n' 7; } > "$tmp/t1.csv"
sed -i '2s/ [0-9]\{10\}$/ 0000000001/; 2s/,[0-9]\{10\}$/,0000000001/' "$tmp/t1.csv"
out=$("$bin" evaluate --store "$tmp/store" --pred "$oracle" --truth "$tmp/t1.csv" 2>&1)
grep -q "t1.csv: 1 buyers are customers the store does not know" <<< "$out"
grep -q "t1.csv: 1 purchases are of articles the store does not know" <<< "$out"
{ cat "$truth"; sed -n 2p "$truth"; } > "$tmp/t2.csv"
set +e
out=$("$bin" evaluate --store "$tmp/store" --pred "$oracle" --truth "$tmp/t2.csv" 2>&1)
rc=$?
out2=$("$bin" evaluate --store "$tmp/store" --pred "$oracle" --truth "$oracle" 2>&1)
rc2=$?
set -e
[ "$rc" -eq 1 ] && [ "$rc2" -eq 1 ]
grep -q "t2.csv:$(($(wc -l < "$truth") + 1)): customer .* appears twice" <<< "$out"
grep -q 'expected header "customer_id,purchases", found "customer_id,prediction"' <<< "$out2"
echo "evaluate notes ok"
