#!/usr/bin/env bash
# ingest -> export -> ingest gives byte-identical stores, for files with every quirk the
# reader accepts (tests/data/quirks: BOM, CRLF, reordered and quoted columns, doubled
# quotes, line breaks in fields, blank lines, no final newline, ids with and without the
# leading zero, exponent prices); the store does not depend on threads or segment size;
# the export is the canonical text in tests/data/quirks_export.
set -eu
bin=$1
s=$2
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$s"
mkdir -p "$s"
export HMREC_QUIET=1
HMREC_THREADS=1 "$bin" ingest --data "$here/data/quirks" --out "$s/a" >/dev/null
HMREC_THREADS=2 "$bin" ingest --data "$here/data/quirks" --out "$s/a2" --segment-bytes 7 >/dev/null
HMREC_THREADS=3 "$bin" ingest --data "$here/data/quirks" --out "$s/a3" --segment-bytes 100 >/dev/null
for f in articles.hmt customers.hmt transactions.hmt; do
  cmp "$s/a/$f" "$s/a2/$f"
  cmp "$s/a/$f" "$s/a3/$f"
done
"$bin" export "$s/a" --out "$s/e" >/dev/null
if [ "${HMREC_UPDATE_EXPECTED:-}" = 1 ]; then
  mkdir -p "$here/data/quirks_export" && cp "$s/e/"*.csv "$here/data/quirks_export/"
fi
for f in articles.csv customers.csv transactions_train.csv; do
  diff -u "$here/data/quirks_export/$f" "$s/e/$f"
done
"$bin" ingest --data "$s/e" --out "$s/b" >/dev/null
for f in articles.hmt customers.hmt transactions.hmt; do
  cmp "$s/a/$f" "$s/b/$f"
done
"$bin" export "$s/b" --out "$s/e2" >/dev/null
diff -r "$s/e" "$s/e2"
# info: tables, rows, date range, sizes
out=$("$bin" info "$s/a")
grep -q '^table transactions: 5 rows' <<< "$out"
grep -q '^table customers: 3 rows' <<< "$out"
grep -q '^table articles: 3 rows' <<< "$out"
grep -q 'dates 2018-09-19 .. 2018-09-23 (5 days), 2 customers with transactions' <<< "$out"
grep -q '^total [0-9]* bytes' <<< "$out"
echo "ingest round trip ok"
