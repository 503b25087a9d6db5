/** pause: see the header for KEYS and ARGV. */
export default `
-- pause: pause a queue until a time; an earlier end does not shorten a pause in force unless replace.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now   ARGV[3] until (wall ms; a huge number means until resumed)   ARGV[4] replace (1|0)
-- Returns  the pause in force afterwards (string)
local now = tonumber(ARGV[2])
local nextUntil = tonumber(ARGV[3])
local current = tonumber(redis.call('HGET', K.meta, 'pausedUntil'))
if ARGV[4] ~= '1' and current and current > now then nextUntil = math.max(current, nextUntil) end
redis.call('HSET', K.meta, 'pausedUntil', num(nextUntil))
return num(nextUntil)
`;
