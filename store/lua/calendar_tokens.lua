-- Issues or revokes calendar tokens in one step, so concurrent issues for
-- one person's feed leave exactly one token (WATCH would make the losers
-- fail instead of queueing).
-- KEYS[1]: the calendar tokens hash (id -> JSON).
-- ARGV: user, feed ("" = every feed of user), new id ("" = revoke only), new JSON.
-- Returns the number of tokens deleted, or -1 when the new id is taken.
local key, user, feed, id, data = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if id ~= '' and redis.call('HEXISTS', key, id) == 1 then
  return -1
end
local all = redis.call('HGETALL', key)
local n = 0
for i = 1, #all, 2 do
  local t = cjson.decode(all[i + 1])
  if t.user == user and (feed == '' or t.feed == feed) then
    redis.call('HDEL', key, all[i])
    n = n + 1
  end
end
if id ~= '' then
  redis.call('HSET', key, id, data)
end
return n
