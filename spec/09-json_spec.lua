-- iothub.json: request bodies as the service wants them (empty tables as
-- objects, iothub.array for arrays, iothub.null as null, integers kept).
local iothub = require("iothub")
local json = require("iothub.json")
local cjson = require("cjson")

-- (busted's assert does not pass its argument through, so no assert() here)
local function roundtrip(v)
  local text = json.encode(v)
  return cjson.decode(text)
end

describe("iothub.json.encode", function()
  it("encodes empty tables as objects and iothub.array() as arrays", function()
    assert.are.equal("{}", json.encode({}))
    assert.are.equal("[]", json.encode(iothub.array()))
    assert.are.equal("[1,2]", json.encode(iothub.array { 1, 2 }))
    local text = json.encode({ a = {}, b = iothub.array() })
    assert.truthy(text:find('"a":{}', 1, true), text)
    assert.truthy(text:find('"b":[]', 1, true), text)
  end)

  it("encodes iothub.null as null, booleans and falsy values as they are", function()
    assert.are.equal("null", json.encode(iothub.null))
    assert.are.equal("false", json.encode(false))
    assert.are.equal("0", json.encode(0))
    assert.are.equal('""', json.encode(""))
    assert.are.equal('{"x":null}', json.encode({ x = iothub.null }))
  end)

  it("keeps integers as integers and floats exact", function()
    assert.are.equal("3600", json.encode(3600))
    assert.are.equal("-5", json.encode(-5))
    assert.are.equal("0.1", json.encode(0.1))
    assert.are.equal(1 / 3, roundtrip({ 1 / 3 })[1])
    assert.are.equal("9007199254740991", json.encode(9007199254740991))
  end)

  it("escapes strings, control characters included, and keeps UTF-8", function()
    assert.are.equal('"a\\"b\\\\c\\n\\u0001"', json.encode('a"b\\c\n\1'))
    assert.are.equal('"日本"', json.encode("日本"))
    assert.are.equal('a"b\\c\n\1', roundtrip({ 'a"b\\c\n\1' })[1])
  end)

  it("encodes nested sequences and objects", function()
    local v = roundtrip({ fw = { version = "2.0", channels = { 1, 2, 3 } }, list = { { a = 1 }, { b = false } } })
    assert.are.same({ fw = { version = "2.0", channels = { 1, 2, 3 } }, list = { { a = 1 }, { b = false } } }, v)
  end)

  it("refuses what JSON cannot hold, saying where", function()
    local function refuses(v, where)
      local text, err = json.encode(v)
      assert.is_nil(text)
      assert.truthy(err:find(where, 1, true), err)
    end
    refuses({ x = 0 / 0 }, "$.x")
    refuses({ x = math.huge }, "$.x")
    refuses({ f = print }, "$.f")
    refuses({ [1] = 1, [3] = 3 }, "$")
    refuses({ 1, x = 2 }, "$")
    local loop = {}
    loop.self = loop
    refuses(loop, "$.self")
    refuses(iothub.array { a = 1 }, "$")
  end)

  it("raises when iothub.array gets something other than a table", function()
    assert.has_error(function() iothub.array("x") end)
  end)
end)
