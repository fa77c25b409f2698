-- hub:get_jobs: many jobs read concurrently (the core's scheduler over
-- libcurl's multi interface, run until the batch is done), with bounded
-- concurrency and reused connections.
local core = require("iothub.core")
local iothub = require("iothub")
local H = require("helpers")

describe("hub:get_jobs", function()
  local hub, known
  setup(function()
    H.reset()
    hub = H.hub()
    known = {}
    for job in hub:jobs { page_size = 1000 } do known[#known + 1] = job.jobId end
  end)
  teardown(function() hub:close() end)

  local function two_hundred_ids()
    local ids, unknown = {}, {}
    for i = 1, 200 do
      if i % 40 == 0 then
        ids[i] = "missing-" .. i
        unknown[#unknown + 1] = ids[i]
      else
        ids[i] = known[(i - 1) % #known + 1]
      end
    end
    return ids, unknown
  end

  for _, concurrency in ipairs { 1, 16 } do
    it("reads 200 ids at concurrency " .. concurrency .. ", keyed by id, unknown ones as errors", function()
      local ids, unknown = two_hundred_ids()
      local results, errors = hub:get_jobs(ids, { concurrency = concurrency })
      local n_results, n_errors = 0, 0
      for id, job in pairs(results) do
        n_results = n_results + 1
        assert.are.equal(id, job.jobId)
      end
      for id, err in pairs(errors) do
        n_errors = n_errors + 1
        assert.are.equal("JobNotFound", err.code, id)
        assert.is_true(iothub.is_error(err))
      end
      assert.are.equal(#unknown, n_errors)
      assert.are.equal(200 - #unknown, n_results)
      for _, id in ipairs(unknown) do assert.is_nil(results[id]) end
    end)
  end

  it("opens no more connections than the concurrency and reuses them", function()
    H.reset()
    local fresh = H.hub()
    local ids = {}
    for i = 1, 120 do ids[i] = known[i] end
    fresh:get_jobs(ids, { concurrency = 6 })
    fresh:get_jobs(ids, { concurrency = 6 })
    assert.is_true(fresh:stats().connections <= 6, "connections: " .. fresh:stats().connections)
    assert.are.equal(240, H.stats().requests)
    fresh:close()
  end)

  it("decodes results like get_job does (integers, nulls, odd ids)", function()
    local results = hub:get_jobs { "fixture-twin-1", "a/b", "ünïcødé-日本" }
    assert.are.equal(iothub.null, results["fixture-twin-1"].updateTwin.tags.owner)
    assert.is_nil(results["fixture-twin-1"].statusMessage)
    if math.type then assert.are.equal("integer", math.type(results["fixture-twin-1"].maxExecutionTimeInSeconds)) end
    assert.are.equal("a/b", results["a/b"].jobId)
    assert.are.equal("ünïcødé-日本", results["ünïcødé-日本"].jobId)
  end)

  it("reads each id once when the list repeats it", function()
    H.clear_requests()
    local results = hub:get_jobs { "fixture-twin-1", "fixture-twin-1", "fixture-method-1" }
    assert.truthy(results["fixture-twin-1"])
    assert.are.equal(2, #H.requests())
  end)

  it("returns empty tables for an empty list without a request", function()
    H.clear_requests()
    local results, errors = hub:get_jobs({})
    assert.are.same({}, results)
    assert.are.same({}, errors)
    assert.are.equal(0, #H.requests())
  end)

  it("reports transport failures per id without hiding the others", function()
    local dead = H.hub { endpoint = "https://127.0.0.1:1", connect_timeout = 2, retry = false }
    local results, errors = dead:get_jobs({ "a", "b", "c" }, { concurrency = 2 })
    assert.are.same({}, results)
    for _, id in ipairs { "a", "b", "c" } do assert.are.equal("ConnectFailed", errors[id].code) end
    dead:close()
  end)

  it("times out a stalled request alone while the others in flight finish", function()
    H.reset()
    H.fault { fault = "stall", path = "/jobs/v2/fixture-method-1", seconds = 2 }
    local quick = H.hub { timeout = 0.4, retry = false }
    local ids = { "fixture-twin-1", "fixture-method-1", "fixture-failed-1", "a/b" }
    local started = core.monotonic()
    local results, errors = quick:get_jobs(ids, { concurrency = 4 })
    local took = core.monotonic() - started
    assert.are.equal("Timeout", errors["fixture-method-1"] and errors["fixture-method-1"].code)
    for _, id in ipairs { "fixture-twin-1", "fixture-failed-1", "a/b" } do
      assert.are.equal(id, results[id] and results[id].jobId, tostring(errors[id]))
    end
    assert.is_true(took >= 0.35 and took < 1.5, tostring(took))
    quick:close()
  end)

  it("loses only the request whose connection was reset, and reuses the rest", function()
    H.reset()
    local h = H.hub { retry = false }
    local ids = { "fixture-twin-1", "fixture-method-1", "fixture-failed-1", "a/b" }
    h:get_jobs(ids, { concurrency = 4 })
    local before = h:stats().connections
    H.fault { fault = "reset", path = "/jobs/v2/fixture-failed-1" }
    local results, errors = h:get_jobs(ids, { concurrency = 4 })
    assert.are.equal("ConnectionLost", errors["fixture-failed-1"] and errors["fixture-failed-1"].code)
    assert.are.equal(3, #(function() local t = {} for id in pairs(results) do t[#t + 1] = id end return t end)())
    -- The reset connection is replaced on the next round; the others are kept.
    results = h:get_jobs(ids, { concurrency = 4 })
    assert.truthy(results["fixture-failed-1"])
    assert.are.equal(before + 1, h:stats().connections)
    h:close()
  end)

  it("raises for bad arguments", function()
    assert.has_error(function() hub:get_jobs("fixture-twin-1") end)
    assert.has_error(function() hub:get_jobs { "ok", 42 } end)
    assert.has_error(function() hub:get_jobs { "ok", "" } end)
    assert.has_error(function() hub:get_jobs({ "ok" }, { concurrency = 0 }) end)
    assert.has_error(function() hub:get_jobs({ "ok" }, { concurrency = 1.5 }) end)
    assert.has_error(function() hub:get_jobs({ "ok" }, { parallel = 2 }) end)
  end)
end)
