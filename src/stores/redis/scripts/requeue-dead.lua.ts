/** requeue-dead: see the header for KEYS and ARGV. */
export default `
-- requeue-dead: put dead letters back to waiting (attempts and strikes 0; history and checkpoint kept).
-- strict (by ids): all or none; if one member is not a dead letter, nothing is written and it is returned.
-- skip (by query): members that are no longer dead letters (requeued or purged meanwhile) are skipped.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now   ARGV[3] dry run (1|0)   ARGV[4] strict|skip   ARGV[5..] members
-- Returns  { "ok", requeued (or, in a dry run, still dead) members... } or { "missing", member }
local now = tonumber(ARGV[2])
local strict = ARGV[4] == 'strict'
if strict then
  for i = 5, #ARGV do
    if redis.call('HGET', JOB .. ARGV[i], 'state') ~= 'dead' then return { 'missing', ARGV[i] } end
  end
end
local out = { 'ok' }
for i = 5, #ARGV do
  local m = ARGV[i]
  local key = JOB .. m
  if strict or redis.call('HGET', key, 'state') == 'dead' then
    out[#out + 1] = m
    if ARGV[3] ~= '1' and redis.call('ZREM', K.dead, m) == 1 then
      forgetDeadCategory(K, key, m)
      redis.call('HSET', key, 'attempts', 0, 'strikes', 0, 'lostToken', '')
      redis.call('HDEL', key, 'fault', 'finishedAt')
      toWaiting(K, key, m, now, now)
    end
  end
end
return out
`;
