-- hub:query_jobs, hub:job_pages and hub:jobs: paging through
-- x-ms-max-item-count and x-ms-continuation, filters and limits.
local iothub = require("iothub")
local H = require("helpers")

local function ids(list)
  local out = {}
  for i, job in ipairs(list) do out[i] = job.jobId end
  return out
end

describe("job queries", function()
  local hub, everything
  setup(function()
    H.reset()
    hub = H.hub()
    everything = assert(hub:query_jobs { page_size = 1000 }).items
  end)
  teardown(function() hub:close() end)

  it("query_jobs returns one page and a continuation for the next", function()
    local first = assert(hub:query_jobs { page_size = 7 })
    assert.are.equal(7, #first.items)
    assert.is_string(first.continuation)
    local second = assert(hub:query_jobs { page_size = 7, continuation = first.continuation })
    assert.are.equal(7, #second.items)
    assert.are.equal(everything[8].jobId, second.items[1].jobId)
    assert.are.equal(everything[14].jobId, second.items[7].jobId)
  end)

  it("has no continuation on the last page", function()
    local page = assert(hub:query_jobs { page_size = 1000 })
    assert.is_nil(page.continuation)
    assert.is_true(#page.items > 200)
  end)

  for _, size in ipairs { 1, 7, 13, 100 } do
    it("jobs{ page_size = " .. size .. " } walks every job once, in order", function()
      H.clear_requests()
      local list = H.all_jobs(hub, { page_size = size })
      assert.are.same(ids(everything), ids(list))
      local requests = H.requests()
      assert.are.equal(math.ceil(#everything / size), #requests)
      assert.are.equal(tostring(size), requests[1].headers["x-ms-max-item-count"])
      assert.is_nil(requests[1].headers["x-ms-continuation"])
      assert.truthy(requests[2] == nil or requests[2].headers["x-ms-continuation"])
    end)
  end

  it("job_pages yields pages with their items and continuations", function()
    local pages, count = 0, 0
    for page in hub:job_pages { page_size = 50 } do
      pages = pages + 1
      count = count + #page.items
      assert.is_true(#page.items <= 50)
    end
    assert.are.equal(#everything, count)
    assert.are.equal(math.ceil(#everything / 50), pages)
  end)

  it("filters by type and status on the service", function()
    H.clear_requests()
    local list = H.all_jobs(hub, { type = "scheduleUpdateTwin", status = "completed", page_size = 5 })
    local expected = {}
    for _, job in ipairs(everything) do
      if job.type == "scheduleUpdateTwin" and job.status == "completed" then expected[#expected + 1] = job end
    end
    assert.is_true(#expected > 5)
    assert.are.same(ids(expected), ids(list))
    local q = H.requests()[1].query
    assert.are.equal("scheduleUpdateTwin", q.jobType)
    assert.are.equal("completed", q.jobStatus)
  end)

  it("returns no jobs for a filter nothing matches", function()
    local list = H.all_jobs(hub, { type = "firmwareUpdate" })
    assert.are.equal(0, #list)
  end)

  it("stops at limit, asking for fewer items on the last page", function()
    H.clear_requests()
    local list = H.all_jobs(hub, { page_size = 3, limit = 10 })
    local first_ten = {}
    for i = 1, 10 do first_ten[i] = everything[i].jobId end
    assert.are.same(first_ten, ids(list))
    local sizes = {}
    for i, r in ipairs(H.requests()) do sizes[i] = r.headers["x-ms-max-item-count"] end
    assert.are.same({ "3", "3", "3", "1" }, sizes)
  end)

  it("makes no request for limit = 0", function()
    H.clear_requests()
    assert.are.equal(0, #H.all_jobs(hub, { limit = 0 }))
    assert.are.equal(0, #H.requests())
  end)

  it("raises the error table from an iterator when a page fails", function()
    local bad = H.hub(nil, H.connection_string_with { SharedAccessKeyName = "nosuchpolicy" })
    local ok, err = pcall(function() for _ in bad:jobs() do end end)
    assert.is_false(ok)
    assert.is_true(iothub.is_error(err))
    assert.are.equal("auth", err.kind)
    bad:close()
  end)

  it("returns nil, err from query_jobs for a continuation the service refuses", function()
    local page, err = hub:query_jobs { continuation = "not-a-token" }
    assert.is_nil(page)
    assert.are.equal(400, err.status)
  end)

  it("raises for bad query options", function()
    assert.has_error(function() hub:query_jobs { type = "nope" } end, "iothub.query_jobs: unknown job type 'nope'")
    assert.has_error(function() hub:query_jobs { status = "done" } end)
    assert.has_error(function() hub:query_jobs { page_size = 0 } end)
    assert.has_error(function() hub:query_jobs { page_size = 2.5 } end)
    assert.has_error(function() hub:query_jobs { pagesize = 2 } end, "iothub.query_jobs: unknown option 'pagesize'")
    assert.has_error(function() hub:jobs { continuation = "x" } end)
    assert.has_error(function() hub:query_jobs { limit = 3 } end)
    assert.has_error(function() hub:jobs { limit = -1 } end)
  end)
end)
