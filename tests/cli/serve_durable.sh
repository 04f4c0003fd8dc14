#!/usr/bin/env bash
# Posted purchases are never lost: four clients post purchases to hmrec serve (tiny preset) as
# fast as it answers, the server is killed with SIGKILL in the middle, and after a restart
# every acknowledged purchase is in the log and counts for its customer (the log replayed);
# the log holds only whole lines. Then hmrec run folds the log into the data (the ingest stage
# reruns, the store holds the purchases and records how much of the log it read), and the next
# server replays only what was posted after the fold.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib/serve.bash"
world w 400 '[rank]\nmodels = classifier\n'
serve_token
serve_start w --token-file "$tmp/token"
trap 'kill -KILL $pid 2>/dev/null || true' EXIT
id_lists w

# the posting clients record each acknowledged purchase (a 201) in acked.txt as log lines
/usr/bin/python3 - "$port" "$(cat "$tmp/token")" "$tmp/customers" "$tmp/articles" "$tmp/acked.txt" <<'EOF' &
import json, random, sys, threading, urllib.request
port, token, customers, articles, out = sys.argv[1:]
customers = open(customers).read().split()
articles = open(articles).read().split()
acked, lock = [], threading.Lock()
def client(seed):
    rng = random.Random(seed)
    while True:
        ps = [{"customer": rng.choice(customers), "article": rng.choice(articles),
               "day": "2020-09-%02d" % rng.randint(23, 30), "price": round(rng.uniform(0.01, 0.1), 4),
               "channel": rng.randint(1, 2)} for _ in range(rng.randint(1, 3))]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/purchases", json.dumps({"purchases": ps}).encode(),
                                     {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                ok = r.status == 201
        except Exception:
            return  # the server is gone
        if ok:
            with lock:
                acked.extend(ps)
threads = [threading.Thread(target=client, args=(s,)) for s in range(4)]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "w") as f:
    for p in acked:
        f.write("%s,%s,%s,%s,%d\n" % (p["day"], p["customer"], p["article"], repr(p["price"]), p["channel"]))
EOF
posters=$!
sleep 1.5
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
wait "$posters"
acked=$(wc -l <"$tmp/acked.txt")
[ "$acked" -gt 20 ] || { echo "FAIL: only $acked purchases were acknowledged before the kill"; exit 1; }

# every acknowledged purchase is in the log (prices as the server writes them), whole lines only
log="$tmp/w/work/purchases.csv"
/usr/bin/python3 - "$log" "$tmp/acked.txt" <<'EOF'
import collections, struct, sys
def canon(line):
    d, c, a, p, ch = line.rstrip("\n").split(",")
    return (d, c, a, struct.unpack("f", struct.pack("f", float(p)))[0], ch)
log = open(sys.argv[1]).read()
lines = log.split("\n")
assert lines[0] == "t_dat,customer_id,article_id,price,sales_channel_id", lines[0]
rows = collections.Counter(canon(l) for l in lines[1:] if l)
want = collections.Counter(canon(l) for l in open(sys.argv[2]))
missing = want - rows
assert not missing, "acknowledged but not in the log: %s" % list(missing)[:3]
print("log: %d purchases, every one of the %d acknowledged among them" % (sum(rows.values()), sum(want.values())))
EOF
logged=$(($(wc -l <"$log") - 1))

# after a restart they count: the log replayed, each customer's posted purchases served
serve_start w --token-file "$tmp/token"
grep -q "$logged purchases replayed" "$tmp/serve.err" || { echo "FAIL: expected $logged purchases replayed:"; cat "$tmp/serve.err"; exit 1; }
c=$(sed -n 2p "$log" | cut -d, -f2)
n_c=$(grep -c ",$c," "$log")
expect "posted purchases of $c" 200 "\"posted\":$n_c," "/v1/customers/$c"
serve_stop

# hmrec run folds the log into the data; the next server replays nothing of it
"$bin" run --config "$tmp/w.conf" >"$tmp/fold.log" 2>&1 || { tail "$tmp/fold.log"; exit 1; }
grep -q "\[ingest\] running" "$tmp/fold.log" || { echo "FAIL: the run did not ingest again"; exit 1; }
grep -q "ingest: folded in $logged purchases" "$tmp/fold.log" || { echo "FAIL: the run did not fold $logged purchases"; grep ingest "$tmp/fold.log"; exit 1; }
rows_csv=$(($(wc -l <"$tmp/w/transactions_train.csv") - 1))
"$bin" info "$tmp/w/work/store" >"$tmp/info.txt"
grep -q "table transactions: $((rows_csv + logged)) rows" "$tmp/info.txt" ||
  { echo "FAIL: the store does not hold the $rows_csv + $logged rows:"; grep transactions "$tmp/info.txt"; exit 1; }
serve_start w --token-file "$tmp/token"
grep -q " 0 purchases replayed" "$tmp/serve.err" || { echo "FAIL: the folded purchases were replayed:"; cat "$tmp/serve.err"; exit 1; }
expect "folded purchases of $c" 200 '"posted":0,' "/v1/customers/$c"
a=$(sed -n 2p "$tmp/articles")
expect "one more purchase" 201 '"accepted":1' /v1/purchases -X POST -H "Authorization: Bearer $(cat "$tmp/token")" \
  -d "{\"purchases\":[{\"customer\":\"$c\",\"article\":\"$a\",\"day\":\"2020-10-01\",\"price\":0.02,\"channel\":1}]}"
serve_stop
serve_start w --token-file "$tmp/token"
grep -q " 1 purchases replayed" "$tmp/serve.err" || { echo "FAIL: expected the one purchase after the fold replayed:"; cat "$tmp/serve.err"; exit 1; }
expect "the purchase after the fold" 200 '"posted":1,' "/v1/customers/$c"
serve_stop
trap - EXIT
echo "serve durable ok: $acked purchases acknowledged before SIGKILL, $logged in the log, all replayed, then folded by hmrec run"
