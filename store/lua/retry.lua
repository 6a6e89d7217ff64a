-- Put a claimed timer back as pending if the caller still holds it.
-- KEYS: timers hash, due zset, claims hash
-- ARGV: timer id, token, new timer JSON, new due score
-- Returns 1 when rescheduled, 0 when the claim was lost.
if not holds(KEYS[3], ARGV[1], ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
