-- One budget: KEYS[1]; ARGV: now, interval, period (ms), cost (1 spends, 0 peeks).
return gcra(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
