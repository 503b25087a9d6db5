/** stats: see the header for KEYS and ARGV. */
export default `
-- stats: the sizes of one queue at now, read in one consistent step.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now
-- Returns  { waiting, delayed, running, completed, dead, pausedUntil|"", oldestWaitingRunAt|"" }
local now = tonumber(ARGV[2])
local ready = redis.call('ZCARD', K.ready)
local dueDelayed = redis.call('ZCOUNT', K.delayed, '-inf', num(now))
local delayed = redis.call('ZCARD', K.delayed) - dueDelayed
local oldest = nil
local first = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', num(now), 'WITHSCORES', 'LIMIT', 0, 1)
if first[2] then oldest = tonumber(first[2]) end
-- The ready set is ordered by priority first: the oldest runAt is the first member of some
-- priority level, so visit each level once (there are few).
local level = redis.call('ZRANGE', K.ready, 0, 0, 'WITHSCORES')
while level[1] do
  local runAt = tonumber(string.sub(level[1], 1, 16))
  if (not oldest) or runAt < oldest then oldest = runAt end
  level = redis.call('ZRANGEBYSCORE', K.ready, '(' .. level[2], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
end
local paused = redis.call('HGET', K.meta, 'pausedUntil')
if paused and tonumber(paused) <= now then paused = false end
return { ready + dueDelayed, delayed, redis.call('ZCARD', K.running), redis.call('ZCARD', K.completed),
  redis.call('ZCARD', K.dead), paused or '', oldest and num(oldest) or '' }
`;
