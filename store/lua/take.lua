-- Sliding-window admission: one sorted set per rate key, one member per send
-- admitted, scored by its time. Being one script makes check-and-add atomic
-- across replicas.
-- KEYS: the rate zset
-- ARGV: now ms, window ms, limit, unique member for this send
-- Returns {1} when admitted, {0, ms when a slot frees} when the window is full.
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  -- The set outlives its newest send by the window, then nothing in it counts.
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], math.max(tonumber(last[2]) - now, 0) + window)
  return {1}
end
local at = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, tonumber(at[2]) + window}
