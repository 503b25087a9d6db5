/** claim: see the header for KEYS and ARGV. */
export default `
-- claim: take up to limit jobs, highest priority first, then earliest runAt, then enqueue order.
-- Due delayed jobs join the ready set first; running jobs whose lease expired compete with them
-- in the same order (they get a lease_lost attempt record when taken). A job claimed maxStrikes
-- times without a settle is dead-lettered instead (crash-loop limit).
-- (KEYS: the queue keys, see common)
-- ARGV[2] now   ARGV[3] workerId   ARGV[4] limit   ARGV[5] leaseMs   ARGV[6] maxStrikes
-- ARGV[7] crash-loop fault (JSON)
-- Returns  11 fields per job: member, token, payload, priority, attempt, maxAttempts|nil,
--          enqueuedAt, runAt, leaseUntil, checkpoint|nil, idempotencyKey|nil
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

-- Expired leases join the ready set for this call only; those not taken go back untouched.
local expired = redis.call('ZRANGEBYSCORE', K.running, '-inf', num(now), 'LIMIT', 0, 1000)
local wasRunning = {}
for _, m in ipairs(expired) do
  local f = redis.call('HMGET', JOB .. m, 'priority', 'runAt')
  local rm = readyMember(f[2], m)
  wasRunning[m] = rm
  redis.call('ZADD', K.ready, num(-tonumber(f[1])), rm)
end

local out = {}
local leases = {}
local taken = 0
local tokenBase = nil
local leaseUntil = num(now + leaseMs)
while taken < limit do
  local popped = redis.call('ZPOPMIN', K.ready, limit - taken)
  if #popped == 0 then break end
  for p = 1, #popped, 2 do
    local m = string.sub(popped[p], 17)
    local key = JOB .. m
    local f = redis.call('HMGET', key, 'strikes', 'attempts', 'payload', 'priority', 'maxAttempts', 'enqueuedAt', 'runAt', 'checkpoint', 'idem',
      'workerId', 'claimedAt', 'leaseUntil')
    if wasRunning[m] then
      wasRunning[m] = nil
      local claimedAt = tonumber(f[11]) or 0
      appendHistory(key, cjson.encode({ attempt = tonumber(f[2]), workerId = f[10] or '', startedAt = claimedAt,
        durationMs = math.max(0, (tonumber(f[12]) or claimedAt) - claimedAt), outcome = 'lease_lost' }))
      redis.call('ZREM', K.running, m)
    end
    local strikes = tonumber(f[1]) or 0
    if strikes >= maxStrikes then
      redis.call('HSET', key, 'fault', ARGV[7])
      finish(K, key, m, 'dead', now)
    else
      if not tokenBase then tokenBase = redis.call('HINCRBY', K.meta, 'token', limit) - limit end
      taken = taken + 1
      local token = 'r' .. tostring(tokenBase + taken)
      local attempt = (tonumber(f[2]) or 0) + 1
      redis.call('HSET', key, 'state', 'running', 'token', token, 'workerId', workerId, 'claimedAt', ARGV[2], 'leaseUntil', leaseUntil,
        'attempts', attempt, 'strikes', strikes + 1)
      leases[#leases + 1] = leaseUntil
      leases[#leases + 1] = m
      out[#out + 1] = m
      out[#out + 1] = token
      out[#out + 1] = f[3]
      out[#out + 1] = f[4]
      out[#out + 1] = attempt
      out[#out + 1] = f[5]
      out[#out + 1] = f[6]
      out[#out + 1] = f[7]
      out[#out + 1] = leaseUntil
      out[#out + 1] = f[8]
      out[#out + 1] = f[9]
    end
  end
end
if #leases > 0 then many('ZADD', K.running, leases) end
-- Expired leases nobody took stay running (their holder may still renew or settle them).
for _, rm in pairs(wasRunning) do redis.call('ZREM', K.ready, rm) end
return out
`;
