-- Claims the next waiting avatar-event entry of a platform (scheduler.ts): lapsed claims go back to waiting, then the
-- first waiting ref whose community is under its cap and whose member has nothing in flight is moved to running.
-- KEYS: 1 waiting, 2 running. ARGV: 1 now, 2 community cap, 3 lease ms, 4 scan limit, 5 busy-marker key prefix.
-- Returns the claimed ref, or false.
local now = tonumber(ARGV[1])
for _, ref in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('ZREM', KEYS[2], ref)
  redis.call('ZADD', KEYS[1], 0, ref)
end
local counts = {}
for _, ref in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local scope = string.match(ref, '^([^|]*)|')
  counts[scope] = (counts[scope] or 0) + 1
end
local cap = tonumber(ARGV[2])
for _, ref in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))) do
  local scope, user = string.match(ref, '^([^|]*)|[^|]*|([^|]*)|')
  if scope and (counts[scope] or 0) < cap and redis.call('EXISTS', ARGV[5] .. user) == 0 then
    redis.call('ZREM', KEYS[1], ref)
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ref)
    redis.call('SET', ARGV[5] .. user, ref, 'PX', tonumber(ARGV[3]))
    return ref
  end
end
return false
