-- iothub.ngx_http: sends requests the C core prepared (signed) over nginx
-- cosockets. This file keeps only the socket, TLS (verified against
-- lua_ssl_trusted_certificate unless verify = false), nginx's keep-alive
-- pool and one deadline for the whole request; every byte of HTTP is the
-- core's codec (core.http1_request, core.http1_reader: src/http1.c), whose
-- framing rules and limits bound what a server can make the worker hold.
-- Failures are the core's error tables (kind "config", "transport" or
-- "timeout"); a password in the endpoint URL never reaches one.
local core = require("iothub.core")

local M = {}

local tostring, tonumber, lower, max, min, ceil = tostring, tonumber, string.lower, math.max, math.min, math.ceil
local pairs, setmetatable = pairs, setmetatable

local KEEPALIVE_MS = 60000           -- idle time of a pooled connection
local POOL_SIZE = 64                 -- pooled connections per host, port and verify flag
local READ_CHUNK = 16384             -- the most one receive hands the reader

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

-- The URL with any user info ("user:password@") masked, for messages.
local function redact(url)
  return (tostring(url):gsub("^([%a][%w+.-]*://)[^/?#]*@", "%1***@"))
end
M.redact = redact

-- "https://host:port/path?q" -> scheme, host, port, authority, target.
-- nil for anything else, user info ("user:pass@host") included.
local function split_url(url)
  local scheme, authority, target = url:match("^(https?)://([^/?#]+)(.*)$")
  if not scheme or authority:find("@", 1, true) then return nil end
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

local function timed_out(rid, self, received)
  return core.error("timeout", ("Operation timed out after %d milliseconds with %d bytes received")
    :format(ceil(self.timeout * 1000), received or 0), { code = "Timeout", retryable = true, request_id = rid })
end

-- The core's codes and retryable flags for what a cosocket call reported.
local function failure(rid, what, err, code)
  local retryable = code == "ConnectFailed" or code == "ConnectionLost"
  return core.error("transport", what .. " failed: " .. tostring(err),
    { code = code, retryable = retryable, request_id = rid })
end

-- Milliseconds left before the deadline (at least 1), or nil once it passed.
local function left_ms(deadline)
  ngx.update_time()
  local left = deadline - ngx.now()
  if left <= 0 then return nil end
  return max(1, ceil(left * 1000))
end

local function connect(self, sock, scheme, host, port, rid)
  local pool = host .. ":" .. port .. (scheme == "https" and (self.verify and ":tls" or ":tls-noverify") or "")
  local ok, err = sock:connect(host, port, { pool = pool, pool_size = POOL_SIZE })
  if not ok then
    if err == "timeout" then return nil, "timeout" end
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
      if herr == "timeout" then return nil, "timeout" end
      -- Verification failures read "18: self-signed certificate" (the X509
      -- verify code) or "certificate host mismatch".
      local code = (herr and (herr:find("^%d+: ") or herr:find("verify", 1, true) or herr:find("mismatch", 1, true)))
        and "TlsVerifyFailed" or "TlsHandshakeFailed"
      return nil, failure(rid, "TLS handshake with " .. host .. ":" .. port, herr, code)
    end
  end
  return fresh
end

-- Reads one response into a reader until it is complete, each receive
-- given only what is left of the request's time, so a server trickling
-- bytes cannot stretch it. Returns reader | nil, err.
local function receive(self, sock, reader, deadline, rid)
  while true do
    local ms = left_ms(deadline)
    if not ms then return nil, timed_out(rid, self, reader:received()) end
    sock:settimeouts(ms, ms, ms)
    local data, err = sock:receiveany(READ_CHUNK)
    local done, rerr
    if data then
      done, rerr = reader:feed(data)
    elseif err == "closed" then
      done, rerr = reader:eof()
    elseif err == "timeout" then
      return nil, timed_out(rid, self, reader:received())
    else
      return nil, failure(rid, "reading the response", err, "ConnectionLost")
    end
    if done == nil then
      rerr.request_id = rid
      return nil, rerr
    end
    if done then return reader end
  end
end

-- One attempt on one connection. Returns status, headers, body | nil, err,
-- retry (true when a reused connection failed before any response byte:
-- the server closed it while idle, so a fresh one may be tried, unless the
-- request must go out at most once).
local function attempt(self, req, bytes, deadline, scheme, host, port)
  local rid = req.request_id
  local ms = left_ms(deadline)
  if not ms then return nil, timed_out(rid, self) end
  local sock = ngx.socket.tcp()
  sock:settimeouts(min(ms, ceil(self.connect_timeout * 1000)), ms, ms)
  local fresh, cerr = connect(self, sock, scheme, host, port, rid)
  if fresh == nil then
    if cerr == "timeout" then return nil, timed_out(rid, self) end
    return nil, cerr
  end
  ms = left_ms(deadline)
  if not ms then
    sock:close()
    return nil, timed_out(rid, self)
  end
  sock:settimeouts(ms, ms, ms)
  self.requests = self.requests + 1
  local ok, serr = sock:send(bytes)
  if not ok then
    sock:close()
    if serr == "timeout" then return nil, timed_out(rid, self) end
    return nil, failure(rid, "sending the request", serr, "ConnectionLost"), not fresh
  end
  local reader = core.http1_reader { max_response_size = self.max_size, head = req.method == "HEAD" }
  local _, err = receive(self, sock, reader, deadline, rid)
  if err then
    local untouched = reader:received() == 0
    reader:close()
    sock:close()
    return nil, err, not fresh and untouched and err.code == "ConnectionLost"
  end
  local status, headers, body, keep = reader:response()
  reader:close()
  if keep then
    sock:setkeepalive(KEEPALIVE_MS, POOL_SIZE)
  else
    sock:close()
  end
  return status, headers, body
end

-- http:send(prepared) -> status, headers, body | nil, err, where prepared
-- is what core_client:prepare returned ({ method, url, headers, body, request_id }).
function Http:send(req)
  local rid = req.request_id
  local scheme, host, port, authority, target = split_url(req.url)
  if not scheme then
    return nil, core.error("config", "cannot send to URL " .. redact(req.url), { request_id = rid })
  end
  local headers = {}
  for name, value in pairs(req.headers or {}) do
    if lower(name) ~= "user-agent" then headers[name] = value end
  end
  if self.user_agent then headers["User-Agent"] = self.user_agent end
  local bytes, berr = core.http1_request(req.method, target, authority, headers, req.body)
  if not bytes then
    berr.request_id = rid
    return nil, berr
  end
  ngx.update_time()
  local deadline = ngx.now() + self.timeout   -- one deadline, a second attempt included
  local status, rheaders, body = attempt(self, req, bytes, deadline, scheme, host, port)
  -- A create (POST /jobs/create: the service picks the id) goes out at most
  -- once: the server may have started the job before the connection died.
  local once = req.method == "POST" and target:match("^[^?#]*") == "/jobs/create"
  if not status and body == true and not once then
    status, rheaders, body = attempt(self, req, bytes, deadline, scheme, host, port)
  end
  return status, rheaders, body
end

return M
