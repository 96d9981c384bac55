-- Checks and records one request against a sliding-window rate limit (rate-limit.ts `takeRate`).
-- KEYS: 1 rate log. ARGV: 1 now, 2 window ms, 3 limit, 4 member. Returns 0 when recorded, else ms to wait.
-- include rate-window.lua
local wait = rate_check(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
if wait > 0 then return wait end
rate_take(KEYS[1], ARGV[4], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
return 0
