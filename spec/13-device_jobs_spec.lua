-- hub:device_jobs: the per-device rows of a job (devices.jobs), paged, with
-- the outcome of each device.
local iothub = require("iothub")
local H = require("helpers")

describe("hub:device_jobs", function()
  local hub
  setup(function()
    H.reset()
    H.clock { device_seconds = 0.01 }
    hub = H.hub()
    assert.truthy(hub:schedule_device_method { job_id = "reboot-all", query_condition = "*",
      method_name = "reboot", payload = { delay = 1 } })
    H.until_job(hub, "reboot-all", iothub.is_terminal)
  end)
  teardown(function() hub:close() end)

  it("lists one row per device with the method's outcome", function()
    local rows, by_device = 0, {}
    for row in hub:device_jobs("reboot-all", { page_size = 7 }) do
      rows = rows + 1
      by_device[row.deviceId] = row
      assert.are.equal("reboot-all", row.jobId)
    end
    assert.are.equal(40, rows)
    local ok = by_device["device-001"]
    assert.are.equal("completed", ok.status)
    assert.are.equal(200, ok.outcome.deviceMethodResponse.status)
    assert.are.equal(true, ok.outcome.deviceMethodResponse.payload.ok)
  end)

  it("tells which devices failed and why", function()
    local failed = {}
    for row in hub:device_jobs("reboot-all") do
      if row.status == "failed" then failed[row.deviceId] = row end
    end
    for _, id in ipairs { "device-011", "device-012", "device-013" } do
      assert.truthy(failed[id], id)
      assert.are.equal(500, failed[id].outcome.deviceMethodResponse.status)
    end
    for _, id in ipairs { "device-037", "device-038", "device-039", "device-040" } do
      assert.are.equal("DeviceNotOnline", failed[id].error.code)
    end
    local job = assert(hub:get_job("reboot-all"))
    assert.are.equal(7, job.deviceJobStatistics.failedCount)
  end)

  it("pages with the query headers", function()
    H.clear_requests()
    for _ in hub:device_jobs("reboot-all", { page_size = 7 }) do end
    local log = H.requests()
    assert.are.equal(math.ceil(40 / 7), #log)
    assert.are.equal("POST", log[1].method)
    assert.are.equal("/devices/query", log[1].path)
    assert.are.equal("7", log[1].headers["x-ms-max-item-count"])
    assert.truthy(log[2].headers["x-ms-continuation"])
  end)

  it("escapes quotes in the job id", function()
    local id = [[it's a "job"]]
    assert.truthy(hub:schedule_device_method { job_id = id, query_condition = "deviceId = 'device-002'", method_name = "m" })
    H.until_job(hub, id, iothub.is_terminal)
    local rows = {}
    for row in hub:device_jobs(id) do rows[#rows + 1] = row end
    assert.are.equal(1, #rows)
    assert.are.equal(id, rows[1].jobId)
  end)

  it("yields nothing for a job without rows", function()
    for _ in hub:device_jobs("no-such-job") do error("no rows expected") end
  end)
end)
