-- bench/front_handler.lua: the content handler of bench/front.conf.in: reads
-- a job through iothub (cosockets, the keep-alive pool, the cached SAS) and
-- answers it as JSON, as a user's handler would (with lua-cjson, as most
-- OpenResty handlers encode; iothub.null is cjson.null). One client per
-- worker.
local iothub = require("iothub")
local cjson = require("cjson.safe").new()

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
  ngx.print(cjson.encode(job))
end

return M
