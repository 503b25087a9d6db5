/** Shared retry budget, atomic: see the header for KEYS and ARGV. */
export default `
-- retry-budget: a retry budget shared by every process. Calls deposit credit, retries withdraw it,
-- within a sliding window of time buckets, so retries stay a bounded fraction of traffic fleet-wide.
-- KEYS[1]  hash: bucket start (wall ms, string) -> "calls:retries" for the window
-- ARGV[1]  operation: "call" (record a first attempt), "retry" (ask for a retry), "peek",
--          "add" (add ARGV[7] requests and ARGV[8] granted retries counted elsewhere)
-- ARGV[2]  now in wall ms, or "" to use the server's TIME
-- ARGV[3]  window ms
-- ARGV[4]  bucket ms (window / bucket count)
-- ARGV[5]  ratio: retries allowed per call in the window (e.g. 0.2)
-- ARGV[6]  minimum retries always allowed per window (so a quiet service can still retry)
-- Returns  { allowed (1|0), calls in window, retries in window }
local now
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[2])
end
local window = tonumber(ARGV[3])
local bucketMs = tonumber(ARGV[4])
local ratio = tonumber(ARGV[5])
local minRetries = tonumber(ARGV[6])
local bucket = now - (now % bucketMs)
local oldest = now - window
local calls = 0
local retries = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local start = tonumber(fields[i])
  if start + bucketMs <= oldest then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    local sep = string.find(fields[i + 1], ':', 1, true)
    calls = calls + tonumber(string.sub(fields[i + 1], 1, sep - 1))
    retries = retries + tonumber(string.sub(fields[i + 1], sep + 1))
  end
end
local function add(dc, dr)
  local current = redis.call('HGET', KEYS[1], tostring(bucket))
  local c, r = 0, 0
  if current then
    local sep = string.find(current, ':', 1, true)
    c = tonumber(string.sub(current, 1, sep - 1))
    r = tonumber(string.sub(current, sep + 1))
  end
  redis.call('HSET', KEYS[1], tostring(bucket), tostring(c + dc) .. ':' .. tostring(r + dr))
  redis.call('PEXPIRE', KEYS[1], window + bucketMs)
end
local allowed = 1
if ARGV[1] == 'call' then
  add(1, 0)
  calls = calls + 1
elseif ARGV[1] == 'add' then
  local dc, dr = tonumber(ARGV[7]), tonumber(ARGV[8])
  if dc > 0 or dr > 0 then add(dc, dr) end
  calls = calls + dc
  retries = retries + dr
elseif ARGV[1] == 'retry' then
  if retries < minRetries or retries < calls * ratio then
    add(0, 1)
    retries = retries + 1
  else
    allowed = 0
  end
end
return { allowed, calls, retries }
`;
