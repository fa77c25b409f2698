-- examples/twin_rollout.lua: schedules a twin update across a fleet, waits for
-- it with a live progress bar, then reboots the same devices with a direct
-- method job and lists the devices that failed and why; at the end it checks
-- the twins themselves: has every matching device got the desired firmware,
-- and does it report it? (Devices report a little after the job reaches them.)
-- Against the bundled emulator (after `make`; it sets the variables below):
--   tools/with-emulator lua5.4 examples/twin_rollout.lua
-- (devices there take 0.25 s each; `make demo` speeds them up first), or
-- against a real hub (careful: it really updates and reboots devices;
-- IOTHUB_ENDPOINT and IOTHUB_CA_FILE optional, as in show_job.lua):
--   IOTHUB_CONNECTION_STRING='HostName=...' lua examples/twin_rollout.lua "tags.site = 'paris'"
local iothub = require("iothub")

local connection_string = os.getenv("IOTHUB_CONNECTION_STRING")
if not connection_string then
  io.stderr:write("set IOTHUB_CONNECTION_STRING (see the header of this file)\n")
  os.exit(2)
end
local query_condition = arg[1] or "*"
local FW = "2.0.0"

local hub = iothub.assert(iothub.service(connection_string, {
  endpoint = os.getenv("IOTHUB_ENDPOINT"),
  ca_file = os.getenv("IOTHUB_CA_FILE"),
}))

local function fail(err)
  io.stderr:write("\n", tostring(err), "\n")
  os.exit(1)
end

-- Whether stdout is a terminal (POSIX `test -t 1`; os.execute answers 0 on
-- 5.1 and true on 5.2+). Redirected to a file or a pipe, the progress bar's
-- carriage returns would only make noise, so it writes plain lines instead.
local ok_tty = os.execute("test -t 1")
local tty = ok_tty == true or ok_tty == 0

-- [##########----------]  20/40 devices  19 ok  1 failed  running
local last_line
local function draw(job)
  local st = job.deviceJobStatistics or {}
  local total = st.deviceCount or 0
  local ok, failed = st.succeededCount or 0, st.failedCount or 0
  local width = 30
  local filled = math.floor((iothub.progress(job) or 0) * width + 0.5)
  local line = ("[%s%s] %3d/%-3d devices %3d ok %3d failed  %-10s"):format(
    ("#"):rep(filled), ("-"):rep(width - filled), ok + failed, total, ok, failed, job.status)
  if tty then
    io.write("\r", line)
    io.flush()
  elseif line ~= last_line then   -- one line per change, not one per poll
    print(line)
  end
  last_line = line
end

local function run(title, job, err)
  if not job then fail(err) end
  print(("%s: job %s (%s)"):format(title, job.jobId, job.type))
  job, err = hub:wait_job(job.jobId, { timeout = 300, interval = 0.25, on_progress = draw })
  if not job then fail(err) end
  if tty then print() end
  last_line = nil
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
  twin = { tags = { rollout = "fw-2.0" }, properties = { desired = { fw = { version = FW } } } },
})
run("reboot", hub:schedule_device_method {
  query_condition = query_condition, method_name = "reboot",
  payload = { delay = 5 }, response_timeout = 30,
})
-- The twins, per site: how many match, have the desired firmware, report it.
-- Reports trail the job, so look again for a few seconds until they agree.
local function fw_version(section)
  local fw = type(section) == "table" and section.fw
  return type(fw) == "table" and fw.version or nil
end

local function check_twins()
  local sites, order, behind = {}, {}, {}
  for twin in hub:twins(query_condition, { page_size = 100 }) do
    local site = type(twin.tags) == "table" and tostring(twin.tags.site or "-") or "-"
    local props = twin.properties or {}
    local desired, reported = fw_version(props.desired), fw_version(props.reported)
    local row = sites[site]
    if not row then
      row = { site = site, devices = 0, desired = 0, reported = 0 }
      sites[site] = row
      order[#order + 1] = site
    end
    row.devices = row.devices + 1
    if desired == FW then row.desired = row.desired + 1 end
    if reported == FW then row.reported = row.reported + 1 end
    if desired ~= FW or reported ~= FW then
      behind[#behind + 1] = ("%s (%s)"):format(twin.deviceId, tostring(twin.connectionState))
    end
  end
  table.sort(order)
  return sites, order, behind
end

local sites, order, behind
for _ = 1, 20 do
  sites, order, behind = check_twins()
  local waiting_for_connected = false
  for _, who in ipairs(behind) do
    if who:find("(Connected)", 1, true) then waiting_for_connected = true end
  end
  if not waiting_for_connected then break end
  iothub.sleep(0.5)
end
print(("twins (%s): fw.version %s desired and reported"):format(query_condition, FW))
print(("  %-10s %8s %8s %9s"):format("site", "devices", "desired", "reported"))
for _, site in ipairs(order) do
  local row = sites[site]
  print(("  %-10s %8d %8d %9d"):format(row.site, row.devices, row.desired, row.reported))
end
if #behind == 0 then
  print("  every matching twin has the desired value and reports it")
else
  print(("  %d twin(s) not converged: %s"):format(#behind, table.concat(behind, ", ")))
end
hub:close()
