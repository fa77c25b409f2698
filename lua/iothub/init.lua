-- iothub: the public entry of lua-iothub, an Azure IoT Hub jobs client.
-- README.md is the tour and the contract (calls, results, errors, options).
local async = require("iothub.async")
local core = require("iothub.core")
local json = require("iothub.json")
local credential = require("iothub.credential")
local management = require("iothub.management")
local reply = require("iothub.reply")
local service = require("iothub.service")
local status = require("iothub.status")
local time = require("iothub.time")

local error, tostring, type = error, tostring, type

local M = {
  _VERSION = require("iothub.transport").VERSION,
  null = core.null,
  array = json.array,
  service = service.new,
  management = management.new,
  credential = {
    client_secret = credential.client_secret,
    managed_identity = credential.managed_identity,
    environment = credential.environment,
    static = credential.static,
  },
  progress = status.progress,
  is_terminal = status.is_terminal,
  is_active = status.is_active,
  is_pending = status.is_pending,
  is_running = status.is_running,
  is_succeeded = status.is_succeeded,
  is_failed = status.is_failed,
  is_cancelled = status.is_cancelled,
  time = time.parse,
  is_error = core.is_error,
  sleep = core.sleep,
  spawn = async.spawn,
  poll = async.poll,
  pending = async.pending,
  response = reply.response,
}

-- iothub.assert(v, err, ...): assert for `nil, err` results. Returns all its
-- arguments when v is true; otherwise raises err as assert does, except
-- that an error table (or any non-string) becomes tostring(err) with the
-- caller's position: Lua 5.1's assert refuses a table message, and its
-- interpreter prints a raised table as "(error object is not a string)".
function M.assert(v, ...)
  if v then return v, ... end
  local err = ...
  if err == nil then error("assertion failed!", 2) end
  if type(err) == "string" then error(err, 0) end
  error(tostring(err), 2)
end

return M
