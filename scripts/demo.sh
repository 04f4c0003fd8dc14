#!/usr/bin/env bash
# The README's main command: generates synthetic data and runs the pipeline on it.
set -euo pipefail
bin=${1:-build/hmrec}
"$bin" version
