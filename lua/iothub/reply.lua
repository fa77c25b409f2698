-- iothub.reply: what a successful call hands back, in one place for every
-- client. A request returns value, headers, status (or nil, err); each call
-- names the kind of answer it expects, and a 200 whose body is not that
-- (empty, a number, an array where an object belongs) is a "decode" error,
-- so a call returns exactly its documented value or nil, err. The response
-- status and headers are kept aside, weakly, for iothub.response(result).
local core = require("iothub.core")

local M = {}

local type, next, setmetatable, find = type, next, setmetatable, string.find

-- result table -> { status =, headers = } of the response it came from.
-- Weak keys: the entry goes when the result does.
local responses = setmetatable({}, { __mode = "k" })

local function decode_error(what, message, status)
  return core.error("decode", what .. " " .. message, { status = status })
end

-- A JSON object: a table with fields and no array part. An empty table is
-- refused: no resource the clients read is an empty object, and the
-- decoder gives `[]` and `{}` alike.
local function is_object(v)
  return type(v) == "table" and next(v) ~= nil and v[1] == nil
end

-- A JSON array: a table that is empty or starts at 1.
local function is_array(v)
  return type(v) == "table" and (next(v) == nil or v[1] ~= nil)
end

local checks = {
  object = { is_object, "did not return a JSON object" },
  array = { is_array, "did not return a JSON array" },
}

-- check(kind, what, value, headers, status) -> value, headers | nil, err,
-- where (value, headers, status) is what a request returned and kind is
-- "object", "array" or "object_or_empty" (a 204 without a body gives true).
-- what names the answer in the error ("job", "job query", ...).
function M.check(kind, what, value, headers, status)
  if value == nil then return nil, headers end
  if kind == "object_or_empty" then
    if value == true and status == 204 then return true, headers end
    kind = "object"
  end
  local c = checks[kind]
  if not c[1](value) then
    return nil, decode_error(what, value == true and "answered with an empty body" or c[2], status)
  end
  if headers then responses[value] = { status = status, headers = headers } end
  return value, headers
end

-- As check, returning only the value: what a public call returns.
function M.value(kind, what, value, headers, status)
  local v, err = M.check(kind, what, value, headers, status)
  if v == nil then return nil, err end
  return v
end

-- The x-ms-continuation of a query page's headers: the token, nil on the
-- last page, or nil and a decode error for a token that cannot be sent
-- back in a header (CR, LF, NUL) or is empty.
function M.continuation(what, headers, status)
  local token = headers and headers["x-ms-continuation"]
  if token == nil then return nil end
  if type(token) ~= "string" or token == "" or find(token, "[%z\r\n]") then
    return nil, decode_error(what, "returned a continuation token that cannot be sent back", status)
  end
  return token
end

-- check for one page of a query: items, continuation token (or nil) | nil, err.
function M.page(what, value, headers, status)
  local items, err = M.check("array", what, value, headers, status)
  if not items then return nil, err end
  local token, terr = M.continuation(what, headers, status)
  if terr then return nil, terr end
  return items, token
end

-- Notes that result came from the response of source (another result).
function M.inherit(result, source)
  responses[result] = responses[source]
  return result
end

-- iothub.response(result) -> { status =, headers = } of the HTTP response a
-- call's result came from, or nil (results of get_jobs, iterators' items,
-- a cancel's true).
function M.response(result)
  if type(result) ~= "table" then return nil end
  return responses[result]
end

return M
