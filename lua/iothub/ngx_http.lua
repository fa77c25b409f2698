-- iothub.ngx_http: a small HTTP/1.1 client on nginx cosockets, for requests
-- the C core prepared (signed) and will decode. It connects (TLS verified
-- against lua_ssl_trusted_certificate unless verify = false), sends, reads
-- a Content-Length, chunked or until-close body bounded by
-- max_response_size, and parks the connection in nginx's keep-alive pool.
-- Failures are the core's error tables (kind "transport" or "timeout").
local core = require("iothub.core")

local M = {}

local tonumber, tostring, concat, lower, max, ceil = tonumber, tostring, table.concat, string.lower, math.max, math.ceil
local pairs, type = pairs, type
local setmetatable = setmetatable

local KEEPALIVE_MS = 60000           -- idle time of a pooled connection
local POOL_SIZE = 64                 -- pooled connections per host, port and verify flag
local MAX_HEADER_BYTES = 256 * 1024  -- as the libcurl transport
local READ_CHUNK = 16384

local Http = {}
local mt = { __index = Http }

-- opts: timeout, connect_timeout (seconds), verify, user_agent, max_response_size.
function M.new(opts)
  return setmetatable({
    timeout = opts.timeout or 30,
    connect_timeout = opts.connect_timeout or 10,
    verify = opts.verify ~= false,
    user_agent = opts.user_agent,
    max_size = opts.max_response_size or 16 * 1024 * 1024,
    requests = 0,
    connections = 0,
  }, mt)
end

-- "https://host:port/path?q" -> scheme, host, port, authority, target
local function split_url(url)
  local scheme, authority, target = url:match("^(https?)://([^/?#]+)(.*)$")
  if not scheme then return nil end
  local host, port = authority:match("^%[(.+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if target == "" then target = "/" elseif target:sub(1, 1) == "?" then target = "/" .. target end
  return scheme, host, port, authority, target
end
M.split_url = split_url

local function is_ip(host)
  return host:match("^%d+%.%d+%.%d+%.%d+$") ~= nil or host:find(":", 1, true) ~= nil
end

-- The core's codes and retryable flags for what a cosocket call reported.
local function failure(rid, what, err, code)
  if err == "timeout" then
    return core.error("timeout", what .. " timed out", { code = "Timeout", retryable = true, request_id = rid })
  end
  local retryable = code == "ConnectFailed" or code == "ConnectionLost"
  return core.error("transport", what .. " failed: " .. tostring(err),
    { code = code, retryable = retryable, request_id = rid })
end

-- Time left of the whole request, in whole ms for settimeouts (at least 1).
local function left_ms(deadline)
  ngx.update_time()
  return max(1, ceil((deadline - ngx.now()) * 1000))
end

-- Gives every following socket operation what is left of the request's time.
local function set_deadline(sock, deadline)
  local ms = left_ms(deadline)
  sock:settimeouts(ms, ms, ms)
end

local function connect(self, sock, scheme, host, port, rid)
  local pool = host .. ":" .. port .. (scheme == "https" and (self.verify and ":tls" or ":tls-noverify") or "")
  local ok, err = sock:connect(host, port, { pool = pool, pool_size = POOL_SIZE })
  if not ok then
    local code = err and (err:find("resolve", 1, true) or err:find("resolver", 1, true)) and "ResolveFailed"
      or "ConnectFailed"
    return nil, failure(rid, "connect to " .. host .. ":" .. port, err, code)
  end
  local fresh = sock:getreusedtimes() == 0
  if fresh then self.connections = self.connections + 1 end
  if scheme == "https" and fresh then
    -- SNI and the name check take DNS names only: for an IP address nginx
    -- verifies the chain alone (it cannot match IP subjectAltNames).
    local session, herr = sock:sslhandshake(nil, not is_ip(host) and host or nil, self.verify)
    if not session then
      sock:close()
      -- Verification failures read "18: self-signed certificate" (the X509
      -- verify code) or "certificate host mismatch".
      local code = (herr and (herr:find("^%d+: ") or herr:find("verify", 1, true) or herr:find("mismatch", 1, true)))
        and "TlsVerifyFailed" or "TlsHandshakeFailed"
      return nil, failure(rid, "TLS handshake with " .. host .. ":" .. port, herr, code)
    end
  end
  return fresh
end

-- Reads the status line and headers: status, headers (lowercase names),
-- HTTP version | nil, err (a table, or the cosocket's message), partial
-- (whether any response byte had arrived).
local function read_head(sock, rid)
  local status, headers, size, version
  repeat
    local line, err = sock:receive("*l")
    if not line then return nil, err, false end
    version, status = line:match("^HTTP/(%d%.%d) (%d%d%d)")
    status = tonumber(status)
    if not status then
      return nil, failure(rid, "reading the response", "bad status line", "ConnectionLost"), true
    end
    headers, size = {}, #line
    while true do
      line, err = sock:receive("*l")
      if not line then return nil, err, true end
      if line == "" then break end
      size = size + #line
      if size > MAX_HEADER_BYTES then
        return nil, failure(rid, "reading the response headers", "more than 256 KiB", "ResponseTooLarge"), true
      end
      local name, value = line:match("^([^:]+):[ \t]*(.-)[ \t]*$")
      if name then headers[lower(name)] = value end
    end
  until status >= 200                       -- 1xx interim answers are skipped
  return status, headers, version
end

local function too_large(self, rid)
  return nil, core.error("transport", "response body larger than max_response_size (" .. self.max_size .. " bytes)",
    { code = "ResponseTooLarge", retryable = false, request_id = rid })
end

local function read_chunked(self, sock, rid)
  local parts, total = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, failure(rid, "reading the response body", err, "ConnectionLost") end
    local hex = line:match("^%s*(%x+)")
    local size = hex and tonumber(hex, 16)
    if not size then return nil, failure(rid, "reading the response body", "bad chunk size", "ConnectionLost") end
    if size == 0 then break end
    total = total + size
    if total > self.max_size then return too_large(self, rid) end
    local data
    data, err = sock:receive(size)
    if not data then return nil, failure(rid, "reading the response body", err, "ConnectionLost") end
    parts[#parts + 1] = data
    data, err = sock:receive(2)
    if not data then return nil, failure(rid, "reading the response body", err, "ConnectionLost") end
  end
  repeat                                    -- trailers, up to the empty line
    local line, err = sock:receive("*l")
    if not line then return nil, failure(rid, "reading the response trailers", err, "ConnectionLost") end
  until line == ""
  return concat(parts)
end

local function read_until_close(self, sock, rid)
  local parts, total = {}, 0
  while true do
    local data, err = sock:receiveany(READ_CHUNK)
    if not data then
      if err == "closed" then break end
      return nil, failure(rid, "reading the response body", err, "ConnectionLost")
    end
    total = total + #data
    if total > self.max_size then return too_large(self, rid) end
    parts[#parts + 1] = data
  end
  return concat(parts)
end

-- The body of a response: body, keep (whether the connection may be reused) | nil, err
local function read_body(self, sock, method, status, headers, version, rid)
  local connection = headers.connection and headers.connection:lower() or ""
  local keep = not connection:find("close", 1, true)
    and (version ~= "1.0" or connection:find("keep-alive", 1, true) ~= nil)
  if method == "HEAD" or status == 204 or status == 304 then return "", keep end
  local te = headers["transfer-encoding"]
  if te and te:lower():find("chunked", 1, true) then
    local body, err = read_chunked(self, sock, rid)
    return body, body and keep or err
  end
  local length = headers["content-length"]
  if length then
    length = tonumber(length)
    if not length or length < 0 then
      return nil, failure(rid, "reading the response", "bad Content-Length", "ConnectionLost")
    end
    if length > self.max_size then return too_large(self, rid) end
    if length == 0 then return "", keep end
    local body, err = sock:receive(length)
    if not body then return nil, failure(rid, "reading the response body", err, "ConnectionLost") end
    return body, keep
  end
  local body, err = read_until_close(self, sock, rid)
  return body, body and false or err
end

-- One attempt on one connection. Returns status, headers, body | nil, err,
-- retry (true when a reused connection failed before any response byte:
-- the server closed it while idle, so a fresh one may be tried).
local function attempt(self, req, scheme, host, port, authority, target)
  local rid = req.request_id
  ngx.update_time()
  local deadline = ngx.now() + self.timeout
  local sock = ngx.socket.tcp()
  sock:settimeouts(ceil(self.connect_timeout * 1000), ceil(self.timeout * 1000), ceil(self.timeout * 1000))
  local fresh, cerr = connect(self, sock, scheme, host, port, rid)
  if fresh == nil then return nil, cerr end
  local body = req.body or ""
  local lines = { req.method, " ", target, " HTTP/1.1\r\nHost: ", authority, "\r\n" }
  if self.user_agent then lines[#lines + 1] = "User-Agent: " .. self.user_agent .. "\r\n" end
  for name, value in pairs(req.headers or {}) do
    local l = lower(name)
    if l ~= "host" and l ~= "content-length" and l ~= "connection" and l ~= "user-agent" then
      lines[#lines + 1] = name .. ": " .. value .. "\r\n"
    end
  end
  if req.method ~= "GET" and req.method ~= "HEAD" or #body > 0 then
    lines[#lines + 1] = "Content-Length: " .. #body .. "\r\n"
  end
  lines[#lines + 1] = "Connection: keep-alive\r\n\r\n"
  lines[#lines + 1] = body
  self.requests = self.requests + 1
  local ok, serr = sock:send(lines)
  if not ok then
    sock:close()
    return nil, failure(rid, "sending the request", serr, "ConnectionLost"), not fresh and serr ~= "timeout"
  end
  set_deadline(sock, deadline)
  local status, headers, version = read_head(sock, rid)
  if not status then
    local partial = version
    sock:close()
    if type(headers) == "table" then return nil, headers end
    return nil, failure(rid, "reading the response", headers, "ConnectionLost"),
      not fresh and not partial and headers == "closed"
  end
  set_deadline(sock, deadline)
  local resp_body, keep = read_body(self, sock, req.method, status, headers, version, rid)
  if not resp_body then
    sock:close()
    return nil, keep
  end
  if keep == true then
    sock:setkeepalive(KEEPALIVE_MS, POOL_SIZE)
  else
    sock:close()
  end
  return status, headers, resp_body
end

-- http:send(prepared) -> status, headers, body | nil, err, where prepared
-- is what core_client:prepare returned ({ method, url, headers, body, request_id }).
function Http:send(req)
  local scheme, host, port, authority, target = split_url(req.url)
  if not scheme then
    return nil, core.error("config", "cannot send to URL " .. tostring(req.url), { request_id = req.request_id })
  end
  local status, headers, body = attempt(self, req, scheme, host, port, authority, target)
  if not status and body == true then
    status, headers, body = attempt(self, req, scheme, host, port, authority, target)
  end
  return status, headers, body
end

return M
