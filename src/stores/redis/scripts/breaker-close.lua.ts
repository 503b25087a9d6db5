/** breaker-close: see the header for KEYS and ARGV. */
export default `
-- breaker-close: a probe succeeded: the shared circuit closes for every process.
-- KEYS[1] breaker state hash   KEYS[2] probe lock
-- ARGV[1] instance id          ARGV[2] pub/sub channel
-- Returns  1
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('PUBLISH', ARGV[2], cjson.encode({ type = 'closed', by = ARGV[1] }))
return 1
`;
