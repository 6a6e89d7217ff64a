-- Get, add, replace or remove one timer that belongs to no incident, and
-- return it as it was. One script, so a replace cannot interleave with a
-- claim on another replica: the claim is either lost or never made.
-- KEYS: timers hash, due zset, claims hash
-- ARGV: key base, op (get, add, replace, remove), timer id, due score, timer JSON
-- Returns {0} when there was no timer, {1, timer JSON} when there was one,
-- {-1, incident id} when it belongs to an incident (nothing changed).
local timers, due, claims = KEYS[1], KEYS[2], KEYS[3]
local op, id = ARGV[2], ARGV[3]
local raw = redis.call('HGET', timers, id)
if raw then
  local owner = cjson.decode(raw).incident_id or 0
  if owner ~= 0 then return {-1, owner} end
end
local prev = {0}
if raw then prev = {1, raw} end
if op == 'get' or (op == 'add' and raw) then return prev end
if raw then remove_timer(ARGV[1], timers, due, claims, id) end
if op == 'remove' then return prev end
redis.call('HSET', timers, id, ARGV[5])
redis.call('ZADD', due, ARGV[4], id)
return prev
