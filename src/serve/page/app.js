/* hmrec serve's page: a customer's purchases and recommendations, an article and what is like
 * it, a form to post a purchase. Everything comes from this server's JSON API (docs/serve.md). */
"use strict";

const $ = (id) => document.getElementById(id);
let info = null;              /* GET /v1/info */
let shown = null;             /* the customer on screen and their last recommendations */

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function api(path, options) {
  const r = await fetch(path, options);
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    const msg = body && body.error ? body.error.message : r.status + " " + r.statusText;
    throw new Error(msg);
  }
  return body;
}

function say(text, ok) {
  const m = $("message");
  m.textContent = text;
  m.className = ok ? "ok" : "";
  m.hidden = !text;
}

function done(state) { document.body.dataset.state = state; }

/* ---- articles as tiles --------------------------------------------------------------------- */

/* A colour for the swatch from the article's perceived colour (master and value). */
const MASTER = {
  "Black": [30, 30, 32], "White": [246, 246, 244], "Beige": [222, 202, 170], "Grey": [150, 150, 152],
  "Blue": [52, 92, 168], "Pink": [232, 150, 178], "Lilac Purple": [160, 120, 190], "Red": [196, 40, 46],
  "Mole": [128, 112, 100], "Orange": [236, 128, 44], "Metal": [176, 180, 186], "Brown": [120, 78, 48],
  "Turquoise": [40, 176, 176], "Yellow": [240, 212, 60], "Khaki green": [120, 124, 72], "Green": [56, 140, 72],
  "Yellowish Green": [170, 196, 60], "Bluish Green": [40, 140, 120], "Yellowish Brown": [170, 130, 60],
};
const VALUE = { "Dark": 0.55, "Light": 1.35, "Dusty Light": 1.2, "Medium Dusty": 0.9, "Bright": 1.1, "Medium": 1 };

function swatch(a) {
  const base = MASTER[a.colour_master] || [200, 200, 204];
  const f = VALUE[a.colour_value] || 1;
  const c = base.map((x) => Math.max(0, Math.min(255, Math.round(f >= 1 ? x + (255 - x) * (f - 1) : x * f))));
  return "rgb(" + c.join(",") + ")";
}

function picture(a, large) {
  const p = el("div", { class: "picture" + (large ? " large" : "") });
  const fallback = () => {
    p.textContent = "";
    p.style.backgroundColor = swatch(a);
    p.append(el("span", { class: "swatch-name", text: a.colour || "no colour" }));
  };
  if (a.image) {
    const img = el("img", { src: a.image, alt: a.name });
    img.addEventListener("error", fallback);
    p.append(img);
  } else {
    fallback();
  }
  return p;
}

function articleLink(a, child) {
  return el("a", { href: "#/article/" + a.article_id, title: a.article_id + ": " + a.name }, child);
}

/* A tile: picture, name, type and colour; options: rank, score, why (strategy names), badge. */
function tile(a, o) {
  o = o || {};
  const t = el("li", { class: "tile", "data-article": a.article_id });
  if (o.rank) t.append(el("span", { class: "rank", text: "#" + o.rank }));
  if (o.badge) t.append(el("span", { class: "badge", text: o.badge }));
  t.append(articleLink(a, picture(a)));
  t.append(articleLink(a, el("span", { class: "name", text: a.name })));
  t.append(el("span", { class: "muted", text: a.product_type + " \u00b7 " + a.colour }));
  if (o.line) t.append(el("span", { class: "muted", text: o.line }));
  if (o.score !== undefined) t.append(el("span", { class: "score", text: o.score === null ? "fill" : "score " + o.score.toFixed(4) }));
  if (o.why) {
    const w = el("span", { class: "why" });
    for (const s of o.why) {
      const help = s === "fill" ? "fewer than 12 candidates: last week's best sellers"
        : info && info.strategies[s] ? info.strategies[s] : s;
      w.append(el("span", { class: "chip", title: help, text: s }));
    }
    t.append(w);
  }
  return t;
}

/* ---- the customer view ---------------------------------------------------------------------- */

function fact(dl, name, value) {
  dl.append(el("dt", { text: name }), el("dd", { text: value === null || value === undefined ? "\u2013" : String(value) }));
}

async function showCustomer(id) {
  const [c, r] = await Promise.all([
    api("/v1/customers/" + encodeURIComponent(id)),
    api("/v1/customers/" + encodeURIComponent(id) + "/recommendations?k=12"),
  ]);
  $("c-id").textContent = c.customer_id;
  const dl = $("c-facts");
  dl.textContent = "";
  fact(dl, "age", c.age);
  fact(dl, "club", c.club_member_status);
  fact(dl, "news", c.fashion_news_frequency);
  fact(dl, "purchases", c.purchases + (c.posted ? " (" + c.posted + " posted here)" : ""));
  fact(dl, "first", c.first_day);
  fact(dl, "last", c.last_day);
  $("c-cutoff").textContent = r.cutoff;
  $("c-recs-note").textContent = "Model " + r.model + ", scored on request from " + r.history +
    " purchases of this customer; each article shows the recall strategies that proposed it.";
  const before = shown && shown.id === c.customer_id ? shown.recs : null;
  const recs = $("c-recs");
  recs.textContent = "";
  r.recommendations.forEach((a, i) => {
    let badge = null;
    if (before) {
      const was = before.indexOf(a.article_id);
      badge = was < 0 ? "new" : was > i ? "\u2191" + (was - i) : null;
    }
    const t = tile(a, { rank: a.rank, score: a.score, why: a.why, badge: badge });
    if (badge === "new") t.classList.add("new");
    recs.append(t);
  });
  shown = { id: c.customer_id, recs: r.recommendations.map((a) => a.article_id) };
  const recent = $("c-recent");
  recent.textContent = "";
  for (const a of c.recent) {
    const t = tile(a, { line: a.day + (a.channel === 2 ? " online" : " in store"), badge: a.posted ? "posted" : null });
    if (a.posted) t.classList.add("posted");
    recent.append(t);
  }
  if (!c.recent.length) recent.append(el("li", { class: "muted", text: "No purchases: a cold-start customer." }));
  if (!$("buy-day").value) $("buy-day").value = r.cutoff;
  if (!$("buy-article").value && r.recommendations.length) $("buy-article").value = r.recommendations[0].article_id;
  show("customer");
}

async function postPurchase(ev) {
  ev.preventDefault();
  if (!shown) return;
  const token = $("buy-token").value.trim();
  if (token) sessionStorage.setItem("hmrec-token", token);
  const purchase = {
    customer: shown.id,
    article: $("buy-article").value.trim(),
    day: $("buy-day").value.trim(),
    price: Number($("buy-price").value),
    channel: Number($("buy-channel").value),
  };
  done("posting");
  try {
    await api("/v1/purchases", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
      body: JSON.stringify({ purchases: [purchase] }),
    });
    await showCustomer(shown.id);
    say("Posted: article " + purchase.article + " on " + purchase.day + ". The recommendations above are " +
      "scored again with it (new entries are marked).", true);
    done("posted");
  } catch (e) {
    say("The purchase was not taken: " + e.message);
    done("error");
  }
}

/* ---- the article view -------------------------------------------------------------------- */

async function showArticle(id) {
  const [a, s] = await Promise.all([
    api("/v1/articles/" + encodeURIComponent(id)),
    api("/v1/articles/" + encodeURIComponent(id) + "/similar?k=12"),
  ]);
  const pic = $("a-picture");
  pic.replaceWith(Object.assign(picture(a, true), { id: "a-picture" }));
  $("a-name").textContent = a.name + " (" + a.article_id + ")";
  const dl = $("a-facts");
  dl.textContent = "";
  fact(dl, "type", a.product_type + " (" + a.product_group_name + ")");
  fact(dl, "colour", a.colour + " \u00b7 " + a.colour_value + " " + a.colour_master);
  fact(dl, "appearance", a.graphical_appearance_name);
  fact(dl, "department", a.department_name + ", " + a.section_name);
  fact(dl, "index", a.index_name + " (" + a.index_group + ")");
  fact(dl, "garment group", a.garment_group_name);
  fact(dl, "sold", a.sold + " (" + a.sold_last_week + " in the last week of the data)");
  $("a-desc").textContent = a.detail_desc;
  const box = $("a-similar");
  box.textContent = "";
  for (const l of s.similar) {
    const ol = el("ol", { class: "tiles small" });
    for (const x of l.articles) ol.append(tile(x, { line: "similarity " + x.score.toFixed(3) }));
    box.append(el("h3", { text: "Similar: " + l.label }), ol);
  }
  if (!s.similar.length) box.append(el("p", { class: "muted", text: "No similar articles in the server's tables." }));
  show("article");
}

/* ---- navigation ------------------------------------------------------------------------------- */

function show(section) {
  for (const s of ["welcome", "customer", "article"]) $(s).hidden = s !== section;
}

async function route() {
  const h = decodeURIComponent(location.hash.slice(1));
  say("");
  done("loading");
  try {
    let m;
    if ((m = /^\/customer\/([0-9a-fA-F]{64})$/.exec(h))) {
      $("find-id").value = m[1];
      await showCustomer(m[1]);
    } else if ((m = /^\/article\/([0-9]{1,10})$/.exec(h))) {
      await showArticle(m[1]);
    } else {
      show("welcome");
    }
    done("ready");
  } catch (e) {
    say(e.message);
    done("error");
  }
}

async function start() {
  try {
    info = await api("/v1/info");
    $("model").textContent = "model " + info.model + (info.retrained ? " (retrained)" : "") + " \u00b7 " +
      info.customers.toLocaleString("en") + " customers \u00b7 " + info.articles.toLocaleString("en") +
      " articles \u00b7 data " + info.first_day + " to " + info.last_day;
    if (!info.posting) $("buy-note").textContent = "Posting is off on this server (start it with --token-file).";
  } catch (e) {
    say("The server does not answer: " + e.message);
    done("error");
    return;
  }
  const saved = sessionStorage.getItem("hmrec-token");
  if (saved) $("buy-token").value = saved;
  $("find").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = $("find-id").value.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(id)) { say("A customer id is 64 hexadecimal digits."); return; }
    location.hash = "#/customer/" + id;
  });
  $("random").addEventListener("click", async () => {
    try {
      const c = await api("/v1/customers/random");
      location.hash = "#/customer/" + c.customer_id;
    } catch (e) { say(e.message); }
  });
  $("buy").addEventListener("submit", postPurchase);
  window.addEventListener("hashchange", route);
  await route();
}

start();
