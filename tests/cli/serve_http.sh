#!/usr/bin/env bash
# hmrec serve over HTTP on the loopback, on a run of the tiny preset with 2,000 customers (the
# two-stage cut, an ensemble of the classifier and the network): 1,000 random customers'
# recommendations (cold-start ones among them) are their rows of submission.csv.gz; every bad
# request (headers or body too large, a slow client, path tricks in /image, malformed JSON, a
# wrong token, unknown ids) gets its 4xx with a JSON error and the server keeps serving;
# /metrics counts them; SIGTERM during a burst of requests lets them finish and exits 0.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
command -v curl >/dev/null || { echo "curl is not installed"; exit 1; }
. "$(dirname "$0")/lib/serve.bash"
world w 2000 '[run]\nsubmit_model = ensemble\n[recall]\nwide = 120\ncut_keep = 40\npool = 80\n[rank]\nmodels = classifier,nn\nscore_pool = 60\n[nn]\nepochs = 2\n'
serve_token
serve_start w --token-file "$tmp/token" --images "$tmp/w/images" --request-seconds 2 --idle-seconds 3
trap 'kill -KILL $pid 2>/dev/null || true' EXIT

# the submission's rows
/usr/bin/python3 "$(dirname "$0")/lib/serve_compare.py" "$port" "$tmp/w/work/submission.csv.gz" \
  "$tmp/w/transactions_train.csv" 1000 7

c=$(zcat "$tmp/w/work/submission.csv.gz" | sed -n 2p | cut -d, -f1)
a=$(zcat "$tmp/w/work/submission.csv.gz" | sed -n 2p | cut -d, -f2 | cut -d' ' -f1)
expect "healthz" 200 '"status":"ok"' /healthz
expect "an image" 200 '' "/v1/articles/$a/image"
[ "$(head -c 3 "$tmp/body" | od -An -tx1 | tr -d ' \n')" = ffd8ff ] || { echo "FAIL: the image is not a JPEG"; exit 1; }
expect "the page" 200 '<title>hmrec' /

# limits and bad requests, each a JSON error
expect "headers too large" 431 '"error"' /healthz -H "X-Padding: $(head -c 20000 /dev/zero | tr '\0' a)"
head -c 2000000 /dev/zero | tr '\0' ' ' > "$tmp/big"
expect "body too large" 413 '"error"' /v1/purchases -X POST --data-binary "@$tmp/big" \
  -H "Authorization: Bearer $(cat "$tmp/token")"
# a chunked body (no length given) that grows past the limit: answered as soon as it does
chunked=$(/usr/bin/python3 - "$port" "$(cat "$tmp/token")" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(("POST /v1/purchases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
           "Transfer-Encoding: chunked\r\n\r\n" % sys.argv[2]).encode())
chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
try:
    for _ in range(24):
        s.sendall(chunk)
    s.sendall(b"0\r\n\r\n")
except OSError:
    pass
reply = s.recv(65536).decode(errors="replace")
print(reply.split("\r\n")[0], "json" if '{"error":' in reply else "no-json")
EOF
)
case "$chunked" in
  "HTTP/1.1 413 "*" json") ;;
  *) echo "FAIL: chunked body too large: $chunked"; exit 1 ;;
esac
expect "path tricks 1" 404 '"error"' /v1/articles/../../../../etc/passwd --path-as-is
expect "path tricks 2" 404 'no such endpoint' "/v1/articles/%2e%2e%2f%2e%2e%2fetc%2fpasswd/image" --path-as-is
expect "path tricks 3" 404 'no such endpoint' "/v1/articles/$a%2f..%2f..%2fx/image" --path-as-is
expect "path tricks 5" 400 'article id' "/v1/articles/..%5c..%5cwin.ini/image" --path-as-is
expect "path tricks 6" 400 'article id' "/v1/articles/$a%00.jpg/image" --path-as-is
expect "path tricks 4" 404 '"error"' "/v1/articles/$a/image/../../../x" --path-as-is
expect "unknown article" 404 'no article' /v1/articles/0000000001/image
expect "unknown customer" 404 'no customer' /v1/customers/0000000000000000000000000000000000000000000000000000000000000000
expect "bad k" 400 'k: expected' "/v1/customers/$c/recommendations?k=1000"
expect "no token" 401 'Bearer' /v1/purchases -X POST -d '{"purchases":[]}'
expect "wrong token" 401 'token' /v1/purchases -X POST -d '{}' -H 'Authorization: Bearer nope-nope-nope-nope'
expect "malformed JSON" 400 'malformed JSON' /v1/purchases -X POST -d '{"purchases": [' \
  -H "Authorization: Bearer $(cat "$tmp/token")"
expect "wrong method" 405 'POST' /v1/purchases
# a slow client: the request line, then nothing for longer than --request-seconds
slow=$(/usr/bin/python3 - "$port" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
time.sleep(2.5)
s.sendall(b"\r\n")
print(s.recv(4096).decode(errors="replace").split("\r\n")[0])
EOF
)
[ "$slow" = "HTTP/1.1 408 Request Timeout" ] || { echo "FAIL: slow client: $slow"; exit 1; }
# a client that sends nothing is closed after --idle-seconds
idle=$(/usr/bin/python3 - "$port" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
t = time.time()
got = s.recv(4096)
print("closed" if not got and time.time() - t < 8 else "open")
EOF
)
[ "$idle" = closed ] || { echo "FAIL: an idle connection was not closed"; exit 1; }

# still serving, and counted
expect "still serving" 200 '"recommendations"' "/v1/customers/$c/recommendations"
expect "metrics" 200 'hmrec_requests_total{route="recommendations",status="200"}' /metrics
for code in 400 401 404 405 408 413; do
  grep -q "status=\"$code\"" "$tmp/body" || { echo "FAIL: /metrics does not count status $code"; exit 1; }
done

# SIGTERM while requests are in flight: each is answered, the server exits 0
zcat "$tmp/w/work/submission.csv.gz" | sed -n '2,41p' | cut -d, -f1 > "$tmp/burst"
while read -r id; do
  curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$port/v1/customers/$id/recommendations" >>"$tmp/burst.codes" &
done <"$tmp/burst"
sleep 0.05
serve_stop
wait
trap - EXIT
bad=$(grep -cv '^\(200\|503\|000\)$' "$tmp/burst.codes" || true)
[ "$bad" -eq 0 ] || { echo "FAIL: during the drain: $(sort "$tmp/burst.codes" | uniq -c)"; exit 1; }
grep -q "draining" "$tmp/serve.err" && grep -q "stopped" "$tmp/serve.err"
echo "serve http ok: $(sort "$tmp/burst.codes" | uniq -c | tr -s ' \n' ' ')answered during the drain"
