#!/usr/bin/env bash
# Interrupted runs resume: `hmrec run` killed (SIGKILL, as kill -9, or SIGINT, as Ctrl-C) at
# many points of every stage, then run again, must finish with outputs identical, byte for
# byte, to an uninterrupted run, and leave no temporary file behind. The kill points come
# from HMREC_FAULT (core.h: hm_fault_point): "write" before the rename of every file,
# "stage" after a stage ran and before its record is written, "block" after each streamed
# block of candidates; "full" fails a file as a full disk would (tests/cli/interrupt_revert.sh:
# a setting changed, the run killed, the setting put back).
set -euo pipefail
bin=$1
tmp=$2
. "$(dirname "$0")/lib/runstate.bash"
conf() { printf '[run]\ndata = %s\nwork = %s\n[prepare]\ntrain_weeks = 3\nusers = 200\n' "$tmp/data" "$1"; }

conf "$tmp/ref" > "$tmp/ref.conf"
"$bin" run --config "$tmp/ref.conf" >/dev/null 2>&1
sums "$tmp/ref" > "$tmp/ref.sums"
n_files=$(wc -l < "$tmp/ref.sums")
[ "$n_files" -ge 18 ]

# every point of the list kills a run somewhere; the rerun must complete it exactly
points="write:1 write:2 write:3 write:5 write:7 write:9 write:11 write:13 write:16 write:19 write:22
        write:25 write:29 write:33 write:37
        stage:1 stage:2 stage:3 stage:4 stage:5 stage:6 stage:7 stage:8 block:1 block:2 block:4
        write:4:INT stage:3:INT block:3:INT"
killed=0
for pt in $points; do
  w="$tmp/w_${pt//:/_}"
  conf "$w" > "$tmp/run.conf"
  set +e
  (HMREC_FAULT=$pt "$bin" run --config "$tmp/run.conf" >"$tmp/kill.log" 2>&1) 2>/dev/null
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    [ $rc -eq 137 ] || [ $rc -eq 130 ] || { echo "$pt: exit $rc"; cat "$tmp/kill.log"; exit 1; }
    killed=$((killed + 1))
  fi
  "$bin" run --config "$tmp/run.conf" >"$tmp/resume.log" 2>&1 || { echo "$pt: resume failed"; cat "$tmp/resume.log"; exit 1; }
  if find "$w" -name '*.hmrec-tmp.*' | grep -q .; then echo "$pt: temporaries left"; find "$w" -name '*.hmrec-tmp.*'; exit 1; fi
  sums "$w" > "$tmp/w.sums"
  if ! diff -q "$tmp/ref.sums" "$tmp/w.sums" >/dev/null; then
    echo "$pt: outputs differ from an uninterrupted run"; diff "$tmp/ref.sums" "$tmp/w.sums"; exit 1
  fi
  rm -rf "$w"
done
# the list must really interrupt runs, not pass by never firing
[ "$killed" -ge 28 ] || { echo "only $killed of the points fired"; exit 1; }

# A full disk: the file being written fails (ENOSPC); the run stops with an error naming it,
# leaves no temporary, and the next run (space back) ends with the reference's bytes.
full=0
for k in 1 13 25 37 49; do
  w="$tmp/f_$k"
  conf "$w" > "$tmp/run.conf"
  set +e
  HMREC_FAULT=full:$k "$bin" run --config "$tmp/run.conf" >"$tmp/full.log" 2>&1
  rc=$?
  set -e
  [ $rc -eq 1 ] || { echo "full:$k: exit $rc"; cat "$tmp/full.log"; exit 1; }
  grep -q "^hmrec: error: .*could not write '[^']*': No space left on device" "$tmp/full.log" ||
    { echo "full:$k: no clear error"; cat "$tmp/full.log"; exit 1; }
  if find "$w" -name '*.hmrec-tmp.*' | grep -q .; then echo "full:$k: temporaries left"; exit 1; fi
  "$bin" run --config "$tmp/run.conf" >"$tmp/resume.log" 2>&1 || { echo "full:$k: rerun failed"; cat "$tmp/resume.log"; exit 1; }
  sums "$w" > "$tmp/w.sums"
  diff -q "$tmp/ref.sums" "$tmp/w.sums" >/dev/null || { echo "full:$k: outputs differ"; diff "$tmp/ref.sums" "$tmp/w.sums"; exit 1; }
  full=$((full + 1))
  rm -rf "$w"
done
echo "interrupt ok ($killed interrupted runs resumed, $full full disks: all identical to an uninterrupted run)"
