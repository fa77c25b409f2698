-- hub:wait_job: polling to a terminal status with progress callbacks, and
-- the timeout error that carries the last state seen.
local iothub = require("iothub")
local core = require("iothub.core")
local H = require("helpers")

describe("hub:wait_job", function()
  local hub
  before_each(function()
    H.reset()
    hub = H.hub()
  end)
  after_each(function() hub:close() end)

  it("returns the final job and reports progress as the statistics move", function()
    H.clock { device_seconds = 0.05 }
    assert.truthy(hub:schedule_twin_update { job_id = "watched", query_condition = "*",
      twin = { tags = { wave = 1 } } })
    local seen = {}
    local job, err = hub:wait_job("watched", { timeout = 30, interval = 0.1, on_progress = function(j)
      seen[#seen + 1] = { status = j.status, done = (j.deviceJobStatistics.succeededCount or 0)
        + (j.deviceJobStatistics.failedCount or 0) }
    end })
    assert.truthy(job, tostring(err))
    assert.are.equal("completed", job.status)
    assert.are.equal(40, job.deviceJobStatistics.succeededCount)
    assert.is_true(#seen >= 3, "progress calls: " .. #seen)
    assert.are.equal("completed", seen[#seen].status)
    for i = 2, #seen do assert.is_true(seen[i].done >= seen[i - 1].done) end
    assert.are.equal(1, iothub.progress(job))
  end)

  it("returns at once for a job that is already terminal, calling on_progress once", function()
    local calls = 0
    local job = assert(hub:wait_job("fixture-twin-1", { on_progress = function() calls = calls + 1 end }))
    assert.are.equal("completed", job.status)
    assert.are.equal(1, calls)
  end)

  it("times out with a timeout error carrying the last job seen", function()
    assert.truthy(hub:schedule_device_method { job_id = "tomorrow", query_condition = "*", method_name = "m",
      start_time = os.time() + 86400 })
    local started = core.monotonic()
    local job, err = hub:wait_job("tomorrow", { timeout = 0.4, interval = 0.1 })
    local elapsed = core.monotonic() - started
    assert.is_nil(job)
    assert.are.equal("timeout", err.kind)
    assert.are.equal("scheduled", err.job.status)
    assert.is_true(elapsed >= 0.4 and elapsed < 2, "waited " .. elapsed .. " s")
    assert.truthy(tostring(err):find("timeout", 1, true))
  end)

  it("checks once with timeout = 0", function()
    H.clear_requests()
    local job, err = hub:wait_job("fixture-method-1", { timeout = 0 })
    assert.is_nil(job)
    assert.are.equal("timeout", err.kind)
    assert.are.equal(1, #H.requests())
  end)

  it("returns a non-transient error at once", function()
    local job, err = hub:wait_job("no-such-job", { timeout = 30, interval = 0.1 })
    assert.is_nil(job)
    assert.are.equal("JobNotFound", err.code)
  end)

  it("raises for bad options", function()
    assert.has_error(function() hub:wait_job("x", { timeout = -1 }) end)
    assert.has_error(function() hub:wait_job("x", { interval = 0 }) end)
    assert.has_error(function() hub:wait_job("x", { on_progress = "print" }) end)
    assert.has_error(function() hub:wait_job("x", { tiemout = 1 }) end)
    assert.has_error(function() hub:wait_job(nil) end)
  end)
end)
