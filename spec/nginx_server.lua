-- spec/nginx_server.lua: starts and stops a real nginx for the specs that run
-- iothub through cosockets. The config is a template whose at-sign
-- placeholders (@PREFIX@, @REPO@, @PORT@, @TLS_PORT@, @CA@, @CERT@, @KEY@,
-- plus any the caller adds) are filled here; the `user` directive of
-- tools/nginx-user is put in front, so a checkout in a private folder works
-- when the specs run as root. A server that cannot serve (an [emerg] or
-- [alert] in its error log, or no live worker: tools/nginx-health) fails
-- the spec at once with that log line instead of a client timeout per test.
local core = require("iothub.core")
local H = require("helpers")

local M = {}

M.MODULES = "/usr/lib/nginx/modules/"

M.repo = (function()
  local p = assert(io.popen("pwd"))
  local dir = p:read("*l")
  p:close()
  return dir
end)()

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function binary()
  for _, p in ipairs { "/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx" } do
    if exists(p) then return p end
  end
end

local function run(cmd)
  local a, _, c = os.execute(cmd)
  return a == 0 or (a == true and (c == nil or c == 0))
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function output(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

M.read = read

-- Why nginx (with its Lua module) cannot run here, or nil when it can.
function M.missing()
  return not binary() and "nginx is not installed"
    or not exists(M.MODULES .. "ngx_http_lua_module.so") and "libnginx-mod-http-lua is not installed"
    or not exists(M.MODULES .. "ndk_http_module.so") and "libnginx-mod-http-ndk is not installed"
end

-- Two free TCP ports on 127.0.0.1 (asked of the kernel through python3,
-- which the emulator needs anyway).
local function free_ports()
  local out = output("python3 -c 'import socket\nss=[socket.socket() for _ in range(2)]\n"
    .. "[s.bind((\"127.0.0.1\",0)) for s in ss]\nprint(*[s.getsockname()[1] for s in ss])'")
  local a, b = out:match("(%d+) (%d+)")
  return assert(tonumber(a), "no free port: " .. out), tonumber(b)
end

local Server = {}
Server.__index = Server

function Server:error_log() return read(self.prefix .. "/error.log") or "" end

-- nil when the server can serve, else why not (the first [emerg] or [alert]
-- line of its error log, or a missing master or worker).
function Server:problem()
  local out = output(("'%s/tools/nginx-health' '%s/nginx.pid' '%s/error.log' 2>&1; echo \"rc=$?\"")
    :format(M.repo, self.prefix, self.prefix))
  if out:match("rc=0%s*$") then return nil end
  return (out:gsub("\n?rc=%d+%s*$", ""))
end

-- Raises with the reason when the server cannot serve.
function Server:check()
  local why = self:problem()
  if why then error("nginx cannot serve: " .. why, 2) end
end

-- Stops the nginx whose pid file is in the prefix, if that pid is still an
-- nginx of this prefix (a run killed before its teardown leaves one behind).
function Server:stop()
  if self.client then self.client:close() end
  local pid = read(self.prefix .. "/nginx.pid")
  pid = pid and pid:match("%d+")
  if not pid then return end
  local cmdline = read("/proc/" .. pid .. "/cmdline")
  if cmdline and not cmdline:find(self.prefix, 1, true) then return end
  run("kill -TERM " .. pid .. " 2>/dev/null")
  for _ = 1, 100 do
    if not run("kill -0 " .. pid .. " 2>/dev/null") then return end
    core.sleep(0.05)
  end
  run("kill -KILL " .. pid .. " 2>/dev/null")
end

-- Waits until a worker answers GET probe (any status) or the server shows a
-- problem; raises with the problem.
function Server:wait_ready(probe)
  local deadline = core.monotonic() + 10
  local probe_client = assert(core.client(nil, { endpoint = "http://127.0.0.1:" .. self.port,
    allow_http = true, timeout = 1 }))
  local last
  repeat
    local why = self:problem()
    if why then
      probe_client:close()
      error("nginx cannot serve: " .. why, 0)
    end
    local value, err = probe_client:request("GET", probe)
    if value ~= nil or (err and err.status) then
      probe_client:close()
      return
    end
    last = err
    core.sleep(0.05)
  until core.monotonic() > deadline
  probe_client:close()
  error("nginx did not answer " .. probe .. " within 10 s: " .. tostring(last)
    .. "\n" .. self:error_log():sub(-2000), 0)
end

-- Starts nginx from the template file (a path under the repository) with a
-- prefix under build/ named `name`; opts.values adds placeholders,
-- opts.env(values) returns variables for nginx's environment (values holds
-- the placeholders, ports included), opts.probe is the path asked to
-- know a worker serves (default "/"). Returns the server: prefix, port,
-- tls_port, client (the core's blocking client for http://127.0.0.1:port).
function M.start(name, template_path, opts)
  opts = opts or {}
  local prefix = M.repo .. "/build/nginx-spec/" .. name .. "-" .. H.lua:gsub("[^%w%.]", "")
  local server = setmetatable({ prefix = prefix }, Server)
  server:stop()
  assert(run("rm -rf '" .. prefix .. "' && mkdir -p '" .. prefix .. "/tmp'"))
  assert(exists(M.repo .. "/build/luajit/iothub/core.so"),
    "build/luajit/iothub/core.so is missing: nginx runs LuaJIT; run `make all` (LUAS includes luajit)")
  -- A self-signed certificate for a TLS server nothing trusts.
  assert(run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost"
    .. " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '" .. prefix .. "/self.key' -out '"
    .. prefix .. "/self.crt' >/dev/null 2>&1"), "openssl could not make a test certificate")
  local template = assert(read(M.repo .. "/" .. template_path))
  local user = output("'" .. M.repo .. "/tools/nginx-user'")
  local last_err
  for _ = 1, 3 do                     -- a port taken meanwhile: try others
    local port, tls_port = free_ports()
    local values = { PREFIX = prefix, REPO = M.repo, PORT = port, TLS_PORT = tls_port, CA = H.ca_file,
      CERT = prefix .. "/self.crt", KEY = prefix .. "/self.key" }
    for k, v in pairs(opts.values or {}) do values[k] = v end
    local conf = template:gsub("@(%u[%u_]*)@", function(k) return tostring(assert(values[k], k)) end)
    write(prefix .. "/nginx.conf", user .. conf)
    local env = ""
    for k, v in pairs(opts.env and opts.env(values) or {}) do env = env .. k .. "='" .. v .. "' " end
    local cmd = ("%s%s -p '%s' -c '%s/nginx.conf' 2>'%s/start.err'")
      :format(env, binary(), prefix, prefix, prefix)
    if run(cmd) then
      -- The daemon writes its pid file just after the command returns.
      for _ = 1, 100 do
        if (read(prefix .. "/nginx.pid") or ""):match("%d+") then break end
        core.sleep(0.02)
      end
      server.port, server.tls_port = port, tls_port
      local ok, err = pcall(server.wait_ready, server, opts.probe or "/")
      if not ok then
        server:stop()
        error(err, 0)
      end
      server.client = assert(core.client(nil, { endpoint = "http://127.0.0.1:" .. port, allow_http = true,
        timeout = 30 }))
      return server
    end
    last_err = (read(prefix .. "/start.err") or "") .. server:error_log()
    server:stop()
  end
  error("nginx did not start: " .. last_err)
end

return M
