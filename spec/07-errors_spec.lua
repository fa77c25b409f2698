-- Error tables from every error body shape of wire-protocol.md (service
-- shapes 1 to 4, ARM ErrorDetails and envelope, AAD) and from bodies that
-- are not JSON. Parsed by the C core exactly as for live responses.
local core = require("iothub.core")

local function from(status, headers, body)
  return core.error_from_response(status, headers or {}, body)
end

describe("error bodies", function()
  it("reads shape 1: ErrorCode in Message, tracking id in ExceptionMessage", function()
    local err = from(401, {}, '{"Message":"ErrorCode:IotHubUnauthorizedAccess;Unauthorized",'
      .. '"ExceptionMessage":"Tracking ID:abc123-G:0-TimeStamp:12/14/2016 03:15:17"}')
    assert.are.equal("auth", err.kind)
    assert.are.equal("IotHubUnauthorizedAccess", err.code)
    assert.are.equal(401002, err.error_code)
    assert.are.equal("Unauthorized", err.message)
    assert.are.equal("abc123-G:0", err.tracking_id)
  end)

  it("reads shape 2: a nested error body after the code", function()
    local err = from(429, {}, '{"Message":"ErrorCode:ThrottlingMaxActiveJobCountExceeded;Error: 429 '
      .. '{\\"Message\\":\\"ErrorCode:ThrottlingMaxActiveJobCountExceeded;429\\",'
      .. '\\"ExceptionMessage\\":\\"Tracking ID:inner-1-TimeStamp:x\\"}","ExceptionMessage":"Tracking ID:outer-2"}')
    assert.are.equal("ThrottlingMaxActiveJobCountExceeded", err.code)
    assert.are.equal(429004, err.error_code)
    assert.are.equal("Error: 429", err.message)
    assert.is_true(err.retryable)
    assert.truthy(err.tracking_id)
  end)

  it("reads shape 3: escaped JSON in Message", function()
    local err = from(404, {}, '{"Message":"{\\"errorCode\\":404001,\\"trackingId\\":\\"t-3\\",'
      .. '\\"message\\":\\"Device not found\\",\\"timestampUtc\\":\\"2020-05-21T20:14:49Z\\"}","ExceptionMessage":""}')
    assert.are.equal("DeviceNotFound", err.code)
    assert.are.equal(404001, err.error_code)
    assert.are.equal("t-3", err.tracking_id)
    assert.are.equal("Device not found", err.message)
  end)

  it("reads shape 4: the flat body", function()
    local err = from(404, {}, '{"errorCode":404002,"trackingId":"t-4","message":"Job missing",'
      .. '"timestampUtc":"2020-05-21T20:14:49.3270481Z"}')
    assert.are.equal("JobNotFound", err.code)
    assert.are.equal(404002, err.error_code)
    assert.are.equal("t-4", err.tracking_id)
    assert.are.equal("Job missing", err.message)
    if math.type then assert.are.equal("integer", math.type(err.error_code)) end
  end)

  it("prefers the iothub-errorcode header for the code", function()
    local err = from(404, { ["iothub-errorcode"] = "JobNotFound", ["x-ms-request-id"] = "r-1" }, "")
    assert.are.equal("JobNotFound", err.code)
    assert.are.equal("r-1", err.request_id)
    assert.are.equal("HTTP status 404", err.message)
  end)

  it("reads ARM ErrorDetails and the generic error envelope", function()
    local err = from(404, {}, '{"code":"NotFound","httpStatusCode":"NotFound","message":"Job not found","details":"x"}')
    assert.are.equal("NotFound", err.code)
    assert.are.equal("Job not found", err.message)
    assert.are.equal("x", err.details)
    err = from(400, {}, '{"error":{"code":"InvalidApiVersion","message":"bad api-version"}}')
    assert.are.equal("InvalidApiVersion", err.code)
    assert.are.equal("bad api-version", err.message)
  end)

  it("reads AAD token errors", function()
    local err = from(401, {}, '{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret.\\r\\nTrace ID: 1","error_codes":[7000215]}')
    assert.are.equal("invalid_client", err.code)
    assert.are.equal(7000215, err.error_code)
    assert.are.equal("AADSTS7000215: Invalid client secret.", err.message)
  end)

  it("gives a useful error for bodies that are not JSON or are empty", function()
    local err = from(502, {}, "<html>Bad Gateway</html>\nmore")
    assert.are.equal("http", err.kind)
    assert.are.equal(502, err.status)
    assert.are.equal("<html>Bad Gateway</html>", err.message)
    assert.is_true(err.retryable)
    err = from(503, {}, "")
    assert.are.equal("HTTP status 503", err.message)
    assert.is_true(err.retryable)
  end)

  it("reads retry hints: milliseconds headers first, then Retry-After", function()
    assert.are.equal(1.5, from(429, { ["retry-after-ms"] = "1500", ["retry-after"] = "9" }, "").retry_after)
    assert.are.equal(0.25, from(429, { ["x-ms-retry-after-ms"] = "250" }, "").retry_after)
    assert.are.equal(7, from(503, { ["retry-after"] = "7" }, "").retry_after)
    local at = from(503, { ["retry-after"] = "Wed, 21 Oct 2015 07:28:00 GMT" }, "").retry_after
    assert.are.equal(0, at)
  end)

  it("marks transient IoT Hub codes retryable whatever the status", function()
    assert.is_true(from(400, {}, '{"errorCode":503001,"message":"x"}').retryable)
    assert.is_false(from(400, {}, '{"errorCode":400004,"message":"x"}').retryable)
  end)

  it("prints one line with kind, status, code and ids", function()
    local err = from(404, { ["x-ms-request-id"] = "r-9" }, '{"errorCode":404002,"trackingId":"t","message":"gone\\nreally"}')
    assert.are.equal("iothub http error 404 JobNotFound (404002): gone really [request_id=r-9] [tracking_id=t]", tostring(err))
  end)

  it("prints errors with messages around 1 KB (a text 5xx page)", function()
    for size = 900, 1100, 7 do
      local err = from(500, {}, ("x"):rep(size))
      local text = tostring(err)
      assert.is_truthy(text:find("iothub http error 500", 1, true))
      assert.is_truthy(#text > 100)
    end
  end)

  it("ignores numbers out of range: an infinite retry hint, an error code of 1e300", function()
    assert.is_nil(from(503, { ["retry-after"] = "inf" }, "").retry_after)
    assert.is_nil(from(503, { ["retry-after-ms"] = "1e999" }, "").retry_after)
    local err = from(400, {}, '{"errorCode":1e300,"message":"m"}')
    assert.is_nil(err.error_code)
    assert.are.equal("m", err.message)
    err = from(400, {}, '{"error":"invalid_request","error_codes":[1e300]}')
    assert.is_nil(err.error_code)
  end)

  it("reads headers raw, so a table with an __index cannot hand out a string nothing holds", function()
    local headers = setmetatable({}, { __index = function(_, k) return ("v-" .. k):rep(50) end })
    local err = from(503, headers, "")
    assert.is_nil(err.request_id)
    assert.is_nil(err.retry_after)
  end)

  it("survives deep nesting and odd bodies without raising", function()
    for _, body in ipairs { string.rep("[", 5000), '"just a string"', "null", "42", '{"Message":42}',
                            '{"Message":"{\\"Message\\":\\"{}\\"}"}', '{"error":[]}' } do
      local err = from(500, {}, body)
      assert.are.equal(500, err.status)
      assert.is_string(err.message)
    end
  end)
end)
