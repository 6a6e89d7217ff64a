-- Index one incident a version without the query indexes wrote, if it is
-- still as the caller read it and still unindexed.
-- ARGV: key base, id, sha1 of the incident JSON as read, index meta
-- Returns 1 when indexed, 0 when there was nothing to do.
local base, sid = ARGV[1], ARGV[2]
local raw = redis.call('GET', base .. 'incident:' .. sid)
if not raw or redis.sha1hex(raw) ~= ARGV[3] then return 0 end
if redis.call('HEXISTS', base .. 'index_meta', sid) == 1 then return 0 end
write_index(base, tonumber(sid), ARGV[4])
return 1
