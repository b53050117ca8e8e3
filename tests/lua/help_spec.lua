-- det.help: documentation at the prompt comes from doc/manual.md.
local det = require "det"

describe("det.help", function()
  it("finds a function's entry by value and by name", function()
    local a = det.help.text(det.threads)
    assert.truthy(a:find("det.threads", 1, true))
    assert.are.equal(a, det.help.text("det.threads"))
  end)
  it("lists documented names with no argument", function()
    assert.truthy(det.help.text():find("det.threads", 1, true))
  end)
  it("says when a value is not part of det", function()
    assert.truthy(det.help.text(print):find("not part of det"))
  end)
end)
