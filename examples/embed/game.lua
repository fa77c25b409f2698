-- examples/embed/game.lua: the script the embedding host runs at 60 ticks a
-- second. It starts background work on the first tick (a batch of 100 job
-- reads, a twin update it waits for, and one deliberately slow read) and
-- polls it each tick with iothub.poll(0), which never blocks. It returns
-- false from on_tick once everything is done. Reads IOTHUB_CONNECTION_STRING,
-- IOTHUB_ENDPOINT and IOTHUB_CA_FILE, which tools/with-emulator sets; see
-- host.c for how to run it.
local iothub = require("iothub")

local hub, tasks, frame = nil, {}, 0

function on_start()   -- luacheck: ignore 111 (called by the host)
  hub = iothub.assert(iothub.service(os.getenv("IOTHUB_CONNECTION_STRING"), {
    endpoint = os.getenv("IOTHUB_ENDPOINT"), ca_file = os.getenv("IOTHUB_CA_FILE") }))
  tasks.reads = iothub.spawn(function()
    -- 90 real job ids from one query page, and 10 that do not exist.
    local page = iothub.assert(hub:query_jobs { page_size = 90 })
    local ids = {}
    for i, job in ipairs(page.items) do ids[i] = job.jobId end
    for i = 1, 10 do ids[#ids + 1] = "missing-" .. i end
    local results, errors = hub:get_jobs(ids, { concurrency = 4 })
    local ok, failed = 0, 0
    for _ in pairs(results) do ok = ok + 1 end
    for _ in pairs(errors) do failed = failed + 1 end
    return ok, failed
  end)
  tasks.slow = iothub.spawn(function() return hub:get_job(os.getenv("EMBED_SLOW_JOB") or "fixture-method-1") end)
  tasks.wait = iothub.spawn(function()
    local job = iothub.assert(hub:schedule_twin_update {
      query_condition = "deviceId IN ['device-001', 'device-002', 'device-003']",
      twin = { tags = { embedded = true } } })
    return hub:wait_job(job.jobId, { timeout = 30, interval = 0.1 })
  end)
end

function on_tick()    -- luacheck: ignore 111
  frame = frame + 1
  iothub.poll(0)
  return iothub.pending() > 0
end

function on_stop()    -- luacheck: ignore 111
  for name, task in pairs(tasks) do
    if task.error then
      print(("game: %s failed: %s"):format(name, tostring(task.error)))
    elseif task.done then
      local a, b = task:result()
      if type(a) == "table" then a = (a.jobId or "?") .. " " .. tostring(a.status) end
      print(("game: %s done: %s %s"):format(name, tostring(a), tostring(b)))
    else
      print(("game: %s still running"):format(name))
    end
  end
  print(("game: %d frames"):format(frame))
  hub:close()
end
