#!/usr/bin/env bash
# Stage 1 + baselines + submission on a store: wall time and peak RSS of `hmrec prepare`,
# `hmrec baseline all` (with the synth oracle row when ORACLE is given) and `hmrec submit` of
# the recent baseline (1.37 M customers on the full preset, gzip). Runs each RUNS times under the bench lock and
# prints the median of each and of their sum.
# usage: bench/bench_stage1.sh BIN STORE [ORACLE_FILE] [RUNS]
set -euo pipefail
bin=$1 store=$2 oracle=${3:-} runs=${4:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" version | grep 'blas kernel'
oracle_opt=()
[ -n "$oracle" ] && oracle_opt=(--oracle "$oracle")
for i in $(seq "$runs"); do
  HMREC_QUIET=1 flock /tmp/hmrec-bench.lock bash -c '
    set -e
    /usr/bin/time -f "prepare %e %M" "$0" prepare --store "$1" --work "$2" > "$2/prepare.txt"
    /usr/bin/time -f "baselines %e %M" "$0" baseline all --store "$1" "${@:3}" > "$2/baselines.txt"
    /usr/bin/time -f "submit %e %M" "$0" submit --store "$1" --work "$2" --set run.submit_model=recent \
      --out "$2/submission.csv.gz" > /dev/null
  ' "$bin" "$store" "$work" "${oracle_opt[@]}" 2>> "$work/times.txt"
done
for stage in prepare baselines submit; do
  grep "^$stage " "$work/times.txt" | sort -k2 -n | awk -v s="$stage" '
    {v[NR] = $2; if ($3 > m) m = $3}
    END {printf "%-10s median %6.2f s over %d runs, peak RSS %6.0f MiB\n", s, v[int((NR + 1) / 2)], NR, m / 1024}'
done | tee "$work/summary.txt"
awk '{t += $3} END {printf "%-10s %6.2f s (sum of medians)\n", "total", t}' "$work/summary.txt"
echo
head -n 7 "$work/baselines.txt"
