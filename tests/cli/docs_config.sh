#!/usr/bin/env bash
# docs/config.md's settings table stays true: every setting `hmrec config` prints is in the
# table with the same default, and the table names no setting that does not exist; and
# configs/reference.conf is the defaults.
set -euo pipefail
bin=$1
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
doc=$(cd "$(dirname "$0")/../.." && pwd)/docs/config.md
# key default, from the binary (comments carry "(default: X)")
"$bin" config | awk '/^\[/ {sec = substr($0, 2, length($0) - 2); next}
  /^[a-z_]+ *=/ {key = $1; d = $0; sub(/.*\(default: /, "", d); sub(/\)$/, "", d); if (d == "empty") d = "(empty)"; print sec "." key, d}' \
  | sort > "$tmp/bin.txt"
# key default, from the table rows "| key | default | meaning |"
awk -F'|' '/^\| [a-z_]+\.[a-z_]+ \|/ {k = $2; d = $3; gsub(/ /, "", k); gsub(/^ +| +$/, "", d); print k, d}' "$doc" \
  | sort > "$tmp/doc.txt"
if ! diff "$tmp/bin.txt" "$tmp/doc.txt"; then
  echo "docs/config.md's settings table differs from 'hmrec config' (< binary, > docs)"
  exit 1
fi
# configs/reference.conf is the defaults as `hmrec config` prints them (after its comment header)
conf=$(cd "$(dirname "$0")/../.." && pwd)/configs/reference.conf
if ! diff <(grep -v '^#' "$conf" | sed '/^$/d') <("$bin" config | sed '/^$/d'); then
  echo "configs/reference.conf differs from 'hmrec config' (> binary): run scripts/reference_conf.sh"
  exit 1
fi
echo "docs config ok ($(wc -l < "$tmp/bin.txt") settings)"
