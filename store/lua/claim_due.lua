-- Hand out due timers to one owner. Being one script makes it atomic across
-- replicas: a timer moved to its lease time is no longer due for anyone else.
-- KEYS: timers hash, due zset, claims hash
-- ARGV: now score ('' = the store's clock), lease ms, max, owner, token base,
--       key base, caller, seq (the caller's count of its calls)
-- Returns the now it claimed at, then timer JSON, token, timer JSON, token, ...
--
-- One call may run more than once, or with nobody left to hear its answer:
-- go-redis sends it again when an answer does not come (a read timeout, a
-- dropped connection), and Redis runs whatever reached it, answered or not
-- (a frozen Redis runs every copy when it resumes; one killed between its
-- fsync and its answer has made claims nobody heard of). Such a claim would
-- lapse and be taken over from a holder that never had it. So each caller
-- numbers its calls: a copy of the caller's latest call answers what that
-- call claimed instead of claiming more, a copy of an older call, or of one
-- its caller gave up on (abandon_claims.lua), claims nothing.
local timers, due, claims = KEYS[1], KEYS[2], KEYS[3]
local now = store_now(ARGV[6], claims, due, ARGV[1])
local until_score = now + tonumber(ARGV[2])
local out = {string.format('%d', now)}
local calls, seq = claim_calls_key(ARGV[6], ARGV[7]), tonumber(ARGV[8])
local last = redis.call('GET', calls)
if last then
  last = cjson.decode(last)
  if last.seq > seq or (last.seq == seq and last.abandoned) then return out end
  if last.seq == seq then
    -- This call ran already: its claims, those still its own, on a fresh lease.
    for i, id in ipairs(last.ids) do
      local token = last.base .. '-' .. i
      local raw = redis.call('HGET', timers, id)
      if raw and holds(claims, id, token) then
        redis.call('ZADD', due, until_score, id)
        out[#out + 1] = raw
        out[#out + 1] = token
      end
    end
    return out
  end
end
local made = {}
local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', timers, id)
  if raw then
    -- Remember the real due time so Release can put the timer back there;
    -- when re-claiming after an expired lease the score is the old lease.
    local at = redis.call('ZSCORE', due, id)
    local old = redis.call('HGET', claims, id)
    if old then
      at = cjson.decode(old).due
      -- The lease expired: its holder died or hung mid-handler. That was an
      -- attempt, counted here so every replica sees the same count.
      -- pcall: a timer this script cannot read must not stop every claim;
      -- it is handed out as it is, and the client reports it.
      local ok, t = pcall(cjson.decode, raw)
      if ok and type(t) == 'table' then
        t.attempt = (t.attempt or 0) + 1
        -- Its holder may have been mid-send: the next one asks the provider.
        t.taken_over = true
        raw = cjson.encode(t)
        redis.call('HSET', timers, id, raw)
      end
    end
    made[#made + 1] = id
    local token = ARGV[5] .. '-' .. #made
    redis.call('ZADD', due, until_score, id)
    redis.call('HSET', claims, id, cjson.encode({owner = ARGV[4], token = token, due = at}))
    out[#out + 1] = raw
    out[#out + 1] = token
  else
    redis.call('ZREM', due, id) -- index entry without a timer; never hand it out
  end
end
-- cjson writes an empty table as {}, which reads back as an empty table.
redis.call('SET', calls, cjson.encode({seq = seq, base = ARGV[5], ids = made}), 'PX', CLAIM_CALLS_MS)
return out
