#!/usr/bin/env bash
# A short bounded load test of hmrec serve on the loopback (tiny preset): wrk with 16
# connections for 3 s on random customers' recommendations, then 3 s with a tenth of the
# requests posting purchases; every request is answered 2xx, nothing times out, and the server
# then stops cleanly. Figures are printed, not checked (bench/bench_serve.sh measures).
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh installs it)"; exit 1; }
. "$(dirname "$0")/lib/serve.bash"
world w 400 '[rank]\nmodels = classifier\n'
serve_token
serve_start w --token-file "$tmp/token"
trap 'kill -KILL $pid 2>/dev/null || true' EXIT
id_lists w
lua=$(cd "$(dirname "$0")/../../bench" && pwd)/serve_wrk.lua
for share in 0 0.1; do
  CUSTOMERS="$tmp/customers" ARTICLES="$tmp/articles" POST_SHARE=$share TOKEN=$(cat "$tmp/token") \
    timeout 30 wrk -t 2 -c 16 -d 3s --timeout 5s -s "$lua" "http://127.0.0.1:$port" >"$tmp/wrk.$share" 2>&1 ||
    { cat "$tmp/wrk.$share"; exit 1; }
  n=$(sed -n 's/^requests \([0-9]*\), .*/\1/p' "$tmp/wrk.$share")
  [ "${n:-0}" -gt 50 ] || { echo "FAIL: only ${n:-0} requests answered"; cat "$tmp/wrk.$share"; exit 1; }
  grep -q "errors connect 0 read 0 write 0 timeout 0 status 0$" "$tmp/wrk.$share" ||
    { echo "FAIL: errors under load (posts $share):"; cat "$tmp/wrk.$share"; exit 1; }
  echo "posts $share: $(grep -E '^(rate|latency p99 )' "$tmp/wrk.$share" | tr '\n' ' ')"
done
expect "healthz after the load" 200 '"status":"ok"' /healthz
serve_stop
trap - EXIT
