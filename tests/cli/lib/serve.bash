# Shared by the hmrec serve tests. Source it after setting $bin (the hmrec binary) and $tmp (a
# scratch directory). Everything listens on 127.0.0.1 only, on a port the system picks.

# world NAME CUSTOMERS CONFIG_LINES: the tiny preset (with article images) with that many
# customers in $tmp/NAME, and a finished run of it (the extra config lines appended) in
# $tmp/NAME/work.
world() {
  local name=$1 customers=$2 extra=$3
  "$bin" synth --preset tiny --images --set "synth.n_customers=$customers" "$tmp/$name" >/dev/null 2>&1
  printf '[run]\ndata = %s\nwork = %s\n[prepare]\ntrain_weeks = 3\nusers = 1000\n[features]\nimage = %s\n%b' \
    "$tmp/$name" "$tmp/$name/work" "$tmp/$name/image_embeddings.npy" "$extra" > "$tmp/$name.conf"
  "$bin" run --config "$tmp/$name.conf" >"$tmp/$name.run.log" 2>&1 || { tail -20 "$tmp/$name.run.log"; return 1; }
}

# id_lists NAME: every customer of world NAME in $tmp/customers, the articles sold in
# $tmp/articles (one id a line).
id_lists() {
  zcat "$tmp/$1/work/submission.csv.gz" | sed 1d | cut -d, -f1 > "$tmp/customers"
  sed 1d "$tmp/$1/transactions_train.csv" | cut -d, -f3 | sort -u > "$tmp/articles"
}

# serve_token: the token file $tmp/token (posts carry "Authorization: Bearer $(cat $tmp/token)").
serve_token() {
  printf 'a-token-for-the-tests-of-hmrec-serve-0123\n' > "$tmp/token"
  chmod 600 "$tmp/token"
}

# serve_start NAME ARGS...: starts hmrec serve on the work directory of world NAME (any free
# port, the arguments added) and waits until it answers; sets $pid and $port.
serve_start() {
  local name=$1
  shift
  "$bin" serve --work "$tmp/$name/work" --listen 127.0.0.1:0 "$@" >"$tmp/serve.out" 2>"$tmp/serve.err" &
  pid=$!
  port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's|.*on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/serve.out")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "hmrec serve exited:"; cat "$tmp/serve.err"; return 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "hmrec serve did not start within 30 s"; cat "$tmp/serve.err"; return 1; }
}

# serve_stop: SIGTERM, then the exit code must be 0 within 20 s.
serve_stop() {
  kill -TERM "$pid"
  local rc=0
  timeout 20 tail --pid="$pid" -f /dev/null || { echo "hmrec serve did not stop within 20 s"; kill -KILL "$pid"; return 1; }
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || { echo "hmrec serve exited with $rc"; cat "$tmp/serve.err"; return 1; }
}

# get PATH [curl args...]: prints "STATUS BODY" of a request (5 s at most).
get() {
  local path=$1
  shift
  curl -s --max-time 5 -o "$tmp/body" -w '%{http_code}' "$@" "http://127.0.0.1:$port$path" >"$tmp/status" || true
  printf '%s %s' "$(cat "$tmp/status")" "$(tr -d '\0' <"$tmp/body" 2>/dev/null)"
}

# expect WHAT STATUS TEXT PATH [curl args...]: the request answers STATUS and its body holds TEXT.
expect() {
  local what=$1 status=$2 text=$3
  shift 3
  local got
  got=$(get "$@")
  case "$got" in
    "$status "*"$text"*) ;;
    *) echo "FAIL: $what: expected $status with \"$text\", got: ${got:0:300}"; return 1 ;;
  esac
}
