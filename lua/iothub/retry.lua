-- iothub.retry: the retry policy shared by every client: capped exponential
-- backoff with jitter on transient failures (err.retryable), server hints
-- (err.retry_after) first, an overall deadline, and only for calls that
-- cannot run a job twice (the caller decides which).
local core = require("iothub.core")
local args = require("iothub.args")
local transport = require("iothub.transport")

local M = {}

local min, random, type = math.min, math.random, type

M.DEFAULT = { attempts = 4, base_delay = 0.5, max_delay = 30, deadline = 120 }
M.ONCE = { attempts = 1, base_delay = 0, max_delay = 0, deadline = 0 }

local retry_options = { attempts = "number", base_delay = "number", max_delay = "number", deadline = "number" }
local retry_min = { attempts = 1, base_delay = 0, max_delay = 0, deadline = 0 }

-- The policy from a client's `retry` option (nil: defaults, false: none).
function M.policy(fname, option)
  if option == false then return nil end
  local opts = args.options(fname .. " retry", option, retry_options, retry_min)
  if opts.attempts and opts.attempts % 1 ~= 0 then args.fail(fname, "retry.attempts must be a whole number") end
  local p = {}
  for k, v in pairs(M.DEFAULT) do
    if opts[k] ~= nil then p[k] = opts[k] else p[k] = v end
  end
  -- Left to its default, the deadline is shorter where an nginx request
  -- waits for the call (see transport.HANDLER).
  if opts.deadline == nil then p.handler_deadline = transport.HANDLER.deadline end
  return p
end

-- The wait before attempt n + 1 (n >= 1): the server's hint when it gave
-- one, else base * 2^(n-1) capped at max_delay, with "equal jitter" (half
-- fixed, half random) so many clients do not retry in step.
function M.delay(policy, n, err, rand)
  if type(err.retry_after) == "number" and err.retry_after >= 0 then
    return min(err.retry_after, policy.max_delay)
  end
  local d = min(policy.max_delay, policy.base_delay * 2 ^ (n - 1))
  return d / 2 + d / 2 * (rand or random)()
end

-- Runs call(...) (-> value, ... | nil, err) under the policy. env may give
-- sleep, clock and random (for tests). The error returned is the last one,
-- with err.attempts set.
function M.run(policy, call, env, ...)
  policy = policy or M.ONCE
  local sleep = env and env.sleep or transport.sleep
  local clock = env and env.clock or core.monotonic
  local budget = policy.deadline
  if policy.handler_deadline and transport.in_request_phase() then budget = min(budget, policy.handler_deadline) end
  local deadline = clock() + budget
  local attempt = 0
  while true do
    attempt = attempt + 1
    local a, b, c = call(...)
    if a ~= nil then return a, b, c end
    local err = b
    if type(err) == "table" then err.attempts = attempt end
    if attempt >= policy.attempts or type(err) ~= "table" or not err.retryable then return nil, err end
    local wait = M.delay(policy, attempt, err, env and env.random)
    if clock() + wait > deadline then return nil, err end
    sleep(wait)
  end
end

return M
