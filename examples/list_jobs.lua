-- examples/list_jobs.lua: lists jobs page by page, with optional filters.
-- Against the bundled emulator (after `make`; it sets the variables below):
--   tools/with-emulator lua5.4 examples/list_jobs.lua [type] [status] [page size]
-- or against a real hub (IOTHUB_ENDPOINT and IOTHUB_CA_FILE optional, as in
-- show_job.lua):
--   IOTHUB_CONNECTION_STRING='HostName=...' lua examples/list_jobs.lua [type] [status] [page size]
-- e.g. lua examples/list_jobs.lua scheduleUpdateTwin running 20
local iothub = require("iothub")

local connection_string = os.getenv("IOTHUB_CONNECTION_STRING")
if not connection_string then
  io.stderr:write("set IOTHUB_CONNECTION_STRING (see the header of this file)\n")
  os.exit(2)
end
local function arg_or_nil(i) return arg[i] ~= nil and arg[i] ~= "" and arg[i] ~= "-" and arg[i] or nil end

local hub = iothub.assert(iothub.service(connection_string, {
  endpoint = os.getenv("IOTHUB_ENDPOINT"),
  ca_file = os.getenv("IOTHUB_CA_FILE"),
}))

local filters = { type = arg_or_nil(1), status = arg_or_nil(2), page_size = tonumber(arg[3]) or 25 }
local total, counts = 0, {}
-- The iterator raises the error table on failure; pcall turns it into a message.
local ok, err = pcall(function()
  for page in hub:job_pages(filters) do
    print(("-- page of %d%s"):format(#page.items, page.continuation and "" or " (last)"))
    for _, job in ipairs(page.items) do
      total = total + 1
      counts[job.status] = (counts[job.status] or 0) + 1
      local p = iothub.progress(job)
      print(("  %-36s %-20s %-10s %s"):format(job.jobId, job.type, job.status,
        p and ("%3d%%"):format(math.floor(p * 100 + 0.5)) or ""))
    end
  end
end)
if not ok then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
local summary = {}
for status, n in pairs(counts) do summary[#summary + 1] = status .. " " .. n end
table.sort(summary)
print(("%d jobs: %s"):format(total, table.concat(summary, ", ")))
hub:close()
