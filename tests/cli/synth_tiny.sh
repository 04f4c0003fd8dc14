#!/usr/bin/env bash
# hmrec synth writes the tiny preset, --check prints the calibration table, and bad usage
# exits with code 2.
set -eu
bin=$1
dir=$2
rm -rf "$dir"
mkdir -p "$dir"
"$bin" synth --preset tiny --seed 5 "$dir/tiny" > "$dir/out.txt"
grep -q '^synth: preset tiny, seed 5:' "$dir/out.txt"
grep -q '^oracle week 2020-09-16:' "$dir/out.txt"
grep -q '^test week (held out, not in the transactions) 2020-09-23:' "$dir/out.txt"
for f in transactions_train.csv articles.csv customers.csv image_embeddings.npy \
         image_embeddings_ids.txt manifest.txt oracle/summary.tsv \
         oracle/week_2020-09-16_oracle.csv oracle/week_2020-09-16_truth.csv \
         oracle/week_2020-09-23_oracle.csv oracle/week_2020-09-23_truth.csv; do
    [ -s "$dir/tiny/$f" ] || { echo "missing $f"; exit 1; }
done
[ "$(head -1 "$dir/tiny/transactions_train.csv")" = "t_dat,customer_id,article_id,price,sales_channel_id" ]
[ "$(tail -1 "$dir/tiny/transactions_train.csv" | cut -c1-10)" = "2020-09-22" ]
# the tiny preset is too small to match the real statistics: only the table is checked
set +e
"$bin" synth --check "$dir/tiny" > "$dir/check.txt"
rc=$?
"$bin" synth --preset nosuch "$dir/x" 2>/dev/null
rc2=$?
"$bin" synth --check "$dir/nonexistent" 2>/dev/null
rc3=$?
set -e
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]
grep -q '^price median' "$dir/check.txt"
# the breadth of a week's sales has a target only at the real set's scale
grep -q '^distinct articles / 1000 buyers (last week) .* not compared$' "$dir/check.txt"
grep -q '^not compared: targets that hold only at the real set' "$dir/check.txt"
grep -q 'compared rows pass$' "$dir/check.txt"
grep -q '^held-out test week 2020-09-23..2020-09-29 (oracle/ only' "$dir/check.txt"
# the held-out week's truth is checked: an article the data does not know is an error
sed -i '2s/ [0-9]\{10\}$/ 0000000001/; 2s/,[0-9]\{10\}$/,0000000001/' "$dir/tiny/oracle/week_2020-09-23_truth.csv"
set +e
"$bin" synth --check "$dir/tiny" > /dev/null 2> "$dir/err.txt"
rc4=$?
set -e
[ "$rc4" -eq 1 ]
grep -q 'week_2020-09-23_truth.csv:2: expected articles of articles.csv, found 0000000001' "$dir/err.txt"
[ "$rc2" -eq 2 ]
[ "$rc3" -eq 1 ]
rm -rf "$dir"
echo "synth tiny ok"
