-- examples/openresty/handler.lua: the job dashboard of nginx.conf here (see
-- its header for how to run it). One service client per worker, made in
-- init_worker; inside content_by_lua it sends through cosockets, so a slow
-- hub never blocks the worker's other requests.
--   GET /jobs/{id}  -> the job, or { error = ... } with 404 / 502
--   GET /jobs       -> { jobs = [ { jobId, type, status, progress } ] } of the running jobs
local iothub = require("iothub")
local json = require("iothub.json")

local M = {}
local hub     -- this worker's client

function M.init_worker()
  local endpoint = os.getenv("IOTHUB_ENDPOINT")   -- the emulator's URL; nil for a real hub
  hub = assert(iothub.service(assert(os.getenv("IOTHUB_CONNECTION_STRING"), "IOTHUB_CONNECTION_STRING is not set"),
    { endpoint = endpoint ~= "" and endpoint or nil, timeout = 10 }))
end

local function send(status, value)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(assert(json.encode(value)))
end

local function failure(err)
  local status = err.status == 404 and 404 or 502
  send(status, { error = { kind = err.kind, status = err.status, code = err.code, message = err.message,
    request_id = err.request_id } })
end

function M.jobs()
  if ngx.req.get_method() ~= "GET" then return send(405, { error = { message = "GET only" } }) end
  local id = ngx.var.uri:match("^/jobs/(.+)$")
  if id then
    local job, err = hub:get_job(ngx.unescape_uri(id))
    if not job then return failure(err) end
    return send(200, job)
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
