-- Cancel and schedule an incident's timers, inside the incident's MULTI.
-- KEYS: timers hash, due zset, claims hash
-- ARGV: key base, incident id, cancel-all flag, n cancel ids, the n ids,
--       then per timer to schedule: id, due score, timer JSON, incident id
local timers, due, claims = KEYS[1], KEYS[2], KEYS[3]
local base, incident = ARGV[1], tonumber(ARGV[2])
local ncancel = tonumber(ARGV[4])
local first = 5 + ncancel

local keep = {}
for i = first, #ARGV, 4 do keep[ARGV[i]] = true end

for i = 5, first - 1 do remove_timer(base, timers, due, claims, ARGV[i]) end
if ARGV[3] == '1' then
  for _, id in ipairs(redis.call('SMEMBERS', incident_timers(base, incident))) do
    if not keep[id] then remove_timer(base, timers, due, claims, id) end
  end
end

for i = first, #ARGV, 4 do
  local id = ARGV[i]
  if redis.call('HSETNX', timers, id, ARGV[i + 2]) == 1 then
    redis.call('ZADD', due, ARGV[i + 1], id)
    redis.call('SADD', incident_timers(base, tonumber(ARGV[i + 3])), id)
  end
end
return 0
