-- Scheduling and cancelling jobs against the emulator's running hub: what
-- goes on the wire, how the job runs, and what it changes in the twins.
local iothub = require("iothub")
local cjson = require("cjson")
local H = require("helpers")

describe("scheduling jobs", function()
  local hub
  before_each(function()
    H.reset()
    H.clock { device_seconds = 0.01 }
    hub = H.hub()
  end)
  after_each(function() hub:close() end)

  local function last_put()
    local log = H.requests()
    for i = #log, 1, -1 do
      if log[i].method == "PUT" then return log[i] end
    end
  end

  it("schedules a twin update, sending etag '*', no nulls and a UTC start time", function()
    local job, err = hub:schedule_twin_update {
      job_id = "rollout-1", query_condition = "tags.site = 'paris'",
      twin = { tags = { ring = "beta" }, properties = { desired = { fw = { version = "2.0" } } } },
      start_time = 0, max_execution_time = 600,
    }
    assert.truthy(job, tostring(err))
    assert.are.equal("rollout-1", job.jobId)
    assert.are.equal("scheduleUpdateTwin", job.type)
    local put = last_put()
    assert.are.equal("/jobs/v2/rollout-1", put.path)
    assert.are.equal("application/json; charset=utf-8", put.headers["content-type"])
    assert.is_nil(put.body:find("null", 1, true))
    local body = cjson.decode(put.body)
    assert.are.equal("*", body.updateTwin.etag)
    assert.are.equal("1970-01-01T00:00:00.000Z", body.startTime)
    assert.are.equal(600, body.maxExecutionTimeInSeconds)
    local read = assert(hub:get_job("rollout-1"))
    assert.are.equal("tags.site = 'paris'", read.queryCondition)
  end)

  it("runs a twin update to completion and changes the twins, null deleting a property", function()
    assert.truthy(hub:schedule_twin_update { job_id = "fw-2", query_condition = "deviceId IN ['device-001', 'device-002']",
      twin = { properties = { desired = { fw = "2.0", telemetryInterval = iothub.null } } } })
    local job = H.until_job(hub, "fw-2", iothub.is_terminal)
    assert.are.equal("completed", job.status)
    assert.are.equal(2, job.deviceJobStatistics.deviceCount)
    assert.are.equal(2, job.deviceJobStatistics.succeededCount)
    assert.is_number(iothub.time(job.endTime))
    for _, id in ipairs { "device-001", "device-002" } do
      local desired = H.twin(hub, id).properties.desired
      assert.are.equal("2.0", desired.fw)
      assert.is_nil(desired.telemetryInterval)
    end
    assert.is_nil(H.twin(hub, "device-003").properties.desired.fw)
  end)

  it("schedules a device method, keeping a falsy payload and connect_timeout", function()
    local job, err = hub:schedule_device_method { query_condition = "deviceId = 'device-001'",
      method_name = "reboot", payload = false, response_timeout = 30, connect_timeout = 0 }
    assert.truthy(job, tostring(err))
    assert.truthy(job.jobId:match("^%x+%-%x+%-4%x+%-%x+%-%x+$"))
    local body = cjson.decode(last_put().body)
    assert.are.equal(false, body.cloudToDeviceMethod.payload)
    assert.are.equal(0, body.cloudToDeviceMethod.connectTimeoutInSeconds)
    local done = H.until_job(hub, job.jobId, iothub.is_terminal)
    assert.are.equal("completed", done.status)
    assert.are.equal(1, done.deviceJobStatistics.succeededCount)
  end)

  it("keeps a future job scheduled until its start time", function()
    local job = assert(hub:schedule_device_method { job_id = "later", query_condition = "deviceId = 'device-002'",
      method_name = "ping", start_time = os.time() + 3600 })
    assert.is_true(iothub.is_pending(job))
    assert.are.equal("scheduled", assert(hub:get_job("later")).status)
    H.clock { advance = 3700 }
    assert.are.equal("completed", H.until_job(hub, "later", iothub.is_terminal).status)
  end)

  it("returns the service's error for a job id that exists", function()
    assert.truthy(hub:schedule_device_method { job_id = "twice", query_condition = "*", method_name = "m" })
    local job, err = hub:schedule_device_method { job_id = "twice", query_condition = "*", method_name = "m" }
    assert.is_nil(job)
    assert.are.equal(409, err.status)
    assert.are.equal("http", err.kind)
  end)

  it("returns an ArgumentInvalid error for a query the service cannot parse", function()
    local job, err = hub:schedule_device_method { query_condition = "deviceId = = 'x'", method_name = "m" }
    assert.is_nil(job)
    assert.are.equal(400, err.status)
    assert.are.equal("ArgumentInvalid", err.code)
  end)

  it("cancels a running job, leaving the unprocessed devices canceled", function()
    H.clock { device_seconds = 30 }
    assert.truthy(hub:schedule_device_method { job_id = "long", query_condition = "*", method_name = "m" })
    H.until_job(hub, "long", iothub.is_running)
    local job, err = hub:cancel_job("long")
    assert.truthy(job, tostring(err))
    local log = H.requests()
    assert.are.equal("POST", log[#log].method)
    assert.are.equal("/jobs/v2/long/cancel", log[#log].path)
    assert.are.equal("cancelled", job.status)
    assert.is_true(iothub.is_cancelled(assert(hub:get_job("long"))))
    local canceled = 0
    for row in hub:device_jobs("long") do
      if row.status == "canceled" then canceled = canceled + 1 end
    end
    assert.is_true(canceled > 30, "canceled rows: " .. canceled)
  end)

  it("returns JobNotFound when cancelling an unknown job", function()
    local job, err = hub:cancel_job("no-such-job")
    assert.is_nil(job)
    assert.are.equal("JobNotFound", err.code)
  end)

  it("raises for bad arguments before sending anything", function()
    H.clear_requests()
    assert.has_error(function() hub:schedule_twin_update { query_condition = "*", twin = "x" } end)
    assert.has_error(function() hub:schedule_twin_update { twin = { tags = {} } } end)
    assert.has_error(function() hub:schedule_device_method { query_condition = "*", method_name = "m", response_timeout = -1 } end)
    assert.has_error(function() hub:schedule_device_method() end)
    assert.has_error(function() hub:cancel_job("") end)
    assert.are.equal(0, #H.requests())
  end)
end)
