-- Delete up to max incidents resolved before a cutoff, oldest first, with
-- their timelines, timers, deliveries and index entries. Each is checked resolved by its
-- index meta, written atomically with it, so a replica running this at the
-- same time as another, or as a write, deletes nothing twice and nothing open.
-- KEYS: timers hash, due zset, claims hash
-- ARGV: key base, cutoff score (unix ms, exclusive), max
-- Returns the number deleted.
local timers, due, claims = KEYS[1], KEYS[2], KEYS[3]
local base = ARGV[1]
local resolved = base .. 'ix:resolved:'
local members = redis.call('ZRANGEBYSCORE', resolved, '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local n = 0
for _, member in ipairs(members) do
  local id = tonumber(member)
  local sid = string.format('%d', id)
  local meta = redis.call('HGET', base .. 'index_meta', sid)
  if not meta or cjson.decode(meta).s ~= 'resolved' then
    -- Not a resolved incident (gone, or a stray entry): never delete it,
    -- and do not let it block the ones behind it.
    redis.call('ZREM', resolved, member)
  else
    drop_index(base, id, meta)
    drop_deliveries(base, id)
    redis.call('DEL', base .. 'incident:' .. sid, base .. 'message:' .. sid, base .. 'timeline:' .. sid)
    redis.call('ZREM', base .. 'incidents', sid)
    redis.call('ZREM', base .. 'status:resolved', sid)
    local its = incident_timers(base, id)
    for _, tid in ipairs(redis.call('SMEMBERS', its)) do remove_timer(base, timers, due, claims, tid) end
    redis.call('DEL', its)
    n = n + 1
  end
end
return n
