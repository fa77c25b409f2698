-- The calling conventions of README.md ("Results", "Errors"), across every public call: a success
-- returns exactly its documented value(s), a failure exactly nil, err; a 200
-- that is not the JSON the call expects is a decode error; continuation
-- tokens that cannot be sent back are error tables; argument errors name the
-- caller's line; iothub.assert and iothub.response; ids that name another route.
local iothub = require("iothub")
local H = require("helpers")

local JOB = "fixture-twin-1"
local SPEC = "26%-conventions_spec%.lua"
local unpack_values = table.unpack or unpack -- luacheck: ignore 143

-- n, { ... }: how many values f returned, and them.
local function results(f, ...)
  local function pack(...) return select("#", ...), { ... } end
  return pack(f(...))
end

local function new_id(name)
  return "conv-" .. name .. "-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e6))
end

describe("a successful call", function()
  local hub, arm
  before_each(function() H.reset(); hub = H.hub(); arm = H.arm() end)
  after_each(function() hub:close(); arm:close() end)

  -- name, call(hub, arm) -> what the call returns
  local single = {
    { "hub:get_job", function(h) return h:get_job(JOB) end },
    { "hub:query_jobs", function(h) return h:query_jobs { page_size = 2 } end },
    { "hub:schedule_device_method", function(h)
      return h:schedule_device_method { job_id = new_id("m"), query_condition = "*", method_name = "reboot" }
    end },
    { "hub:schedule_twin_update", function(h)
      return h:schedule_twin_update { job_id = new_id("t"), query_condition = "*", twin = { tags = { a = 1 } } }
    end },
    { "hub:cancel_job", function(h)
      local job = assert(h:schedule_device_method { job_id = new_id("c"), query_condition = "*",
        method_name = "reboot", start_time = os.time() + 3600 })
      return h:cancel_job(job.jobId)
    end },
    { "hub:wait_job", function(h) return h:wait_job(JOB) end },
    { "hub:export_devices", function(h) return h:export_devices { output_blob_container_uri = "https://a/out" } end },
    { "hub:import_devices", function(h)
      return h:import_devices { input_blob_container_uri = "https://a/in", output_blob_container_uri = "https://a/out" }
    end },
    { "hub:get_import_export_job", function(h)
      local job = assert(h:export_devices { output_blob_container_uri = "https://a/out" })
      return h:get_import_export_job(job.jobId)
    end },
    { "hub:import_export_jobs", function(h) return h:import_export_jobs() end },
    { "hub:cancel_import_export_job", function(h)
      local job = assert(h:export_devices { output_blob_container_uri = "https://a/out" })
      return h:cancel_import_export_job(job.jobId)
    end },
    { "arm:get_job", function(_, a) return a:get_job(JOB) end },
    { "arm:list_jobs", function(_, a) return a:list_jobs() end },
    { "arm:wait_job", function(_, a) return a:wait_job(JOB) end },
  }
  for _, c in ipairs(single) do
    it(c[1] .. " returns one value and nothing after it", function()
      local n, v = results(c[2], hub, arm)
      assert.are.equal(1, n, c[1] .. " returned " .. n .. " values: " .. tostring(v[2]))
      assert.truthy(v[1])
      -- so table.insert(t, call()) works
      local t = {}
      table.insert(t, unpack_values(v, 1, n))
      assert.are.equal(v[1], t[1])
    end)
  end

  it("hub:cancel_import_export_job of an active job is true (204), of an ended one the job", function()
    local job = assert(hub:export_devices { output_blob_container_uri = "https://a/out" })
    assert.are.equal(true, hub:cancel_import_export_job(job.jobId))
    local again = hub:cancel_import_export_job(job.jobId)
    assert.are.equal(job.jobId, again.jobId)
  end)

  it("hub:get_jobs returns results and errors, nothing more", function()
    local n, v = results(hub.get_jobs, hub, { JOB, "no-such-job" })
    assert.are.equal(2, n)
    assert.are.equal(JOB, v[1][JOB].jobId)
    assert.are.equal("JobNotFound", v[2]["no-such-job"].code)
  end)

  it("a failure is exactly nil, err with an error table", function()
    for _, f in ipairs {
      function() return hub:get_job("no-such-job") end,
      function() return hub:cancel_job("no-such-job") end,
      function() return hub:get_import_export_job("no-such-job") end,
      function() return hub:cancel_import_export_job("no-such-job") end,
      function() return arm:get_job("no-such-job") end,
    } do
      local n, v = results(f)
      assert.are.equal(2, n)
      assert.is_nil(v[1])
      assert.is_true(iothub.is_error(v[2]))
    end
  end)

  it("leaves the response's status and headers to iothub.response", function()
    local job = assert(hub:get_job(JOB))
    local r = iothub.response(job)
    assert.are.equal(200, r.status)
    assert.is_string(r.headers["content-type"])
    local page = assert(hub:query_jobs { page_size = 1 })
    assert.are.equal(page.continuation, iothub.response(page).headers["x-ms-continuation"])
    local created = assert(hub:schedule_device_method { query_condition = "*", method_name = "m" })
    assert.are.equal(200, iothub.response(created).status)
    assert.are.equal(200, iothub.response(assert(arm:get_job(JOB))).status)
    assert.are.equal(200, iothub.response(assert(arm:list_jobs())).status)
    assert.is_nil(iothub.response({}))
    assert.is_nil(iothub.response(true))
  end)
end)

describe("a 200 that is not the JSON the call expects", function()
  local hub, arm
  before_each(function() H.reset(); hub = H.hub { retry = false }; arm = H.arm { retry = false } end)
  after_each(function() H.reset(); hub:close(); arm:close() end)

  local function answer(path, body, extra)
    local rule = { fault = "body", path = path, body = body, times = 0 }
    for k, v in pairs(extra or {}) do rule[k] = v end
    H.fault(rule)
  end

  local function is_decode(v, err, what)
    assert.is_nil(v, what)
    assert.is_true(iothub.is_error(err), what)
    assert.are.equal("decode", err.kind, what)
  end

  for _, body in ipairs { "", "true", "42", '"job"', "null", "[]", "[1,2]", "{}" } do
    it("is a decode error from get_job, cancel_job and arm:get_job for " .. (body == "" and "an empty body" or body),
      function()
        answer("/jobs/v2/" .. JOB, body)
        is_decode(hub:get_job(JOB))
        is_decode(hub:cancel_job(JOB))
        answer("/subscriptions/", body)
        is_decode(arm:get_job(JOB))
      end)
  end

  it("is a decode error from the import/export calls", function()
    answer("/jobs/create", "42")
    is_decode(hub:export_devices { output_blob_container_uri = "https://a/out" })
    answer("/jobs/abc", "")
    is_decode(hub:get_import_export_job("abc"))
    -- a cancel's empty body is fine only as a 204
    is_decode(hub:cancel_import_export_job("abc"))
    H.reset()
    answer("/jobs", '{"jobId":"x"}')
    is_decode(hub:import_export_jobs())
  end)

  it("is a decode error from query_jobs and arm:list_jobs, raised by the iterators", function()
    answer("/jobs/v2/query", '{"jobId":"x"}')
    is_decode(hub:query_jobs())
    local ok, err = pcall(function() for _ in hub:jobs() do end end)
    assert.is_false(ok)
    assert.are.equal("decode", err.kind)
    answer("/subscriptions/", "[1]")
    is_decode(arm:list_jobs())
  end)

  it("makes wait_job return nil, err instead of raising", function()
    answer("/jobs/v2/" .. JOB, "42")
    local ok, job, err = pcall(hub.wait_job, hub, JOB, { timeout = 1, interval = 0.01 })
    assert.is_true(ok, tostring(job))
    is_decode(job, err)
    answer("/subscriptions/", "true")
    ok, job, err = pcall(arm.wait_job, arm, JOB, { timeout = 1, interval = 0.01 })
    assert.is_true(ok, tostring(job))
    is_decode(job, err)
  end)

  it("is a decode error for that id in get_jobs", function()
    answer("/jobs/v2/" .. JOB, "42")
    local results_, errors = hub:get_jobs { JOB, "fixture-method-1" }
    assert.is_nil(results_[JOB])
    assert.are.equal("decode", errors[JOB].kind)
    assert.are.equal("fixture-method-1", results_["fixture-method-1"].jobId)
  end)
end)

describe("a continuation token the client cannot send back", function()
  local hub
  before_each(function() H.reset(); hub = H.hub { retry = false } end)
  after_each(function() H.reset(); hub:close() end)

  local function bad_token(token)
    H.reset()
    H.fault { fault = "body", path = "/jobs/v2/query", body = '[{"jobId":"x","status":"completed"}]',
      headers = { ["x-ms-continuation"] = token }, times = 0 }
  end

  -- libcurl refuses a response whose header holds a NUL (a transport
  -- error); an empty token gets through it and is the client's to refuse.
  local cases = { { "tok\0en", "transport", "Nul byte" }, { "", "decode", "continuation" } }

  it("is an error table from query_jobs", function()
    for _, case in ipairs(cases) do
      bad_token(case[1])
      local page, err = hub:query_jobs()
      assert.is_nil(page)
      assert.is_true(iothub.is_error(err))
      assert.are.equal(case[2], err.kind)
      assert.truthy(tostring(err):find(case[3], 1, true), tostring(err))
    end
  end)

  it("is raised as an error table by jobs and job_pages", function()
    for _, case in ipairs(cases) do
      bad_token(case[1])
      for _, it_ in ipairs { hub.jobs, hub.job_pages } do
        local ok, err = pcall(function() for _ in it_(hub) do end end)
        assert.is_false(ok)
        assert.is_true(iothub.is_error(err), tostring(err))
        assert.are.equal(case[2], err.kind)
      end
    end
  end)

  it("the same token twice is raised as an error table", function()
    bad_token("same-token")
    local ok, err = pcall(function() for _ in hub:jobs() do end end)
    assert.is_false(ok)
    assert.is_true(iothub.is_error(err), tostring(err))
    assert.truthy(tostring(err):find("same continuation token", 1, true))
  end)
end)

describe("argument errors", function()
  local hub, arm, closed
  setup(function()
    H.reset()
    hub, arm, closed = H.hub(), H.arm(), H.hub()
    closed:close()
  end)
  teardown(function() hub:close(); arm:close() end)

  local cred = iothub.credential.static("token")
  -- Each call sits on one line, so that line is where the error must point;
  -- none is a tail call, which would leave no line of the caller's to name.
  local calls = {
    { "iothub.service", function() local _ = iothub.service(1) end },
    { "iothub.service opts", function() local _ = iothub.service(H.connection_string, { nope = 1 }) end },
    { "iothub.management", function() local _ = iothub.management(1) end },
    { "iothub.management opts", function() local _ = iothub.management { subscription_id = "s" } end },
    { "iothub.credential.client_secret", function() local _ = iothub.credential.client_secret(1) end },
    { "iothub.credential.managed_identity", function() local _ = iothub.credential.managed_identity(1) end },
    { "iothub.credential.static", function() local _ = iothub.credential.static(1) end },
    { "cred:get_token", function() local _ = cred:get_token(1) end },
    { "hub:get_job", function() local _ = hub:get_job(1) end },
    { "hub.get_job", function() local _ = hub.get_job(JOB) end },
    { "hub:get_job closed", function() local _ = closed:get_job(JOB) end },
    { "hub:query_jobs", function() local _ = hub:query_jobs { nope = 1 } end },
    { "hub:jobs", function() local _ = hub:jobs { type = "nope" } end },
    { "hub:job_pages", function() local _ = hub:job_pages(1) end },
    { "hub:get_jobs", function() local _ = hub:get_jobs(1) end },
    { "hub:get_jobs ids", function() local _ = hub:get_jobs { 1 } end },
    { "hub:get_jobs opts", function() local _ = hub:get_jobs({ JOB }, { concurrency = 0.5 }) end },
    { "hub:schedule_device_method", function() local _ = hub:schedule_device_method(1) end },
    { "hub:schedule_device_method id", function() local _ = hub:schedule_device_method { job_id = "", query_condition = "*", method_name = "m" } end },
    { "hub:schedule_device_method time", function() local _ = hub:schedule_device_method { query_condition = "*", method_name = "m", start_time = "soon" } end },
    { "hub:schedule_twin_update", function() local _ = hub:schedule_twin_update { query_condition = "*" } end },
    { "hub:cancel_job", function() local _ = hub:cancel_job(1) end },
    { "hub:wait_job", function() local _ = hub:wait_job(JOB, { timeout = "a" }) end },
    { "hub:device_jobs", function() local _ = hub:device_jobs(1) end },
    { "hub:export_devices", function() local _ = hub:export_devices { output_blob_container_uri = "http://a" } end },
    { "hub:import_devices", function() local _ = hub:import_devices(1) end },
    { "hub:get_import_export_job", function() local _ = hub:get_import_export_job(1) end },
    { "hub:import_export_jobs", function() local _ = hub.import_export_jobs() end },
    { "hub:cancel_import_export_job", function() local _ = hub:cancel_import_export_job("") end },
    { "hub:stats", function() local _ = hub.stats() end },
    { "hub:job_pages closed", function() local _ = closed:job_pages() end },
    { "hub:close", function() local _ = hub.close() end },
    { "arm:get_job", function() local _ = arm:get_job(1) end },
    { "arm:list_jobs", function() local _ = arm:list_jobs { nope = 1 } end },
    { "arm:jobs", function() local _ = arm.jobs() end },
    { "arm:wait_job", function() local _ = arm:wait_job(1) end },
    { "arm:close", function() local _ = arm.close() end },
    { "iothub.time", function() local _ = iothub.time({}) end },
    { "iothub.progress", function() local _ = iothub.progress(1) end },
    { "iothub.array", function() local _ = iothub.array(1) end },
    { "iothub.sleep", function() local _ = iothub.sleep(-1) end },
    { "iothub.spawn", function() local _ = iothub.spawn(1) end },
    { "iothub.poll", function() local _ = iothub.poll(-1) end },
  }
  for _, c in ipairs(calls) do
    it(c[1] .. " points at the caller's line", function()
      local line = debug.getinfo(c[2], "S").linedefined
      local ok, err = pcall(c[2])
      assert.is_false(ok, c[1] .. " did not raise")
      assert.is_string(err)
      assert.truthy(err:find(SPEC .. ":" .. line .. ":"), err)
    end)
  end
end)

describe("a closed client", function()
  it("raises at the caller's line for calls, and still closes again and gives its stats", function()
    local hub = H.hub()
    assert.truthy(hub:get_job(JOB))
    hub:close()
    hub:close()
    assert.are.equal(1, hub:stats().requests)
    local ok, err = pcall(function() local _ = hub:get_job(JOB) end)
    assert.is_false(ok)
    assert.truthy(err:find(SPEC .. ":%d+: iothub.get_job: the client is closed"), err)
  end)
end)

describe("ids that would name another route", function()
  local hub
  setup(function() hub = H.hub() end)
  teardown(function() hub:close() end)

  it("are refused with an argument error", function()
    for _, f in ipairs {
      function() return hub:get_job("query") end,
      function() return hub:get_job("QUERY") end,
      function() return hub:cancel_job("Query") end,
      function() return hub:wait_job("query") end,
      function() return hub:get_jobs { JOB, "query" } end,
      function() return hub:schedule_device_method { job_id = "query", query_condition = "*", method_name = "m" } end,
      function() return hub:get_job("..") end,
      function() return hub:get_job(".") end,
      function() return hub:get_import_export_job("create") end,
      function() return hub:get_import_export_job("v2") end,
      function() return hub:cancel_import_export_job("..") end,
    } do
      local ok, err = pcall(f)
      assert.is_false(ok)
      assert.truthy(err:find("cannot be sent", 1, true), err)
    end
  end)

  it("while ids that only contain those words still reach their job", function()
    local job, err = hub:get_job("query-1")
    assert.is_nil(job)
    assert.are.equal("JobNotFound", err.code)
    job = assert(hub:get_job(JOB))
    assert.are.equal(JOB, job.jobId)
  end)
end)

describe("iothub.assert", function()
  it("returns all its arguments when the first is true", function()
    local n, v = results(iothub.assert, 1, nil, 3)
    assert.are.equal(3, n)
    assert.are.same({ 1, nil, 3 }, v)
  end)

  it("raises an error table's message as a string, with the caller's line, on every Lua", function()
    local hub = H.hub()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() local _ = iothub.assert(hub:get_job("no-such-job")) end)
    hub:close()
    assert.is_false(ok)
    assert.is_string(err)
    assert.truthy(err:find(SPEC .. ":" .. line .. ":"), err)
    assert.truthy(err:find("JobNotFound", 1, true), err)
  end)

  it("raises strings as they are and nil as assert does", function()
    local ok, err = pcall(iothub.assert, nil, "plain")
    assert.is_false(ok)
    assert.are.equal("plain", err)
    ok, err = pcall(iothub.assert, false)
    assert.is_false(ok)
    assert.truthy(err:find("assertion failed!", 1, true))
  end)

  it("turns an iterator's error table into a readable message around a pcall", function()
    local hub = H.hub { retry = false }
    H.fault { fault = "error", path = "/jobs/v2/query", status = 404, code = "JobNotFound" }
    local ok, err = pcall(function()
      iothub.assert(pcall(function() for _ in hub:jobs() do end end))
    end)
    hub:close()
    H.reset()
    assert.is_false(ok)
    assert.is_string(err)
    assert.truthy(err:find("404", 1, true), err)
  end)
end)

describe("an error table raised by an iterator and not caught", function()
  after_each(function() H.reset() end)

  -- What the stand-alone interpreter prints. Lua 5.1's prints no table, the
  -- reason for iothub.assert; the others print the table's tostring.
  it("prints its message where the interpreter can", function()
    H.fault { fault = "error", path = "/jobs/v2/query", status = 404, code = "JobNotFound", times = 0 }
    local script = "local iothub = require('iothub') "
      .. "local hub = assert(iothub.service(os.getenv('IOTHUB_EMULATOR_CONNECTION_STRING'), "
      .. "{ endpoint = os.getenv('IOTHUB_EMULATOR_URL'), ca_file = os.getenv('IOTHUB_EMULATOR_CA'), retry = false })) "
      .. "for _ in hub:jobs() do end"
    local p = assert(io.popen(H.lua_command .. " -e \"" .. script .. "\" 2>&1"))
    local out = p:read("*a")
    p:close()
    if H.lua == "lua5.1" then
      assert.truthy(out:find("error object is not a string", 1, true), out)
    else
      assert.truthy(out:find("JobNotFound", 1, true), out)
    end
  end)
end)
