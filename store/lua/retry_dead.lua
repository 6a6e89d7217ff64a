-- Put a dead timer back as pending, if it is still dead as the caller read it.
-- KEYS: timers hash, due zset, claims hash, dead hash, dead index zset
-- ARGV: key base, timer id, dead timer JSON as read, new timer JSON, due score, incident id
-- Returns 1 when put back, 0 when it is no longer dead as read, -1 when a
-- live timer has its id.
local id = ARGV[2]
if redis.call('HGET', KEYS[4], id) ~= ARGV[3] then return 0 end
if redis.call('HEXISTS', KEYS[1], id) == 1 then return -1 end
redis.call('HSET', KEYS[1], id, ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], id)
redis.call('SADD', incident_timers(ARGV[1], tonumber(ARGV[6])), id)
redis.call('HDEL', KEYS[4], id)
redis.call('ZREM', KEYS[5], id)
return 1
