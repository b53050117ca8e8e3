-- tests/lua/ui_spec.lua: det.ui without a screen (a pipe, `detbench run`,
-- stock lua5.4): every documented function exists and answers nil and a
-- message instead of raising; misuse still raises.
local det = require "det"

describe("det.ui", function()
  it("has every documented function", function()
    for _, name in ipairs { "layout", "snapshot", "samples", "plan", "watch", "focus", "zoom", "log", "mode", "show_eval", "on_eval", "show_result" } do
      assert.is_function(det.ui[name], name)
    end
  end)

  it("answers nil and a message without a screen", function()
    local ok, msg = det.ui.layout { { "curves", "ap" }, { "output" } }
    assert.is_nil(ok)
    assert.matches("screen is not up", msg)
    ok, msg = det.ui.snapshot("x")
    assert.is_nil(ok)
    assert.matches("screen is not up", msg)
    ok, msg = det.ui.plan { 0.1, 0.2 }
    assert.is_nil(ok)
    assert.matches("screen is not up", msg)
    ok, msg = det.ui.mode()
    assert.is_nil(ok)
    assert.matches("screen is not up", msg)
  end)

  it("raises on misuse", function()
    assert.has_error(function() det.ui.snapshot() end)
    assert.has_error(function() det.ui.samples("not a dataset") end)
    assert.has_error(function() det.ui.plan("x") end)
  end)
end)
