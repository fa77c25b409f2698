-- spec/framing_cases.lua: the HTTP/1.1 framing cases that every reader of
-- the project must pass, shared by spec/24-http_framing_spec.lua (the core,
-- libcurl being the reference) and spec/28-nginx_framing_spec.lua (nginx
-- cosockets with the core's codec, src/http1.c), and the call sequence both
-- run, here so that nginx's handler runs the very same code. Plain Lua: it
-- also loads inside nginx (LuaJIT).
local iothub = require("iothub")

local M = {}

M.JOB = "fixture-twin-1"
M.JOB_PATH = "/jobs/v2/" .. M.JOB
M.QUERY_PATH = "/jobs/v2/query"

-- The exact size of the 100-job page, from its Content-Length, read with
-- hub's client (closed after).
function M.page_size_bytes(hub)
  local _, headers = hub.client:request("GET", M.QUERY_PATH .. "?api-version=2020-05-31-preview",
    { ["x-ms-max-item-count"] = "100" })
  hub:close()
  return assert(tonumber(headers["content-length"]))
end

-- Headers that are new in every answer, whatever its framing.
M.FRESH = { date = true, ["x-ms-request-id"] = true }

-- A header an answer may have or not (libcurl hands chunked trailers over
-- among the headers; a reader need not): { value it has when it is there }.
function M.optional(value) return { value } end
local optional = M.optional

-- Legal but unusual framings of the real answer (tools/emulator/README.md,
-- "Fault injection"). Each kind: its rule, how the headers differ from the
-- plain answer's (a string: this value; false: absent; optional(v)),
-- whether the connection is kept for the next call, and how long to wait
-- before that call.
M.KINDS = {
  { "chunked", { fault = "chunked" }, { ["content-length"] = false, ["transfer-encoding"] = "chunked" }, keep = true },
  { "chunked, 1-byte chunks with extensions and trailers",
    { fault = "chunked", chunk_size = 1, extensions = true, trailers = true },
    { ["content-length"] = false, ["transfer-encoding"] = "chunked", trailer = "x-fault-trailer",
      ["x-fault-trailer"] = optional("done") }, keep = true },
  { "chunked, 26-byte chunks (size 1a)", { fault = "chunked", chunk_size = 26 },
    { ["content-length"] = false, ["transfer-encoding"] = "chunked" }, keep = true },
  { "chunked, sizes like 00FF", { fault = "chunked", chunk_size = 255, odd_sizes = true },
    { ["content-length"] = false, ["transfer-encoding"] = "chunked" }, keep = true },
  { "chunked, one chunk", { fault = "chunked", chunk_size = 1024 * 1024 },
    { ["content-length"] = false, ["transfer-encoding"] = "chunked" }, keep = true },
  { "dripped a byte at a time", { fault = "drip", piece = 1, delay_ms = 0 }, {}, keep = true },
  { "dripped 2 bytes at a time", { fault = "drip", piece = 2, delay_ms = 0 }, {}, keep = true },
  { "with Connection: close", { fault = "connection_close" }, { connection = "close" }, keep = false },
  { "as HTTP/1.0 ended by the close", { fault = "http10" }, { ["content-length"] = false }, keep = false },
  { "without a length, ended by the close", { fault = "no_length" },
    { ["content-length"] = false, connection = "close" }, keep = false },
  { "after a 100 Continue", { fault = "informational" }, {}, keep = true },
  { "after a 103 Early Hints with a Link", { fault = "informational", status = 103 }, {}, keep = true },
  { "then closed once idle", { fault = "idle_close", after_ms = 50 }, {}, keep = false, wait = 0.3 },
  { "with odd header case, padded values and a duplicate header", { fault = "header_case" },
    { ["cache-control"] = "no-cache" }, keep = true },
  { "with junk after it in the same write", { fault = "garbage_after" }, {}, keep = false },
}

-- Base64, for the raw fault's bytes.
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local q = {}
    for k = 1, 4 do
      local idx = math.floor(n / 64 ^ (4 - k)) % 64
      q[k] = B64:sub(idx + 1, idx + 1)
    end
    if not b then q[3], q[4] = "=", "=" elseif not c then q[4] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end

-- Broken framings (and a trickle), answered to a get_job. Each: a name,
-- the rule, the hub's options, and what the nginx codec must answer. The
-- core's own reader refuses the same (or reads leniently to a decode
-- error, as libcurl does: `core_kinds`); a value never comes back.
local BODY = '{"jobId":"fixture-twin-1","status":"completed"}'
local function raw(head_lines, body)
  return { fault = "raw", data_b64 = M.base64("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    .. head_lines .. "\r\n" .. body) }
end
local PROTOCOL = { kind = "transport", code = "TransportError", retryable = false }
local TOO_LARGE = { kind = "transport", code = "ResponseTooLarge", retryable = false }
-- libcurl reads "0x10" as 0, "1e1" as 1, "16.5" as 16 and takes the last
-- of two lengths: its answers are then short, so they fail to decode.
local LENIENT = { transport = true, decode = true }

M.FAULTS = {
  { "two different Content-Lengths", raw("Content-Length: " .. #BODY .. "\r\nContent-Length: 5\r\n", BODY),
    want = PROTOCOL, core_kinds = LENIENT },
  { "a Content-Length of 0x10", raw("Content-Length: 0x10\r\n", BODY), want = PROTOCOL, core_kinds = LENIENT },
  { "a Content-Length of 1e1", raw("Content-Length: 1e1\r\n", BODY), want = PROTOCOL, core_kinds = LENIENT },
  { "a Content-Length of 16.5", raw("Content-Length: 16.5\r\n", BODY), want = PROTOCOL, core_kinds = LENIENT },
  { "chunk data not followed by CRLF", raw("Transfer-Encoding: chunked\r\n",
      "5\r\n" .. BODY:sub(1, 5) .. "XX" .. ("%x"):format(#BODY - 5) .. "\r\n" .. BODY:sub(6) .. "\r\n0\r\n\r\n"),
    want = PROTOCOL, core_kinds = { transport = true } },
  -- libcurl refuses a line over 100 KiB ("Out of memory", TransportError);
  -- the core's own reader bounds only the block.
  { "a 150 KiB header line", raw("X-Long: " .. ("a"):rep(150 * 1024) .. "\r\nContent-Length: " .. #BODY .. "\r\n",
      BODY), want = TOO_LARGE, core_kinds = { transport = true }, core_may_read = true },
  { "a 300 KiB header block", raw(("X-Many: " .. ("b"):rep(1000) .. "\r\n"):rep(300)
      .. "Content-Length: " .. #BODY .. "\r\n", BODY), want = TOO_LARGE, core_kinds = { transport = true } },
  -- About 1.5 KB a byte every 20 ms: 30 s of trickle against a 1 s timeout.
  { "trickled a byte every 20 ms", { fault = "drip", piece = 1, delay_ms = 20 }, timeout = 1,
    want = { kind = "timeout", code = "Timeout", retryable = true }, core_kinds = { timeout = true } },
}

-- Deep equality of plain values.
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.same = same

local function error_fields(err)
  if type(err) ~= "table" then return { message = tostring(err) } end
  local out = {}
  for _, k in ipairs { "kind", "status", "code", "error_code", "message", "retryable" } do out[k] = err[k] end
  return out
end
M.error_fields = error_fields

-- value, its response headers (iothub.response) | nil, err
local function with_headers(value, err)
  if value == nil then return nil, err end
  return value, iothub.response(value).headers
end

-- The calls checked under each kind: call(hub, tag, n) -> value, headers
-- | nil, err; the path prefix the fault matches. A created job's id is
-- made the same for every call (tag and n keep the real ids apart), so
-- two creates compare.
M.CALLS = {
  get_job = { path = M.JOB_PATH, call = function(h) return with_headers(h:get_job(M.JOB)) end },
  query = { path = M.QUERY_PATH, no_headers = true, call = function(h)
    local page, err = h:query_jobs { type = "scheduleDeviceMethod", page_size = 20 }
    return page, page and {} or err
  end },
  create = { path = "/jobs/v2/framing-", call = function(h, tag, n)
    local job, headers = with_headers(h:schedule_twin_update { job_id = "framing-" .. tag .. "-" .. n,
      query_condition = "tags.site = 'paris'", twin = { tags = { ring = "beta" } },
      start_time = "2030-01-01T00:00:00Z", max_execution_time = 600 })
    if job then job.jobId = "framing-N" end
    return job, headers
  end },
  error = { path = "/jobs/v2/no-such-job", call = function(h) return h:get_job("no-such-job") end },
  page = { path = M.QUERY_PATH, call = function(h)
    local page, err = h:query_jobs { page_size = 100 }
    return page and #page.items, page and {} or err
  end },
}
M.CALL_ORDER = { "get_job", "query", "create", "error" }

-- How got's headers differ from want's, fresh ones aside: { name = value
-- or false when gone }.
local function header_changes(want, got)
  local changes = {}
  for k, v in pairs(got or {}) do
    if not M.FRESH[k] and want[k] ~= v then changes[k] = v end
  end
  for k in pairs(want or {}) do
    if not M.FRESH[k] and (got or {})[k] == nil then changes[k] = false end
  end
  return changes
end

-- Runs `name` three times on hub h (the fault, scripted with skip = 1,
-- meets the second), sleeping `opts.wait` before the third, and sums up
-- what happened in plain data: { calls = { { ok, same (as the first's
-- value), header_changes, err, took }, ... }, new_connections }. opts: tag,
-- sleep(seconds), wait, times (default 3), clock() for `took` (seconds).
function M.sequence(h, name, opts)
  local c = assert(M.CALLS[name], name)
  local calls, first, after_first = {}, nil, 0
  for n = 1, opts.times or 3 do
    if n == 3 and opts.wait then opts.sleep(opts.wait) end
    local started = opts.clock and opts.clock()
    local value, headers = c.call(h, opts.tag, n)
    local s = { ok = value ~= nil, took = opts.clock and opts.clock() - started }
    if value == nil then
      s.err = error_fields(headers)
    elseif n == 1 then
      first = { value = value, headers = headers }
      if type(value) ~= "table" then s.value = value end
    elseif first then
      s.same = same(first.value, value)
      if not c.no_headers then s.header_changes = header_changes(first.headers, headers) end
    end
    calls[n] = s
    if n == 1 then after_first = h:stats().connections end
  end
  -- Connections made after the first call: under nginx the first may take
  -- one another hub left in the worker's pool.
  return { calls = calls, new_connections = h:stats().connections - after_first }
end

return M
