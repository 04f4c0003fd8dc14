#!/usr/bin/env bash
# Builds bench/bench_text.c against the library and runs it RUNS times for each k, one at a
# time under the shared bench lock; prints every run and the medians.
#   bench/bench_text.sh [build-dir] [k ...]      (defaults: build, 64 128; RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
ks=${*:-64 128}
runs=${RUNS:-3}
make build BUILD="$build" JOBS=2 >/dev/null
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Isrc -I/usr/include/x86_64-linux-gnu/openblas-pthread \
   bench/bench_text.c "$build/libhmrec_lib.a" -o "$build/bench_text" \
   -lopenblas -llapacke -lz -ljpeg -lpthread -lm
# OPENBLAS_CORETYPE: bench_text sets it and re-executes itself when this CPU needs it.
for k in $ks; do
    out="$build/bench_text_k$k.txt"
    : >"$out"
    for i in $(seq "$runs"); do
        flock /tmp/hmrec-bench.lock "$build/bench_text" "$k" 1 | tee -a "$out"
    done
    # medians of the timed fields
    for key in tfidf_s svd_s users_s top50_s peak_rss_mib; do
        grep -o "$key=[0-9.]*" "$out" | cut -d= -f2 | sort -n |
            awk -v k="$k" -v key="$key" '{v[NR]=$1} END {printf "median k=%s %s=%s\n", k, key, v[int((NR+1)/2)]}'
    done
done
