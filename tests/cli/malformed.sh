#!/usr/bin/env bash
# Every case under tests/malformed/<case>/ (files that replace those of tests/malformed/base/)
# must make `hmrec ingest` fail with exit code 1 and exactly the error line in
# <case>/expected (paths relative to the data directory). An optional <case>/args holds
# extra ingest options. HMREC_UPDATE_EXPECTED=1 rewrites the expected files (review them!).
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
scratch=$2
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$scratch"
mkdir -p "$scratch"
n=0
failed=0
for case_dir in "$here"/malformed/*/; do
  name=$(basename "$case_dir")
  [ "$name" = base ] && continue
  d="$scratch/$name"
  mkdir -p "$d"
  cp "$here/malformed/base/"*.csv "$d/"
  cp "$case_dir"*.csv "$d/" 2>/dev/null || true
  args=""
  [ -f "$case_dir/args" ] && args=$(cat "$case_dir/args")
  set +e
  # run from the data directory so that messages name files relatively
  (cd "$d" && HMREC_QUIET=1 HMREC_THREADS=2 "$bin" ingest --data . --out store $args \
     >stdout 2>stderr)
  rc=$?
  set -e
  got=$(sed -e 's|^hmrec: error: \./|hmrec: error: |' "$d/stderr" | grep '^hmrec: error: ' || true)
  got=${got//\.\//}
  if [ "${HMREC_UPDATE_EXPECTED:-}" = 1 ]; then
    printf '%s\n' "$got" > "$case_dir/expected"
  fi
  want=$(cat "$case_dir/expected")
  n=$((n + 1))
  if [ "$rc" -ne 1 ] || [ "$got" != "$want" ]; then
    echo "FAIL $name (exit $rc)"
    echo "  want: $want"
    echo "  got:  $got"
    failed=$((failed + 1))
  fi
  if [ -d "$d/store" ] && ls "$d/store"/*.hmrec-tmp.* >/dev/null 2>&1; then
    echo "FAIL $name: temporary files left behind"
    failed=$((failed + 1))
  fi
done
[ "$n" -ge 30 ] || { echo "only $n malformed cases"; exit 1; }
[ "$failed" -eq 0 ] || exit 1
echo "malformed: $n cases ok"
