/** delete-jobs: see the header for KEYS and ARGV. */
export default `
-- delete-jobs: delete finished jobs (purge of dead letters) that are still in the given state.
-- (KEYS: the queue keys, see common)
-- ARGV[2] state (completed|dead)   ARGV[3..] members
-- Returns  how many were deleted
local set = ARGV[2] == 'dead' and K.dead or K.completed
local deleted = 0
for i = 3, #ARGV do
  local m = ARGV[i]
  local key = JOB .. m
  local f = redis.call('HMGET', key, 'state', 'idem')
  if f[1] == ARGV[2] then
    if f[2] and redis.call('HGET', K.idem, f[2]) == m then redis.call('HDEL', K.idem, f[2]) end
    if f[1] == 'dead' then forgetDeadLetter(K, key, m) end
    redis.call('DEL', key)
    redis.call('ZREM', set, m)
    deleted = deleted + 1
  end
end
return deleted
`;
