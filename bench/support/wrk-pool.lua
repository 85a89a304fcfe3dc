-- wrk script for the outside-in benches (bench/support/wrk.ts). Arguments after `--`: an optional
-- file of header values, one a line; the header they fill (Cookie by default); how a line is
-- picked (random, or cycle); wrk's thread count; the line a cycle starts from. Every request is picked from a table built once
-- in init(), with or without lines, so the generator's cost per request is the same in every
-- row; a pool row draws a uniformly random line per request, a cycling row each line in order,
-- round and round. done() prints one JSON line.

local requests = {}
local n = 0
local cycle = false
local position = 0

-- Runs in the main state, once per thread: each thread learns its index (the global `id`).
local started = 0
function setup(thread)
  thread:set("id", started)
  started = started + 1
end

function init(args)
  local file = args[1]
  local header = args[2]
  if header == nil or header == "" then header = "Cookie" end
  cycle = args[3] == "cycle"
  local threads = tonumber(args[4]) or 1
  local mine = tonumber(id) or 0
  if file ~= nil and file ~= "" then
    local i = 0
    for line in io.lines(file) do
      if line ~= "" then
        -- Cycling threads take every threads-th line: no line is shared, so each comes back
        -- only after every other line of the file has been sent.
        if not cycle or i % threads == mine then
          n = n + 1
          requests[n] = wrk.format(nil, nil, { [header] = line })
        end
        i = i + 1
      end
    end
  else
    n = 1
    requests[1] = wrk.format()
  end
  -- A cycle goes on where the last run stopped (each thread from its share of the lines).
  position = math.floor((tonumber(args[5]) or 0) / threads) % n
  math.randomseed(os.time())
end

function request()
  if cycle then
    position = position % n + 1
    return requests[position]
  end
  return requests[math.random(n)]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%.0f,"durationUs":%.0f,"p50Us":%.0f,"p99Us":%.0f,"non2xx":%.0f,' ..
    '"socketErrors":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"timeout":%.0f}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
end
