-- Non-blocking use for hosts with their own loop: tasks (iothub.spawn) whose
-- requests run on the core's multi-interface loop, driven by iothub.poll,
-- which never blocks longer than it is told.
local iothub = require("iothub")
local core = require("iothub.core")
local H = require("helpers")

local function drain(max_seconds)
  local deadline = core.monotonic() + (max_seconds or 10)
  while iothub.pending() > 0 and core.monotonic() < deadline do iothub.poll(0.05) end
end

describe("tasks and iothub.poll", function()
  local hub
  before_each(function()
    H.reset()
    hub = H.hub()
  end)
  after_each(function()
    drain()
    hub:close()
  end)

  it("run client calls inside tasks and deliver their results", function()
    local one = iothub.spawn(function() return hub:get_job("fixture-twin-1") end)
    local many = iothub.spawn(function() return hub:get_jobs({ "fixture-twin-1", "a/b", "nope" }, { concurrency = 2 }) end)
    assert.is_false(one.done)
    drain()
    assert.are.equal("fixture-twin-1", one:result().jobId)
    local results, errors = many:result()
    assert.are.equal("a/b", results["a/b"].jobId)
    assert.are.equal("JobNotFound", errors.nope.code)
  end)

  it("never block in poll(0) while a slow request is in flight", function()
    H.control("POST", "delay", '{"seconds": 1, "path_prefix": "/jobs/v2/fixture-twin-1"}')
    local started = core.monotonic()
    local task = iothub.spawn(function() return hub:get_job("fixture-twin-1") end)
    local longest, polls = 0, 0
    while not task.done and core.monotonic() - started < 10 do
      local t0 = core.monotonic()
      iothub.poll(0)
      longest = math.max(longest, core.monotonic() - t0)
      polls = polls + 1
      core.sleep(0.01)
    end
    local elapsed = core.monotonic() - started
    assert.is_true(task.done)
    assert.are.equal("fixture-twin-1", task:result().jobId)
    assert.is_true(elapsed >= 1, "the slow request took " .. elapsed .. " s")
    assert.is_true(polls > 20, "polls: " .. polls)
    assert.is_true(longest < 0.25, ("a poll(0) took %.3f s"):format(longest))
  end)

  it("wait at most the timeout given to poll", function()
    H.control("POST", "delay", '{"seconds": 2, "path_prefix": "/jobs/v2/fixture-twin-1"}')
    iothub.spawn(function() return hub:get_job("fixture-twin-1") end)
    local t0 = core.monotonic()
    iothub.poll(0.1)
    local took = core.monotonic() - t0
    assert.is_true(took < 0.6, ("poll(0.1) took %.3f s"):format(took))
  end)

  it("turn sleeps into timers, so wait_job in a task does not block", function()
    H.clock { device_seconds = 0.02 }
    local task = iothub.spawn(function()
      assert(hub:schedule_twin_update { job_id = "async-wait", query_condition = "deviceId IN ['device-001', 'device-002']",
        twin = { tags = { async = true } } })
      return hub:wait_job("async-wait", { timeout = 20, interval = 0.05 })
    end)
    local longest = 0
    while not task.done do
      local t0 = core.monotonic()
      iothub.poll(0.01)
      longest = math.max(longest, core.monotonic() - t0)
    end
    assert.are.equal("completed", task:result().status)
    assert.is_true(longest < 0.25, ("a poll took %.3f s"):format(longest))
  end)

  it("let a task's get_jobs run on as many connections as its concurrency", function()
    H.control("POST", "delay", '{"seconds": 0.3, "path_prefix": "/jobs/v2/"}')
    local ids = {}
    for i = 1, 8 do ids[i] = "parallel-" .. i end
    local task = iothub.spawn(function() return hub:get_jobs(ids, { concurrency = 8 }) end)
    drain()
    local _, errors = task:result()
    for _, id in ipairs(ids) do assert.are.equal("JobNotFound", errors[id] and errors[id].code, id) end
    -- all eight at once, each on its own connection (the loop's default is 4)
    assert.is_true(H.stats().connections >= 8, "connections: " .. H.stats().connections)
  end)

  it("keep blocking calls working outside tasks", function()
    iothub.spawn(function() return hub:get_job("fixture-method-1") end)
    assert.are.equal("fixture-twin-1", assert(hub:get_job("fixture-twin-1")).jobId)
  end)

  it("record a task's error and raise it from result()", function()
    local task = iothub.spawn(function() error("boom", 0) end)
    assert.is_true(task.done)
    assert.are.equal("boom", task.error)
    assert.has_error(function() task:result() end, "boom")
  end)

  it("call on_done when a task ends", function()
    local seen
    iothub.spawn { function() return hub:get_job("fixture-twin-1") end, on_done = function(t) seen = t end }
    drain()
    assert.are.equal("fixture-twin-1", seen:result().jobId)
  end)

  it("follow iterators inside tasks where the Lua can yield from them", function()
    if _VERSION == "Lua 5.1" and not jit then return end   -- 5.1 cannot yield in a for iterator
    local task = iothub.spawn(function()
      local n = 0
      for _ in hub:jobs { page_size = 50 } do n = n + 1 end
      return n
    end)
    drain()
    assert.is_true(task:result() > 200)
  end)

  it("return at once from poll when nothing is pending, and raise for bad input", function()
    drain()
    local t0 = core.monotonic()
    assert.are.equal(0, iothub.poll(1))
    assert.is_true(core.monotonic() - t0 < 0.1)
    assert.has_error(function() iothub.poll(-1) end)
    assert.has_error(function() iothub.spawn(42) end)
    local inner = iothub.spawn(function() iothub.poll(0) end)
    assert.truthy(tostring(inner.error):find("inside a task", 1, true))
  end)
end)
