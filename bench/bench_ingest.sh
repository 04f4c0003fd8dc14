#!/usr/bin/env bash
# Ingest benchmark: full-size H&M-shaped CSV files (31.8 M transactions, ~3.3 GiB) ->
# `hmrec ingest`, RUNS times; then pandas.read_csv of the same transactions file with
# explicit dtypes, RUNS times. Prints medians, MB/s, peak RSS and the pandas ratio.
#
# usage: bench/bench_ingest.sh [BUILD_DIR]     (env: DATA=/work/data/hm_full RUNS=3)
# The data are generated once by bench/gen_hm.c into $DATA (outside the repository).
# Runs hold /tmp/hmrec-bench.lock so that benchmarks on a shared machine do not overlap.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
bin=$(cd "$build" && pwd)/hmrec
DATA=${DATA:-/work/data/hm_full}
RUNS=${RUNS:-3}
PYTHON=${PYTHON:-/usr/bin/python3}   # Debian's python3 with python3-pandas (not a pyenv shim)
STORE=${STORE:-$DATA.store}
lock=/tmp/hmrec-bench.lock
tx=$DATA/transactions_train.csv

if [ ! -f "$tx" ]; then
  mkdir -p "$DATA"
  cc -O2 -o "$DATA/gen_hm" "$here/gen_hm.c" -lm
  echo "generating $DATA (31,788,324 rows) ..."
  "$DATA/gen_hm" "$DATA"
fi
bytes=$(stat -c %s "$tx")
all_bytes=$(( bytes + $(stat -c %s "$DATA/articles.csv") + $(stat -c %s "$DATA/customers.csv") ))
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $tx, $bytes bytes ($(awk -v b="$bytes" 'BEGIN {printf "%.2f GiB", b/2^30}'))"
cat "$tx" "$DATA/articles.csv" "$DATA/customers.csv" > /dev/null   # warm the page cache

walls=() ; txs=() ; rss=()
for i in $(seq "$RUNS"); do
  rm -rf "$STORE"
  out=$(flock "$lock" /usr/bin/time -f 'RSS %M' env HMREC_QUIET=0 "$bin" ingest --data "$DATA" --out "$STORE" 2>&1) || { echo "$out"; exit 1; }
  w=$(echo "$out" | awk '/^sort\+index/ {for (i=1;i<=NF;i++) if ($i=="total") print $(i+1)}')
  t=$(echo "$out" | awk '$1=="transactions" && $3=="rows" {print $6}')
  r=$(echo "$out" | awk '/^RSS/ {print $2}')
  echo "hmrec run $i: ingest wall $w s, transactions parse $t s, peak RSS $((r / 1024)) MiB"
  walls+=("$w"); txs+=("$t"); rss+=("$r")
done
store_bytes=$(du -cb "$STORE"/*.hmt | tail -1 | cut -f1)

pws=() ; prss=()
for i in $(seq "$RUNS"); do
  out=$(flock "$lock" /usr/bin/time -f 'RSS %M' "$PYTHON" - "$tx" <<'PY' 2>&1
import sys, time
import pandas as pd
t0 = time.time()
df = pd.read_csv(sys.argv[1], dtype={'t_dat': str, 'customer_id': str, 'article_id': 'int32',
                                     'price': 'float32', 'sales_channel_id': 'int8'})
print("PANDAS %.3f %d" % (time.time() - t0, len(df)))
PY
) || true
  pt=$(echo "$out" | awk '/^PANDAS/ {print $2}')
  [ -n "$pt" ] || { echo "pandas failed:"; echo "$out"; exit 1; }
  pr=$(echo "$out" | awk '/^RSS/ {print $2}')
  echo "pandas run $i: read_csv $pt s, peak RSS $((pr / 1024)) MiB"
  pws+=("$pt"); prss+=("$pr")
done

mw=$(printf '%s\n' "${walls[@]}" | median)
mt=$(printf '%s\n' "${txs[@]}" | median)
mr=$(printf '%s\n' "${rss[@]}" | median)
mp=$(printf '%s\n' "${pws[@]}" | median)
mpr=$(printf '%s\n' "${prss[@]}" | median)
echo
echo "== medians of $RUNS runs =="
awk -v b="$bytes" -v ab="$all_bytes" -v w="$mw" -v t="$mt" -v r="$mr" -v p="$mp" -v pr="$mpr" -v sb="$store_bytes" 'BEGIN {
  printf "hmrec transactions parse: %.2f s, %.0f MB/s\n", t, b / 1e6 / t
  printf "hmrec whole ingest (3 files, sort, index, write+fsync): %.2f s, %.0f MB/s of CSV\n", w, ab / 1e6 / w
  printf "hmrec peak RSS: %.0f MiB\n", r / 1024
  printf "store size: %.1f MB\n", sb / 1e6
  printf "pandas.read_csv (transactions only): %.2f s, %.0f MB/s, peak RSS %.0f MiB\n", p, b / 1e6 / p, pr / 1024
  printf "ratio pandas / hmrec transactions parse: %.1fx\n", p / t
  printf "ratio pandas / hmrec whole ingest: %.1fx\n", p / w
}'
