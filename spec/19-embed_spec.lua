-- The embedding example: a C host with Lua 5.4 and the core linked in
-- statically, ticking at 60 a second while job reads, a wait_job and a slow
-- read run in the background. No tick may block for a request's duration.
local H = require("helpers")

local HOST = "build/embed/iothub-embed-host"

local function run_host(env)
  local prefix = ""
  for k, v in pairs(env) do prefix = prefix .. k .. "='" .. v .. "' " end
  local p = assert(io.popen(prefix .. "LUA_PATH='lua/?.lua;lua/?/init.lua;;' " .. HOST
    .. " examples/embed/game.lua 30 2>&1; echo exit=$?"))
  local out = p:read("*a")
  p:close()
  return out
end

describe("embedding host (examples/embed)", function()
  setup(function()
    local f = io.open(HOST)
    assert(f, HOST .. " is missing: `make all` builds it")
    f:close()
  end)

  it("finishes its background work and keeps every tick short while a 1 s request is in flight", function()
    H.reset()
    H.clock { device_seconds = 0.05 }
    H.control("POST", "delay", '{"seconds": 1, "path_prefix": "/jobs/v2/fixture-method-falsy"}')
    local out = run_host { EMBED_SLOW_JOB = "fixture-method-falsy" }
    assert.truthy(out:find("exit=0", 1, true), out)
    assert.truthy(out:find("game: reads done: 90 10", 1, true), out)
    assert.truthy(out:find("game: slow done: fixture-method-falsy", 1, true), out)
    assert.truthy(out:match("game: wait done: [%x%-]+ completed"), out)
    local ticks = tonumber(out:match("host: (%d+) ticks"))
    local longest = tonumber(out:match("longest_tick_ms=([%d%.]+)"))
    assert.is_true(ticks >= 55, out)                 -- it ran for at least the slow request's second
    assert.is_true(longest < 100, ("longest tick %.1f ms (the slow request took 1000 ms)"):format(longest))
    print(("\n    embed host: %d ticks, longest %.2f ms"):format(ticks, longest))
  end)

  it("exports no symbol from the statically linked core but luaopen_iothub_core", function()
    local p = assert(io.popen("nm -g --defined-only build/embed/iothub_core.o"))
    local symbols = {}
    for line in p:lines() do symbols[#symbols + 1] = line:match("%S+$") end
    p:close()
    assert.are.same({ "luaopen_iothub_core" }, symbols)
  end)
end)
