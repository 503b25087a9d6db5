/** claim: see the header for KEYS and ARGV. */
export default `
-- claim: first recover the running jobs whose lease expired (their worker died or stalled): a
-- lease_lost attempt record, then back to waiting, or to the dead letters when their strikes
-- reached maxStrikes (crash-loop limit). Then take up to limit waiting jobs, highest priority
-- first, then earliest runAt, then enqueue order. A paused queue returns nothing, recovers nothing.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now   ARGV[3] workerId   ARGV[4] limit   ARGV[5] leaseMs   ARGV[6] maxStrikes
-- ARGV[7] crash-loop fault (JSON, with -123456789 where the number of strikes goes)
-- ARGV[8] maxStruck: the most jobs with strikes > 0 to take (-1: no limit)
-- Returns  leaseUntil, then 5 entries per job: a header "member token attempt priority
--          maxAttempts|"" enqueuedAt runAt strikes" (fewer, larger replies: each entry costs both
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
  local f = redis.call('HMGET', key, 'attempts', 'workerId', 'claimedAt', 'leaseUntil', 'strikes', 'runAt', 'token')
  local claimedAt = tonumber(f[3]) or 0
  appendHistory(key, cjson.encode({ attempt = tonumber(f[1]), workerId = f[2] or '', startedAt = claimedAt,
    durationMs = math.max(0, (tonumber(f[4]) or claimedAt) - claimedAt), outcome = 'lease_lost' }))
  -- A crash costs a strike, not a plan attempt.
  redis.call('HSET', key, 'attempts', math.max(0, (tonumber(f[1]) or 0) - 1), 'lostToken', f[7] or '')
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
-- Struck jobs (recovered after a crash) beyond maxStruck are skipped and go back in place; the
-- next jobs in order are taken instead (a bounded scan: the next claim looks further).
local struckLeft = tonumber(ARGV[8]) or -1
local picked = {}
local skipped = {}
local function consider(entry)
  local m = string.sub(entry, 17)
  local f = redis.call('HMGET', JOB .. m, 'strikes', 'attempts', 'payload', 'priority', 'maxAttempts', 'enqueuedAt', 'runAt', 'checkpoint', 'idem', 'headers')
  local strikes = tonumber(f[1]) or 0
  if strikes > 0 then
    if struckLeft == 0 then return false end
    struckLeft = struckLeft - 1
  end
  picked[#picked + 1] = { m, f, strikes }
  return true
end
local popped = redis.call('ZPOPMIN', K.ready, limit)
for p = 1, #popped, 2 do
  if not consider(popped[p]) then
    skipped[#skipped + 1] = popped[p + 1]
    skipped[#skipped + 1] = popped[p]
  end
end
if #skipped > 0 and #picked < limit then
  local more = redis.call('ZRANGE', K.ready, 0, 999)
  local taken = {}
  for _, entry in ipairs(more) do
    if #picked >= limit then break end
    if consider(entry) then taken[#taken + 1] = entry end
  end
  if #taken > 0 then many('ZREM', K.ready, taken) end
end
if #skipped > 0 then many('ZADD', K.ready, skipped) end
local tokenBase = 0
if #picked > 0 then tokenBase = redis.call('HINCRBY', K.meta, 'token', #picked) - #picked end
for n, job in ipairs(picked) do
  local m, f, strikes = job[1], job[2], job[3]
  local key = JOB .. m
  local token = 'r' .. tostring(tokenBase + n)
  local attempt = (tonumber(f[2]) or 0) + 1
  redis.call('HSET', key, 'state', 'running', 'token', token, 'workerId', workerId, 'claimedAt', ARGV[2], 'leaseUntil', leaseUntil,
    'attempts', attempt, 'strikes', strikes + 1)
  leases[#leases + 1] = leaseUntil
  leases[#leases + 1] = m
  local o = #out
  out[o + 1] = m .. ' ' .. token .. ' ' .. attempt .. ' ' .. f[4] .. ' ' .. (f[5] or '') .. ' ' .. f[6] .. ' ' .. f[7] .. ' ' .. strikes
  out[o + 2] = f[3]
  out[o + 3] = f[8]
  out[o + 4] = f[9]
  out[o + 5] = f[10]
end
if #leases > 0 then many('ZADD', K.running, leases) end
return out
`;
