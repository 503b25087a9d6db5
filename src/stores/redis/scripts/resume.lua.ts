/** resume: see the header for KEYS and ARGV. */
export default `
-- resume: end a pause at once.
-- (KEYS: the queue keys, see common; only KEYS[1] is used)
-- Returns  1 when a pause was removed
return redis.call('HDEL', K.meta, 'pausedUntil')
`;
