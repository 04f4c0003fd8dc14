"""Asks a running hmrec serve for the recommendations of N random customers of a submission
(a tenth of them cold-start ones, with at most one purchase in the data, as Stage 1 counts them)
and checks each list against the customer's row of submission.csv.gz: the same articles in the
same order.
usage: serve_compare.py PORT SUBMISSION TRANSACTIONS_CSV N SEED"""
import gzip
import json
import random
import sys
import urllib.request

port, sub_path, tx_path, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rows = {}
with gzip.open(sub_path, "rt") as f:
    next(f)
    for line in f:
        c, items = line.rstrip("\n").split(",")
        rows[c] = items.split(" ")
count = {}
with open(tx_path) as f:
    next(f)
    for line in f:
        c = line.split(",", 2)[1]
        count[c] = count.get(c, 0) + 1
cold = sorted(c for c in rows if count.get(c, 0) <= 1)
warm = sorted(c for c in rows if count.get(c, 0) > 1)
rng = random.Random(seed)
n_cold = min(len(cold), max(n // 10, n - len(warm)))
pick = rng.sample(cold, n_cold) + rng.sample(warm, min(len(warm), n - n_cold))
bad = 0
for c in pick:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/customers/{c}/recommendations?k=12", timeout=30) as r:
        got = [x["article_id"] for x in json.load(r)["recommendations"]]
    if got != rows[c]:
        bad += 1
        if bad <= 3:
            print(f"customer {c}:\n  served     {' '.join(got)}\n  submission {' '.join(rows[c])}")
print(f"{len(pick) - bad} of {len(pick)} customers ({n_cold} cold-start) identical to the submission")
sys.exit(1 if bad or len(pick) < n else 0)
