-- Client lifecycle: keep-alive, close/__gc/__close idempotency, closed
-- clients raising, and the I/O-free request building and decoding that
-- non-blocking transports reuse.
local iothub = require("iothub")
local core = require("iothub.core")
local H = require("helpers")

describe("client lifecycle", function()
  before_each(H.reset)

  it("keeps one connection alive across many requests", function()
    local hub = H.hub()
    for _ = 1, 20 do assert.truthy(hub:get_job("fixture-twin-1")) end
    for _ in hub:jobs { page_size = 50 } do end
    assert.are.equal(1, hub:stats().connections)
    assert.are.equal(1, H.stats().connections)
    hub:close()
  end)

  it("closes idempotently and raises on use after close", function()
    local hub = H.hub()
    hub:close()
    hub:close()
    assert.has_error(function() hub:get_job("fixture-twin-1") end, "iothub.get_job: the client is closed")
    assert.has_error(function() hub:query_jobs() end)
    assert.are.equal("iothub.service: (closed)", tostring(hub))
  end)

  it("frees clients under collectgarbage, closed or not", function()
    for i = 1, 50 do
      local hub = H.hub()
      assert.truthy(hub:get_job("fixture-twin-1"))
      if i % 2 == 0 then hub:close() end
    end
    collectgarbage()
    collectgarbage()
    local hub = H.hub()
    assert.truthy(hub:get_job("fixture-twin-1"))
    hub:close()
    collectgarbage()
  end)

  it("closes through __close on Lua 5.4", function()
    if _VERSION ~= "Lua 5.4" then return end
    local chunk = assert(load([[
      local H = ...
      local hub <close> = H.hub()
      assert(hub:get_job("fixture-twin-1"))
      return hub
    ]]))
    local hub = chunk(H)
    assert.has_error(function() hub:get_job("fixture-twin-1") end, "iothub.get_job: the client is closed")
  end)

  it("never shows the key or a signature in tostring", function()
    local key = H.connection_string:match("SharedAccessKey=([^;]+)")
    local hub = H.hub()
    assert.truthy(hub:get_job("fixture-twin-1"))
    for _, s in ipairs { tostring(hub), tostring(hub.client) } do
      assert.is_nil(s:find(key, 1, true))
      assert.is_nil(s:find("sig=", 1, true))
    end
    hub:close()
  end)
end)

describe("request building and decoding without I/O", function()
  it("prepares a signed request that the hub accepts when sent by another transport", function()
    local c = assert(core.client(H.connection_string, { endpoint = H.url }))
    local req = c:prepare("GET", "/jobs/v2/fixture-twin-1?api-version=2020-05-31-preview",
      { ["x-ms-max-item-count"] = "5" })
    assert.are.equal("GET", req.method)
    assert.are.equal(H.url .. "/jobs/v2/fixture-twin-1?api-version=2020-05-31-preview", req.url)
    assert.truthy(req.headers.Authorization:match("^SharedAccessSignature sr="))
    assert.are.equal("application/json", req.headers.Accept)
    assert.are.equal("5", req.headers["x-ms-max-item-count"])
    assert.are.equal(req.request_id, req.headers["x-ms-client-request-id"])
    assert.are.equal(0, c:stats().requests)
    -- Send it with a second client as a plain transport, then decode.
    local sender = assert(core.client(H.connection_string, { endpoint = H.url, ca_file = H.ca_file }))
    local _, headers = sender:request("GET", "/jobs/v2/fixture-twin-1?api-version=2020-05-31-preview",
      { Authorization = req.headers.Authorization })
    assert.truthy(headers)
    c:close()
    sender:close()
  end)

  it("decodes a response into the same result as a request", function()
    local c = assert(core.client(H.connection_string, { endpoint = H.url }))
    local job, headers, status = c:decode(200, { ["content-type"] = "application/json" },
      '{"jobId":"j","maxExecutionTimeInSeconds":60,"statusMessage":null,"updateTwin":{"tags":{"a":null}}}')
    assert.are.equal("j", job.jobId)
    assert.are.equal(200, status)
    assert.is_table(headers)
    assert.is_nil(job.statusMessage)
    assert.are.equal(iothub.null, job.updateTwin.tags.a)
    if math.type then assert.are.equal("integer", math.type(job.maxExecutionTimeInSeconds)) end
    local none, err = c:decode(404, { ["iothub-errorcode"] = "JobNotFound" }, "")
    assert.is_nil(none)
    assert.are.equal("JobNotFound", err.code)
    local bad, derr = c:decode(200, {}, "{not json")
    assert.is_nil(bad)
    assert.are.equal("decode", derr.kind)
    c:close()
  end)

  it("raises for request targets and headers that could split a request", function()
    local c = assert(core.client(H.connection_string, { endpoint = H.url }))
    assert.has_error(function() c:prepare("GET", "/a\r\nX: y") end)
    assert.has_error(function() c:prepare("GET", "no-slash") end)
    assert.has_error(function() c:prepare("GET", "/a", { ["x-a"] = "1\r\nInjected: 1" }) end)
    assert.has_error(function() c:prepare("GET", "/a", { ["x:a"] = "1" }) end)
    c:close()
  end)
end)
