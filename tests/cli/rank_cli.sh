#!/usr/bin/env bash
# Stages 3 and 4 from the command line on the tiny preset: the feature table and the CSV view,
# the network's summary, a run with the rankers (models, ensembles and the pool ceiling in the
# metrics table, a submission from the best model), and the errors a user can make: an unknown
# model in rank.models, a damaged model file (which the submission's command rebuilds), a model
# whose columns are not the features'.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
"$bin" synth --preset tiny "$tmp/data" >/dev/null 2>&1
conf="$tmp/run.conf"
printf '[run]\ndata = %s\nwork = %s\n[prepare]\ntrain_weeks = 3\nusers = 200\n[features]\nimage = %s\n[rank]\nmodels = classifier,map,nn\n' \
  "$tmp/data" "$tmp/work" "$tmp/data/image_embeddings.npy" > "$conf"

# the feature table: one line per column after the header, as many as the CSV view has
n_list=$("$bin" features --list | grep -c -E '^ *[0-9]+  ')
[ "$n_list" -ge 100 ]
out=$("$bin" run --config "$conf" 2>&1)
grep -q '^\[rank\] done' <<< "$out"
grep -q '^pool ceiling ' "$tmp/work/metrics.txt"
grep -q '^ensemble ' "$tmp/work/metrics.txt"
grep -q '^nn ' "$tmp/work/metrics.txt"
grep -q '%ceiling' "$tmp/work/metrics.txt"
grep -q "^submit: wrote 400 customers .*(model " <<< "$out"
for m in classifier map nn; do test -s "$tmp/work/models/$m.model"; done
# the report: the page and its text twin
grep -q '<svg' "$tmp/work/report.html"
grep -q '^Metrics on the validation week' "$tmp/work/report.txt"
# the run ends with the metrics table, the submission model's line and where the outputs are
grep -q '^model  *users  *MAP@12' <<< "$out"
grep -q '^best: [a-z]*, MAP@12 0\.[0-9]\{5\}, [0-9.]*% of the oracle, [0-9.]*x the best baseline' <<< "$out"
grep -q "^report: $tmp/work/report.html " <<< "$out"
[ "$(tail -1 <<< "$out")" = "submission: $tmp/work/submission.csv.gz" ]
if grep -q '^Settings' <<< "$out"; then echo "the run's output still ends with the settings"; exit 1; fi
gzip -dc "$tmp/work/submission.csv.gz" | tail -n +2 | grep -c -E '^[0-9a-f]{64},([0-9]{10} ){11}[0-9]{10}$' > "$tmp/n"
[ "$(cat "$tmp/n")" -eq 400 ]
"$bin" features --store "$tmp/work/store" --work "$tmp/work" --week val --users 5 --out "$tmp/f.csv" \
  --set features.image="$tmp/data/image_embeddings.npy" >/dev/null 2>&1
[ "$(head -1 "$tmp/f.csv" | tr ',' '\n' | wc -l)" -eq $((n_list + 2 + 512)) ]
# the network's summary: the reference's three towers have 346,689 parameters
grep -q '^total trainable parameters *346,689$' <<< "$("$bin" model --summary --set nn.pair_tower=0)"
grep -q '^total trainable parameters' <<< "$("$bin" model --summary "$tmp/work/models/nn.model")"
grep -q '^ *1  ' <<< "$("$bin" model --importance "$tmp/work/models/map.model")"
# a boosted model's summary; the retrained models train no longer than they kept on validation
grep -q '^objective *map$' <<< "$("$bin" model --summary "$tmp/work/models/map.model")"
n_final=0
for f in "$tmp"/work/models/final/*.model; do
  [ -e "$f" ] || continue
  m=$(basename "$f" .model)
  if [ "$m" = nn ]; then continue; fi
  kept=$("$bin" model --summary "$tmp/work/models/$m.model" | awk '/^rounds kept/ {print $3}')
  trained=$("$bin" model --summary "$f" | awk '/^rounds trained/ {print $3}')
  [ "$trained" -ge 1 ] && [ "$trained" -le "$kept" ]
  n_final=$((n_final + 1))
done
[ "$n_final" -ge 1 ] || grep -q '^nn' "$tmp/work/models/final/ensemble.tsv"

# an unknown model: a clear error before anything is trained or overwritten
cp "$tmp/work/models/map.model" "$tmp/map.before"
set +e
err=$("$bin" run --config "$conf" --set rank.models=classifier,bogus 2>&1)
rc=$?
set -e
[ $rc -ne 0 ]
grep -q "rank.models.*bogus" <<< "$err"
cmp "$tmp/work/models/map.model" "$tmp/map.before"
# a damaged model file: reading it names it; the submission's command (from the validation
# run's model, not retrained) reruns the rank stage first, saying why, and the model is whole
head -c 1000 "$tmp/map.before" > "$tmp/work/models/map.model"
set +e
err=$("$bin" model --summary "$tmp/work/models/map.model" 2>&1)
rc=$?
set -e
[ $rc -ne 0 ]
grep -q "map.model" <<< "$err"
out=$("$bin" submit --config "$conf" --set run.submit_model=map --set rank.retrain=0 --out "$tmp/sub.csv" 2>&1)
grep -q "^\[rank\] running: $tmp/work/models/map.model is 1000 bytes, not the [0-9]* the stage wrote" <<< "$out"
cmp "$tmp/work/models/map.model" "$tmp/map.before"
test -s "$tmp/sub.csv"
# the reference labelling: one training set of the sample's other customers, labelled with their
# purchases of the training weeks; a wrong value is refused before anything runs
"$bin" run --config "$conf" --set run.work="$tmp/wref" --set rank.labels=reference >"$tmp/ref.log" 2>&1
test -s "$tmp/wref/candidates_reference.hmt"
test -s "$tmp/wref/features_train_1.hmt"
test ! -e "$tmp/wref/features_train_2.hmt"
grep -q '^ensemble ' "$tmp/wref/metrics.txt"
set +e
err=$("$bin" run --config "$conf" --set run.work="$tmp/wbad" --set rank.labels=monthly 2>&1)
rc=$?
set -e
[ $rc -ne 0 ]
grep -q 'rank.labels: expected weekly or reference, found "monthly"' <<< "$err"
test ! -e "$tmp/wbad"
echo "rank cli ok"
