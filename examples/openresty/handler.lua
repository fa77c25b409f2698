-- examples/openresty/handler.lua: the job dashboard of nginx.conf here (see
-- its header for how to run it). One service client per worker, made in
-- init_worker; inside content_by_lua it sends through cosockets, so a slow
-- hub never blocks the worker's other requests, and the client takes the
-- defaults for request handlers (5 s an attempt, retries until 10 s).
--   GET /jobs/{id}  -> 200 a summary of the job, 404 no such job, 400 a bad id
--   GET /jobs       -> 200 { jobs = [ { jobId, type, status, progress } ] } of the running jobs
-- The hub's own status is never passed on (its 401 is about our credentials,
-- not the caller's): a failure upstream is 502 (refused credentials, an
-- answer that does not decode, no connection, any other error), 503 with
-- Retry-After (the hub throttles or is busy: 429, 503) or 504 (no answer in
-- time); errors are { error = { kind, status, code, message, request_id } }.
local iothub = require("iothub")
local json = require("iothub.json")

local M = {}
local hub     -- this worker's client

function M.init_worker()
  local endpoint = os.getenv("IOTHUB_ENDPOINT")   -- the emulator's URL; unset for a real hub
  local connection_string = assert(os.getenv("IOTHUB_CONNECTION_STRING"), "IOTHUB_CONNECTION_STRING is not set")
  hub = iothub.assert(iothub.service(connection_string, { endpoint = endpoint ~= "" and endpoint or nil }))
end

local function send(status, value)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(assert(json.encode(value)))
end

-- The status this handler answers for a failed call to the hub.
local function status_for(err)
  if err.status == 404 then return 404 end                 -- no such job
  if err.kind == "timeout" then return 504 end
  if err.status == 429 or err.status == 503 then return 503 end
  return 502
end

local function failure(err)
  if type(err) ~= "table" then                             -- a bug here, not the hub
    ngx.log(ngx.ERR, tostring(err))
    return send(500, { error = { message = "internal error" } })
  end
  local status = status_for(err)
  if status == 503 then ngx.header["Retry-After"] = math.ceil(err.retry_after or 1) end
  send(status, { error = { kind = err.kind, status = err.status, code = err.code, message = err.message,
    request_id = err.request_id } })
end

-- What the dashboard shows of a job: fields it names, so free-form parts
-- (a twin patch, a method payload, where [] and {} both decode to an empty
-- table) are never re-encoded as something else.
local function summary(job)
  return { jobId = job.jobId, type = job.type, status = job.status, queryCondition = job.queryCondition,
    createdTime = job.createdTime, startTime = job.startTime, endTime = job.endTime,
    failureReason = job.failureReason, progress = iothub.progress(job),
    deviceJobStatistics = job.deviceJobStatistics }
end

function M.jobs()
  if ngx.req.get_method() ~= "GET" then return send(405, { error = { message = "GET only" } }) end
  local id = ngx.var.uri:match("^/jobs/(.+)$")
  if id then
    -- Ids the library refuses (too long, control characters, "query") raise.
    local ok, job, err = pcall(hub.get_job, hub, ngx.unescape_uri(id))
    if not ok then return send(400, { error = { message = "bad job id" } }) end
    if not job then return failure(err) end
    return send(200, summary(job))
  end
  if ngx.var.uri ~= "/jobs" and ngx.var.uri ~= "/jobs/" then return send(404, { error = { message = "not found" } }) end
  local list = json.array()
  -- The iterator raises the error table on failure.
  local ok, err = pcall(function()
    for job in hub:jobs { status = "running", page_size = 100 } do
      list[#list + 1] = { jobId = job.jobId, type = job.type, status = job.status, progress = iothub.progress(job) }
    end
  end)
  if not ok then return failure(err) end
  send(200, { jobs = list })
end

return M
