-- Make every claim of one owner pending again at its original due time.
-- KEYS: due zset, claims hash
-- ARGV: owner
-- Returns the number of timers released.
local due, claims = KEYS[1], KEYS[2]
local all = redis.call('HGETALL', claims)
local n = 0
for i = 1, #all, 2 do
  local c = cjson.decode(all[i + 1])
  if c.owner == ARGV[1] then
    redis.call('ZADD', due, c.due, all[i])
    redis.call('HDEL', claims, all[i])
    n = n + 1
  end
end
return n
