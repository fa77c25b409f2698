-- bench/callgrind_get_job.lua: a fixed amount of work for valgrind's
-- callgrind, so bench/run can take instruction counts per call as the
-- difference of two runs with different counts (start-up cancels out).
--
--   lua5.4 bench/callgrind_get_job.lua MODE COUNT
-- MODE: get_job (hub:get_job), query (hub:query_jobs{page_size=100}, the
-- 100-job page), get_jobs (hub:get_jobs of 16 ids at concurrency 16, per
-- batch), cjson (bare cjson.decode of the page fixture's bytes).
-- Every mode makes the client and runs the same 20-call warm-up first.
-- Environment as for bench/client.lua (BENCH_URL, BENCH_CA, BENCH_PAGE).
local iothub = require("iothub")
local cjson = require("cjson")

local mode, count = arg[1] or "get_job", tonumber(arg[2]) or 100
local hub = assert(iothub.service("HostName=bench-hub.azure-devices.net;SharedAccessKeyName=iothubowner;"
  .. "SharedAccessKey=" .. assert(os.getenv("BENCH_KEY"), "BENCH_KEY is not set (bench/run sets it)"),
  { endpoint = assert(os.getenv("BENCH_URL")), ca_file = assert(os.getenv("BENCH_CA")), timeout = 300 }))
local f = assert(io.open(assert(os.getenv("BENCH_PAGE")), "rb"))
local body = f:read("*a")
f:close()

local work
if mode == "get_job" then
  work = function() assert(hub:get_job("bench-job")) end
elseif mode == "query" then
  work = function() assert(hub:query_jobs { page_size = 100 }) end
elseif mode == "get_jobs" then            -- COUNT is in batches of 16 ids
  local ids = {}
  for i = 1, 16 do ids[i] = "bench-" .. i end
  work = function() hub:get_jobs(ids, { concurrency = 16 }) end
elseif mode == "cjson" then
  local decode = cjson.decode
  work = function() decode(body) end
else
  error("unknown mode " .. mode)
end

assert(hub:get_job("bench-job"))          -- TLS handshake, first signature
for _ = 1, 20 do work() end
for _ = 1, count do work() end
hub:close()
