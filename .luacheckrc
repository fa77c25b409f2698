-- luacheck configuration (see STYLE.md). Library code sticks to the globals
-- every Lua has; specs may probe version-specific ones (math.type, jit).
std = "min"
max_line_length = 120
files["spec/"] = { std = "max+busted", max_line_length = 170 }
-- The nginx-only parts see OpenResty's ngx API.
files["lua/iothub/transport.lua"] = { read_globals = { "ngx" } }
files["lua/iothub/ngx_client.lua"] = { std = "min+ngx_lua" }
files["lua/iothub/ngx_http.lua"] = { std = "min+ngx_lua" }
files["lua/iothub/ngx_cache.lua"] = { std = "min+ngx_lua" }
files["spec/fixtures/openresty/"] = { std = "min+ngx_lua" }
files["examples/openresty/"] = { std = "min+ngx_lua" }
files["bench/front_handler.lua"] = { std = "min+ngx_lua" }
exclude_files = { "build/", "lua_modules/", ".luarocks/" }
