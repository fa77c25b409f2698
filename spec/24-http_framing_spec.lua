-- HTTP/1.1 framing: the emulator sends the real answer of a route framed in
-- every legal but unusual way (chunked with extensions and trailers, dripped
-- a byte at a time, HTTP/1.0, ended by a close, after a 1xx, odd header case,
-- junk after it, an idle connection closed; tools/emulator/README.md, "Fault
-- injection"). Whatever reads HTTP in the core must decode each to the very
-- value and headers of the plain answer, go on with the next call, and keep
-- or replace its connection as the framing says. libcurl is the reference:
-- this spec passes against it, and any other reader must pass it too (spec
-- 28 runs the same cases through nginx cosockets and the core's codec).
local core = require("iothub.core")
local iothub = require("iothub")
local H = require("helpers")

local cases = require("framing_cases")

local JOB = cases.JOB
local JOB_PATH = cases.JOB_PATH
local QUERY_PATH = cases.QUERY_PATH
local FRESH = cases.FRESH

-- The framings (spec/framing_cases.lua, shared with spec 28's nginx run):
-- each kind's rule, how the headers differ from the plain answer's,
-- whether the connection is kept, and how long to wait before the next call.
local KINDS = cases.KINDS

local copy = H.copy

local count = H.count_requests

-- got's headers are plain's but for the fresh ones and the kind's changes.
local function same_headers(plain, got, changes, what)
  local want, have = {}, {}
  for k, v in pairs(plain) do if not FRESH[k] then want[k] = v end end
  for k, v in pairs(got) do if not FRESH[k] then have[k] = v end end
  for k, v in pairs(changes) do
    if type(v) == "table" then
      want[k] = have[k] ~= nil and v[1] or nil
    else
      want[k] = v or nil
    end
  end
  assert.are.same(want, have, what)
end

-- A client with no retries of its own, so every answer is the one sent.
local function hub(opts)
  return H.hub(copy({ retry = false }, opts))
end

-- value, its response headers (iothub.response) | nil, err
local function with_headers(value, err)
  if value == nil then return nil, err end
  return value, iothub.response(value).headers
end

local create_count = 0
-- The calls checked under each kind: name, the path prefix the fault
-- matches, call(h) -> value, headers | nil, err, and whether headers come
-- back. A created job's id is made the same for every call, so two creates
-- compare.
local CALLS = {
  { "get_job", JOB_PATH, function(h) return with_headers(h:get_job(JOB)) end },
  { "a query_jobs page", QUERY_PATH, function(h)
    local page, err = h:query_jobs { type = "scheduleDeviceMethod", page_size = 20 }
    return page, page and {} or err
  end, no_headers = true },
  { "a PUT create", "/jobs/v2/framing-", function(h)
    create_count = create_count + 1
    local job, headers = with_headers(h:schedule_twin_update { job_id = "framing-" .. create_count,
      query_condition = "tags.site = 'paris'", twin = { tags = { ring = "beta" } },
      start_time = "2030-01-01T00:00:00Z", max_execution_time = 600 })
    if job then job.jobId = "framing-N" end
    return job, headers
  end },
}

describe("HTTP/1.1 framing", function()
  before_each(function()
    H.reset()
    H.clock { speed = 0 }   -- created jobs' times stay put
  end)
  after_each(function() H.reset() end)

  it("keep one connection for plain keep-alive answers", function()
    local h = hub()
    for _ = 1, 3 do assert.are.equal(JOB, h:get_job(JOB).jobId) end
    assert.is_truthy(h:query_jobs { page_size = 5 })
    assert.are.equal(1, h:stats().connections)
    h:close()
  end)

  for _, kind in ipairs(KINDS) do
    local name, rule, changes = kind[1], kind[2], kind[3]
    for _, c in ipairs(CALLS) do
      local call_name, path, call = c[1], c[2], c[3]
      it("read " .. call_name .. " " .. name, function()
        local h = hub()
        local want, want_headers = call(h)
        assert.is_truthy(want, tostring(want_headers))
        H.fault(copy(rule, { path = path }))
        local got, headers = call(h)
        assert.is_truthy(got, tostring(headers))
        assert.are.same(want, got)
        same_headers(want_headers, headers, c.no_headers and {} or changes, name)
        -- The fault was met, once, and no one resent the request.
        assert.are.equal(1, H.faults()[1].hits)
        assert.are.equal(2, count(path))
        if kind.wait then core.sleep(kind.wait) end
        local again, err = call(h)
        assert.is_truthy(again, tostring(err))
        assert.are.same(want, again)
        assert.are.equal(kind.keep and 1 or 2, h:stats().connections,
          kind.keep and "the connection was kept" or "the connection was replaced")
        h:close()
      end)
    end

    it("read an error answer " .. name, function()
      local h = hub()
      local _, want = h:get_job("no-such-job")
      H.fault(copy(rule, { path = "/jobs/v2/no-such-job" }))
      local job, err = h:get_job("no-such-job")
      assert.is_nil(job)
      for _, field in ipairs { "kind", "status", "code", "error_code", "message", "retryable" } do
        assert.are.equal(want[field], err[field], field)
      end
      assert.are.equal("JobNotFound", err.code)
      assert.is_string(err.request_id)
      assert.are.equal(1, H.faults()[1].hits)
      if kind.wait then core.sleep(kind.wait) end
      assert.are.equal(JOB, h:get_job(JOB).jobId)
      assert.are.equal(kind.keep and 1 or 2, h:stats().connections)
      h:close()
    end)
  end

  it("read a job dripped a byte a millisecond, status line, headers and body", function()
    local h = hub()
    local want, want_headers = with_headers(h:get_job(JOB))
    H.fault { fault = "drip", path = JOB_PATH }
    local started = core.monotonic()
    local got, headers = with_headers(h:get_job(JOB))
    local took = core.monotonic() - started
    assert.is_truthy(got, tostring(headers))
    assert.are.same(want, got)
    same_headers(want_headers, headers, {})
    -- every byte waited a millisecond, so the reads were many and small
    assert.is_true(took > (tonumber(want_headers["content-length"]) / 1000), tostring(took))
    assert.are.equal(1, h:stats().connections)
    h:close()
  end)

  it("keep a connection whose idle close comes after the next request", function()
    local h = hub()
    assert.is_truthy(h:get_job(JOB))
    H.fault { fault = "idle_close", path = JOB_PATH, after_ms = 5000 }
    assert.are.equal(JOB, h:get_job(JOB).jobId)
    assert.are.equal(JOB, h:get_job(JOB).jobId)
    assert.are.equal(1, h:stats().connections)
    h:close()
  end)

  -- Junk that reaches a pooled connection while it is idle. libcurl 7.88
  -- does not notice (its pool check takes pending bytes for a live
  -- connection): it sends the next request there and reads the junk as an
  -- HTTP/0.9 answer, a transport error. Never a wrong value, though, and
  -- the call after that is on a new connection. A reader that checks an
  -- idle connection for pending bytes before reuse gets the job at once.
  it("never misread junk that came while the connection was idle", function()
    local h = hub()
    local want = assert(h:get_job(JOB))
    H.fault { fault = "garbage_after", path = JOB_PATH, bytes = 3, delay_ms = 20 }
    assert.are.same(want, h:get_job(JOB))
    core.sleep(0.3)
    local job, err = h:get_job(JOB)
    if job then
      assert.are.same(want, job)
    else
      assert.are.equal("transport", err.kind)
      assert.is_false(err.retryable)
    end
    assert.are.same(want, h:get_job(JOB))
    assert.are.equal(2, h:stats().connections)
    h:close()
  end)

  it("find a job in a 100-job page sent in 7-byte chunks", function()
    local h = hub()
    local want = assert(h:query_jobs { page_size = 100 })
    assert.are.equal(100, #want.items)
    H.fault { fault = "chunked", path = QUERY_PATH }
    local got, err = h:query_jobs { page_size = 100 }
    assert.is_truthy(got, tostring(err))
    assert.are.same(want, got)
    assert.are.equal(1, H.faults()[1].hits)
    assert.are.equal(1, h:stats().connections)
    h:close()
  end)

  describe("max_response_size", function()
    local function page_size_bytes() return cases.page_size_bytes(hub()) end

    for _, rule in ipairs {
      { fault = "chunked" }, { fault = "chunked", chunk_size = 65536 }, { fault = "http10" },
      { fault = "no_length" }, { fault = "drip", piece = 4096, delay_ms = 0 },
    } do
      local label = rule.fault .. (rule.chunk_size and " " .. rule.chunk_size or "")
      it("cut off a " .. label .. " page one byte over the limit, and take it at the limit", function()
        local size = page_size_bytes()
        assert.is_true(size > 50000, tostring(size))
        local h = hub { max_response_size = size - 1 }
        H.fault(copy(rule, { path = QUERY_PATH }))
        local page, err = h:query_jobs { page_size = 100 }
        assert.is_nil(page)
        assert.are.equal("transport", err.kind)
        assert.are.equal("ResponseTooLarge", err.code)
        assert.is_false(err.retryable)
        -- the client goes on, on a fresh connection
        assert.are.equal(JOB, h:get_job(JOB).jobId)
        assert.are.equal(2, h:stats().connections)
        h:close()
        h = hub { max_response_size = size }
        H.fault(copy(rule, { path = QUERY_PATH }))
        page, err = h:query_jobs { page_size = 100 }
        assert.is_truthy(page, tostring(err))
        assert.are.equal(100, #page.items)
        h:close()
      end)
    end

    it("cut off a chunked page far over the limit", function()
      local h = hub { max_response_size = 16 * 1024 }
      H.fault { fault = "chunked", path = QUERY_PATH }
      local _, err = h:query_jobs { page_size = 100 }
      assert.are.equal("ResponseTooLarge", err.code)
      assert.matches("max_response_size", err.message)
      h:close()
    end)
  end)

  it("read every framing through get_jobs (libcurl multi), every answer faulted", function()
    local ids = { JOB, "fixture-method-1", "fixture-failed-1", "fixture-method-falsy", "no-such-job" }
    local h = hub()
    local want, want_errors = h:get_jobs(ids, { concurrency = 2 })
    assert.are.equal("JobNotFound", want_errors["no-such-job"].code)
    for _, kind in ipairs(KINDS) do
      H.reset()
      H.fault(copy(kind[2], { path = "/jobs/v2/", times = 0 }))
      local got, errors = h:get_jobs(ids, { concurrency = 2 })
      assert.are.same(want, got, kind[1])
      local failed = {}
      for id, err in pairs(errors) do failed[#failed + 1] = id .. " " .. tostring(err.code) end
      assert.are.same({ "no-such-job JobNotFound" }, failed, kind[1])
      assert.is_true(H.faults()[1].hits >= #ids, kind[1])
    end
    h:close()
  end)
end)
