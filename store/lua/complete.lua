-- Remove a claimed timer if the caller still holds it.
-- KEYS: timers hash, due zset, claims hash
-- ARGV: key base, timer id, token
-- Returns 1 when removed, 0 when the claim was lost.
if not holds(KEYS[3], ARGV[2], ARGV[3]) then return 0 end
remove_timer(ARGV[1], KEYS[1], KEYS[2], KEYS[3], ARGV[2])
return 1
