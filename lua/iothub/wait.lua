-- iothub.wait: polling until a job reaches a terminal status, shared by the
-- service and management clients. Calls on_progress when the status or the
-- device statistics change; on timeout returns nil and a "timeout" error
-- carrying the last job seen. Transient read errors do not end the wait.
local core = require("iothub.core")
local args = require("iothub.args")
local status = require("iothub.status")
local transport = require("iothub.transport")

local M = {}

local type, pairs, sort, concat, tostring, min = type, pairs, table.sort, table.concat, tostring, math.min

local wait_options = { timeout = "number", interval = "number", on_progress = "function" }
local wait_min = { timeout = 0, interval = 0.001 }

-- A string that changes when anything a user watches changes.
local function fingerprint(job)
  local parts = { tostring(job.status) }
  local st = job.deviceJobStatistics
  if type(st) == "table" then
    local keys = {}
    for k in pairs(st) do keys[#keys + 1] = k end
    sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(st[k]) end
  end
  if job.progress ~= nil then parts[#parts + 1] = "progress=" .. tostring(job.progress) end
  return concat(parts, ";")
end

-- get(): job | nil, err. sleep(seconds) and clock() default to the core's.
function M.wait(fname, get, opts, sleep, clock)
  opts = args.options(fname, opts, wait_options, wait_min)
  sleep, clock = sleep or transport.sleep, clock or core.monotonic
  local timeout, interval = opts.timeout or 600, opts.interval or 5
  local deadline = clock() + timeout
  local last_seen, last_print, last_err
  while true do
    local job, err = get()
    if job then
      last_seen = job
      local print = fingerprint(job)
      if print ~= last_print then
        last_print = print
        if opts.on_progress then opts.on_progress(job) end
      end
      if status.is_terminal(job) then return job end
    elseif not err.retryable then
      return nil, err
    else
      last_err = err
    end
    local left = deadline - clock()
    if left <= 0 then
      return nil, core.error("timeout", ("job did not finish within %g s"):format(timeout),
        { job = last_seen, cause = last_err, retryable = true })
    end
    sleep(min(interval, left))
  end
end

return M
