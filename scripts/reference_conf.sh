#!/usr/bin/env bash
# Writes configs/reference.conf: a comment header, then the defaults as `hmrec config` prints
# them (tests/cli/docs_config.sh checks that the file is exactly that). Run it after a setting
# or a default changes: scripts/reference_conf.sh [path to hmrec, default build/hmrec]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/hmrec}
{
  echo "# The reference pipeline: 11 training weeks, 1 validation week, 50,000 users (15% cold start),"
  echo "# articles with at least 5 purchases. These are the defaults: \`hmrec config\` prints them, and a"
  echo "# test checks that this file is its output (scripts/reference_conf.sh writes it)."
  echo
  "$bin" config
} > configs/reference.conf.tmp
mv configs/reference.conf.tmp configs/reference.conf
