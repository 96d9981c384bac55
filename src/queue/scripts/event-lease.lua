-- KEYS[1] running, KEYS[2] the member's busy marker; ARGV[1] ref, ARGV[2] lease ms (0: release).
if tonumber(ARGV[2]) == 0 then
  local n = redis.call('ZREM', KEYS[1], ARGV[1])
  if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
  return n
end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[3]) + tonumber(ARGV[2]), ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1
