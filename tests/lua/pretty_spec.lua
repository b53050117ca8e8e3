-- det.pretty: what the prompt prints for values.
local det = require "det"
local fmt = det.pretty.format

describe("det.pretty", function()
  it("prints scalars as Lua literals", function()
    assert.are.equal('"a\\nb"', fmt("a\nb"))
    assert.are.equal("3", fmt(3))
    assert.are.equal("0.5", fmt(0.5))
    assert.are.equal("nan", fmt(0 / 0))
    assert.are.equal("nil", fmt(nil))
  end)
  it("prints short tables on one line with sorted keys", function()
    assert.are.equal('{ 1, 2, a = true, b = "x" }', fmt({ 1, 2, b = "x", a = true }))
    assert.are.equal('{ ["two words"] = 1 }', fmt({ ["two words"] = 1 }))
  end)
  it("indents long tables", function()
    local t = {}
    for i = 1, 30 do t["key" .. i] = i end
    local s = fmt(t)
    assert.truthy(s:find("^{\n  key1 = 1,\n"))
  end)
  it("survives cycles and limits depth", function()
    local t = {}
    t.self = t
    assert.are.equal("{ self = <cycle> }", fmt(t))
    assert.are.equal("{ { { { {...} } } } }", fmt({ { { { { 1 } } } } }))
  end)
  it("elides very long arrays", function()
    local t = {}
    for i = 1, 100 do t[i] = i end
    assert.truthy(fmt(t):find("%.%.%. %(60 more%)"))
  end)
  it("uses __tostring for objects", function()
    local obj = setmetatable({}, { __tostring = function() return "<thing>" end })
    assert.are.equal("<thing>", fmt(obj))
  end)
end)
