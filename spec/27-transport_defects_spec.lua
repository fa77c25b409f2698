-- Transport defects found in review, each checked where it bites: results
-- of a batch a Lua error cut short never reach a later call; a create goes
-- out at most once; an early final answer (413) to a large upload is that
-- answer; secrets are wiped from every block of the core that held them;
-- client:stats() counts in integers; a too-large header block says so.
local iothub = require("iothub")
local core = require("iothub.core")
local H = require("helpers")

local JOB = "fixture-twin-1"
local OTHERS = { "fixture-method-1", "fixture-failed-1", "a/b", "fixture-method-falsy" }

local count = H.count_requests

local function hub(opts)
  local o = { retry = false }
  for k, v in pairs(opts or {}) do o[k] = v end
  return H.hub(o)
end

local function drain(max_seconds)
  local deadline = core.monotonic() + (max_seconds or 10)
  while iothub.pending() > 0 and core.monotonic() < deadline do iothub.poll(0.05) end
end

-- Sets a call hook on the running coroutine that raises when the loop is
-- about to start a request after `n` have started: the call running then is
-- cut short with requests in flight.
local function raise_after_starts(n)
  local start = debug.getregistry()["iothub.loop"].__index.start
  local seen = 0
  debug.sethook(function()
    if debug.getinfo(2, "f").func == start then
      seen = seen + 1
      if seen > n then
        debug.sethook()
        error("cut short", 0)
      end
    end
  end, "c")
end

-- Whether a task can yield from inside pcall (not on plain Lua 5.1).
local YIELD_IN_PCALL = _VERSION ~= "Lua 5.1" or jit ~= nil

describe("transport defects", function()
  before_each(function() H.reset() end)
  after_each(function()
    drain()
    H.reset()
  end)

  describe("a Lua error while results are collected", function()
    it("never gives a later call in the task the data of a call it abandoned", function()
      if not YIELD_IN_PCALL then return end
      local h = hub()
      -- The later call's answer comes well after the abandoned ones.
      H.fault { fault = "stall", path = "/jobs/v2/" .. JOB, seconds = 0.5 }
      if jit then jit.off() end               -- hooks do not run in compiled traces
      local task = iothub.spawn(function()
        local ok, err = pcall(function()
          raise_after_starts(2)
          return h:get_jobs(OTHERS, { concurrency = 4 })
        end)
        debug.sethook()
        local job, jerr = h:get_job(JOB)
        return ok, err, job, jerr
      end)
      drain()
      if jit then jit.on() end
      local ok, err, job, jerr = task:result()
      assert.is_false(ok)
      assert.are.equal("cut short", err)
      assert.is_truthy(job, tostring(jerr))
      assert.are.equal(JOB, job.jobId)
      h:close()
    end)

    it("finishes a task that died with requests in flight once, and drops their results", function()
      local h = hub()
      local ended = 0
      H.fault { fault = "stall", path = "/jobs/v2/fixture-method-1", seconds = 0.2 }
      if jit then jit.off() end
      local dead = iothub.spawn { function()
        raise_after_starts(2)
        return h:get_jobs(OTHERS, { concurrency = 4 })
      end, on_done = function() ended = ended + 1 end }
      local other = iothub.spawn(function() return h:get_jobs({ JOB, "fixture-method-falsy" }) end)
      drain()
      if jit then jit.on() end
      assert.are.equal("cut short", dead.error)
      assert.are.equal(1, ended)
      assert.are.equal(0, iothub.pending())
      local results, errors = other:result()
      assert.are.same({}, errors)
      for id, job in pairs(results) do assert.are.equal(id, job.jobId) end
      assert.are.equal(2, (function() local n = 0 for _ in pairs(results) do n = n + 1 end return n end)())
      h:close()
    end)

    it("keeps each job under its own id in blocking get_jobs after a batch was cut short", function()
      -- A finalizer's error cuts the C batch short where finalizer errors
      -- propagate (Lua 5.1 to 5.3, LuaJIT; 5.4 only warns), with requests in
      -- flight; the next batch must not pick up their answers.
      if _VERSION == "Lua 5.4" then return end
      local h = hub()
      local ids = {}
      for i = 1, 40 do ids[i] = OTHERS[(i - 1) % #OTHERS + 1] .. (i > #OTHERS and ("-" .. i) or "") end
      for round = 1, 6 do
        local armed = true
        local function arm()
          local mt = { __gc = function() if armed then armed = false; error("finalizer " .. round) end end }
          if newproxy then
            local p = newproxy(true)               -- luacheck: ignore 113 (5.1 and LuaJIT)
            getmetatable(p).__gc = mt.__gc
          else
            setmetatable({}, mt)
          end
        end
        for _ = 1, 50 do arm() end
        collectgarbage("setpause", 10 + round * 10)
        pcall(h.get_jobs, h, ids, { concurrency = 8 })
        armed = false
        collectgarbage("setpause", 200)
        collectgarbage()
        local results, errors = h:get_jobs({ JOB, "fixture-method-1", "fixture-failed-1", "a/b" }, { concurrency = 8 })
        assert.are.same({}, errors, "round " .. round)
        for id, job in pairs(results) do assert.are.equal(id, job.jobId, "round " .. round) end
      end
      h:close()
    end)
  end)

  describe("creates", function()
    local function export(h)
      return h:export_devices { output_blob_container_uri = "https://acct.blob.example/out" }
    end

    it("go out once when their connection closes unanswered, even on a kept-alive connection", function()
      local h = hub()
      assert.is_truthy(h:get_job(JOB))          -- a connection to reuse
      assert.is_truthy(h:get_job(JOB))
      H.clear_requests()
      -- The service creates the job, the client never hears of it.
      H.fault { fault = "close", path = "/jobs/create", run = true }
      local job, err = export(h)
      assert.is_nil(job)
      assert.are.equal("transport", err.kind)
      assert.are.equal(1, count("/jobs/create"))
      -- Reads go on on a kept-alive connection.
      assert.are.equal(JOB, h:get_job(JOB).jobId)
      h:close()
    end)

    it("go out once with the default retry policy too", function()
      local h = H.hub()
      assert.is_truthy(h:get_job(JOB))
      H.clear_requests()
      H.fault { fault = "close", path = "/jobs/create", run = true }
      local job = export(h)
      assert.is_nil(job)
      assert.are.equal(1, count("/jobs/create"))
      h:close()
    end)

    it("do not change that a read on a dead kept-alive connection is resent", function()
      local h = hub()
      assert.is_truthy(h:get_job(JOB))
      H.clear_requests()
      H.fault { fault = "close", path = "/jobs/v2/" .. JOB }
      assert.are.equal(JOB, h:get_job(JOB).jobId)    -- libcurl resent it once
      assert.are.equal(2, count("/jobs/v2/" .. JOB))
      h:close()
    end)
  end)

  describe("a final answer before the upload ended", function()
    local big = '{"pad":"' .. string.rep("x", 4 * 1024 * 1024) .. '"}'
    local TARGET = "/jobs/v2/too-big?api-version=2021-04-12"

    it("is that HTTP error, and the request is not resent", function()
      local h = hub()
      assert.is_truthy(h:get_job(JOB))          -- the PUT goes on a reused connection
      H.clear_requests()
      H.fault { fault = "early_answer", path = "/jobs/v2/too-big", status = 413, message = "too large" }
      local value, err = h.client:request("PUT", TARGET, nil, big)
      assert.is_nil(value)
      assert.are.equal("http", err.kind, tostring(err))
      assert.are.equal(413, err.status)
      assert.are.equal(1, count("/jobs/v2/too-big"))
      assert.are.equal(JOB, h:get_job(JOB).jobId)
      h:close()
    end)

    it("is that HTTP error in get_jobs-style batches too", function()
      local h = hub()
      H.fault { fault = "early_answer", path = "/jobs/v2/too-big", status = 413, times = 0 }
      local values, errors = h.client:request_many({ { "PUT", TARGET, nil, big }, { "GET", "/jobs/v2/" .. JOB
        .. "?api-version=2021-04-12" } }, 2)
      assert.are.equal(413, errors[1] and errors[1].status, tostring(errors[1]))
      assert.are.equal(JOB, values[2] and values[2].jobId)
      assert.are.equal(1, count("/jobs/v2/too-big"))
      h:close()
    end)
  end)

  describe("errors", function()
    it("say a header block is too large, without a curl_code", function()
      local h = hub()
      H.fault { fault = "error", path = "/jobs/v2/" .. JOB, status = 404,
        headers = { ["x-big"] = string.rep("h", 60000), ["x-big2"] = string.rep("i", 60000),
          ["x-big3"] = string.rep("j", 60000), ["x-big4"] = string.rep("k", 60000),
          ["x-big5"] = string.rep("l", 60000) } }
      local job, err = h:get_job(JOB)
      assert.is_nil(job)
      assert.are.equal("transport", err.kind)
      assert.are.equal("HeadersTooLarge", err.code)
      assert.matches("header", err.message)
      assert.not_matches("max_response_size", err.message)
      assert.is_nil(err.curl_code)
      assert.are.equal(JOB, h:get_job(JOB).jobId)
      h:close()
    end)

    it("say a header line is too large when libcurl's own line limit stops it", function()
      local h = hub()
      H.fault { fault = "error", path = "/jobs/v2/" .. JOB, status = 404,
        headers = { ["x-big"] = string.rep("h", 150000) } }
      local job, err = h:get_job(JOB)
      assert.is_nil(job)
      assert.are.equal("transport", err.kind)
      assert.are.equal("HeadersTooLarge", err.code, tostring(err))
      assert.matches("header", err.message)
      assert.is_number(err.curl_code)            -- libcurl failed here
      assert.are.equal(JOB, h:get_job(JOB).jobId)
      h:close()
    end)

    it("carry no curl_code for a body over max_response_size, and one when libcurl failed", function()
      local h = hub { max_response_size = 1024 }
      H.fault { fault = "oversize", path = "/jobs/v2/" .. JOB, bytes = 4096 }
      local _, err = h:get_job(JOB)
      assert.are.equal("ResponseTooLarge", err.code)
      assert.is_nil(err.curl_code)
      h:close()
      local dead = hub { endpoint = "https://127.0.0.1:1", connect_timeout = 2 }
      _, err = dead:get_job(JOB)
      assert.are.equal("ConnectFailed", err.code)
      assert.are.equal(7, err.curl_code)
      dead:close()
    end)
  end)

  describe("secrets", function()
    -- A child Lua with spec/fixtures/freecheck.c preloaded counts the blocks
    -- the core frees or reallocs while they still hold a SAS token: a long
    -- extra header makes the request's header block outgrow its first
    -- allocation, which realloc would hand back unwiped.
    local SHIM = "build/freecheck.so"
    local SCRIPT = [[
      local H = require("helpers")
      local h = H.hub { retry = false }
      local long = { ["x-ms-continuation"] = string.rep("c", 3000) }
      local target = "/jobs/v2/fixture-twin-1?api-version=2021-04-12"
      for _ = 1, 3 do assert(h.client:request("GET", target, long)) end
      assert(h.client:request("GET", target))
      local values = h.client:request_many({ { "GET", target, long }, { "GET", target } }, 2)
      assert(values[1] and values[2])
      assert(h.client:prepare("GET", target, long))
      h:close()
      -- a signature given twice: the first one is replaced
      local sig = "SharedAccessSignature sr=h&sig=s&se=4102444800&skn=k"   -- 2100: not expired
      local c = assert(require("iothub.core").client("HostName=h;SharedAccessSignature=" .. sig
        .. ";SharedAccessSignature=" .. sig, { endpoint = H.url, ca_file = H.ca_file }))
      c:close()
      collectgarbage()
    ]]

    it("are wiped from every block the core gives back, grown ones included", function()
      -- A sanitizer run brings its own allocator (and a core the child could not load alone).
      if os.getenv("LD_PRELOAD") or os.getenv("ASAN_OPTIONS") then return end
      local built = os.execute("cc -shared -fPIC -O1 -o " .. SHIM .. " spec/fixtures/freecheck.c -ldl")
      assert.is_true(built == true or built == 0, "cannot build " .. SHIM)
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write(SCRIPT)
      f:close()
      local p = assert(io.popen("LD_PRELOAD=" .. SHIM .. " FREECHECK_MARKER='SharedAccessSignature sr=' "
        .. H.lua .. " " .. path .. " 2>&1; echo exit=$?"))
      local out = p:read("*a")
      p:close()
      os.remove(path)
      assert.truthy(out:find("exit=0", 1, true), out)
      assert.truthy(out:find("freecheck: 0\n", 1, true), out)
    end)
  end)

  it("count client:stats() in integers on Lua 5.3+", function()
    local h = hub()
    assert.is_truthy(h:get_job(JOB))
    h:get_jobs { JOB, "a/b" }
    local stats = h.client:stats()
    for _, name in ipairs { "signatures", "requests", "connections" } do
      assert.are.equal("number", type(stats[name]), name)
      if math.type then assert.are.equal("integer", math.type(stats[name]), name) end
    end
    assert.are.equal(3, stats.requests)
    h:close()
  end)
end)
