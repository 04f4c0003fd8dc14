#!/usr/bin/env bash
# hmrec serve on the loopback (docs/serve.md): start-up time and resident memory on a finished
# work directory, then wrk with 64 connections for 60 s on random customers' recommendations,
# then the same with a tenth of the requests posting a purchase; throughput, latency
# percentiles, the server's CPU seconds per request, errors.
#   bench/bench_serve.sh WORK [build-dir]      (build-dir: build)
# WORK is a finished work directory of hmrec run (the full profile on the full preset for the
# targets: hmrec run --config configs/full.conf --set run.data=DATA --set run.work=WORK --set
# features.image=DATA/image_embeddings.npy). It is not changed: the server runs on a copy made
# of symbolic links (its own purchases.csv). Environment: SECONDS_EACH (60), CONNECTIONS (64),
# THREADS (the server's scoring threads; default: every core), WRK_THREADS (2), CUSTOMERS
# (random customers requested, 200000), WARMUP (seconds, 10).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(cd "${1:?usage: bench/bench_serve.sh WORK [build-dir]}" && pwd)
build=${2:-build}
secs=${SECONDS_EACH:-60}
conns=${CONNECTIONS:-64}
wthreads=${WRK_THREADS:-2}
ncust=${CUSTOMERS:-200000}
warmup=${WARMUP:-10}
lock=/tmp/hmrec-bench.lock
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh installs it)"; exit 1; }
[ -f "$work/stages/submit.fp" ] || { echo "$work is not a finished work directory (no stages/submit.fp)"; exit 1; }
make build BUILD="$build" JOBS=2 >/dev/null
bin=$(pwd)/$build/hmrec
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
# the work directory as links, with a purchase log of its own
cp -rs "$work" "$tmp/work"
rm -f "$tmp/work/purchases.csv"
printf 'a-token-for-the-serve-benchmark-0123\n' > "$tmp/token"
chmod 600 "$tmp/token"
# random customers (fixed seed) and the articles they were recommended
zcat "$work/submission.csv.gz" | awk -F, -v n="$ncust" 'BEGIN { srand(42) } NR > 1 { if (NR - 1 <= n) c[NR - 1] = $1;
  else { k = int(rand() * (NR - 1)) + 1; if (k <= n) c[k] = $1 } split($2, a, " "); for (i in a) art[a[i]] = 1 }
  END { for (i = 1; i <= n && i in c; i++) print c[i] > "'"$tmp"'/customers"; for (x in art) print x > "'"$tmp"'/articles" }'
"$bin" info "$work/store" >"$tmp/info"
last=$(sed -n 's/.*dates [0-9-]* \.\. \([0-9-]*\).*/\1/p' "$tmp/info")
day=$(date -d "$last + 1 day" +%F)
cpu_of() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }  # utime + stime, seconds (USER_HZ 100)
calc() { awk "BEGIN { printf \"%.${1}f\", $2 }"; }
exec 9>"$lock"
flock 9
echo "== $(date -u +%FT%TZ) $(uptime)"
echo "== work $work, $(wc -l <"$tmp/customers") random customers, $(wc -l <"$tmp/articles") articles, posts dated $day"
t0=$(date +%s.%N)
args=(serve --work "$tmp/work" --listen 127.0.0.1:0 --token-file "$tmp/token")
[ -n "${THREADS:-}" ] && args+=(--threads "$THREADS")
"$bin" "${args[@]}" >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
port=
until [ -n "$port" ] && curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.err"; exit 1; }
    port=$(sed -n 's|.*on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/serve.out")
    sleep 0.05
done
t1=$(date +%s.%N)
rss() { awk -v k="$1" '$1 == k":" {printf "%.2f", $2 / 1048576}' "/proc/$pid/status"; }
echo "start-up: $(calc 1 "$t1 - $t0") s to the first answer of /healthz; RSS $(rss VmRSS) GiB"
lua=$(pwd)/bench/serve_wrk.lua
run_wrk() { # name post_share seconds
    local c0 w0
    c0=$(cpu_of "$pid")
    w0=$(date +%s.%N)
    CUSTOMERS="$tmp/customers" ARTICLES="$tmp/articles" POST_SHARE=$2 TOKEN=$(cat "$tmp/token") DAY=$day \
        wrk -t "$wthreads" -c "$conns" -d "${3}s" --timeout 10s -s "$lua" "http://127.0.0.1:$port" >"$tmp/wrk.$1" 2>&1
    local c1 w1 n
    c1=$(cpu_of "$pid")
    w1=$(date +%s.%N)
    n=$(sed -n 's/^requests \([0-9]*\), .*/\1/p' "$tmp/wrk.$1")
    echo "-- $1: $conns connections, ${3} s, posts $2"
    grep -E '^(requests|latency|rate)' "$tmp/wrk.$1" | sed 's/^/   /'
    grep -q 'Non-2xx' "$tmp/wrk.$1" && grep 'Non-2xx' "$tmp/wrk.$1" | sed 's/^/   /'
    echo "   server CPU $(calc 1 "$c1 - $c0") s over $(calc 1 "$w1 - $w0") s wall: $(calc 3 "($c1 - $c0) * 1000 / ($n + 1)") CPU-ms per request"
}
run_wrk warmup 0 "$warmup" >/dev/null
run_wrk recommendations 0 "$secs"
run_wrk mixed 0.1 "$secs"
echo "peak RSS $(rss VmHWM) GiB; $(grep -c . "$tmp/work/purchases.csv") lines in the scratch purchase log"
d0=$(date +%s.%N)
kill -TERM "$pid"
wait "$pid"
pid=
echo "SIGTERM to exit: $(calc 1 "$(date +%s.%N) - $d0") s"
