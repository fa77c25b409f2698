-- examples/arm_jobs.lua: reads one job through Azure Resource Manager (the
-- management plane) and lists every job of the hub, following nextLink.
-- Against the bundled emulator (after `make`; it sets the variables below,
-- pointing the Azure AD authority and ARM at itself):
--   tools/with-emulator lua5.4 examples/arm_jobs.lua [job-id]
-- or against Azure, with a service principal in the environment:
--   AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=... \
--   AZURE_SUBSCRIPTION_ID=... IOTHUB_RESOURCE_GROUP=... IOTHUB_NAME=... \
--     lua examples/arm_jobs.lua [job-id]
-- (optional: AZURE_AUTHORITY_HOST, IOTHUB_ARM_ENDPOINT for another cloud,
-- IOTHUB_CA_FILE for a CA file other than the system's).
local iothub = require("iothub")

local ca_file = os.getenv("IOTHUB_CA_FILE")
local credential, err = iothub.credential.environment { ca_file = ca_file }
if not credential then
  io.stderr:write(tostring(err), "\n")
  os.exit(2)
end

local arm = iothub.assert(iothub.management {
  subscription_id = os.getenv("AZURE_SUBSCRIPTION_ID"),
  resource_group = os.getenv("IOTHUB_RESOURCE_GROUP"),
  hub_name = os.getenv("IOTHUB_NAME"),
  credential = credential,
  endpoint = os.getenv("IOTHUB_ARM_ENDPOINT"),  -- nil: https://management.azure.com
  ca_file = ca_file,
})

local job
job, err = arm:get_job(arg[1] or "fixture-twin-1")
if not job then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(("job %s: %s, %s, started %s, ended %s"):format(job.jobId, job.type, job.status,
  job.startTimeUtc or "-", job.endTimeUtc or "-"))

local counts, total = {}, 0
local ok, lerr = pcall(function()
  for j in arm:jobs() do
    total = total + 1
    counts[j.status] = (counts[j.status] or 0) + 1
  end
end)
if not ok then
  io.stderr:write(tostring(lerr), "\n")
  os.exit(1)
end
local summary = {}
for status, n in pairs(counts) do summary[#summary + 1] = status .. " " .. n end
table.sort(summary)
print(("%d jobs through ARM: %s"):format(total, table.concat(summary, ", ")))
arm:close()
