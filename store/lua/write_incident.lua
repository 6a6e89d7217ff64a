-- Write one incident, its timeline events and its timer changes, if nothing
-- changed since the caller read it: a compare-and-set in one round trip,
-- instead of WATCH/GET/MULTI/EXEC. A new incident takes its id from seq here,
-- so concurrent creates never conflict on the counter and leave no gaps.
-- KEYS: timers hash, due zset, claims hash, seq, dedup key, then optionally
--       the dedup key's legacy form (see load_by_key.lua), which this write
--       retires: the holder moves to the dedup key, or is deleted with it
-- ARGV: key base,
--       expected dedup holder ('' = do not check: Update by id checks the incident),
--       current id (0 = new), sha1 of the current incident JSON as read,
--       current status ('' if new), next status,
--       next incident record JSON (id 0 if new; '' = the record is unchanged:
--       only events and timers are written),
--       n events, the n event JSONs,
--       claimed timer id and token this write completes ('' '' = none),
--       index meta JSON (indexlib.lua),
--       message op ('' = unchanged, 'set', 'del') and the message,
--       n deliveries, the n delivery JSONs (deliverylib.lua),
--       cancel-all flag, n cancel ids, the n ids,
--       then per timer to schedule: id, due score, timer JSON, incident id (0 = this new incident)
-- The Alertmanager message is kept apart (message:<id>), written only when it
-- changes; a record's sha1 covers it, since every message change rewrites the
-- record with a new version.
-- Returns {1, incident id} when written; {0, holder, record JSON or false, message or false}
-- when the state changed under the caller, who retries from what it holds
-- (the holder's incident, or the incident by id) without another read;
-- {-2} when the write would leave two non-resolved incidents with the key;
-- {-3} when the claim it completes is no longer held (nothing written).
local COMPLETED_KEEP = 10000
local timers, due, claims, seq, dedup, legacy = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local base = ARGV[1]
local id = tonumber(ARGV[3])

local held = redis.call('GET', dedup)
if not held and legacy then held = redis.call('GET', legacy) end
local holder = tonumber(held or '0')
if ARGV[2] ~= '' and holder ~= tonumber(ARGV[2]) then
  if holder == 0 then return {0, 0, false, false} end
  return {0, holder, redis.call('GET', base .. 'incident:' .. holder), redis.call('GET', base .. 'message:' .. holder)}
end
if id ~= 0 then
  local raw = redis.call('GET', base .. 'incident:' .. ARGV[3])
  if not raw or redis.sha1hex(raw) ~= ARGV[4] then
    local msg = redis.call('GET', base .. 'message:' .. ARGV[3])
    if ARGV[2] ~= '' then return {0, holder, raw, msg} end
    return {0, 0, raw, msg}
  end
end

-- The fence, checked before anything is written.
local fence_at = 8 + tonumber(ARGV[8]) + 1
local fence_id, fence_token = ARGV[fence_at], ARGV[fence_at + 1]
-- A completed claim is remembered with the sum of the events its write
-- added: go-redis sends a write again when its answer does not come (a read
-- timeout, a dropped connection), and a copy of the write that completed the
-- claim, and wrote all the rest with it, must not record one send twice.
-- Another write completing the same claim is still refused.
local completed, completion = base .. 'completed_claims', ''
if fence_id ~= '' then
  local evs = {}
  for j = 9, 8 + tonumber(ARGV[8]) do evs[#evs + 1] = ARGV[j] end
  completion = fence_token .. ':' .. redis.sha1hex(table.concat(evs, '\n'))
end
if fence_id ~= '' and not holds(claims, fence_id, fence_token) then
  if redis.call('ZSCORE', completed, completion) then return {1, id} end
  return {-3}
end

local cur_status, next_status, data = ARGV[5], ARGV[6], ARGV[7]
local holds = next_status ~= 'resolved'
local is_new = id == 0
if is_new then
  if holds and holder ~= 0 then -- someone created it meanwhile
    return {0, holder, redis.call('GET', base .. 'incident:' .. holder), redis.call('GET', base .. 'message:' .. holder)}
  end
  id = redis.call('INCR', seq)
  -- The client encoded id 0 first: {"id":0,...
  data = '{"id":' .. string.format('%d', id) .. string.sub(data, 8)
elseif holds and holder ~= 0 and holder ~= id then
  return {-2}
end
local sid = string.format('%d', id)
local rewrite = data ~= ''

if rewrite then
  if is_new then redis.call('ZADD', base .. 'incidents', id, sid) end
  redis.call('SET', base .. 'incident:' .. sid, data)
  if cur_status ~= '' and cur_status ~= next_status then
    redis.call('ZREM', base .. 'status:' .. cur_status, sid)
  end
  redis.call('ZADD', base .. 'status:' .. next_status, id, sid)
  if holds then
    redis.call('SET', dedup, sid)
  elseif holder == id then
    redis.call('DEL', dedup)
  end
  if legacy and tonumber(redis.call('GET', legacy) or '0') == id then
    redis.call('DEL', legacy)
  end
end

local i = 8
local nevents = tonumber(ARGV[i])
if nevents > 0 then
  redis.call('RPUSH', base .. 'timeline:' .. sid, unpack(ARGV, i + 1, i + nevents))
end
i = i + nevents + 1 + 2 -- the fence, checked above
if rewrite then write_index(base, id, ARGV[i]) end
if ARGV[i + 1] == 'set' then
  redis.call('SET', base .. 'message:' .. sid, ARGV[i + 2])
elseif ARGV[i + 1] == 'del' then
  redis.call('DEL', base .. 'message:' .. sid)
end
i = i + 3
i = write_deliveries(base, id, cur_status, next_status, i)

local cancel_all = ARGV[i]
local ncancel = tonumber(ARGV[i + 1])
local first = i + 2 + ncancel
local keep = {}
for j = first, #ARGV, 4 do keep[ARGV[j]] = true end
for j = i + 2, first - 1 do remove_timer(base, timers, due, claims, ARGV[j]) end
if cancel_all == '1' then
  for _, tid in ipairs(redis.call('SMEMBERS', incident_timers(base, id))) do
    if not keep[tid] then remove_timer(base, timers, due, claims, tid) end
  end
end
if fence_id ~= '' then
  remove_timer(base, timers, due, claims, fence_id)
  -- The last COMPLETED_KEEP completions, for the repeats above: tokens are
  -- unique, and a repeat comes within seconds of the store answering
  -- again, when far fewer sends have been recorded since.
  local t = redis.call('TIME')
  redis.call('ZADD', completed, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), completion)
  redis.call('ZREMRANGEBYRANK', completed, 0, -(COMPLETED_KEEP + 1))
end
for j = first, #ARGV, 4 do
  local tid, raw, owner = ARGV[j], ARGV[j + 2], tonumber(ARGV[j + 3])
  if owner == 0 then
    owner = id
    -- The client left "incident_id":0 for the store to fill in; the first
    -- such field outside a string is the timer's own (inside a JSON string a
    -- quote is always escaped, so ,"incident_id": cannot occur there).
    local at = string.find(raw, ',"incident_id":0,', 1, true)
    if at then raw = string.sub(raw, 1, at + 14) .. sid .. string.sub(raw, at + 16) end
  end
  if redis.call('HSETNX', timers, tid, raw) == 1 then
    redis.call('ZADD', due, ARGV[j + 1], tid)
    redis.call('SADD', incident_timers(base, owner), tid)
  end
end
return {1, id}
