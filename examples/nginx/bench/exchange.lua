-- wrk script: POSTs pre-minted assertions to the token endpoint, each once.
--   wrk -t T -c C -d D -s exchange.lua http://127.0.0.1:PORT/oauth2/token -- ASSERTIONS_FILE T
-- Thread k of T sends lines k, k+T, k+2T... of the file; when its share runs
-- out it starts over: the replays are refused, count as non-2xx answers and
-- not as exchanges (size the set so that it does not run out).
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local bodies = {}
local next_index = 0

function init(args)
  local nthreads = tonumber(args[2])
  local prefix = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
  local n = 0
  for line in io.lines(args[1]) do
    if n % nthreads == tid then
      bodies[#bodies + 1] = prefix .. line
    end
    n = n + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = "Basic YmVuY2gtYXBwOmJlbmNoLXNlY3JldA==" -- bench-app:bench-secret
end

function request()
  next_index = next_index + 1
  if next_index > #bodies then next_index = 1 end
  return wrk.format(nil, nil, nil, bodies[next_index])
end

function done(summary, latency, requests)
  -- Only 2xx answers count as exchanges (a replayed assertion is refused).
  local seconds = summary.duration / 1e6
  local exchanges = summary.requests - summary.errors.status
  io.write(string.format(
    "nginx: %d exchanges in %.2f s: %.0f exchanges/s; non-2xx %d, socket errors %d; " ..
    "latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    exchanges, seconds, exchanges / seconds, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
