-- Put a claimed timer back as pending if the caller still holds it.
-- KEYS: timers hash, due zset, claims hash
-- ARGV: timer id, token, new timer JSON, new due score, the same JSON
--       taken over (written instead when the stored timer is: a message of
--       it may be out, and the mark stays until the timer is removed)
-- Returns 1 when rescheduled, 0 when the claim was lost.
if not holds(KEYS[3], ARGV[1], ARGV[2]) then return 0 end
local raw = ARGV[3]
local ok, old = pcall(cjson.decode, redis.call('HGET', KEYS[1], ARGV[1]) or '')
if ok and type(old) == 'table' and old.taken_over then raw = ARGV[5] end
redis.call('HSET', KEYS[1], ARGV[1], raw)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
