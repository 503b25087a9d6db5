/** requeue-dead: see the header for KEYS and ARGV. */
export default `
-- requeue-dead: put dead letters back to waiting (attempts and strikes 0; history and checkpoint kept).
-- strict (by ids): all or none; if one member is not a dead letter, nothing is written and it is returned.
-- skip (by query): members that are no longer dead letters (requeued or purged meanwhile) are skipped.
-- Each member costs three hash commands; the sorted sets and the message hash change once per
-- 1,000 members (many), which is what keeps 10,000 requeues well under a second of server time.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now   ARGV[3] dry run (1|0)   ARGV[4] strict|skip   ARGV[5..] members
-- Returns  { "ok", requeued (or, in a dry run, still dead) members... } or { "missing", member }
local now = tonumber(ARGV[2])
local dry = ARGV[3] == '1'
local strict = ARGV[4] == 'strict'
local fields = {}
for i = 5, #ARGV do
  fields[i] = redis.call('HMGET', JOB .. ARGV[i], 'state', 'cat', 'priority')
  if strict and fields[i][1] ~= 'dead' then return { 'missing', ARGV[i] } end
end
local out = { 'ok' }
local left, ready, byCategory = {}, {}, {}
for i = 5, #ARGV do
  local m, f = ARGV[i], fields[i]
  if f[1] == 'dead' then
    out[#out + 1] = m
    if not dry then
      local key = JOB .. m
      left[#left + 1] = m
      if f[2] then
        local members = byCategory[f[2]] or {}
        byCategory[f[2]] = members
        members[#members + 1] = m
      end
      -- Due now: straight into the ready set (as toWaiting does for runAt <= now).
      ready[#ready + 1] = num(-(tonumber(f[3]) or 0))
      ready[#ready + 1] = readyMember(now, m)
      redis.call('HSET', key, 'state', 'waiting', 'runAt', num(now), 'attempts', 0, 'strikes', 0, 'lostToken', '')
      redis.call('HDEL', key, 'fault', 'finishedAt', 'cat')
    end
  end
end
if #left > 0 then
  many('ZREM', K.dead, left)
  many('HDEL', deadMessageKey(K), left)
  for category, members in pairs(byCategory) do many('ZREM', deadCategoryKey(K, category), members) end
  -- Score and member pairs: chunks of 1,000 items never split a pair.
  many('ZADD', K.ready, ready)
end
return out
`;
