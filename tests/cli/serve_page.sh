#!/usr/bin/env bash
# hmrec serve's web page in headless Chromium (tests/cli/lib/serve_page.py, the DevTools
# protocol on a pipe), on a run of the tiny preset with article images: a customer's 12
# recommendations with pictures and their strategies, a purchase posted through the form and
# shown, the article page with similar articles, no console error, screenshots saved; the page
# loads nothing from elsewhere (every URL in it is the server's).
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
command -v chromium >/dev/null || { echo "chromium is not installed (scripts/install-deps.sh installs it)"; exit 1; }
. "$(dirname "$0")/lib/serve.bash"
world w 400 '[rank]\nmodels = classifier\n'
serve_token
serve_start w --token-file "$tmp/token" --images "$tmp/w/images"
trap 'kill -KILL $pid 2>/dev/null || true' EXIT
# nothing from elsewhere: no URL with a scheme or a host in the page's three files
for f in / /app.js /app.css; do
  get "$f" >/dev/null
  if grep -Eq 'https?:|//[a-zA-Z0-9-]+\.[a-zA-Z]|@import|url\(' "$tmp/body"; then
    echo "FAIL: $f refers to another site: $(grep -Eo '.{20}(https?:|//[a-zA-Z0-9-]+\.[a-zA-Z]|@import|url\().{20}' "$tmp/body")"
    exit 1
  fi
done
# a customer with purchases
c=$(sed -n 2p "$tmp/w/transactions_train.csv" | cut -d, -f2)
timeout 120 /usr/bin/python3 "$(dirname "$0")/lib/serve_page.py" "$port" "$c" "$(cat "$tmp/token")" "$tmp"
for png in customer posted article; do
  [ "$(head -c 8 "$tmp/$png.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "FAIL: no screenshot $png.png"; exit 1; }
done
serve_stop
trap - EXIT
rm -rf "$tmp"/profile.*
