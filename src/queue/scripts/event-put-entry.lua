-- Writes an entry if its slot still holds revision ARGV[2] (0: empty) and the event still exists; optionally moves
-- the slot's pending ref (ARGV[4] added with score ARGV[5], ARGV[6] removed) in the same step. Returns 1 on success,
-- 0 when the slot moved on (a newer submission, a leave), -1 when the event is gone.
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local rev = 0
if cur then rev = cjson.decode(cur).rev end
if rev ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
if ARGV[6] ~= '' then redis.call('ZREM', KEYS[2], ARGV[6]) end
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4]) end
return 1
