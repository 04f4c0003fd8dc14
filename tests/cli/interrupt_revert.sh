#!/usr/bin/env bash
# A setting changed, the run killed (kill -9) at each of its points, then the setting put back:
# the next run must not take what the killed one half-rewrote as up to date, whatever the
# settings were in between; it ends with the bytes of a clean run. The points are every file
# the changed run renames into place (HMREC_FAULT=write:K, K = 1, 2, ... until the run
# finishes) and the end of each of its stages (stage:K, before the stage's record). Two
# models (a boosted one and the network) keep it short; interrupt.sh runs every model.
set -euo pipefail
bin=$1
tmp=$2
. "$(dirname "$0")/lib/runstate.bash"
conf() { printf '[run]\ndata = %s\nwork = %s\n[prepare]\ntrain_weeks = 3\nusers = 200\n[rank]\nmodels = classifier,nn\n' "$tmp/data" "$1"; }

conf "$tmp/ref" > "$tmp/ref.conf"
"$bin" run --config "$tmp/ref.conf" >/dev/null 2>&1
sums "$tmp/ref" > "$tmp/ref.sums"

# A setting changed (a smaller candidate pool: candidates and every later stage rewrite their
# files), the run killed at each of its points, then the setting put back: the next run must
# not take what the killed one half-rewrote as up to date; it ends with the reference's bytes.
changed=0
# one point: 0 when the changed run was killed there and the reverted rerun matched, 1 when the
# changed run finished before reaching it
revert_at() {
  local pt=$1 w="$tmp/c_${1//:/_}" rc
  cp -a "$tmp/ref" "$w"
  conf "$w" > "$tmp/run.conf"
  set +e
  (HMREC_FAULT=$pt "$bin" run --config "$tmp/run.conf" --set recall.pool=50 >"$tmp/kill.log" 2>&1) 2>/dev/null
  rc=$?
  set -e
  if [ $rc -eq 0 ]; then
    rm -rf "$w"
    return 1
  fi
  [ $rc -eq 137 ] || { echo "$pt: exit $rc"; cat "$tmp/kill.log"; exit 1; }
  changed=$((changed + 1))
  "$bin" run --config "$tmp/run.conf" >"$tmp/resume.log" 2>&1 || { echo "$pt: rerun failed"; cat "$tmp/resume.log"; exit 1; }
  sums "$w" > "$tmp/w.sums"
  if ! diff -q "$tmp/ref.sums" "$tmp/w.sums" >/dev/null; then
    echo "$pt: changed, killed, reverted: outputs differ from an uninterrupted run"; diff "$tmp/ref.sums" "$tmp/w.sums"
    exit 1
  fi
  rm -rf "$w"
}
k=1
while revert_at "write:$k"; do k=$((k + 1)); done
writes=$((k - 1))
# candidates, features, rank, evaluate, retrain, submit, report
for s in 1 2 3 4 5 6 7; do
  revert_at "stage:$s" || { echo "stage:$s: the changed run was not interrupted"; exit 1; }
done
[ "$writes" -ge 40 ] || { echo "only $writes write points: the changed run should rewrite more"; exit 1; }

echo "interrupt_revert ok ($changed runs with a changed setting killed at each of their points ($writes files," \
  "7 stages) and the setting put back: all identical to an uninterrupted run)"
