-- OpenResty: a real nginx (one worker, config from spec/fixtures/openresty/)
-- runs handlers that use iothub through cosockets against the emulator; this
-- side calls nginx with the core's blocking client. Skipped (pending) only
-- when nginx or its Lua module is not installed.
local core = require("iothub.core")
local H = require("helpers")

local nginx_server = require("nginx_server")

local nginx = {}            -- the running server (spec/nginx_server.lua)

local function start_nginx()
  nginx = nginx_server.start("openresty", "spec/fixtures/openresty/nginx.conf.in", {
    probe = "/fast",
    env = function(v) return { IOTHUB_SPEC_TLS_URL = "https://127.0.0.1:" .. v.TLS_PORT } end,
  })
end

local function stop_nginx()
  if nginx.stop then nginx:stop() end
end

-- GET path on nginx -> the decoded JSON answer (any status).
local function get(path)
  local value, err = nginx.client:request("GET", path)
  if value then return value end
  if not err.status then nginx:check() end
  assert(err.kind == "http" and err.status, tostring(err))
  error("nginx answered " .. tostring(err.status) .. " for " .. path .. ": " .. tostring(err.message)
    .. "\n" .. nginx:error_log():sub(-2000))
end

-- Several GETs at once (the core's request_many): the decoded answers.
local function get_many(paths, concurrency)
  local list = {}
  for i, p in ipairs(paths) do list[i] = { "GET", p } end
  local values, errors = nginx.client:request_many(list, concurrency or #paths)
  for i = 1, #paths do assert(values[i], tostring(errors[i])) end
  return values
end

local function error_log() return nginx:error_log() end

local nginx_missing = nginx_server.missing()

describe("OpenResty (iothub through cosockets in nginx)", function()
  if nginx_missing then
    pending("skipped: " .. nginx_missing .. " (tools/install-deps installs it)")
    return
  end

  setup(function()
    H.reset()
    start_nginx()
  end)
  teardown(stop_nginx)
  -- A worker that died (or an [emerg]/[alert]) fails the next test at once.
  before_each(function()
    nginx:check()
    H.reset()
  end)

  it("picks the cosocket transport by itself inside nginx", function()
    local s = get("/stats")
    assert.are.equal("iothub.ngx_client", s.transport)
    assert.are.equal("cosocket", s.mode)
    assert.are.equal("content", s.phase)
  end)

  it("reads a job through cosockets, and nginx never calls libcurl", function()
    H.clear_requests()
    local before = get("/stats").hub
    local r = get("/job?id=fixture-twin-1")
    assert.is_nil(r.error)
    assert.are.equal("fixture-twin-1", r.job.jobId)
    assert.are.equal("scheduleUpdateTwin", r.job.type)
    assert.are.equal(9, r.job.deviceJobStatistics.succeededCount)
    assert.are.equal("2.1.0", r.job.updateTwin.properties.desired.fw.version)
    -- The emulator saw it arrive, signed, with our headers.
    local log = H.requests()
    assert.are.equal(1, #log)
    assert.are.equal("GET", log[1].method)
    assert.are.equal("/jobs/v2/fixture-twin-1", log[1].path)
    assert.are.equal("SharedAccessSignature", log[1].headers.authorization.scheme)
    assert.truthy(log[1].headers["user-agent"]:find("^lua%-iothub/"))
    assert.truthy(log[1].headers["x-ms-client-request-id"])
    local after = get("/stats").hub
    assert.are.equal(before.cosocket_requests + 1, after.cosocket_requests)
    assert.are.equal(0, after.curl_requests)
    assert.are.equal(0, after.curl_connections)
  end)

  it("keeps the error table of an unknown id intact", function()
    local r = get("/job?id=nope")
    assert.is_nil(r.job)
    local err = r.error
    assert.are.equal("http", err.kind)
    assert.are.equal(404, err.status)
    assert.are.equal("JobNotFound", err.code)
    assert.are.equal(404002, err.error_code)
    assert.is_false(err.retryable)
    assert.is_true(err.is_error)
    assert.truthy(err.request_id)
    assert.truthy(err.tracking_id)
    assert.truthy(err.message:find("nope", 1, true))
  end)

  it("pages through a job query", function()
    local r = get("/jobs?page_size=7&limit=30")
    assert.are.equal(30, r.count)
    assert.are.equal(5, r.pages)
    assert.are.equal("fixture-method-1", r.ids[1])
    local all = get("/jobs?page_size=100")
    assert.are.equal(228, all.count)
    assert.are.equal(3, all.pages)
  end)

  it("reads, patches and queries twins through cosockets", function()
    local before = get("/stats").hub
    local r = get("/twin?id=device-001&module=camera")
    assert.is_nil(r.error)
    assert.are.equal("camera", r.twin.moduleId)
    local etag = get("/twin?id=device-002").twin.etag
    r = get("/twin?id=device-002&tag=ring&value=beta&etag=" .. etag)
    assert.is_nil(r.error)
    assert.are.equal("beta", r.twin.tags.ring)
    r = get("/twin?id=device-002&tag=ring&value=gamma&etag=" .. etag)   -- stale now
    assert.is_nil(r.twin)
    assert.are.equal(412, r.error.status)
    assert.are.equal("PreconditionFailed", r.error.code)
    r = get("/twin?id=a%2Fb")
    assert.are.equal("DeviceNotFound", r.error.code)
    r = get("/twin_query?sql=" .. core.percent_encode("SELECT tags.site AS site, COUNT() AS n FROM devices "
      .. "GROUP BY tags.site") .. "&page_size=4&condition=" .. core.percent_encode("tags.floor = 5"))
    assert.is_nil(r.error)
    assert.are.equal("raw", r.page.item_type)
    assert.are.same({ site = "paris", n = 14 }, r.page.items[3])
    assert.are.equal(8, #r.ids)
    assert.are.equal("device-040", r.ids[8])
    r = get("/twin_query?sql=" .. core.percent_encode("SELECT TOP 1 * FROM devices")
      .. "&condition=" .. core.percent_encode("tags.floor = = 5"))
    assert.are.equal(400, r.error.status)
    assert.are.equal(400, r.raised.status)
    local after = get("/stats").hub
    assert.are.equal(0, after.curl_requests)
    assert.are.equal(before.cosocket_requests + 10, after.cosocket_requests)
  end)

  it("reads many jobs concurrently with light threads", function()
    local r = get("/many?n=40&concurrency=8")
    assert.are.equal(40, r.asked)
    assert.are.equal(40, r.found)
    assert.are.same({}, r.errors)
    local mixed = get("/many?ids=fixture-twin-1,nope,fixture-failed-1&concurrency=2")
    assert.are.equal(2, mixed.found)
    assert.are.equal("JobNotFound", mixed.errors.nope.code)
  end)

  it("waits for a job with ngx.sleep between polls", function()
    H.clock { device_seconds = 0.02 }
    local hub = H.hub()
    assert.truthy(hub:schedule_twin_update { job_id = "ngx-wait", query_condition = "*",
      twin = { tags = { wave = 2 } } })
    hub:close()
    local r = get("/wait?id=ngx-wait&interval=0.05&timeout=20")
    assert.is_nil(r.error)
    assert.are.equal("completed", r.job.status)
    assert.are.equal(40, r.job.deviceJobStatistics.succeededCount)
    assert.is_true(r.progress_calls >= 2, "progress calls: " .. tostring(r.progress_calls))
  end)

  it("reads a job through the management API with a token from the shared cache", function()
    local r = get("/arm?id=fixture-twin-1")
    assert.is_nil(r.error)
    assert.are.equal("fixture-twin-1", r.job.jobId)
    assert.are.equal(1, r.shared_tokens)
    local again = get("/arm?id=fixture-failed-1")
    assert.are.equal("failed", again.job.status)
    assert.are.equal(0, again.token_stats.curl_requests)
    assert.are.equal(0, again.arm_stats.curl_requests)
    -- The token came once from the token endpoint (the worker and the shared dict keep it).
    local n = 0
    for _, req in ipairs(H.requests()) do
      if req.path:find("/oauth2/v2.0/token", 1, true) then n = n + 1 end
    end
    assert.is_true(n <= 1, "token requests: " .. n)
  end)

  it("reads jobs, twins and queries through the service API with Azure AD tokens, fetched again after a 401", function()
    local path = "/aad?id=fixture-twin-1&device=device-007&sql="
      .. core.percent_encode("SELECT COUNT() AS n FROM devices WHERE tags.site = 'paris'")
    H.clear_requests()
    local r = get(path)
    assert.is_nil(r.error)
    assert.are.equal("fixture-twin-1", r.job.jobId)
    assert.are.equal("device-007", r.twin.deviceId)
    assert.are.same({ { n = 14 } }, r.page.items)
    assert.are.same({ "fixture-twin-1", "a/b" }, r.many_ids)
    assert.is_false(r.many_errors)
    assert.are.equal("iothub.service: (" .. H.host .. ", Azure AD)", r.text)
    local found = false
    for _, scope in ipairs(r.token_scopes) do found = found or scope == "https://iothubs.azure.net/.default" end
    assert.is_true(found, table.concat(r.token_scopes, " "))
    assert.are.equal(0, r.hub_stats.curl_requests)
    assert.are.equal(0, r.token_stats.curl_requests)
    local function token_requests()
      local n = 0
      for _, req in ipairs(H.requests()) do
        if req.path:find("/oauth2/v2.0/token", 1, true) then n = n + 1 end
        if req.path == "/jobs/v2/fixture-twin-1" then
          assert.are.equal("Bearer", req.headers.authorization.scheme)
        end
      end
      return n
    end
    local first = token_requests()
    assert.is_true(first <= 1, "token requests: " .. first)
    -- Revoked: the first call answers 401, takes a fresh token, and the rest use it.
    H.control("POST", "aad/revoke")
    H.clear_requests()
    r = get(path)
    assert.is_nil(r.error)
    assert.are.equal("fixture-twin-1", r.job.jobId)
    assert.are.equal("device-007", r.twin.deviceId)
    assert.are.equal(1, token_requests())
    assert.are.equal(0, r.hub_stats.curl_requests)
  end)

  it("keeps connections to the hub alive across handler calls", function()
    for _ = 1, 15 do assert.truthy(get("/job?id=fixture-twin-1").job) end
    local stats = H.stats()
    assert.are.equal(15, stats.requests)
    assert.is_true(stats.connections <= 2, "connections: " .. tostring(stats.connections))
  end)

  it("answers /fast while a slow job read is in flight", function()
    H.control("POST", "delay", '{"seconds":1.5,"path_prefix":"/jobs/v2/fixture-twin-1"}')
    -- /fast waits 0.1 s (ngx.sleep) first, so it surely runs after the slow read started.
    local r = get_many({ "/job?id=fixture-twin-1", "/probe?seconds=0.3&interval=0.01", "/fast?after=0.1" }, 3)
    local slow, fast = r[1], r[3]
    assert.are.equal("fixture-twin-1", slow.job.jobId)
    assert.is_true(slow.finished - slow.started >= 1.4, "slow read took " .. (slow.finished - slow.started))
    local timing = ("fast at %.3f, slow from %.3f to %.3f"):format(fast.at, slow.started, slow.finished)
    assert.is_true(fast.at > slow.started, timing)
    assert.is_true(fast.at < slow.finished - 1, timing)
    -- The probe slept in 10 ms steps while the slow read was in flight.
    assert.is_true(r[2].started < slow.finished - 1)
    assert.is_true(r[2].longest_stall < 0.25, "stall " .. r[2].longest_stall)
  end)

  it("keeps the event loop free while many job reads are in flight (prints the longest stall)", function()
    H.control("POST", "delay", '{"seconds":0.4,"path_prefix":"/jobs/v2/"}')
    local r = get_many({ "/probe?seconds=1.5&interval=0.005", "/many?n=48&concurrency=12",
      "/job?id=fixture-method-1", "/jobs?page_size=50", "/many?n=16&concurrency=4" }, 5)
    assert.are.equal(48, r[2].found)
    assert.are.equal(16, r[5].found)
    local stall = r[1].longest_stall
    -- A blocking read would stall the worker for 0.4 s at a time, or more.
    assert.is_true(stall < 0.2, ("longest stall %.1f ms"):format(stall * 1000))
    print(("\n[%s] OpenResty: longest event-loop stall while job reads were in flight: %.1f ms (%d samples)")
      :format(H.lua, stall * 1000, r[1].samples))
  end)

  it("verifies the hub's certificate against lua_ssl_trusted_certificate", function()
    local r = get("/untrusted")
    assert.is_nil(r.job)
    assert.are.equal("transport", r.error.kind)
    assert.are.equal("TlsVerifyFailed", r.error.code)
    assert.is_false(r.error.retryable)
    assert.truthy(r.error.request_id)
    local insecure = get("/untrusted?verify=0")
    assert.are.equal("self-signed", insecure.job.jobId)
  end)

  it("uses the blocking core client in the init phase", function()
    local r = get("/init")
    assert.are.equal("blocking", r.transport_mode)
    assert.are.equal("fixture-twin-1", r.job_id)
  end)

  it("raises a clear error in phases without cosockets", function()
    local expected = "cosockets are not available in the init_worker phase"
    assert.truthy((get("/stats").init_worker_error or ""):find(expected, 1, true))
    for _, phase in ipairs { "header_filter", "set" } do
      local _, headers = nginx.client:request("GET", "/phase/" .. phase)
      assert.truthy(headers["x-iothub-error"], phase)
      assert.truthy(headers["x-iothub-error"]:find("cosockets are not available in the " .. phase .. " phase", 1, true),
        headers["x-iothub-error"])
      assert.truthy(headers["x-iothub-error"]:find("content/access/rewrite_by_lua or an ngx.timer", 1, true))
    end
    get("/phase/log")
    local log
    for _ = 1, 40 do           -- the log phase runs after the answer went out
      log = error_log()
      if log:find("in the log phase", 1, true) then break end
      core.sleep(0.05)
    end
    assert.truthy(log:find("cosockets are not available in the log phase", 1, true))
  end)

  it("decides routes and sleeps from one table of phases", function()
    get("/phase/balancer")
    local s = get("/stats")
    local b = s.balancer
    assert.is_true(b.slept, b.sleep_error)         -- ngx.sleep is disabled there: the sleep does not use it
    assert.are.equal("cosocket", s.route)
    assert.are.equal(false, b.route)               -- no cosockets in the balancer phase
    assert.are.equal("balancer", b.phase)
    assert.truthy(b.request_error:find("cosockets are not available in the balancer phase", 1, true),
      b.request_error)
  end)

  it("refuses a HostName or endpoint that could change the request line, before sending", function()
    local function enc(v) return (v:gsub("[^%w]", function(c) return ("%%%02X"):format(c:byte()) end)) end
    for _, url in ipairs { "https://", "https://u:pa55word@127.0.0.1:1", "https://127.0.0.1:0", "https://h?x" } do
      H.clear_requests()
      local r = get("/config?endpoint=" .. enc(url))
      assert.are.equal("config", r.error.kind, url)
      assert.is_nil(r.error.text:find("pa55word", 1, true))
      assert.are.same({}, H.requests())
    end
    for _, host in ipairs { "h/jobs", "h?x", "", "h:99999" } do
      local r = get("/config?host=" .. enc(host))
      assert.are.equal("config", r.error.kind, host)
      assert.truthy(r.error.message:find("HostName", 1, true), r.error.message)
    end
  end)

  describe("defaults in request handlers", function()
    local JOB_PATH = "/jobs/v2/fixture-twin-1"

    it("give up on a stalled hub after about 10 s, not 120 s", function()
      H.fault { fault = "stall", path = JOB_PATH, seconds = 40, times = 0 }
      local r = get("/defaults?id=fixture-twin-1")
      assert.are.equal("timeout", r.error.kind)
      assert.are.equal(2, r.attempts)                 -- two 5 s attempts
      assert.is_true(r.elapsed >= 9.5 and r.elapsed < 15, "took " .. r.elapsed .. " s")
    end)

    it("follow the options where they are set", function()
      H.fault { fault = "stall", path = JOB_PATH, seconds = 40, times = 0 }
      local r = get("/defaults?id=fixture-twin-1&timeout=0.3&deadline=1")
      assert.are.equal("timeout", r.error.kind)
      assert.is_true(r.attempts >= 2, tostring(r.attempts))
      assert.is_true(r.elapsed < 3, "took " .. r.elapsed .. " s")
    end)
  end)

  it("decodes JSON the same way as the core", function()
    local r = get("/job?id=fixture-method-1")
    assert.are.same({ 1, core.null, "x" }, r.job.cloudToDeviceMethod.payload.list)
  end)

  describe("faults through cosockets", function()
    local JOB_PATH = "/jobs/v2/fixture-twin-1"
    local function faulty(query)
      return get("/faulty?id=fixture-twin-1&" .. (query or ""))
    end

    it("retries a 503 burst and a reset mid-body, then succeeds", function()
      H.fault { fault = "error", path = JOB_PATH, status = 503, times = 2 }
      H.fault { fault = "reset", path = JOB_PATH }
      local r = faulty("attempts=4")
      assert.is_nil(r.error)
      assert.are.equal("fixture-twin-1", r.job_id)
      assert.are.equal(4, r.stats.cosocket_requests)
    end)

    it("reports resets, short bodies and closes as lost connections", function()
      for _, f in ipairs { "reset", "truncate", "close" } do
        H.reset()
        H.fault { fault = f, path = JOB_PATH, times = 0 }
        local r = faulty()
        assert.are.equal("transport", r.error.kind, f)
        assert.are.equal("ConnectionLost", r.error.code, f)
      end
    end)

    it("times out a stalled answer", function()
      H.fault { fault = "stall", path = JOB_PATH, seconds = 2 }
      local r = faulty("timeout=0.3")
      assert.are.equal("timeout", r.error.kind)
    end)

    it("cuts off oversized bodies, with or without a Content-Length", function()
      for _, chunked in ipairs { false, true } do
        H.reset()
        H.fault { fault = "oversize", path = JOB_PATH, bytes = 2 * 1024 * 1024, chunked = chunked }
        local r = faulty("max_response_size=65536")
        assert.are.equal("ResponseTooLarge", r.error.code)
      end
    end)

    it("gives decode errors for broken and too deep JSON", function()
      H.fault { fault = "malformed_json", path = JOB_PATH }
      assert.are.equal("decode", faulty().error.kind)
      H.fault { fault = "deep_nesting", path = JOB_PATH, depth = 300 }
      local r = faulty("max_json_depth=200")
      assert.truthy(r.error.message:find("max_json_depth (200)", 1, true))
    end)

    it("re-signs once after a 401", function()
      H.fault { fault = "error", path = JOB_PATH, status = 401, shape = 1, code = "IotHubUnauthorizedAccess" }
      local r = faulty()
      assert.is_nil(r.error)
      assert.are.equal(2, r.stats.signatures)
    end)
  end)
end)
