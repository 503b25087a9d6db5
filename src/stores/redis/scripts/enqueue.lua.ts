/** enqueue: see the header for KEYS and ARGV. */
export default `
-- enqueue: add jobs to one queue, all or none; an idempotency key already present returns that job.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now (wall ms)
-- ARGV[3..] 6 per job: payload, priority, runAt, idempotency key ("" = none), maxAttempts ("" = none),
--           headers (JSON text, "" = none)
-- Returns  flat list: member, created (1|0) per job, in input order
local now = tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV, 6 do
  local idem = ARGV[i + 3]
  local existing = false
  if idem ~= '' then existing = redis.call('HGET', K.idem, idem) end
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = 0
  else
    local m = member(redis.call('HINCRBY', K.meta, 'seq', 1))
    local key = JOB .. m
    local priority = tonumber(ARGV[i + 1])
    local runAt = tonumber(ARGV[i + 2])
    redis.call('HSET', key, 'payload', ARGV[i], 'priority', ARGV[i + 1], 'runAt', ARGV[i + 2], 'enqueuedAt', ARGV[2],
      'state', 'waiting', 'attempts', 0, 'strikes', 0, 'history', '[]')
    if idem ~= '' then
      redis.call('HSET', key, 'idem', idem)
      redis.call('HSET', K.idem, idem, m)
    end
    if ARGV[i + 4] ~= '' then redis.call('HSET', key, 'maxAttempts', ARGV[i + 4]) end
    if ARGV[i + 5] ~= '' then redis.call('HSET', key, 'headers', ARGV[i + 5]) end
    if runAt <= now then
      redis.call('ZADD', K.ready, num(-priority), readyMember(runAt, m))
    else
      redis.call('ZADD', K.delayed, ARGV[i + 2], m)
    end
    out[#out + 1] = m
    out[#out + 1] = 1
  end
end
return out
`;
