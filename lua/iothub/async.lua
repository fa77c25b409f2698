--- iothub.async: tasks for hosts that run their own loop (game engines, tool
-- hosts). iothub.spawn(fn, ...) runs fn in a coroutine; inside it every
-- client call (get_job, get_jobs, wait_job, ...) is non-blocking: requests go
-- to the core's multi-interface loop and sleeps become timers, and the task
-- yields until iothub.poll(timeout) resumes it. poll never blocks longer than
-- timeout. Outside tasks, calls block as usual. Documented as part of
-- @{iothub}, which exports spawn, poll and pending; see the "Tasks" topic.
-- @module iothub
local core = require("iothub.core")

local M = {}

local create, resume, yield, status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local monotonic, min, type, error, select = core.monotonic, math.min, type, error, select
local unpack = table.unpack or unpack -- luacheck: ignore 113 143 (5.1 has only the global)

local loop            -- core.loop(), made on first use
local current         -- the task running now; nil in the host's own code
local waiting = {}    -- request id -> task; a task's current call lists its ids in task.wanted
local batches = {}    -- concurrency -> request_many calls in flight with it
local DEFAULT_CONNECTIONS = 4
local forget          -- (task): drops what an abandoned call of task left in flight
local sleepers = {}   -- tasks asleep, each with .wake_at
local alive = 0

local Task = {}
Task.__index = Task
Task.__name = "iothub.task"

-- The task running now, or nil.
function M.current() return current end

local function finish(task, ok, ...)
  task.done = true
  forget(task)
  alive = alive - 1
  if ok then
    task.results = { n = select("#", ...), ... }
  else
    task.error = ...
  end
  if task.on_done then task.on_done(task) end
end

-- Resumes a task with the given values and runs it to its next yield.
local function step(task, ...)
  current = task
  local function after(ok, ...)
    current = nil
    if status(task.co) == "dead" then finish(task, ok, ...) end
  end
  after(resume(task.co, ...))
end

--- Tasks
-- @section tasks

--- Runs `fn(...)` as a task: a coroutine in which every client call is
-- non-blocking (requests go to libcurl's multi interface, waits become
-- timers) and which @{poll} resumes. It runs at once, up to its first
-- request or sleep. Calls outside tasks block as usual. On Lua 5.1 (not
-- LuaJIT) a task cannot yield inside a `for` iterator: use `query_jobs` or
-- `query` page by page there.
-- @tparam function|table fn the task's body; or `{ fn, on_done = f }`, and
--   `f(task)` is called when it ends
-- @param ... arguments for `fn`
-- @treturn Task the task
-- @raise when `fn` is not a function
-- @usage local task = iothub.spawn(function() return hub:wait_job(id) end)
-- -- in the host's loop:
-- iothub.poll(0)
-- if task.done then print(task:result()) end
function M.spawn(fn, ...)
  local on_done
  if type(fn) == "table" then fn, on_done = fn[1], fn.on_done end
  if type(fn) ~= "function" then error("iothub.spawn: expected a function, got " .. type(fn), 2) end
  local task = setmetatable({ co = create(fn), done = false, on_done = on_done }, Task)
  alive = alive + 1
  step(task, ...)
  return task
end

--- Runs what is ready: finished requests resume their tasks and due
-- sleepers wake. Waits at most `timeout` seconds for something to happen
-- (less when a sleeper is due sooner) and returns at once when no task is
-- left.
-- @function poll
-- @tparam[opt=0] number timeout seconds, at least 0
-- @treturn number the tasks not finished
-- @raise for a bad timeout, or when called from inside a task

--- The number of tasks not finished.
-- @function pending
-- @treturn number

--- A task made by @{spawn}. Its fields: `done` (whether it has ended),
-- `results` (its return values, packed as `{ n = count, ... }`, when it
-- returned) and `error` (what it raised, when it raised).
-- @type Task

--- The task's return values, or its error raised again.
-- @return the values `fn` returned
-- @raise what `fn` raised; also when the task has not finished
function Task:result()
  if not self.done then error("iothub: the task has not finished", 2) end
  if self.error ~= nil then error(self.error, 0) end
  return unpack(self.results, 1, self.results.n)
end

local function the_loop()
  if not loop then loop = core.loop(DEFAULT_CONNECTIONS) end
  return loop
end

-- The loop's per-host connection limit: the widest request_many in flight,
-- at least the default.
local function set_limit(concurrency, delta)
  batches[concurrency] = (batches[concurrency] or 0) + delta
  if batches[concurrency] <= 0 then batches[concurrency] = nil end
  local limit = DEFAULT_CONNECTIONS
  for c in pairs(batches) do if c > limit then limit = c end end
  the_loop():limit(limit)
end

-- Drops the requests a task's earlier call left in flight (a Lua error cut
-- it short and the task went on): they are cancelled, their connections
-- closed, and nothing of theirs is ever delivered to a later call.
function forget(task)
  local wanted = task.wanted
  if task.batch then
    set_limit(task.batch, -1)
    task.batch = nil
  end
  if not wanted then return end
  task.wanted = nil
  for id in pairs(wanted) do
    waiting[id] = nil
    if loop then loop:cancel(id) end
  end
end

-- Starts one request for task; its id, or nil, err.
local function start(task, client, method, target, headers, body)
  local id, err = the_loop():start(client, method, target, headers, body)
  if id then
    waiting[id] = task
    task.wanted[id] = true
  end
  return id, err
end

-- Waits for the outcome of one of task's wanted requests.
local function next_entry(task)
  while true do
    local entry = yield()
    if type(entry) == "table" and task.wanted[entry.id] then
      task.wanted[entry.id] = nil
      return entry
    end
  end
end

-- Inside a task: starts one request on client and yields until poll
-- delivers its outcome. Returns what client:request would.
function M.request(client, method, target, headers, body)
  local task = current
  forget(task)
  task.wanted = {}
  local id, err = start(task, client, method, target, headers, body)
  if not id then task.wanted = nil; return nil, err end
  local entry = next_entry(task)
  task.wanted = nil
  if entry.err then return nil, entry.err end
  return entry.value, entry.headers, entry.status
end

-- Inside a task: client:request_many without blocking; at most
-- `concurrency` requests in flight, on as many connections at most.
function M.request_many(client, requests, concurrency)
  local values, errors = {}, {}
  local n, next_i, in_flight, index_of = #requests, 1, 0, {}
  local task = current
  forget(task)
  task.wanted = {}
  task.batch = concurrency
  set_limit(concurrency, 1)
  while next_i <= n or in_flight > 0 do
    while next_i <= n and in_flight < concurrency do
      local r = requests[next_i]
      local id, err = start(task, client, r[1], r[2], r[3], r[4])
      if id then
        index_of[id], in_flight = next_i, in_flight + 1
      else
        errors[next_i] = err
      end
      next_i = next_i + 1
    end
    if in_flight > 0 then
      local entry = next_entry(task)
      local i = index_of[entry.id]
      index_of[entry.id], in_flight = nil, in_flight - 1
      if entry.err then errors[i] = entry.err else values[i] = entry.value end
    end
  end
  task.wanted = nil
  task.batch = nil
  set_limit(concurrency, -1)
  return values, errors
end

-- Inside a task: sleeps without blocking the host.
function M.sleep(seconds)
  local task = current
  task.wake_at = monotonic() + seconds
  sleepers[#sleepers + 1] = task
  yield()
end

local function wake_due(now)
  local due = {}
  for i = #sleepers, 1, -1 do
    if sleepers[i].wake_at <= now then
      due[#due + 1] = sleepers[i]
      table.remove(sleepers, i)
    end
  end
  for i = #due, 1, -1 do
    due[i].wake_at = nil
    step(due[i])
  end
end

-- iothub.poll([timeout]) -> tasks still alive (documented above, with spawn).
function M.poll(timeout)
  timeout = timeout or 0
  if type(timeout) ~= "number" or not (timeout >= 0) then -- luacheck: ignore 581 (rejects NaN)
    error("iothub.poll: timeout must be a number >= 0", 2)
  end
  if current then error("iothub.poll: called from inside a task", 2) end
  local now = monotonic()
  wake_due(now)
  if alive == 0 then return 0 end
  local wait = timeout
  for i = 1, #sleepers do wait = min(wait, sleepers[i].wake_at - now) end
  if wait < 0 then wait = 0 end
  local done = the_loop():poll(wait)
  for i = 1, #done do
    local task = waiting[done[i].id]
    waiting[done[i].id] = nil
    -- Only to a live task whose current call wants it: a result of a call
    -- a Lua error abandoned is dropped.
    if task and not task.done and task.wanted and task.wanted[done[i].id] then step(task, done[i]) end
  end
  wake_due(monotonic())
  return alive
end

-- The number of tasks not finished (documented above, with spawn).
function M.pending() return alive end

return M
