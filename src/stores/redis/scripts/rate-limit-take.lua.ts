/** Token bucket take, atomic: see the header for KEYS and ARGV. */
export default `
-- rate-limit-take: take tokens from a token bucket shared by every process.
-- KEYS[1]  hash {tokens, at}: the bucket (tokens as a decimal string, at = wall ms of last refill)
-- ARGV[1]  capacity: the most tokens the bucket holds (burst)
-- ARGV[2]  refill rate in tokens per millisecond
-- ARGV[3]  tokens wanted by this call
-- ARGV[4]  now in wall ms, or "" to use the server's TIME (one clock for every process)
-- ARGV[5]  ttl ms for the bucket key (a full bucket needs no storage)
-- Returns  { granted (1|0), tokens left (string), ms until the wanted tokens are available }
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local now
if ARGV[4] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[4])
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
-- A clock that moved backwards refills nothing rather than going negative.
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local granted = 0
local wait = 0
if tokens >= wanted then
  tokens = tokens - wanted
  granted = 1
else
  wait = math.ceil((wanted - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return { granted, tostring(tokens), wait }
`;
