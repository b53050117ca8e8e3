-- det.sample: specs print and check their options; ds:sampler builds them
-- and their epochs follow the formulas (exactly for repeat factors).
local det = require "det"

describe("det.sample", function()
  it("makes specs that print as their call", function()
    assert.are.equal("det.sample.repeat_factor{ threshold = 0.1 }", tostring(det.sample.repeat_factor{ threshold = 0.1 }))
    assert.are.equal("det.sample.shuffle{}", tostring(det.sample.shuffle()))
    assert.has_error(function() det.sample.class_aware{ foo = 1 } end,
      "det.sample.class_aware: unknown option 'foo' (expected num_samples)")
    assert.has_error(function() det.sample.repeat_factor{ threshold = 0 } end)
    assert.has_error(function() det.sample.weights(3) end)
  end)

  it("computes LVIS repeat factors r(c) = max(1, sqrt(t / f(c)))", function()
    local ds = det.data.fashion{ images = 200, skew = 20, seed = 2 }
    local s = ds:sampler(det.sample.repeat_factor{ threshold = 0.2 })
    assert.are.equal(s, ds:sampler())
    assert.are.equal("repeat_factor", s:kind())
    local with = {}
    for i = 1, #ds do
      local seen = {}
      for _, b in ipairs(ds:item(i).boxes) do seen[b.class] = true end
      for c in pairs(seen) do with[c] = (with[c] or 0) + 1 end
    end
    for c = 1, 10 do
      if with[c] then
        local want = math.max(1, math.sqrt(0.2 / (with[c] / #ds)))
        assert.is_true(math.abs(s:class_repeat_factor(c) - want) < 1e-5, c)
      end
    end
    for i = 1, #ds do
      local r = 1
      for _, b in ipairs(ds:item(i).boxes) do r = math.max(r, s:class_repeat_factor(b.class)) end
      assert.is_true(math.abs(s:repeat_factor(i) - r) < 1e-6)
    end
    local e = s:epoch(0)
    assert.is_true(#e >= #ds)
  end)

  it("evaluates a weights function once per image", function()
    local ds = det.data.fashion{ images = 30 }
    local calls = 0
    local s = ds:sampler(det.sample.weights(function(item, i)
      calls = calls + 1
      return i <= 10 and 1 or 0
    end, { num_samples = 500 }))
    assert.are.equal(30, calls)
    for _, i in ipairs(s:epoch(0)) do assert.is_true(i <= 10) end
    assert.is_true(math.abs(s:probability(3) - 0.1) < 1e-9)
    assert.has_error(function() ds:sampler(det.sample.weights(function() return "x" end)) end)
  end)

  it("shuffles per epoch and class-aware draws contain every class", function()
    local ds = det.data.fashion{ images = 50, skew = 30 }
    local s = ds:sampler(det.sample.shuffle())
    local a, b = s:epoch(0, 1), s:epoch(1, 1)
    table.sort(a)
    for i = 1, 50 do assert.are.equal(i, a[i]) end
    assert.are_not.same(s:epoch(0, 1), b)
    s = ds:sampler(det.sample.class_aware{ num_samples = 2000 })
    local hits = {}
    for _, i in ipairs(s:epoch(0)) do
      for _, bx in ipairs(ds:item(i).boxes) do hits[bx.class] = true end
    end
    for c = 1, 10 do assert.is_true(hits[c] ~= nil, c) end
    assert.is_nil(ds:sampler(false):sampler())
  end)
end)
