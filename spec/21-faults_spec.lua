-- Faults over the wire: the emulator misbehaves on cue (throttling with
-- each kind of retry hint, 503 bursts, resets mid-body, stalls, broken and
-- oversized bodies, every error shape) and the real core, over real TLS,
-- must retry the right number of times with the right waits, give up at
-- the deadline, and hand back precise errors. Only sleeps, the clock and
-- the jitter are stubbed (H.fake_env); stalls and timeouts are real.
local core = require("iothub.core")
local H = require("helpers")

local JOB = "fixture-twin-1"
local JOB_PATH = "/jobs/v2/" .. JOB

-- A service client with the fake clock.
local function hub(opts)
  local h = H.hub(opts)
  h._env = H.fake_env()
  return h
end

-- Requests the emulator saw for path (faulted ones included).
local function count(path)
  local n = 0
  for _, r in ipairs(H.requests()) do
    if r.path == path then n = n + 1 end
  end
  return n
end

local function http_date(seconds_from_now)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + seconds_from_now)
end

describe("faults", function()
  before_each(function() H.reset() end)
  after_each(function() H.reset() end)

  describe("throttling and outages", function()
    local hints = {
      { "retry-after-ms", "1500", 1.5 },
      { "x-ms-retry-after-ms", "250", 0.25 },
      { "Retry-After", "2", 2 },
    }
    for _, hint in ipairs(hints) do
      it("wait as long as a 429's " .. hint[1] .. " says, then succeed", function()
        H.fault { fault = "error", path = JOB_PATH, status = 429, code = "ThrottlingException",
          headers = { [hint[1]] = hint[2] } }
        local h = hub()
        local job, err = h:get_job(JOB)
        assert.is_truthy(job, tostring(err))
        assert.are.equal(JOB, job.jobId)
        assert.are.same({ hint[3] }, h._env.sleeps)
        assert.are.equal(2, count(JOB_PATH))
        h:close()
      end)
    end

    it("wait until a 429's Retry-After date", function()
      H.fault { fault = "error", path = JOB_PATH, status = 429, headers = { ["Retry-After"] = http_date(3) } }
      local h = hub()
      assert.is_truthy(h:get_job(JOB))
      assert.are.equal(1, #h._env.sleeps)
      -- The date has whole seconds: between 2 and 3 s remain when it is read.
      assert.is_true(h._env.sleeps[1] >= 1.5 and h._env.sleeps[1] <= 3, tostring(h._env.sleeps[1]))
      h:close()
    end)

    it("ride out a burst of three 503s with doubling waits", function()
      H.fault { fault = "error", path = JOB_PATH, status = 503, code = "ServiceUnavailable", times = 3 }
      local h = hub()
      local job, err = h:get_job(JOB)
      assert.is_truthy(job, tostring(err))
      assert.are.equal(JOB, job.jobId)
      assert.are.same({ 0.5, 1, 2 }, h._env.sleeps)
      assert.are.equal(4, count(JOB_PATH))
      h:close()
    end)

    it("give up after the attempts and return the last error, precise", function()
      H.fault { fault = "error", path = JOB_PATH, status = 503, code = "ServiceUnavailable", times = 0 }
      local h = hub()
      local job, err = h:get_job(JOB)
      assert.is_nil(job)
      assert.are.equal(503, err.status)
      assert.are.equal("ServiceUnavailable", err.code)
      assert.are.equal(503001, err.error_code)
      assert.is_true(err.retryable)
      assert.are.equal(4, err.attempts)
      assert.is_string(err.request_id)
      assert.are.equal(4, count(JOB_PATH))
      h:close()
    end)

    it("stop at the deadline when the server asks for long waits", function()
      H.fault { fault = "error", path = JOB_PATH, status = 429, times = 0, headers = { ["retry-after-ms"] = "5000" } }
      local h = hub { retry = { attempts = 10, deadline = 12 } }
      local _, err = h:get_job(JOB)
      assert.are.equal(429, err.status)
      assert.are.equal(3, err.attempts)
      assert.are.same({ 5, 5 }, h._env.sleeps)
      h:close()
    end)

    it("retry 500, 502 and 504 and a 408", function()
      for _, status in ipairs { 500, 502, 504, 408 } do
        H.reset()
        H.fault { fault = "error", path = JOB_PATH, status = status, shape = "text" }
        local h = hub()
        assert.is_truthy(h:get_job(JOB), status)
        assert.are.equal(2, count(JOB_PATH))
        h:close()
      end
    end)

    it("retry transient IoT Hub codes whatever the status", function()
      H.fault { fault = "error", path = JOB_PATH, status = 400, code = "ThrottlingBacklogTimeout",
        headers = { ["iothub-errorcode"] = "ThrottlingBacklogTimeout" } }
      local h = hub()
      assert.is_truthy(h:get_job(JOB))
      assert.are.equal(2, count(JOB_PATH))
      h:close()
    end)

    it("not retry creating an import/export job on 503", function()
      H.fault { fault = "error", path = "/jobs/create", status = 503, times = 0 }
      local h = hub()
      local _, err = h:export_devices { output_blob_container_uri = "https://blob.example/c" }
      assert.are.equal(503, err.status)
      assert.are.equal(1, err.attempts)
      assert.are.equal(1, count("/jobs/create"))
      h:close()
    end)

    it("retry the ids of get_jobs that were throttled or reset", function()
      H.fault { fault = "error", path = JOB_PATH, status = 429, headers = { ["retry-after-ms"] = "100" } }
      H.fault { fault = "reset", path = "/jobs/v2/fixture-method-1" }
      local h = hub()
      local results, errors = h:get_jobs({ JOB, "fixture-method-1", "fixture-failed-1" }, { concurrency = 3 })
      assert.are.same({}, errors)
      assert.are.equal(JOB, results[JOB].jobId)
      assert.are.equal("fixture-method-1", results["fixture-method-1"].jobId)
      assert.are.equal("fixture-failed-1", results["fixture-failed-1"].jobId)
      h:close()
    end)
  end)

  describe("broken connections", function()
    it("retry a connection reset in the middle of the body", function()
      H.fault { fault = "reset", path = JOB_PATH }
      local h = hub()
      local job, err = h:get_job(JOB)
      assert.is_truthy(job, tostring(err))
      assert.are.equal(JOB, job.jobId)
      assert.are.equal(1, #h._env.sleeps)
      h:close()
    end)

    it("report a reset as a lost connection", function()
      H.fault { fault = "reset", path = JOB_PATH, times = 0 }
      local h = hub { retry = false }
      local _, err = h:get_job(JOB)
      assert.are.equal("transport", err.kind)
      assert.are.equal("ConnectionLost", err.code)
      assert.is_true(err.retryable)
      h:close()
    end)

    it("report a body short of its Content-Length as a lost connection", function()
      H.fault { fault = "truncate", path = JOB_PATH, times = 0 }
      local h = hub { retry = { attempts = 2 } }
      local _, err = h:get_job(JOB)
      assert.are.equal("ConnectionLost", err.code)
      assert.are.equal(2, err.attempts)
      h:close()
    end)

    it("report a connection closed without an answer", function()
      H.fault { fault = "close", path = JOB_PATH, times = 0 }
      local h = hub { retry = false }
      local _, err = h:get_job(JOB)
      assert.are.equal("ConnectionLost", err.code)
      h:close()
    end)

    it("time out a stalled answer and retry it", function()
      H.fault { fault = "stall", path = JOB_PATH, seconds = 2 }
      local h = hub { timeout = 0.3 }
      local started = core.monotonic()
      local job, err = h:get_job(JOB)
      local took = core.monotonic() - started
      assert.is_truthy(job, tostring(err))
      assert.are.equal(JOB, job.jobId)
      assert.is_true(took >= 0.25 and took < 1.5, tostring(took))
      assert.are.equal(2, count(JOB_PATH))
      h:close()
    end)

    it("give up on a server that always stalls with a timeout error", function()
      H.fault { fault = "stall", path = JOB_PATH, seconds = 2, times = 0 }
      local h = hub { timeout = 0.2, retry = { attempts = 2 } }
      local _, err = h:get_job(JOB)
      assert.are.equal("timeout", err.kind)
      assert.are.equal("Timeout", err.code)
      assert.are.equal(2, err.attempts)
      h:close()
    end)

    it("keep working on the same client after every kind of failure", function()
      local h = hub { retry = false, timeout = 0.3, max_response_size = 64 * 1024 }
      for _, f in ipairs { "reset", "close", "truncate", "truncated_json", "malformed_json", "deep_nesting" } do
        -- libcurl itself resends once when a reused connection closes before
        -- any answer, so a lone "close" would never be seen.
        H.fault { fault = f, path = JOB_PATH, times = f == "close" and 2 or 1 }
        local job = h:get_job(JOB)
        assert.is_nil(job, f)
        job = h:get_job(JOB)
        assert.are.equal(JOB, job.jobId, f)
      end
      H.fault { fault = "oversize", path = JOB_PATH, bytes = 1024 * 1024 }
      assert.is_nil((h:get_job(JOB)))
      assert.are.equal(JOB, h:get_job(JOB).jobId)
      h:close()
    end)
  end)

  describe("bad bodies", function()
    it("give a decode error with the status for truncated JSON", function()
      H.fault { fault = "truncated_json", path = JOB_PATH }
      local h = hub()
      local job, err = h:get_job(JOB)
      assert.is_nil(job)
      assert.are.equal("decode", err.kind)
      assert.are.equal(200, err.status)
      assert.is_string(err.request_id)
      assert.matches("not valid JSON", err.message)
      assert.are.equal(1, err.attempts)
      h:close()
    end)

    it("give a decode error for malformed JSON", function()
      H.fault { fault = "malformed_json", path = JOB_PATH }
      local _, err = hub():get_job(JOB)
      assert.are.equal("decode", err.kind)
      assert.matches("not valid JSON", err.message)
    end)

    it("cut off a body larger than max_response_size", function()
      H.fault { fault = "oversize", path = JOB_PATH, bytes = 4 * 1024 * 1024 }
      local h = hub { max_response_size = 256 * 1024 }
      local _, err = h:get_job(JOB)
      assert.are.equal("ResponseTooLarge", err.code)
      assert.is_false(err.retryable)
      assert.matches("max_response_size", err.message)
      h:close()
    end)

    it("cut off an oversized chunked body too", function()
      H.fault { fault = "oversize", path = JOB_PATH, bytes = 4 * 1024 * 1024, chunked = true }
      local h = hub { max_response_size = 256 * 1024 }
      local _, err = h:get_job(JOB)
      assert.are.equal("ResponseTooLarge", err.code)
      h:close()
    end)

    it("accept a body just under max_response_size", function()
      H.fault { fault = "oversize", path = JOB_PATH, bytes = 200 * 1024 }
      local h = hub { max_response_size = 256 * 1024 }
      local job, err = h:get_job(JOB)
      assert.is_truthy(job, tostring(err))
      assert.are.equal(JOB, job.jobId)
      h:close()
    end)

    it("pass invalid UTF-8 in a string through as bytes", function()
      H.fault { fault = "invalid_utf8", path = JOB_PATH }
      local h = hub()
      local job, err = h:get_job(JOB)
      assert.is_truthy(job, tostring(err))
      assert.are.equal(JOB, job.jobId)
      assert.is_string(job.failureReason)
      assert.is_false(core.utf8_valid(job.failureReason))
      h:close()
    end)

    it("refuse nesting deeper than max_json_depth with a clear error", function()
      H.fault { fault = "deep_nesting", path = JOB_PATH, depth = 10000 }
      local h = hub()
      local _, err = h:get_job(JOB)
      assert.are.equal("decode", err.kind)
      assert.matches("deeper than max_json_depth %(128%)", err.message)
      h:close()
    end)

    it("follow a raised max_json_depth", function()
      H.fault { fault = "deep_nesting", path = JOB_PATH, depth = 300, times = 2 }
      local h = hub { max_json_depth = 200 }
      local _, err = h:get_job(JOB)
      assert.matches("max_json_depth %(200%)", err.message)
      h:close()
      h = hub { max_json_depth = 400 }
      local job = h:get_job(JOB)
      assert.are.equal("completed", job.status)
      local deep, levels = job.deep, 0
      while type(deep) == "table" do deep, levels = deep[1], levels + 1 end
      assert.are.equal(300, levels)
      h:close()
    end)

    it("raise for a max_json_depth out of range", function()
      assert.has_error(function() H.hub { max_json_depth = 0 } end)
      assert.has_error(function() H.hub { max_json_depth = 5000 } end)
      assert.has_error(function() H.hub { max_json_depth = "deep" } end)
    end)
  end)

  describe("error shapes", function()
    for _, shape in ipairs { 1, 2, 3, 4 } do
      it("read service error shape " .. shape .. " off the wire", function()
        H.fault { fault = "error", path = JOB_PATH, status = 404, shape = shape, code = "JobNotFound",
          message = "no such job" }
        local h = hub()
        local _, err = h:get_job(JOB)
        assert.are.equal("http", err.kind)
        assert.are.equal(404, err.status)
        assert.are.equal("JobNotFound", err.code)
        if shape ~= 1 and shape ~= 2 then assert.are.equal(404002, err.error_code) end
        assert.is_string(err.tracking_id)
        assert.is_string(err.message)
        assert.is_false(err.retryable)
        assert.are.equal(1, err.attempts)
        h:close()
      end)
    end

    it("give the status and a message for a text or empty error body", function()
      for _, shape in ipairs { "text", "empty" } do
        H.reset()
        H.fault { fault = "error", path = JOB_PATH, status = 403, shape = shape }
        local _, err = hub():get_job(JOB)
        assert.are.equal(403, err.status, shape)
        assert.is_string(err.message)
        assert.is_truthy(#err.message > 0)
      end
    end)

    it("read ARM errors and retry ARM throttling", function()
      local arm = H.arm()
      arm._env = H.fake_env()
      local path = "/subscriptions/" .. H.aad.subscription_id
      H.fault { fault = "error", path = path, status = 429, shape = "arm", code = "TooManyRequests",
        headers = { ["Retry-After"] = "1" } }
      local job, err = arm:get_job(JOB)
      assert.is_truthy(job, tostring(err))
      assert.are.equal(JOB, job.jobId)
      assert.are.same({ 1 }, arm._env.sleeps)
      H.fault { fault = "error", path = path, status = 400, shape = "arm", code = "InvalidJobId",
        message = "bad job id" }
      local _, err2 = arm:get_job(JOB)
      assert.are.equal("InvalidJobId", err2.code)
      assert.matches("bad job id", err2.message)
    end)

    it("read AAD errors from the token endpoint", function()
      H.fault { fault = "error", path = "/" .. H.aad.tenant_id .. "/oauth2", status = 401, shape = "aad",
        code = "invalid_client", error_code = 7000215, message = "Invalid client secret provided." }
      local token, err = H.client_secret { retry = false }:get_token("https://iothubs.azure.net/.default")
      assert.is_nil(token)
      assert.are.equal("auth", err.kind)
      assert.are.equal("invalid_client", err.code)
      assert.are.equal(7000215, err.error_code)
    end)
  end)

  describe("a slow token endpoint", function()
    it("time out the token request and retry it", function()
      H.fault { fault = "stall", path = "/" .. H.aad.tenant_id .. "/oauth2", seconds = 2 }
      local cred = H.client_secret { timeout = 0.3, retry = { attempts = 2, base_delay = 0.01 } }
      local token, err = cred:get_token("https://iothubs.azure.net/.default")
      assert.is_truthy(token, tostring(err))
      assert.is_string(token)
    end)

    it("fail a management call with the token's timeout, not a crash", function()
      H.fault { fault = "stall", path = "/" .. H.aad.tenant_id .. "/oauth2", seconds = 2, times = 0 }
      local arm = H.arm { credential = H.client_secret { timeout = 0.2, retry = false } }
      local job, err = arm:get_job(JOB)
      assert.is_nil(job)
      assert.are.equal("timeout", err.kind)
    end)
  end)

  describe("an expired signature", function()
    it("re-sign once after a 401 and succeed", function()
      H.fault { fault = "error", path = JOB_PATH, status = 401, shape = 1, code = "IotHubUnauthorizedAccess" }
      local h = hub { retry = false }
      local job, err = h:get_job(JOB)
      assert.is_truthy(job, tostring(err))
      assert.are.equal(JOB, job.jobId)
      assert.are.equal(2, h:stats().signatures)
      assert.are.equal(2, count(JOB_PATH))
      h:close()
    end)

    it("re-sign only once when the 401s go on", function()
      H.fault { fault = "error", path = JOB_PATH, status = 401, shape = 1, code = "IotHubUnauthorizedAccess", times = 0 }
      local h = hub()
      local _, err = h:get_job(JOB)
      assert.are.equal(401, err.status)
      assert.are.equal("IotHubUnauthorizedAccess", err.code)
      assert.are.equal(2, count(JOB_PATH))
      -- Nothing secret in the error, its text or any of its fields.
      local key = H.connection_string:match("SharedAccessKey=([^;]+)")
      local text = tostring(err)
      for _, v in pairs(err) do text = text .. " " .. tostring(v) end
      assert.is_nil(text:find(key, 1, true))
      assert.is_nil(text:find("sig=", 1, true))
      h:close()
    end)

    it("re-sign a create after a 401: the service did not run it", function()
      H.fault { fault = "error", path = "/jobs/create", status = 401, shape = 4, code = "IotHubUnauthorizedAccess" }
      local h = hub()
      local job, err = h:export_devices { output_blob_container_uri = "https://blob.example/c" }
      assert.is_truthy(job, tostring(err))
      assert.is_string(job.jobId)
      assert.are.equal(2, count("/jobs/create"))
      h:close()
    end)

    it("re-sign once for a whole get_jobs round", function()
      H.fault { fault = "error", path = "/jobs/v2/", status = 401, shape = 4, code = "IotHubUnauthorizedAccess", times = 3 }
      local h = hub()
      local results, errors = h:get_jobs({ JOB, "fixture-method-1", "fixture-failed-1" }, { concurrency = 3 })
      assert.are.same({}, errors)
      for _, id in ipairs { JOB, "fixture-method-1", "fixture-failed-1" } do
        assert.are.equal(id, results[id].jobId)
      end
      assert.are.equal(2, h:stats().signatures)
      h:close()
    end)

    it("not re-sign a ready SharedAccessSignature", function()
      local key = H.connection_string:match("SharedAccessKey=([^;]+)")
      local token = core.sas_token(key, H.host, math.floor(core.now()) + 600, "iothubowner")
      local h = H.hub(nil, "HostName=" .. H.host .. ";SharedAccessSignature=" .. token)
      H.fault { fault = "error", path = JOB_PATH, status = 401, shape = 1, code = "IotHubUnauthorizedAccess" }
      local _, err = h:get_job(JOB)
      assert.are.equal(401, err.status)
      assert.are.equal(1, count(JOB_PATH))
      h:close()
    end)
  end)

  describe("the fault script itself", function()
    it("skip, count and clear", function()
      H.fault { fault = "error", path = JOB_PATH, status = 503, skip = 1, times = 1 }
      local h = hub { retry = false }
      assert.is_truthy(h:get_job(JOB))
      assert.is_nil((h:get_job(JOB)))
      assert.is_truthy(h:get_job(JOB))
      assert.are.equal(1, H.faults()[1].hits)
      H.reset()
      assert.are.same({}, H.faults())
      h:close()
    end)
  end)
end)
