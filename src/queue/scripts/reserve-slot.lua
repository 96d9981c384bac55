-- The reservation of a portrait submit, atomic (slots.ts): duplicate check, selfies still there, both in-flight caps,
-- the per-user rate limit, then the reservation and the job-list record.
-- KEYS: 1 user in flight, 2 community in flight, 3 user's job list, 4 the job's BullMQ hash, 5 wait list,
--       6 rate log, 7.. selfie blobs.
-- ARGV: 1 job id, 2 now, 3 deadline, 4 user cap, 5 community cap, 6 ttl s, 7 summary, 8 rate limit, 9 window ms,
--       10 rate member.
-- Returns {outcome, n}: ok (n = waiting), duplicate, missing (n = selfie), user, scope, rate (n = wait ms).
-- include rate-window.lua
if redis.call('EXISTS', KEYS[4]) == 1 or redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {'duplicate', 0} end
for i = 7, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then return {'missing', i - 6} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return {'user', 0} end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return {'scope', 0} end
local wait = rate_check(KEYS[6], tonumber(ARGV[2]), tonumber(ARGV[9]), tonumber(ARGV[8]))
if wait > 0 then return {'rate', wait} end
rate_take(KEYS[6], ARGV[10], tonumber(ARGV[2]), tonumber(ARGV[9]), tonumber(ARGV[8]))
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
-- The job list's own TTL restarts with every submit: records older than the TTL go one by one.
local records = redis.call('HGETALL', KEYS[3])
local oldest = tonumber(ARGV[2]) - tonumber(ARGV[6]) * 1000
for i = 1, #records, 2 do
  local ok, record = pcall(cjson.decode, records[i + 1])
  local at = ok and type(record) == 'table' and tonumber(record.submittedAt)
  if at and at <= oldest then redis.call('HDEL', KEYS[3], records[i]) end
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[7])
redis.call('EXPIRE', KEYS[3], ARGV[6])
return {'ok', redis.call('LLEN', KEYS[5])}
