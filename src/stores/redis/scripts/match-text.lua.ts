/** match-text: see the header for KEYS and ARGV. */
export default `
-- match-text: which dead letters' fault message contains a text (a search is a scan: done here,
-- so the faults never travel to the client). Reads the lower-cased messages kept in the dead
-- message hash (see common); a letter without an entry (dead-lettered before the hash existed)
-- has its fault decoded instead. string.lower folds ASCII letters only, as the other stores do.
-- (KEYS: the queue keys, see common)
-- ARGV[2] the text, ASCII letters already lower-cased   ARGV[3..] members
-- Returns  the members whose message contains it
local needle = ARGV[2]
local messages = deadMessageKey(K)
local out = {}
for first = 3, #ARGV, 1000 do
  local last = math.min(first + 999, #ARGV)
  local found = redis.call('HMGET', messages, unpack(ARGV, first, last))
  for i = first, last do
    local message = found[i - first + 1]
    if not message then
      local ok, fault = pcall(cjson.decode, redis.call('HGET', JOB .. ARGV[i], 'fault') or '')
      if ok and type(fault) == 'table' and type(fault.message) == 'string' then
        message = string.lower(fault.message)
      end
    end
    if message and string.find(message, needle, 1, true) then out[#out + 1] = ARGV[i] end
  end
end
return out
`;
