import { HISTORY_LIMIT } from '../../../durable/store-rules.js';

/**
 * Helpers prepended to every queue script. Conventions shared by all queue scripts:
 * - ARGV[1] is the job-key prefix `<tag>:j:` (each job is a hash `<tag>:j:<member>`, under the
 *   queue's hash tag, so it lives in the same cluster slot as KEYS).
 * - A job's *member* is its sequence number zero-padded to 15 digits, so that equal scores in a
 *   sorted set order by enqueue order. The public id is `<escaped queue>:<sequence>`.
 * - The ready set is scored by -priority; its members are `<runAt padded to 16><member>`, so
 *   ties on priority order by runAt, then by enqueue order (ZPOPMIN gives the next job).
 * - Numbers are written with %.17g: integers stay integers, fractions survive.
 */
export default `
local JOB = ARGV[1]
local HISTORY_LIMIT = ${HISTORY_LIMIT}
local function num(x) return string.format('%.17g', x) end
local function member(seq) return string.format('%015d', seq) end
local function readyMember(runAt, m) return string.format('%016d', math.max(0, math.floor(tonumber(runAt)))) .. m end
-- Appends an attempt record; past HISTORY_LIMIT records, keeps the first and the newest
-- HISTORY_LIMIT - 1 (the count lives in the field 'hn', so only a trim decodes the JSON).
local function appendHistory(key, record)
  local h = redis.call('HGET', key, 'history')
  if (not h) or h == '[]' then
    h = '[' .. record .. ']'
  else
    h = string.sub(h, 1, -2) .. ',' .. record .. ']'
  end
  local n = redis.call('HINCRBY', key, 'hn', 1)
  if n > HISTORY_LIMIT then
    local all = cjson.decode(h)
    local kept = { all[1] }
    for i = #all - HISTORY_LIMIT + 2, #all do kept[#kept + 1] = all[i] end
    h = cjson.encode(kept)
    redis.call('HSET', key, 'hn', #kept)
  end
  redis.call('HSET', key, 'history', h)
end
-- Lease fields (token, workerId, claimedAt, leaseUntil) are only meaningful while the state is
-- 'running'; they are left in place afterwards rather than deleted (one command less per job).
-- Back to waiting at runAt: into the ready set when due, else the delayed set.
local function toWaiting(K, key, m, runAt, now)
  redis.call('HSET', key, 'state', 'waiting', 'runAt', num(runAt))
  if runAt <= now then
    local priority = tonumber(redis.call('HGET', key, 'priority'))
    redis.call('ZADD', K.ready, num(-priority), readyMember(runAt, m))
  else
    redis.call('ZADD', K.delayed, num(runAt), m)
  end
end
-- Dead letters are also indexed by fault category: a sorted set per category, scored like the
-- dead set, and the category kept in the job's 'cat' field to find the set again on removal.
-- And their messages, lower-cased, in one hash (member -> message), so a text search reads short
-- strings instead of decoding every fault (match-text); letters from before it have no entry.
local function deadCategoryKey(K, category) return K.dead .. ':c:' .. category end
local function deadMessageKey(K) return K.dead .. ':msg' end
local function finish(K, key, m, state, now)
  redis.call('HSET', key, 'state', state, 'finishedAt', num(now))
  if state == 'dead' then
    local ok, fault = pcall(cjson.decode, redis.call('HGET', key, 'fault') or '')
    local category, message = 'unknown', ''
    if ok and type(fault) == 'table' then
      if type(fault.category) == 'string' then category = fault.category end
      if type(fault.message) == 'string' then message = string.lower(fault.message) end
    end
    redis.call('HSET', key, 'cat', category)
    redis.call('ZADD', deadCategoryKey(K, category), num(now), m)
    redis.call('HSET', deadMessageKey(K), m, message)
  end
  redis.call('ZADD', state == 'dead' and K.dead or K.completed, num(now), m)
end
-- Takes a job that leaves the dead letters out of its category's index and the message hash.
local function forgetDeadLetter(K, key, m)
  local category = redis.call('HGET', key, 'cat')
  if category then
    redis.call('ZREM', deadCategoryKey(K, category), m)
    redis.call('HDEL', key, 'cat')
  end
  redis.call('HDEL', deadMessageKey(K), m)
end
-- One command for many members (in chunks: Lua's unpack has a stack limit).
local function many(command, key, items)
  for i = 1, #items, 1000 do
    redis.call(command, key, unpack(items, i, math.min(i + 999, #items)))
  end
end
local K = { meta = KEYS[1], ready = KEYS[2], delayed = KEYS[3], running = KEYS[4], completed = KEYS[5], dead = KEYS[6], idem = KEYS[7] }
`;

/** The KEYS every queue script receives, in this order. */
export const QUEUE_KEYS_HEADER = `
-- KEYS[1] meta hash (seq, token counters, pausedUntil)   KEYS[2] ready zset   KEYS[3] delayed zset
-- KEYS[4] running zset (score: leaseUntil)   KEYS[5] completed zset   KEYS[6] dead zset (score: finishedAt)
-- KEYS[7] idempotency hash (key -> member)
-- ARGV[1] job-key prefix "<tag>:j:" (every job hash shares the queue's hash tag)`;
