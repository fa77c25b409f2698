--- iothub.management: the IoT Hub resource's jobs through Azure Resource
-- Manager (management plane), with Azure AD bearer tokens from an
-- iothub.credential. A 401 refreshes the token once and retries.
--
-- A `Management` is what @{iothub.management} returns (`arm` below). Its
-- jobs are ARM JobResponse tables (`jobId`, `startTimeUtc`, `endTimeUtc`
-- in RFC 1123, `type`, `status`, `failureReason`, `statusMessage`,
-- `parentJobId`; no device statistics). Every call is a read, retried under
-- the @{iothub.retry} policy. Failures return `nil, err` (an
-- @{iothub.error}); iterators raise it.
-- @classmod Management
local core = require("iothub.core")
local args = require("iothub.args")
local auth = require("iothub.auth")
local credential = require("iothub.credential")
local paging = require("iothub.paging")
local reply = require("iothub.reply")
local retry = require("iothub.retry")
local transport = require("iothub.transport")
local wait = require("iothub.wait")

local Management = {}
local mt = { __index = Management, __name = "iothub.management" }

local type, setmetatable = type, setmetatable
local encode = core.percent_encode

local DEFAULT_ENDPOINT = "https://management.azure.com"
local DEFAULT_API_VERSION = "2023-06-30"
-- The token scope of each cloud's ARM endpoint.
local cloud_scopes = {
  ["https://management.azure.com"] = "https://management.azure.com/.default",
  ["https://management.chinacloudapi.cn"] = "https://management.chinacloudapi.cn/.default",
  ["https://management.usgovcloudapi.net"] = "https://management.usgovcloudapi.net/.default",
}

local option_types = transport.extend(transport.option_types, {
  subscription_id = "line", resource_group = "line", hub_name = "line",
  credential = "table", api_version = "line", scope = "line",
})

local M = {}

-- iothub.management{ subscription_id=, resource_group=, hub_name=, credential=, ... }
function M.new(opts)
  local fname = "management"
  if type(opts) ~= "table" then args.fail(fname, "expected a table of options") end
  opts = args.options(fname, opts, option_types, transport.option_min)
  local segments = {}
  for _, name in ipairs { "subscription_id", "resource_group", "hub_name" } do
    local v = opts[name]
    if type(v) ~= "string" or v == "" then args.fail(fname, ("'%s' must be a non-empty string"):format(name)) end
    segments[name] = encode(v)
  end
  if not credential.is_credential(opts.credential) then
    args.fail(fname, "'credential' must be made by iothub.credential "
      .. "(client_secret, managed_identity, environment, static)")
  end
  if opts.api_version == "" then args.fail(fname, "option 'api_version' must not be empty") end
  local endpoint = (opts.endpoint or DEFAULT_ENDPOINT):gsub("/+$", "")
  local policy = retry.policy(fname, opts.retry)
  local client, err = transport.client(nil, opts, endpoint)
  if not client then return nil, err end
  local scope = opts.scope or cloud_scopes[endpoint] or cloud_scopes[DEFAULT_ENDPOINT]
  return setmetatable({
    client = client,
    retry = policy,
    credential = opts.credential,
    scope = scope,
    _auth = auth.bearer(opts.credential, scope),
    endpoint = endpoint,
    api_version = opts.api_version or DEFAULT_API_VERSION,
    base = "/subscriptions/" .. segments.subscription_id .. "/resourceGroups/" .. segments.resource_group
      .. "/providers/Microsoft.Devices/IotHubs/" .. segments.hub_name,
  }, mt)
end

-- One authorised request, retried under the policy; a 401 fetches a fresh
-- token and tries once more (iothub.auth).
function Management:_call(target)
  return retry.run(self.retry, auth.send, self._env, self._auth, self.client, "GET", target)
end

function Management:_target(path)
  return self.base .. path .. "?api-version=" .. encode(self.api_version)
end

--- Reads a job (`GET .../IotHubs/{hub}/jobs/{id}`).
-- @tparam string job_id non-empty UTF-8, at most 1024 bytes, no control
--   characters, not `.` or `..`; percent-encoded for you
-- @treturn table the ARM JobResponse
-- @return[2] nil
-- @treturn[2] error e.g. 404 `JobNotFound`, an `auth` error from the credential
-- @raise on a bad id, or a closed client
function Management:get_job(job_id)
  args.self("get_job", self, mt)
  args.id("get_job", job_id)
  return reply.value("object", "job", self:_call(self:_target("/jobs/" .. encode(job_id))))
end

-- The target of a nextLink: only links to this client's own endpoint are
-- followed (the bearer token must not go anywhere else), and the client's
-- api-version is kept when the link lacks one.
function Management:_next_target(next_link)
  local prefix = self.endpoint .. "/"
  if next_link:sub(1, #prefix) ~= prefix then
    return nil, core.error("config", "nextLink does not point at the management endpoint " .. self.endpoint)
  end
  local target = next_link:sub(#prefix)
  if not target:find("[?&]api%-version=") then
    target = target .. (target:find("?", 1, true) and "&" or "?") .. "api-version=" .. encode(self.api_version)
  end
  return target
end

function Management:_page(next_link)
  local target = self:_target("/jobs")
  if next_link then
    local err
    target, err = self:_next_target(next_link)
    if not target then return nil, err end
  end
  local body, berr = reply.check("object", "job list", self:_call(target))
  if not body then return nil, berr end
  if (body.value ~= nil and type(body.value) ~= "table")
    or (body.nextLink ~= nil and type(body.nextLink) ~= "string") then
    return nil, core.error("decode", "job list did not return { value = [...], nextLink = url }")
  end
  return reply.inherit(body.value or {}, body), body.nextLink
end

--- One page of the hub's jobs (`GET .../jobs`).
-- @tparam[opt] table opts
-- @tparam[opt] string opts.next_link the `next_link` of the page before; it
--   must point at this client's endpoint (the token goes nowhere else)
-- @treturn table `{ items = { job, ... }, next_link = url or nil }` (nil on
--   the last page)
-- @return[2] nil
-- @treturn[2] error a `config` error for a link to another host, or the
--   request's error
-- @raise on unknown options
function Management:list_jobs(opts)
  args.self("list_jobs", self, mt)
  opts = args.options("list_jobs", opts, { next_link = "line" })
  local items, next_link = self:_page(opts.next_link)
  if not items then return nil, next_link end
  return reply.inherit({ items = items, next_link = next_link }, items)
end

-- The pages of the job list, { items =, next_link = }, following nextLink.
local function job_pages(self)
  return paging.pages(function(next_link) return self:_page(next_link) end, nil, nil, "next_link")
end

--- An iterator over the pages of the hub's jobs, following `nextLink`, as
-- the service client's @{Service:job_pages}.
-- @treturn function an iterator giving `{ items = { job, ... }, next_link = url or nil }`
--   (the pages @{list_jobs} gives); it raises the @{iothub.error} table when
--   a page fails
-- @usage for page in arm:job_pages() do print(#page.items, page.next_link) end
function Management:job_pages()
  args.self("job_pages", self, mt)
  return job_pages(self)
end

--- An iterator over every job of the hub, following `nextLink` (the items
-- of @{job_pages}).
-- @treturn function an iterator giving jobs; it raises the @{iothub.error}
--   table when a page fails
-- @usage for job in arm:jobs() do print(job.jobId, job.status) end
function Management:jobs()
  args.self("jobs", self, mt)
  return paging.items(job_pages(self))
end

--- Reads a job until it ends, as @{Service:wait_job}: failed and cancelled
-- jobs are results, not errors.
-- @tparam string job_id as @{get_job}'s
-- @tparam[opt] table opts
-- @tparam[opt=600] number opts.timeout seconds in all (>= 0)
-- @tparam[opt=5] number opts.interval seconds between reads (>= 0.001)
-- @tparam[opt] function opts.on_progress called with the job on the first
--   read and whenever its status changes
-- @treturn table the job, once completed, failed or cancelled
-- @return[2] nil
-- @treturn[2] error a `timeout` error with `err.job`, or a read's error
-- @raise on a bad id or option
function Management:wait_job(job_id, opts)
  args.self("wait_job", self, mt)
  args.id("wait_job", job_id)
  local env = self._env or {}
  return wait.wait("wait_job", function() return self:get_job(job_id) end, opts, env.sleep, env.clock)
end

--- Closes the client's connections (not its credential's). Idempotent; also
-- done by `__gc`, and by `__close` on Lua 5.4. Other calls then raise.
function Management:close()
  args.self("close", self, mt)
  self.client:close()
end

mt.__close = function(self) self.client:close() end
mt.__tostring = function(self) return "iothub.management: " .. self.base end

return M
