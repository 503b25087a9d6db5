/** claim: see the header for KEYS and ARGV. */
export default `
-- claim: first recover the running jobs whose lease expired (their worker died or stalled): a
-- lease_lost attempt record, then back to waiting, or to the dead letters when their strikes
-- reached maxStrikes (crash-loop limit). Then take up to limit waiting jobs, highest priority
-- first, then earliest runAt, then enqueue order. A paused queue returns nothing, recovers nothing.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now   ARGV[3] workerId   ARGV[4] limit   ARGV[5] leaseMs   ARGV[6] maxStrikes
-- ARGV[7] crash-loop fault (JSON, with -123456789 where the number of strikes goes)
-- Returns  leaseUntil, then 5 entries per job: a header "member token attempt priority
--          maxAttempts|"" enqueuedAt runAt" (fewer, larger replies: each entry costs both
--          sides), payload, checkpoint|nil, idempotencyKey|nil, headers|nil
local now = tonumber(ARGV[2])
local workerId = ARGV[3]
local limit = tonumber(ARGV[4])
local leaseMs = tonumber(ARGV[5])
local maxStrikes = tonumber(ARGV[6])
local paused = tonumber(redis.call('HGET', K.meta, 'pausedUntil'))
if paused and paused > now then return {} end

-- Due delayed jobs become ready (bounded per call; the next claim takes the rest).
local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', num(now), 'LIMIT', 0, 1000)
for _, m in ipairs(due) do
  local f = redis.call('HMGET', JOB .. m, 'priority', 'runAt')
  redis.call('ZADD', K.ready, num(-tonumber(f[1])), readyMember(f[2], m))
  redis.call('ZREM', K.delayed, m)
end

-- Recover expired leases (bounded per call; the next claim recovers the rest).
local expired = redis.call('ZRANGEBYSCORE', K.running, '-inf', num(now), 'LIMIT', 0, 1000)
for _, m in ipairs(expired) do
  local key = JOB .. m
  local f = redis.call('HMGET', key, 'attempts', 'workerId', 'claimedAt', 'leaseUntil', 'strikes', 'runAt')
  local claimedAt = tonumber(f[3]) or 0
  appendHistory(key, cjson.encode({ attempt = tonumber(f[1]), workerId = f[2] or '', startedAt = claimedAt,
    durationMs = math.max(0, (tonumber(f[4]) or claimedAt) - claimedAt), outcome = 'lease_lost' }))
  redis.call('ZREM', K.running, m)
  local strikes = tonumber(f[5]) or 0
  if strikes >= maxStrikes then
    redis.call('HSET', key, 'fault', (string.gsub(ARGV[7], '%-123456789', tostring(strikes))))
    finish(K, key, m, 'dead', now)
  else
    toWaiting(K, key, m, tonumber(f[6]), now)
  end
end

local leaseUntil = num(now + leaseMs)
local out = { leaseUntil }
local leases = {}
local popped = redis.call('ZPOPMIN', K.ready, limit)
local tokenBase = 0
if #popped > 0 then tokenBase = redis.call('HINCRBY', K.meta, 'token', #popped / 2) - #popped / 2 end
for p = 1, #popped, 2 do
  local m = string.sub(popped[p], 17)
  local key = JOB .. m
  local f = redis.call('HMGET', key, 'strikes', 'attempts', 'payload', 'priority', 'maxAttempts', 'enqueuedAt', 'runAt', 'checkpoint', 'idem', 'headers')
  local token = 'r' .. tostring(tokenBase + (p + 1) / 2)
  local attempt = (tonumber(f[2]) or 0) + 1
  redis.call('HSET', key, 'state', 'running', 'token', token, 'workerId', workerId, 'claimedAt', ARGV[2], 'leaseUntil', leaseUntil,
    'attempts', attempt, 'strikes', (tonumber(f[1]) or 0) + 1)
  leases[#leases + 1] = leaseUntil
  leases[#leases + 1] = m
  local n = #out
  out[n + 1] = m .. ' ' .. token .. ' ' .. attempt .. ' ' .. f[4] .. ' ' .. (f[5] or '') .. ' ' .. f[6] .. ' ' .. f[7]
  out[n + 2] = f[3]
  out[n + 3] = f[8]
  out[n + 4] = f[9]
  out[n + 5] = f[10]
end
if #leases > 0 then many('ZADD', K.running, leases) end
return out
`;
