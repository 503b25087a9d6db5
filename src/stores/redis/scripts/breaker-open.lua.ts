/** breaker-open: see the header for KEYS and ARGV. */
export default `
-- breaker-open: record that a shared circuit is open until a time, and tell every process.
-- KEYS[1] breaker state hash {openUntil, by}
-- ARGV[1] open until (wall ms)   ARGV[2] instance id of the process that opened it
-- ARGV[3] pub/sub channel        ARGV[4] reason
-- Returns  the open-until in force (the later of the stored one and ARGV[1])
local untilMs = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'openUntil'))
if current and current > untilMs then untilMs = current end
redis.call('HSET', KEYS[1], 'openUntil', string.format('%.17g', untilMs), 'by', ARGV[2])
-- The state outlives the open period a little, then needs no storage.
redis.call('PEXPIREAT', KEYS[1], math.floor(untilMs) + 60000)
redis.call('PUBLISH', ARGV[3], cjson.encode({ type = 'open', untilMs = untilMs, by = ARGV[2], reason = ARGV[4] }))
return string.format('%.17g', untilMs)
`;
