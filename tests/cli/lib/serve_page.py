"""Drives hmrec serve's web page in headless Chromium over the DevTools protocol (on a pipe: no
port, no network beyond the loopback server): opens a customer, checks the rendered DOM (12
recommendations with a picture or a colour swatch, their strategies, the recent purchases),
posts a purchase through the form and checks that it shows and that the recommendations were
scored again, opens an article page with its similar articles, saves screenshots, and fails on
any console error (a blocked resource, a failed request, a script error).
usage: serve_page.py PORT CUSTOMER TOKEN OUT_DIR"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

port, customer, token, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
base = f"http://127.0.0.1:{port}/"

# fd 3: commands to Chromium, fd 4: its answers and events (each a JSON text ended by a NUL)
to_r, to_w = os.pipe()
from_r, from_w = os.pipe()
profile = tempfile.mkdtemp(dir=out, prefix="profile.")


def child_fds():
    os.dup2(to_r, 3)
    os.dup2(from_w, 4)


browser = subprocess.Popen(
    ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
     "--user-data-dir=" + profile, "--remote-debugging-pipe", "--window-size=1280,1800", "about:blank"],
    preexec_fn=child_fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=open(os.path.join(out, "chromium.err"), "w"))
os.close(to_r)
os.close(from_w)
reader = os.fdopen(from_r, "rb")
writer = os.fdopen(to_w, "wb")
next_id = 0
errors = []
buffered = b""


def receive():
    global buffered
    while b"\0" not in buffered:
        chunk = reader.read1(65536)
        if not chunk:
            raise SystemExit("FAIL: Chromium closed the pipe")
        buffered += chunk
    msg, buffered = buffered.split(b"\0", 1)
    return json.loads(msg)


def note(m):
    method, p = m.get("method"), m.get("params", {})
    if method == "Runtime.exceptionThrown":
        errors.append("exception: " + p["exceptionDetails"].get("text", "") + " " +
                      json.dumps(p["exceptionDetails"].get("exception", {}).get("description", "")))
    elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning"):
        errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
    elif method == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
        errors.append("log: " + p["entry"]["text"] + " " + p["entry"].get("url", ""))


def call(method, params=None, session=None, timeout=30):
    global next_id
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params or {}}
    if session:
        msg["sessionId"] = session
    writer.write(json.dumps(msg).encode() + b"\0")
    writer.flush()
    end = time.time() + timeout
    while time.time() < end:
        m = receive()
        if m.get("id") == next_id:
            if "error" in m:
                raise SystemExit("FAIL: %s: %s" % (method, m["error"]))
            return m.get("result", {})
        note(m)
    raise SystemExit("FAIL: no answer to " + method)


def page_eval(session, expr):
    r = call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True}, session)
    if "exceptionDetails" in r:
        raise SystemExit("FAIL: %s: %s" % (expr[:60], r["exceptionDetails"]))
    return r["result"].get("value")


def wait_state(session, states, what):
    end = time.time() + 30
    while time.time() < end:
        s = page_eval(session, "document.body ? document.body.dataset.state : null")
        if s in states:
            return s
        if s == "error":
            raise SystemExit("FAIL: %s: the page shows an error: %s" % (what, page_eval(session, "document.getElementById('message').textContent")))
        time.sleep(0.1)
    raise SystemExit("FAIL: %s: the page did not get ready" % what)


def images_done(session, what):
    """Waits until every image of the page loaded or failed (a failed one becomes a swatch)."""
    end = time.time() + 30
    while time.time() < end:
        if page_eval(session, "[...document.images].every(i => i.complete)"):
            return
        time.sleep(0.1)
    raise SystemExit("FAIL: %s: images still loading after 30 s" % what)


def screenshot(session, name):
    data = call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)["data"]
    with open(os.path.join(out, name), "wb") as f:
        f.write(base64.b64decode(data))


try:
    target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
        call(domain, None, session)
    call("Page.navigate", {"url": base + "#/customer/" + customer}, session)
    wait_state(session, ("ready",), "the customer")
    images_done(session, "the customer")
    dom = page_eval(session, """(() => {
      const tiles = [...document.querySelectorAll('#c-recs .tile')];
      return {
        recs: tiles.length,
        pictures: tiles.filter(t => { const i = t.querySelector('.picture img');
          return i ? i.complete && i.naturalWidth > 0 : !!t.querySelector('.picture .swatch-name'); }).length,
        why: tiles.filter(t => t.querySelectorAll('.why .chip').length > 0).length,
        names: tiles.filter(t => t.querySelector('.name').textContent.length > 0).length,
        recent: document.querySelectorAll('#c-recent .tile').length,
        id: document.getElementById('c-id').textContent,
        model: document.getElementById('model').textContent,
        form: !!document.querySelector('form#buy button[type=submit]'),
        hidden: document.getElementById('customer').hidden,
      };
    })()""")
    want = {"recs": 12, "pictures": 12, "why": 12, "names": 12, "id": customer, "form": True, "hidden": False}
    for k, v in want.items():
        if dom[k] != v:
            raise SystemExit("FAIL: the customer page: %s is %r, expected %r (%s)" % (k, dom[k], v, dom))
    if not dom["model"].startswith("model "):
        raise SystemExit("FAIL: the model line is %r" % dom["model"])
    screenshot(session, "customer.png")
    first = page_eval(session, "[...document.querySelectorAll('#c-recs .tile')].map(t => t.dataset.article)")
    # a purchase of the first recommendation through the form
    page_eval(session, "document.getElementById('buy-token').value = %s;"
                       "document.getElementById('buy-article').value = %s;"
                       "document.querySelector('form#buy button[type=submit]').click(); true"
              % (json.dumps(token), json.dumps(first[0])))
    wait_state(session, ("posted",), "the post")
    images_done(session, "the post")
    after = page_eval(session, """(() => ({
      recs: [...document.querySelectorAll('#c-recs .tile')].map(t => t.dataset.article),
      posted: [...document.querySelectorAll('#c-recent .tile.posted')].map(t => t.dataset.article),
      message: document.getElementById('message').textContent,
    }))()""")
    if after["posted"][:1] != [first[0]]:
        raise SystemExit("FAIL: the posted purchase is not the newest in the recent purchases: %s" % after)
    if not after["message"].startswith("Posted"):
        raise SystemExit("FAIL: the message after the post: %r" % after["message"])
    if len(after["recs"]) != 12:
        raise SystemExit("FAIL: %d recommendations after the post" % len(after["recs"]))
    screenshot(session, "posted.png")
    # the article page
    call("Page.navigate", {"url": base + "#/article/" + first[1]}, session)
    page_eval(session, "new Promise(r => setTimeout(r, 50))")
    wait_state(session, ("ready",), "the article")
    images_done(session, "the article")
    art = page_eval(session, """(() => ({
      name: document.getElementById('a-name').textContent,
      lists: document.querySelectorAll('#a-similar ol.tiles').length,
      similar: document.querySelectorAll('#a-similar .tile').length,
    }))()""")
    if first[1] not in art["name"] or art["lists"] < 2 or art["similar"] < 10:
        raise SystemExit("FAIL: the article page: %s" % art)
    screenshot(session, "article.png")
    if errors:
        raise SystemExit("FAIL: console: " + " | ".join(errors[:5]))
    print("page ok: 12 recommendations with pictures and strategies, %d recent purchases, a purchase posted "
          "through the form (%d of the 12 changed), an article with %d similar in %d lists; screenshots in %s"
          % (dom["recent"], len(set(after["recs"]) - set(first)), art["similar"], art["lists"], out))
finally:
    try:
        call("Browser.close", timeout=5)
    except BaseException:
        pass
    try:
        browser.wait(timeout=10)
    except subprocess.TimeoutExpired:
        browser.kill()
