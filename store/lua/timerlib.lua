-- Shared by the timer scripts. Every key lives under one hash tag, so the
-- per-incident timer sets built from the base name sit on the scripts' slot.
local function incident_timers(base, incident_id)
  return base .. 'incident_timers:' .. string.format('%d', incident_id)
end

-- remove_timer deletes a timer, pending or claimed, and its index entries.
local function remove_timer(base, timers, due, claims, id)
  local raw = redis.call('HGET', timers, id)
  if not raw then return end
  local t = cjson.decode(raw)
  redis.call('HDEL', timers, id)
  redis.call('ZREM', due, id)
  redis.call('HDEL', claims, id)
  redis.call('SREM', incident_timers(base, t.incident_id), id)
end

-- holds reports whether token is the current claim on id.
local function holds(claims, id, token)
  local raw = redis.call('HGET', claims, id)
  return raw and cjson.decode(raw).token == token
end
