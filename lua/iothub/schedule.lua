-- iothub.schedule: JobRequest bodies for scheduled jobs (PUT /jobs/v2/{id})
-- and JobProperties bodies for import/export jobs (POST /jobs/create), built
-- and checked without I/O. Optional fields are left out, never sent as null;
-- falsy payloads are kept; times go out in UTC with a Z.
local core = require("iothub.core")
local args = require("iothub.args")
local json = require("iothub.json")
local time = require("iothub.time")

local M = {}

local type, floor = type, math.floor

local function non_empty_string(fname, opts, name, required)
  local v = opts[name]
  if v == nil and not required then return nil end
  if type(v) ~= "string" or v == "" then
    args.fail(fname, ("'%s' must be a non-empty string"):format(name))
  end
  return v
end

local function whole_seconds(fname, opts, name, min)
  local v = opts[name]
  if v == nil then return nil end
  if type(v) ~= "number" or v ~= floor(v) or v < min then
    args.fail(fname, ("'%s' must be a whole number of seconds >= %d"):format(name, min))
  end
  return v
end

-- An epoch number or an ISO 8601 string, as ISO 8601 UTC with a Z.
local function start_time(fname, v)
  if v == nil then return nil end
  local t
  if type(v) == "number" then t = v
  elseif type(v) == "string" then t = time.parse(v) end
  if type(t) ~= "number" or t ~= t or t < 0 then
    args.fail(fname, "'start_time' must be epoch seconds or an ISO 8601 time")
  end
  return time.format(t)
end

local function encode(fname, body)
  local text, err = json.encode(body)
  if not text then args.fail(fname, "request body cannot be encoded: " .. err) end
  return text
end

local function job_id(fname, opts)
  local id = opts.job_id
  if id == nil then return core.uuid() end
  return args.id(fname, id, nil, args.V2_RESERVED)
end

local method_options = { job_id = "string", query_condition = "string", method_name = "string",
  payload = "string|number|boolean|table|userdata", response_timeout = "number",
  connect_timeout = "number", start_time = "number|string", max_execution_time = "number" }

-- Returns job id, JSON body of a scheduleDeviceMethod job.
function M.device_method(fname, opts)
  if type(opts) ~= "table" then args.fail(fname, "expected a table of options") end
  args.options(fname, opts, method_options)
  if type(opts.payload) == "userdata" and opts.payload ~= core.null then
    args.fail(fname, "'payload' must be a JSON value (a table, string, number, boolean or iothub.null)")
  end
  local id = job_id(fname, opts)
  local body = {
    jobId = id,
    type = "scheduleDeviceMethod",
    queryCondition = non_empty_string(fname, opts, "query_condition", true),
    cloudToDeviceMethod = {
      methodName = non_empty_string(fname, opts, "method_name", true),
      payload = opts.payload,
      responseTimeoutInSeconds = whole_seconds(fname, opts, "response_timeout", 0),
      connectTimeoutInSeconds = whole_seconds(fname, opts, "connect_timeout", 0),
    },
    startTime = start_time(fname, opts.start_time),
    maxExecutionTimeInSeconds = whole_seconds(fname, opts, "max_execution_time", 1),
  }
  return id, encode(fname, body)
end

local twin_options = { job_id = "string", query_condition = "string", twin = "table",
  start_time = "number|string", max_execution_time = "number" }

-- Returns job id, JSON body of a scheduleUpdateTwin job (etag "*": the
-- service only takes a forced update for twin jobs).
function M.twin_update(fname, opts)
  if type(opts) ~= "table" then args.fail(fname, "expected a table of options") end
  args.options(fname, opts, twin_options)
  local twin = opts.twin
  if twin == nil then args.fail(fname, "'twin' is required: { tags = {...}, properties = { desired = {...} } }") end
  args.options(fname .. " twin", twin, { tags = "table", properties = "table", etag = "string" })
  if twin.etag ~= nil and twin.etag ~= "*" then
    args.fail(fname, "twin.etag must be '*' (twin jobs are forced updates) or left out")
  end
  local properties
  if twin.properties ~= nil then
    args.options(fname .. " twin.properties", twin.properties, { desired = "table" })
    properties = { desired = twin.properties.desired }
  end
  if twin.tags == nil and (properties == nil or properties.desired == nil) then
    args.fail(fname, "'twin' needs tags or properties.desired")
  end
  local id = job_id(fname, opts)
  local body = {
    jobId = id,
    type = "scheduleUpdateTwin",
    queryCondition = non_empty_string(fname, opts, "query_condition", true),
    updateTwin = { etag = "*", tags = twin.tags, properties = properties },
    startTime = start_time(fname, opts.start_time),
    maxExecutionTimeInSeconds = whole_seconds(fname, opts, "max_execution_time", 1),
  }
  return id, encode(fname, body)
end

local function https_uri(fname, opts, name)
  local v = non_empty_string(fname, opts, name, true)
  if not v:match("^https://") then args.fail(fname, ("'%s' must be an https:// URI"):format(name)) end
  return v
end

-- JSON body of an export job.
function M.export_devices(fname, opts)
  opts = args.options(fname, opts, { output_blob_container_uri = "string", exclude_keys = "boolean" })
  return encode(fname, {
    type = "export",
    outputBlobContainerUri = https_uri(fname, opts, "output_blob_container_uri"),
    excludeKeysInExport = opts.exclude_keys,
  })
end

-- JSON body of an import job.
function M.import_devices(fname, opts)
  opts = args.options(fname, opts, { input_blob_container_uri = "string", output_blob_container_uri = "string" })
  return encode(fname, {
    type = "import",
    inputBlobContainerUri = https_uri(fname, opts, "input_blob_container_uri"),
    outputBlobContainerUri = https_uri(fname, opts, "output_blob_container_uri"),
  })
end

return M
