-- bench/client.lua: our client against bench/run's nginx. Prints one
-- "name value" line per figure; bench/run collects and tabulates them.
-- Nothing here asserts on time.
--
--   BENCH_URL=https://127.0.0.1:PORT BENCH_CA=ca.pem BENCH_PAGE=bench/fixtures/page100.json \
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lua5.4/?.so;;' lua5.4 bench/client.lua [MODE]
--
-- MODE "all" (default): get_job loop, get_jobs at concurrency 16, one
-- 100-job page (query_jobs, the core's decode alone, bare cjson.decode),
-- signatures per warm call. MODE "rss": VmRSS over BENCH_CALLS get_job calls.
local iothub = require("iothub")
local core = require("iothub.core")
local cjson = require("cjson")

local CONNECTION_STRING = "HostName=bench-hub.azure-devices.net;SharedAccessKeyName=iothubowner;"
  .. "SharedAccessKey=" .. assert(os.getenv("BENCH_KEY"), "BENCH_KEY is not set (bench/run sets it)")

local mode = arg[1] or "all"
local seconds = tonumber(os.getenv("BENCH_SECONDS")) or 3
local url = assert(os.getenv("BENCH_URL"), "BENCH_URL is not set")
local ca = assert(os.getenv("BENCH_CA"), "BENCH_CA is not set")
local now = core.monotonic

local hub = assert(iothub.service(CONNECTION_STRING, { endpoint = url, ca_file = ca }))

local function out(name, value) io.write(name, " ", value, "\n"); io.flush() end

local function get_job_checked()
  local job, err = hub:get_job("bench-job")
  if not job then error("get_job failed: " .. tostring(err)) end
  return job
end

-- (a) get_job in a loop, one client, one connection.
local function get_job_loop()
  for _ = 1, 200 do get_job_checked() end
  local job = get_job_checked()
  assert(job.jobId == "bench-job" and job.deviceJobStatistics.deviceCount > 0, "unexpected body")
  local get_job = hub.get_job
  local sig0 = hub:stats().signatures
  local n, t0 = 0, now()
  local deadline = t0 + seconds
  repeat
    for _ = 1, 50 do
      if not get_job(hub, "bench-job") then get_job_checked() end
    end
    n = n + 50
  until now() >= deadline
  local elapsed = now() - t0
  local stats = hub:stats()
  out("get_job_rps", ("%.1f"):format(n / elapsed))
  -- (d) SAS signatures once warm: new signatures per call, and in all.
  out("signatures_per_call", ("%.6f"):format((stats.signatures - sig0) / n))
  out("signatures_total", ("%d"):format(stats.signatures))
  out("connections_total", ("%d"):format(stats.connections))
end

-- (b) get_jobs, concurrency 16, batches of 256 distinct ids.
local function get_jobs_loop()
  local ids = {}
  for i = 1, 256 do ids[i] = ("bench-job-%03d"):format(i) end
  local opts = { concurrency = 16 }
  local function batch()
    local results, errors = hub:get_jobs(ids, opts)
    local id, err = next(errors)
    if id then error("get_jobs failed for " .. id .. ": " .. tostring(err)) end
    assert(results[ids[256]].jobId == "bench-job", "unexpected body")
  end
  batch(); batch()
  local n, t0 = 0, now()
  repeat batch(); n = n + #ids until now() >= t0 + seconds
  out("get_jobs16_rps", ("%.1f"):format(n / (now() - t0)))
end

-- Best (lowest) microseconds per call of fn over batches of `per` calls.
local function best_us(fn, per, budget)
  for _ = 1, per do fn() end                                -- warm
  local best, t_end = math.huge, now() + budget
  repeat
    local t0 = now()
    for _ = 1, per do fn() end
    local us = (now() - t0) / per * 1e6
    if us < best then best = us end
  until now() >= t_end
  return best
end

-- (c) one 100-job page: query_jobs (HTTPS + decode into tables), the core's
-- decode alone (no I/O), and bare cjson.decode of the same bytes.
local function page()
  local f = assert(io.open(assert(os.getenv("BENCH_PAGE"), "BENCH_PAGE is not set"), "rb"))
  local body = f:read("*a")
  f:close()
  local first = assert(hub:query_jobs { page_size = 100 })
  assert(#first.items == 100 and first.continuation == nil, "expected one full last page")
  local budget = tonumber(os.getenv("BENCH_PAGE_SECONDS")) or 1
  out("page_query_us", ("%.1f"):format(best_us(function()
    local p = hub:query_jobs { page_size = 100 }
    if not p then error("query_jobs failed") end
  end, 20, budget)))
  local client = hub.client
  if type(client.decode) == "function" then
    local headers = {}
    assert(#client:decode(200, headers, body) == 100)
    out("page_core_decode_us", ("%.1f"):format(best_us(function()
      client:decode(200, headers, body)
    end, 20, budget)))
  end
  local decode = cjson.decode
  out("page_cjson_us", ("%.1f"):format(best_us(function() decode(body) end, 20, budget)))
  out("page_bytes", #body)
end

local function rss_kb()
  local f = io.open("/proc/self/status", "r")
  if not f then return 0 end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)")) or 0
end

-- (e) resident memory over BENCH_CALLS get_job calls, after 1,000 warm-up calls.
local function rss()
  local calls = tonumber(os.getenv("BENCH_CALLS")) or 100000
  for _ = 1, 1000 do get_job_checked() end
  local start, peak = rss_kb(), 0
  local t0 = now()
  for i = 1, calls do
    if not hub:get_job("bench-job") then get_job_checked() end
    if i % 5000 == 0 then
      local kb = rss_kb()
      if kb > peak then peak = kb end
    end
  end
  local elapsed = now() - t0
  out("rss_calls", calls)
  out("rss_start_kb", start)
  out("rss_end_kb", rss_kb())
  out("rss_peak_kb", math.max(peak, rss_kb()))
  out("rss_rps", ("%.1f"):format(calls / elapsed))
  out("rss_signatures_total", ("%d"):format(hub:stats().signatures))
end

if mode == "all" then
  get_job_loop()
  get_jobs_loop()
  page()
elseif mode == "rss" then
  rss()
else
  error("unknown mode " .. mode .. " (all or rss)")
end
hub:close()
