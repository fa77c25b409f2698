-- Retries: capped exponential backoff with jitter on transient failures,
-- server hints first, an overall deadline, and nothing retried that could
-- run a job twice. Real failures (refused connections, timeouts) through
-- the real core; only the sleep, the clock and the jitter are stubbed.
local retry = require("iothub.retry")
local H = require("helpers")

local fake_env = H.fake_env

local function dead_hub(opts)
  local o = { endpoint = "https://127.0.0.1:1", connect_timeout = 1 }
  for k, v in pairs(opts or {}) do o[k] = v end
  local hub = H.hub(o)
  hub._env = fake_env()
  return hub
end

describe("retries", function()
  it("retry a refused connection with doubling waits, then return the last error", function()
    local hub = dead_hub()
    local job, err = hub:get_job("x")
    assert.is_nil(job)
    assert.are.equal("ConnectFailed", err.code)
    assert.are.equal(4, err.attempts)
    assert.are.same({ 0.5, 1, 2 }, hub._env.sleeps)
    hub:close()
  end)

  it("jitter the waits between half and all of the backoff", function()
    local policy = retry.policy("t", nil)
    local err = { retryable = true }
    assert.are.equal(0.25, retry.delay(policy, 1, err, function() return 0 end))
    assert.are.equal(0.5, retry.delay(policy, 1, err, function() return 1 end))
    for _ = 1, 100 do
      local d = retry.delay(policy, 3, err)
      assert.is_true(d >= 1 and d <= 2)
    end
  end)

  it("honour the server's hint, capped at max_delay", function()
    local policy = retry.policy("t", { max_delay = 10 })
    assert.are.equal(7, retry.delay(policy, 1, { retry_after = 7 }))
    assert.are.equal(10, retry.delay(policy, 1, { retry_after = 70 }))
  end)

  it("cap the waits at max_delay and follow attempts", function()
    local hub = dead_hub { retry = { attempts = 5, base_delay = 10, max_delay = 15, deadline = 1000 } }
    local _, err = hub:get_job("x")
    assert.are.equal(5, err.attempts)
    assert.are.same({ 10, 15, 15, 15 }, hub._env.sleeps)
    hub:close()
  end)

  it("stop at the overall deadline", function()
    local hub = dead_hub { retry = { attempts = 10, base_delay = 0.5, deadline = 1 } }
    local _, err = hub:get_job("x")
    assert.are.equal(2, err.attempts)
    assert.are.same({ 0.5 }, hub._env.sleeps)
    hub:close()
  end)

  it("make one attempt with retry = false", function()
    local hub = dead_hub { retry = false }
    local _, err = hub:get_job("x")
    assert.are.equal(1, err.attempts)
    assert.are.same({}, hub._env.sleeps)
    hub:close()
  end)

  it("do not retry errors that are not transient", function()
    H.reset()
    local hub = H.hub()
    hub._env = fake_env()
    local _, err = hub:get_job("no-such-job")
    assert.are.equal("JobNotFound", err.code)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, #H.requests())
    hub:close()
  end)

  it("retry a timed-out read against the live emulator", function()
    H.reset()
    H.control("POST", "delay", '{"seconds": 2, "path_prefix": "/jobs/v2/fixture-twin-1"}')
    local hub = H.hub { timeout = 0.3, retry = { attempts = 2 } }
    hub._env = fake_env()
    local _, err = hub:get_job("fixture-twin-1")
    assert.are.equal("timeout", err.kind)
    assert.are.equal(2, err.attempts)
    assert.are.equal(2, #H.requests())
    H.reset()
    hub:close()
  end)

  it("retry the ids of get_jobs that failed transiently", function()
    local hub = dead_hub { retry = { attempts = 3 } }
    local results, errors = hub:get_jobs({ "a", "b" }, { concurrency = 2 })
    assert.are.same({}, results)
    assert.are.equal(3, errors.a.attempts)
    assert.are.equal(3, errors.b.attempts)
    assert.are.same({ 0.5, 1 }, hub._env.sleeps)
    hub:close()
  end)

  it("never retry creating an import/export job", function()
    local hub = dead_hub()
    local _, err = hub:export_devices { output_blob_container_uri = "https://x/y" }
    assert.are.equal(1, err.attempts)
    assert.are.same({}, hub._env.sleeps)
    hub:close()
  end)

  it("raise for bad retry options", function()
    assert.has_error(function() H.hub { retry = { attempts = 0 } } end)
    assert.has_error(function() H.hub { retry = { attempts = 1.5 } } end)
    assert.has_error(function() H.hub { retry = { tries = 3 } } end)
    assert.has_error(function() H.hub { retry = true } end)
    assert.has_error(function() H.hub { retry = { base_delay = -1 } } end)
  end)
end)
