-- bench/front_handler.lua: the content handler of bench/front.conf.in: reads
-- a job through iothub (cosockets, the keep-alive pool, the cached SAS) and
-- answers it as JSON, as a user's handler would. One client per worker.
local iothub = require("iothub")
local json = require("iothub.json")

local M = {}

local hub

function M.job(job_id)
  if not hub then
    hub = iothub.assert(iothub.service("HostName=bench-hub.azure-devices.net;SharedAccessKeyName=iothubowner;"
      .. "SharedAccessKey=" .. os.getenv("BENCH_KEY"), { endpoint = os.getenv("BENCH_URL") }))
  end
  local job, err = hub:get_job(job_id)
  if not job then
    ngx.status = 502
    ngx.say(tostring(err))
    return
  end
  ngx.print(json.encode(job))
end

return M
