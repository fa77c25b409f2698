-- examples/twin_rollout.lua: schedules a twin update across a fleet, waits for
-- it with a live progress bar, then reboots the same devices with a direct
-- method job and lists the devices that failed and why.
-- Run against the bundled emulator:   make demo
-- or against a real hub (careful: it really updates and reboots devices):
--   IOTHUB_CONNECTION_STRING='HostName=...' lua examples/twin_rollout.lua "tags.site = 'paris'"
local iothub = require("iothub")

local connection_string = os.getenv("IOTHUB_CONNECTION_STRING") or os.getenv("IOTHUB_EMULATOR_CONNECTION_STRING")
if not connection_string then
  io.stderr:write("set IOTHUB_CONNECTION_STRING (see the header of this file)\n")
  os.exit(2)
end
local query_condition = arg[1] or "*"

local hub = assert(iothub.service(connection_string, {
  endpoint = os.getenv("IOTHUB_EMULATOR_URL"),
  ca_file = os.getenv("IOTHUB_EMULATOR_CA"),
}))

local function fail(err)
  io.stderr:write("\n", tostring(err), "\n")
  os.exit(1)
end

-- [##########----------]  20/40 devices  19 ok  1 failed  running
local function draw(job)
  local st = job.deviceJobStatistics or {}
  local total = st.deviceCount or 0
  local ok, failed = st.succeededCount or 0, st.failedCount or 0
  local width = 30
  local filled = math.floor((iothub.progress(job) or 0) * width + 0.5)
  io.write(("\r[%s%s] %3d/%-3d devices %3d ok %3d failed  %-10s"):format(
    ("#"):rep(filled), ("-"):rep(width - filled), ok + failed, total, ok, failed, job.status))
  io.flush()
end

local function run(title, job, err)
  if not job then fail(err) end
  print(("%s: job %s (%s)"):format(title, job.jobId, job.type))
  job, err = hub:wait_job(job.jobId, { timeout = 300, interval = 0.25, on_progress = draw })
  if not job then fail(err) end
  print()
  local failed = 0
  for row in hub:device_jobs(job.jobId) do
    if row.status == "failed" then
      failed = failed + 1
      local why
      if row.error then
        why = ("%s: %s"):format(row.error.code or "?", row.error.description or "")
      elseif row.outcome and row.outcome.deviceMethodResponse then
        why = ("device answered status %s"):format(tostring(row.outcome.deviceMethodResponse.status))
      end
      print(("  failed  %-12s %s"):format(row.deviceId, why or "no reason given"))
    end
  end
  print(("  %s, %d device(s) failed\n"):format(job.status, failed))
end

run("twin update", hub:schedule_twin_update {
  query_condition = query_condition,
  twin = { tags = { rollout = "fw-2.0" }, properties = { desired = { fw = { version = "2.0.0" } } } },
})
run("reboot", hub:schedule_device_method {
  query_condition = query_condition, method_name = "reboot",
  payload = { delay = 5 }, response_timeout = 30,
})
hub:close()
