-- examples/show_job.lua: reads one job and prints its state.
-- Against the bundled emulator (after `make`; it sets the variables below):
--   tools/with-emulator lua5.4 examples/show_job.lua [job-id]
-- or against a real hub, with the rock installed (or LUA_PATH/LUA_CPATH on
-- the checkout's lua/ and build/<lua>/):
--   IOTHUB_CONNECTION_STRING='HostName=...;SharedAccessKeyName=...;SharedAccessKey=...' \
--     lua examples/show_job.lua <job-id>
-- IOTHUB_ENDPOINT (a base URL other than https://<HostName>) and
-- IOTHUB_CA_FILE (a CA file other than the system's) are optional.
local iothub = require("iothub")

local connection_string = os.getenv("IOTHUB_CONNECTION_STRING")
local job_id = arg[1] or "fixture-twin-1"
if not connection_string then
  io.stderr:write("set IOTHUB_CONNECTION_STRING (see the header of this file)\n")
  os.exit(2)
end

local hub, err = iothub.service(connection_string, {
  endpoint = os.getenv("IOTHUB_ENDPOINT"),   -- nil: https://<HostName>
  ca_file = os.getenv("IOTHUB_CA_FILE"),     -- nil: the system CAs
})
if not hub then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end

local job
job, err = hub:get_job(job_id)
if not job then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end

local function when(s)
  local t = iothub.time(s)
  return t and os.date("!%Y-%m-%d %H:%M:%S UTC", math.floor(t)) or "-"
end

print(("job %s (%s): %s"):format(job.jobId, job.type, job.status))
print(("  query     %s"):format(job.queryCondition or "-"))
print(("  created   %s"):format(when(job.createdTime)))
print(("  started   %s"):format(when(job.startTime)))
print(("  ended     %s"):format(when(job.endTime)))
local stats = job.deviceJobStatistics
if stats then
  local p = iothub.progress(job)
  print(("  devices   %d: %d succeeded, %d failed, %d running, %d pending (%s done)"):format(
    stats.deviceCount or 0, stats.succeededCount or 0, stats.failedCount or 0,
    stats.runningCount or 0, stats.pendingCount or 0, p and ("%d%%"):format(math.floor(p * 100 + 0.5)) or "?"))
end
if job.failureReason then print("  failure   " .. job.failureReason) end
if job.cloudToDeviceMethod then print("  method    " .. job.cloudToDeviceMethod.methodName) end
hub:close()
