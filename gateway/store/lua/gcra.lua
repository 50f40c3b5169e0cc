-- GCRA (the generic cell rate algorithm), the part of every rate script that
-- decides: one key per budget holds the "theoretical arrival time" (TAT, whole
-- milliseconds). A budget of `limit` per `period` admits a burst of `limit` and then
-- one request every period/limit; unlike a fixed window it never admits 2x at a
-- window edge, and unlike a sliding log it stores one number.
--
-- `now` is the caller's clock (ARGV[1], whole milliseconds), not Redis' TIME, so
-- that the in-memory store, which runs gateway/store/base.py's gcra_step with the
-- same clock, gives the same answers. Processes on different hosts share one
-- timeline as far as their clocks agree (NTP: milliseconds).
--
-- Returns {allowed, tat}: tat after this request (unchanged when refused or when
-- cost is 0, which asks "would one more be allowed?" without spending). The
-- caller turns it into remaining / retry-after / reset (base.py's decision).
local now = tonumber(ARGV[1])
local function gcra(key, interval, period, cost)
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  if now < tat + interval - period then
    return {0, tat}
  end
  if cost > 0 then
    tat = math.floor(tat + interval + 0.5)
    redis.call('SET', key, string.format('%.0f', tat), 'PX', math.max(1, tat - now))
  end
  return {1, tat}
end
