--- iothub.status: job status predicates and progress, shared by the service
-- and management clients (whose status sets differ: only the service API has
-- queued and scheduled; per-device rows spell "canceled" with one L).
-- Documented as part of @{iothub}, which exports them.
-- @module iothub
local M = {}

local type, lower = type, string.lower

local function status_of(x)
  if type(x) == "table" then x = x.status end
  if type(x) ~= "string" then return nil end
  return lower(x)
end

local function predicate(set)
  return function(x)
    local s = status_of(x)
    return s ~= nil and set[s] == true
  end
end

--- Job status
-- @section status

--- Whether a job has ended: completed, failed or cancelled (`canceled` too).
-- Each predicate takes a job table (its `status` is read, in any case) or a
-- status string, and gives `false` for anything else.
-- A completed job can still have failed devices
-- (`deviceJobStatistics.failedCount`, @{Service:device_jobs}).
-- @function is_terminal
-- @tparam table|string x a job or a status
-- @treturn boolean

--- Whether a job has yet to end: queued, enqueued, scheduled, running (or
-- `pending`, as per-device rows say).
-- @function is_active
-- @tparam table|string x a job or a status
-- @treturn boolean

--- Whether a job has not started: queued, enqueued, scheduled or pending.
-- @function is_pending
-- @tparam table|string x a job or a status
-- @treturn boolean

--- Whether a job is running.
-- @function is_running
-- @tparam table|string x a job or a status
-- @treturn boolean

--- Whether a job completed (its devices may still have failed one by one).
-- @function is_succeeded
-- @tparam table|string x a job or a status
-- @treturn boolean

--- Whether a job failed.
-- @function is_failed
-- @tparam table|string x a job or a status
-- @treturn boolean

--- Whether a job was cancelled (`cancelled` or `canceled`).
-- @function is_cancelled
-- @tparam table|string x a job or a status
-- @treturn boolean

M.is_terminal = predicate { completed = true, failed = true, cancelled = true, canceled = true }
M.is_active = predicate { queued = true, enqueued = true, scheduled = true, running = true, pending = true }
M.is_pending = predicate { queued = true, enqueued = true, scheduled = true, pending = true }
M.is_running = predicate { running = true }
M.is_succeeded = predicate { completed = true }
M.is_failed = predicate { failed = true }
M.is_cancelled = predicate { cancelled = true, canceled = true }

--- The fraction 0..1 of a job's devices done (succeeded or failed), from
-- `deviceJobStatistics` (service-API jobs; ARM jobs have none). A job with
-- no devices gives 1 once it has ended, else 0.
-- @tparam table job a job
-- @treturn number|nil the fraction, or nil without statistics
-- @raise when `job` is not a table
function M.progress(job)
  if type(job) ~= "table" then
    error("iothub.progress: expected a job table, got " .. type(job), 2)
  end
  local st = job.deviceJobStatistics
  if type(st) ~= "table" or type(st.deviceCount) ~= "number" then return nil end
  if st.deviceCount <= 0 then return M.is_terminal(job) and 1 or 0 end
  local done = (tonumber(st.succeededCount) or 0) + (tonumber(st.failedCount) or 0)
  local f = done / st.deviceCount
  if f > 1 then f = 1 elseif f < 0 then f = 0 end
  return f
end

return M
