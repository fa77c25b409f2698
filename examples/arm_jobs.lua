-- examples/arm_jobs.lua: reads one job through Azure Resource Manager (the
-- management plane) and lists every job of the hub, following nextLink.
-- Run against the bundled emulator:   make demo
-- or against Azure, with a service principal in the environment:
--   AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=... \
--   AZURE_SUBSCRIPTION_ID=... IOTHUB_RESOURCE_GROUP=... IOTHUB_NAME=... \
--     lua examples/arm_jobs.lua [job-id]
local iothub = require("iothub")

local emulator = os.getenv("IOTHUB_EMULATOR_URL")
local function env(name, emulator_name)
  return os.getenv(name) or (emulator and os.getenv(emulator_name))
end

local credential, err
if emulator and not os.getenv("AZURE_CLIENT_SECRET") then
  credential = iothub.credential.client_secret {
    tenant_id = env("AZURE_TENANT_ID", "IOTHUB_EMULATOR_TENANT_ID"),
    client_id = env("AZURE_CLIENT_ID", "IOTHUB_EMULATOR_CLIENT_ID"),
    client_secret = env("AZURE_CLIENT_SECRET", "IOTHUB_EMULATOR_CLIENT_SECRET"),
    authority = emulator, ca_file = os.getenv("IOTHUB_EMULATOR_CA"),
  }
else
  credential, err = iothub.credential.environment()
  if not credential then
    io.stderr:write(tostring(err), "\n")
    os.exit(2)
  end
end

local arm = assert(iothub.management {
  subscription_id = env("AZURE_SUBSCRIPTION_ID", "IOTHUB_EMULATOR_SUBSCRIPTION_ID"),
  resource_group = env("IOTHUB_RESOURCE_GROUP", "IOTHUB_EMULATOR_RESOURCE_GROUP"),
  hub_name = env("IOTHUB_NAME", "IOTHUB_EMULATOR_HUB_NAME"),
  credential = credential,
  endpoint = emulator,                          -- nil: https://management.azure.com
  ca_file = os.getenv("IOTHUB_EMULATOR_CA"),
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
