-- public_api: prints the public functions of the real, loaded iothub
-- modules, one "<module>\t<name>" line each, in the names the reference
-- uses (tools/ldoc_items.lua): iothub.* and iothub.credential.* functions,
-- and the methods of service and management clients, credentials and
-- tasks, taken from their metatables. Names starting with "_" are
-- internal. Making the objects does no I/O. For tools/check-docs.
local iothub = require("iothub")

local function functions(t, module, prefix)
  for name, v in pairs(t) do
    if type(v) == "function" and not name:find("^_") then
      io.write(module, "\t", prefix, name, "\n")
    end
  end
end

local function methods(object, module, class)
  functions(getmetatable(object).__index, module, class .. ":")
end

functions(iothub, "iothub", "")
functions(iothub.credential, "iothub.credential", "")

local hub = assert(iothub.service("HostName=docs.azure-devices.net;SharedAccessKeyName=service;SharedAccessKey=a2V5"))
methods(hub, "Service", "Service")
local cred = iothub.credential.static("token")
methods(cred, "iothub.credential", "Credential")
local arm = assert(iothub.management { subscription_id = "s", resource_group = "r", hub_name = "h", credential = cred })
methods(arm, "Management", "Management")
methods(iothub.spawn(function() end), "iothub", "Task")
hub:close()
arm:close()
