#!/usr/bin/env bash
# hmrec version runs, picks an OpenBLAS kernel, and unknown commands fail with exit code 2.
set -eu
bin=$1
out=$("$bin" version)
grep -q '^blas kernel: ' <<< "$out"
set +e
"$bin" no-such-command 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 2 ]
echo "version ok"
