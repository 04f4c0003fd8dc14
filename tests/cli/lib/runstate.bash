# Shared by the run-state tests (interrupt.sh, interrupt_revert.sh, runstate.sh,
# model_checks.sh). Source it with $bin and $tmp set: it starts $tmp afresh with the tiny
# preset in $tmp/data.

rm -rf "$tmp"
mkdir -p "$tmp"
"$bin" synth --preset tiny "$tmp/data" >/dev/null 2>&1

# The md5 of every file of a work directory but those that differ between identical runs: the
# times (stages/*.took), the report (which shows them) and the lock (the holder's process id).
sums() { (cd "$1" && find . -type f ! -name '*.took' ! -name 'report.*' ! -name hmrec.lock | LC_ALL=C sort | xargs md5sum); }
