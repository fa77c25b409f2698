-- Shared access signatures: the wire-protocol.md vectors, token caching and
-- renewal, and ready-made tokens from the connection string.
local core = require("iothub.core")
local iothub = require("iothub")
local H = require("helpers")

describe("SAS signing", function()
  it("matches the test vector of wire-protocol.md section 2", function()
    local token = core.sas_token("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      "MyHub.azure-devices.net", 1700000001, "iothubowner")
    assert.are.equal("SharedAccessSignature sr=MyHub.azure-devices.net"
      .. "&sig=j9%2FN%2FsPiJlkC%2F7nIINpWJpWMVbtMg6opUHau%2B8dy178%3D&se=1700000001&skn=iothubowner", token)
  end)

  it("signs the host as given, so a lowercased host gives the other MAC", function()
    local token = core.sas_token("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      "myhub.azure-devices.net", 1700000001, "iothubowner")
    assert.truthy(token:find("sig=ws28%2FTfy4KnTGirjZW2aBZxnLbc3m5Z7MCzLTluuxpY%3D", 1, true))
  end)

  it("matches the SDKs' HMAC-SHA256 vectors", function()
    assert.are.equal("kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk=", core.hmac_sha256("cGFzc3dvcmQ=", "uri\n12345"))
    assert.are.equal("8NJRMT83CcplGrAGaUVIUM/md5914KpWVNngSVoF9/M=",
      core.hmac_sha256("NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=", "sign this message"))
  end)

  it("refuses a key that is not base64", function()
    assert.has_error(function() core.sas_token("not base64!", "h", 1, "p") end)
  end)
end)

describe("SAS token cache", function()
  before_each(H.reset)

  it("signs once and reuses the token across calls", function()
    local hub = H.hub()
    for _ = 1, 5 do assert.truthy(hub:get_job("fixture-twin-1")) end
    assert.are.equal(1, hub:stats().signatures)
    hub:close()
  end)

  it("renews the token when sas_ttl runs out, and the hub accepts the new one", function()
    -- Expiries are whole seconds: sign just after a second begins, so the
    -- one-second token is still valid when the hub (slow under ASan) checks it.
    local started = math.floor(core.now()) + 1
    core.sleep(started - core.now() + 0.01)
    local hub = H.hub { sas_ttl = 1 }
    assert.truthy(hub:get_job("fixture-twin-1"))
    assert.are.equal(1, hub:stats().signatures)
    core.sleep(started + 1.1 - core.now())
    local job, err = hub:get_job("fixture-twin-1")
    assert.truthy(job, tostring(err))
    assert.are.equal(2, hub:stats().signatures)
    -- The second token was signed for a later expiry.
    local log = H.requests()
    assert.is_true(tonumber(log[#log].headers.authorization.se) > tonumber(log[1].headers.authorization.se))
    hub:close()
  end)

  it("uses a ready SharedAccessSignature from the connection string without signing", function()
    local key = H.connection_string:match("SharedAccessKey=([^;]+)")
    local token = core.sas_token(key, H.host, math.floor(core.now()) + 600, "iothubowner")
    local hub = H.hub(nil, "HostName=" .. H.host .. ";SharedAccessSignature=" .. token)
    local job, err = hub:get_job("fixture-twin-1")
    assert.truthy(job, tostring(err))
    assert.are.equal(0, hub:stats().signatures)
    hub:close()
  end)

  it("refuses an expired ready signature with a config error, before any request", function()
    local key = H.connection_string:match("SharedAccessKey=([^;]+)")
    local token = core.sas_token(key, H.host, math.floor(core.now()) - 10, "iothubowner")
    local hub, err = iothub.service("HostName=" .. H.host .. ";SharedAccessSignature=" .. token,
      { endpoint = H.url, ca_file = H.ca_file })
    assert.is_nil(hub)
    assert.are.equal("config", err.kind)
    assert.truthy(err.message:find("expired", 1, true))
  end)
end)
