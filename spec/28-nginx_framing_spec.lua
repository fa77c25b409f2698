-- HTTP/1.1 framing under nginx: every framing of spec 24 (shared through
-- spec/framing_cases.lua), the broken framings the old Lua reader let
-- through (two lengths, "0x10", "1e1", "16.5", a chunk without its CRLF),
-- oversized header lines and blocks, a server trickling bytes against the
-- timeout, and max_response_size, each through a real nginx whose handler
-- reads with cosockets and the core's codec (src/http1.c), and through the
-- core client in this process (libcurl being the reference). Both must come
-- to the same outcome: the same values, header changes, errors and
-- connection reuse. Skipped (pending) only when nginx or its Lua module is
-- not installed.
local core = require("iothub.core")
local H = require("helpers")
local cases = require("framing_cases")
local nginx_server = require("nginx_server")

local JOB_PATH, QUERY_PATH = cases.JOB_PATH, cases.QUERY_PATH

local copy = H.copy

local count = H.count_requests

-- The summary without the timings, which differ.
local function untimed(summary)
  local out = copy(summary)
  out.calls = {}
  for i, c in ipairs(summary.calls) do out.calls[i] = copy(c, { took = false }) end
  return out
end

local function query(params)
  local parts = {}
  for k, v in pairs(params) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  table.sort(parts)
  return table.concat(parts, "&")
end

local nginx                 -- the running server (spec/nginx_server.lua)

-- GET path on nginx -> the decoded JSON answer of a 200.
local function get(path)
  local value, err = nginx.client:request("GET", path)
  if value then return value end
  if not err.status then nginx:check() end
  error("nginx answered " .. tostring(err) .. " for " .. path .. "\n" .. nginx:error_log():sub(-2000))
end

-- The sequence of framing_cases.lua on both paths, the emulator reset and
-- the fault scripted afresh for each: { core = summary, nginx = summary }.
-- params: call, wait, times, timeout, max_response_size.
local function both(rule, params)
  local out = {}
  for _, path in ipairs { "core", "nginx" } do
    H.reset()
    H.clock { speed = 0 }   -- created jobs' times stay put
    if rule then H.fault(rule) end
    local p = copy(params, { tag = path })
    if path == "core" then
      local h = H.hub { retry = false, timeout = p.timeout, max_response_size = p.max_response_size }
      out.core = cases.sequence(h, p.call, { tag = p.tag, wait = p.wait, times = p.times,
        sleep = core.sleep, clock = core.monotonic })
      h:close()
    else
      out.nginx = get("/framing?" .. query(p))
    end
    out[path].faults = rule and H.faults()[1].hits
    out[path].requests = rule and count(rule.path)
  end
  return out
end

local function describe_result(r)
  return require("iothub.json").encode(r)
end

-- spec 24's header check: got's changes are the kind's (optional ones may be absent).
local function check_changes(expected, got, what)
  local want = {}
  for k, v in pairs(expected) do
    if type(v) == "table" then
      if got[k] ~= nil then want[k] = v[1] end
    else
      want[k] = v
    end
  end
  assert.are.same(want, got, what)
end

describe("HTTP/1.1 framing under nginx (cosockets and the core's codec), as in the core", function()
  local missing = nginx_server.missing()
  if missing then
    pending("skipped: " .. missing .. " (tools/install-deps installs it)")
    return
  end

  setup(function()
    H.reset()
    nginx = nginx_server.start("framing", "spec/fixtures/openresty/nginx.conf.in", {
      probe = "/fast",
      env = function(v) return { IOTHUB_SPEC_TLS_URL = "https://127.0.0.1:" .. v.TLS_PORT } end,
    })
  end)
  teardown(function()
    if nginx then nginx:stop() end
  end)
  before_each(function() H.reset() end)
  after_each(function() H.reset() end)

  for _, kind in ipairs(cases.KINDS) do
    local name, rule, changes = kind[1], kind[2], kind[3]
    for _, call in ipairs(cases.CALL_ORDER) do
      local c = cases.CALLS[call]
      it("reads " .. call .. " " .. name, function()
        local r = both(copy(rule, { path = c.path, skip = 1 }), { call = call, wait = kind.wait })
        local what = describe_result(r)
        for _, path in ipairs { "core", "nginx" } do
          local s = r[path]
          -- The fault met the second call, once, and no one resent a request.
          assert.are.equal(1, s.faults, path .. " " .. what)
          assert.are.equal(3, s.requests, path .. " " .. what)
          if call == "error" then
            assert.are.equal("JobNotFound", s.calls[1].err.code, what)
            assert.are.same(s.calls[1].err, s.calls[2].err, path .. " " .. what)
          else
            assert.is_true(s.calls[1].ok, what)
            assert.is_true(s.calls[2].same, path .. " " .. what)
            if not c.no_headers then check_changes(changes, s.calls[2].header_changes, path .. " " .. what) end
          end
          assert.is_true(s.calls[3].ok and (call == "error" or s.calls[3].same) or call == "error", what)
          assert.are.equal(kind.keep and 0 or 1, s.new_connections,
            path .. (kind.keep and ": the connection was kept" or ": the connection was replaced") .. " " .. what)
        end
        assert.are.same(untimed(r.core), untimed(r.nginx))
      end)
    end
  end

  for _, f in ipairs(cases.FAULTS) do
    it("refuses " .. f[1] .. " and goes on", function()
      local r = both(copy(f[2], { path = JOB_PATH }), { call = "get_job", times = 2, timeout = f.timeout })
      local what = describe_result(r)
      local got, ref = r.nginx.calls[1], r.core.calls[1]
      assert.is_false(got.ok, what)
      for k, v in pairs(f.want) do assert.are.equal(v, got.err[k], k .. " " .. what) end
      assert.is_nil(got.err.message:find("max_response_size", 1, true), what)
      if not (f.core_may_read and ref.ok) then
        assert.is_false(ref.ok, what)
        assert.is_true(f.core_kinds[ref.err.kind] == true, what)
      end
      if f.want.kind == "timeout" then
        -- The timeout bounds the whole request, however slowly bytes come.
        for _, s in ipairs { got, ref } do assert.is_true(s.took < f.timeout + 0.75, what) end
      end
      -- The next call, on a fresh connection, reads the job.
      assert.is_true(r.nginx.calls[2].ok, what)
      assert.is_true(r.core.calls[2].ok, what)
    end)
  end

  it("never shows a password from the endpoint URL in an error", function()
    local r = get("/userinfo")
    assert.is_nil(r.job)
    assert.is_nil(r.status)
    assert.is_false(r.shows, r.error.text .. " / " .. r.send_error.text)
    assert.are.equal("config", r.error.kind, r.error.text)
    assert.are.equal("config", r.send_error.kind, r.send_error.text)
    assert.truthy(r.send_error.message:find("://***@", 1, true), r.send_error.text)
  end)

  -- A kept-alive connection the server closes without answering: a read is
  -- sent again on a new one; a create never is (it may have started a job).
  it("resends a read, never a create, when a reused connection closes without an answer", function()
    H.fault { fault = "close", method = "GET", path = JOB_PATH, skip = 1 }
    local r = get("/reused?call=get_job")
    assert.is_true(r.ok, r.error and r.error.text)
    assert.are.equal(3, count(JOB_PATH))
    H.reset()
    H.fault { fault = "close", method = "POST", path = "/jobs/create" }
    r = get("/reused?call=export")
    assert.is_false(r.ok)
    assert.are.equal("ConnectionLost", r.error.code, r.error.text)
    assert.are.equal(1, count("/jobs/create"))
  end)

  describe("max_response_size", function()
    local function page_size_bytes() return cases.page_size_bytes(H.hub { retry = false }) end

    for _, rule in ipairs {
      { fault = "chunked" }, { fault = "chunked", chunk_size = 65536 }, { fault = "http10" },
      { fault = "no_length" }, { fault = "drip", piece = 4096, delay_ms = 0 },
    } do
      local label = rule.fault .. (rule.chunk_size and " " .. rule.chunk_size or "")
      it("cuts off a " .. label .. " page one byte over the limit, and takes it at the limit", function()
        local size = page_size_bytes()
        local r = both(copy(rule, { path = QUERY_PATH }), { call = "page", times = 2, max_response_size = size - 1 })
        local what = describe_result(r)
        assert.are.equal("ResponseTooLarge", r.nginx.calls[1].err.code, what)
        assert.is_false(r.nginx.calls[1].err.retryable, what)
        assert.are.same(untimed(r.core), untimed(r.nginx))
        r = both(copy(rule, { path = QUERY_PATH }), { call = "page", times = 1, max_response_size = size })
        assert.are.equal(100, r.nginx.calls[1].value, describe_result(r))
        assert.are.same(untimed(r.core), untimed(r.nginx))
      end)
    end
  end)
end)
