--- lua-iothub: an Azure IoT Hub jobs client (the public entry, `require("iothub")`).
--
-- The clients: @{iothub.service} (the service API, with a hub's shared access
-- signature; its methods are on @{Service}) and @{iothub.management} (Azure
-- Resource Manager, with a token from @{iothub.credential}; methods on
-- @{Management}). The helpers below read what they return.
--
-- Conventions, for every call:
--
-- * Expected failures (network, TLS, HTTP status, bad JSON, timeouts, a bad
--   connection string) return `nil, err`, where `err` is an @{error} table.
-- * Programmer errors (wrong argument types, unknown options, empty or
--   reserved ids, a closed client) raise a string at the caller's line.
-- * A successful call returns exactly its documented value(s) and nothing
--   after them, so `local v, err = f(); if err then ... end`,
--   `t[#t + 1] = f()` and `cjson.encode(f())` are safe. The HTTP status and
--   headers of a result are had with @{response}.
-- * Iterators (`jobs`, `job_pages`, `device_jobs`, `rows`, `twins`) raise
--   the @{error} table on failure, like `io.lines`; wrap the loop in `pcall`
--   (or use @{assert} on Lua 5.1) to turn it into a value.
-- * Results are plain tables with the REST field names (`jobId`,
--   `deviceJobStatistics.succeededCount`); JSON `null` is `nil` in schema
--   fields and @{null} inside free-form objects (`payload`, `tags`,
--   `desired`, `reported`) and arrays.
--
-- Every call works in a blocking script, inside an @{spawn} task (see the
-- "Tasks" topic) and under OpenResty's cosockets (see the "OpenResty" topic).
-- @module iothub
-- @usage
-- local iothub = require("iothub")
-- local hub = iothub.assert(iothub.service(os.getenv("IOTHUB_CONNECTION_STRING")))
-- local job, err = hub:get_job("nightly-reboot")
-- if not job then print(err.kind, err.status, err.code) end
local async = require("iothub.async")
local core = require("iothub.core")
local json = require("iothub.json")
local credential = require("iothub.credential")
local management = require("iothub.management")
local reply = require("iothub.reply")
local service = require("iothub.service")
local status = require("iothub.status")
local time = require("iothub.time")

local error, tostring, type = error, tostring, type

local M = {
  _VERSION = require("iothub.transport").VERSION,
  null = core.null,
  array = json.array,
  service = service.new,
  management = management.new,
  credential = {
    client_secret = credential.client_secret,
    managed_identity = credential.managed_identity,
    environment = credential.environment,
    static = credential.static,
  },
  progress = status.progress,
  is_terminal = status.is_terminal,
  is_active = status.is_active,
  is_pending = status.is_pending,
  is_running = status.is_running,
  is_succeeded = status.is_succeeded,
  is_failed = status.is_failed,
  is_cancelled = status.is_cancelled,
  time = time.parse,
  is_error = core.is_error,
  sleep = core.sleep,
  spawn = async.spawn,
  poll = async.poll,
  pending = async.pending,
  response = reply.response,
}

--- Clients
-- @section clients

--- A service-API client, signing with the hub's shared access key (or a
-- ready token). Making it does no I/O; the connection opens on the first
-- call. Its methods are on @{Service}.
--
-- `connection_string` is `HostName=...;SharedAccessKeyName=...;SharedAccessKey=...`
-- (a hub-level policy such as `iothubowner` or `service`), or
-- `HostName=...;SharedAccessSignature=SharedAccessSignature sr=...` for a
-- ready token, used as it is and never renewed.
--
-- For hubs with local (SAS) authentication disabled, the table form
-- `iothub.service{ host_name = "myhub.azure-devices.net", credential = cred,
-- ... }` takes any @{iothub.credential} instead, plus the same options
-- (without `sas_ttl`): bearer tokens for `https://iothubs.azure.net/.default`,
-- cached by the credential and fetched again once after a 401.
-- @function service
-- @tparam string connection_string the hub's connection string
-- @tparam[opt] table opts the @{options} every client takes, and:
-- @tparam[opt="2020-05-31-preview"] string opts.api_version sent as `api-version` on every call
-- @tparam[opt=3600] number opts.sas_ttl lifetime of the tokens it signs, in seconds (at least 1);
--   a token is renewed when a fifth of its life (at most 5 minutes) is left
-- @treturn Service the client
-- @return[2] nil
-- @treturn[2] error a `config` error: a connection string it cannot use (the
--   message never quotes its secret parts)
-- @raise on a connection string that is neither a string nor the table
--   form (a bad `host_name`, a `credential` that is not one), an unknown option, an option of
--   the wrong type or below its minimum
-- @usage local hub, err = iothub.service(os.getenv("IOTHUB_CONNECTION_STRING"), { timeout = 10 })

--- A management-API (Azure Resource Manager) client for one hub's jobs,
-- with bearer tokens from a credential. Making it does no I/O. Its methods
-- are on @{Management}.
-- @function management
-- @tparam table opts the @{options} every client takes, and:
-- @tparam string opts.subscription_id the Azure subscription id
-- @tparam string opts.resource_group the hub's resource group
-- @tparam string opts.hub_name the hub's name
-- @tparam Credential opts.credential made by @{iothub.credential}
-- @tparam[opt="https://management.azure.com"] string opts.endpoint also
--   `https://management.chinacloudapi.cn` and `https://management.usgovcloudapi.net`,
--   whose token scopes it knows
-- @tparam[opt] string opts.scope the token scope; default: the endpoint's
--   (`https://management.azure.com/.default` for any endpoint it does not know)
-- @tparam[opt="2023-06-30"] string opts.api_version sent as `api-version`
-- @treturn Management the client
-- @return[2] nil
-- @treturn[2] error a `config` error (e.g. an endpoint it cannot use)
-- @raise on missing or empty `subscription_id`, `resource_group` or
--   `hub_name`, a `credential` not made by @{iothub.credential}, unknown or
--   ill-typed options
-- @usage local arm = iothub.assert(iothub.management{
--   subscription_id = "...", resource_group = "my-rg", hub_name = "myhub",
--   credential = iothub.credential.environment(),
-- })

--- The options every client takes (@{iothub.service}, @{iothub.management}
-- and the @{iothub.credential} constructors, for their own token requests).
-- Defaults come from the C core (`src/defaults.h`). Unknown options and
-- options of the wrong type raise; so do strings bound for a URL or a header
-- (`endpoint`, `user_agent`, `api_version`, `ca_file`) holding CR, LF or NUL.
-- @table options
-- @tfield string endpoint base URL override, `https://host[:port][/path]` (emulator,
--   private link, proxy); default `https://<HostName>` for the service client.
--   The shared access signature still signs the connection string's `HostName`.
-- @tfield number timeout seconds for one attempt of one request (default 30; 5 where
--   an nginx request waits, see the "OpenResty" topic)
-- @tfield number connect_timeout seconds for the connect and TLS handshake (default 10)
-- @tfield table|false retry a @{retry} table, or `false` for no retries
-- @tfield string ca_file a PEM file of trusted CAs (default: the system's; ignored
--   under cosockets, where nginx's `lua_ssl_trusted_certificate` applies)
-- @tfield boolean verify `false` turns certificate checks off (default `true`)
-- @tfield string user_agent default `lua-iothub/<version>`
-- @tfield number max_response_size bytes (default 16 MiB, at least 1024); a larger
--   body is a `transport` error `ResponseTooLarge`
-- @tfield number max_json_depth nesting allowed in a response (default 128, at most
--   1000); deeper is a `decode` error
-- @tfield boolean allow_http `true` lets `http://` endpoints through (default `false`)
-- @tfield string transport `"auto"` (default: cosockets inside OpenResty, libcurl
--   elsewhere), `"cosocket"` or `"curl"` (blocks an nginx worker)

--- The `retry` option: transient failures (`err.retryable`) are retried
-- with capped exponential backoff and jitter, the wait before attempt n+1
-- being between half and all of `min(max_delay, base_delay * 2^(n-1))`, or
-- the server's `retry_after` when it gave one (capped at `max_delay`).
-- Retrying stops after `attempts` or when the next wait would pass
-- `deadline`; the last error is returned with `err.attempts` set. Only
-- calls that cannot run a job twice are retried: reads, cancels, queries,
-- twin writes and job PUTs (which carry the job id); creating an
-- import/export job is not. A 401 re-signs (or fetches a new token) and
-- tries once more, outside this count.
-- @table retry
-- @tfield number attempts tries in all, a whole number >= 1 (default 4)
-- @tfield number base_delay seconds (default 0.5)
-- @tfield number max_delay seconds (default 30)
-- @tfield number deadline seconds from the call's start (default 120; 10 where an
--   nginx request waits, unless set)

--- Errors
-- @section errors

--- What `err` is in `nil, err`: a table with the fields below, whose
-- `tostring` is one readable line, and which @{is_error} recognises.
-- The line reads `iothub http error 404 JobNotFound (404002): <message>
-- [request_id=<id>]`. No key, signature or token ever appears in it.
-- @table error
-- @tfield string kind `"http"`, `"auth"` (a 401, or a token that could not be had),
--   `"transport"`, `"timeout"`, `"decode"` (a body, a continuation token or
--   a time that cannot be read) or `"config"`
-- @tfield number status the HTTP status, when there was a response
-- @tfield string code the service's error name (`JobNotFound`,
--   `IotHubUnauthorizedAccess`, AAD's `invalid_client`), or for transport
--   errors `ConnectFailed`, `TlsVerifyFailed`, `Timeout`, `ConnectionLost`,
--   `ResponseTooLarge`, ...
-- @tfield number error_code the numeric IoT Hub (or AAD) code, e.g. `404002`, when given
-- @tfield string message the service's text
-- @tfield string request_id the `x-ms-request-id` (or the client's own request id)
-- @tfield string tracking_id the service's tracking id, when given
-- @tfield number retry_after seconds, from `retry-after-ms`, `x-ms-retry-after-ms`
--   or `Retry-After`, when the server said
-- @tfield boolean retryable whether the failure is transient (408, 429, 500, 502,
--   503, 504, the 429xxx codes, 500001, 503001, connection failures, timeouts)
-- @tfield number attempts how many attempts were made, after a retried call
-- @tfield table job `wait_job`'s timeout only: the last job state seen (or nil)
-- @tfield error cause `wait_job`'s timeout only: the last transient read error, if any

--- Whether `x` is an @{error} table made by this library.
-- @function is_error
-- @param x any value
-- @treturn boolean

--- `assert` for `nil, err` results, on every Lua. Returns all its arguments
-- when `v` is truthy; otherwise raises `tostring(err)` with the caller's
-- position (a string `err` is raised as it is, and no `err` gives
-- "assertion failed!"). Lua 5.1 needs it: its `assert` refuses a table
-- message and its interpreter prints a raised table as "(error object is
-- not a string)".
-- @param v the first value of a result
-- @param[opt] err the error, usually an @{error} table
-- @param ... more values, returned as they are
-- @return `v, err, ...`
-- @raise `tostring(err)` when `v` is nil or false
-- @usage local job = iothub.assert(hub:get_job("nightly-reboot"))
-- -- an iterator's error, as a message:
-- iothub.assert(pcall(function() for j in hub:jobs() do print(j.jobId) end end))
function M.assert(v, ...)
  if v then return v, ... end
  local err = ...
  if err == nil then error("assertion failed!", 2) end
  if type(err) == "string" then error(err, 0) end
  error(tostring(err), 2)
end

--- JSON values
-- @section json

--- The JSON null value (the same light userdata as `cjson.null`): inside
-- free-form objects of results, and in request bodies, where it deletes a
-- twin property.
-- @field null

--- Marks a table as a JSON array for request bodies, so an empty one is sent
-- as `[]` (an empty table is otherwise an object). See @{iothub.json}.
-- @function array
-- @tparam[opt] table t the table to mark (default: a new one)
-- @treturn table `t`
-- @raise when `t` is neither a table nor nil

--- Other
-- @section other

--- The library's version (`"0.1.0"`), also in the default User-Agent.
-- @field _VERSION

--- Blocks the calling thread for `seconds` (also under nginx and in tasks:
-- only the clients' own waits follow the route of their requests).
-- @function sleep
-- @tparam number seconds at least 0
-- @raise for a negative or non-number argument

return M
