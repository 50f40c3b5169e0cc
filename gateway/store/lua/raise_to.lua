-- Raise a number, never lower it: for revocation cutoffs, so that an older cutoff
-- written late (a put-back, a replay) cannot undo a newer one.
-- KEYS[1]; ARGV: the value, its time to live (seconds).
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
