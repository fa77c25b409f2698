-- hub:get_job: the seed operation, with the JSON rules of README.md ("Results") (REST names
-- kept, null as nil or iothub.null, integers as integers, arrays as arrays).
local iothub = require("iothub")
local H = require("helpers")

local is_53 = math.type ~= nil

describe("hub:get_job", function()
  local hub
  setup(function() H.reset(); hub = H.hub() end)
  teardown(function() hub:close() end)

  it("returns a twin-update job with its REST field names", function()
    local job = assert(hub:get_job("fixture-twin-1"))
    assert.are.equal("fixture-twin-1", job.jobId)
    assert.are.equal("scheduleUpdateTwin", job.type)
    assert.are.equal("completed", job.status)
    assert.are.equal("tags.site = 'paris'", job.queryCondition)
    assert.are.equal("2026-11-23T10:00:00.1234567Z", job.startTime)
    assert.are.equal(9, job.deviceJobStatistics.succeededCount)
    assert.are.equal("*", job.updateTwin.etag)
    assert.are.equal("2.1.0", job.updateTwin.properties.desired.fw.version)
  end)

  it("returns JSON integers as Lua integers and fractions as floats", function()
    local job = assert(hub:get_job("fixture-twin-1"))
    assert.are.equal(3600, job.maxExecutionTimeInSeconds)
    assert.are.equal(0.5, job.updateTwin.properties.desired.ratio)
    if is_53 then
      assert.are.equal("integer", math.type(job.maxExecutionTimeInSeconds))
      assert.are.equal("integer", math.type(job.deviceJobStatistics.deviceCount))
      assert.are.equal("integer", math.type(job.updateTwin.tags.floor))
      assert.are.equal("integer", math.type(job.updateTwin.properties.desired.fw.channels[1]))
      assert.are.equal("float", math.type(job.updateTwin.properties.desired.ratio))
    end
  end)

  it("drops null schema fields and keeps iothub.null inside free-form objects", function()
    local job = assert(hub:get_job("fixture-twin-1"))
    assert.is_nil(job.statusMessage)
    assert.is_nil(rawget(job, "statusMessage"))
    assert.are.equal(iothub.null, job.updateTwin.tags.owner)
    assert.are.equal(iothub.null, job.updateTwin.properties.desired.obsolete)
  end)

  it("keeps arrays as arrays, including nulls inside them", function()
    local fw = assert(hub:get_job("fixture-twin-1")).updateTwin.properties.desired.fw
    assert.are.same({ 1, 2, 3 }, fw.channels)
    assert.are.same({}, fw.flags)
    local payload = assert(hub:get_job("fixture-method-1")).cloudToDeviceMethod.payload
    assert.are.equal(3, #payload.list)
    assert.are.equal(1, payload.list[1])
    assert.are.equal(iothub.null, payload.list[2])
    assert.are.equal("x", payload.list[3])
  end)

  it("keeps falsy payload values", function()
    local method = assert(hub:get_job("fixture-method-1")).cloudToDeviceMethod
    assert.are.equal("reboot", method.methodName)
    assert.are.equal(false, method.payload.force)
    assert.are.equal("", method.payload.note)
    assert.are.equal(iothub.null, method.payload.nothing)
    assert.are.equal(0, method.connectTimeoutInSeconds)
    assert.are.equal(0, assert(hub:get_job("fixture-method-falsy")).cloudToDeviceMethod.payload)
  end)

  it("reads sentinel times as no time", function()
    local job = assert(hub:get_job("fixture-method-1"))
    assert.are.equal("9999-12-30T23:59:59.9999999Z", job.endTime)
    assert.is_nil(iothub.time(job.endTime))
    assert.is_nil(iothub.time(job.createdTime))
    assert.is_true(iothub.is_running(job))
  end)

  it("returns failure details of a failed job", function()
    local job = assert(hub:get_job("fixture-failed-1"))
    assert.is_true(iothub.is_failed(job))
    assert.are.equal("Device method timed out", job.failureReason)
    assert.are.equal("1 of 3 devices failed", job.statusMessage)
  end)

  it("returns nil and a JobNotFound error for an unknown id", function()
    local job, err = hub:get_job("no-such-job")
    assert.is_nil(job)
    assert.are.equal("http", err.kind)
    assert.are.equal(404, err.status)
    assert.are.equal("JobNotFound", err.code)
    assert.are.equal(404002, err.error_code)
    assert.truthy(err.message:find("no-such-job", 1, true))
    assert.truthy(err.tracking_id)
    assert.truthy(err.request_id)
    assert.is_false(err.retryable)
    assert.is_true(iothub.is_error(err))
    local line = tostring(err)
    assert.truthy(line:find("JobNotFound", 1, true))
    assert.truthy(line:find("404", 1, true))
    assert.is_nil(line:find("\n", 1, true))
    assert.is_nil(line:find("SharedAccessSignature", 1, true))
  end)

  for _, id in ipairs { "job with space", "a/b", "q?x=1", "h#1", "pct%20lit", "ünïcødé-日本", "plus+sign" } do
    it("percent-encodes the id " .. string.format("%q", id) .. " in the path", function()
      H.clear_requests()
      local job, err = hub:get_job(id)
      assert.truthy(job, tostring(err))
      assert.are.equal(id, job.jobId)
      local path = H.requests()[1].path
      assert.are.equal("/jobs/v2/" .. require("iothub.core").percent_encode(id), path)
      assert.truthy(path:match("^/jobs/v2/[%w%-%._~%%]+$"), path)
    end)
  end

  it("raises for ids that are not non-empty strings", function()
    assert.has_error(function() hub:get_job() end, "iothub.get_job: job id must be a string, got nil")
    assert.has_error(function() hub:get_job(42) end)
    assert.has_error(function() hub:get_job("") end, "iothub.get_job: job id must not be empty")
    assert.has_error(function() hub:get_job("a\0b") end)
  end)

  it("raises when called as a function instead of a method", function()
    assert.has_error(function() hub.get_job("fixture-twin-1") end)
  end)
end)
