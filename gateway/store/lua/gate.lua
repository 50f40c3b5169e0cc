-- A request's store checks in one round trip, in the order their answers take
-- precedence (see base.Gate): peek at a failure budget (an IP past it learns
-- nothing more, so nothing else is read); read some keys; unless the first holds a
-- number at least `stop_at` (a revocation covering the request), spend one from a
-- second budget.
--
-- KEYS: the failure budget, the keys to read, then the budget to spend (if any).
-- ARGV: now, the failure budget's interval and period (ms), the number of keys to
-- read, stop_at ('' for none), then the spent budget's interval and period.
-- Returns {allowed, tat} of the peek, the values read (nil for a missing key), then
-- {allowed, tat} of the spend: each part only if reached.
--
-- Slots: the keys of a company carry its {company} hash tag, the IP's budget does
-- not (failed API keys and sign-ins, which name no company, spend it too). So the
-- script needs a single Redis; under Redis Cluster the peek would have to become a
-- call of its own, ahead of this script.
local guard = gcra(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), 0)
if guard[1] == 0 then
  return guard
end
local n = tonumber(ARGV[4])
local result = {guard[1], guard[2]}
for i = 1, n do
  result[2 + i] = redis.call('GET', KEYS[1 + i])
end
if ARGV[5] ~= '' and result[3] and tonumber(result[3]) >= tonumber(ARGV[5]) then
  return result
end
if #KEYS > n + 1 then
  local spent = gcra(KEYS[n + 2], tonumber(ARGV[6]), tonumber(ARGV[7]), 1)
  result[n + 3] = spent[1]
  result[n + 4] = spent[2]
end
return result
