#!/usr/bin/env bash
# Benchmarks `hmrec synth --preset full`: wall time and peak RSS (GNU time -v), the median
# of RUNS runs, then `hmrec synth --check` on the last output. Big outputs go to OUT.
#   bench/bench_synth.sh [hmrec-binary] [out-dir] [runs]
# Runs under flock /tmp/hmrec-bench.lock so benchmarks on a shared machine do not overlap.
set -euo pipefail
bin=${1:-build/hmrec}
out=${2:-/work/data/synth/bench}
runs=${3:-3}
preset=${PRESET:-full}
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)"; exit 1; }
mkdir -p "$out"
walls=() rss=()
for i in $(seq 1 "$runs"); do
    rm -rf "$out/data"
    log="$out/run$i.log"
    flock /tmp/hmrec-bench.lock /usr/bin/time -v "$bin" synth --preset "$preset" "$out/data" > "$log" 2>&1
    w=$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    r=$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')
    walls+=("$w") rss+=("$r")
    echo "run $i: wall ${w} s, peak RSS $((r / 1024)) MiB ($(grep -c . "$out/data/transactions_train.csv") lines)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "preset $preset, threads ${HMREC_THREADS:-$(nproc)}, $runs runs: median wall $(median "${walls[@]}") s," \
     "median peak RSS $(( $(median "${rss[@]}" | cut -d. -f1) / 1024 )) MiB"
"$bin" synth --check "$out/data" | tail -25
