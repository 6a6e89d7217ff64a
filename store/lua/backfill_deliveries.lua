-- Record the deliveries of one incident a version that kept none wrote, from
-- its timeline as the caller read it, unless it has deliveries already or its
-- timeline grew meanwhile (another replica of the old version paged).
-- KEYS: deliveries:<id>
-- ARGV: key base, id, timeline length as read, n, the n delivery JSONs
-- Returns 1 when written, 0 when it has deliveries, -1 when the timeline
-- changed (read it again).
local base, id = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('LLEN', base .. 'timeline:' .. ARGV[2]) ~= tonumber(ARGV[3]) then return -1 end
local raw = redis.call('GET', base .. 'incident:' .. ARGV[2])
if not raw then return 0 end
local status = cjson.decode(raw).status
write_deliveries(base, id, status, status, 4)
return 1
