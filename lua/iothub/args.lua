-- iothub.args: argument and option checks shared by every public function.
-- Programmer errors raise (with the caller's position); see README.md, "Errors".
local M = {}

local type, pairs, error, tostring, format, find = type, pairs, error, tostring, string.format, string.find
local sub, getinfo = string.sub, debug.getinfo
local utf8_valid = require("iothub.core").utf8_valid

-- The directory this file (and every iothub module) was loaded from, as
-- debug.getinfo names sources: "@.../iothub/".
local own_dir = sub(getinfo(1, "S").source, 1, -#"args.lua" - 1)

-- The level, for error(), of the first function outside iothub's Lua files
-- that led here: the user's line, however deep the check sits (a public
-- function may check in a helper, which checks with args). Counted from
-- the function calling raise.
local function caller_level()
  -- Without file names (bytecode stripped of debug info) the frames cannot
  -- be told apart: the public function's caller, when it checked directly.
  if sub(own_dir, 1, 1) ~= "@" then return 4 end
  local level = 3
  while true do
    local info = getinfo(level, "S")
    if not info then return level - 1 end
    -- Lua 5.1 leaves a "(tail call)" frame where a function tail-called another.
    if info.what ~= "tail" and sub(info.source, 1, #own_dir) ~= own_dir then return level - 1 end
    level = level + 1
  end
end

-- Raises message at the user's line (see caller_level).
local function raise(message)
  error(message, caller_level())
end
M.raise = raise

-- Raises "iothub.<fname>: <message>" at the public caller's level.
function M.fail(fname, message)
  raise(format("iothub.%s: %s", fname, message))
end

local function describe(v)
  return v == nil and "nil" or type(v)
end

-- Checks that opts (or nil) holds only the options in spec, each of the
-- type spec names ("string", "number", "boolean", "table", "function", or a
-- list of those separated by "|"; "line" is a string that goes into a URL
-- or a header, so it may not hold CR, LF or NUL). Numbers may carry `min`
-- in spec_min.
function M.options(fname, opts, spec, spec_min)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    raise(format("iothub.%s: options must be a table, got %s", fname, describe(opts)))
  end
  for k, v in pairs(opts) do
    local want = spec[k]
    if want == nil then
      raise(format("iothub.%s: unknown option '%s'", fname, tostring(k)))
    end
    if want == "line" then
      if type(v) ~= "string" then
        raise(format("iothub.%s: option '%s' must be a string, got %s", fname, k, describe(v)))
      end
      if v:find("[%z\r\n]") then
        raise(format("iothub.%s: option '%s' must not contain CR, LF or NUL", fname, k))
      end
    elseif not want:find(type(v), 1, true) then
      raise(format("iothub.%s: option '%s' must be a %s, got %s", fname, k, want, describe(v)))
    end
    local min = spec_min and spec_min[k]
    -- "not (v >= min)" also rejects NaN.
    if min and type(v) == "number" and not (v >= min) then -- luacheck: ignore 581
      raise(format("iothub.%s: option '%s' must be >= %s, got %s", fname, k, tostring(min), tostring(v)))
    end
  end
  return opts
end

M.MAX_ID_LENGTH = 1024

-- Ids that would name another resource when put in a path, lower-cased
-- (the service routes without regard to case): after /jobs/v2/ ("query" is
-- the job list) and after /jobs/ (the v1 import/export routes). "." and ".."
-- are refused everywhere: libcurl resolves them as dot segments.
M.V2_RESERVED = { query = "/jobs/v2/query, the job list" }
M.V1_RESERVED = { create = "/jobs/create", v2 = "/jobs/v2, the v2 jobs API" }

-- Checks a job (or other resource) id: a non-empty string of valid UTF-8,
-- at most MAX_ID_LENGTH bytes, without control characters (CR, LF, NUL...),
-- not "." or "..", nor a name in reserved (a table like V2_RESERVED).
function M.id(fname, id, what, reserved)
  what = what or "job id"
  if type(id) ~= "string" then
    raise(format("iothub.%s: %s must be a string, got %s", fname, what, describe(id)))
  end
  if id == "" then
    raise(format("iothub.%s: %s must not be empty", fname, what))
  end
  if id == "." or id == ".." then
    raise(format("iothub.%s: %s '%s' cannot be sent in a path (a dot segment)", fname, what, id))
  end
  local other = reserved and #id <= 8 and reserved[id:lower()]
  if other then
    raise(format("iothub.%s: %s '%s' cannot be sent: the path would be %s", fname, what, id, other))
  end
  if #id > M.MAX_ID_LENGTH then
    raise(format("iothub.%s: %s is %d bytes long; the limit is %d", fname, what, #id, M.MAX_ID_LENGTH))
  end
  -- One scan for the common case: printable ASCII only.
  if not find(id, "[%c\128-\255]") then return id end
  local bad = find(id, "%c")
  if bad then
    raise(format("iothub.%s: %s has a control character (byte %d at %d)", fname, what, id:byte(bad), bad))
  end
  local ok, at = utf8_valid(id)
  if not ok then
    raise(format("iothub.%s: %s is not valid UTF-8 (byte %d)", fname, what, at))
  end
  return id
end

-- Methods that work on a closed client (stats gives the final counters).
local after_close = { close = true, stats = true }

-- Checks that self is an object made by the given class (catches
-- hub.get_job(id)) and, but for close and stats, that its client is open:
-- the core would raise too, at a line inside iothub.
function M.self(fname, self, mt)
  if type(self) ~= "table" or getmetatable(self) ~= mt then
    raise(format("iothub.%s: call it as a method (obj:%s(...))", fname, fname:match("[^.:]+$")))
  end
  local client = rawget(self, "client")
  if client and not after_close[fname] and client:is_closed() then
    raise(format("iothub.%s: the client is closed", fname))
  end
  return self
end

return M
