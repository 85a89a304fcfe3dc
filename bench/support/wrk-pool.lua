-- wrk script for the speed bench (bench/support/wrk.ts). Arguments after `--`: an optional file
-- of Cookie header values, one a line. Every request is picked from a table built once in
-- init(), with or without cookies, so the generator's cost per request is the same in every
-- row; a pool row draws a uniformly random line per request. done() prints one JSON line.

local requests = {}
local n = 0

function init(args)
  local file = args[1]
  if file ~= nil and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then
        n = n + 1
        requests[n] = wrk.format(nil, nil, { ["Cookie"] = line })
      end
    end
  else
    n = 1
    requests[1] = wrk.format()
  end
  math.randomseed(os.time())
end

function request()
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
