-- iothub.transport: the options every client shares (service, management,
-- credentials) and the C core client made from them.
local core = require("iothub.core")

local M = {}

M.VERSION = "0.1.0"

-- Option name -> accepted types, and minimums, for iothub.args.options.
M.option_types = {
  endpoint = "string", timeout = "number", connect_timeout = "number",
  retry = "table|boolean", ca_file = "string", verify = "boolean",
  user_agent = "string", max_response_size = "number", allow_http = "boolean",
}
M.option_min = { timeout = 0.001, connect_timeout = 0.001, max_response_size = 1024 }

-- A copy of base extended with more (for clients with options of their own).
function M.extend(base, more)
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  for k, v in pairs(more) do out[k] = v end
  return out
end

-- The core client for checked opts; connection_string nil for clients that
-- pass their own Authorization. Returns client | nil, err.
function M.client(connection_string, opts, endpoint)
  return core.client(connection_string, {
    endpoint = endpoint or opts.endpoint, ca_file = opts.ca_file, verify = opts.verify,
    timeout = opts.timeout, connect_timeout = opts.connect_timeout,
    user_agent = opts.user_agent or ("lua-iothub/" .. M.VERSION),
    sas_ttl = opts.sas_ttl, max_response_size = opts.max_response_size,
    allow_http = opts.allow_http,
  })
end

return M
