/** renew: see the header for KEYS and ARGV. */
export default `
-- renew: extend the leases still held.
-- (KEYS: the queue keys, see common)
-- ARGV[2] now   ARGV[3] leaseMs   ARGV[4..] pairs: member, token
-- Returns  the members whose lease is lost
local leaseUntil = num(tonumber(ARGV[2]) + tonumber(ARGV[3]))
local lost = {}
for i = 4, #ARGV, 2 do
  local key = JOB .. ARGV[i]
  local f = redis.call('HMGET', key, 'state', 'token')
  if f[1] == 'running' and f[2] == ARGV[i + 1] then
    redis.call('HSET', key, 'leaseUntil', leaseUntil)
    redis.call('ZADD', K.running, leaseUntil, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`;
