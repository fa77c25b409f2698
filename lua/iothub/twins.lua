--- iothub.twins: device and module twins and the IoT Hub query language, as
-- methods of the service client (mixed in by iothub.service): get, update
-- (PATCH) and replace (PUT) with etags; one page of POST /devices/query; and
-- iterators over the rows of a query and over twins. Every call returns
-- exactly its value on success and nil, err on failure; iterators raise err.
-- @classmod Service
local core = require("iothub.core")
local args = require("iothub.args")
local paging = require("iothub.paging")
local json = require("iothub.json")
local reply = require("iothub.reply")

local type, find = type, string.find
local encode = core.percent_encode
local utf8_valid = core.utf8_valid

local M = {}

local write_options = { etag = "line", module_id = "line" }
local query_options = { page_size = "number", continuation = "line" }
local rows_options = { page_size = "number", limit = "number" }
local query_min = { page_size = 1, limit = 0 }

-- "/twins/<device>[/modules/<module>]?api-version=..." (ids percent-encoded).
local function twin_target(self, device_id, module_id)
  local path = "/twins/" .. encode(device_id)
  if module_id then path = path .. "/modules/" .. encode(module_id) end
  return self:_target(path)
end

-- If-Match for an etag as the twin carries it ("AAAAAAAAAAE="): the service
-- wants it in double quotes; "*" (the default) matches any version, and an
-- etag already in quotes (or weak, W/"...") is sent as it is.
local function if_match(etag)
  if etag == nil or etag == "*" then return "*" end
  if find(etag, '^"') or find(etag, '^W/"') then return etag end
  return '"' .. etag .. '"'
end
M.if_match = if_match

-- A twin from the call's answer (checked to be a JSON object), or nil, err.
local function twin_result(...)
  return reply.value("object", "twin", ...)
end

-- What is wrong with a query text, or nil: the service takes any UTF-8
-- string; an empty one can only be a mistake. (Callers raise with
-- args.fail themselves, so the error names the user's line.)
local function sql_problem(sql, what)
  what = what or "query"
  if type(sql) ~= "string" then return what .. " must be a string, got " .. type(sql) end
  if sql == "" then return what .. " must not be empty" end
  if find(sql, "[\128-\255]") and not utf8_valid(sql) then return what .. " is not valid UTF-8" end
end

-- The checked options of a query call, after its text (sql_problem's what
-- names it); raises at the user's line.
local function check_query(fname, sql, what, opts, option_types)
  local why = sql_problem(sql, what)
  if why then args.fail(fname, why) end
  opts = args.options(fname, opts, option_types, query_min)
  if opts.page_size and opts.page_size % 1 ~= 0 then
    args.fail(fname, "option 'page_size' must be a whole number")
  end
  return opts
end

-- The JSON body of a PATCH or PUT, or nil and what is wrong.
local function twin_body(twin, opts)
  if type(twin) ~= "table" then return nil, "expected the twin as a table, got " .. type(twin) end
  if opts.etag == "" then return nil, "option 'etag' must not be empty" end
  local body, why = json.encode(twin)
  if not body then return nil, "the twin cannot be sent as JSON: " .. why end
  return body
end

-- The SELECT of hub:twins: every device for nil or "*", else those matching.
local function twins_query(condition)
  if condition == nil or condition == "*" then return "SELECT * FROM devices" end
  return "SELECT * FROM devices WHERE " .. condition
end
M.twins_query = twins_query

-- Adds the methods to the service class; mt is its metatable (for args.self).
function M.mixin(Service, mt)
  --- Twins and queries.
  -- Twins keep the REST field names (`deviceId`, `moduleId`, `etag`,
  -- `version`, `status`, `connectionState`, `tags`, `properties = { desired,
  -- reported }`); inside `tags`, `desired`, `reported` and `$metadata` JSON
  -- null is @{iothub.null}. Twin reads and writes are retried like reads
  -- (the same patch twice gives the same twin).
  -- @section twins

  --- Reads a device twin, or a module twin (`GET /twins/{id}[/modules/{module}]`).
  -- @tparam string device_id the device (ids: non-empty UTF-8, at most 1024
  --   bytes, no control characters; percent-encoded for you)
  -- @tparam[opt] string module_id a module of it
  -- @treturn table the Twin
  -- @return[2] nil
  -- @treturn[2] error e.g. 404 `DeviceNotFound`
  -- @raise on a bad id, or a closed client
  -- @usage local twin = iothub.assert(hub:get_twin("dev-1"))
  -- print(twin.etag, twin.properties.reported.fw)
  function Service:get_twin(device_id, module_id)
    args.self("get_twin", self, mt)
    args.id("get_twin", device_id, "device id")
    if module_id ~= nil then args.id("get_twin", module_id, "module id") end
    return twin_result(self:_call(true, "GET", twin_target(self, device_id, module_id)))
  end

  -- PATCH and PUT are both safe to retry: with an etag a repeat either
  -- applies once or meets 412; without one, the same patch (or twin) twice
  -- gives the same twin.
  -- Both check their arguments here: args raises at the user's line.
  local function write(self, fname, method, device_id, twin, opts)
    args.self(fname, self, mt)
    args.id(fname, device_id, "device id")
    opts = args.options(fname, opts, write_options)
    if opts.module_id ~= nil then args.id(fname, opts.module_id, "module id") end
    local body, why = twin_body(twin, opts)
    if not body then args.fail(fname, why) end
    return twin_result(self:_call(true, method, twin_target(self, device_id, opts.module_id),
      { ["If-Match"] = if_match(opts.etag) }, body))
  end

  --- Updates a twin with a patch (`PATCH`): tags and desired properties are
  -- merged, @{iothub.null} deletes one.
  -- @tparam string device_id the device
  -- @tparam table patch `{ tags = {...}, properties = { desired = {...} } }`
  -- @tparam[opt] table opts
  -- @tparam[opt="*"] string opts.etag sent as `If-Match` (quoted for you):
  --   the twin's `etag` from a read makes the call fail with 412 when the
  --   twin changed meanwhile; `"*"` always applies
  -- @tparam[opt] string opts.module_id a module twin instead of the device's
  -- @treturn table the updated Twin
  -- @return[2] nil
  -- @treturn[2] error `err.status == 412` for a stale etag
  -- @raise on a bad id or option, a patch that is not a table or cannot be JSON
  -- @usage local updated, err = hub:update_twin("dev-1",
  --   { properties = { desired = { fw = "2.0", old = iothub.null } } }, { etag = twin.etag })
  -- if not updated and err.status == 412 then --[[ read again ]] end
  function Service:update_twin(device_id, patch, opts)
    return write(self, "update_twin", "PATCH", device_id, patch, opts)
  end

  --- Replaces a twin's tags and desired properties (`PUT`; reported ones
  -- are the device's).
  -- @tparam string device_id the device
  -- @tparam table twin `{ tags = {...}, properties = { desired = {...} } }`
  -- @tparam[opt] table opts
  -- @tparam[opt="*"] string opts.etag sent as `If-Match` (quoted for you):
  --   the twin's `etag` from a read makes the call fail with 412 when the
  --   twin changed meanwhile; `"*"` always applies
  -- @tparam[opt] string opts.module_id a module twin instead of the device's
  -- @treturn table the new Twin
  -- @return[2] nil
  -- @treturn[2] error `err.status == 412` for a stale etag
  -- @raise on a bad id or option, a twin that is not a table or cannot be JSON
  function Service:replace_twin(device_id, twin, opts)
    return write(self, "replace_twin", "PUT", device_id, twin, opts)
  end

  --- One page of an IoT Hub query (`POST /devices/query`).
  -- @tparam string sql the query, non-empty UTF-8 (`SELECT * FROM devices
  --   WHERE tags.site = 'paris'`, `SELECT * FROM devices.jobs ...`)
  -- @tparam[opt] table opts
  -- @tparam[opt] number opts.page_size rows per page (a whole number >= 1)
  -- @tparam[opt] string opts.continuation the token of the page before
  -- @treturn table `{ items = { row, ... }, continuation = token or nil,
  --   item_type = "twin" / "deviceJob" / "jobResponse" / "raw" / ... }`;
  --   rows of projections and aggregates are plain tables
  -- @return[2] nil
  -- @treturn[2] error e.g. 400 `ArgumentInvalid` for a query the service cannot parse
  -- @raise on an empty or non-string query, a bad option
  function Service:query(sql, opts)
    args.self("query", self, mt)
    opts = check_query("query", sql, "query", opts, query_options)
    local items, continuation, item_type = self:_device_query_page(sql, opts.continuation, opts.page_size)
    if not items then return nil, continuation end
    return reply.inherit({ items = items, continuation = continuation, item_type = item_type }, items)
  end

  -- The rows of every page of sql, fetched as the loop goes.
  local function rows(self, sql, opts)
    return paging.items(paging.pages(function(token, size)
      return self:_device_query_page(sql, token, size)
    end, opts.page_size, opts.limit))
  end

  --- An iterator over the rows of every page of a query.
  -- @tparam string sql the query
  -- @tparam[opt] table opts
  -- @tparam[opt] number opts.page_size rows per page (a whole number >= 1)
  -- @tparam[opt] number opts.limit at most this many rows in all
  -- @treturn function an iterator giving rows; it raises the
  --   @{iothub.error} table when a page fails
  -- @raise on an empty or non-string query, a bad option
  -- @usage for row in hub:rows("SELECT tags.site AS site, COUNT() AS n FROM devices GROUP BY tags.site") do
  --   print(row.site, row.n)
  -- end
  function Service:rows(sql, opts)
    args.self("rows", self, mt)
    opts = check_query("rows", sql, "query", opts, rows_options)
    return rows(self, sql, opts)
  end

  --- An iterator over the twins of `SELECT * FROM devices WHERE condition`.
  -- @tparam[opt] string condition the WHERE clause; nil or `"*"`: every device
  -- @tparam[opt] table opts `page_size` and `limit`, as @{rows}
  -- @treturn function an iterator giving Twins; it raises the
  --   @{iothub.error} table when a page fails
  -- @raise on an empty or non-string condition, a bad option
  -- @usage for t in hub:twins("properties.reported.fw.version != '2.0.0'", { limit = 50 }) do
  --   print(t.deviceId, t.connectionState)
  -- end
  function Service:twins(condition, opts)
    args.self("twins", self, mt)
    opts = check_query("twins", condition == nil and "*" or condition, "condition", opts, rows_options)
    return rows(self, twins_query(condition), opts)
  end
end

return M
