-- Stores an image under the event if it still exists, listing it in the event's files first. 1 or 0 (gone).
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], KEYS[3])
redis.call('SET', KEYS[3], ARGV[1], 'PXAT', ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
return 1
