#!/usr/bin/env bash
# Stage 3 (features) benchmark: builds bench/bench_features.c against the library and runs
#   train  the reference profile's training set (50,000 sampled customers' buyers over 11
#          training weeks, pool 150): candidates then features per week, stacked in memory
#   all    every customer's candidates at the submission cutoff, streamed in blocks:
#          candidates, then features (timed apart), discarded
# RUNS times each (default 3), one at a time under the shared bench lock, and prints every
# run, the medians and the load average before each run.
#   bench/bench_features.sh [data-dir] [build-dir]    (defaults: /tmp/feat/full, build)
# data-dir must hold store/ (hmrec ingest) and image_embeddings.npy (hmrec synth); when it
# has neither, the full synthetic preset is generated and ingested there first (~1.5 GiB,
# about 2 minutes). MODES="train all" and RUNS=3 choose what runs.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-/tmp/feat/full}
build=${2:-build}
runs=${RUNS:-3}
modes=${MODES:-train all}
lock=/tmp/hmrec-bench.lock
make build BUILD="$build" JOBS=2 >/dev/null
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Isrc -I/usr/include/x86_64-linux-gnu/openblas-pthread \
   bench/bench_features.c "$build/libhmrec_lib.a" -o "$build/bench_features" \
   -lopenblas -llapacke -lxgboost -lpng -lz -ljpeg -lpthread -lm
if [ ! -d "$data/store" ]; then
    if [ ! -f "$data/transactions_train.csv" ]; then
        echo "== generating the full synthetic preset into $data"
        nice -n 10 "$build/hmrec" synth --preset full "$data"
    fi
    echo "== ingesting $data"
    nice -n 10 "$build/hmrec" ingest --data "$data" --out "$data/store"
fi
"$build/bench_features" text "$data/store" >/dev/null   # the text stage's embeddings (untimed)
image=$data/image_embeddings.npy
[ -f "$image" ] || image=""
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for mode in $modes; do
    out="$build/bench_features_$mode.txt"
    : >"$out"
    for i in $(seq "$runs"); do
        echo "[$mode run $i] $(uptime)" | tee -a "$out"
        flock "$lock" /usr/bin/time -f "time_wall=%e time_rss_kib=%M" \
            "$build/bench_features" "$mode" "$data/store" $image 2>&1 | tee -a "$out" | grep -v "^week="
    done
    for key in features_s features_cpu_s ctx_s candidates_s engine_s total_s feature_rows_per_s peak_rss_mib time_wall; do
        v=$(grep -E "^($mode |time_wall)" "$out" | grep -oE "(^| )$key=[0-9.]*" | cut -d= -f2 | median)
        [ -n "$v" ] && echo "median $mode $key=$v"
    done
done
