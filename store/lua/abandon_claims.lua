-- Give back what ClaimDue calls whose caller got no answer may have claimed:
-- the answer was lost, or the call is still on its way and runs later, and
-- nobody holds its tokens. Each timer goes back to being due when it was, as
-- it was: nobody had it, so it is neither an attempt nor a takeover. The
-- caller's record is marked abandoned up to the latest of these calls, so a
-- copy of one that runs after this claims nothing (claim_due.lua).
-- KEYS: due zset, claims hash
-- ARGV: key base, caller, the latest abandoned call's seq, then the token
--       bases of the abandoned calls
-- Returns the number of claims given back.
local due, claims = KEYS[1], KEYS[2]
local calls, seq = claim_calls_key(ARGV[1], ARGV[2]), tonumber(ARGV[3])
local last = redis.call('GET', calls)
if not last or cjson.decode(last).seq <= seq then
  redis.call('SET', calls, cjson.encode({seq = seq, base = '', ids = {}, abandoned = true}), 'PX', CLAIM_CALLS_MS)
end
local bases = {}
for i = 4, #ARGV do bases[ARGV[i]] = true end
local n = 0
local all = redis.call('HGETALL', claims)
for i = 1, #all, 2 do
  local c = cjson.decode(all[i + 1])
  local base = string.match(c.token or '', '^(.+)%-%d+$')
  if base and bases[base] then
    redis.call('ZADD', due, c.due, all[i])
    redis.call('HDEL', claims, all[i])
    n = n + 1
  end
end
return n
