-- iothub.status: job status predicates and progress, shared by the service
-- and management clients (whose status sets differ: only the service API has
-- queued and scheduled; per-device rows spell "canceled" with one L).
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

M.is_terminal = predicate { completed = true, failed = true, cancelled = true, canceled = true }
M.is_active = predicate { queued = true, enqueued = true, scheduled = true, running = true, pending = true }
M.is_pending = predicate { queued = true, enqueued = true, scheduled = true, pending = true }
M.is_running = predicate { running = true }
M.is_succeeded = predicate { completed = true }
M.is_failed = predicate { failed = true }
M.is_cancelled = predicate { cancelled = true, canceled = true }

-- Fraction 0..1 of devices done (succeeded or failed), or nil without statistics.
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
