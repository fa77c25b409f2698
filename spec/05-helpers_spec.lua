-- iothub.time, the status predicates, iothub.progress, iothub.null, _VERSION.
local iothub = require("iothub")

describe("iothub.time", function()
  it("reads ISO 8601 with 7 fractional digits, keeping the fraction", function()
    local t = iothub.time("2026-11-23T10:00:00.1234567Z")
    assert.are.equal(1795428000, math.floor(t))
    assert.is_true(math.abs(t - 1795428000.1234567) < 1e-6)
  end)

  it("reads ISO 8601 without fraction, with milliseconds, with offsets and without a zone", function()
    assert.are.equal(0, iothub.time("1970-01-01T00:00:00Z"))
    assert.are.equal(951782400, iothub.time("2000-02-29T00:00:00Z"))
    assert.are.equal(1795428000.5, iothub.time("2026-11-23T10:00:00.500Z"))
    assert.are.equal(1795428000, iothub.time("2026-11-23T12:00:00+02:00"))
    assert.are.equal(1795428000, iothub.time("2026-11-23T05:30:00-04:30"))
    assert.are.equal(1795428000, iothub.time("2026-11-23T10:00:00"))
  end)

  it("reads RFC 1123 as the management API sends it", function()
    assert.are.equal(1497554458, iothub.time("Thu, 15 Jun 2017 19:20:58 GMT"))
  end)

  it("returns nil for unset and sentinel times", function()
    assert.is_nil(iothub.time(nil))
    assert.is_nil(iothub.time(""))
    assert.is_nil(iothub.time("0001-01-01T00:00:00Z"))
    assert.is_nil(iothub.time("0001-01-01T00:00:00"))
    assert.is_nil(iothub.time("9999-12-30T23:59:59.9999999Z"))
    assert.is_nil(iothub.time("9999-12-31T23:59:59Z"))
  end)

  it("returns nil and a decode error table for text that is not a time", function()
    local t, err = iothub.time("yesterday")
    assert.is_nil(t)
    assert.is_true(iothub.is_error(err))
    assert.are.equal("decode", err.kind)
    assert.truthy(tostring(err):find("yesterday", 1, true))
    local t2, err2 = iothub.time("2026-13-01T00:00:00Z")
    assert.is_nil(t2)
    assert.are.equal("decode", err2.kind)
  end)

  it("passes numbers through and raises for other types", function()
    assert.are.equal(12.5, iothub.time(12.5))
    assert.has_error(function() iothub.time({}) end)
  end)
end)

describe("status predicates", function()
  local cases = {
    { "completed", terminal = true, succeeded = true },
    { "failed", terminal = true, failed = true },
    { "cancelled", terminal = true, cancelled = true },
    { "canceled", terminal = true, cancelled = true },
    { "queued", active = true, pending = true },
    { "enqueued", active = true, pending = true },
    { "scheduled", active = true, pending = true },
    { "running", active = true, running = true },
    { "unknown" },
  }
  for _, c in ipairs(cases) do
    it("classifies " .. c[1] .. " as a string and inside a job table", function()
      for _, x in ipairs { c[1], { status = c[1] }, { status = c[1]:upper() } } do
        assert.are.equal(c.terminal == true, iothub.is_terminal(x))
        assert.are.equal(c.active == true, iothub.is_active(x))
        assert.are.equal(c.pending == true, iothub.is_pending(x))
        assert.are.equal(c.running == true, iothub.is_running(x))
        assert.are.equal(c.succeeded == true, iothub.is_succeeded(x))
        assert.are.equal(c.failed == true, iothub.is_failed(x))
        assert.are.equal(c.cancelled == true, iothub.is_cancelled(x))
      end
    end)
  end

  it("answers false for nil, numbers and tables without a status", function()
    assert.is_false(iothub.is_terminal(nil))
    assert.is_false(iothub.is_active(3))
    assert.is_false(iothub.is_running({}))
  end)
end)

describe("iothub.progress", function()
  it("is the fraction of devices done", function()
    assert.are.equal(0.5, iothub.progress { deviceJobStatistics = { deviceCount = 4, succeededCount = 1, failedCount = 1 } })
    assert.are.equal(1, iothub.progress { deviceJobStatistics = { deviceCount = 10, succeededCount = 9, failedCount = 1 } })
  end)

  it("is nil without statistics and 0 or 1 for a job with no devices", function()
    assert.is_nil(iothub.progress { status = "running" })
    assert.are.equal(0, iothub.progress { status = "running", deviceJobStatistics = { deviceCount = 0 } })
    assert.are.equal(1, iothub.progress { status = "completed", deviceJobStatistics = { deviceCount = 0 } })
  end)

  it("raises for a non-table", function()
    assert.has_error(function() iothub.progress("running") end)
  end)
end)

describe("iothub module", function()
  it("has a version and the JSON null", function()
    assert.is_string(iothub._VERSION)
    assert.truthy(iothub._VERSION:match("^%d+%.%d+%.%d+"))
    assert.are.equal(require("cjson").null, iothub.null)
  end)

  it("runs on the Lua the runner asked for", function()
    local want = ({ ["lua5.1"] = "Lua 5.1", ["lua5.3"] = "Lua 5.3", ["lua5.4"] = "Lua 5.4", luajit = "Lua 5.1" })
    local expected = want[os.getenv("IOTHUB_SPEC_LUA") or ""]
    if expected then assert.are.equal(expected, _VERSION) end
    assert.are.equal(os.getenv("IOTHUB_SPEC_LUA") == "luajit", type(jit) == "table")
  end)
end)
