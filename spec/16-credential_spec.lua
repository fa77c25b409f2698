-- iothub.credential: Azure AD tokens from the emulator's token, IMDS and App
-- Service endpoints, cached per scope, refreshed before expiry, with AAD
-- errors as auth errors that never show the secret.
local iothub = require("iothub")
local core = require("iothub.core")
local H = require("helpers")

local ARM_SCOPE = "https://management.azure.com/.default"

local function aad_counts() return H.control("GET", "aad") end

describe("client secret credential", function()
  before_each(H.reset)

  it("gets a token and caches it per scope", function()
    local cred = H.client_secret()
    local token, expires_on = cred:get_token(ARM_SCOPE)
    assert.is_string(token)
    assert.is_true(expires_on > core.now() + 3000 and expires_on < core.now() + 3700)
    assert.are.equal(token, (cred:get_token(ARM_SCOPE)))
    assert.are.equal(1, aad_counts().tokens_issued)
    local other = cred:get_token("https://iothubs.azure.net/.default")
    assert.are_not.equal(token, other)
    assert.are.equal(2, aad_counts().tokens_issued)
    local forced = cred:get_token(ARM_SCOPE, true)
    assert.are_not.equal(token, forced)
    cred:close()
  end)

  it("sends the client credentials form to {authority}/{tenant}/oauth2/v2.0/token", function()
    H.clear_requests()
    local cred = H.client_secret()
    assert.truthy(cred:get_token(ARM_SCOPE))
    local r = H.requests()[1]
    assert.are.equal("POST", r.method)
    assert.are.equal("/" .. H.aad.tenant_id .. "/oauth2/v2.0/token", r.path)
    assert.are.equal("application/x-www-form-urlencoded", r.headers["content-type"])
    assert.truthy(r.body:find("grant_type=client_credentials", 1, true))
    assert.truthy(r.body:find("scope=https%3A%2F%2Fmanagement.azure.com%2F.default", 1, true))
    assert.is_nil(r.body:find(H.aad.client_secret, 1, true))
    cred:close()
  end)

  it("refreshes a token before it expires", function()
    H.control("POST", "aad", '{"token_lifetime": 2}')
    local cred = H.client_secret()
    local first = cred:get_token(ARM_SCOPE)
    assert.are.equal(first, (cred:get_token(ARM_SCOPE)))
    core.sleep(1.1)
    assert.are_not.equal(first, (cred:get_token(ARM_SCOPE)))
    assert.are.equal(2, aad_counts().tokens_issued)
    cred:close()
  end)

  it("returns an auth error with the AAD code for a wrong secret, without the secret", function()
    local secret = "wrong~secret.value_1234567890abcdefghij"
    local cred = H.client_secret { client_secret = secret }
    local token, err = cred:get_token(ARM_SCOPE)
    assert.is_nil(token)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.status)
    assert.are.equal("invalid_client", err.code)
    assert.are.equal(7000215, err.error_code)
    assert.truthy(err.message:match("^AADSTS7000215"))
    for _, s in ipairs { tostring(err), tostring(cred), err.message } do
      assert.is_nil(s:find(secret, 1, true))
    end
    cred:close()
  end)

  it("returns auth errors for an unknown client and an unknown tenant", function()
    local _, err = H.client_secret { client_id = "00000000-0000-0000-0000-00000000dead" }:get_token(ARM_SCOPE)
    assert.are.equal("auth", err.kind)
    assert.are.equal("unauthorized_client", err.code)
    _, err = H.client_secret { tenant_id = "no-such-tenant" }:get_token(ARM_SCOPE)
    assert.are.equal("auth", err.kind)
    assert.are.equal("invalid_request", err.code)
  end)

  it("raises for missing or wrong arguments", function()
    assert.has_error(function() iothub.credential.client_secret() end)
    assert.has_error(function() iothub.credential.client_secret { client_id = "c", client_secret = "s" } end)
    assert.has_error(function() iothub.credential.client_secret { tenant_id = "t", client_id = "c", client_secret = "" } end)
    assert.has_error(function() iothub.credential.client_secret { tenant_id = "t", client_id = "c", client_secret = "s", secret = 1 } end)
    assert.has_error(function() H.client_secret():get_token("") end)
  end)
end)

describe("managed identity credential", function()
  before_each(H.reset)

  it("gets a token from the metadata endpoint with Metadata: true", function()
    H.clear_requests()
    local cred = iothub.credential.managed_identity { endpoint = H.url .. "/metadata/identity/oauth2/token",
      ca_file = H.ca_file, client_id = H.aad.mi_client_id }
    local token, expires_on = cred:get_token(ARM_SCOPE)
    assert.truthy(token, tostring(expires_on))
    assert.is_number(expires_on)
    local r = H.requests()[1]
    assert.are.equal("true", r.headers.metadata)
    assert.are.equal("2018-02-01", r.query["api-version"])
    assert.are.equal("https://management.azure.com/", r.query.resource)
    assert.are.equal(H.aad.mi_client_id, r.query.client_id)
    cred:close()
  end)

  it("is refused by the metadata endpoint without the Metadata header", function()
    local raw = assert(core.client(nil, { endpoint = H.url, ca_file = H.ca_file }))
    local body, err = raw:request("GET", "/metadata/identity/oauth2/token?api-version=2018-02-01"
      .. "&resource=https%3A%2F%2Fmanagement.azure.com%2F")
    assert.is_nil(body)
    assert.are.equal(400, err.status)
    assert.are.equal("invalid_request", err.code)
    raw:close()
  end)

  it("returns an auth error for an unknown identity", function()
    local cred = iothub.credential.managed_identity { endpoint = H.url .. "/metadata/identity/oauth2/token",
      ca_file = H.ca_file, client_id = "00000000-0000-0000-0000-00000000beef" }
    local _, err = cred:get_token(ARM_SCOPE)
    assert.are.equal("auth", err.kind)
  end)

  it("uses the App Service form with X-IDENTITY-HEADER", function()
    H.clear_requests()
    local cred = iothub.credential.managed_identity { endpoint = H.url .. "/msi/token", ca_file = H.ca_file,
      identity_header = H.aad.identity_header }
    local token, err = cred:get_token(ARM_SCOPE)
    assert.truthy(token, tostring(err))
    local r = H.requests()[1]
    assert.are.equal("2019-08-01", r.query["api-version"])
    local bad = iothub.credential.managed_identity { endpoint = H.url .. "/msi/token", ca_file = H.ca_file,
      identity_header = "not-the-header" }
    local none, berr = bad:get_token(ARM_SCOPE)
    assert.is_nil(none)
    assert.are.equal("auth", berr.kind)
  end)
end)

describe("App Service managed identity over plain http on loopback", function()
  before_each(H.reset)

  it("gets a token from http://127.0.0.1:PORT without allow_http", function()
    H.clear_requests()
    local cred = iothub.credential.managed_identity { endpoint = H.aad.identity_url .. "/msi/token",
      identity_header = H.aad.identity_header }
    local token, err = cred:get_token(ARM_SCOPE)
    assert.truthy(token, tostring(err))
    local r = H.requests()[1]
    assert.are.equal("/msi/token", r.path)
    assert.truthy(r.headers["x-identity-header"])
    cred:close()
  end)

  it("reads IDENTITY_ENDPOINT and IDENTITY_HEADER from the environment", function()
    local script = [[
      local cred = require("iothub").credential.managed_identity()
      local token, err = cred:get_token("https://management.azure.com/.default")
      io.write(token and "token" or tostring(err))
    ]]
    local p = assert(io.popen(("IDENTITY_ENDPOINT='%s/msi/token' IDENTITY_HEADER='%s' %s -e '%s' 2>&1")
      :format(H.aad.identity_url, H.aad.identity_header, H.lua_command, script)))
    local out = p:read("*a")
    p:close()
    assert.are.equal("token", out)
  end)

  it("still refuses plain http elsewhere without allow_http", function()
    for _, opts in ipairs {
      { endpoint = "http://10.0.0.1:8081/msi/token", identity_header = "x" },       -- not loopback
      { endpoint = "http://127.0.0.1.example.com/msi/token", identity_header = "x" },
      { endpoint = H.aad.identity_url .. "/metadata/identity/oauth2/token" },      -- not App Service
    } do
      local ok, err = pcall(iothub.credential.managed_identity, opts)
      assert.is_false(ok, opts.endpoint)
      assert.truthy(tostring(err):find("http", 1, true), tostring(err))
    end
  end)
end)

describe("environment credential", function()
  before_each(H.reset)

  local function getenv_from(t) return function(name) return t[name] end end

  it("names the missing variable", function()
    for _, missing in ipairs { "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET" } do
      local vars = { AZURE_TENANT_ID = "t", AZURE_CLIENT_ID = "c", AZURE_CLIENT_SECRET = "s" }
      vars[missing] = nil
      local cred, err = iothub.credential.environment(nil, getenv_from(vars))
      assert.is_nil(cred)
      assert.are.equal("config", err.kind)
      assert.truthy(err.message:find(missing, 1, true))
    end
  end)

  it("gets tokens with the variables, AZURE_AUTHORITY_HOST included", function()
    local cred = assert(iothub.credential.environment({ ca_file = H.ca_file }, getenv_from {
      AZURE_TENANT_ID = H.aad.tenant_id, AZURE_CLIENT_ID = H.aad.client_id,
      AZURE_CLIENT_SECRET = H.aad.client_secret, AZURE_AUTHORITY_HOST = H.url }))
    assert.truthy(cred:get_token(ARM_SCOPE))
    assert.is_nil(tostring(cred):find(H.aad.client_secret, 1, true))
    cred:close()
  end)
end)

describe("static credential", function()
  it("returns a fixed token", function()
    local token, expires_on = iothub.credential.static("abc"):get_token(ARM_SCOPE)
    assert.are.equal("abc", token)
    assert.is_true(expires_on > core.now())
  end)

  it("calls a function for tokens and caches them", function()
    local calls = 0
    local cred = iothub.credential.static(function(scope)
      calls = calls + 1
      return "t-" .. scope, core.now() + 3600
    end)
    assert.are.equal("t-x", (cred:get_token("x")))
    assert.are.equal("t-x", (cred:get_token("x")))
    assert.are.equal(1, calls)
  end)

  it("turns a function's failure into an auth error", function()
    local _, err = iothub.credential.static(function() return nil, "vault unreachable" end):get_token("x")
    assert.are.equal("auth", err.kind)
    assert.truthy(err.message:find("vault unreachable", 1, true))
  end)

  it("raises for other arguments", function()
    assert.has_error(function() iothub.credential.static() end)
    assert.has_error(function() iothub.credential.static("") end)
  end)
end)
