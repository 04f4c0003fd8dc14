#!/usr/bin/env bash
# Run state on the tiny preset: one run per work directory (a second run, or a single command
# that writes there, fails at once naming the process that holds it; a store outside the work
# directory is the ingesting run's alone); hmrec deletes only the temporaries it made, in every
# directory it writes to; a damaged or missing output reruns its stage, which says why, and
# the outputs end as a clean run's.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
. "$(dirname "$0")/lib/runstate.bash"
mkdir -p "$tmp/shared"
conf() { # work store submission
  printf '[run]\ndata = %s\nwork = %s\nstore = %s\nsubmission = %s\n[prepare]\ntrain_weeks = 3\nusers = 200\n' \
    "$tmp/data" "$1" "$2" "$3"
}
fails() { # expected-message command... : exits non-zero at once, naming what it should
  local want=$1 out rc
  shift
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  [ $rc -ne 0 ] || { echo "expected a failure: $*"; echo "$out"; exit 1; }
  grep -qF -- "$want" <<< "$out" || { echo "expected \"$want\" from: $*"; echo "$out"; exit 1; }
}

# the reference: a clean run with the store and the submission outside the work directory,
# in the places the test then uses again from scratch
w=$tmp/w
sub=$tmp/shared/submission.csv.gz
conf "$w" "$tmp/store" "$sub" > "$tmp/w.conf"
"$bin" run --config "$tmp/w.conf" >/dev/null 2>&1
sums "$w" > "$tmp/ref.sums"
ref_sub=$(md5sum < "$sub")
rm -rf "$w" "$tmp/store" "$sub"

# ---- one run per work directory ----------------------------------------------------------
# a run stopped (SIGSTOP) after its fourth stage, holding the work directory and the store
HMREC_FAULT=stage:4:STOP "$bin" run --config "$tmp/w.conf" > "$tmp/a.log" 2>&1 &
a=$!
state=
for _ in $(seq 1 600); do
  state=$(awk '{print $3}' "/proc/$a/stat" 2>/dev/null || echo gone)
  [ "$state" = T ] || [ "$state" = gone ] && break
  sleep 0.1
done
[ "$state" = T ] || { echo "the first run did not stop ($state)"; cat "$tmp/a.log"; exit 1; }
t0=$(date +%s)
fails "the work directory $w is in use by process $a" "$bin" run --config "$tmp/w.conf"
fails "is in use by process $a" "$bin" run --config "$tmp/w.conf" --set prepare.users=100
fails "the work directory $w is in use by process $a" "$bin" prepare --config "$tmp/w.conf"
fails "the work directory $w is in use by process $a" "$bin" candidates --config "$tmp/w.conf" --week val \
  --out "$tmp/c.hmt"
fails "the work directory $w is in use by process $a" "$bin" submit --config "$tmp/w.conf" --out "$tmp/s.csv"
# another work directory on the same store: the run that may ingest into it has it alone
conf "$tmp/w2" "$tmp/store" "$tmp/w2/submission.csv.gz" > "$tmp/w2.conf"
fails "the store $tmp/store is in use by process $a" "$bin" run --config "$tmp/w2.conf"
fails "the store $tmp/store is in use by process $a" "$bin" run --config "$tmp/w2.conf" --set run.data=
# at once: no waiting for the holder
[ $(($(date +%s) - t0)) -lt 30 ]
kill -CONT "$a"
wait "$a" || { echo "the stopped run failed after it went on"; cat "$tmp/a.log"; exit 1; }
grep -q '^\[report\] done' "$tmp/a.log"
sums "$w" > "$tmp/w.sums"
diff "$tmp/ref.sums" "$tmp/w.sums"
[ "$(md5sum < "$sub")" = "$ref_sub" ]
# runs that only read the store (run.data empty) share it, each in its own work directory
conf "$tmp/r1" "$tmp/store" "$tmp/r1/submission.csv.gz" | sed 's/^data = .*/data =/' > "$tmp/r1.conf"
conf "$tmp/r2" "$tmp/store" "$tmp/r2/submission.csv.gz" | sed 's/^data = .*/data =/' > "$tmp/r2.conf"
HMREC_FAULT=stage:2:STOP "$bin" run --config "$tmp/r1.conf" > "$tmp/r1.log" 2>&1 &
r1=$!
for _ in $(seq 1 600); do
  state=$(awk '{print $3}' "/proc/$r1/stat" 2>/dev/null || echo gone)
  [ "$state" = T ] || [ "$state" = gone ] && break
  sleep 0.1
done
[ "$state" = T ]
"$bin" run --config "$tmp/r2.conf" --set rank.models=classifier > "$tmp/r2.log" 2>&1 ||
  { echo "a second reader of the store failed"; cat "$tmp/r2.log"; exit 1; }
# while they read it, a run that may ingest cannot have it
fails "the store $tmp/store is in use by process" "$bin" run --config "$tmp/w.conf" --set run.work="$tmp/w3"
kill -CONT "$r1"
wait "$r1"

# ---- hmrec deletes only what it made -------------------------------------------------------
# foreign files with temporary-looking names in every directory a run writes to, and the
# temporaries a killed hmrec left there (whatever the process id in their name)
dirs="$w $w/stages $w/models $w/models/final $tmp/store $tmp/shared"
for d in $dirs; do
  : > "$d/notes.tmp.31999"
  : > "$d/backup.tar.tmp.4242"
  : > "$d/data.tmp.1"
done
: > "$tmp/shared/other.csv.gz.hmrec-tmp.77"   # another program's (or run's) file beside the submission
: > "$w/candidates.hmt.hmrec-tmp.4242"
: > "$w/stages/rank.fp.hmrec-tmp.1"
: > "$w/models/classifier.model.hmrec-tmp.$$"
: > "$w/models/final/ensemble.tsv.hmrec-tmp.5"
: > "$tmp/store/articles.hmt.hmrec-tmp.6"
: > "$sub.hmrec-tmp.8"
# every stage rewrites its files in each of them: ingest without its record, the sample
# changed and back (every later stage)
rm "$w/stages/ingest.fp"
"$bin" run --config "$tmp/w.conf" --set prepare.seed=7 > "$tmp/seed.log" 2>&1
grep -q '^\[ingest\] running: not run yet' "$tmp/seed.log"
grep -q '^\[retrain\] running' "$tmp/seed.log"
"$bin" run --config "$tmp/w.conf" > "$tmp/back.log" 2>&1
for d in $dirs; do
  for f in notes.tmp.31999 backup.tar.tmp.4242 data.tmp.1; do
    test -e "$d/$f" || { echo "hmrec deleted $d/$f"; exit 1; }
  done
done
test -e "$tmp/shared/other.csv.gz.hmrec-tmp.77" || { echo "hmrec deleted another file's temporary"; exit 1; }
for f in "$w/candidates.hmt.hmrec-tmp.4242" "$w/stages/rank.fp.hmrec-tmp.1" "$w/models/classifier.model.hmrec-tmp.$$" \
  "$w/models/final/ensemble.tsv.hmrec-tmp.5" "$tmp/store/articles.hmt.hmrec-tmp.6" "$sub.hmrec-tmp.8"; do
  test ! -e "$f" || { echo "a killed run's temporary stayed: $f"; exit 1; }
done
for d in $dirs; do rm -f "$d/notes.tmp.31999" "$d/backup.tar.tmp.4242" "$d/data.tmp.1"; done
rm "$tmp/shared/other.csv.gz.hmrec-tmp.77"
sums "$w" > "$tmp/w.sums"
diff "$tmp/ref.sums" "$tmp/w.sums"

# ---- a damaged or missing output reruns its stage, which says why ----------------------------
rerun() { # stage reason-pattern: one run, the stage must say that, and end as the reference
  local out
  out=$("$bin" run --config "$tmp/w.conf" 2>&1) || { echo "the run failed"; echo "$out"; exit 1; }
  grep -q "^\[$1\] running: $2" <<< "$out" || { echo "[$1] should run: $2"; grep '^\[' <<< "$out"; exit 1; }
  sums "$w" > "$tmp/w.sums"
  diff "$tmp/ref.sums" "$tmp/w.sums"
  [ "$(md5sum < "$sub")" = "$ref_sub" ]
}
head -c 100 "$sub" > "$tmp/cut" && cat "$tmp/cut" > "$sub"
rerun submit "$sub is 100 bytes, not the [0-9]* the stage wrote"
: > "$w/metrics.txt"
rerun evaluate "$w/metrics.txt is 0 bytes"
model=$(ls "$w/models/final" | grep '\.model$' | head -1)
rm "$w/models/final/$model"
rerun retrain "$w/models/final/$model is missing"
# one finite value of the text embeddings changed in place: same size, another checksum
printf '\x01' | dd of="$w/text_emb.npy" bs=1 seek=200 conv=notrunc 2>/dev/null
rerun text "$w/text_emb.npy changed since the stage wrote it"
cp "$w/rank_results.tsv" "$tmp/rr" && tr '7' '8' < "$tmp/rr" > "$w/rank_results.tsv"
rerun rank "$w/rank_results.tsv changed since the stage wrote it"
# the oracle file (the metrics table's oracle row) edited in place: evaluate reruns, and again
# when it is put back
oracle=$(ls "$tmp/data/oracle"/week_*_oracle.csv | tail -1)
cp -p "$oracle" "$tmp/oracle.bak"
sed -i '2s/,\([0-9]\{10\}\) \([0-9]\{10\}\)/,\2 \1/' "$oracle"
touch -r "$tmp/oracle.bak" "$oracle"
if cmp -s "$oracle" "$tmp/oracle.bak"; then echo "the oracle edit changed nothing"; exit 1; fi
out=$("$bin" run --config "$tmp/w.conf" 2>&1) || { echo "the run failed"; echo "$out"; exit 1; }
grep -q '^\[evaluate\] running: its input files changed' <<< "$out"
cp -p "$tmp/oracle.bak" "$oracle"
rerun evaluate "its input files changed"
rm "$w/stages/candidates.fp"
rerun candidates "not run yet in this work directory"
echo "runstate ok"
