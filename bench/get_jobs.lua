-- bench/get_jobs.lua: time hub:get_jobs for 200 ids at several concurrencies
-- against the emulator, a few rounds each, on one warm client. Run with
-- `make bench` (which starts the emulator), or inside tools/with-emulator:
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lua5.4/?.so;;' lua5.4 bench/get_jobs.lua
local iothub = require("iothub")
local core = require("iothub.core")

local rounds = tonumber(os.getenv("BENCH_ROUNDS")) or 7
local hub = assert(iothub.service(os.getenv("IOTHUB_EMULATOR_CONNECTION_STRING"),
  { endpoint = os.getenv("IOTHUB_EMULATOR_URL"), ca_file = os.getenv("IOTHUB_EMULATOR_CA") }))

local ids = {}
for job in hub:jobs { page_size = 1000, limit = 200 } do ids[#ids + 1] = job.jobId end
assert(#ids == 200, "the emulator should hold at least 200 jobs")

print(("get_jobs, 200 ids, %s, %d rounds (ms: min / median / max)"):format(
  rawget(_G, "jit") and rawget(_G, "jit").version or _VERSION, rounds))
for _, concurrency in ipairs { 1, 4, 16 } do
  hub:get_jobs(ids, { concurrency = concurrency })          -- warm the connections
  local times = {}
  for r = 1, rounds do
    local t0 = core.monotonic()
    local results, errors = hub:get_jobs(ids, { concurrency = concurrency })
    times[r] = (core.monotonic() - t0) * 1000
    assert(next(errors) == nil and results[ids[200]], "every id should be read")
  end
  table.sort(times)
  print(("  concurrency %2d: %7.1f / %7.1f / %7.1f"):format(concurrency, times[1],
    times[math.floor((rounds + 1) / 2)], times[rounds]))
end
print(("  signatures made: %d, connections opened: %d"):format(hub:stats().signatures, hub:stats().connections))
hub:close()
