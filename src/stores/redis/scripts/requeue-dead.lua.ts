/** requeue-dead: see the header for KEYS and ARGV. */
export default `
-- requeue-dead: put dead letters back to waiting (attempts and strikes 0; history and checkpoint kept).
-- All or none: if one member is not a dead letter, nothing is written and it is returned.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now   ARGV[3] dry run (1|0)   ARGV[4..] members
-- Returns  { "ok", requeued members... } or { "missing", member }
local now = tonumber(ARGV[2])
for i = 4, #ARGV do
  if redis.call('HGET', JOB .. ARGV[i], 'state') ~= 'dead' then return { 'missing', ARGV[i] } end
end
local out = { 'ok' }
for i = 4, #ARGV do
  local m = ARGV[i]
  out[#out + 1] = m
  if ARGV[3] ~= '1' and redis.call('ZREM', K.dead, m) == 1 then
    local key = JOB .. m
    forgetDeadCategory(K, key, m)
    redis.call('HSET', key, 'attempts', 0, 'strikes', 0)
    redis.call('HDEL', key, 'fault', 'finishedAt')
    toWaiting(K, key, m, now, now)
  end
end
return out
`;
