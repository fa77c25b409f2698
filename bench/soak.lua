-- bench/soak.lua: a soak run. SOAK_CALLS (default 100000) calls through one
-- service client against the emulator, with faults scripted on the
-- emulator before a share of them (SOAK_FAULT_RATE, default 0.05): resets,
-- closes, short bodies, throttling, 503 bursts past the retry budget,
-- stalls past the timeout, broken/oversized/deep JSON, error bodies, 401s.
-- Every call must come back with a result or an error (nothing lost); it
-- prints the resident memory at the start and end, and the outcomes by
-- kind. Run with `make soak` (it starts the emulator), or inside
-- tools/with-emulator:
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lua5.4/?.so;;' lua5.4 bench/soak.lua
local iothub = require("iothub")
local core = require("iothub.core")
local json = require("iothub.json")

local CALLS = tonumber(os.getenv("SOAK_CALLS")) or 100000
local FAULT_RATE = tonumber(os.getenv("SOAK_FAULT_RATE")) or 0.05
local SEED = tonumber(os.getenv("SOAK_SEED")) or 42

local url, ca = os.getenv("IOTHUB_EMULATOR_URL"), os.getenv("IOTHUB_EMULATOR_CA")
local conn = assert(os.getenv("IOTHUB_EMULATOR_CONNECTION_STRING"), "run inside tools/with-emulator")

-- The emulator's control API, through a client of its own.
local control = assert(core.client(conn, { endpoint = url, ca_file = ca }))
local function ctl(method, path, body)
  local v, err = control:request(method, "/_emulator/" .. path, nil, body and json.encode(body))
  assert(v, tostring(err))
  return v
end

-- Resident set size in KiB, from /proc.
local function rss_kib()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)")) or 0
end

-- The faults, each scripted for the next request on the call's path.
local faults = {
  { fault = "error", status = 503, code = "ServiceUnavailable" },
  { fault = "error", status = 503, code = "ServiceUnavailable", times = 3 },   -- past the 3 attempts
  { fault = "error", status = 429, code = "ThrottlingException", headers = { ["retry-after-ms"] = "20" } },
  { fault = "error", status = 429, headers = { ["x-ms-retry-after-ms"] = "10" } },
  { fault = "error", status = 404, shape = 1, code = "JobNotFound" },
  { fault = "error", status = 400, shape = 3, code = "ArgumentInvalid" },
  { fault = "error", status = 401, shape = 4, code = "IotHubUnauthorizedAccess" },
  { fault = "error", status = 500, shape = "text" },
  { fault = "reset" },
  { fault = "close" },
  { fault = "truncate" },
  { fault = "stall", seconds = 0.5 },                                           -- past the 0.2 s timeout
  { fault = "truncated_json" },
  { fault = "malformed_json" },
  { fault = "oversize", bytes = 2 * 1024 * 1024 },
  { fault = "invalid_utf8" },
  { fault = "deep_nesting", depth = 1000 },
}

math.randomseed(SEED)
ctl("POST", "reset")
local hub = assert(iothub.service(conn, { endpoint = url, ca_file = ca, timeout = 0.2,
  max_response_size = 1024 * 1024, retry = { attempts = 3, base_delay = 0.005, max_delay = 0.05 } }))

local ids = {}
for job in hub:jobs { page_size = 100, limit = 50 } do ids[#ids + 1] = job.jobId end
assert(#ids >= 10, "the emulator should hold jobs")

local outcomes, faulted, answered = {}, {}, 0
local function tally(t, key) t[key] = (t[key] or 0) + 1 end

local function one_call(i)
  local id = ids[math.random(#ids)]
  local path, call
  if i % 10 == 0 then
    path = "/jobs/v2/query"
    call = function() return hub:query_jobs { page_size = 20 } end
  else
    path = "/jobs/v2/" .. id
    call = function() return hub:get_job(id) end
  end
  local scripted_fault = math.random() < FAULT_RATE
  if scripted_fault then
    local f = faults[math.random(#faults)]
    local scripted = { path = path }
    for k, v in pairs(f) do scripted[k] = v end
    ctl("POST", "faults", scripted)
    tally(faulted, f.fault .. (f.status and (" " .. f.status) or ""))
  end
  local value, err = call()
  if value ~= nil then
    tally(outcomes, "ok")
  elseif type(err) == "table" then
    tally(outcomes, err.kind .. " " .. tostring(err.code or err.status))
  else
    error("call " .. i .. " returned neither a result nor an error table")
  end
  answered = answered + 1
  -- A fault left unused must not leak onto a later call.
  if scripted_fault then ctl("DELETE", "faults") end
end

local started = core.monotonic()
-- Warm up (connections, token, decoders) before the first measurement.
for i = 1, 1000 do one_call(i) end
collectgarbage()
local rss_start, lua_start = rss_kib(), collectgarbage("count")
print(("soak: %d calls on %s, faults before %.0f%% of them"):format(CALLS, _VERSION, FAULT_RATE * 100))
print(("  after warm-up: RSS %d KiB, Lua heap %.0f KiB"):format(rss_start, lua_start))
for i = 1001, CALLS do
  one_call(i)
  if i % 10000 == 0 then
    ctl("DELETE", "requests")             -- keep the emulator's log small
    print(("  %6d calls: RSS %d KiB, Lua heap %.0f KiB, %.0f s"):format(i, rss_kib(),
      collectgarbage("count"), core.monotonic() - started))
  end
end
collectgarbage()
local rss_end, lua_end = rss_kib(), collectgarbage("count")
local stats = hub:stats()
hub:close()

print(("  end: RSS %d KiB (%+d KiB), Lua heap %.0f KiB (%+.0f KiB)"):format(rss_end, rss_end - rss_start,
  lua_end, lua_end - lua_start))
print(("  calls %d, answered %d, HTTP requests %d, connections %d, signatures %d, %.0f s"):format(
  CALLS, answered, stats.requests, stats.connections, stats.signatures, core.monotonic() - started))
local function dump(title, t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  print("  " .. title .. ":")
  for _, k in ipairs(keys) do print(("    %-40s %d"):format(k, t[k])) end
end
dump("faults scripted", faulted)
dump("outcomes", outcomes)
if answered ~= CALLS then
  print("FAIL: calls lost")
  os.exit(1)
end
