-- Record a contact method's verification unless a later one is stored.
-- KEYS: the verified hash
-- ARGV: field (user NUL channel), stamp (zero-padded nanoseconds: text order is time order)
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur >= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
