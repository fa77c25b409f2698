--- iothub.ngx_cache: a token cache shared by every nginx worker, on a
-- lua_shared_dict, for the `cache` option of iothub.credential:
--   lua_shared_dict iothub_tokens 1m;   (nginx.conf, http block)
--   cred = iothub.credential.client_secret{ ..., cache = require("iothub.ngx_cache").shared_dict("iothub_tokens") }
-- A token is stored as one string "expires_on lifetime token" that the
-- dict drops when the token expires.
-- @module iothub.ngx_cache
local M = {}

local tonumber, setmetatable, format, error = tonumber, setmetatable, string.format, error

local Cache = {}
local mt = { __index = Cache, __name = "iothub.ngx_cache" }

--- A cache for the `cache` option of the @{iothub.credential} constructors,
-- on nginx's `lua_shared_dict name` (declared in the `http` block), so
-- every worker shares the tokens.
-- @tparam string name the dict's name
-- @treturn table the cache
-- @raise outside nginx, or when there is no such dict
-- @usage local cred = iothub.credential.client_secret{ tenant_id = "...", client_id = "...",
--   client_secret = "...", cache = require("iothub.ngx_cache").shared_dict("iothub_tokens") }
function M.shared_dict(name)
  if type(name) ~= "string" or name == "" then
    error("iothub.ngx_cache.shared_dict: expected the name of a lua_shared_dict", 2)
  end
  local dict = type(ngx) == "table" and ngx.shared and ngx.shared[name]
  if not dict then
    error("iothub.ngx_cache.shared_dict: no lua_shared_dict '" .. name .. "' (declare it in the http block)", 2)
  end
  return setmetatable({ dict = dict, name = name }, mt)
end

-- cache:get(key) -> token, expires_on, lifetime | nil
function Cache:get(key)
  local value = self.dict:get(key)
  if type(value) ~= "string" then return nil end
  local expires_on, lifetime, token = value:match("^(%S+) (%S+) (.*)$")
  if not token then return nil end
  return token, tonumber(expires_on), tonumber(lifetime)
end

-- cache:set(key, token, expires_on, lifetime) -> true | nil, err (the dict
-- is full, say); the credential keeps its own copy either way.
function Cache:set(key, token, expires_on, lifetime)
  local ttl = expires_on - ngx.now()
  if ttl <= 0 then return true end
  local ok, err = self.dict:set(key, format("%.3f %.3f %s", expires_on, lifetime, token), ttl)
  if not ok then return nil, err end
  return true
end

mt.__tostring = function(self) return "iothub.ngx_cache (lua_shared_dict " .. self.name .. ")" end

return M
