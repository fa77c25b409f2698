-- The service client with Azure AD instead of a connection string
-- (iothub.service{ host_name =, credential = }), over real HTTPS against
-- the emulator, whose service routes accept bearer tokens for the IoT Hub
-- scope: jobs, twins and queries read and written, the token cached by the
-- credential and fetched again once after a 401 (revoked or expired on the
-- emulator's clock), a token for another scope refused, the argument
-- checks, no token in any error or tostring; inside iothub.spawn tasks too;
-- a registryRead policy refused job creation and cancelling.
-- (Through nginx cosockets: spec/20-openresty_spec.lua.)
local iothub = require("iothub")
local core = require("iothub.core")
local H = require("helpers")

local SPEC = "29%-service_aad_spec%.lua"
local IOTHUB_SCOPE = "https://iothubs.azure.net/.default"
local ARM_SCOPE = "https://management.azure.com/.default"

local function aad_counts() return H.control("GET", "aad") end

local function drain(max_seconds)
  local deadline = core.monotonic() + (max_seconds or 10)
  while iothub.pending() > 0 and core.monotonic() < deadline do iothub.poll(0.05) end
end

-- A static credential that fetches tokens for `scope` from the emulator
-- (whatever scope it is asked for), counting its fetches and the scopes
-- asked; returns it and the record.
local function counting_credential(scope)
  local record = { fetches = 0, scopes = {}, tokens = {} }
  local source = H.client_secret()
  local cred = iothub.credential.static(function(asked)
    record.fetches = record.fetches + 1
    record.scopes[#record.scopes + 1] = asked
    local token, expires_on = source:get_token(scope or asked, true)
    record.tokens[#record.tokens + 1] = token
    return token, expires_on
  end)
  return cred, record
end

describe("service client with Azure AD", function()
  local hub
  before_each(function() H.reset(); hub = H.aad_hub() end)
  after_each(function() hub:close() end)

  it("reads jobs, job pages and many jobs at once with bearer tokens", function()
    local job, err = hub:get_job("fixture-twin-1")
    assert.truthy(job, tostring(err))
    assert.are.equal("fixture-twin-1", job.jobId)
    local page = assert(hub:query_jobs { type = "scheduleUpdateTwin", page_size = 1 })
    assert.are.equal(1, #page.items)
    assert.is_string(page.continuation)
    local seen = 0
    for _ in hub:jobs { status = "completed" } do seen = seen + 1 end
    assert.is_true(seen > 1)
    local results, errors = hub:get_jobs { "fixture-twin-1", "a/b", "nope" }
    assert.are.equal("a/b", results["a/b"].jobId)
    assert.are.equal("JobNotFound", errors.nope.code)
  end)

  it("sends Authorization: Bearer, never a SAS, and asks for the IoT Hub scope", function()
    local cred, record = counting_credential()
    local other = H.aad_hub { credential = cred }
    H.clear_requests()
    assert.truthy(other:get_twin("device-001"))
    local log = H.requests()
    local r = log[#log]
    assert.are.equal("/twins/device-001", r.path)
    assert.are.equal("Bearer", r.headers.authorization.scheme)
    assert.are.same({ IOTHUB_SCOPE }, record.scopes)
    other:close()
  end)

  it("reads and writes twins and runs queries", function()
    local twin = assert(hub:get_twin("device-007"))
    assert.are.equal("device-007", twin.deviceId)
    local updated = assert(hub:update_twin("device-007", { tags = { aad = "yes" } }, { etag = twin.etag }))
    assert.are.equal("yes", updated.tags.aad)
    local _, stale = hub:update_twin("device-007", { tags = { aad = "no" } }, { etag = twin.etag })
    assert.are.equal(412, stale.status)
    local module = assert(hub:get_twin("device-001", "camera"))
    assert.are.equal("camera", module.moduleId)
    local page = assert(hub:query("SELECT COUNT() AS n FROM devices WHERE tags.aad = 'yes'"))
    assert.are.same({ { n = 1 } }, page.items)
    local n = 0
    for row in hub:twins("tags.site = 'paris'", { page_size = 3 }) do
      assert.are.equal("paris", row.tags.site)
      n = n + 1
    end
    assert.are.equal(14, n)
  end)

  it("schedules, reads per-device results of and cancels jobs", function()
    local job = assert(hub:schedule_device_method { job_id = "aad-method", query_condition = "deviceId = 'device-001'",
      method_name = "reboot", start_time = os.time() + 3600 })
    assert.are.equal("aad-method", job.jobId)
    local cancelled = assert(hub:cancel_job("aad-method"))
    assert.are.equal("cancelled", cancelled.status)
    local rows = 0
    for row in hub:device_jobs("aad-method") do
      assert.are.equal("device-001", row.deviceId)
      rows = rows + 1
    end
    assert.are.equal(1, rows)
  end)

  it("caches the token across calls and fetches it again once after a 401", function()
    assert.truthy(hub:get_job("fixture-twin-1"))
    assert.truthy(hub:get_twin("device-001"))
    assert.are.equal(1, aad_counts().tokens_issued)
    H.control("POST", "aad/revoke")
    local job, err = hub:get_job("fixture-twin-1")
    assert.truthy(job, tostring(err))
    assert.are.equal(2, aad_counts().tokens_issued)
    -- A batch refused with 401 fetches one token for all its reads.
    H.control("POST", "aad/revoke")
    local results = hub:get_jobs { "fixture-twin-1", "fixture-method-1", "a/b" }
    assert.truthy(results["fixture-twin-1"] and results["fixture-method-1"] and results["a/b"])
    assert.are.equal(3, aad_counts().tokens_issued)
  end)

  it("fetches a token again that expired on the emulator's clock", function()
    H.control("POST", "aad", '{"token_lifetime": 900}')
    assert.truthy(hub:get_job("fixture-twin-1"))
    H.clock { advance = 1000 }
    local job, err = hub:get_job("fixture-twin-1")
    assert.truthy(job, tostring(err))
    assert.are.equal(2, aad_counts().tokens_issued)
  end)

  it("gives a 401 for a token of another scope after fetching once more, with no token in the error", function()
    local cred, record = counting_credential(ARM_SCOPE)
    local other = H.aad_hub { credential = cred }
    local job, err = other:get_job("fixture-twin-1")
    assert.is_nil(job)
    assert.are.equal(401, err.status)
    assert.are.equal("IotHubUnauthorizedAccess", err.code)
    assert.are.equal(2, record.fetches)
    for _, token in ipairs(record.tokens) do
      assert.is_nil(tostring(err):find(token, 1, true))
      assert.is_nil(tostring(err.message):find(token, 1, true))
      assert.is_nil(tostring(other):find(token, 1, true))
    end
    other:close()
  end)

  it("returns the credential's auth error when no token can be had", function()
    local bad = H.aad_hub { credential = H.client_secret { client_secret = "wrong-secret-wrong-secret-wrong" } }
    local job, err = bad:get_job("fixture-twin-1")
    assert.is_nil(job)
    assert.are.equal("auth", err.kind)
    assert.are.equal("invalid_client", err.code)
    local results, errors = bad:get_jobs { "fixture-twin-1", "a/b" }
    assert.is_nil(results["a/b"])
    assert.are.equal("invalid_client", errors["a/b"].code)
    bad:close()
  end)

  it("names the host, not the token, in tostring", function()
    assert.are.equal("iothub.service: (" .. H.host .. ", Azure AD)", tostring(hub))
    local other = H.aad_hub()
    other:close()
    assert.are.equal("iothub.service: (closed)", tostring(other))
  end)

  it("goes to https://<host_name> when no endpoint is given", function()
    local other = assert(iothub.service { host_name = "myhub.azure-devices.net", credential = H.client_secret() })
    local _, endpoint = other.client:host()
    assert.are.equal("https://myhub.azure-devices.net", endpoint)
    other:close()
  end)
end)

describe("service client with Azure AD: argument checks", function()
  local cred = iothub.credential.static("token-for-argument-checks")

  -- Runs f, which must raise; the message must name this file's line `line`.
  local function raises_here(line, f, message)
    local ok, err = pcall(f)
    assert.is_false(ok)
    assert.truthy(tostring(err):find(SPEC .. ":" .. line .. ":"), err)
    if message then assert.truthy(tostring(err):find(message, 1, true), err) end
  end

  it("raises at the caller's line for a bad host_name", function()
    -- Not a tail call: the error names the line of iothub.service.
    local line = debug.getinfo(1, "l").currentline + 1
    local function call(v) local h = iothub.service { host_name = v, credential = cred }; return h end
    raises_here(line, function() call(42) end, "option 'host_name' must be a string, got number")
    raises_here(line, function() call(nil) end, "option 'host_name' is required")
    raises_here(line, function() call("https://myhub.azure-devices.net") end, "must be a host name")
    raises_here(line, function() call("myhub.azure-devices.net/path") end, "must be a host name")
    raises_here(line, function() call("my hub") end, "must be a host name")
    raises_here(line, function() call("") end, "must be a host name")
    raises_here(line, function() call("myhub.azure-devices.net\r\nX: y") end, "CR, LF or NUL")
  end)

  it("raises at the caller's line for a credential that is not one", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local function call(v) local h = iothub.service { host_name = "h.example", credential = v }; return h end
    raises_here(line, function() call({ get_token = function() return "x" end }) end,
      "option 'credential' must be made by iothub.credential")
    raises_here(line, function() call(nil) end, "option 'credential' must be made by iothub.credential")
    raises_here(line, function() call("a token") end, "option 'credential' must be a table, got string")
  end)

  it("raises for sas_ttl, unknown options, a second argument and other first arguments", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local function call(o, extra) local h = iothub.service(o, extra); return h end
    raises_here(line, function() call({ host_name = "h.example", credential = cred, sas_ttl = 60 }) end,
      "unknown option 'sas_ttl'")
    raises_here(line, function() call({ host_name = "h.example", credential = cred, timeout = "3" }) end,
      "option 'timeout' must be a number")
    raises_here(line, function() call({ host_name = "h.example", credential = cred }, {}) end,
      "give the options in one table")
    raises_here(line, function() call(true) end, "connection string must be a string, got boolean")
  end)

  it("keeps the connection-string form as it is", function()
    local hub = H.hub()
    assert.truthy(hub:get_job("fixture-twin-1"))
    assert.truthy(tostring(hub):find(H.host, 1, true))
    hub:close()
  end)
end)

describe("service client with Azure AD inside iothub.spawn tasks", function()
  local hub
  before_each(function() H.reset(); hub = H.aad_hub() end)
  after_each(function() drain(); hub:close() end)

  it("reads jobs and twins and runs a query without blocking the host", function()
    local job = iothub.spawn(function() return hub:get_job("fixture-twin-1") end)
    local twin = iothub.spawn(function() return hub:get_twin("device-007") end)
    local page = iothub.spawn(function()
      return hub:query("SELECT COUNT() AS n FROM devices WHERE tags.site = 'paris'")
    end)
    local many = iothub.spawn(function() return hub:get_jobs { "fixture-twin-1", "a/b" } end)
    assert.is_false(job.done)
    drain()
    assert.are.equal("fixture-twin-1", job:result().jobId)
    assert.are.equal("device-007", twin:result().deviceId)
    assert.are.same({ { n = 14 } }, page:result().items)
    assert.are.equal("a/b", many:result()["a/b"].jobId)
  end)

  it("shares one token fetch among tasks that need it at once, also after a 401", function()
    local tasks = {}
    for i = 1, 4 do tasks[i] = iothub.spawn(function() return hub:get_twin("device-00" .. i) end) end
    drain()
    for i = 1, 4 do assert.are.equal("device-00" .. i, tasks[i]:result().deviceId) end
    assert.are.equal(1, aad_counts().tokens_issued)
    H.control("POST", "aad/revoke")
    for i = 1, 3 do tasks[i] = iothub.spawn(function() return hub:get_job("fixture-twin-1") end) end
    drain()
    for i = 1, 3 do assert.are.equal("fixture-twin-1", tasks[i]:result().jobId) end
    assert.are.equal(2, aad_counts().tokens_issued)
  end)

  it("fetches a token again once after a 401, inside the task", function()
    assert.truthy(hub:get_job("fixture-twin-1"))
    local issued = aad_counts().tokens_issued
    H.control("POST", "aad/revoke")
    local task = iothub.spawn(function() return hub:get_twin("device-001") end)
    drain()
    local twin, err = task:result()
    assert.truthy(twin, tostring(err))
    assert.are.equal(issued + 1, aad_counts().tokens_issued)
  end)
end)

describe("service API permissions (emulator)", function()
  before_each(H.reset)

  it("refuses job creation and cancelling to a registryRead policy with 401", function()
    local conn = H.connection_string_with { SharedAccessKeyName = "registryRead",
      SharedAccessKey = "ZM0mLLVf1T+Wk4PeQ1/UOoExwRrmc1hgwEMIADjFg4w=" }
    local reader = H.hub({}, conn)
    assert.truthy(reader:get_job("fixture-twin-1"))
    local job, err = reader:schedule_device_method { job_id = "ro-job", query_condition = "deviceId = 'device-001'",
      method_name = "reboot" }
    assert.is_nil(job)
    assert.are.equal(401, err.status)
    assert.are.equal("IotHubUnauthorizedAccess", err.code)
    local owner = H.hub()
    assert.truthy(owner:schedule_device_method { job_id = "ro-job", query_condition = "deviceId = 'device-001'",
      method_name = "reboot", start_time = os.time() + 3600 })
    local _, cerr = reader:cancel_job("ro-job")
    assert.are.equal(401, cerr.status)
    assert.are.equal("scheduled", owner:get_job("ro-job").status)
    owner:close()
    reader:close()
  end)
end)
