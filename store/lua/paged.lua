-- A person's pages of incidents not resolved, with each incident's status
-- from its index meta (small), not its JSON (up to megabytes).
-- KEYS: paged:<user>
-- ARGV: key base
-- Returns member, status, member, status... in index order; status is ''
-- for an incident with no index meta yet (stored before the query indexes
-- and not reindexed), which the caller reads from the incident.
local metas = ARGV[1] .. 'index_meta'
local seen = {}
local out = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local sid = string.format('%d', tonumber(string.sub(member, 1, 19)))
  local st = seen[sid]
  if st == nil then
    local meta = redis.call('HGET', metas, sid)
    st = meta and cjson.decode(meta).s or ''
    seen[sid] = st
  end
  out[#out + 1] = member
  out[#out + 1] = st
end
return out
