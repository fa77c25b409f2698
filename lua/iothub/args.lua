-- iothub.args: argument and option checks shared by every public function.
-- Programmer errors raise (with the caller's position); see API.md.
local M = {}

local type, pairs, error, tostring, format, find = type, pairs, error, tostring, string.format, string.find
local utf8_valid = require("iothub.core").utf8_valid

-- Raises "iothub.<fname>: <message>" at the public caller's level.
function M.fail(fname, message)
  error(format("iothub.%s: %s", fname, message), 3)
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
    error(format("iothub.%s: options must be a table, got %s", fname, describe(opts)), 3)
  end
  for k, v in pairs(opts) do
    local want = spec[k]
    if want == nil then
      error(format("iothub.%s: unknown option '%s'", fname, tostring(k)), 3)
    end
    if want == "line" then
      if type(v) ~= "string" then
        error(format("iothub.%s: option '%s' must be a string, got %s", fname, k, describe(v)), 3)
      end
      if v:find("[%z\r\n]") then
        error(format("iothub.%s: option '%s' must not contain CR, LF or NUL", fname, k), 3)
      end
    elseif not want:find(type(v), 1, true) then
      error(format("iothub.%s: option '%s' must be a %s, got %s", fname, k, want, describe(v)), 3)
    end
    local min = spec_min and spec_min[k]
    -- "not (v >= min)" also rejects NaN.
    if min and type(v) == "number" and not (v >= min) then -- luacheck: ignore 581
      error(format("iothub.%s: option '%s' must be >= %s, got %s", fname, k, tostring(min), tostring(v)), 3)
    end
  end
  return opts
end

M.MAX_ID_LENGTH = 1024

-- Checks a job (or other resource) id: a non-empty string of valid UTF-8,
-- at most MAX_ID_LENGTH bytes, without control characters (CR, LF, NUL...).
function M.id(fname, id, what)
  what = what or "job id"
  if type(id) ~= "string" then
    error(format("iothub.%s: %s must be a string, got %s", fname, what, describe(id)), 3)
  end
  if id == "" then
    error(format("iothub.%s: %s must not be empty", fname, what), 3)
  end
  if #id > M.MAX_ID_LENGTH then
    error(format("iothub.%s: %s is %d bytes long; the limit is %d", fname, what, #id, M.MAX_ID_LENGTH), 3)
  end
  -- One scan for the common case: printable ASCII only.
  if not find(id, "[%c\128-\255]") then return id end
  local bad = find(id, "%c")
  if bad then
    error(format("iothub.%s: %s has a control character (byte %d at %d)", fname, what, id:byte(bad), bad), 3)
  end
  local ok, at = utf8_valid(id)
  if not ok then
    error(format("iothub.%s: %s is not valid UTF-8 (byte %d)", fname, what, at), 3)
  end
  return id
end

-- Checks that self is an object made by the given class (catches hub.get_job(id)).
function M.self(fname, self, mt)
  if type(self) ~= "table" or getmetatable(self) ~= mt then
    error(format("iothub.%s: call it as a method (obj:%s(...))", fname, fname:match("[^.:]+$")), 3)
  end
  return self
end

return M
