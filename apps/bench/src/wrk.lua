-- wrk script of the closed-loop generator. The requests were drawn in advance (generator.ts writes
-- them, one per line: method, path, token, body, tab-separated); each thread formats them once and
-- then only cycles through them, so the generator's per-request cost is wrk's own.
local file = os.getenv("BENCH_REQUESTS")
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local requests = {}
local next_index = 1
-- Globals, not locals: done() reads each thread's counters with thread:get.
s2xx, s4xx, s5xx, other = 0, 0, 0, 0

function init(args)
  for line in io.lines(file) do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["Authorization"] = "Bearer " .. token }
    if body ~= "" then
      headers["Content-Type"] = "application/json"
    else
      body = nil
    end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
  -- Threads start at different places of the same draw.
  next_index = 1 + (id or 0) * 997 % #requests
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function response(status, headers, body)
  if status >= 500 then
    s5xx = s5xx + 1
  elseif status >= 400 then
    s4xx = s4xx + 1
  elseif status >= 200 and status < 300 then
    s2xx = s2xx + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local totals = { s2xx = 0, s4xx = 0, s5xx = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"errors":%d,"timeouts":%d,"s2xx":%d,"s4xx":%d,"s5xx":%d,"other":%d,"p50Us":%d,"p95Us":%d,"p99Us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write, e.timeout,
    totals.s2xx, totals.s4xx, totals.s5xx, totals.other,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
