-- Read the non-resolved incident holding a dedup key, in one round trip.
-- KEYS: the dedup key, then optionally its legacy form (a long key as it is,
--       from before long keys were indexed by digest), read if the first is missing
-- ARGV: key base
-- Returns {holder id or 0, incident record JSON or false, message or false}.
local holder = redis.call('GET', KEYS[1])
if not holder and KEYS[2] then holder = redis.call('GET', KEYS[2]) end
if not holder then return {0, false, false} end
return {tonumber(holder), redis.call('GET', ARGV[1] .. 'incident:' .. holder), redis.call('GET', ARGV[1] .. 'message:' .. holder)}
