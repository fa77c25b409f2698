-- Import/export jobs (the v1 jobs API): create, read, list, cancel.
local H = require("helpers")

describe("import/export jobs", function()
  local hub
  before_each(function()
    H.reset()
    hub = H.hub()
  end)
  after_each(function() hub:close() end)

  it("runs an export job to completion and lists it", function()
    local job, err = hub:export_devices { output_blob_container_uri = "https://acct.blob.example/out?sv=1", exclude_keys = true }
    assert.truthy(job, tostring(err))
    assert.are.equal("export", job.type)
    assert.truthy(job.jobId)
    assert.are.equal("enqueued", job.status)
    H.clock { advance = 60 }
    local read = assert(hub:get_import_export_job(job.jobId))
    assert.are.equal("completed", read.status)
    local list = assert(hub:import_export_jobs())
    local found = false
    for _, j in ipairs(list) do found = found or j.jobId == job.jobId end
    assert.is_true(found)
  end)

  it("reports a failed import with its reason", function()
    local job = assert(hub:import_devices { input_blob_container_uri = "https://acct/fail-input",
      output_blob_container_uri = "https://acct/out" })
    assert.are.equal("import", job.type)
    H.clock { advance = 60 }
    local read = assert(hub:get_import_export_job(job.jobId))
    assert.are.equal("failed", read.status)
    assert.is_string(read.failureReason)
  end)

  it("cancels an active job", function()
    local job = assert(hub:export_devices { output_blob_container_uri = "https://acct/out" })
    assert.truthy(hub:cancel_import_export_job(job.jobId))
    assert.are.equal("cancelled", assert(hub:get_import_export_job(job.jobId)).status)
  end)

  it("returns the service's error for a second active job and for unknown ids", function()
    assert.truthy(hub:export_devices { output_blob_container_uri = "https://acct/out" })
    local again, err = hub:export_devices { output_blob_container_uri = "https://acct/out" }
    assert.is_nil(again)
    assert.are.equal(409, err.status)
    local none, nerr = hub:get_import_export_job("missing")
    assert.is_nil(none)
    assert.are.equal("JobNotFound", nerr.code)
  end)

  it("raises for missing or non-https container URIs", function()
    assert.has_error(function() hub:export_devices {} end)
    assert.has_error(function() hub:export_devices { output_blob_container_uri = "http://insecure" } end)
    assert.has_error(function() hub:import_devices { input_blob_container_uri = "https://in" } end)
    assert.has_error(function() hub:get_import_export_job("") end)
  end)
end)
