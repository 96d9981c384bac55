-- BullMQ keeps an events stream per queue (`<prefix>:<queue>:events`, capped by count, not by age) whose entries name
-- job ids and carry what a job returned. `forget` removes a requester's jobs; this removes their traces from those
-- streams too, so nothing keyed by their job ids outlives the command. Delivery jobs are named after the portrait
-- job (`<jobId>-result`, `<jobId>-progress-<stage>`), so an entry is dropped when its jobId starts with a given id.
-- Runs in Redis, a page of entries at a time; forget is rare and the streams are bounded.
local ids = ARGV
local removed = 0
for k = 1, #KEYS do
  local from = '-'
  while true do
    local page = redis.call('XRANGE', KEYS[k], from, '+', 'COUNT', 500)
    if #page == 0 then break end
    for _, entry in ipairs(page) do
      local fields = entry[2]
      for f = 1, #fields - 1, 2 do
        if fields[f] == 'jobId' then
          local jobId = fields[f + 1]
          for _, id in ipairs(ids) do
            if string.sub(jobId, 1, #id) == id then
              removed = removed + redis.call('XDEL', KEYS[k], entry[1])
              break
            end
          end
        end
      end
    end
    if #page < 500 then break end
    from = '(' .. page[#page][1]
  end
end
return removed
