-- Bad input: every public function that takes an id refuses empty,
-- over-long, control-character and non-UTF-8 ids with a raise that says
-- which; options that go into a URL or a header refuse CR, LF and NUL (no
-- header injection); bodies refuse strings that are not UTF-8. Nothing is
-- sent for any of them, and the client keeps working afterwards.
local iothub = require("iothub")
local core = require("iothub.core")
local H = require("helpers")

local bad_ids = {
  { "", "must not be empty" },
  { string.rep("a", 1025), "1025 bytes long; the limit is 1024" },
  { "job\r\nX-Injected: 1", "control character" },
  { "job\0id", "control character" },
  { "job\tid", "control character" },
  { "caf\233", "not valid UTF%-8" },          -- Latin-1 é
  { "\192\175", "not valid UTF%-8" },         -- over-long "/"
  { "\237\160\128", "not valid UTF%-8" },     -- a UTF-16 surrogate
  { 42, "must be a string" },
}

local function raises_with(pattern, f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  assert.matches(pattern, tostring(err))
end

describe("bad input", function()
  local hub, arm
  setup(function()
    H.reset()
    hub = H.hub()
    arm = H.arm()
  end)
  teardown(function() hub:close() end)

  local calls = {
    get_job = function(id) return hub:get_job(id) end,
    cancel_job = function(id) return hub:cancel_job(id) end,
    wait_job = function(id) return hub:wait_job(id, { timeout = 1 }) end,
    device_jobs = function(id) return hub:device_jobs(id) end,
    get_jobs = function(id) return hub:get_jobs { "fixture-twin-1", id } end,
    get_import_export_job = function(id) return hub:get_import_export_job(id) end,
    cancel_import_export_job = function(id) return hub:cancel_import_export_job(id) end,
    schedule_device_method = function(id)
      return hub:schedule_device_method { job_id = id, query_condition = "deviceId = 'd1'", method_name = "m" }
    end,
    ["management get_job"] = function(id) return arm:get_job(id) end,
  }
  for name, call in pairs(calls) do
    it("refuse bad ids in " .. name .. " before sending anything", function()
      H.clear_requests()
      for _, case in ipairs(bad_ids) do
        raises_with(case[2], function() call(case[1]) end)
      end
      assert.are.same({}, H.requests())
    end)
  end

  it("accept an id of exactly 1024 bytes and ids in any script", function()
    local _, err = hub:get_job(string.rep("a", 1024))
    assert.are.equal("JobNotFound", err.code)
    _, err = hub:get_job("задача-日本-🚀")
    assert.are.equal("JobNotFound", err.code)
    assert.is_truthy(hub:get_job("fixture-twin-1"))
  end)

  it("refuse CR, LF or NUL in options that reach a URL or a header", function()
    local cases = {
      { user_agent = "ua\r\nX-Injected: 1" },
      { user_agent = "ua\0" },
      { endpoint = H.url .. "\r\n" },
      { api_version = "2021\n" },
      { ca_file = H.ca_file .. "\n" },
    }
    for _, opts in ipairs(cases) do
      raises_with("must not contain CR, LF or NUL", function() H.hub(opts) end)
    end
    raises_with("must not contain CR, LF or NUL", function()
      hub:query_jobs { continuation = "token\r\nX-Injected: 1" }
    end)
    raises_with("must not contain CR, LF or NUL", function()
      iothub.credential.client_secret { tenant_id = "t\n", client_id = "c", client_secret = "s" }
    end)
  end)

  it("refuse header values with CR or LF in the core itself", function()
    local client = hub.client
    assert.has_error(function() client:request("GET", "/x", { ["x-a"] = "1\r\nX-Injected: 1" }) end)
    assert.has_error(function() client:request("GET", "/x\r\nHost: evil") end)
    assert.has_error(function() client:request("GET\r\n", "/x") end)
  end)

  it("refuse strings that are not UTF-8 in a job's body, naming where", function()
    raises_with("payload%.name is not valid UTF%-8", function()
      hub:schedule_device_method { job_id = "utf8-check", query_condition = "deviceId = 'd1'",
        method_name = "m", payload = { name = "caf\233" } }
    end)
    local job = hub:get_job("utf8-check")
    assert.is_nil(job)
  end)

  it("raise for options of the wrong type and unknown ones", function()
    raises_with("unknown option 'timeuot'", function() H.hub { timeuot = 1 } end)
    raises_with("option 'timeout' must be a number", function() H.hub { timeout = "1" } end)
    raises_with("option 'verify' must be a boolean", function() H.hub { verify = "no" } end)
    raises_with("must be >= 1024", function() H.hub { max_response_size = 10 } end)
    raises_with("unknown option", function() hub:get_jobs({ "a" }, { concurency = 2 }) end)
  end)

  it("validate UTF-8 strictly and the same on every Lua", function()
    local valid = { "", "ascii", "é", "日本", "🚀", "\239\187\191", "\244\143\191\191" }
    local invalid = { "\255", "\192\128", "\224\128\128", "\237\160\128", "\244\144\128\128",
      "\240\128\128\128", "\195", "\226\130" }
    for _, s in ipairs(valid) do assert.is_true(core.utf8_valid(s)) end
    for _, s in ipairs(invalid) do
      local ok, at = core.utf8_valid(s)
      assert.is_false(ok)
      assert.are.equal(1, at)
    end
    local ok, at = core.utf8_valid("ab\255")
    assert.is_false(ok)
    assert.are.equal(3, at)
  end)
end)
