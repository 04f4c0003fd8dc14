#!/usr/bin/env bash
# Mistakes a user makes get a clear error before any work (or are accepted when they are not
# mistakes): an absurd network, an unknown submission model, a key given twice in a config
# file, integer ranges, a missing embeddings file, embeddings with absurd values, upper-case
# customer ids, --users 0. Tiny preset.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
"$bin" synth --preset tiny "$tmp/data" >/dev/null 2>&1
printf '[run]\ndata = %s\nwork = %s\n[prepare]\ntrain_weeks = 3\nusers = 200\n' "$tmp/data" "$tmp/w" > "$tmp/c.conf"
fails() { # exit-code expected-message command...
  local code=$1 want=$2 out rc
  shift 2
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  [ $rc -eq "$code" ] || { echo "expected exit $code, got $rc: $*"; echo "$out"; exit 1; }
  grep -qF -- "$want" <<< "$out" || { echo "expected \"$want\" from: $*"; echo "$out"; exit 1; }
  # nothing ran first
  if grep -q '^\[[a-z]*\] running' <<< "$out"; then echo "a stage ran before the error: $*"; echo "$out"; exit 1; fi
}

# an absurd network: an error naming the setting, before any stage (not an abort)
fails 1 'nn.fusion_hidden = "65536,65536,65536,65536,65536,65536,65536,65536": training this network would take' \
  "$bin" run --config "$tmp/c.conf" --set nn.fusion_hidden=65536,65536,65536,65536,65536,65536,65536,65536
# an unknown submission model: rejected before any training
fails 1 'run.submit_model = "nosuch": expected best, ensemble, average, a model of rank.models (classifier, ndcg, map, xendcg, deep, nn) or a baseline' \
  "$bin" run --config "$tmp/c.conf" --set run.submit_model=nosuch
fails 1 'run.submit_model = "map"' "$bin" run --config "$tmp/c.conf" --set rank.models=classifier --set run.submit_model=map
# a key given twice in a config file: both lines named
printf '[prepare]\nusers = 200\ntrain_weeks = 3\n[run]\nwork = %s\n[prepare]\nusers = 100\n' "$tmp/w" > "$tmp/twice.conf"
fails 1 "twice.conf:7: prepare.users is given twice in this file (first on line 2)" "$bin" run --config "$tmp/twice.conf"
# integer ranges print as integers
fails 1 "nn.batch: expected a value in [2, 1048576], found 1" "$bin" run --config "$tmp/c.conf" --set nn.batch=1
# --users 0
fails 2 "--users is a number of customers, at least 1 (found 0)" \
  "$bin" features --config "$tmp/c.conf" --week val --out "$tmp/f.csv" --users 0

# a missing .npy: says so (not "no ids file")
"$bin" ingest --data "$tmp/data" --out "$tmp/w/store" >/dev/null 2>&1
set +e
out=$("$bin" run --config "$tmp/c.conf" --set features.image="$tmp/nothere.npy" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ]
grep -qF "$tmp/nothere.npy: no such file" <<< "$out" || { echo "$out"; exit 1; }
# image embeddings with an absurd value: an error naming the file, row and article
cp "$tmp/data/image_embeddings.npy" "$tmp/img.npy"
cp "$tmp/data/image_embeddings_ids.txt" "$tmp/img_ids.txt"
hlen=$(od -A n -t u2 -j 8 -N 2 "$tmp/img.npy" | tr -d ' ')
printf '\xec\x78\xad\x60' | dd of="$tmp/img.npy" bs=1 seek=$((10 + hlen + 4 * 515)) conv=notrunc 2>/dev/null # 1e20: row 1, column 3
set +e
out=$("$bin" run --config "$tmp/c.conf" --set features.image="$tmp/img.npy" 2>&1)
rc=$?
set -e
[ $rc -eq 1 ]
art=$(sed -n 2p "$tmp/img_ids.txt")
grep -qF "$tmp/img.npy: row 1 (article $art) column 3 is 1e+20: expected a value within +-10000" <<< "$out" ||
  { echo "$out"; exit 1; }

# evaluate reads customer ids in either case, as ingest does: the same scores
oracle=$(ls "$tmp/data/oracle"/week_*_oracle.csv | tail -2 | head -1)
week=$(basename "$oracle" | sed 's/week_\(.*\)_oracle.csv/\1/')
end=$(date -d "$week + 6 days" +%F)
tr 'a-f' 'A-F' < "$oracle" | sed '1s/.*/customer_id,prediction/' > "$tmp/upper.csv"
cp "$oracle" "$tmp/lower.csv"
"$bin" evaluate --store "$tmp/w/store" --pred "$tmp/lower.csv" --week-end "$end" | sed "s#$tmp/lower#X#" > "$tmp/a.txt"
"$bin" evaluate --store "$tmp/w/store" --pred "$tmp/upper.csv" --week-end "$end" | sed "s#$tmp/upper#X#" > "$tmp/b.txt"
grep -q '^X.csv  *[1-9][0-9]* 0\.[0-9]' "$tmp/a.txt"
diff "$tmp/a.txt" "$tmp/b.txt"
echo "messages ok"
