-- iothub.ngx_client: the client object under OpenResty. It has the core
-- client's methods (request, request_many, stats, close, is_closed, host);
-- in phases with cosockets the core signs (prepare), iothub.ngx_http sends
-- without blocking the worker, and the core decodes, so libcurl is never
-- called there. In the init phase and outside nginx the core's blocking
-- request runs; in phases without cosockets a call raises.
local ngx_http = require("iothub.ngx_http")
local transport = require("iothub.transport")

local M = {}

local type, tostring, setmetatable, pcall, error, min = type, tostring, setmetatable, pcall, error, math.min

local Client = {}
local mt = { __index = Client, __name = "iothub.ngx_client" }

-- new(core_client, opts): opts are the transport options the core client
-- was made with (timeout, connect_timeout, verify, user_agent, max_response_size).
function M.new(core_client, opts)
  opts = opts or {}
  local limits = transport.limits       -- the core's defaults, as the libcurl path's
  local function http(timeout)
    return ngx_http.new {
      timeout = timeout or limits.timeout, connect_timeout = opts.connect_timeout or limits.connect_timeout,
      verify = opts.verify, user_agent = opts.user_agent or limits.user_agent,
      max_response_size = opts.max_response_size or limits.max_response_size,
    }
  end
  return setmetatable({
    core = core_client,
    http = http(opts.timeout),
    -- Where an nginx request waits, attempts time out sooner unless the
    -- options set a timeout (transport.HANDLER).
    handler_http = opts.timeout == nil and http(transport.HANDLER.timeout) or nil,
  }, mt)
end

-- "cosocket" or "blocking" (the init phase, an iothub task, or not inside
-- nginx), as iothub.transport decides; raises in phases without cosockets.
local function mode()
  return transport.check_route(3) == "cosocket" and "cosocket" or "blocking"
end
M.mode = mode

-- One request through a cosocket: what core_client:request returns.
local function send(self, method, target, headers, body)
  local req = self.core:prepare(method, target, headers, body)
  local http = self.handler_http and transport.in_request_phase() and self.handler_http or self.http
  local status, resp_headers, resp_body = http:send(req)
  if not status then return nil, resp_headers end
  return self.core:decode(status, resp_headers, resp_body, req.request_id)
end

-- client:request(method, target [, headers [, body]]) -> value, headers, status | nil, err
function Client:request(method, target, headers, body)
  if mode() == "blocking" then return self.core:request(method, target, headers, body) end
  return send(self, method, target, headers, body)
end

-- client:request_many(list, concurrency) -> values, errors (indexed like
-- list): up to `concurrency` light threads take the next request in turn.
function Client:request_many(list, concurrency)
  if mode() == "blocking" then return self.core:request_many(list, concurrency) end
  if type(list) ~= "table" then error("iothub: request_many expects a list of requests", 2) end
  local most = transport.limits.max_concurrency
  concurrency = concurrency or transport.limits.concurrency
  if type(concurrency) ~= "number" or concurrency < 1 or concurrency > most or concurrency % 1 ~= 0 then
    error("iothub: concurrency must be 1.." .. most, 2)
  end
  for i = 1, #list do
    if type(list[i]) ~= "table" then error("iothub: each request must be a table", 2) end
  end
  local values, errors, n, next_index, raised = {}, {}, #list, 1, nil
  local function worker()
    while next_index <= n and not raised do
      local i = next_index
      next_index = i + 1
      local r = list[i]
      local ok, value, err = pcall(send, self, r[1], r[2], r[3], r[4])
      if not ok then
        raised = raised or value
      elseif value ~= nil then
        values[i] = value
      else
        errors[i] = err
      end
    end
  end
  local threads = {}
  for t = 1, min(concurrency, n) do threads[t] = ngx.thread.spawn(worker) end
  for t = 1, #threads do ngx.thread.wait(threads[t]) end
  if raised then error(raised, 0) end
  return values, errors
end

-- The core's counters plus the cosocket ones: requests and connections
-- (new connects) are totals; curl_* and cosocket_* tell them apart.
function Client:stats()
  local s = self.core:stats()
  s.curl_requests, s.curl_connections = s.requests, s.connections
  local h = self.handler_http
  s.cosocket_requests = self.http.requests + (h and h.requests or 0)
  s.cosocket_connections = self.http.connections + (h and h.connections or 0)
  s.requests = s.curl_requests + s.cosocket_requests
  s.connections = s.curl_connections + s.cosocket_connections
  return s
end

function Client:close() return self.core:close() end
function Client:is_closed() return self.core:is_closed() end
function Client:host() return self.core:host() end
function Client:renew_auth() return self.core:renew_auth() end

mt.__tostring = function(self) return tostring(self.core) end

return M
