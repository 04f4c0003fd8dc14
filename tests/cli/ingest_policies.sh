#!/usr/bin/env bash
# --bad-rows skip counts skipped rows by kind; --missing-refs drop/keep; usage errors exit 2;
# `info` on a damaged store fails with a clear message (exit 1) and leaves no temp files.
set -eu
bin=$1
s=$2
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$s"
mkdir -p "$s/d"
export HMREC_QUIET=1
cp "$here/malformed/base/"*.csv "$s/d/"
c=0000423b00ade91418cceaf3b26c6af3dd342b51fd051eec9c12fb36984420fa
cat >> "$s/d/transactions_train.csv" <<ROWS
2018-09-22,$c,0111565001,abc,2
2018-09-22,$c,0111565001,0.01,9
2018-09-22,$c,0111565001
2018-13-22,$c,0111565001,0.01,1
2018-09-22,$c,0111565001,0.02,1
2018-09-22,ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff,0111565001,0.02,1
2018-09-22,$c,0999999999,0.02,1
ROWS
set +e
"$bin" ingest --data "$s/d" --out "$s/x" --bad-rows skip >"$s/out" 2>"$s/err"
rc=$?
set -e
[ "$rc" -eq 1 ]   # unknown references still fail by default
grep -q 'see --missing-refs' "$s/err"
"$bin" ingest --data "$s/d" --out "$s/drop" --bad-rows skip --missing-refs drop >"$s/out"
grep -q 'skipped 4 bad rows: 1 wrong field count, 1 bad t_dat, 1 bad price, 1 bad sales_channel_id' "$s/out"
grep -q 'unknown references: 2 rows dropped (1 rows name 1 unknown customers, 1 rows name 1 unknown articles)' "$s/out"
grep -q '^table transactions: 4 rows' <<< "$("$bin" info "$s/drop")"
"$bin" ingest --data "$s/d" --out "$s/keep" --bad-rows skip --missing-refs keep >"$s/out"
grep -q 'unknown references: 2 rows kept with placeholders' "$s/out"
"$bin" info "$s/keep" >"$s/info"
grep -q '^table transactions: 6 rows' "$s/info"
grep -q '^table customers: 4 rows' "$s/info"
grep -q '1 placeholder rows' "$s/info"
# usage errors
set +e
"$bin" ingest --data "$s/d" 2>/dev/null; [ $? -eq 2 ] || exit 1
"$bin" ingest --data "$s/d" --out "$s/y" --bad-rows maybe 2>/dev/null; [ $? -eq 2 ] || exit 1
"$bin" info 2>/dev/null; [ $? -eq 2 ] || exit 1
# damaged stores
head -c 1000 "$s/drop/transactions.hmt" > "$s/t" && mv "$s/t" "$s/drop/transactions.hmt"
"$bin" info "$s/drop" 2>"$s/err"; rc=$?
set -e
[ "$rc" -eq 1 ]
grep -q "hmrec: error: could not open store '$s/drop': '$s/drop/transactions.hmt': truncated: the header says" "$s/err"
printf 'not a store' > "$s/drop/articles.hmt"
set +e
"$bin" export "$s/drop" --out "$s/e" 2>"$s/err"; rc=$?
set -e
[ "$rc" -eq 1 ]
grep -q "articles.hmt': not an hmrec table file" "$s/err"
if ls "$s"/*/*.hmrec-tmp.* 2>/dev/null; then echo "temporaries left behind"; exit 1; fi
echo "ingest policies ok"
