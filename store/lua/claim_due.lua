-- Hand out due timers to one owner. Being one script makes it atomic across
-- replicas: a timer moved to its lease time is no longer due for anyone else.
-- KEYS: timers hash, due zset, claims hash
-- ARGV: now score ('' = the store's clock), lease ms, max, owner, token base, key base
-- Returns the now it claimed at, then timer JSON, token, timer JSON, token, ...
local timers, due, claims = KEYS[1], KEYS[2], KEYS[3]
local now = store_now(ARGV[6], claims, due, ARGV[1])
local until_score = now + tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {string.format('%d', now)}
for i, id in ipairs(ids) do
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
    local token = ARGV[5] .. '-' .. i
    redis.call('ZADD', due, until_score, id)
    redis.call('HSET', claims, id, cjson.encode({owner = ARGV[4], token = token, due = at}))
    out[#out + 1] = raw
    out[#out + 1] = token
  else
    redis.call('ZREM', due, id) -- index entry without a timer; never hand it out
  end
end
return out
