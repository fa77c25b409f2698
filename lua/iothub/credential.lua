--- iothub.credential: Azure AD (Entra ID) token sources for the management
-- API: client secret (OAuth2 client credentials), managed identity (IMDS and
-- App Service), environment variables, and static tokens. Tokens are cached
-- per scope and refreshed a few minutes before they expire; the C core makes
-- the token requests. Secrets live in closures, never in a field, an error,
-- a log line or tostring.
--
-- The constructors are `iothub.credential.client_secret` and so on; they
-- take the @{iothub.options} (`timeout`, `connect_timeout`, `retry`,
-- `ca_file`, `verify`, ...) for their own token requests, and make no
-- request themselves. Token errors are `auth` errors with AAD's `code`
-- (`invalid_client`) and `error_code` (`7000215`).
-- @module iothub.credential
local core = require("iothub.core")
local args = require("iothub.args")
local async = require("iothub.async")
local retry = require("iothub.retry")
local transport = require("iothub.transport")

local M = {}

local type, tostring, tonumber, setmetatable = type, tostring, tonumber, setmetatable
local encode = core.percent_encode

local DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
local IMDS_ENDPOINT = "http://169.254.169.254/metadata/identity/oauth2/token"
-- Refresh this long before expiry (the SDKs use 2 to 10 minutes), or at half
-- the lifetime for tokens that live less than twice that.
local REFRESH_MARGIN = 300

local Credential = {}
local mt = { __index = Credential, __name = "iothub.credential" }
mt.__tostring = function(self) return "iothub.credential." .. self.kind .. " (" .. self.label .. ")" end

-- fetch(scope) -> token, expires_on | nil, err. cache (optional): an object
-- with get(key) -> token, expires_on, lifetime and set(key, token,
-- expires_on, lifetime), shared beyond this object (e.g. across nginx
-- workers through iothub.ngx_cache); key is "<kind>|<label>|<scope>".
local function new(kind, label, fetch, client, cache)
  return setmetatable({ kind = kind, label = label, _fetch = fetch, _client = client,
    _cache = {}, _shared = cache, _refreshing = {}, _refresher = {} }, mt)
end

local function fresh(token, expires_on, lifetime, now)
  if not token then return false end
  local margin = lifetime < 2 * REFRESH_MARGIN and lifetime / 2 or REFRESH_MARGIN
  return now < expires_on - margin
end

-- One refresh at a time per scope: callers that arrive while one runs
-- (other coroutines under nginx, other iothub tasks) wait for it and share
-- its token.

--- A credential, as the constructors make it.
-- @type Credential

--- A token for a scope, from the cache while it is fresh: it is fetched
-- again 5 minutes before it expires (at half its lifetime for tokens that
-- live less than 10 minutes).
-- @tparam string scope e.g. `https://management.azure.com/.default`
-- @tparam[opt] boolean force skip the cache (the clients do after a 401)
-- @treturn string the bearer token
-- @treturn number when it expires, epoch seconds
-- @return[2] nil
-- @treturn[2] error an `auth` error (or a transport one)
-- @raise on an empty or non-string scope
function Credential:get_token(scope, force)
  args.self("get_token", self, mt)
  if type(scope) ~= "string" or scope == "" then
    args.fail("get_token", "scope must be a non-empty string")
  end
  local now = core.now()
  local cached = self._cache[scope]
  if not force then
    if cached and fresh(cached.token, cached.expires_on, cached.lifetime, now) then
      return cached.token, cached.expires_on
    end
    if self._shared then
      local token, expires_on, lifetime = self._shared:get(self.kind .. "|" .. self.label .. "|" .. scope)
      if fresh(token, expires_on, lifetime or 0, now) then
        self._cache[scope] = { token = token, expires_on = expires_on, lifetime = lifetime }
        return token, expires_on
      end
    end
  end
  local started = self._refreshing[scope]
  -- Only nginx and iothub tasks run other coroutines meanwhile; elsewhere
  -- this is re-entry. A task waits only for another task still running (a
  -- mark left by a blocking fetch that raised is stale).
  local refresher, task = self._refresher[scope], async.current()
  local waitable = transport.in_nginx() or (task and refresher and refresher ~= task and not refresher.done)
  if started and waitable then
    -- Another coroutine is fetching: wait for its result (bounded).
    while self._refreshing[scope] == started and core.monotonic() - started < 60 do transport.sleep(0.01) end
    cached = self._cache[scope]
    if cached and cached.fetched_at and cached.fetched_at >= started then return cached.token, cached.expires_on end
  end
  local mark = core.monotonic()
  self._refreshing[scope], self._refresher[scope] = mark, task or false
  -- No pcall here: a fetch may yield (cosockets, iothub tasks), and Lua 5.1
  -- cannot yield across pcall. A fetch that raises leaves the mark, which
  -- waiters give up on after 60 s.
  local token, expires_on = self._fetch(scope)
  if self._refreshing[scope] == mark then self._refreshing[scope] = nil end
  if not token then return nil, expires_on end
  local lifetime = expires_on - now
  self._cache[scope] = { token = token, expires_on = expires_on, lifetime = lifetime, fetched_at = mark }
  if self._shared then self._shared:set(self.kind .. "|" .. self.label .. "|" .. scope, token, expires_on, lifetime) end
  return token, expires_on
end

--- Closes the connection of its token requests.
function Credential:close()
  if self._client then self._client:close() end
end

-- A token error: kind "auth", the AAD code and description, never a secret.
local function auth_error(err)
  if err.kind == "http" or err.kind == "auth" then err.kind = "auth" end
  return err
end

-- Reads a token response: access_token and expires_in or expires_on (IMDS
-- and App Service send both as strings).
local function token_from(body)
  if type(body) ~= "table" or type(body.access_token) ~= "string" or body.access_token == "" then
    return nil, core.error("auth", "token response has no access_token")
  end
  local expires_on = tonumber(body.expires_on)
  if not expires_on then
    local expires_in = tonumber(body.expires_in)
    if not expires_in then return nil, core.error("auth", "token response has no expiry") end
    expires_on = core.now() + expires_in
  end
  return body.access_token, expires_on
end

-- The core client and retry policy for a credential's own token requests.
local cred_options = transport.extend(transport.option_types, { cache = "table" })
local function token_client(fname, opts, endpoint)
  local policy = retry.policy(fname, opts.retry)
  local client, err = transport.client(nil, opts, endpoint)
  if not client then args.fail(fname, tostring(err)) end
  return client, policy
end

local function request_token(client, policy, method, target, headers, body)
  local resp, err = retry.run(policy, transport.request, nil, client, method, target, headers, body)
  if not resp then return nil, auth_error(err) end
  return token_from(resp)
end

local function required_string(fname, opts, name)
  local v = opts[name]
  if type(v) ~= "string" or v == "" then args.fail(fname, ("'%s' must be a non-empty string"):format(name)) end
  return v
end

--- Constructors
-- @section constructors

--- A service principal's client secret (OAuth2 client credentials flow).
-- @tparam table opts the @{iothub.options}, and:
-- @tparam string opts.tenant_id the directory (tenant) id
-- @tparam string opts.client_id the application (client) id
-- @tparam string opts.client_secret the secret
-- @tparam[opt="https://login.microsoftonline.com"] string opts.authority also
--   `https://login.chinacloudapi.cn`, `https://login.microsoftonline.us`
-- @tparam[opt] table opts.cache a token cache shared beyond this object,
--   e.g. @{iothub.ngx_cache.shared_dict} across nginx workers
-- @treturn Credential
-- @raise on a missing or empty `tenant_id`, `client_id` or `client_secret`,
--   unknown or ill-typed options, an authority it cannot use
-- @usage local cred = iothub.credential.client_secret{ tenant_id = "...", client_id = "...",
--   client_secret = os.getenv("AZURE_CLIENT_SECRET") }
function M.client_secret(opts)
  local fname = "credential.client_secret"
  if type(opts) ~= "table" then args.fail(fname, "expected a table of options") end
  opts = args.options(fname, opts, transport.extend(cred_options,
    { tenant_id = "line", client_id = "line", client_secret = "string", authority = "line" }),
    transport.option_min)
  local tenant = required_string(fname, opts, "tenant_id")
  local client_id = required_string(fname, opts, "client_id")
  local secret = required_string(fname, opts, "client_secret")
  local authority = (opts.authority or opts.endpoint or DEFAULT_AUTHORITY):gsub("/+$", "")
  local client, policy = token_client(fname, opts, authority)
  local target = "/" .. encode(tenant) .. "/oauth2/v2.0/token"
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  return new("client_secret", "tenant " .. tenant .. ", client " .. client_id, function(scope)
    local body = "grant_type=client_credentials&client_id=" .. encode(client_id)
      .. "&client_secret=" .. encode(secret) .. "&scope=" .. encode(scope)
    return request_token(client, policy, "POST", target, headers, body)
  end, client, opts.cache)
end

-- "https://management.azure.com/.default" -> "https://management.azure.com/"
local function resource_of(scope)
  return (scope:gsub("/%.default$", "/"))
end

-- Splits an absolute URL into base ("scheme://host[:port]") and path.
local function split_url(fname, url)
  local base, path = url:match("^(https?://[^/?#]+)(/[^#]*)$")
  if not base then args.fail(fname, "endpoint must be an absolute http(s) URL with a path: " .. url) end
  return base, path
end

-- Whether base ("http://host[:port]") names this machine: 127.0.0.0/8,
-- [::1] or localhost (App Service and Functions use these).
local function loopback(base)
  local host = base:match("^http://([^/]+)$")
  if not host then return false end
  host = host:gsub(":%d+$", ""):lower()
  return host == "localhost" or host == "[::1]" or host:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

--- A managed identity: App Service / Functions when `IDENTITY_ENDPOINT` and
-- `IDENTITY_HEADER` are set (or `identity_header` is given), else the VM
-- metadata endpoint (IMDS, `http://169.254.169.254/...`). Both are plain
-- `http://` by design and need no `allow_http` (App Service's only on a
-- loopback address); any other `http://` endpoint does.
-- @tparam[opt] table opts the @{iothub.options}, and:
-- @tparam[opt] string opts.client_id a user-assigned identity's client id
-- @tparam[opt] string opts.endpoint the token endpoint's full URL
-- @tparam[opt] string opts.identity_header App Service's secret header
--   value (default: `IDENTITY_HEADER`)
-- @tparam[opt] table opts.cache a token cache shared beyond this object,
--   e.g. @{iothub.ngx_cache.shared_dict} across nginx workers
-- @treturn Credential
-- @raise on unknown or ill-typed options, an endpoint that is not an
--   absolute URL with a path
function M.managed_identity(opts)
  local fname = "credential.managed_identity"
  opts = args.options(fname, opts, transport.extend(cred_options,
    { client_id = "line", identity_header = "line" }), transport.option_min)
  local identity_header = opts.identity_header or os.getenv("IDENTITY_HEADER")
  local app_service_endpoint = os.getenv("IDENTITY_ENDPOINT")
  local app_service = opts.identity_header ~= nil or (opts.endpoint == nil and app_service_endpoint and identity_header)
  local url = opts.endpoint or (app_service and app_service_endpoint) or IMDS_ENDPOINT
  local base, path = split_url(fname, url)
  -- IMDS is plain http on a link-local address by design, and so is App
  -- Service's IDENTITY_ENDPOINT on loopback (http://127.0.0.1:PORT/...):
  -- nothing leaves the machine. Any other http:// needs allow_http.
  local plain_ok = url == IMDS_ENDPOINT or (app_service and loopback(base))
  local copts = transport.extend(opts, { allow_http = opts.allow_http or plain_ok })
  local client, policy = token_client(fname, copts, base)
  local headers, api_version
  if app_service then
    if not identity_header then args.fail(fname, "App Service managed identity needs IDENTITY_HEADER") end
    headers, api_version = { ["X-IDENTITY-HEADER"] = identity_header }, "2019-08-01"
  else
    headers, api_version = { Metadata = "true" }, "2018-02-01"
  end
  local sep = path:find("?", 1, true) and "&" or "?"
  local label = (app_service and "App Service" or "IMDS") .. (opts.client_id and (", client " .. opts.client_id) or "")
  return new("managed_identity", label, function(scope)
    local target = path .. sep .. "api-version=" .. api_version .. "&resource=" .. encode(resource_of(scope))
    if opts.client_id then target = target .. "&client_id=" .. encode(opts.client_id) end
    return request_token(client, policy, "GET", target, headers)
  end, client, opts.cache)
end

--- A client secret credential from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
-- `AZURE_CLIENT_SECRET` and (optional) `AZURE_AUTHORITY_HOST`.
-- @tparam[opt] table opts as @{client_secret}'s, less the values read from
--   the environment
-- @param[opt] getenv a function standing in for `os.getenv` (tests)
-- @treturn Credential
-- @return[2] nil
-- @treturn[2] error a `config` error naming the variable that is not set
-- @raise as @{client_secret}
function M.environment(opts, getenv)
  getenv = getenv or os.getenv
  local values = {}
  for _, name in ipairs { "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET" } do
    local v = getenv(name)
    if v == nil or v == "" then
      return nil, core.error("config", "environment variable " .. name .. " is not set")
    end
    values[name] = v
  end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.tenant_id, o.client_id, o.client_secret = values.AZURE_TENANT_ID, values.AZURE_CLIENT_ID, values.AZURE_CLIENT_SECRET
  local authority = getenv("AZURE_AUTHORITY_HOST")
  if authority and authority ~= "" then o.authority = authority end
  local cred = M.client_secret(o)
  cred.kind = "environment"
  return cred
end

--- A token you already have: a fixed string (taken to last an hour), or a
-- function called with the scope that returns `token, expires_on` (epoch
-- seconds; default an hour from now) or `nil, err`.
-- @tparam string|function source the token, or the function
-- @treturn Credential
-- @raise on an empty string or another type
-- @usage local cred = iothub.credential.static(function(scope) return fetch_token(scope) end)
function M.static(source)
  local fname = "credential.static"
  if type(source) == "string" then
    if source == "" then args.fail(fname, "token must not be empty") end
    return new("static", "fixed token", function() return source, core.now() + 3600 end)
  elseif type(source) == "function" then
    return new("static", "token function", function(scope)
      local token, expires_on = source(scope)
      if type(token) ~= "string" or token == "" then
        if core.is_error(expires_on) then return nil, expires_on end
        return nil, core.error("auth", "the token function returned no token"
          .. (expires_on ~= nil and (": " .. tostring(expires_on)) or ""))
      end
      return token, tonumber(expires_on) or core.now() + 3600
    end)
  end
  args.fail(fname, "expected a token string or a function, got " .. type(source))
end

M.is_credential = function(x) return getmetatable(x) == mt end

return M
