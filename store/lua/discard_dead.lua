-- Remove a dead timer for good.
-- KEYS: dead hash, dead index zset
-- ARGV: timer id
-- Returns its JSON, or false when there is none.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return raw
