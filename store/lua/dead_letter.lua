-- Move a claimed timer into the dead-letter set if the caller still holds it.
-- KEYS: timers hash, due zset, claims hash, dead hash, dead index zset
-- ARGV: key base, timer id, token, dead timer JSON, dead-lettered-at score
-- Returns 1 when moved, 0 when the claim was lost.
if not holds(KEYS[3], ARGV[2], ARGV[3]) then return 0 end
remove_timer(ARGV[1], KEYS[1], KEYS[2], KEYS[3], ARGV[2])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[2])
return 1
