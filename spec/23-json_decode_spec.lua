-- core.decode_json: the core's own JSON decoder (what every response goes
-- through). Checked against lua-cjson (the decoder it replaced) plus the
-- project's rules written out here in Lua: nulls dropped from schema
-- fields, kept in free-form objects and arrays, integral numbers as
-- integers on Lua 5.3+; strict JSON refused with a message that says where;
-- nesting limits; numbers that do not depend on the C locale.
local core = require("iothub.core")
local cjson = require("cjson.safe").new()

local null = core.null
local mtype = math.type                         -- nil on 5.1 and LuaJIT
local FREE = { payload = true, tags = true, desired = true, reported = true }
local TWO53 = 9007199254740992

local function intify(x)
  if mtype and mtype(x) == "float" and x == math.floor(x) and math.abs(x) <= TWO53 then
    return math.tointeger(x)
  end
  return x
end

-- The rules applied to what cjson decoded, as the old C fix-up walk did.
local function reference(v, freeform)
  if type(v) ~= "table" then return intify(v) end
  local out = {}
  for k, x in pairs(v) do
    if type(x) == "table" then
      out[k] = reference(x, freeform or (type(k) == "string" and FREE[k]) or false)
    elseif not (x == null and not freeform and type(k) == "string") then
      out[k] = intify(x)
    end
  end
  return out
end

local function describe_number(x)
  return ("%s %.17g%s"):format(mtype and mtype(x) or "number", x, (x == 0 and 1 / x < 0) and " (-0)" or "")
end

-- nil when a and b are the same (number subtypes and the sign of zero
-- included), else the path where they differ.
local function differ(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then return path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if describe_number(a) ~= describe_number(b) then
      return path .. ": " .. describe_number(a) .. " vs " .. describe_number(b)
    end
    return nil
  end
  if type(a) ~= "table" then
    if a ~= b then return path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return nil
  end
  for k, x in pairs(a) do
    local d = differ(x, b[k], path .. "." .. tostring(k))
    if d then return d end
  end
  for k in pairs(b) do
    if a[k] == nil then return path .. "." .. tostring(k) .. ": missing" end
  end
  return nil
end

-- Decodes text with the core in mode and checks it against cjson + rules.
local function agrees(text, mode)
  mode = mode or "raw"
  local want, why = cjson.decode(text)
  assert(want ~= nil, "cjson refused the test's own JSON: " .. tostring(why) .. ": " .. text:sub(1, 80))
  want = reference(want, mode == "raw")
  local got, err = core.decode_json(text, mode)
  assert(got ~= nil, "decode_json failed: " .. tostring(err and err.message) .. ": " .. text:sub(1, 80))
  local d = differ(got, want)
  assert(d == nil, ("%s mode differs at %s for %s"):format(mode, tostring(d), text:sub(1, 120)))
end

local function refuses(text, pattern, mode)
  local ok, got, err = pcall(core.decode_json, text, mode or "raw")
  assert(ok, "decode_json raised: " .. tostring(got))
  assert(got == nil, "decoded what it should refuse: " .. ("%q"):format(text:sub(1, 80)))
  assert(type(err) == "table" and err.kind == "decode", "not a decode error")
  assert(type(err.message) == "string" and err.message:find("at offset %d+"), tostring(err.message))
  if pattern then
    assert(err.message:find(pattern, 1, true), ("%q: %q does not contain %q"):format(text:sub(1, 40), err.message, pattern))
  end
  return err.message
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

-- A deterministic generator of JSON texts (its own PRNG, so every Lua sees
-- the same documents).
local function generator(seed)
  local state = seed
  local function rand(n)                        -- 1..n
    state = (state * 1103515245 + 12345) % 2147483648
    return math.floor(state / 65536) % n + 1
  end
  local function digits(n, first_nonzero)
    local t = {}
    for i = 1, n do
      t[i] = tostring((i == 1 and first_nonzero) and rand(9) or rand(10) - 1)
    end
    return table.concat(t)
  end
  local function number()
    local s = rand(3) == 1 and "-" or ""
    if rand(5) == 1 then s = s .. "0" else s = s .. digits(rand(rand(3) == 1 and 25 or 8), true) end
    if rand(2) == 1 then s = s .. "." .. digits(rand(rand(3) == 1 and 25 or 6)) end
    if rand(3) == 1 then
      s = s .. (rand(2) == 1 and "e" or "E") .. ({ "", "+", "-" })[rand(3)] .. digits(rand(3))
    end
    return s
  end
  local pieces = { "a", "Z", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041",
    "\\u00e9", "\\u20AC", "\\ud83d\\ude00", "\\u0000", "é", "日本", "\127", "~", "payload", "null" }
  local function str()
    local t = {}
    for i = 1, rand(3) == 1 and rand(40) or rand(8) - 1 do t[i] = pieces[rand(#pieces)] end
    return '"' .. table.concat(t) .. '"'
  end
  local keys = { "jobId", "payload", "tags", "desired", "reported", "status", "a", "", "x y",
    "properties", "deviceJobStatistics", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }
  local value
  local function ws() return ({ "", "", "", " ", "\n  ", "\t", "\r\n" })[rand(7)] end
  value = function(depth)
    local r = rand(depth > 6 and 6 or 9)
    if r == 1 then return "null" elseif r == 2 then return rand(2) == 1 and "true" or "false"
    elseif r == 3 or r == 4 then return number()
    elseif r == 5 or r == 6 then return str()
    elseif r == 7 then
      local t = {}
      for i = 1, rand(6) - 1 do t[i] = ws() .. value(depth + 1) .. ws() end
      return "[" .. table.concat(t, ",") .. "]"
    else
      local t = {}
      for i = 1, rand(7) - 1 do
        local k = rand(4) == 1 and str() or '"' .. keys[rand(#keys)] .. '"'
        t[i] = ws() .. k .. ws() .. ":" .. ws() .. value(depth + 1) .. ws()
      end
      return "{" .. table.concat(t, ",") .. "}"
    end
  end
  return { number = number, value = function() return value(0) end }
end

describe("core.decode_json", function()
  describe("agrees with lua-cjson plus the rules", function()
    it("on scalars, numbers and strings at the top level", function()
      for _, text in ipairs { "0", "-0", "-0.0", "0.0", "1", "-1", "0.1", "1.5", "-2.5e-3", "1e300", "1E2",
        "1e+2", "1e-2", "1e400", "-1e400", "1e-400", "123456789012345678", "9007199254740992",
        "9007199254740993", "-9007199254740993", "9007199254740991.0", "18446744073709551615",
        "18446744073709551616", "99999999999999999999999", "0.30000000000000004", "2.2250738585072014e-308",
        "4.9e-324", "1.7976931348623157e308", "3.141592653589793238462643383279502884197",
        "1.00000000000000000000000000001", "100000000000000000000000000000000000000000000e-40",
        "0.000000000000000000000000000000000000001e39", "1234567890123456789", "12345678901234567890",
        "123.456e2", "5e-1", "true", "false", "null", '""', '"abc"', '"\\u0000"', " 7 ", "\n[]\n", "{}" } do
        agrees(text, "raw")
        agrees(text, "schema")
      end
    end)

    it("on escapes, \\u escapes, surrogate pairs and UTF-8 passed through", function()
      agrees([=["\"\\\/\b\f\n\r\t"]=])
      agrees([["\u0041\u00e9\u20ac\uFFFF\u0800\u07FF\u0080\u007f"]])
      agrees([["\ud83d\ude00 \uD834\uDD1E \udbff\udfff \ud800\udc00"]])
      agrees('"日本語 \127 \\u65e5"')
      local got = core.decode_json('"\255\254 caf\233"')       -- not UTF-8: bytes kept
      assert.are.equal("\255\254 caf\233", got)
      assert.are.equal("a\0b", core.decode_json('"a\\u0000b"'))
      assert.are.equal("\240\159\152\128", core.decode_json('"\\ud83d\\ude00"'))
    end)

    it("on strings of every length, escaped or not, up to the end of the input", function()
      for n = 0, 70 do
        local plain = ("abcdefghij"):rep(8):sub(1, n)
        agrees('"' .. plain .. '"')
        agrees('["' .. plain .. '"]')
        agrees('{"' .. plain .. '":"' .. plain .. '"}')
        for _, special in ipairs { '\\"', "\\\\", "\\n", "\\u00e9" } do
          agrees('"' .. plain .. special .. '"')
          agrees('"' .. special .. plain .. '"')
        end
      end
      local long = ("x\\n\\\"\\u00e9y"):rep(300)          -- escaped, past the scratch buffer
      agrees('"' .. long .. '"')
      agrees('{"' .. long .. '":"' .. long .. '"}')
    end)

    it("on empty containers, nesting, duplicate keys and nulls", function()
      for _, text in ipairs { "[]", "{}", "[[]]", "[{}]", '{"a":[]}', '{"a":{}}', "[null]", "[null,null]",
        '{"a":null}', '{"a":1,"a":2}', '{"a":1,"a":null}', '{"a":null,"a":1}', '{"":0}',
        '[1,[2,[3,[4,[5,{"x":[6]}]]]]]', '{"a":{"b":{"c":{"d":null,"e":[null,{"f":null}]}}}}' } do
        agrees(text, "raw")
        agrees(text, "schema")
      end
    end)

    it("on a thousand generated documents, in both modes", function()
      local gen = generator(20261123)
      for _ = 1, 1000 do
        local text = gen.value()
        agrees(text, "raw")
        agrees(text, "schema")
      end
    end)

    it("on five thousand generated numbers, bit for bit", function()
      local gen = generator(42)
      for _ = 1, 5000 do
        local text = gen.number()
        agrees(text, "raw")
        agrees("[" .. text .. "]", "schema")
      end
    end)

    it("on the bench fixtures (a job and a 100-job page)", function()
      local n = 0
      for _, path in ipairs { "bench/fixtures/job.json", "bench/fixtures/page100.json" } do
        local text = read(path)
        if text then
          agrees(text, "raw")
          agrees(text, "schema")
          n = n + 1
        end
      end
      if n == 0 then pending("no bench/fixtures/*.json") end
    end)

    it("on the emulator's fixture jobs, as Python's json writes them", function()
      local script = "import json,sys; sys.path.insert(0,'tools/emulator'); "
        .. "from iothub_emulator.fixtures import fixture_jobs as f; "
        .. "j=f(); print(json.dumps(j)); print(json.dumps(j, ensure_ascii=False)); "
        .. "print(json.dumps(j, indent=2).replace(chr(10), ' ')); "
        .. "[print(json.dumps(x, separators=(',',':'))) for x in j]"
      local p = io.popen("python3 -c \"" .. script .. "\" 2>/dev/null")
      local n = 0
      for line in p:lines() do
        agrees(line, "schema")
        agrees(line, "raw")
        n = n + 1
      end
      p:close()
      if n == 0 then pending("python3 or the emulator's fixtures are not available") end
    end)
  end)

  describe("in schema mode", function()
    it("drops null schema fields and keeps iothub.null in free-form objects and arrays", function()
      local job = assert(core.decode_json([[{"jobId":"j","statusMessage":null,
        "updateTwin":{"etag":null,"tags":{"owner":null,"deep":{"x":null}},
          "properties":{"desired":{"obsolete":null,"list":[null]},"reported":{"r":null}}},
        "cloudToDeviceMethod":{"payload":{"nothing":null,"list":[1,null,{"n":null}]}},
        "list":[null,{"gone":null,"kept":1}],
        "arr":{"payload":[{"n":null}]}}]]))
      assert.is_nil(job.statusMessage)
      assert.is_nil(job.updateTwin.etag)
      assert.are.equal(null, job.updateTwin.tags.owner)
      assert.are.equal(null, job.updateTwin.tags.deep.x)
      assert.are.equal(null, job.updateTwin.properties.desired.obsolete)
      assert.are.equal(null, job.updateTwin.properties.desired.list[1])
      assert.are.equal(null, job.updateTwin.properties.reported.r)
      assert.are.equal(null, job.cloudToDeviceMethod.payload.nothing)
      assert.are.equal(null, job.cloudToDeviceMethod.payload.list[2])
      assert.are.equal(null, job.cloudToDeviceMethod.payload.list[3].n)
      assert.are.equal(null, job.list[1])
      assert.is_nil(job.list[2].gone)
      assert.are.equal(1, job.list[2].kept)
      assert.are.equal(null, job.arr.payload[1].n)
      assert.is_nil(next(assert(core.decode_json('{"a":1,"a":null}'))))
      assert.are.equal(null, core.decode_json("null"))
      assert.are.equal(null, core.decode_json("null", "raw"))
    end)

    it("treats an escaped free-form key like the plain one", function()
      local v = assert(core.decode_json('{"t\\u0061gs":{"x":null},"p\\u0061yload":{"y":null}}'))
      assert.are.equal(null, v.tags.x)
      assert.are.equal(null, v.payload.y)
    end)

    it("makes integral numbers integers on Lua 5.3+ and keeps -0 and big numbers exact", function()
      local v = assert(core.decode_json("[1, 1.0, 1e2, -0, 0.5, 9007199254740992, 9007199254740994, 1e300]"))
      assert.are.same({ 1, 1, 100, 0, 0.5, TWO53, TWO53 + 2, 1e300 }, v)
      if mtype then
        assert.are.same({ "integer", "integer", "integer", "integer", "float", "integer", "float", "float" },
          { mtype(v[1]), mtype(v[2]), mtype(v[3]), mtype(v[4]), mtype(v[5]), mtype(v[6]), mtype(v[7]), mtype(v[8]) })
      else
        assert.are.equal(-math.huge, 1 / v[4])        -- -0 stays a negative zero
      end
    end)
  end)

  describe("refuses what is not strict JSON", function()
    it("with a message saying what and where, and never raises", function()
      local bad = {
        { "", "empty JSON text" }, { "   ", "empty JSON text" },
        { "nan", "unexpected character 'n' at offset 0" }, { "NaN" }, { "inf" }, { "-inf", "invalid number" },
        { "Infinity" }, { "-Infinity", "invalid number" }, { "[NaN]" }, { '{"a":Infinity}' },
        { "0x10", "unexpected character 'x' at offset 1" }, { "01", "leading zero" }, { "-01", "leading zero" },
        { "00" }, { "[01]" }, { '{"a":007}' }, { "1.", "invalid number" }, { "1.e5", "invalid number" },
        { ".5", "unexpected character '.'" }, { "+1", "unexpected character '+'" }, { "-", "invalid number" },
        { "--1" }, { "1e", "invalid number" }, { "1e+", "invalid number" }, { "1E-" }, { "[1,]" }, { "[,1]" },
        { "[1 2]", "expected ',' or ']'" }, { "[1,2", "unexpected end of input at offset 4" },
        { '{"a":1,}', "expected a string key" }, { "{,}" }, { '{"a"}', "expected ':'" }, { '{"a" 1}' },
        { "{1:2}" }, { "{a:1}" }, { '{"a":1', "unexpected end of input" }, { '{"a":1 "b":2}' },
        { '"abc', "unterminated string at offset 0" }, { '["abc]', "unterminated string at offset 1" },
        { '"a\\', "unterminated string" }, { '"a\\"', "unterminated string" },
        { '"\\x"', "invalid escape" }, { '"\\U0041"', "invalid escape" }, { '"\\\'"', "invalid escape" },
        { '"\\u12"', "invalid \\u escape" }, { '"\\u12G4"', "invalid \\u escape" }, { '"\\u"' },
        { '"\\ud800"', "unpaired surrogate" }, { '"\\ud800x"', "unpaired surrogate" },
        { '"\\ud800\\u0041"', "unpaired surrogate" }, { '"\\udc00"', "unpaired surrogate" },
        { '"\\udc00\\ud800"', "unpaired surrogate" }, { '"\\ud800\\ud800"', "unpaired surrogate" },
        { '"a\tb"', "control character 0x09 in a string at offset 2" }, { '"a\nb"', "control character" },
        { '"a\0b"', "control character 0x00" }, { '{"k\1":1}', "control character 0x01" },
        { "1 2", "unexpected character '2' at offset 2" }, { "[1] x", "unexpected character 'x' at offset 4" },
        { "[1]]" }, { "{}}" }, { "truex" }, { "tru" }, { "nul" }, { "nulll" }, { "True" }, { "[true false]" },
        { "\239\187\191{}", "unexpected byte 0xEF at offset 0" }, { "'a'" }, { "/* c */ 1" }, { "1\0" },
        { "[" .. ("1,"):rep(1000) }, { '{"a":' }, { '{"a":nul}' }, { '{"a":' .. ('"x"'):rep(2) .. "}" },
      }
      for _, case in ipairs(bad) do
        refuses(case[1], case[2], "raw")
        refuses(case[1], case[2], "schema")
      end
    end)

    it("names a byte it cannot print by its value and never quotes more than one byte of the input", function()
      local msg = refuses("[1," .. ("x"):rep(5000) .. "]")
      assert.is_true(#msg < 120, msg)
      assert.matches("unexpected byte 0x01 at offset 1", refuses("[\1]"))
    end)
  end)

  describe("nesting", function()
    local function arrays(n) return ("["):rep(n) .. ("]"):rep(n) end
    local function objects(n) return ('{"a":'):rep(n) .. "1" .. ("}"):rep(n) end

    it("decodes exactly max_depth levels and refuses one more, saying 'too many nested'", function()
      for _, n in ipairs { 1, 2, 16, 128, 129, 500, 1000 } do
        for _, make in ipairs { arrays, objects } do
          assert.is_table(core.decode_json(make(n), "schema", n))
          assert.is_table(core.decode_json(make(n), "raw", n))
          if n < 1000 then
            local _, err = core.decode_json(make(n + 1), "schema", n)
            assert.matches("too many nested arrays/objects %(" .. (n + 1) .. "%) at offset %d+", err.message)
          end
        end
      end
    end)

    it("defaults to 128 levels", function()
      assert.is_table(core.decode_json(arrays(128)))
      local _, err = core.decode_json(arrays(129))
      assert.are.equal("too many nested arrays/objects (129) at offset 128", err.message)
      assert.is_nil(core.decode_json(objects(129)))
    end)

    it("builds deep and wide documents within the Lua stack of every Lua", function()
      -- 1000 levels, each with 300 elements before the next level (and an
      -- object of 40 keys): far more than the 8000 slots a C function gets
      -- on 5.1 and LuaJIT if every level kept its elements on the stack.
      local parts = {}
      local obj = {}
      for i = 1, 40 do obj[i] = ('"k%d":%d'):format(i, i) end
      local level = ("7,"):rep(300) .. "{" .. table.concat(obj, ",") .. "},"
      for i = 1, 999 do parts[i] = "[" .. level end
      local text = table.concat(parts) .. "[]" .. ("]"):rep(999)
      local v = assert(core.decode_json(text, "schema", 1000))
      for _ = 1, 999 do
        assert.are.equal(302, #v)
        assert.are.equal(7, v[300])
        assert.are.equal(40, v[301].k40)
        v = v[302]
      end
      assert.are.same({}, v)
      local keys = {}
      for i = 1, 300 do keys[i] = ('"k%d":%d'):format(i, i) end
      parts = {}
      for i = 1, 999 do parts[i] = "{" .. table.concat(keys, ",") .. ',"next":' end
      text = table.concat(parts) .. "null" .. ("}"):rep(999)
      v = assert(core.decode_json(text, "raw", 1000))
      for _ = 1, 999 do
        assert.are.equal(300, v.k300)
        v = v.next
      end
      assert.are.equal(null, v)
    end)
  end)

  describe("large containers and the key cache", function()
    it("keeps every element of long arrays and objects", function()
      local t = {}
      for i = 1, 100000 do t[i] = tostring(i) end
      local v = assert(core.decode_json("[" .. table.concat(t, ",") .. "]"))
      assert.are.equal(100000, #v)
      for i = 1, 100000 do
        if v[i] ~= i then error("element " .. i .. " is " .. tostring(v[i])) end
      end
      for i = 1, 5000 do t[i] = ('"key%d":%d'):format(i, i) end
      local text = "{" .. table.concat(t, ",", 1, 5000) .. "}"
      for _ = 1, 2 do                                  -- the second time from the cache
        v = assert(core.decode_json(text))
        local n = 0
        for k, x in pairs(v) do
          n = n + 1
          assert(k == "key" .. x, k)
        end
        assert.are.equal(5000, n)
      end
    end)

    it("tells apart keys that share their first and last bytes, and survives a collection", function()
      local keys = {}
      for n = 0, 45 do
        keys[#keys + 1] = ("a"):rep(n)
        if n >= 17 then
          keys[#keys + 1] = ("a"):rep(8) .. "X" .. ("a"):rep(n - 9)
          keys[#keys + 1] = ("a"):rep(n - 9) .. "Y" .. ("a"):rep(8)
        end
      end
      local fields = {}
      for i, k in ipairs(keys) do fields[i] = ('"%s":%d'):format(k, i) end
      local text = "{" .. table.concat(fields, ",") .. "}"
      for _ = 1, 3 do
        local v = assert(core.decode_json(text))
        for i, k in ipairs(keys) do assert.are.equal(i, v[k]) end
        collectgarbage("collect")
      end
    end)

    it("returns exactly one value, or nil and one error", function()
      assert.are.equal(1, select("#", core.decode_json('{"a":[1,2,{"b":"c"}]}')))
      assert.are.equal(2, select("#", core.decode_json('{"a":[1,2,{"b":"c"}]')))
    end)
  end)

  describe("numbers and the C locale", function()
    it("reads '.' as the decimal point whatever LC_NUMERIC says", function()
      local old = os.setlocale(nil, "numeric")
      local found
      for _, name in ipairs { "de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8", "ru_RU.UTF-8",
        "es_ES.UTF-8", "it_IT.UTF-8", "nl_NL.UTF-8", "pt_BR.UTF-8" } do
        if os.setlocale(name, "numeric") then found = name break end
      end
      if not found then
        os.setlocale(old, "numeric")
        pending("no locale with a decimal comma is installed (locale -a)")
        return
      end
      local texts = { "1.5", "-0.25", "1.5e3", "0.1", "3.141592653589793238462643383279",
        "123456789012345678901234567890.5", "2.2250738585072014e-308", "1e-400", "[1.5,2.25]" }
      local got = {}
      for i, text in ipairs(texts) do got[i] = { core.decode_json(text) } end
      os.setlocale(old, "numeric")
      for i, text in ipairs(texts) do
        local want = core.decode_json(text)
        assert(got[i][1] ~= nil, text .. ": " .. tostring(got[i][2] and got[i][2].message))
        assert(differ(got[i][1], want) == nil, text .. " under " .. found .. ": " .. tostring(differ(got[i][1], want)))
      end
      assert.are.equal(1.5, got[1][1])
    end)
  end)
end)
