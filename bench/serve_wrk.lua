-- wrk script for hmrec serve (bench/bench_serve.sh, tests/cli/serve_load.sh): each request asks
-- a random customer's recommendations; with POST_SHARE > 0 that share of the requests post one
-- purchase of a random customer and article instead. Environment: CUSTOMERS (file, one id a
-- line), ARTICLES (file, one id a line), POST_SHARE (0..1), TOKEN (the server's token).
local customers, articles = {}, {}
local post_share, token = tonumber(os.getenv("POST_SHARE") or "0"), os.getenv("TOKEN") or ""

local function lines(path, into)
  for l in io.lines(path) do
    if #l > 0 then into[#into + 1] = l end
  end
end

-- each thread its own fixed seed
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  lines(os.getenv("CUSTOMERS"), customers)
  if post_share > 0 then lines(os.getenv("ARTICLES"), articles) end
  math.randomseed(42 + (id or 0))
end

function request()
  local c = customers[math.random(#customers)]
  if post_share > 0 and math.random() < post_share then
    local a = articles[math.random(#articles)]
    local body = string.format('{"purchases":[{"customer":"%s","article":"%s","day":"%s","price":0.0254,"channel":2}]}',
                               c, a, os.getenv("DAY") or "2020-09-23")
    return wrk.format("POST", "/v1/purchases", {["Authorization"] = "Bearer " .. token,
                                                ["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/v1/customers/" .. c .. "/recommendations?k=12")
end

function done(summary, latency, requests)
  io.write(string.format("requests %d, errors connect %d read %d write %d timeout %d status %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency p%s %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("rate %.1f requests/s\n", summary.requests / (summary.duration / 1e6)))
end
