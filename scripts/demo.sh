#!/usr/bin/env bash
# The README's main command (make demo): generates the small synthetic data set once, then
# runs the pipeline on it with configs/demo.conf and prints the metrics table.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/hmrec}
"$bin" version
if [ ! -f data/small/manifest.txt ]; then
  "$bin" synth --preset small data/small
fi
"$bin" run --config configs/demo.conf
