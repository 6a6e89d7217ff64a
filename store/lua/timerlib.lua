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

-- The lease clock. Leases are judged on the store's clock (TIME), and a lease
-- runs only while the store serves: every timer script records when it ran,
-- and a script that finds the store was silent for longer than
-- LEASE_GRACE_MS (Redis was down or frozen, or no replica was running)
-- pushes every claim's lease back by the silence beyond the grace before it
-- judges any. A holder cut off from the store by the store's outage thus
-- keeps its claim, however long the outage; a dead holder's claim still
-- expires one lease after its last renewal while replicas poll (every 500 ms).
local LEASE_GRACE_MS = 1000

-- store_now returns the time the script runs at, in ms: the caller's
-- (ARGV, only the conformance tests' fake clock, with no freezing) or the
-- store's.
local function store_now(base, claims, due, caller_now)
  if caller_now ~= nil and caller_now ~= '' then return tonumber(caller_now) end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local clock = base .. 'clock'
  local last = tonumber(redis.call('GET', clock) or '')
  if last and now - last > LEASE_GRACE_MS then
    local shift = now - last - LEASE_GRACE_MS
    for _, id in ipairs(redis.call('HKEYS', claims)) do
      if redis.call('ZSCORE', due, id) then redis.call('ZINCRBY', due, shift, id) end
    end
  end
  redis.call('SET', clock, string.format('%d', now))
  return now
end

-- claim_calls_key holds what one caller's latest ClaimDue call claimed
-- (claim_due.lua): {seq, base (the call's token base), ids, abandoned}.
-- caller names one store client and owner; it is kept CLAIM_CALLS_MS after
-- the caller's last call, longer than a copy of a call can take to reach
-- Redis: go-redis's retries take seconds, a frozen Redis runs what it holds
-- as soon as it resumes, and a dropped connection's unsent data dies within
-- TCP's retransmission limits (about 15 minutes at Linux's default
-- tcp_retries2).
local CLAIM_CALLS_MS = 20 * 60 * 1000
local function claim_calls_key(base, caller)
  return base .. 'claim_calls:' .. caller
end
