-- Shared by the scripts that write or delete incidents: the query indexes.
-- An incident's index meta (a small JSON, see indexMeta in index.go) lists
-- the sorted sets it sits in and their scores; members are the id padded to
-- 19 digits, so equal scores sort by id.
local function index_member(id)
  return string.format('%019d', id)
end

-- write_index moves incident id to the index entries meta lists.
local function write_index(base, id, meta)
  local sid = string.format('%d', id)
  local metas = base .. 'index_meta'
  local old = redis.call('HGET', metas, sid)
  if old == meta then return end
  local member = index_member(id)
  local want = {}
  local entries = cjson.decode(meta).ix
  for _, e in ipairs(entries) do want[e[1]] = e[2] end
  if old then
    for _, e in ipairs(cjson.decode(old).ix) do
      if want[e[1]] == nil then redis.call('ZREM', e[1], member) end
    end
  end
  for _, e in ipairs(entries) do redis.call('ZADD', e[1], e[2], member) end
  redis.call('HSET', metas, sid, meta)
end

-- drop_index removes incident id from every index and drops its meta.
local function drop_index(base, id, meta)
  local member = index_member(id)
  for _, e in ipairs(cjson.decode(meta).ix) do redis.call('ZREM', e[1], member) end
  redis.call('HDEL', base .. 'index_meta', string.format('%d', id))
end
