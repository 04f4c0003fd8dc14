#!/usr/bin/env bash
# Command-level test of Stage 1 and the runner on the tiny synthetic preset: run, skip when
# up to date, rerun a stage when its settings change, evaluate, submit, bad settings.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
"$bin" synth --preset tiny "$tmp/data" >/dev/null 2>&1
conf="$tmp/run.conf"
printf '[run]\ndata = %s\nwork = %s\n[prepare]\ntrain_weeks = 4\nusers = 200\n' "$tmp/data" "$tmp/work" > "$conf"

out=$("$bin" run --config "$conf" 2>/dev/null)
grep -q '^\[prepare\] running: not run yet in this work directory$' <<< "$out"
grep -q '^oracle ' "$tmp/work/metrics.txt"
grep -q '^recent ' "$tmp/work/metrics.txt"
test -f "$tmp/work/prepare.hmt"
test -f "$tmp/work/candidates.hmt"
test -f "$tmp/work/text_emb.npy"
for w in 1 2 3 4; do test -f "$tmp/work/candidates_train_$w.hmt"; done
test ! -e "$tmp/work/candidates_train_5.hmt"
test -f "$tmp/work/candidates_stats.txt"
test -f "$tmp/work/submission.csv.gz"

# nothing changed: every stage is skipped
out=$("$bin" run --config "$conf" 2>/dev/null)
[ "$(echo "$out" | grep -c 'up to date, skipped')" -eq 10 ]

# a prepare setting changed: prepare and candidates (which depends on prepare.*) run again
out=$("$bin" run --config "$conf" --set prepare.users=100 2>/dev/null)
grep -q '^\[prepare\] running: prepare.users 200 -> 100$' <<< "$out"
grep -q '^\[candidates\] running: prepare changed$' <<< "$out"
grep -q '^\[ingest\] up to date' <<< "$out"
grep -q '^\[text\] up to date' <<< "$out"
grep -q '^\[evaluate\] running: rank changed' <<< "$out"

# an interrupted stage (no record) resumes; a missing output reruns its stage
rm "$tmp/work/stages/submit.fp"
out=$("$bin" run --config "$conf" 2>/dev/null)
grep -q '^\[submit\] running: not run yet' <<< "$out"
rm "$tmp/work/candidates_train_2.hmt"
out=$("$bin" run --config "$conf" 2>/dev/null)
grep -q "^\[candidates\] running: .*candidates_train_2.hmt is missing" <<< "$out"
# a record from an earlier version (the fingerprint alone) is explained
head -1 "$tmp/work/stages/evaluate.fp" > "$tmp/fp" && printf '0000000000000001\n' > "$tmp/work/stages/evaluate.fp"
out=$("$bin" run --config "$conf" 2>/dev/null)
grep -q '^\[evaluate\] running: recorded by an earlier version of hmrec' <<< "$out"
# what a killed writer left is removed, whatever process id its name has (the work
# directory's lock says no other hmrec writes there); files hmrec did not make stay
: > "$tmp/work/candidates.hmt.hmrec-tmp.999999999"
: > "$tmp/work/candidates.hmt.hmrec-tmp.$$"
: > "$tmp/work/candidates.hmt.tmp.999999999"
"$bin" run --config "$conf" >/dev/null 2>&1
test ! -e "$tmp/work/candidates.hmt.hmrec-tmp.999999999"
test ! -e "$tmp/work/candidates.hmt.hmrec-tmp.$$"
test -e "$tmp/work/candidates.hmt.tmp.999999999"
rm "$tmp/work/candidates.hmt.tmp.999999999"

# the submission: exactly the customers of customers.csv, once each; 12 distinct articles of
# articles.csv per row, 10 digits each
check_submission() { # file.csv.gz
  gzip -dc "$1" > "$tmp/sub.csv"
  [ "$(head -1 "$tmp/sub.csv")" = "customer_id,prediction" ] || { echo "submission header"; return 1; }
  if tail -n +2 "$tmp/sub.csv" | grep -q -v -E '^[0-9a-f]{64},([0-9]{10} ){11}[0-9]{10}$'; then
    echo "malformed submission row"; return 1
  fi
  tail -n +2 "$tmp/data/customers.csv" | cut -d, -f1 | LC_ALL=C sort > "$tmp/want_customers"
  tail -n +2 "$tmp/sub.csv" | cut -d, -f1 | LC_ALL=C sort > "$tmp/got_customers"
  cmp -s "$tmp/want_customers" "$tmp/got_customers" || { echo "the submission's customers are not customers.csv's"; return 1; }
  awk -F, 'NR == FNR { if (FNR > 1) art[$1] = 1; next }
           FNR > 1 { n = split($2, a, " "); delete seen
                     for (i = 1; i <= n; i++) {
                       if (!(a[i] in art)) { print "line " FNR ": " a[i] " is not in articles.csv"; bad = 1; exit }
                       if (a[i] in seen) { print "line " FNR ": " a[i] " twice"; bad = 1; exit }
                       seen[a[i]] = 1 } }
           END { exit bad }' "$tmp/data/articles.csv" "$tmp/sub.csv"
}
check_submission "$tmp/work/submission.csv.gz"
# the check fails on the faults it is there for
printf 'customer_id,prediction\n' > "$tmp/bad.csv"
tail -n +2 "$tmp/sub.csv" | sed '1d' >> "$tmp/bad.csv"; head -2 "$tmp/sub.csv" | tail -1 >> "$tmp/bad.csv"
sed -n 3p "$tmp/sub.csv" >> "$tmp/bad.csv"
gzip -c "$tmp/bad.csv" > "$tmp/bad_dup.csv.gz"
tail -n +2 "$tmp/sub.csv" | sed '1s/ \([0-9]\{10\}\)$/ 0000000001/' | sed '1i customer_id,prediction' | gzip -c > "$tmp/bad_id.csv.gz"
tail -n +2 "$tmp/sub.csv" | awk -F'[, ]' 'NR == 1 { $3 = $2 } { print }' OFS=' ' |
  sed 's/^\([0-9a-f]\{64\}\) /\1,/' | sed '1i customer_id,prediction' | gzip -c > "$tmp/bad_twice.csv.gz"
gzip -c "$tmp/sub.csv" > "$tmp/ok.csv.gz"
check_submission "$tmp/ok.csv.gz"
for f in bad_dup bad_id bad_twice; do
  if check_submission "$tmp/$f.csv.gz" > /dev/null; then echo "the submission check passed $f"; exit 1; fi
done

# evaluate the oracle file of the last data week (the held-out week after it is a "test" row
# of oracle/summary.tsv) directly: the same MAP@12 as in the table
week=week_$(awk -F'\t' '$8=="data"{d=$1} END{print d}' "$tmp/data/oracle/summary.tsv")_oracle.csv
m1=$("$bin" evaluate --store "$tmp/work/store" --pred "$tmp/data/oracle/$week" | awk 'NR==3{print $3}')
"$bin" run --config "$conf" >/dev/null 2>&1
m2=$(awk '$1=="oracle"{print $3; exit}' "$tmp/work/metrics.txt")
[ "$m1" = "$m2" ]

# the held-out test week (hmrec synth's week after the data): its table in metrics.txt, rows of
# kinds "test ..." in metrics.tsv, the run's summary line and the report's section; hmrec
# evaluate --truth scores the submission and the oracle file to the table's figures
out=$("$bin" run --config "$conf" 2>/dev/null)
grep -q '^held-out test week 2020-09-23..2020-09-29: [0-9]* customers bought' "$tmp/work/metrics.txt"
grep -q '^held-out test week: submission (' <<< "$out"
grep -q '^test: submission (' "$tmp/work/metrics.txt"
grep -q $'\ttest submission\t' "$tmp/work/metrics.tsv"
grep -q $'\ttest oracle\t' "$tmp/work/metrics.tsv"
grep -q $'\ttest baseline\t' "$tmp/work/metrics.tsv"
grep -q '^The held-out test week' "$tmp/work/report.txt"
truth=$tmp/data/oracle/week_2020-09-23_truth.csv
ev=$("$bin" evaluate --store "$tmp/work/store" --pred "$tmp/work/submission.csv.gz" --truth "$truth")
[ "$(awk '$1=="oracle"{print $3; exit}' <<< "$ev")" = "$(awk '$1=="test:" && $2=="oracle"{print $4}' "$tmp/work/metrics.txt")" ]
[ "$(awk -v f="$tmp/work/submission.csv.gz" '$1==f{print $3; exit}' <<< "$ev")" = \
  "$(awk '$1=="test:" && $2=="submission"{print $5}' "$tmp/work/metrics.txt")" ]

# bad settings name the file and line
printf '[prepare]\ncold_share = 2\n' > "$tmp/bad.conf"
set +e
err=$("$bin" run --config "$tmp/bad.conf" 2>&1)
rc=$?
set -e
[ $rc -ne 0 ]
grep -q "bad.conf:2: prepare.cold_share: expected a value in \[0, 1\], found 2" <<< "$err"
# nothing to run (no data, no store): the demo is suggested, exit 2
set +e
mkdir -p "$tmp/empty"
err=$(cd "$tmp/empty" && "$bin" run 2>&1)
rc=$?
set -e
[ $rc -eq 2 ]
grep -q "nothing to run" <<< "$err"
grep -q "make demo" <<< "$err"

# many changes at once: the reason names six and counts the rest
out=$("$bin" run --config "$conf" --set prepare.cold_share=0.2 --set prepare.cold_max=2 --set prepare.seed=7 \
  --set prepare.min_item_purchases=2 --set prepare.history_weeks=40 --set prepare.train_weeks=3 \
  --set prepare.users=150 --set report.examples=2 2>/dev/null)
grep -q '^\[prepare\] running: prepare\.[a-z_]* [^;]*; [^;]*; [^;]*; [^;]*; [^;]*; [^;]*; and 1 more$' <<< "$out"
echo "pipeline ok"
