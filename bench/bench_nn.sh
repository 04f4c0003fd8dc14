#!/usr/bin/env bash
# Builds bench/bench_nn.c against the library and runs it RUNS times, one at a time under the
# shared bench lock; prints every run, the load average, and the medians.
#   bench/bench_nn.sh [build-dir] [train_rows] [score_rows]   (defaults: build 700000 3000000; RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
train_rows=${2:-700000}
score_rows=${3:-3000000}
runs=${RUNS:-3}
make build BUILD="$build" JOBS=2 >/dev/null
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Isrc -I/usr/include/x86_64-linux-gnu/openblas-pthread \
   bench/bench_nn.c "$build/libhmrec_lib.a" -o "$build/bench_nn" \
   $(pkg-config --libs xgboost openblas libpng) -llapacke -lz -ljpeg -lpthread -lm
# OPENBLAS_CORETYPE: bench_nn sets it and re-executes itself when this CPU needs it.
out="$build/bench_nn.txt"
: >"$out"
for i in $(seq "$runs"); do
    flock /tmp/hmrec-bench.lock sh -c "echo \"load: \$(cut -d' ' -f1-3 /proc/loadavg)\"; \"$build/bench_nn\" $train_rows $score_rows" | tee -a "$out"
done
for key in sgemm_peak_gflops batch_gemms_openblas_threads_gflops batch_gemms_split_gflops epoch_s train_gflops share_of_peak setup_s articles_s rows_s rows_per_s full_200m_s peak_rss_mib; do
    grep -o " $key=[0-9.]*" "$out" | cut -d= -f2 | sort -n |
        awk -v key="$key" '{v[NR]=$1} END {printf "median %s=%s (of %d)\n", key, v[int((NR+1)/2)], NR}'
done
