-- Index by provider id the deliveries of incidents a version without the
-- posted hash wrote (Redis.BackfillPosted): each one's deliveries, then, with
-- the last, the mark that it is done.
-- ARGV: key base, 1 to set the mark after, the incident ids
local base = ARGV[1]
for i = 3, #ARGV do
  local id = tonumber(ARGV[i])
  for _, raw in ipairs(redis.call('LRANGE', base .. 'deliveries:' .. ARGV[i], 0, -1)) do
    index_posted(base, id, raw)
  end
end
if ARGV[2] == '1' then redis.call('SET', base .. 'posted:indexed', '1') end
return #ARGV - 2
