-- wrk script: POST pre-signed Stripe webhooks (benches/run). The events
-- file (PAVE_BENCH_EVENTS, from webhook_events.py) is shared out between the
-- PAVE_BENCH_THREADS threads, each event sent once; `done` warns when a
-- thread ran out (it then re-sends its last event, a cheap duplicate).
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("PAVE_BENCH_THREADS"))
  events = {}
  local n = 0
  for line in io.lines(os.getenv("PAVE_BENCH_EVENTS")) do
    if n % nthreads == id then
      local tab = line:find("\t", 1, true)
      table.insert(events, { line:sub(1, tab - 1), line:sub(tab + 1) })
    end
    n = n + 1
  end
  sent = 0
  total = #events
end

function request()
  if sent < #events then
    sent = sent + 1
  end
  local e = events[sent]
  return wrk.format("POST", "/api/webhooks/stripe",
    { ["Content-Type"] = "application/json", ["Stripe-Signature"] = e[1] }, e[2])
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local sent, total = thread:get("sent"), thread:get("total")
    if sent >= total then
      io.write(string.format("WARNING: thread %d ran out of events (%d): raise the count\n",
        thread:get("id"), total))
    end
  end
end
