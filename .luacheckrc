-- luacheck configuration (see STYLE.md). Library code sticks to the globals
-- every Lua has; specs may probe version-specific ones (math.type, jit).
std = "min"
max_line_length = 120
files["spec/"] = { std = "max+busted", max_line_length = 170 }
exclude_files = { "build/", "lua_modules/", ".luarocks/" }
