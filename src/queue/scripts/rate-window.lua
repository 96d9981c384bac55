-- Lua helpers shared by the reservation script and `takeRate`. `rate_check` drops entries older than the window and
-- returns 0 when a request may go ahead, else the milliseconds until the oldest entry leaves the window.
-- `rate_take` records an accepted request. A limit of 0 or less means no limit.
local function rate_check(key, now, window, limit)
  if limit <= 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
local function rate_take(key, member, now, window, limit)
  if limit <= 0 then return end
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
