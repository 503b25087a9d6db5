/** checkpoint-job: see the header for KEYS and ARGV. */
export default `
-- checkpoint-job: save a running job's checkpoint if the lease is still held.
-- (KEYS: the queue keys, see common)
-- ARGV[2] member   ARGV[3] token   ARGV[4] checkpoint (JSON)
-- Returns  1 when saved, 0 when the lease is lost
local key = JOB .. ARGV[2]
local f = redis.call('HMGET', key, 'state', 'token')
if f[1] ~= 'running' or f[2] ~= ARGV[3] then return 0 end
redis.call('HSET', key, 'checkpoint', ARGV[4])
return 1
`;
