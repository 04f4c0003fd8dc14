#!/usr/bin/env bash
# End to end on the tiny preset: (1) the boosted models' fallback to XGBoost when a compiled
# forest differs (HMREC_FAULT=forest takes every forest as different) gives the same bytes as
# the compiled forests; (2) no model scores constantly: a model whose scores were all equal
# would rank every customer's candidates in the pool's own order, so its validation metrics
# would equal that order's, which this computes from the validation week's exported pool.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
. "$(dirname "$0")/lib/runstate.bash"
conf() { printf '[run]\ndata = %s\nwork = %s\n[prepare]\ntrain_weeks = 3\nusers = 200\n' "$tmp/data" "$1"; }

conf "$tmp/forest" > "$tmp/forest.conf"
HMREC_DEBUG=1 "$bin" run --config "$tmp/forest.conf" > "$tmp/forest.log" 2>&1
conf "$tmp/xgb" > "$tmp/xgb.conf"
HMREC_FAULT=forest HMREC_DEBUG=1 "$bin" run --config "$tmp/xgb.conf" > "$tmp/xgb.log" 2>&1
# every boosted model took the forest in one run and XGBoost in the other
for m in classifier ndcg map xendcg deep; do
  grep -q "gbm: the $m model's .* predict through the compiled forest" "$tmp/forest.log" ||
    { echo "$m: no compiled forest"; exit 1; }
  grep -q "gbm: the $m model's .* predict through XGBoost (the forest differed)" "$tmp/xgb.log" ||
    { echo "$m: no fallback"; exit 1; }
done
if grep -q 'predict through the compiled forest' "$tmp/xgb.log"; then echo "a forest was used"; exit 1; fi
sums "$tmp/forest" > "$tmp/forest.sums"
sums "$tmp/xgb" > "$tmp/xgb.sums"
diff "$tmp/forest.sums" "$tmp/xgb.sums" || { echo "the fallback to XGBoost changed the outputs"; exit 1; }

# the pool's own order: each buyer's first 12 candidates of the validation week
w=$tmp/forest
"$bin" features --config "$tmp/forest.conf" --week val --out "$tmp/pool.csv" --users 100000 >/dev/null 2>&1
awk -F, 'NR > 1 { if (n[$1] < 12) { p[$1] = p[$1] (n[$1] ? " " : "") $2; n[$1]++ } if (!($1 in o)) { o[$1] = ++k; c[k] = $1 } }
         END { print "customer_id,prediction"; for (i = 1; i <= k; i++) print c[i] "," p[c[i]] }' "$tmp/pool.csv" > "$tmp/order.csv"
buyers=$(awk 'NR == 1 { print $(NF - 2) }' "$w/metrics.txt")
[ "$(($(wc -l < "$tmp/order.csv") - 1))" -eq "$buyers" ] || { echo "the export has not every buyer"; exit 1; }
end=$(awk 'NR == 1 { split($3, d, "[.][.]"); sub(":", "", d[2]); print d[2] }' "$w/metrics.txt")
order=$("$bin" evaluate --store "$w/store" --pred "$tmp/order.csv" --week-end "$end" | awk 'NR == 3 { print $3, $4, $5, $6 }')
[ -n "$order" ]
# MAP@12, P@12, R@12 and NDCG@12 of each model against the pool's order
n=0
for m in classifier ndcg map xendcg deep nn; do
  got=$(awk -v m="$m" '$1 == m { print $3, $6, $7, $8; exit }' "$w/metrics.txt")
  [ -n "$got" ] || { echo "$m: not in metrics.txt"; exit 1; }
  [ "$got" != "$order" ] || { echo "$m ranks exactly as the pool's order ($got): constant scores?"; exit 1; }
  n=$((n + 1))
done
echo "model checks ok (5 boosted models through XGBoost: the same bytes; $n models differ from the pool's order $order)"
