-- Twins and queries over real HTTPS against the emulator: get_twin,
-- update_twin (PATCH) and replace_twin (PUT) with etags and 412, module
-- twins, odd device ids, null round trips; query pages with continuation
-- tokens, projections and aggregates, rows and twins iterators, bad queries
-- (nil, err from query; raised by iterators); device_jobs filtered by
-- status; all of it inside iothub.spawn tasks too.
local iothub = require("iothub")
local core = require("iothub.core")
local cjson = require("cjson")
local H = require("helpers")

local function drain(max_seconds)
  local deadline = core.monotonic() + (max_seconds or 10)
  while iothub.pending() > 0 and core.monotonic() < deadline do iothub.poll(0.05) end
end

-- The values a call returns, packed, to check that a success returns
-- exactly one.
local function pack(...) return { n = select("#", ...), ... } end

-- The last request the emulator logged with this method.
local function last(method)
  local log = H.requests()
  for i = #log, 1, -1 do
    if log[i].method == method then return log[i] end
  end
end

-- A device made through the control API (tags may hold JSON null).
local function plant_device(id, twin_json)
  H.control("PUT", "devices/" .. core.percent_encode(id), '{"twin": ' .. twin_json .. "}")
end

local function collect(iterator, field)
  local out = {}
  for row in iterator do out[#out + 1] = field and row[field] or row end
  return out
end

describe("hub:get_twin", function()
  local hub
  setup(function() H.reset(); hub = H.hub() end)
  teardown(function() hub:close() end)

  it("returns exactly the device twin, with REST field names", function()
    local r = pack(hub:get_twin("device-001"))
    assert.are.equal(1, r.n)
    local twin = r[1]
    assert.are.equal("device-001", twin.deviceId)
    assert.are.equal("AAAAAAAAAAI=", twin.etag)
    assert.are.equal(2, twin.version)
    assert.are.equal("Connected", twin.connectionState)
    assert.are.equal("paris", twin.tags.site)
    assert.are.equal(60, twin.properties.desired.telemetryInterval)
    assert.are.equal(1, twin.properties.desired["$version"])
    assert.are.equal(1, twin.properties.desired["$metadata"].telemetryInterval["$lastUpdatedVersion"])
    assert.are.equal("1.0.0", twin.properties.reported.fw.version)
    assert.is_string(twin.properties.reported["$metadata"].fw["$lastUpdated"])
    -- a schema field that is null (x509Thumbprint's) is absent
    assert.is_nil(twin.x509Thumbprint.primaryThumbprint)
    if math.type then
      assert.are.equal("integer", math.type(twin.version))
      assert.are.equal("integer", math.type(twin.properties.desired["$version"]))
    end
  end)

  it("returns a module twin", function()
    local twin = assert(hub:get_twin("device-001", "camera"))
    assert.are.equal("device-001", twin.deviceId)
    assert.are.equal("camera", twin.moduleId)
    assert.are.equal(5, twin.properties.reported.rate)
  end)

  it("returns nil and DeviceNotFound / ModuleNotFound errors", function()
    local r = pack(hub:get_twin("nobody"))
    assert.are.equal(2, r.n)
    assert.is_nil(r[1])
    assert.are.equal(404, r[2].status)
    assert.are.equal("DeviceNotFound", r[2].code)
    assert.are.equal(404001, r[2].error_code)
    local twin, err = hub:get_twin("device-004", "camera")
    assert.is_nil(twin)
    assert.are.equal("ModuleNotFound", err.code)
    assert.is_false(err.retryable)
  end)

  it("raises for bad ids, at the caller's line", function()
    assert.has_error(function() hub:get_twin(nil) end, "iothub.get_twin: device id must be a string, got nil")
    assert.has_error(function() hub:get_twin("") end)
    assert.has_error(function() hub:get_twin("a\nb") end)
    assert.has_error(function() hub:get_twin("device-001", 3) end)
    assert.has_error(function() hub.get_twin("device-001") end)
    local ok, msg = pcall(function() hub:get_twin(42) end)
    assert.is_false(ok)
    assert.truthy(msg:find("25%-twins_spec%.lua:%d+: iothub%.get_twin"), msg)
  end)
end)

describe("hub:update_twin and hub:replace_twin", function()
  local hub
  before_each(function() H.reset(); hub = H.hub() end)
  after_each(function() hub:close() end)

  it("merge a patch, delete properties given iothub.null, and return exactly the new twin", function()
    local r = pack(hub:update_twin("device-002", {
      tags = { site = "oslo", floor = iothub.null, ring = { name = "beta" } },
      properties = { desired = { fw = { version = "2.0" }, telemetryInterval = iothub.null } } }))
    assert.are.equal(1, r.n)
    local twin = r[1]
    assert.are.equal("oslo", twin.tags.site)
    assert.is_nil(twin.tags.floor)
    assert.are.equal("beta", twin.tags.ring.name)
    assert.are.equal("2.0", twin.properties.desired.fw.version)
    assert.is_nil(twin.properties.desired.telemetryInterval)
    assert.are.equal(2, twin.properties.desired["$version"])
    assert.are.equal(3, twin.version)
    assert.are.equal("*", last("PATCH").headers["if-match"])
    assert.are.same(twin, hub:get_twin("device-002"))
  end)

  it("send the etag quoted in If-Match; a stale one is nil, err with status 412", function()
    local before = assert(hub:get_twin("device-003"))
    local after = assert(hub:update_twin("device-003", { tags = { a = 1 } }, { etag = before.etag }))
    assert.are.equal('"' .. before.etag .. '"', last("PATCH").headers["if-match"])
    assert.are_not.equal(before.etag, after.etag)
    local r = pack(hub:update_twin("device-003", { tags = { a = 2 } }, { etag = before.etag }))
    assert.are.equal(2, r.n)
    assert.is_nil(r[1])
    assert.are.equal(412, r[2].status)
    assert.are.equal("PreconditionFailed", r[2].code)
    assert.are.equal("http", r[2].kind)
    assert.are.equal(1, hub:get_twin("device-003").tags.a)
    -- an etag already quoted is sent as it is; "*" forces
    assert(hub:update_twin("device-003", { tags = { a = 3 } }, { etag = '"' .. after.etag .. '"' }))
    assert.are.equal('"' .. after.etag .. '"', last("PATCH").headers["if-match"])
    assert.are.equal(3, assert(hub:update_twin("device-003", { tags = { a = 3 } }, { etag = "*" })).tags.a)
  end)

  it("replace tags and desired properties with PUT, leaving reported ones", function()
    local before = assert(hub:get_twin("device-005"))
    local twin = assert(hub:replace_twin("device-005", { tags = { only = true },
      properties = { desired = { mode = "eco" } } }, { etag = before.etag }))
    assert.are.equal("PUT", last("PUT").method)
    assert.are.same({ only = true }, twin.tags)
    assert.are.equal("eco", twin.properties.desired.mode)
    assert.is_nil(twin.properties.desired.telemetryInterval)
    assert.are.same(before.properties.reported, twin.properties.reported)
    local none, err = hub:replace_twin("device-005", { tags = {} }, { etag = before.etag })
    assert.is_nil(none)
    assert.are.equal(412, err.status)
  end)

  it("replace a twin read, changed and sent back whole", function()
    local twin = assert(hub:get_twin("device-010"))
    twin.tags.site = "oslo"
    twin.properties.desired.mode = "eco"
    local after = assert(hub:replace_twin("device-010", twin, { etag = twin.etag }))
    assert.are.equal("oslo", after.tags.site)
    assert.are.equal("eco", after.properties.desired.mode)
    assert.are.equal(60, after.properties.desired.telemetryInterval)
    assert.are.equal(twin.version + 1, after.version)
    assert.are.equal(2, after.properties.desired["$version"])
  end)

  it("write module twins with the module_id option", function()
    local twin = assert(hub:update_twin("device-002", { properties = { desired = { rate = 99 } } },
      { module_id = "sensor" }))
    assert.are.equal("sensor", twin.moduleId)
    assert.are.equal(99, twin.properties.desired.rate)
    assert.are.equal("/twins/device-002/modules/sensor", last("PATCH").path)
    twin = assert(hub:replace_twin("device-002", { tags = { kind = "x" } }, { module_id = "sensor" }))
    assert.are.same({ kind = "x" }, twin.tags)
    assert.are.equal(60, hub:get_twin("device-002").properties.desired.telemetryInterval)
  end)

  it("keep JSON null inside tags and desired as iothub.null, and send it back to delete", function()
    plant_device("nulls-1", '{"tags": {"gone": null, "kept": 1, "deep": {"x": null}}, '
      .. '"properties": {"desired": {"off": null}}}')
    local twin = assert(hub:get_twin("nulls-1"))
    assert.are.equal(iothub.null, twin.tags.gone)
    assert.are.equal(iothub.null, twin.tags.deep.x)
    assert.are.equal(iothub.null, twin.properties.desired.off)
    -- the tags as read, sent back as a patch: their nulls delete the keys
    twin = assert(hub:update_twin("nulls-1", { tags = twin.tags }, { etag = twin.etag }))
    assert.are.same({ kept = 1, deep = {} }, twin.tags)
    assert.truthy(last("PATCH").body:find('"gone":null', 1, true))
  end)

  it("percent-encode odd device ids", function()
    for _, id in ipairs { "a/b", "x y?z#1", "100%", "quote'd", "ünï" } do
      plant_device(id, '{"tags": {"site": "odd"}}')
      assert.are.equal(id, assert(hub:get_twin(id)).deviceId)
      local twin = assert(hub:update_twin(id, { tags = { touched = true } }))
      assert.are.equal(id, twin.deviceId)
      assert.is_true(twin.tags.touched)
      assert.are.equal("/twins/" .. core.percent_encode(id), last("PATCH").path)
    end
    local ids = collect(hub:twins("tags.site = 'odd' AND tags.touched = true"), "deviceId")
    assert.are.equal(5, #ids)
    assert.are.same({ "quote'd" }, collect(hub:twins("deviceId = 'quote\\'d'"), "deviceId"))
  end)

  it("retry after a 503, and answer nil, err once the attempts run out", function()
    local retrying = H.hub { retry = { attempts = 3, base_delay = 0.01, max_delay = 0.02 } }
    H.fault { fault = "error", method = "PATCH", path = "/twins/device-006", status = 503, times = 1 }
    local twin = assert(retrying:update_twin("device-006", { tags = { r = 1 } }))
    assert.are.equal(1, twin.tags.r)
    H.fault { fault = "error", method = "PUT", path = "/twins/device-006", status = 503, times = 3 }
    local none, err = retrying:replace_twin("device-006", { tags = {} })
    assert.is_nil(none)
    assert.are.equal(503, err.status)
    H.fault { fault = "error", method = "GET", path = "/twins/device-006", status = 503, times = 1 }
    assert.are.equal(1, assert(retrying:get_twin("device-006")).tags.r)
    retrying:close()
  end)

  it("raise for bad arguments", function()
    assert.has_error(function() hub:update_twin("device-001") end,
      "iothub.update_twin: expected the twin as a table, got nil")
    assert.has_error(function() hub:update_twin("device-001", {}, { etag = 3 }) end)
    assert.has_error(function() hub:update_twin("device-001", {}, { etag = "" }) end)
    assert.has_error(function() hub:update_twin("device-001", {}, { etag = "a\r\nb" }) end)
    assert.has_error(function() hub:update_twin("device-001", {}, { nope = 1 }) end)
    assert.has_error(function() hub:replace_twin("device-001", {}, { module_id = "" }) end)
    assert.has_error(function() hub:replace_twin("device-001", { tags = { x = 0 / 0 } }) end)
    assert.has_error(function() hub:replace_twin(nil, {}) end)
    local ok, msg = pcall(function() hub:update_twin("device-001", "x") end)
    assert.is_false(ok)
    assert.truthy(msg:find("25%-twins_spec%.lua:%d+: iothub%.update_twin"), msg)
  end)
end)

describe("hub:query", function()
  local hub
  setup(function() H.reset(); hub = H.hub() end)
  teardown(function() hub:close() end)

  it("returns one page with its continuation token and item type", function()
    local r = pack(hub:query("SELECT * FROM devices", { page_size = 15 }))
    assert.are.equal(1, r.n)
    local page = r[1]
    assert.are.equal(15, #page.items)
    assert.are.equal("twin", page.item_type)
    assert.is_string(page.continuation)
    assert.are.equal("15", last("POST").headers["x-ms-max-item-count"])
    assert.are.same({ query = "SELECT * FROM devices" }, cjson.decode(last("POST").body))
    local seen, pages = {}, 1
    for _, twin in ipairs(page.items) do seen[#seen + 1] = twin.deviceId end
    while page.continuation do
      page = assert(hub:query("SELECT * FROM devices", { page_size = 15, continuation = page.continuation }))
      pages = pages + 1
      for _, twin in ipairs(page.items) do seen[#seen + 1] = twin.deviceId end
    end
    assert.are.equal(3, pages)
    assert.are.equal(40, #seen)
    assert.are.equal("device-001", seen[1])
    assert.are.equal("device-040", seen[40])
  end)

  it("returns projections and aggregates as plain rows of type raw", function()
    local page = assert(hub:query("SELECT deviceId, properties.reported.fw.version AS fw FROM devices "
      .. "WHERE tags.site = 'lyon' AND tags.floor IN [2, 5]"))
    assert.are.equal("raw", page.item_type)
    assert.are.same({ deviceId = "device-002", fw = "1.0.0" }, page.items[1])
    page = assert(hub:query("SELECT tags.site AS site, COUNT() AS n FROM devices GROUP BY tags.site"))
    assert.are.same({ { site = "berlin", n = 13 }, { site = "lyon", n = 13 }, { site = "paris", n = 14 } },
      page.items)
    assert.are.same({ { n = 4 } },
      assert(hub:query("SELECT COUNT() AS n FROM devices WHERE connectionState = 'Disconnected'")).items)
    page = assert(hub:query("SELECT * FROM devices.modules WHERE moduleId = 'sensor'"))
    assert.are.equal("twin", page.item_type)
    assert.are.equal(3, #page.items)
    assert.are.equal("sensor", page.items[3].moduleId)
  end)

  it("returns nil and a 400 for a bad query or a foreign continuation token", function()
    for _, sql in ipairs { "SELECT TOP 1 * FROM devices", "SELECT * FROM devices WHERE tags.site = ",
      "SELECT deviceId, COUNT() FROM devices", "DROP devices" } do
      local r = pack(hub:query(sql))
      assert.are.equal(2, r.n, sql)
      assert.is_nil(r[1])
      assert.are.equal(400, r[2].status, sql)
      assert.are.equal("ArgumentInvalid", r[2].code)
      assert.truthy(r[2].message:find("Syntax error", 1, true), r[2].message)
    end
    local token = assert(hub:query("SELECT * FROM devices", { page_size = 1 })).continuation
    local none, err = hub:query("SELECT deviceId FROM devices", { continuation = token })
    assert.is_nil(none)
    assert.are.equal(400, err.status)
  end)

  it("raises for bad arguments", function()
    assert.has_error(function() hub:query() end, "iothub.query: query must be a string, got nil")
    assert.has_error(function() hub:query("") end)
    assert.has_error(function() hub:query("SELECT * FROM devices WHERE tags.x = '\255'") end)
    assert.has_error(function() hub:query("SELECT * FROM devices", { page_size = 0 }) end)
    assert.has_error(function() hub:query("SELECT * FROM devices", { page_size = 1.5 }) end)
    assert.has_error(function() hub:query("SELECT * FROM devices", { limit = 3 }) end)
    assert.has_error(function() hub:query("SELECT * FROM devices", { continuation = "a\nb" }) end)
  end)
end)

describe("hub:rows and hub:twins", function()
  local hub
  setup(function() H.reset(); hub = H.hub() end)
  teardown(function() hub:close() end)

  it("follow every page", function()
    H.clear_requests()
    local ids = collect(hub:rows("SELECT deviceId FROM devices WHERE tags.model.name = 'tx-1'",
      { page_size = 6 }), "deviceId")
    assert.are.equal(20, #ids)
    assert.are.equal("device-039", ids[20])
    local log = H.requests()
    assert.are.equal(4, #log)
    assert.is_nil(log[1].headers["x-ms-continuation"])
    assert.truthy(log[4].headers["x-ms-continuation"])
  end)

  it("stop at the limit, asking for no more than it needs", function()
    H.clear_requests()
    local twins = collect(hub:twins("*", { page_size = 7, limit = 10 }))
    assert.are.equal(10, #twins)
    assert.are.equal("device-010", twins[10].deviceId)
    local log = H.requests()
    assert.are.equal("7", log[1].headers["x-ms-max-item-count"])
    assert.are.equal("3", log[2].headers["x-ms-max-item-count"])
  end)

  it("go over the twins of every device, or those a condition matches", function()
    assert.are.equal(40, #collect(hub:twins()))
    local berlin = collect(hub:twins("tags.site = 'berlin' AND NOT (tags.floor > 2)"))
    for _, twin in ipairs(berlin) do
      assert.are.equal("berlin", twin.tags.site)
      assert.is_true(twin.tags.floor <= 2)
      assert.is_string(twin.etag)
    end
    assert.are.equal(5, #berlin)
    assert.are.equal('SELECT * FROM devices WHERE tags.site = \'berlin\' AND NOT (tags.floor > 2)',
      cjson.decode(last("POST").body).query)
    assert.are.same({ "device-001", "device-016", "device-031" }, collect(hub:twins("IS_DEFINED(tags.site) AND deviceId <> 'device-002' "
      .. "AND tags.floor = 1 AND tags.site = \"paris\""), "deviceId"))
  end)

  it("raise the error table for a bad query", function()
    local ok, err = pcall(function()
      for _ in hub:rows("SELECT * FROM devices ORDER BY deviceId") do end
    end)
    assert.is_false(ok)
    assert.is_table(err)
    assert.are.equal(400, err.status)
    assert.are.equal("ArgumentInvalid", err.code)
    ok, err = pcall(function() for _ in hub:twins("tags.site ~ 'x'") do end end)
    assert.is_false(ok)
    assert.are.equal(400, err.status)
    assert.has_error(function() hub:rows(42) end, "iothub.rows: query must be a string, got number")
    assert.has_error(function() hub:twins("x", { continuation = "t" }) end)
    assert.has_error(function() hub:twins("") end, "iothub.twins: condition must not be empty")
    assert.has_error(function() hub:twins("x", { limit = -1 }) end)
  end)
end)

describe("hub:device_jobs with a status", function()
  local hub
  setup(function()
    H.reset()
    H.clock { device_seconds = 0.01 }
    hub = H.hub()
    assert(hub:schedule_device_method { job_id = "reboot-twins", query_condition = "*", method_name = "reboot" })
    H.until_job(hub, "reboot-twins", iothub.is_terminal)
  end)
  teardown(function() hub:close() end)

  it("filters the rows in the query itself", function()
    H.clear_requests()
    local failed = collect(hub:device_jobs("reboot-twins", { status = "failed" }), "deviceId")
    assert.are.equal(7, #failed)
    assert.are.equal("device-011", failed[1])
    local sent = cjson.decode(H.requests()[1].body).query
    assert.are.equal("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'reboot-twins' "
      .. "AND devices.jobs.status = 'failed'", sent)
    assert.are.equal(33, #collect(hub:device_jobs("reboot-twins", { status = "completed", page_size = 10 })))
    assert.are.equal(0, #collect(hub:device_jobs("reboot-twins", { status = "cancelled" })))
    assert.truthy(cjson.decode(last("POST").body).query:find("devices.jobs.status = 'canceled'", 1, true))
    assert.has_error(function() hub:device_jobs("reboot-twins", { status = "bogus" }) end,
      "iothub.device_jobs: unknown device job status 'bogus'")
  end)
end)

describe("a twin-update job, checked through the twins", function()
  it("applies the desired value to every matching twin, which connected devices then report", function()
    H.reset()
    H.clock { device_seconds = 0.01, report_seconds = 0.3 }
    local hub = H.hub()
    local condition = "tags.site = 'berlin'"
    assert(hub:schedule_twin_update { job_id = "fw-berlin", query_condition = condition,
      twin = { properties = { desired = { fw = { version = "2.0.0" } } } } })
    assert.are.equal("completed", assert(hub:wait_job("fw-berlin", { timeout = 20, interval = 0.05 })).status)
    local function count(sql)
      return assert(hub:query(sql)).items[1].n
    end
    assert.are.equal(13, count("SELECT COUNT() AS n FROM devices WHERE " .. condition
      .. " AND properties.desired.fw.version = '2.0.0'"))
    -- reports trail the job by report_seconds: wait for the 12 connected ones
    local converged = "SELECT COUNT() AS n FROM devices WHERE " .. condition
      .. " AND properties.reported.fw.version = '2.0.0'"
    local deadline = core.monotonic() + 10
    while count(converged) < 12 and core.monotonic() < deadline do core.sleep(0.05) end
    assert.are.equal(12, count(converged))
    local stale = collect(hub:twins(condition .. " AND properties.reported.fw.version != '2.0.0'"))
    assert.are.equal(1, #stale)
    assert.are.equal("device-039", stale[1].deviceId)
    assert.are.equal("Disconnected", stale[1].connectionState)
    assert.are.equal(0, count("SELECT COUNT() AS n FROM devices WHERE tags.site <> 'berlin' "
      .. "AND IS_DEFINED(properties.desired.fw)"))
    hub:close()
  end)
end)

describe("twin calls inside iothub.spawn tasks", function()
  local hub
  before_each(function() H.reset(); hub = H.hub() end)
  after_each(function() drain(); hub:close() end)

  it("get, update, replace and query without blocking the host", function()
    local read = iothub.spawn(function() return hub:get_twin("device-007") end)
    local write = iothub.spawn(function()
      return hub:update_twin("device-008", { properties = { desired = { fw = "3.0" } } })
    end)
    local put = iothub.spawn(function() return hub:replace_twin("device-001", { tags = { t = 1 } }, { module_id = "camera" }) end)
    local page = iothub.spawn(function()
      return hub:query("SELECT COUNT() AS n FROM devices WHERE tags.site = 'paris'")
    end)
    local stale = iothub.spawn(function()
      return hub:update_twin("device-009", { tags = { x = 1 } }, { etag = "AAAAAAAAAAE=" })
    end)
    assert.is_false(read.done)
    drain()
    assert.are.equal("device-007", read:result().deviceId)
    assert.are.equal("3.0", write:result().properties.desired.fw)
    assert.are.same({ t = 1 }, put:result().tags)
    assert.are.same({ { n = 14 } }, page:result().items)
    local none, err = stale:result()
    assert.is_nil(none)
    assert.are.equal(412, err.status)
  end)

  it("follow rows and twins iterators where the Lua can yield from them", function()
    if _VERSION == "Lua 5.1" and not jit then return end   -- 5.1 cannot yield in a for iterator
    local task = iothub.spawn(function()
      local n, sites = 0, {}
      for twin in hub:twins(nil, { page_size = 9 }) do n = n + 1; sites[twin.tags.site] = true end
      for row in hub:rows("SELECT tags.site AS s, COUNT() AS n FROM devices GROUP BY tags.site") do
        sites[row.s] = row.n
      end
      return n, sites
    end)
    local failing = iothub.spawn(function()
      for _ in hub:rows("SELECT nope") do end
    end)
    drain()
    local n, sites = task:result()
    assert.are.equal(40, n)
    assert.are.same({ paris = 14, lyon = 13, berlin = 13 }, sites)
    assert.are.equal(400, failing.error.status)
  end)
end)
