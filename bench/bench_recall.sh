#!/usr/bin/env bash
# Candidate generation for every customer of a full-size store: wall time and peak RSS of
# `hmrec candidates --users all` (all strategies; and only repurchase + popularity +
# co-purchase), and in the same run bench/recall_pandas.py (pandas: repurchase + popularity +
# co-purchase) on a 10% customer sample of the same store; speed ratio per customer.
# Every timed command runs under the shared bench lock; RUNS runs each, medians reported.
#   bench/bench_recall.sh [store] [build-dir]   (defaults: /work/data/prep_store_full, build; RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
store=${1:-/work/data/prep_store_full}
build=${2:-build}
runs=${RUNS:-3}
share=${SHARE:-0.1}
lock=/tmp/hmrec-bench.lock
make build BUILD="$build" JOBS=2 >/dev/null
out=$(mktemp -d /tmp/bench_recall.XXXXXX)
trap 'rm -rf "$out"' EXIT
bin="$build/hmrec"
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

run_c() { # label, extra args...
    local label=$1
    shift
    for i in $(seq "$runs"); do
        flock "$lock" /usr/bin/time -f "time_wall=%e time_rss_kib=%M" \
            "$bin" candidates --store "$store" --work "$out/work" --users all --no-write --stats "$@" \
            >"$out/$label.$i.txt" 2>"$out/$label.$i.err"
        tail -1 "$out/$label.$i.err" >>"$out/$label.$i.txt"
        grep -E "^candidates: (strategies|.*in all)|^time_" "$out/$label.$i.txt" | sed "s/^/[$label run $i] /"
    done
    for key in time_wall time_rss_kib; do
        grep -ho "$key=[0-9.]*" "$out/$label".*.txt | cut -d= -f2 | median >"$out/$label.$key"
    done
}

echo "== hmrec candidates, every customer, all strategies ($store)"
run_c all
cat "$out/all.1.txt" | sed -n '/^candidate recall/,/^recall at/p'
echo "== hmrec candidates, every customer, repurchase + popularity + co-purchase only,"
echo "   with the pandas script's parameters (8-week window, tau 30 days, 20 query items)"
run_c three --set recall.knn_n=0 --set recall.cat_n=0 --set recall.text_n=0 \
    --set recall.window_weeks=8 --set recall.tau=30 --set recall.query_items=20
echo "== pandas (bench/recall_pandas.py), $share of the customers, same three strategies"
for i in $(seq "$runs"); do
    flock "$lock" /usr/bin/time -f "time_wall=%e time_rss_kib=%M" \
        /usr/bin/python3 bench/recall_pandas.py "$store" "$share" >"$out/pandas.$i.txt" 2>&1
    sed "s/^/[pandas run $i] /" "$out/pandas.$i.txt"
done
for key in compute_s load_s us_per_customer time_wall time_rss_kib customers; do
    grep -ho "$key=[0-9.]*" "$out"/pandas.*.txt | cut -d= -f2 | median >"$out/pandas.$key"
done
n_all=$(grep -o "customers [0-9]*" "$out/all.1.txt" | head -1 | awk '{print $2}')
awk -v n="$n_all" -v aw="$(cat "$out/all.time_wall")" -v ar="$(cat "$out/all.time_rss_kib")" \
    -v tw="$(cat "$out/three.time_wall")" -v tr="$(cat "$out/three.time_rss_kib")" \
    -v pc="$(cat "$out/pandas.compute_s")" -v pl="$(cat "$out/pandas.load_s")" \
    -v pw="$(cat "$out/pandas.time_wall")" -v pr="$(cat "$out/pandas.time_rss_kib")" \
    -v pn="$(cat "$out/pandas.customers")" 'BEGIN {
    printf "\nmedians of %s runs\n", "'"$runs"'"
    printf "%-44s %10s %12s %14s\n", "", "wall s", "peak RSS MiB", "us/customer"
    printf "%-44s %10.1f %12.0f %14.1f\n", "C, all strategies, " n " customers", aw, ar / 1024, 1e6 * aw / n
    printf "%-44s %10.1f %12.0f %14.1f\n", "C, 3 strategies, " n " customers", tw, tr / 1024, 1e6 * tw / n
    printf "%-44s %10.1f %12.0f %14.1f\n", "pandas, 3 strategies, " pn " customers (compute)", pc, pr / 1024, 1e6 * pc / pn
    printf "%-44s %10.1f %12s %14.1f\n", "pandas, the same incl. loading the columns", pw, "", 1e6 * pw / pn
    printf "speed ratio per customer (pandas compute / C 3 strategies, whole process): %.1fx\n", (pc / pn) / (tw / n)
    printf "speed ratio per customer (pandas compute / C all 6 strategies):            %.1fx\n", (pc / pn) / (aw / n)
}'
