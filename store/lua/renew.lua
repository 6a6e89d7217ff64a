-- Extend a claim the caller still holds to a full lease from now, on the
-- lease clock (store_now), so a holder still at work keeps its timer.
-- KEYS: timers hash, due zset, claims hash
-- ARGV: key base, timer id, token, now score ('' = the store's clock), lease ms
-- Returns the new lease-until score, or -1 when the claim was lost.
local now = store_now(ARGV[1], KEYS[3], KEYS[2], ARGV[4])
if not holds(KEYS[3], ARGV[2], ARGV[3]) then return -1 end
local until_score = now + tonumber(ARGV[5])
redis.call('ZADD', KEYS[2], until_score, ARGV[2])
return until_score
