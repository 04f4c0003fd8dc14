#!/usr/bin/env bash
# hmrec candidates and the candidates stage of hmrec run on a small generated data set:
# the artifact, the stats table and plot, the usage errors, and the run's skip logic.
set -eu
bin=$1
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp/data"
awk 'BEGIN {
  print "article_id,product_code,prod_name,product_type_no,product_type_name,product_group_name,graphical_appearance_no,graphical_appearance_name,colour_group_code,colour_group_name,perceived_colour_value_id,perceived_colour_value_name,perceived_colour_master_id,perceived_colour_master_name,department_no,department_name,index_code,index_name,index_group_no,index_group_name,section_no,section_name,garment_group_no,garment_group_name,detail_desc" > "'"$tmp"'/data/articles.csv";
  for (a = 0; a < 40; a++)
    printf "0%09d,%07d,Item %d,%d,Type,Group,1010016,Solid,%d,Colour,4,Dark,5,Black,%d,Dept,A,Ladieswear,1,Ladieswear,15,Section,1009,Garment,Text %d\n", 100000001 + a, 1000 + a, a, 250 + a % 5, a % 7, 1600 + a % 3, a >> "'"$tmp"'/data/articles.csv";
  print "customer_id,FN,Active,club_member_status,fashion_news_frequency,age,postal_code" > "'"$tmp"'/data/customers.csv";
  for (c = 0; c < 200; c++)
    printf "%064x,,,ACTIVE,NONE,30.0,%064x\n", c + 1, 7 >> "'"$tmp"'/data/customers.csv";
  print "t_dat,customer_id,article_id,price,sales_channel_id" > "'"$tmp"'/data/transactions_train.csv";
  srand(3);
  for (c = 0; c < 200; c++) {
    n = int(rand() * 25); taste = int(rand() * 40);
    for (k = 0; k < n; k++) {
      a = rand() < 0.7 ? (taste + int(rand() * 5)) % 40 : int(rand() * 40);
      d = 1 + int(rand() * 28);
      printf "2020-%02d-%02d,%064x,0%09d,0.0254,2\n", int(rand() * 3) + 6, d, c + 1, 100000001 + a >> "'"$tmp"'/data/transactions_train.csv";
    }
  }
}'
"$bin" ingest --data "$tmp/data" --out "$tmp/store" >/dev/null
out=$("$bin" candidates --store "$tmp/store" --work "$tmp/work" --stats --set prepare.train_weeks=2 --set recall.pool=30 --set prepare.min_item_purchases=1 2>/dev/null)
grep -q '^merged pool' <<< "$out"
grep -q '^recall at pool size:  25: ' <<< "$out"
for s in repurchase popular copurchase userknn category text; do grep -q "^$s " <<< "$out"; done
[ -s "$tmp/work/candidates.hmt" ]
grep -q '</svg>' "$tmp/work/candidates_recall.svg"
grep -q 'merged pool' "$tmp/work/candidates_stats.txt"
# the two-stage option: a scorer trained on an earlier week cuts a wide pool to recall.pool;
# the same output twice, at most 30 rows per customer (the artifact reader checks the
# columns), and a scoring week that is not later than the scorer's, or a wide pool smaller
# than the pool, are refused
two="--store $tmp/store --stats --set prepare.train_weeks=2 --set recall.pool=30 --set prepare.min_item_purchases=1 --set recall.wide=60"
out=$("$bin" candidates $two --work "$tmp/two1" 2>/dev/null)
grep -q 'two-stage scorer trained on training week 3' <<< "$out"
grep -q '(wide pool, learned cut)' <<< "$out"
mean=$(sed -n 's/^pool: at most 30 per customer, mean \([0-9.]*\)$/\1/p' <<< "$out")
awk -v m="$mean" 'BEGIN {exit !(m > 0 && m <= 30)}'
[ -s "$tmp/two1/candidates_scorer.model" ]
"$bin" candidates $two --work "$tmp/two2" >/dev/null 2>&1
cmp "$tmp/two1/candidates.hmt" "$tmp/two2/candidates.hmt"
cmp "$tmp/two1/candidates_scorer.model" "$tmp/two2/candidates_scorer.model"
if cmp -s "$tmp/two1/candidates.hmt" "$tmp/work/candidates.hmt"; then echo "the two-stage pool equals the merge's"; exit 1; fi
set +e
"$bin" candidates $two --work "$tmp/two3" --week 3 >/dev/null 2>&1; [ $? -eq 1 ] || exit 1
"$bin" candidates $two --work "$tmp/two3" --set recall.wide=20 >/dev/null 2>&1; [ $? -eq 1 ] || exit 1
set -e
# usage errors exit with 2
set +e
"$bin" candidates --store "$tmp/store" --users nobody >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$bin" candidates --store "$tmp/store" --week test --stats >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$bin" candidates --store "$tmp/store" --reference x.csv >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
"$bin" candidates --store "$tmp/store" --set recall.co_neighbours=300 >/dev/null 2>&1; [ $? -eq 1 ] || exit 1
set -e
# the run: candidates is a stage; a second run skips it, a changed recall setting reruns it
"$bin" run --set run.store="$tmp/store" --set run.work="$tmp/run" --set prepare.train_weeks=2 \
    --set prepare.min_item_purchases=1 >"$tmp/run1.txt" 2>/dev/null
grep -q '^\[candidates\] running' "$tmp/run1.txt"
[ -s "$tmp/run/candidates.hmt" ]
"$bin" run --set run.store="$tmp/store" --set run.work="$tmp/run" --set prepare.train_weeks=2 \
    --set prepare.min_item_purchases=1 >"$tmp/run2.txt" 2>/dev/null
grep -q '^\[candidates\] up to date, skipped' "$tmp/run2.txt"
"$bin" run --set run.store="$tmp/store" --set run.work="$tmp/run" --set prepare.train_weeks=2 \
    --set prepare.min_item_purchases=1 --set recall.pool=20 >"$tmp/run3.txt" 2>/dev/null
grep -q '^\[candidates\] running' "$tmp/run3.txt"
grep -q '^\[prepare\] up to date' "$tmp/run3.txt"
echo "candidates ok"
