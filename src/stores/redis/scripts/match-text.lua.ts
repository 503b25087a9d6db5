/** match-text: see the header for KEYS and ARGV. */
export default `
-- match-text: which dead letters' fault message contains a text (a search is a scan: done here,
-- so the faults never travel to the client). string.lower folds ASCII letters only, as the
-- other stores do.
-- (KEYS: the queue keys, see common)
-- ARGV[2] the text, ASCII letters already lower-cased   ARGV[3..] members
-- Returns  the members whose message contains it
local needle = ARGV[2]
local out = {}
for i = 3, #ARGV do
  local f = redis.call('HGET', JOB .. ARGV[i], 'fault')
  if f then
    local ok, fault = pcall(cjson.decode, f)
    if ok and type(fault) == 'table' and type(fault.message) == 'string'
      and string.find(string.lower(fault.message), needle, 1, true) then
      out[#out + 1] = ARGV[i]
    end
  end
end
return out
`;
