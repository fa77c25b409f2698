-- spec/helpers.lua: what every spec shares: the emulator's address, CA and
-- connection strings (from tools/with-emulator), a ready client, and the
-- emulator's control API (reset, stored requests, counters), reached with
-- the C core's own plain request path through a client with no auth needs.
local iothub = require("iothub")
local core = require("iothub.core")

local H = {}

local function env(name)
  local v = os.getenv(name)
  if not v or v == "" then
    error("spec/helpers: " .. name .. " is not set; run the specs with `make test` "
      .. "(or tools/with-emulator tools/run-specs)", 2)
  end
  return v
end

H.url = env("IOTHUB_EMULATOR_URL")
H.ca_file = env("IOTHUB_EMULATOR_CA")
H.host = env("IOTHUB_EMULATOR_HOST")
H.connection_string = env("IOTHUB_EMULATOR_CONNECTION_STRING")
H.lua = os.getenv("IOTHUB_SPEC_LUA") or _VERSION
-- The command that runs this Lua in a child process: under make asan the
-- wrapper that preloads libasan (tools/run-asan), else the interpreter.
H.lua_command = os.getenv("IOTHUB_SPEC_LUA_COMMAND") or H.lua

-- The emulator's Azure AD and ARM identities (read when first used).
H.aad = setmetatable({}, { __index = function(t, k)
  local names = { tenant_id = "TENANT_ID", client_id = "CLIENT_ID", client_secret = "CLIENT_SECRET",
    subscription_id = "SUBSCRIPTION_ID", resource_group = "RESOURCE_GROUP", hub_name = "HUB_NAME",
    mi_client_id = "MI_CLIENT_ID", identity_header = "IDENTITY_HEADER", identity_url = "IDENTITY_URL" }
  local v = env("IOTHUB_EMULATOR_" .. assert(names[k], k))
  rawset(t, k, v)
  return v
end })

-- A client-secret credential against the emulator's token endpoint.
function H.client_secret(opts)
  local o = { tenant_id = H.aad.tenant_id, client_id = H.aad.client_id, client_secret = H.aad.client_secret,
    authority = H.url, ca_file = H.ca_file }
  for k, v in pairs(opts or {}) do o[k] = v end
  return iothub.credential.client_secret(o)
end

-- A management client for the emulator's hub resource.
function H.arm(opts)
  local o = { subscription_id = H.aad.subscription_id, resource_group = H.aad.resource_group,
    hub_name = H.aad.hub_name, endpoint = H.url, ca_file = H.ca_file }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.credential == nil then o.credential = H.client_secret() end
  local arm, err = iothub.management(o)
  assert(arm, tostring(err))
  return arm
end

-- A connection string for the emulator's hub with another key or policy.
function H.connection_string_with(fields)
  local parts = {
    HostName = H.host,
    SharedAccessKeyName = H.connection_string:match("SharedAccessKeyName=([^;]+)"),
    SharedAccessKey = H.connection_string:match("SharedAccessKey=([^;]+)"),
  }
  for k, v in pairs(fields) do parts[k] = v end
  local out = {}
  for _, k in ipairs { "HostName", "SharedAccessKeyName", "SharedAccessKey", "SharedAccessSignature" } do
    if parts[k] then out[#out + 1] = k .. "=" .. parts[k] end
  end
  return table.concat(out, ";")
end

-- A service client for the emulator; opts are merged over the defaults.
function H.hub(opts, connection_string)
  local o = { endpoint = H.url, ca_file = H.ca_file }
  for k, v in pairs(opts or {}) do o[k] = v end
  local hub, err = iothub.service(connection_string or H.connection_string, o)
  assert(hub, tostring(err))
  return hub
end

-- A service client for the emulator with Azure AD (a client-secret
-- credential unless opts.credential); opts are merged over the defaults.
function H.aad_hub(opts)
  local o = { host_name = H.host, endpoint = H.url, ca_file = H.ca_file }
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.credential == nil then o.credential = H.client_secret() end
  local hub, err = iothub.service(o)
  assert(hub, tostring(err))
  return hub
end

-- The control API: a core client used without its signature (the control
-- routes ignore Authorization) to reach /_emulator/*.
local control
local function control_client()
  if not control then
    control = assert(core.client(H.connection_string, { endpoint = H.url, ca_file = H.ca_file }))
  end
  return control
end

function H.control(method, path, body)
  local value, headers = control_client():request(method, "/_emulator/" .. path, nil, body)
  assert(value, tostring(headers))
  return value
end

function H.reset() return H.control("POST", "reset") end
function H.requests() return H.control("GET", "requests") end
function H.clear_requests() return H.control("DELETE", "requests") end

-- How many requests the emulator saw whose path starts with prefix
-- (faulted ones included).
function H.count_requests(prefix)
  local n = 0
  for _, r in ipairs(H.requests()) do
    if r.path:sub(1, #prefix) == prefix then n = n + 1 end
  end
  return n
end

-- A copy of t with the fields of extra (if any) set over it.
function H.copy(t, extra)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(extra or {}) do out[k] = v end
  return out
end
function H.stats() return H.control("GET", "stats") end

-- Scripts a fault on the emulator (see tools/emulator/README.md, "Fault
-- injection"): { fault =, method =, path =, times =, skip =, ... }.
function H.fault(f)
  return H.control("POST", "faults", require("iothub.json").encode(f))
end

-- The faults scripted so far, each with its hit count.
function H.faults() return H.control("GET", "faults").faults end

-- A fake clock for a client's _env: it moves only when the code under test
-- sleeps, the sleeps are recorded, and the jitter is always the full wait.
function H.fake_env()
  local fake = { now = 0, sleeps = {} }
  fake.clock = function() return fake.now end
  fake.sleep = function(s) fake.sleeps[#fake.sleeps + 1] = s; fake.now = fake.now + s end
  fake.random = function() return 1 end
  return fake
end

-- The emulator's clock: { speed =, advance =, device_seconds = } (any of them).
function H.clock(settings)
  return H.control("POST", "clock", require("iothub.json").encode(settings or {}))
end

-- A device twin, read through the service route GET /twins/{id} with the
-- client under test's C core.
function H.twin(hub, device_id)
  local core_client = hub.client
  local twin, err = core_client:request("GET", "/twins/" .. core.percent_encode(device_id)
    .. "?api-version=2020-05-31-preview")
  assert(twin, tostring(err))
  return twin
end

-- Polls get_job until pred(job) holds or `seconds` pass; returns the job.
function H.until_job(hub, job_id, pred, seconds)
  local deadline = core.monotonic() + (seconds or 10)
  while true do
    local job = assert(hub:get_job(job_id))
    if pred(job) or core.monotonic() > deadline then return job end
    core.sleep(0.05)
  end
end

-- Every job the emulator holds, read with the client under test in pages of 100.
function H.all_jobs(hub, opts)
  local list = {}
  for job in hub:jobs(opts) do list[#list + 1] = job end
  return list
end

return H
