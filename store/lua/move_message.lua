-- Move one incident's message out of its record (layout 1) to its own key,
-- if the record is still as the caller read it.
-- ARGV: key base, id, sha1 of the record as read, the record without its message, the message
-- Returns 1 when moved, 0 when the record changed meanwhile (a newer write moved it).
local base, sid = ARGV[1], ARGV[2]
local raw = redis.call('GET', base .. 'incident:' .. sid)
if not raw or redis.sha1hex(raw) ~= ARGV[3] then return 0 end
redis.call('SET', base .. 'incident:' .. sid, ARGV[4])
redis.call('SET', base .. 'message:' .. sid, ARGV[5])
return 1
