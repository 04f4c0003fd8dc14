#!/usr/bin/env bash
# Installs every Debian package hmrec needs to build, test, benchmark and run its demo.
# Idempotent; uses sudo when not root. Debian 12 (bookworm).
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config clang       # compilers (clang for libFuzzer targets)
  libxgboost-dev                               # rankers (XGBoost 1.7 C API)
  libopenblas-dev liblapacke-dev               # dense linear algebra, truncated SVD
  libjpeg62-turbo-dev libpng-dev               # image decoding for the encoder
  zlib1g-dev libzstd-dev                       # .csv.gz submissions, compression
  openmpi-bin libopenmpi-dev                   # runs on many ranks (mpirun; docs/scale.md)
  python3 python3-numpy python3-pandas python3-pil  # benchmarks' baselines, golden vectors
  time                                         # GNU time -v: peak RSS in bench/bench_synth.sh
  chromium libxml2-utils                       # the report's browser test (headless), xmllint
  libmicrohttpd-dev libjansson-dev wrk         # hmrec serve: HTTP, JSON; its load test and benchmark
)
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
