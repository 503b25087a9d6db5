/** breaker-probe: see the header for KEYS and ARGV. */
export default `
-- breaker-probe: take or give back the one half-open probe shared by every process.
-- KEYS[1] breaker state hash   KEYS[2] probe lock (value: holder's instance id; expires on its own)
-- ARGV[1] "acquire" | "release"   ARGV[2] instance id   ARGV[3] now (wall ms)   ARGV[4] lock ttl ms
-- Returns  acquire: { 1 } when this process holds the probe, { 0, openUntil|"" } when not
--          release: { 1 } when released, { 0 } when another holds it
local holder = redis.call('GET', KEYS[2])
if ARGV[1] == 'release' then
  if holder == ARGV[2] then
    redis.call('DEL', KEYS[2])
    return { 1 }
  end
  return { 0 }
end
-- Still open for everyone (another process's probe just failed): no probe now.
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil'))
if openUntil and openUntil > tonumber(ARGV[3]) then return { 0, string.format('%.17g', openUntil) } end
if holder and holder ~= ARGV[2] then return { 0, '' } end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[4])
return { 1 }
`;
