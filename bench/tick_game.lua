-- bench/tick_game.lua: the game-loop measure of `make bench`, run by the
-- embedding host (build/embed/iothub-embed-host, 60 ticks a second), which
-- prints the longest tick and the 99th percentile. While it runs, 16 tasks
-- read jobs back to back (16 requests always in flight) and one task waits
-- on a job that stays running; each tick only calls iothub.poll(0). Against
-- bench/run's nginx (BENCH_URL, BENCH_CA, BENCH_KEY), for BENCH_TICK_SECONDS
-- (default 5) ticks' worth, from the first tick (connects and TLS included):
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' build/embed/iothub-embed-host bench/tick_game.lua 60
local iothub = require("iothub")

local IN_FLIGHT = 16
local CONNECTION_STRING = "HostName=bench-hub.azure-devices.net;SharedAccessKeyName=iothubowner;"
  .. "SharedAccessKey=" .. assert(os.getenv("BENCH_KEY"), "BENCH_KEY is not set (bench/run sets it)")

local TICKS = 60 * (tonumber(os.getenv("BENCH_TICK_SECONDS")) or 5)

local hub
local reads, failures, stop, ticks = 0, 0, false, 0

function on_start()   -- luacheck: ignore 111 (called by the host)
  hub = iothub.assert(iothub.service(CONNECTION_STRING, {
    endpoint = assert(os.getenv("BENCH_URL"), "BENCH_URL is not set"),
    ca_file = assert(os.getenv("BENCH_CA"), "BENCH_CA is not set") }))
  for _ = 1, IN_FLIGHT do
    iothub.spawn(function()
      while not stop do
        if hub:get_job("bench-job") then reads = reads + 1 else failures = failures + 1 end
      end
    end)
  end
  -- bench-running stays "running": the wait polls until the run ends.
  iothub.spawn(function() return hub:wait_job("bench-running", { timeout = 3600, interval = 0.5 }) end)
end

function on_tick()    -- luacheck: ignore 111
  iothub.poll(0)
  ticks = ticks + 1
  return ticks < TICKS
end

function on_stop()    -- luacheck: ignore 111
  stop = true
  print(("tick_game: %d reads, %d failed, %d tasks still pending"):format(reads, failures, iothub.pending()))
  hub:close()
end
