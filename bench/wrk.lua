-- One wrk script for every scenario; the scenario itself is a Lua table written by
-- the benchmark (BENCH_SPEC names the file). It checks every response's status and
-- body, not only wrk's own non-2xx count, and prints one summary line for Python.
--
-- Rotating scenarios cycle through `requests`. The mutation scenario gives each
-- thread its own subscriptions and walks them in order: request n acts on
-- subscription (n - 1) % #pool, pausing on even laps and reactivating on odd ones,
-- so a subscription's next action is sent only after a whole lap (far more than the
-- requests in flight) and never races its previous one.

local spec = dofile(os.getenv("BENCH_SPEC"))
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  bad = 0
  sample = ""
  n = 0
  if spec.requests then
    formatted = {}
    for i, r in ipairs(spec.requests) do
      formatted[i] = wrk.format(spec.method, r.path, r.headers, r.body)
    end
  else
    pool = spec.pools[tid]
    -- wrk calls the first thread's request() once before the run, to check the
    -- script (script_verify_request), and never sends what it returns: start that
    -- thread one step back, so that call does not use up subscription 1's pause.
    if tid == 1 then
      n = -1
    end
  end
end

function request()
  n = n + 1
  if formatted then
    return formatted[(n - 1) % #formatted + 1]
  end
  local item = pool[(n - 1) % #pool + 1]
  local lap = math.floor((n - 1) / #pool) % 2
  local body = string.format(spec.templates[lap + 1], item.sub, spec.nonce .. "-" .. tid .. "-" .. n)
  return wrk.format(spec.method, spec.path, item.headers, body)
end

function response(status, headers, body)
  if status ~= spec.expect_status
     or not string.find(body, spec.expect, 1, true)
     or (spec.reject and string.find(body, spec.reject, 1, true)) then
    bad = bad + 1
    if sample == "" then
      sample = status .. " " .. string.sub(body, 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local total_bad = 0
  local first = ""
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    if first == "" then first = t:get("sample") end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "bad=%d p50=%d p90=%d p99=%d max=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    total_bad, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
  if first ~= "" then
    io.write("BENCH_SAMPLE " .. string.gsub(first, "\n", " ") .. "\n")
  end
end
