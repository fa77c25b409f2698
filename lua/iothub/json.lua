--- iothub.json: the JSON encoder for request bodies. lua-cjson 2.1.0 cannot
-- tell an empty array from an empty object, so bodies are encoded here:
-- an empty table is an object (what the job schemas want), iothub.array()
-- marks a table as an array (empty or not), iothub.null is JSON null,
-- integers stay integers, and tables that are neither sequences nor string-
-- keyed objects, NaN, infinities and strings that are not UTF-8 are refused.
-- The clients encode their bodies with it; it is public for callers who
-- want the same JSON (responses are decoded by the C core).
-- @module iothub.json
local core = require("iothub.core")

local M = {}

local type, pairs, next, tostring, tonumber = type, pairs, next, tostring, tonumber
local floor, huge = math.floor, math.huge
local concat, format, byte, gsub, find = table.concat, string.format, string.byte, string.gsub, string.find
local getmetatable, setmetatable, error = getmetatable, setmetatable, error
local null = core.null

M.array_mt = { __name = "iothub.array" }

--- Marks a table as a JSON array, so an empty one is encoded as `[]`
-- (also `iothub.array`).
-- @tparam[opt] table t the table (default: a new one)
-- @treturn table `t`
-- @raise when `t` is neither a table nor nil
function M.array(t)
  if t ~= nil and type(t) ~= "table" then
    error("iothub.array: expected a table or nothing, got " .. type(t), 2)
  end
  return setmetatable(t or {}, M.array_mt)
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function escape_char(c)
  return escapes[c] or format("\\u%04x", byte(c))
end

local utf8_valid = core.utf8_valid

-- s as a JSON string; path says where it sits when it is not valid UTF-8
-- (the service would refuse the body with a less helpful 400).
local function quote(s, path)
  if find(s, "[\128-\255]") and not utf8_valid(s) then
    error(format("string at %s is not valid UTF-8", path), 0)
  end
  return '"' .. gsub(s, '[%c"\\]', escape_char) .. '"'
end

local math_type = math.type -- luacheck: ignore 143 (nil before Lua 5.3)

local function number(n, path)
  if n ~= n or n == huge or n == -huge then
    error(format("cannot encode %s at %s as JSON", tostring(n), path), 0)
  end
  if math_type and math_type(n) == "integer" then return tostring(n) end
  if n == floor(n) and n > -2^53 and n < 2^53 then return format("%d", n) end
  -- The shortest form that reads back as the same double.
  for digits = 14, 16 do
    local s = format("%." .. digits .. "g", n)
    if tonumber(s) == n then return s end
  end
  return format("%.17g", n)
end

local encode_value

local function sequence_length(t)
  local n = #t
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= floor(k) then return nil end
  end
  return n
end

local function encode_table(t, out, path, depth, seen)
  if seen[t] then error("cannot encode a table that contains itself at " .. path, 0) end
  if depth > 64 then error("JSON nesting deeper than 64 at " .. path, 0) end
  seen[t] = true
  local is_array = getmetatable(t) == M.array_mt
  local n = sequence_length(t)
  if is_array or (n and n > 0) then
    if not n then error("array at " .. path .. " has keys that are not 1..n", 0) end
    out[#out + 1] = "["
    for i = 1, n do
      if i > 1 then out[#out + 1] = "," end
      encode_value(t[i], out, path .. "[" .. i .. "]", depth + 1, seen)
    end
    out[#out + 1] = "]"
  else
    out[#out + 1] = "{"
    local first = true
    for k, v in pairs(t) do
      if type(k) ~= "string" then
        error(format("object at %s has a %s key; JSON keys are strings", path, type(k)), 0)
      end
      if not first then out[#out + 1] = "," end
      first = false
      out[#out + 1] = quote(k, path)
      out[#out + 1] = ":"
      encode_value(v, out, path .. "." .. k, depth + 1, seen)
    end
    out[#out + 1] = "}"
  end
  seen[t] = nil
end

function encode_value(v, out, path, depth, seen)
  local tv = type(v)
  if tv == "string" then out[#out + 1] = quote(v, path)
  elseif tv == "number" then out[#out + 1] = number(v, path)
  elseif tv == "boolean" then out[#out + 1] = v and "true" or "false"
  elseif v == null then out[#out + 1] = "null"
  elseif tv == "table" then encode_table(v, out, path, depth, seen)
  else error(format("cannot encode a %s at %s as JSON", tv, path), 0) end
end

--- Encodes a value as JSON text (object keys in no set order).
-- @param v a table, string, number, boolean or @{iothub.null}
-- @treturn string the JSON text
-- @return[2] nil
-- @treturn[2] string what cannot be encoded and where (`"cannot encode
--   nan at $.a[2] as JSON"`): cycles, nesting deeper than 64, mixed tables,
--   non-string keys, NaN, infinities, invalid UTF-8, functions
-- @usage local text = assert(require("iothub.json").encode({ ids = iothub.array() }))  -- {"ids":[]}
function M.encode(v)
  local out = {}
  local ok, err = pcall(encode_value, v, out, "$", 0, {})
  if not ok then return nil, err end
  return concat(out)
end

-- Whether a table would be encoded as an empty object (and so "nothing").
function M.is_empty_object(t)
  return type(t) == "table" and next(t) == nil and getmetatable(t) ~= M.array_mt
end

return M
