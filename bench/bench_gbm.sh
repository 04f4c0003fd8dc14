#!/usr/bin/env bash
# Builds bench/bench_gbm.c against the library and runs it RUNS times, one at a time under the
# shared bench lock; prints every run and the medians per model.
#   bench/bench_gbm.sh [build-dir] [rows] [rounds] [kind ...]
#       (defaults: build, 2000000 rows, 100 rounds, every kind; RUNS=3)
# XGBoost's OpenMP threads wait passively (OMP_WAIT_POLICY=passive) unless the caller sets a
# policy: on a machine shared with other jobs, spinning threads slow training by 10x or more.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rows=${2:-2000000}
rounds=${3:-100}
shift 3 2>/dev/null || shift $#
kinds=${*:-}
runs=${RUNS:-3}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
make build BUILD="$build" JOBS=2 >/dev/null
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Isrc bench/bench_gbm.c "$build/libhmrec_lib.a" \
   -o "$build/bench_gbm" $(pkg-config --libs xgboost openblas) -llapacke -lpng -lz -ljpeg -lpthread -lm
out="$build/bench_gbm.txt"
: >"$out"
for i in $(seq "$runs"); do
    echo "run $i: $(uptime)" | tee -a "$out"
    # shellcheck disable=SC2086
    flock /tmp/hmrec-bench.lock nice -n 10 "$build/bench_gbm" "$rows" "$rounds" $kinds | tee -a "$out"
done
# medians per model
for m in $(grep -o "^model=[a-z]*" "$out" | sort -u | cut -d= -f2); do
    for key in train_s per_round_s xgb_s alone_s outside_share predict_rows_per_s map12; do
        grep "^model=$m " "$out" | grep -o " $key=[0-9.e+-]*" | cut -d= -f2 | sort -g |
            awk -v m="$m" -v key="$key" '{v[NR]=$1} END {printf "median model=%s %s=%s (of %d)\n", m, key, v[int((NR+1)/2)], NR}'
    done
done
grep -o "outside_share=[0-9.]*" "$out" >/dev/null
grep "^total_s" "$out" | grep -o "outside_share=[0-9.]*" | cut -d= -f2 | sort -g |
    awk '{v[NR]=$1} END {printf "median overall outside_share=%s\n", v[int((NR+1)/2)]}'
