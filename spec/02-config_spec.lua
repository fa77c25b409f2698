-- iothub.service: connection strings, options, argument checks, TLS trust.
local iothub = require("iothub")
local H = require("helpers")

local function config_error(cs)
  local hub, err = iothub.service(cs)
  assert.is_nil(hub)
  assert.are.equal("config", err.kind)
  return err
end

describe("iothub.service", function()
  it("returns a config error naming a missing HostName", function()
    assert.truthy(config_error("SharedAccessKeyName=a;SharedAccessKey=YWJj").message:find("HostName"))
  end)

  it("returns a config error naming a missing policy name", function()
    assert.truthy(config_error("HostName=h;SharedAccessKey=YWJj").message:find("SharedAccessKeyName"))
  end)

  it("returns a config error naming a missing key", function()
    assert.truthy(config_error("HostName=h;SharedAccessKeyName=a").message:find("SharedAccessKey"))
  end)

  it("returns a config error for a key that is not base64, without echoing the key", function()
    local err = config_error("HostName=h;SharedAccessKeyName=a;SharedAccessKey=sec$ret%%")
    assert.truthy(err.message:find("base64"))
    assert.is_nil(tostring(err):find("sec$ret", 1, true))
  end)

  it("returns a config error for an empty string and for parts without '='", function()
    config_error("")
    config_error("HostName")
  end)

  it("accepts keys in any case and values holding '='", function()
    local hub = assert(iothub.service("hostname=h;sharedaccesskeyname=a;sharedaccesskey=YWI="))
    hub:close()
  end)

  it("raises for a connection string that is not a string", function()
    assert.has_error(function() iothub.service(nil) end,
      "iothub.service: connection string must be a string, got nil")
    assert.has_error(function() iothub.service(42) end)
  end)

  it("raises for unknown options and options of the wrong type", function()
    assert.has_error(function() iothub.service(H.connection_string, { timout = 3 }) end,
      "iothub.service: unknown option 'timout'")
    assert.has_error(function() iothub.service(H.connection_string, { timeout = "3" }) end)
    assert.has_error(function() iothub.service(H.connection_string, { timeout = -1 }) end)
    assert.has_error(function() iothub.service(H.connection_string, { verify = "no" }) end)
    assert.has_error(function() iothub.service(H.connection_string, "opts") end)
  end)

  it("accepts huge numbers in options without undefined behaviour (capped)", function()
    local hub = H.hub { timeout = math.huge, connect_timeout = 1e300, max_response_size = math.huge,
      sas_ttl = 1e300, retry = { attempts = 2, deadline = math.huge } }
    local job, err = hub:get_job("fixture-twin-1")
    assert.is_truthy(job, tostring(err))
    hub:close()
    assert.has_error(function() require("iothub.core").sas_token("a2V5", "h", math.huge, "p") end)
  end)

  it("rejects an untrusted certificate with a transport error", function()
    local hub = assert(iothub.service(H.connection_string, { endpoint = H.url }))
    local job, err = hub:get_job("fixture-twin-1")
    assert.is_nil(job)
    assert.are.equal("transport", err.kind)
    assert.are.equal("TlsVerifyFailed", err.code)
    assert.is_false(err.retryable)
    hub:close()
  end)

  it("talks to an untrusted server only with verify = false", function()
    local hub = assert(iothub.service(H.connection_string, { endpoint = H.url, verify = false }))
    assert.truthy(hub:get_job("fixture-twin-1"))
    hub:close()
  end)

  it("returns an auth error for a wrong key", function()
    local hub = H.hub(nil, H.connection_string_with { SharedAccessKey = "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXk=" })
    local job, err = hub:get_job("fixture-twin-1")
    assert.is_nil(job)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.status)
    assert.are.equal("IotHubUnauthorizedAccess", err.code)
    assert.are.equal(401002, err.error_code)
    assert.truthy(err.tracking_id)
    assert.is_false(err.retryable)
    assert.is_nil(tostring(err):find("d3Jvbmcga2V5", 1, true))
    hub:close()
  end)

  it("returns an auth error for an unknown policy name", function()
    local hub = H.hub(nil, H.connection_string_with { SharedAccessKeyName = "nosuchpolicy" })
    local _, err = hub:get_job("fixture-twin-1")
    assert.are.equal("auth", err.kind)
    hub:close()
  end)

  it("returns a transport error when nothing listens", function()
    local hub = H.hub { endpoint = "https://127.0.0.1:1", connect_timeout = 2, retry = false }
    local job, err = hub:get_job("x")
    assert.is_nil(job)
    assert.are.equal("transport", err.kind)
    assert.are.equal("ConnectFailed", err.code)
    assert.is_true(err.retryable)
    hub:close()
  end)

  it("returns a timeout error when a response takes longer than timeout", function()
    H.reset()
    H.control("POST", "delay", '{"seconds": 3, "path_prefix": "/jobs/v2/fixture-twin-1"}')
    local hub = H.hub { timeout = 0.5, retry = false }
    local started = require("iothub.core").monotonic()
    local job, err = hub:get_job("fixture-twin-1")
    local elapsed = require("iothub.core").monotonic() - started
    assert.is_nil(job)
    assert.are.equal("timeout", err.kind)
    assert.are.equal("Timeout", err.code)
    assert.is_true(err.retryable)
    assert.is_true(elapsed < 2.5, "the call took " .. elapsed .. " s")
    -- The same client recovers on the next call.
    H.reset()
    assert.truthy(hub:get_job("fixture-twin-1"))
    hub:close()
  end)

  it("sends the configured api-version, User-Agent, Accept and a request id", function()
    H.reset()
    local hub = H.hub { api_version = "2021-04-12", user_agent = "spec-agent/1" }
    assert.truthy(hub:get_job("fixture-twin-1"))
    assert.truthy(hub:get_job("fixture-twin-1"))
    local log = H.requests()
    assert.are.equal("2021-04-12", log[1].query["api-version"])
    assert.are.equal("spec-agent/1", log[1].headers["user-agent"])
    assert.are.equal("application/json", log[1].headers["accept"])
    local id1, id2 = log[1].headers["x-ms-client-request-id"], log[2].headers["x-ms-client-request-id"]
    assert.truthy(id1:match("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"))
    assert.are_not.equal(id1, id2)
    hub:close()
  end)

  it("defaults to api-version 2020-05-31-preview and lua-iothub/<version>", function()
    H.reset()
    local hub = H.hub()
    assert.truthy(hub:get_job("fixture-twin-1"))
    local log = H.requests()
    assert.are.equal("2020-05-31-preview", log[1].query["api-version"])
    assert.are.equal("lua-iothub/" .. iothub._VERSION, log[1].headers["user-agent"])
    hub:close()
  end)
end)

describe("a host name or endpoint that could change the request", function()
  local core = require("iothub.core")
  local policy = ";SharedAccessKeyName=iothubowner;SharedAccessKey=YWJj"

  -- Nothing reaches the emulator: the error comes before any request.
  local function refused_before_sending(make)
    H.clear_requests()
    local client, err = make()
    assert.is_nil(client)
    assert.are.equal("config", err.kind)
    assert.are.same({}, H.requests())
    return err
  end

  it("is a config error for a HostName holding CR, LF, '/', '?', '#', '@', spaces or a bad port", function()
    for _, host in ipairs { "h\r\nX-Evil: 1", "h\nx", "h/jobs", "h?x=1", "h#x", "user@h", "a b", "https://h",
      "h:0", "h:65536", "h:x", "h:", ":443", "[::1", "h:443/x" } do
      local err = refused_before_sending(function() return iothub.service("HostName=" .. host .. policy) end)
      assert.truthy(err.message:find("HostName", 1, true), host)
    end
    -- and through the core, with an endpoint that would otherwise be used
    local err = refused_before_sending(function()
      return core.client("HostName=h/x" .. policy, { endpoint = H.url, ca_file = H.ca_file })
    end)
    assert.truthy(err.message:find("HostName", 1, true))
  end)

  it("accepts host names, IPv4 and IPv6 addresses with a port", function()
    for _, host in ipairs { "h", "my-hub.azure-devices.net", "127.0.0.1:8443", "[::1]:443", "a_b.local:1" } do
      local hub, err = iothub.service("HostName=" .. host .. policy)
      assert.truthy(hub, host .. ": " .. tostring(err))
      hub:close()
    end
  end)

  it("is a config error for an endpoint with an empty host, a user, '?', '#', spaces or a bad port", function()
    for _, url in ipairs { "https://", "https:///", "https://:443", "https://127.0.0.1:0", "https://127.0.0.1:99999",
      "https://u:pa55word@127.0.0.1", "https://127.0.0.1?x", "https://127.0.0.1#x", "https://127.0.0.1/a b",
      "https://a b", "https://h\r\nX: 1", "https://h/\n", "https://[::1" } do
      local err = refused_before_sending(function()
        return core.client(H.connection_string, { endpoint = url, ca_file = H.ca_file })
      end)
      assert.truthy(err.message:find("endpoint", 1, true), url)
      assert.is_nil(tostring(err):find("pa55word", 1, true))
    end
    local err = refused_before_sending(function()
      return iothub.service(H.connection_string, { endpoint = "https://", ca_file = H.ca_file })
    end)
    assert.truthy(err.message:find("host", 1, true))
  end)

  it("accepts an endpoint with a port and a path, and trims its trailing slashes", function()
    local c = assert(core.client(H.connection_string, { endpoint = "https://127.0.0.1:8443/prefix/" }))
    assert.are.equal("https://127.0.0.1:8443/prefix", select(2, c:host()))
    c:close()
  end)
end)

describe("connection strings as people paste them", function()
  local key = H.connection_string:match("SharedAccessKey=([^;]+)")

  it("trims a trailing newline and spaces around ';' and '='", function()
    for _, cs in ipairs {
      H.connection_string .. "\n", H.connection_string .. "\r\n", "  " .. H.connection_string .. " ;",
      "HostName = " .. H.host .. " ; SharedAccessKeyName = iothubowner ;\tSharedAccessKey = " .. key .. "\n",
    } do
      local hub = H.hub(nil, cs)
      local job, err = hub:get_job("fixture-twin-1")
      assert.truthy(job, ("%q: %s"):format(cs, tostring(err)))
      hub:close()
    end
  end)

  it("recognises a device connection string and asks for a hub-level policy", function()
    local err = config_error("HostName=" .. H.host .. ";DeviceId=dev1;SharedAccessKey=" .. key)
    assert.truthy(err.message:find("device connection string", 1, true), err.message)
    assert.truthy(err.message:find("shared access policy", 1, true), err.message)
    assert.is_nil(tostring(err):find(key, 1, true))
  end)

  it("refuses a ready SharedAccessSignature whose se has passed, before any request", function()
    local core = require("iothub.core")
    local token = core.sas_token(key, H.host, math.floor(core.now()) - 10, "iothubowner")
    H.clear_requests()
    local err = config_error("HostName=" .. H.host .. ";SharedAccessSignature=" .. token)
    assert.truthy(err.message:find("expired", 1, true), err.message)
    assert.is_nil(tostring(err):find(token:match("sig=([^&]+)"), 1, true))
    assert.are.same({}, H.requests())
    err = config_error("HostName=" .. H.host .. ";SharedAccessSignature=SharedAccessSignature sr=h&sig=x")
    assert.truthy(err.message:find("se=", 1, true), err.message)
    err = config_error("HostName=" .. H.host .. ";SharedAccessSignature=" .. token:gsub("&se=", "\r\nX: 1&se="))
    assert.truthy(err.message:find("control character", 1, true), err.message)
  end)
end)

describe("core.limits and core.version (src/defaults.h)", function()
  local core = require("iothub.core")

  it("hold the documented defaults, and iothub._VERSION is core.version", function()
    local l = core.limits
    assert.are.same({ 30, 10, 5, 10 }, { l.timeout, l.connect_timeout, l.handler_timeout, l.handler_deadline })
    assert.are.same({ 16 * 1024 * 1024, 1024, 256 * 1024 }, { l.max_response_size, l.min_response_size,
      l.max_header_bytes })
    assert.are.same({ 3600, 128, 1000 }, { l.sas_ttl, l.max_json_depth, l.json_depth_limit })
    assert.are.same({ 8, 256, 4 }, { l.concurrency, l.max_concurrency, l.loop_connections })
    assert.are.equal("lua-iothub/" .. core.version, l.user_agent)
    assert.are.equal(core.version, iothub._VERSION)
  end)

  it("give the core client alone the same default User-Agent as iothub.service", function()
    H.reset()
    local raw = assert(core.client(H.connection_string, { endpoint = H.url, ca_file = H.ca_file }))
    assert.truthy(raw:request("GET", "/jobs/v2/fixture-twin-1?api-version=2020-05-31-preview"))
    raw:close()
    local hub = H.hub()
    assert.truthy(hub:get_job("fixture-twin-1"))
    hub:close()
    local log = H.requests()
    assert.are.equal(core.limits.user_agent, log[1].headers["user-agent"])
    assert.are.equal(log[1].headers["user-agent"], log[2].headers["user-agent"])
  end)
end)
