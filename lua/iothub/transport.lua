-- iothub.transport: the options every client shares (service, management,
-- credentials), the client made from them, and the sleep to use. Under
-- OpenResty the core client is wrapped by iothub.ngx_client, which sends
-- through cosockets in request phases (the core still signs and decodes);
-- everywhere else the core's libcurl transport is used directly.
local async = require("iothub.async")
local core = require("iothub.core")

local M = {}

M.VERSION = "0.1.0"

-- Option name -> accepted types, and minimums, for iothub.args.options.
M.option_types = {
  endpoint = "line", timeout = "number", connect_timeout = "number",
  retry = "table|boolean", ca_file = "line", verify = "boolean",
  user_agent = "line", max_response_size = "number", allow_http = "boolean",
  transport = "string", max_json_depth = "number",
}
M.option_min = { timeout = 0.001, connect_timeout = 0.001, max_response_size = 1024, max_json_depth = 1 }

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
    user_agent = opts.user_agent or ("lua-iothub/" .. M.VERSION),
    sas_ttl = opts.sas_ttl, max_response_size = opts.max_response_size,
    allow_http = opts.allow_http, max_json_depth = opts.max_json_depth,
  })
  if not client then return nil, err end
  if mode == "cosocket" or (mode == "auto" and M.in_nginx()) then
    return require("iothub.ngx_client").new(client, opts)
  end
  return client
end

-- One request on client, as client:request: inside an iothub task it goes
-- through the non-blocking loop (iothub.async); elsewhere it is direct.
function M.request(client, method, target, headers, body)
  if async.current() then return async.request(client, method, target, headers, body) end
  return client:request(method, target, headers, body)
end

-- client:request_many, the same way.
function M.request_many(client, requests, concurrency)
  if async.current() then return async.request_many(client, requests, concurrency) end
  return client:request_many(requests, concurrency)
end

-- Sleeps without blocking the host where it can: a timer inside an iothub
-- task, ngx.sleep inside nginx (it yields the request's coroutine), the
-- core's sleep elsewhere.
function M.sleep(seconds)
  if async.current() then return async.sleep(seconds) end
  if M.in_nginx() then
    local phase = ngx.get_phase()
    if phase ~= "init" and phase ~= "init_worker" and phase ~= "set" and phase ~= "header_filter"
      and phase ~= "body_filter" and phase ~= "log" then
      return ngx.sleep(seconds)
    end
  end
  return core.sleep(seconds)
end

return M
