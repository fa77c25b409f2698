-- lua-iothub: Azure IoT Hub jobs client (C core on libcurl and OpenSSL with
-- its own JSON decoder, and the Lua API). On Debian, for the Lua you run,
-- from a copy of the sources (luarocks make compiles where it runs; README.md,
-- "Installing as a rock"):
--   luarocks --lua-version=5.4 make --deps-mode=none CURL_INCDIR=/usr/include/x86_64-linux-gnu
rockspec_format = "3.0"
package = "lua-iothub"
version = "scm-1"
source = {
  url = "git+https://github.com/lua-iothub/lua-iothub.git",
}
description = {
  summary = "Azure IoT Hub jobs client: schedule, watch and query jobs, twins and devices",
  detailed = [[
A C core (libcurl, OpenSSL shared access signatures, a one-pass JSON decoder) and a
Lua API for the IoT Hub service and management planes: reading, querying, scheduling,
cancelling and waiting for jobs, per-device results, import/export jobs, device and
module twins and the query language, Azure AD credentials, retries with backoff,
errors as tables; blocking, non-blocking (tasks for a host's loop) or through nginx
cosockets under OpenResty. Bundles a local IoT Hub emulator for tests.]],
  license = "MIT",
  labels = { "azure", "iot", "http" },
}
dependencies = {
  "lua >= 5.1, < 5.5",
}
external_dependencies = {
  CURL = { header = "curl/curl.h", library = "curl" },
  OPENSSL = { header = "openssl/hmac.h", library = "crypto" },
}
build = {
  type = "builtin",
  modules = {
    ["iothub.core"] = {
      sources = {
        "src/buffer.c", "src/client.c", "src/connstr.c", "src/core.c", "src/errors.c",
        "src/http1.c", "src/http1_lua.c",
        "src/http.c", "src/json.c", "src/loop.c", "src/request.c", "src/sas.c", "src/utf8.c", "src/util.c",
      },
      defines = { "_POSIX_C_SOURCE=200809L" },
      incdirs = { "$(CURL_INCDIR)", "$(OPENSSL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)" },
      libraries = { "curl", "crypto", "pthread", "m" },
    },
    ["iothub"] = "lua/iothub/init.lua",
    ["iothub.args"] = "lua/iothub/args.lua",
    ["iothub.async"] = "lua/iothub/async.lua",
    ["iothub.auth"] = "lua/iothub/auth.lua",
    ["iothub.credential"] = "lua/iothub/credential.lua",
    ["iothub.json"] = "lua/iothub/json.lua",
    ["iothub.management"] = "lua/iothub/management.lua",
    ["iothub.ngx_cache"] = "lua/iothub/ngx_cache.lua",
    ["iothub.ngx_client"] = "lua/iothub/ngx_client.lua",
    ["iothub.ngx_http"] = "lua/iothub/ngx_http.lua",
    ["iothub.paging"] = "lua/iothub/paging.lua",
    ["iothub.reply"] = "lua/iothub/reply.lua",
    ["iothub.retry"] = "lua/iothub/retry.lua",
    ["iothub.schedule"] = "lua/iothub/schedule.lua",
    ["iothub.service"] = "lua/iothub/service.lua",
    ["iothub.status"] = "lua/iothub/status.lua",
    ["iothub.time"] = "lua/iothub/time.lua",
    ["iothub.transport"] = "lua/iothub/transport.lua",
    ["iothub.twins"] = "lua/iothub/twins.lua",
    ["iothub.wait"] = "lua/iothub/wait.lua",
  },
}
