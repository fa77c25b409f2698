-- iothub.management: IoT Hub jobs through the emulated Azure Resource
-- Manager, over HTTPS with bearer tokens from the emulated Azure AD.
local iothub = require("iothub")
local H = require("helpers")

describe("management client", function()
  local arm
  before_each(function()
    H.reset()
    arm = H.arm()
  end)
  after_each(function() arm:close() end)

  it("reads a job as the ARM JobResponse with RFC 1123 times", function()
    local job, err = arm:get_job("fixture-twin-1")
    assert.truthy(job, tostring(err))
    assert.are.equal("fixture-twin-1", job.jobId)
    assert.are.equal("completed", job.status)
    assert.truthy(job.startTimeUtc:match("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d GMT$"), job.startTimeUtc)
    assert.are.equal(1795428000, iothub.time(job.startTimeUtc))
    assert.is_nil(job.deviceJobStatistics)
    assert.is_true(iothub.is_succeeded(job))
  end)

  it("sends the bearer token, the api-version and percent-encoded segments", function()
    H.clear_requests()
    assert.truthy(arm:get_job("a/b"))
    local log = H.requests()
    local r = log[#log]
    assert.are.equal("Bearer", r.headers.authorization.scheme)
    assert.are.equal("2023-06-30", r.query["api-version"])
    assert.are.equal("/subscriptions/" .. H.aad.subscription_id .. "/resourceGroups/" .. H.aad.resource_group
      .. "/providers/Microsoft.Devices/IotHubs/" .. H.aad.hub_name .. "/jobs/a%2Fb", r.path)
  end)

  it("returns a JobNotFound error for an unknown job, with the request id", function()
    local job, err = arm:get_job("no-such-job")
    assert.is_nil(job)
    assert.are.equal(404, err.status)
    assert.are.equal("JobNotFound", err.code)
    assert.is_string(err.message)
    assert.is_string(err.request_id)
  end)

  it("returns ResourceNotFound for a hub that does not exist", function()
    local other = H.arm { hub_name = "no-such-hub" }
    local _, err = other:get_job("fixture-twin-1")
    assert.are.equal(404, err.status)
    assert.are.equal("ResourceNotFound", err.code)
    other:close()
  end)

  it("returns the ARM error for an unsupported api-version", function()
    local other = H.arm { api_version = "1999-01-01" }
    local _, err = other:get_job("fixture-twin-1")
    assert.are.equal(400, err.status)
    assert.are.equal("InvalidApiVersionParameter", err.code)
    other:close()
  end)

  it("lists one page with an absolute next_link, and follows it keeping the api-version", function()
    local page = assert(arm:list_jobs())
    assert.is_true(#page.items > 0)
    assert.truthy(page.next_link:match("^https://127%.0%.0%.1:%d+/subscriptions/"), page.next_link)
    H.clear_requests()
    local second = assert(arm:list_jobs { next_link = page.next_link })
    assert.is_true(#second.items > 0)
    assert.are_not.equal(page.items[1].jobId, second.items[1].jobId)
    assert.are.equal("2023-06-30", H.requests()[1].query["api-version"])
  end)

  it("iterates over every job across pages, as many as the service API holds", function()
    local hub = H.hub()
    local service_count = #H.all_jobs(hub, { page_size = 1000 })
    hub:close()
    local count, seen = 0, {}
    for job in arm:jobs() do
      count = count + 1
      assert.is_nil(seen[job.jobId], job.jobId)
      seen[job.jobId] = true
    end
    assert.are.equal(service_count, count)
  end)

  it("iterates page by page with job_pages, each page with the next_link list_jobs gives", function()
    local pages, count = {}, 0
    for page in arm:job_pages() do
      pages[#pages + 1] = page
      count = count + #page.items
    end
    assert.is_true(#pages > 1)
    local first = assert(arm:list_jobs())
    assert.are.equal(first.next_link, pages[1].next_link)
    assert.are.equal(first.items[1].jobId, pages[1].items[1].jobId)
    local second = assert(arm:list_jobs { next_link = first.next_link })
    assert.are.equal(second.items[1].jobId, pages[2].items[1].jobId)
    for i = 1, #pages - 1 do assert.is_string(pages[i].next_link) end
    assert.is_nil(pages[#pages].next_link)
    assert.is_nil(pages[1].continuation)
    local jobs = 0
    for _ in arm:jobs() do jobs = jobs + 1 end
    assert.are.equal(jobs, count)
  end)

  it("job_pages raises the error table when a page fails, after the pages before it", function()
    H.fault { fault = "error", method = "GET", path = "/subscriptions/", status = 404, shape = "arm",
      code = "ResourceNotFound", skip = 1 }
    local iter = arm:job_pages()
    assert.is_true(#iter().items > 0)
    local ok, err = pcall(iter)
    assert.is_false(ok)
    assert.are.equal("table", type(err))
    assert.are.equal(404, err.status)
    assert.are.equal("ResourceNotFound", err.code)
    assert.is_nil(iter())
  end)

  it("job_pages is a method", function()
    assert.has_error(function() arm.job_pages() end, "iothub.job_pages: call it as a method (obj:job_pages(...))")
  end)

  it("refuses to follow a nextLink to another host", function()
    local page, err = arm:list_jobs { next_link = "https://elsewhere.example/subscriptions/x/jobs" }
    assert.is_nil(page)
    assert.are.equal("config", err.kind)
  end)

  it("caches the token across calls and refreshes it once after a 401", function()
    assert.truthy(arm:get_job("fixture-twin-1"))
    assert.truthy(arm:get_job("fixture-twin-1"))
    assert.are.equal(1, H.control("GET", "aad").tokens_issued)
    H.control("POST", "aad/revoke")
    local job, err = arm:get_job("fixture-twin-1")
    assert.truthy(job, tostring(err))
    assert.are.equal(2, H.control("GET", "aad").tokens_issued)
  end)

  it("refreshes a token that expired on the emulator's clock", function()
    assert.truthy(arm:get_job("fixture-twin-1"))
    H.clock { advance = 7200 }
    local job, err = arm:get_job("fixture-twin-1")
    assert.truthy(job, tostring(err))
    assert.are.equal(2, H.control("GET", "aad").tokens_issued)
  end)

  it("returns the credential's auth error when no token can be had", function()
    local bad = H.arm { credential = H.client_secret { client_secret = "wrong-secret-wrong-secret-wrong" } }
    local job, err = bad:get_job("fixture-twin-1")
    assert.is_nil(job)
    assert.are.equal("auth", err.kind)
    assert.are.equal("invalid_client", err.code)
    bad:close()
  end)

  it("returns an auth error for a token ARM does not accept", function()
    local bad = H.arm { credential = iothub.credential.static("not-a-real-token") }
    local _, err = bad:get_job("fixture-twin-1")
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.status)
    assert.are.equal("InvalidAuthenticationToken", err.code)
    bad:close()
  end)

  it("works with a managed identity credential", function()
    local mi = H.arm { credential = iothub.credential.managed_identity {
      endpoint = H.url .. "/metadata/identity/oauth2/token", ca_file = H.ca_file } }
    assert.truthy(mi:get_job("fixture-twin-1"))
    mi:close()
  end)

  it("waits for a job to finish, sharing the status model with the service client", function()
    H.clock { device_seconds = 0.02 }
    local hub = H.hub()
    assert.truthy(hub:schedule_twin_update { job_id = "arm-watched", query_condition = "deviceId IN ['device-001', 'device-002']",
      twin = { tags = { arm = true } } })
    local job, err = arm:wait_job("arm-watched", { timeout = 20, interval = 0.1 })
    assert.truthy(job, tostring(err))
    assert.is_true(iothub.is_terminal(job))
    hub:close()
  end)

  it("raises for missing or empty path segments and a missing credential", function()
    assert.has_error(function() H.arm { hub_name = "" } end)
    assert.has_error(function() H.arm { subscription_id = 5 } end)
    assert.has_error(function() H.arm { credential = { get_token = function() end } } end)
    assert.has_error(function() iothub.management() end)
    assert.has_error(function() arm:get_job("") end)
    assert.has_error(function() arm:list_jobs { nextLink = "x" } end)
  end)
end)
