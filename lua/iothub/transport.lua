-- iothub.transport: the options every client shares (service, management,
-- credentials), the client made from them, and the one place that decides
-- how a request travels (M.route): through cosockets in nginx phases that
-- have them (iothub.ngx_client sends, the core still signs and decodes),
-- through the core's non-blocking loop inside an iothub task, and as a
-- blocking core call everywhere else. Sleeps follow the same decision.
local async = require("iothub.async")
local core = require("iothub.core")

local M = {}

-- The version, defaults and limits come from the C core (src/defaults.h),
-- so the libcurl and cosocket paths share them.
local limits = core.limits
M.VERSION = core.version
M.limits = limits

-- Option name -> accepted types, and minimums, for iothub.args.options.
M.option_types = {
  endpoint = "line", timeout = "number", connect_timeout = "number",
  retry = "table|boolean", ca_file = "line", verify = "boolean",
  user_agent = "line", max_response_size = "number", allow_http = "boolean",
  transport = "string", max_json_depth = "number",
}
M.option_min = { timeout = 0.001, connect_timeout = 0.001, max_response_size = limits.min_response_size,
  max_json_depth = 1 }

-- A copy of base extended with more (for clients with options of their own).
function M.extend(base, more)
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  for k, v in pairs(more) do out[k] = v end
  return out
end

local transports = { auto = true, curl = true, cosocket = true }

-- Whether this code runs inside OpenResty (nginx with the Lua module).
function M.in_nginx()
  return type(ngx) == "table" and type(ngx.socket) == "table" and type(ngx.get_phase) == "function"
end

-- The nginx phases (ngx.get_phase()) where iothub can send, and how:
-- "request" phases have cosockets and a client waiting for the answer (see
-- M.HANDLER for their defaults); "timer" has cosockets and nobody waiting;
-- "init" has no cosockets but may block (nginx has not started serving).
-- Every other phase (init_worker, set, header_filter, body_filter, log,
-- balancer, ssl_session_store, exit_worker, ...) has no cosockets and must
-- not block the worker: requests there raise (see M.route).
local PHASES = {
  rewrite = "request", access = "request", content = "request",
  ssl_cert = "request", ssl_session_fetch = "request", ssl_client_hello = "request",
  timer = "timer",
  init = "init",
}
M.PHASES = PHASES

-- Defaults where an nginx request waits for the call (request phases, on
-- the cosocket route), each used only when the options do not set it: an
-- attempt times out after `timeout` s (30 elsewhere) and retries stop
-- `deadline` s after the call began (120 elsewhere). A stalled hub then
-- holds a handler about 10 s (two 5 s attempts), not 120 s. README.md,
-- "OpenResty", says why these values.
M.HANDLER = { timeout = limits.handler_timeout, deadline = limits.handler_deadline }

-- The nginx phase, or nil outside nginx.
local function phase()
  if M.in_nginx() then return ngx.get_phase() end
end

-- How a request made here travels: "cosocket", "async" (inside an iothub
-- task) or "blocking"; nil and the phase's name in an nginx phase without
-- cosockets. In nginx phases with cosockets they win over a task (nobody
-- calls iothub.poll there).
function M.route()
  local p = phase()
  if p then
    local kind = PHASES[p]
    if kind == "request" or kind == "timer" then return "cosocket" end
    if kind == nil then return nil, p end
  end
  if async.current() then return "async" end
  return "blocking"
end

-- M.route(), raising for phases without cosockets (at the caller's caller,
-- or `level`). The error is a string: nginx logs an error table raised in
-- header_filter or log as "unknown reason".
function M.check_route(level)
  local route, p = M.route()
  if route then return route end
  error("iothub: cosockets are not available in the " .. tostring(p)
    .. " phase; call it from content/access/rewrite_by_lua or an ngx.timer", (level or 2) + 1)
end

-- Whether an nginx request is waiting on this call (a request phase).
function M.in_request_phase()
  return PHASES[phase()] == "request"
end

-- The client for checked opts; connection_string nil for clients that pass
-- their own Authorization. opts.transport: "auto" (cosockets under nginx,
-- libcurl elsewhere), "curl" or "cosocket". Returns client | nil, err.
function M.client(connection_string, opts, endpoint)
  local mode = opts.transport or "auto"
  if not transports[mode] then
    error("iothub: option 'transport' must be \"auto\", \"curl\" or \"cosocket\"", 3)
  end
  local client, err = core.client(connection_string, {
    endpoint = endpoint or opts.endpoint, ca_file = opts.ca_file, verify = opts.verify,
    timeout = opts.timeout, connect_timeout = opts.connect_timeout,
    user_agent = opts.user_agent or limits.user_agent,
    sas_ttl = opts.sas_ttl, max_response_size = opts.max_response_size,
    allow_http = opts.allow_http, max_json_depth = opts.max_json_depth,
  })
  if not client then return nil, err end
  if mode == "cosocket" or (mode == "auto" and M.in_nginx()) then
    return require("iothub.ngx_client").new(client, opts)
  end
  return client
end

-- The core client under an iothub.ngx_client (or the client itself).
local function core_of(client)
  if type(client) == "table" and client.core then return client.core end
  return client
end

-- One request on client, as client:request, by M.route(): a task's goes
-- to the non-blocking loop (iothub.async); every other one to the client,
-- which (for an iothub.ngx_client) asks M.route() again for the cosocket.
function M.request(client, method, target, headers, body)
  if M.route() == "async" then return async.request(core_of(client), method, target, headers, body) end
  return client:request(method, target, headers, body)
end

-- client:request_many, the same way.
function M.request_many(client, requests, concurrency)
  if M.route() == "async" then return async.request_many(core_of(client), requests, concurrency) end
  return client:request_many(requests, concurrency)
end

-- Sleeps the way requests travel (M.route): ngx.sleep where cosockets
-- are (it yields the request's coroutine), a timer inside an iothub task,
-- the core's sleep elsewhere (also in nginx phases without cosockets,
-- where ngx.sleep is disabled; requests through cosockets raise there
-- before any retry sleeps).
function M.sleep(seconds)
  local route = M.route()
  if route == "cosocket" then return ngx.sleep(seconds) end
  if route == "async" then return async.sleep(seconds) end
  return core.sleep(seconds)
end

return M
