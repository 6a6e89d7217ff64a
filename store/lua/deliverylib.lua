-- Shared by the scripts that write or delete incidents: the deliveries
-- (redis_deliveries.go). deliveries:<id> is a list of delivery JSON in write
-- order; paged:<user> is a sorted set of that person's pages of incidents not
-- resolved, score = incident id, member = the id padded to 19 digits followed
-- by the delivery JSON as it is in the list; posted is a hash of every
-- delivery with a provider id, field = channel, a line feed and the provider
-- id, value = the delivery's member as in paged:<user>, the first delivery of
-- a provider id keeping it (store.indexedPosted).
local function delivery_member(id, raw)
  return string.format('%019d', id) .. raw
end

-- paged_key is the index a delivery goes in, nil for none: only pages to a
-- person are indexed (store.indexedPage).
local function paged_key(base, raw)
  local d = cjson.decode(raw)
  if d.kind == 'page' and type(d.user) == 'string' and d.user ~= '' then
    return base .. 'paged:' .. d.user
  end
  return nil
end

-- posted_field is the field of the posted hash a delivery goes under, nil
-- for none.
local function posted_field(raw)
  local d = cjson.decode(raw)
  if type(d.provider_id) == 'string' and d.provider_id ~= '' then
    return d.channel .. '\n' .. d.provider_id
  end
  return nil
end

-- index_posted files incident id's delivery raw by its provider id, unless
-- a delivery holds that id already.
local function index_posted(base, id, raw)
  local field = posted_field(raw)
  if field then redis.call('HSETNX', base .. 'posted', field, delivery_member(id, raw)) end
end

-- index_deliveries adds (add true) or removes every delivery of incident id
-- to or from the by-person index: on a reopen, a resolve, and retention.
local function index_deliveries(base, id, add)
  for _, raw in ipairs(redis.call('LRANGE', base .. 'deliveries:' .. string.format('%d', id), 0, -1)) do
    local key = paged_key(base, raw)
    if key and add then
      redis.call('ZADD', key, id, delivery_member(id, raw))
    elseif key then
      redis.call('ZREM', key, delivery_member(id, raw))
    end
  end
end

-- write_deliveries appends the ARGV[i] delivery JSONs that follow it to
-- incident id's list, indexing them while the incident is not resolved, and
-- moves the incident's entries when cur_status to next_status resolves or
-- reopens it. Returns the index of the ARGV after them.
local function write_deliveries(base, id, cur_status, next_status, i)
  local n = tonumber(ARGV[i])
  local holds = next_status ~= 'resolved'
  local held = cur_status ~= '' and cur_status ~= 'resolved'
  for j = i + 1, i + n do
    redis.call('RPUSH', base .. 'deliveries:' .. string.format('%d', id), ARGV[j])
    local key = holds and paged_key(base, ARGV[j])
    if key then redis.call('ZADD', key, id, delivery_member(id, ARGV[j])) end
    index_posted(base, id, ARGV[j])
  end
  if cur_status ~= '' and held ~= holds then index_deliveries(base, id, holds) end
  return i + n + 1
end

-- drop_deliveries removes incident id's deliveries and index entries.
local function drop_deliveries(base, id)
  index_deliveries(base, id, false)
  for _, raw in ipairs(redis.call('LRANGE', base .. 'deliveries:' .. string.format('%d', id), 0, -1)) do
    local field = posted_field(raw)
    -- Only the entry that names this delivery: another incident's may hold the id.
    if field and redis.call('HGET', base .. 'posted', field) == delivery_member(id, raw) then
      redis.call('HDEL', base .. 'posted', field)
    end
  end
  redis.call('DEL', base .. 'deliveries:' .. string.format('%d', id))
end
