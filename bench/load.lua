-- wrk script for `make bench`: rotates bearer tokens or login bodies and prints one
-- machine-readable line. Everything is configured through the environment:
--   BENCH_PATH, BENCH_METHOD        request line (default GET /healthz)
--   BENCH_TOKENS                    file of access tokens, one a line (sent as Bearer)
--   BENCH_BODIES                    file of JSON bodies, one a line (sent as POST body)
--   BENCH_STOP_AFTER                stop each thread after this many responses (0: run for -d)
-- Requests look as if a TLS-terminating proxy forwarded them (TRUSTED_PROXIES=1).

local path = os.getenv("BENCH_PATH") or "/healthz"
local method = os.getenv("BENCH_METHOD") or "GET"
local stop_after = tonumber(os.getenv("BENCH_STOP_AFTER") or "0")

local function lines(name)
  local items = {}
  if name and name ~= "" then
    for line in io.lines(name) do
      if line ~= "" then items[#items + 1] = line end
    end
  end
  return items
end

local tokens = lines(os.getenv("BENCH_TOKENS"))
local bodies = lines(os.getenv("BENCH_BODIES"))
local counter = 0
local seen = 0

function init(args)
  -- Threads start at different offsets so they do not present the same token in step.
  counter = math.random(1, 100000)
end

function request()
  counter = counter + 1
  local headers = {
    ["X-Forwarded-Proto"] = "https",
    ["X-Forwarded-For"] = "198.51.100.7",
  }
  local body = nil
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[counter % #tokens + 1]
  end
  if #bodies > 0 then
    body = bodies[counter % #bodies + 1]
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, path, headers, body)
end

if stop_after > 0 then
  function response(status, headers, body)
    seen = seen + 1
    if seen >= stop_after then wrk.thread:stop() end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
