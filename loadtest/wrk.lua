-- Buyers rushing one event, for wrk (docs/load-testing.md):
--
--   LOADTEST_RUN=run.json wrk -t2 -c64 -d60s --latency -s loadtest/wrk.lua http://127.0.0.1:8080
--
-- Reads the run file written by `flask loadtest prepare` (LOADTEST_RUN, default run.json):
-- every request is POST <api_prefix>/orders for the run's event and quantity, with the
-- next buyer's token (round robin) and a fresh Idempotency-Key. The URL on the command line
-- gives only the host; the path comes from here. The id of every order answered 201 is
-- appended to the run's orders file (`flask loadtest verify` checks them), and at the end
-- the count of each status is printed next to wrk's latency distribution.
--
-- wrk is closed-loop (each connection waits for its answer) and does not retry: a 503's
-- Retry-After is counted, not honoured. Its latency hides coordinated omission; use k6.js
-- (an open model) for tail latency at a given arrival rate.

local run_path = os.getenv("LOADTEST_RUN") or "run.json"

local function read_run()
  local file = assert(io.open(run_path, "r"), "cannot read " .. run_path .. " (set LOADTEST_RUN)")
  local text = file:read("*a")
  file:close()
  -- The file is JSON written by prepare; these few fields are read with patterns.
  local run = {
    prefix = text:match('"api_prefix"%s*:%s*"([^"]+)"') or "/api/v1",
    event_id = assert(text:match('"event"%s*:%s*{%s*"id"%s*:%s*"([^"]+)"'), "no event id in " .. run_path),
    quantity = tonumber(text:match('"quantity"%s*:%s*(%d+)') or "1"),
    orders_file = text:match('"orders_file"%s*:%s*"([^"]+)"'),
    tokens = {},
  }
  for token in text:gmatch('"token"%s*:%s*"([^"]+)"') do
    run.tokens[#run.tokens + 1] = token
  end
  assert(#run.tokens > 0, "no buyers in " .. run_path)
  return run
end

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  run = read_run()
  statuses = {}
  counter = 0
  nonce = string.format("%d-%d-%d", os.time(), thread_number, math.random(1, 1e9))
  body = string.format('{"event_id":"%s","quantity":%d}', run.event_id, run.quantity)
  path = run.prefix .. "/orders"
  local folder = run_path:match("^(.*)/[^/]*$")
  if run.orders_file then
    orders = io.open((folder and (folder .. "/") or "") .. run.orders_file, "a")
  end
  -- threads start at different buyers
  counter = (thread_number - 1) * math.floor(#run.tokens / math.max(#threads, 1))
end

function request()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. run.tokens[(counter % #run.tokens) + 1],
    ["Idempotency-Key"] = nonce .. "-" .. counter,
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, response_body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 and orders then
    local id = response_body:match('"id"%s*:%s*"([^"]+)"')
    if id then
      orders:write(id, "\n")
      orders:flush()
    end
  end
end

function done(summary, latency, requests)
  local totals, codes = {}, {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      if not totals[status] then
        codes[#codes + 1] = status
      end
      totals[status] = (totals[status] or 0) + count
    end
  end
  table.sort(codes)
  io.write(string.format("statuses of POST /orders (%d responses):\n", summary.requests))
  for _, status in ipairs(codes) do
    io.write(string.format("  %d: %d\n", status, totals[status]))
  end
  for _, p in ipairs({ 50, 90, 99 }) do
    io.write(string.format("  p%d: %.1f ms\n", p, latency:percentile(p) / 1000))
  end
end
