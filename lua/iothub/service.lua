--- iothub.service: the IoT Hub service-API client, authorised by a shared
-- access signature (connection string) or Azure AD bearer tokens (host
-- name and iothub.credential; iothub.auth has both): job reads, queries
-- with paging, concurrent reads, scheduling, cancelling and waiting,
-- per-device results, import/export jobs; twins and device queries come
-- from iothub.twins. The C core signs (SAS), sends and decodes; this file
-- builds paths and checks arguments.
--
-- A `Service` is what @{iothub.service} returns (`hub` below). Jobs are
-- JobResponse tables with the REST field names (`jobId`, `type`, `status`,
-- `startTime`, `endTime`, `deviceJobStatistics`, `cloudToDeviceMethod`,
-- `updateTwin`, `failureReason`, ...). Failures return `nil, err` (an
-- @{iothub.error}); iterators raise it.
-- @classmod Service
local core = require("iothub.core")
local args = require("iothub.args")
local auth = require("iothub.auth")
local credential = require("iothub.credential")
local paging = require("iothub.paging")
local reply = require("iothub.reply")
local retry = require("iothub.retry")
local transport = require("iothub.transport")
local json = require("iothub.json")
local schedule = require("iothub.schedule")
local wait = require("iothub.wait")
local twins = require("iothub.twins")

local Service = {}
local mt = { __index = Service, __name = "iothub.service" }

local type, tostring, setmetatable, ipairs = type, tostring, setmetatable, ipairs
local encode = core.percent_encode

local DEFAULT_API_VERSION = "2020-05-31-preview"
-- The Azure AD scope of the service API (every cloud).
local IOTHUB_SCOPE = "https://iothubs.azure.net/.default"

local option_types = transport.extend(transport.option_types, { api_version = "line", sas_ttl = "number" })
local option_min = transport.extend(transport.option_min, { sas_ttl = 1 })
-- The Azure AD form: the same options but sas_ttl, plus where and who.
local aad_option_types = transport.extend(transport.option_types,
  { api_version = "line", host_name = "line", credential = "table" })

local job_types = { scheduleDeviceMethod = true, scheduleUpdateTwin = true, export = true, import = true,
  backup = true, factoryResetDevice = true, failoverDataCopy = true, firmwareUpdate = true,
  readDeviceProperties = true, rebootDevice = true, restoreFromBackup = true, unknown = true,
  updateDeviceConfiguration = true, writeDeviceProperties = true }
local job_statuses = { unknown = true, enqueued = true, running = true, completed = true,
  failed = true, cancelled = true, scheduled = true, queued = true }

-- Statuses of devices.jobs rows (the service spells it "canceled" there).
local device_job_statuses = { pending = true, scheduled = true, running = true,
  completed = true, failed = true, canceled = true }

local M = { DEFAULT_API_VERSION = DEFAULT_API_VERSION }

-- The options both forms share, checked; the retry policy.
local function common(opts)
  if opts.retry == true then args.fail("service", "option 'retry' must be a table or false") end
  local policy = retry.policy("service", opts.retry)
  if opts.api_version == "" then args.fail("service", "option 'api_version' must not be empty") end
  return policy
end

local function new_hub(client, policy, opts, how, host_name)
  return setmetatable({
    client = client,
    retry = policy,
    api_query = "api-version=" .. encode(opts.api_version or DEFAULT_API_VERSION),
    _auth = how or auth.sas(client),
    _host_name = host_name,
  }, mt)
end

-- iothub.service{ host_name =, credential =, endpoint =, ... }: Azure AD
-- bearer tokens for IOTHUB_SCOPE, for hubs with SAS disabled.
local function new_aad(opts, extra)
  if extra ~= nil then
    args.fail("service", "give the options in one table (host_name, credential, ...), got a second argument")
  end
  opts = args.options("service", opts, aad_option_types, transport.option_min)
  local host_name = opts.host_name
  if host_name == nil then args.fail("service", "option 'host_name' is required (e.g. \"myhub.azure-devices.net\")") end
  local bad = core.authority_check(host_name)
  if bad then
    args.fail("service", "option 'host_name' must be a host name such as \"myhub.azure-devices.net\" "
      .. "(no scheme or path): it " .. bad)
  end
  if not credential.is_credential(opts.credential) then
    args.fail("service", "option 'credential' must be made by iothub.credential "
      .. "(client_secret, managed_identity, environment, static)")
  end
  local policy = common(opts)
  local client, err = transport.client(nil, opts, opts.endpoint or "https://" .. host_name)
  if not client then return nil, err end
  return new_hub(client, policy, opts, auth.bearer(opts.credential, IOTHUB_SCOPE), host_name)
end

-- iothub.service(connection_string [, opts]) -> hub | nil, err
-- iothub.service{ host_name =, credential =, ... } -> hub | nil, err
function M.new(connection_string, opts)
  if type(connection_string) == "table" then return new_aad(connection_string, opts) end
  if type(connection_string) ~= "string" then
    args.fail("service", "connection string must be a string, got " .. type(connection_string))
  end
  opts = args.options("service", opts, option_types, option_min)
  local policy = common(opts)
  local client, err = transport.client(connection_string, opts)
  if not client then return nil, err end
  return new_hub(client, policy, opts)
end

-- "/jobs/v2/<id>?api-version=..." with every segment percent-encoded.
function Service:_target(path, query)
  local target = path .. "?" .. self.api_query
  if query then
    for i = 1, #query, 2 do
      if query[i + 1] ~= nil then
        target = target .. "&" .. query[i] .. "=" .. encode(query[i + 1])
      end
    end
  end
  return target
end

-- One request, re-signed (or with a fresh token) and sent once more after
-- a 401 (iothub.auth).
local function send(self, method, target, headers, body)
  return auth.send(self._auth, self.client, method, target, headers, body)
end

-- One request; retried under the policy when `safe` (it cannot run a job
-- twice). self._env may hold sleep, clock and random for tests.
function Service:_call(safe, method, target, headers, body)
  return retry.run(safe and self.retry or nil, send, self._env, self, method, target, headers, body)
end

--- Jobs
-- @section jobs

--- Reads a job (`GET /jobs/v2/{id}`).
-- @tparam string job_id non-empty UTF-8, at most 1024 bytes, no control
--   characters, not `.`, `..` or `query` (any case: `/jobs/v2/query` is the
--   job list); percent-encoded for you
-- @treturn table the JobResponse
-- @return[2] nil
-- @treturn[2] error e.g. `http` 404 `JobNotFound`
-- @raise on a bad `job_id`, or a closed client
function Service:get_job(job_id)
  args.self("get_job", self, mt)
  args.id("get_job", job_id, nil, args.V2_RESERVED)
  return reply.value("object", "job", self:_call(true, "GET", self:_target("/jobs/v2/" .. encode(job_id))))
end

local query_options = { type = "string", status = "string", page_size = "number",
  continuation = "line", limit = "number" }
local query_min = { page_size = 1, limit = 0 }

local function check_query(fname, opts, allow_continuation, allow_limit)
  opts = args.options(fname, opts, query_options, query_min)
  if opts.type and not job_types[opts.type] then
    args.fail(fname, "unknown job type '" .. opts.type .. "'")
  end
  if opts.status and not job_statuses[opts.status] then
    args.fail(fname, "unknown job status '" .. opts.status .. "'")
  end
  if opts.continuation and not allow_continuation then
    args.fail(fname, "option 'continuation' is for query_jobs; iterators follow pages themselves")
  end
  if opts.limit and not allow_limit then
    args.fail(fname, "option 'limit' is for the jobs and job_pages iterators")
  end
  if opts.page_size and opts.page_size % 1 ~= 0 then
    args.fail(fname, "option 'page_size' must be a whole number")
  end
  return opts
end

-- One page of GET /jobs/v2/query: items, next continuation | nil, err.
function Service:_query_page(opts, continuation, page_size)
  local headers = {}
  if page_size then headers["x-ms-max-item-count"] = tostring(page_size) end
  if continuation then headers["x-ms-continuation"] = continuation end
  return reply.page("job query", self:_call(true, "GET",
    self:_target("/jobs/v2/query", { "jobType", opts.type, "jobStatus", opts.status }), headers))
end

--- One page of the job list (`GET /jobs/v2/query`).
-- @tparam[opt] table opts
-- @tparam[opt] string opts.type a job type (`scheduleDeviceMethod`,
--   `scheduleUpdateTwin`, `export`, `import`, ...)
-- @tparam[opt] string opts.status `queued`, `enqueued`, `scheduled`,
--   `running`, `completed`, `failed`, `cancelled` or `unknown`
-- @tparam[opt] number opts.page_size jobs per page (a whole number >= 1;
--   default: the service's)
-- @tparam[opt] string opts.continuation the token of the page before
-- @treturn table `{ items = { job, ... }, continuation = token or nil }`
--   (nil on the last page)
-- @return[2] nil
-- @treturn[2] error
-- @raise on an unknown type, status or option, a `limit` (iterators only)
-- @usage local page = iothub.assert(hub:query_jobs{ page_size = 20 })
-- if page.continuation then
--   page = iothub.assert(hub:query_jobs{ page_size = 20, continuation = page.continuation })
-- end
function Service:query_jobs(opts)
  args.self("query_jobs", self, mt)
  opts = check_query("query_jobs", opts, true, false)
  local items, continuation = self:_query_page(opts, opts.continuation, opts.page_size)
  if not items then return nil, continuation end
  return reply.inherit({ items = items, continuation = continuation }, items)
end

--- An iterator over the pages of the job list, fetched as the loop goes.
-- @tparam[opt] table opts `type`, `status` and `page_size` as
--   @{query_jobs}, and:
-- @tparam[opt] number opts.limit at most this many jobs in all (the last
--   page asks for fewer)
-- @treturn function an iterator giving `{ items = { job, ... }, continuation = token or nil }`;
--   it raises the @{iothub.error} table when a page fails
-- @raise on an unknown type, status or option, a `continuation`
-- @usage for page in hub:job_pages{ page_size = 100, limit = 500 } do print(#page.items) end
function Service:job_pages(opts)
  args.self("job_pages", self, mt)
  opts = check_query("job_pages", opts, false, true)
  return paging.pages(function(token, size)
    return self:_query_page(opts, token, size)
  end, opts.page_size, opts.limit)
end

--- An iterator over the jobs of every page (@{job_pages}, item by item).
-- @tparam[opt] table opts as @{job_pages}: `type`, `status`, `page_size`, `limit`
-- @treturn function an iterator giving jobs; it raises the @{iothub.error}
--   table when a page fails
-- @raise on an unknown type, status or option, a `continuation`
-- @usage for job in hub:jobs{ type = "scheduleUpdateTwin", status = "running" } do
--   print(job.jobId, iothub.progress(job))
-- end
function Service:jobs(opts)
  args.self("jobs", self, mt)
  opts = check_query("jobs", opts, false, true)
  return paging.items(paging.pages(function(token, size)
    return self:_query_page(opts, token, size)
  end, opts.page_size, opts.limit))
end

--- Reads many jobs at once, concurrently over kept-alive connections (light
-- threads under nginx, the non-blocking loop inside a task). An id given
-- twice is read once. Ids that failed transiently are read again under the
-- @{iothub.retry} policy; ids refused with 401 in the first round go again
-- once, with a fresh signature.
-- @tparam {string,...} ids job ids (as @{get_job}'s)
-- @tparam[opt] table opts
-- @tparam[opt=8] number opts.concurrency requests in flight, a whole number 1..256
-- @treturn table results: job id -> JobResponse
-- @treturn table errors: job id -> @{iothub.error} (with `attempts`)
-- @raise when `ids` is not a table, on a bad id or concurrency
-- @usage local results, errors = hub:get_jobs({ "job-a", "job-b" }, { concurrency = 16 })
-- for id, err in pairs(errors) do print(id, err) end
function Service:get_jobs(ids, opts)
  args.self("get_jobs", self, mt)
  if type(ids) ~= "table" then args.fail("get_jobs", "expected a list of job ids, got " .. type(ids)) end
  opts = args.options("get_jobs", opts, { concurrency = "number" }, { concurrency = 1 })
  local concurrency = opts.concurrency or 8
  if concurrency % 1 ~= 0 or concurrency > 256 then
    args.fail("get_jobs", "option 'concurrency' must be a whole number from 1 to 256")
  end
  local requests, order, seen = {}, {}, {}
  for i = 1, #ids do
    local id = args.id("get_jobs", ids[i], nil, args.V2_RESERVED)
    if not seen[id] then
      seen[id] = true
      order[#order + 1] = id
      requests[#requests + 1] = { "GET", self:_target("/jobs/v2/" .. encode(id)) }
    end
  end
  local results, errors = {}, {}
  local pending = {}
  for i = 1, #order do pending[i] = i end
  -- Each round sends what is still pending; transient failures go again,
  -- after the policy's wait, until the attempts run out.
  local attempt, policy, env, renewed = 0, self.retry, self._env or {}, nil
  while #pending > 0 do
    attempt = attempt + 1
    -- Each round's requests carry the current token (SAS: none, the core signs).
    local headers, herr, used = auth.headers(self._auth)
    if herr then
      -- No bearer token to be had: the credential's error for every id left.
      for _, i in ipairs(pending) do results[order[i]], errors[order[i]] = nil, herr end
      break
    end
    local batch = {}
    for k, i in ipairs(pending) do
      local r = requests[i]
      batch[k] = { r[1], r[2], headers }
    end
    local values, failures = transport.request_many(self.client, batch, concurrency)
    local again, pause = {}, 0
    for k, i in ipairs(pending) do
      local id, value, err = order[i], values[k], failures[k]
      if value ~= nil then value, err = reply.check("object", "job", value) end
      results[id], errors[id] = value, err
      if err then
        err.attempts = attempt
        -- Every read of the first round went with the same token: one
        -- renewal (tried once) lets all those refused with 401 go again.
        if attempt == 1 and err.status == 401 then
          if renewed == nil then renewed = auth.renew(self._auth, err, used) and true or false end
          if renewed then again[#again + 1] = i end
        elseif err.retryable and policy and attempt < policy.attempts then
          again[#again + 1] = i
          pause = math.max(pause, retry.delay(policy, attempt, err, env.random))
        end
      end
    end
    pending = again
    if #pending > 0 then (env.sleep or transport.sleep)(pause) end
  end
  return results, errors
end

-- PUT /jobs/v2/{id} with a JobRequest body built by iothub.schedule. The id
-- makes it safe to retry: a second PUT cannot start a second job. When a
-- retry meets 409, the first attempt created the job and only its answer
-- was lost, so the job is read back instead.
function Service:_put_job(id, body)
  local target = self:_target("/jobs/v2/" .. encode(id))
  local attempts = 0
  local job, err, status = retry.run(self.retry, function()
    attempts = attempts + 1
    return send(self, "PUT", target, nil, body)
  end, self._env)
  if not job and attempts > 1 and err.status == 409 then
    return self:get_job(id)
  end
  return reply.value("object", "job", job, err, status)
end

--- Schedules a direct method on every device matching a query
-- (`PUT /jobs/v2/{id}`, a `scheduleDeviceMethod` job). The job id makes it
-- safe to repeat: the PUT is retried like a read, a retry meeting 409 (the
-- first attempt created the job, its answer was lost) reads the job back,
-- and calling again with the same `job_id` cannot start a second job (it
-- returns the service's 409). Give your own `job_id` to be able to repeat
-- a call after a failure.
-- @tparam table opts
-- @tparam string opts.query_condition which devices (`"*"`: all,
--   `"tags.site = 'paris'"`, `"deviceId IN ['a', 'b']"`)
-- @tparam string opts.method_name the direct method
-- @param[opt] opts.payload its payload: a table, string, number, boolean or
--   @{iothub.null} (sent as JSON; left out when nil)
-- @tparam[opt] string opts.job_id default: a new UUID
-- @tparam[opt] number opts.response_timeout seconds a device has to answer
--   (whole, >= 0; default: the service's)
-- @tparam[opt] number opts.connect_timeout seconds to wait for an offline
--   device to connect (whole, >= 0; default: the service's)
-- @tparam[opt] number|string opts.start_time epoch seconds or an ISO 8601
--   time, sent in UTC (default: now)
-- @tparam[opt] number opts.max_execution_time seconds the job may run
--   (whole, >= 1; default: the service's)
-- @treturn table the new JobResponse
-- @return[2] nil
-- @treturn[2] error e.g. `http` 409 for an id that exists, 400
--   `ArgumentInvalid` for a query the service cannot parse
-- @raise on a missing or empty `query_condition` or `method_name`, a bad
--   id, time or number, a payload that cannot be JSON, unknown options
-- @usage local job = iothub.assert(hub:schedule_device_method{ job_id = "reboot-2026-12",
--   query_condition = "tags.ring = 'beta'", method_name = "reboot",
--   payload = { delay = 5 }, response_timeout = 30 })
function Service:schedule_device_method(opts)
  args.self("schedule_device_method", self, mt)
  return self:_put_job(schedule.device_method("schedule_device_method", opts))
end

--- Schedules a twin update on every device matching a query
-- (`PUT /jobs/v2/{id}`, a `scheduleUpdateTwin` job). The etag is `"*"`
-- (the service takes only forced updates for twin jobs). `job_id` makes it
-- safe to repeat, as in @{schedule_device_method}.
-- @tparam table opts
-- @tparam string opts.query_condition which devices
-- @tparam table opts.twin `{ tags = {...}, properties = { desired = {...} } }`
--   (at least one of them; @{iothub.null} deletes a property,
--   @{iothub.array} sends an array; `etag` may only be `"*"`)
-- @tparam[opt] string opts.job_id default: a new UUID
-- @tparam[opt] number|string opts.start_time epoch seconds or an ISO 8601
--   time (default: now)
-- @tparam[opt] number opts.max_execution_time seconds (whole, >= 1;
--   default: the service's)
-- @treturn table the new JobResponse
-- @return[2] nil
-- @treturn[2] error
-- @raise on a missing `query_condition` or `twin`, a twin with neither
--   tags nor desired properties, other fields in it, bad ids, times or numbers
-- @usage iothub.assert(hub:schedule_twin_update{ query_condition = "tags.site = 'paris'",
--   twin = { properties = { desired = { fw = "2.0", old = iothub.null } } },
--   start_time = os.time() + 60 })
function Service:schedule_twin_update(opts)
  args.self("schedule_twin_update", self, mt)
  return self:_put_job(schedule.twin_update("schedule_twin_update", opts))
end

--- Cancels a job (`POST /jobs/v2/{id}/cancel`); devices not reached yet
-- are left `canceled`.
-- @tparam string job_id non-empty UTF-8, at most 1024 bytes, no control
--   characters, not `.`, `..` or `query` (any case: `/jobs/v2/query` is the
--   job list); percent-encoded for you
-- @treturn table the JobResponse
-- @return[2] nil
-- @treturn[2] error e.g. `JobNotFound`
-- @raise on a bad `job_id`, or a closed client
function Service:cancel_job(job_id)
  args.self("cancel_job", self, mt)
  args.id("cancel_job", job_id, nil, args.V2_RESERVED)
  return reply.value("object", "job",
    self:_call(true, "POST", self:_target("/jobs/v2/" .. encode(job_id) .. "/cancel")))
end

--- Reads a job every `interval` seconds until it ends, and returns it. A
-- job that failed or was cancelled is a result too, not an error: check it
-- with @{iothub.is_succeeded}; a `completed` job can still have failed
-- devices (`deviceJobStatistics.failedCount`, @{device_jobs}). Transient
-- read errors do not end the wait; others are returned at once.
-- @tparam string job_id non-empty UTF-8, at most 1024 bytes, no control
--   characters, not `.`, `..` or `query` (any case: `/jobs/v2/query` is the
--   job list); percent-encoded for you
-- @tparam[opt] table opts
-- @tparam[opt=600] number opts.timeout seconds in all (>= 0)
-- @tparam[opt=5] number opts.interval seconds between reads (>= 0.001)
-- @tparam[opt] function opts.on_progress called with the job on the first
--   read and whenever its status or device statistics change
-- @treturn table the job, once completed, failed or cancelled
-- @return[2] nil
-- @treturn[2] error a `timeout` error with `err.job` (the last state seen)
--   and `err.cause` (the last transient error), or a read's error
-- @raise on a bad id or option
-- @usage local job, err = hub:wait_job(id, { timeout = 300, interval = 2,
--   on_progress = function(j) print(j.status, iothub.progress(j)) end })
-- if job and not iothub.is_succeeded(job) then print(job.failureReason) end
function Service:wait_job(job_id, opts)
  args.self("wait_job", self, mt)
  args.id("wait_job", job_id, nil, args.V2_RESERVED)
  local env = self._env or {}
  return wait.wait("wait_job", function() return self:get_job(job_id) end, opts, env.sleep, env.clock)
end

-- A string literal of the query language: quotes and backslashes escaped
-- (the query language escapes with "\").
local function literal(s)
  return "'" .. s:gsub("[\\']", "\\%0") .. "'"
end

-- A devices.jobs query for one job, and the rows of one status only when
-- `status` is given (the service filters, so a large job's failures do not
-- need every row paged through).
local function device_jobs_query(job_id, status)
  local text = "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = " .. literal(job_id)
  if status then text = text .. " AND devices.jobs.status = " .. literal(status) end
  return text
end
M.device_jobs_query = device_jobs_query

-- One page of POST /devices/query: items, next continuation, item type | nil, err.
function Service:_device_query_page(query_text, continuation, page_size)
  local headers = {}
  if page_size then headers["x-ms-max-item-count"] = tostring(page_size) end
  if continuation then headers["x-ms-continuation"] = continuation end
  local body = json.encode({ query = query_text })
  local value, resp_headers, status = self:_call(true, "POST", self:_target("/devices/query"), headers, body)
  local items, token = reply.page("device query", value, resp_headers, status)
  if not items then return nil, token end
  return items, token, resp_headers["x-ms-item-type"]
end

--- An iterator over a job's per-device rows (`devices.jobs`: `deviceId`,
-- `status`, `outcome`, `error`, ...), through `POST /devices/query`.
-- @tparam string job_id the job (checked as @{get_job}'s, but `query` is
--   allowed: it goes into the query text as a quoted literal)
-- @tparam[opt] table opts
-- @tparam[opt] number opts.page_size rows per page (>= 1)
-- @tparam[opt] string opts.status only the rows with this status, filtered
--   by the service: `pending`, `scheduled`, `running`, `completed`,
--   `failed`, `canceled` (or `cancelled`)
-- @treturn function an iterator giving rows; it raises the @{iothub.error}
--   table when a page fails
-- @raise on a bad id, status or option
-- @usage for row in hub:device_jobs(job.jobId, { status = "failed" }) do
--   print(row.deviceId, row.error and row.error.code)
-- end
function Service:device_jobs(job_id, opts)
  args.self("device_jobs", self, mt)
  args.id("device_jobs", job_id)
  opts = args.options("device_jobs", opts, { page_size = "number", status = "string" }, { page_size = 1 })
  -- Rows spell it "canceled"; the status helpers accept both spellings.
  local status = opts.status == "cancelled" and "canceled" or opts.status
  if status and not device_job_statuses[status] then
    args.fail("device_jobs", "unknown device job status '" .. status .. "'")
  end
  local query_text = device_jobs_query(job_id, status)
  return paging.items(paging.pages(function(token, size)
    return self:_device_query_page(query_text, token, size)
  end, opts.page_size))
end

-- Import/export jobs (the v1 jobs API). Creating one is never retried: the
-- service picks the id, so a retry could start a second job.

--- Starts a job exporting the device identities to a blob container
-- (`POST /jobs/create`, type `export`). Never retried: the service picks
-- the id, so a retry could start a second job.
-- @tparam table opts
-- @tparam string opts.output_blob_container_uri an `https://` container URI
--   with a SAS the hub can write with
-- @tparam[opt] boolean opts.exclude_keys leave the devices' keys out
-- @treturn table the JobProperties (`jobId`, `type`, `status`, ...)
-- @return[2] nil
-- @treturn[2] error
-- @raise on a missing or non-https URI, unknown options
function Service:export_devices(opts)
  args.self("export_devices", self, mt)
  return reply.value("object", "import/export job", self:_call(false, "POST", self:_target("/jobs/create"), nil,
    schedule.export_devices("export_devices", opts)))
end

--- Starts a job importing device identities from a blob container
-- (`POST /jobs/create`, type `import`). Never retried, as @{export_devices}.
-- @tparam table opts
-- @tparam string opts.input_blob_container_uri an `https://` container URI
--   holding the devices to import
-- @tparam string opts.output_blob_container_uri an `https://` container
--   URI for the import's log
-- @treturn table the JobProperties
-- @return[2] nil
-- @treturn[2] error
-- @raise on a missing or non-https URI, unknown options
function Service:import_devices(opts)
  args.self("import_devices", self, mt)
  return reply.value("object", "import/export job", self:_call(false, "POST", self:_target("/jobs/create"), nil,
    schedule.import_devices("import_devices", opts)))
end

--- Reads an import/export job (`GET /jobs/{id}`).
-- @tparam string job_id as @{get_job}'s, but `create` and `v2` (any case)
--   are refused instead of `query`
-- @treturn table the JobProperties
-- @return[2] nil
-- @treturn[2] error
-- @raise on a bad `job_id`, or a closed client
function Service:get_import_export_job(job_id)
  args.self("get_import_export_job", self, mt)
  args.id("get_import_export_job", job_id, nil, args.V1_RESERVED)
  return reply.value("object", "import/export job", self:_call(true, "GET", self:_target("/jobs/" .. encode(job_id))))
end

--- Lists the hub's import/export jobs (`GET /jobs`, one answer, no paging).
-- @treturn {table,...} JobProperties tables (empty when there are none)
-- @return[2] nil
-- @treturn[2] error
-- @raise on a closed client
function Service:import_export_jobs()
  args.self("import_export_jobs", self, mt)
  return reply.value("array", "import/export job list", self:_call(true, "GET", self:_target("/jobs")))
end

--- Cancels an import/export job (`DELETE /jobs/{id}`).
-- @tparam string job_id as @{get_import_export_job}'s
-- @treturn true|table `true` (the service's 204), or the JobProperties
--   when the job had already ended
-- @return[2] nil
-- @treturn[2] error
-- @raise on a bad `job_id`, or a closed client
function Service:cancel_import_export_job(job_id)
  args.self("cancel_import_export_job", self, mt)
  args.id("cancel_import_export_job", job_id, nil, args.V1_RESERVED)
  return reply.value("object_or_empty", "import/export job",
    self:_call(true, "DELETE", self:_target("/jobs/" .. encode(job_id))))
end

--- The client
-- @section client

--- Counters of the client, for tests and monitoring; works after @{close}.
-- @treturn table `{ signatures =, requests =, connections = }` (requests
--   sent and connections opened, totals); under OpenResty also
--   `curl_requests`, `curl_connections`, `cosocket_requests` and
--   `cosocket_connections`
function Service:stats()
  args.self("stats", self, mt)
  return self.client:stats()
end

--- Closes the client's connections. Idempotent; also done by `__gc`, and
-- by `__close` (`local hub <close> = ...` on Lua 5.4). Other calls then raise.
function Service:close()
  args.self("close", self, mt)
  self.client:close()
end

twins.mixin(Service, mt)

mt.__close = function(self) self.client:close() end
mt.__tostring = function(self)
  if self._host_name then
    return "iothub.service: (" .. (self.client:is_closed() and "closed" or self._host_name .. ", Azure AD") .. ")"
  end
  return "iothub.service: " .. tostring(self.client):gsub("^iothub%.client ", "")
end

return M
