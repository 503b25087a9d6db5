/** settle: see the header for KEYS and ARGV. */
export default `
-- settle: record the outcomes of running jobs; each applies only if its token still holds the lease.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now
-- ARGV[3..] the outcomes in order, each either
--           2 for a completion (the hot path): member, token (a member starts with a digit), or
--           7 for the others: kind (retry|dead|release), member, token, runAt ("" = now),
--           refund (1|0, or 2 for an unstarted release: attempt and strike undone), attempt record JSON ("" = none), fault JSON ("" = none)
-- Returns  the members whose lease was lost (outcome not applied)
local now = tonumber(ARGV[2])
local nowText = num(now)
local lost = {}
local settled = {}
local completed = {}
local i = 3
while i <= #ARGV do
  local kind, m, token
  if string.byte(ARGV[i]) <= 57 then
    kind, m, token = 'complete', ARGV[i], ARGV[i + 1]
  else
    kind, m, token = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  end
  local key = JOB .. m
  local f = redis.call('HMGET', key, 'state', 'token')
  if f[1] ~= 'running' or f[2] ~= token then
    lost[#lost + 1] = m
    -- A late outcome of the claim the last recovery took away: its worker lived, so its strike is taken back.
    if f[1] == 'waiting' or f[1] == 'running' then
      local g = redis.call('HMGET', key, 'lostToken', 'strikes')
      if g[1] == token then
        redis.call('HSET', key, 'strikes', math.max(0, (tonumber(g[2]) or 0) - 1), 'lostToken', '')
      end
    end
  else
    settled[#settled + 1] = m
    if kind == 'complete' then
      -- The hot path: one write per job, the sorted sets updated once for the whole batch below.
      redis.call('HSET', key, 'state', 'completed', 'finishedAt', nowText, 'strikes', 0)
      completed[#completed + 1] = nowText
      completed[#completed + 1] = m
    else
      local unstarted = kind == 'release' and ARGV[i + 4] == '2'
      if unstarted then
        -- The handler never ran: the claim's attempt and strike are undone, nothing recorded.
        local g = redis.call('HMGET', key, 'attempts', 'strikes')
        redis.call('HSET', key, 'attempts', math.max(0, (tonumber(g[1]) or 0) - 1), 'strikes', math.max(0, (tonumber(g[2]) or 0) - 1),
          'lostToken', '')
      else
        if ARGV[i + 5] ~= '' then appendHistory(key, ARGV[i + 5]) end
        redis.call('HSET', key, 'strikes', 0, 'lostToken', '')
      end
      if kind == 'dead' then
        redis.call('HSET', key, 'fault', ARGV[i + 6])
        finish(K, key, m, 'dead', now)
      else
        if kind == 'release' and ARGV[i + 4] == '1' then
          local attempts = tonumber(redis.call('HGET', key, 'attempts')) or 0
          if attempts > 0 then redis.call('HSET', key, 'attempts', attempts - 1) end
        end
        local runAt = now
        if ARGV[i + 3] ~= '' then runAt = tonumber(ARGV[i + 3]) end
        toWaiting(K, key, m, runAt, now)
      end
    end
  end
  if kind == 'complete' then i = i + 2 else i = i + 7 end
end
if #settled > 0 then many('ZREM', K.running, settled) end
if #completed > 0 then many('ZADD', K.completed, completed) end
return lost
`;
