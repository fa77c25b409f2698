-- The JobRequest and JobProperties bodies, built without I/O: optional
-- fields left out (never null), falsy payloads kept, etag "*", UTC times.
local iothub = require("iothub")
local schedule = require("iothub.schedule")
local cjson = require("cjson")

local function method_body(opts)
  local id, text = schedule.device_method("schedule_device_method", opts)
  return id, cjson.decode(text), text
end

local function twin_body(opts)
  local id, text = schedule.twin_update("schedule_twin_update", opts)
  return id, cjson.decode(text), text
end

describe("device method job bodies", function()
  it("carry every given field under its REST name", function()
    local id, body = method_body { job_id = "j1", query_condition = "tags.site = 'a'", method_name = "reboot",
      payload = { delay = 5 }, response_timeout = 30, connect_timeout = 10,
      start_time = "2026-11-23T12:00:00Z", max_execution_time = 3600 }
    assert.are.equal("j1", id)
    assert.are.same({ jobId = "j1", type = "scheduleDeviceMethod", queryCondition = "tags.site = 'a'",
      cloudToDeviceMethod = { methodName = "reboot", payload = { delay = 5 },
        responseTimeoutInSeconds = 30, connectTimeoutInSeconds = 10 },
      startTime = "2026-11-23T12:00:00.000Z", maxExecutionTimeInSeconds = 3600 }, body)
  end)

  it("leave optional fields out instead of sending null", function()
    local _, body, text = method_body { query_condition = "*", method_name = "ping" }
    assert.is_nil(text:find("null", 1, true))
    assert.is_nil(body.startTime)
    assert.is_nil(body.maxExecutionTimeInSeconds)
    assert.is_nil(body.cloudToDeviceMethod.payload)
    assert.is_nil(body.cloudToDeviceMethod.responseTimeoutInSeconds)
  end)

  it("keep falsy payloads and a zero connect timeout", function()
    for _, payload in ipairs { 0, false, "" } do
      local _, _, text = method_body { query_condition = "*", method_name = "m", payload = payload, connect_timeout = 0 }
      assert.truthy(text:find('"payload":' .. cjson.encode(payload), 1, true), text)
      assert.truthy(text:find('"connectTimeoutInSeconds":0', 1, true), text)
    end
    local _, _, text = method_body { query_condition = "*", method_name = "m", payload = iothub.null }
    assert.truthy(text:find('"payload":null', 1, true))
  end)

  it("get a new UUID as job id when none is given", function()
    local a = method_body { query_condition = "*", method_name = "m" }
    local b = method_body { query_condition = "*", method_name = "m" }
    assert.truthy(a:match("^%x+%-%x+%-4%x+%-%x+%-%x+$"))
    assert.are_not.equal(a, b)
  end)

  it("send start times in UTC with a Z, from epoch numbers or ISO strings with offsets", function()
    local _, body = method_body { query_condition = "*", method_name = "m", start_time = 1795428000.25 }
    assert.are.equal("2026-11-23T10:00:00.250Z", body.startTime)
    _, body = method_body { query_condition = "*", method_name = "m", start_time = "2026-11-23T12:00:00+02:00" }
    assert.are.equal("2026-11-23T10:00:00.000Z", body.startTime)
  end)

  it("raise for missing or bad arguments", function()
    local function raises(opts, pattern)
      local ok, err = pcall(schedule.device_method, "schedule_device_method", opts)
      assert.is_false(ok)
      if pattern then assert.truthy(err:find(pattern, 1, true), err) end
    end
    raises({ method_name = "m" }, "query_condition")
    raises({ query_condition = "", method_name = "m" }, "query_condition")
    raises({ query_condition = "*" }, "method_name")
    raises({ query_condition = "*", method_name = "m", response_timeout = -1 }, "response_timeout")
    raises({ query_condition = "*", method_name = "m", connect_timeout = 1.5 }, "connect_timeout")
    raises({ query_condition = "*", method_name = "m", max_execution_time = 0 }, "max_execution_time")
    raises({ query_condition = "*", method_name = "m", start_time = "soon" }, "start_time")
    raises({ query_condition = "*", method_name = "m", start_time = -5 }, "start_time")
    raises({ query_condition = "*", method_name = "m", payload = print }, "payload")
    raises({ query_condition = "*", method_name = "m", payload = { f = print } }, "payload")
    raises({ query_condition = "*", method_name = "m", job_id = "" }, "job id")
    raises({ query_condition = "*", method_name = "m", methodName = "x" }, "unknown option 'methodName'")
    raises(nil)
  end)
end)

describe("twin update job bodies", function()
  it("set etag '*' and carry tags and desired properties", function()
    local _, body = twin_body { job_id = "t1", query_condition = "deviceId IN ['a','b']",
      twin = { tags = { site = "a" }, properties = { desired = { fw = "2.0" } } } }
    assert.are.same({ jobId = "t1", type = "scheduleUpdateTwin", queryCondition = "deviceId IN ['a','b']",
      updateTwin = { etag = "*", tags = { site = "a" }, properties = { desired = { fw = "2.0" } } } }, body)
  end)

  it("send iothub.null as JSON null so the service deletes the property", function()
    local _, _, text = twin_body { query_condition = "*", twin = { properties = { desired = { old = iothub.null } } } }
    assert.truthy(text:find('"desired":{"old":null}', 1, true), text)
  end)

  it("send empty tables as objects and iothub.array() as arrays", function()
    local _, _, text = twin_body { query_condition = "*", twin = { tags = {}, properties = { desired = { list = iothub.array() } } } }
    assert.truthy(text:find('"tags":{}', 1, true), text)
    assert.truthy(text:find('"list":[]', 1, true), text)
  end)

  it("raise for a missing twin, a non-table twin, a wrong etag or unknown twin fields", function()
    local function raises(opts, pattern)
      local ok, err = pcall(schedule.twin_update, "schedule_twin_update", opts)
      assert.is_false(ok)
      assert.truthy(err:find(pattern, 1, true), err)
    end
    raises({ query_condition = "*" }, "'twin' is required")
    raises({ query_condition = "*", twin = "tags" }, "twin")
    raises({ query_condition = "*", twin = { tags = "x" } }, "tags")
    raises({ query_condition = "*", twin = { properties = { desired = 5 } } }, "desired")
    raises({ query_condition = "*", twin = { properties = { reported = {} } } }, "reported")
    raises({ query_condition = "*", twin = { tags = {}, etag = "W/1" } }, "etag")
    raises({ query_condition = "*", twin = {} }, "tags or properties.desired")
    raises({ twin = { tags = {} } }, "query_condition")
  end)
end)

describe("import/export job bodies", function()
  it("build export and import bodies with https container URIs", function()
    assert.are.same({ type = "export", outputBlobContainerUri = "https://acct.blob/c?sas", excludeKeysInExport = true },
      cjson.decode(schedule.export_devices("export_devices", { output_blob_container_uri = "https://acct.blob/c?sas", exclude_keys = true })))
    assert.are.same({ type = "import", inputBlobContainerUri = "https://in", outputBlobContainerUri = "https://out" },
      cjson.decode(schedule.import_devices("import_devices", { input_blob_container_uri = "https://in", output_blob_container_uri = "https://out" })))
  end)

  it("raise for missing or non-https URIs", function()
    assert.has_error(function() schedule.export_devices("export_devices", {}) end)
    assert.has_error(function() schedule.export_devices("export_devices", { output_blob_container_uri = "http://x" }) end)
    assert.has_error(function() schedule.import_devices("import_devices", { input_blob_container_uri = "https://x" }) end)
  end)
end)

describe("device job queries", function()
  it("escape quotes and backslashes in the job id", function()
    local q = require("iothub.service").device_jobs_query([[it's\x]])
    assert.are.equal([[SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'it\'s\\x']], q)
  end)
end)
