#!/usr/bin/env bash
# Runs every fuzz target in BUILD_DIR for SECONDS each, starting from its seed corpus in
# fuzz/corpus/<target>/ (copied to a scratch directory so the repository is not changed).
set -euo pipefail
build=$1
seconds=${2:-30}
shopt -s nullglob
found=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  found=1
  name=$(basename "$bin")
  work=$(mktemp -d)
  [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
  echo "fuzz: $name for ${seconds}s"
  "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 "$work" 2>&1 | tail -n 3
  rm -rf "$work"
done
[ $found -eq 1 ] || echo "fuzz: no targets built"
