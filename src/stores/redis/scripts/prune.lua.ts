/** prune: see the header for KEYS and ARGV. */
export default `
-- prune: retention for one queue's completed jobs or dead letters: delete those finished before
-- a cutoff and those beyond the newest maxCount. At most ARGV[5] per call (the caller loops), so
-- one call never blocks the server for long.
-- (KEYS: the queue keys, see common)
-- ARGV[2] state (completed|dead)   ARGV[3] cutoff: delete finishedAt < cutoff ("" = no age bound)
-- ARGV[4] maxCount ("" = no count bound)   ARGV[5] most deletions in this call
-- Returns  how many were deleted
local set = ARGV[2] == 'dead' and K.dead or K.completed
local budget = tonumber(ARGV[5])
local doomed = {}
if ARGV[3] ~= '' then
  doomed = redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. ARGV[3], 'LIMIT', 0, budget)
end
if ARGV[4] ~= '' and #doomed < budget then
  local excess = redis.call('ZCARD', set) - #doomed - tonumber(ARGV[4])
  if excess > 0 then
    -- Oldest first; skip the ones already doomed by age (they are the oldest).
    local more = redis.call('ZRANGE', set, #doomed, #doomed + math.min(excess, budget - #doomed) - 1)
    for _, m in ipairs(more) do doomed[#doomed + 1] = m end
  end
end
for _, m in ipairs(doomed) do
  local key = JOB .. m
  local idem = redis.call('HGET', key, 'idem')
  if idem and redis.call('HGET', K.idem, idem) == m then redis.call('HDEL', K.idem, idem) end
  if ARGV[2] == 'dead' then forgetDeadLetter(K, key, m) end
  redis.call('DEL', key)
  redis.call('ZREM', set, m)
end
return #doomed
`;
