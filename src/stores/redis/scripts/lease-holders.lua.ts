/** lease-holders: see the header for KEYS and ARGV. */
export default `
-- lease-holders: the worker of every live lease of this queue (leaseUntil > now), read in one
-- step so a job settled meanwhile is never half counted.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now
-- Returns  { workerId, workerId, ... } one entry per live lease
local live = redis.call('ZRANGEBYSCORE', K.running, '(' .. ARGV[2], '+inf')
local out = {}
for _, m in ipairs(live) do
  local f = redis.call('HMGET', JOB .. m, 'state', 'workerId')
  if f[1] == 'running' then out[#out + 1] = f[2] or '' end
end
return out
`;
