-- Tab completion's candidates (lua/det/complete.lua), on a stock lua5.4.
local complete = require "det.complete"

describe("det.complete.candidates", function()
  local env
  before_each(function()
    local methods = { area = function() end, iou = function() end, size = 3 }
    local base = { describe = function() end }
    setmetatable(methods, { __index = base })
    env = {
      det = { threads = function() end, thresh = 1, data = { fashion = function() end }, _core = {} },
      print = print, pairs = pairs,
      box = setmetatable({ w = 1, _private = 2 }, { __index = methods }),
      s = "text",
      string = string,
    }
  end)

  it("completes a field of a table", function()
    assert.same({ "det.threads", "det.thresh" }, complete.candidates("det.thr", env))
  end)

  it("completes through nested tables", function()
    assert.same({ "det.data.fashion" }, complete.candidates("det.data.f", env))
  end)

  it("completes globals and keywords", function()
    assert.same({ "pairs", "print" }, complete.candidates("p", env))
    assert.same({ "function" }, complete.candidates("func", env))
  end)

  it("lists methods after ':' from the metatable's __index chain", function()
    assert.same({ "box:area", "box:describe", "box:iou" }, complete.candidates("box:", env))
  end)

  it("lists fields after '.' including the __index table's", function()
    assert.same({ "box.area", "box.describe", "box.iou", "box.size", "box.w" },
      complete.candidates("box.", env))
  end)

  it("hides names starting with _ unless asked", function()
    assert.same({ "det._core" }, complete.candidates("det._", env))
    assert.same({ "box._private" }, complete.candidates("box._", env))
  end)

  it("offers string methods on a string", function()
    assert.same({ "s:upper" }, complete.candidates("s:up", env))
  end)

  it("returns nothing for unknown paths and odd words", function()
    assert.same({}, complete.candidates("nope.x", env))
    assert.same({}, complete.candidates("det..x", env))
    assert.same({}, complete.candidates("1.5", env))
    assert.same({}, complete.candidates("box:area.x", env))
  end)

  it("never calls the values it walks through, only __index", function()
    local called = false
    env.obj = setmetatable({}, { __index = function(_, k) called = k; return nil end })
    assert.same({}, complete.candidates("obj.x.", env))
    assert.equal("x", called)
  end)

  it("survives an __index that raises", function()
    env.bad = setmetatable({}, { __index = function() error("no") end })
    assert.same({}, complete.candidates("bad.x.", env))
  end)

  it("defaults to _G", function()
    assert.same({ "print" }, complete.candidates("prin"))
  end)
end)
