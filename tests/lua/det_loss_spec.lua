-- det.loss: configuration objects and loss:compute against the torch
-- fixtures of tests/golden/det/gen_det.py.
local det = require "det"

local golden = dofile((os.getenv("top_srcdir") or ".") .. "/tests/lua/golden.lua")
local fx = golden.read("det/det.txt")
local rows = golden.rows

local function close(a, b, tol)
  return math.abs(a - b) <= tol * (1 + math.abs(b))
end

describe("det.loss", function()
  it("makes printable configs whose fields read and write", function()
    local f = det.loss.focal { alpha = 0.25, gamma = 2 }
    assert.are.equal(0.25, f.alpha)
    assert.are.equal(2, f.gamma)
    assert.are.equal("mean", f.reduction)
    assert.are.equal("focal", f.kind)
    f.gamma = 1.5
    f.reduction = "sum"
    assert.are.equal(1.5, f.gamma)
    assert.are.equal('det.loss.focal{ alpha = 0.25, gamma = 1.5, reduction = "sum", weight = 1 }',
      tostring(f))
    assert.is_true(det.loss.is(f))
    assert.is_false(det.loss.is({}))
  end)

  it("rejects unknown keys by name", function()
    local ok, err = pcall(det.loss.focal, { gama = 2 })
    assert.is_false(ok)
    assert.truthy(err:find("det.loss.focal", 1, true))
    assert.truthy(err:find("'gama'", 1, true))
    local g = det.loss.giou {}
    ok, err = pcall(function() g.beta = 1 end)
    assert.is_false(ok)
    assert.truthy(err:find("'beta'", 1, true))
    ok, err = pcall(function() return g.alpha end)
    assert.is_false(ok)
    ok, err = pcall(function() g.kind = "iou" end)
    assert.is_false(ok)
    ok, err = pcall(det.loss.ce, { smoothing = 2 })
    assert.is_false(ok)
    assert.truthy(err:find("smoothing", 1, true))
    ok = pcall(det.loss.smooth_l1, { reduction = "avg" })
    assert.is_false(ok)
  end)

  it("has every loss the issue names", function()
    for _, k in ipairs { "focal", "giou", "bce", "ce", "qfl", "vfl", "l1", "smooth_l1", "iou",
                         "diou", "ciou", "dfl", "centerness" } do
      assert.are.equal(k, det.loss[k]{}.kind)
    end
    assert.are.equal(1, det.loss.avg_factor(0))
    assert.are.equal(12, det.loss.avg_factor(12))
  end)

  it("computes sigmoid focal loss as torchvision, with its gradient", function()
    local l = det.loss.focal { alpha = 0.25, gamma = 2, reduction = "none" }
    local v, g = l:compute(rows(fx["cls.x"], 5), rows(fx["cls.y"], 5))
    for i = 1, 8 do
      for c = 1, 5 do
        assert.is_true(close(v[i][c], fx["focal0.loss"][(i - 1) * 5 + c], 1e-5))
      end
    end
    -- reduction none: the gradient of each term, d loss / dx
    local up = fx["focal0.up"]
    for i = 1, 40 do
      local r, c = (i - 1) // 5 + 1, (i - 1) % 5 + 1
      assert.is_true(close(g[r][c] * up[i], fx["focal0.grad"][i], 1e-4))
    end
    l.reduction = "sum"
    assert.is_true(close(l:compute(rows(fx["cls.x"], 5), rows(fx["cls.y"], 5)), fx["focal0.sum"][1], 1e-5))
  end)

  it("computes GIoU, DIoU and CIoU losses as torchvision", function()
    local p, t = rows(fx["boxloss.pred"], 4), rows(fx["boxloss.target"], 4)
    for _, k in ipairs { "giou", "diou", "ciou" } do
      local v = det.loss[k] { reduction = "sum" }:compute(p, t)
      assert.is_true(close(v, fx["boxloss." .. k .. ".sum"][1], 1e-5), k)
      local m = det.loss[k] {}:compute(p, t)
      assert.is_true(close(m, fx["boxloss." .. k .. ".mean"][1], 1e-5), k)
    end
  end)

  it("computes CE with label smoothing and class weights as torch", function()
    local x = rows(fx["ce.x"], 6)
    local y = {}
    for i, c in ipairs(fx["ce.y"]) do y[i] = c + 1 end -- Lua classes are 1-based
    local l = det.loss.ce { smoothing = 0.2, class_weight = fx["ce.w"] }
    local v, g = l:compute(x, y)
    assert.is_true(close(v, fx["ce2.mean"][1], 1e-5))
    for i = 1, 54 do
      local r, c = (i - 1) // 6 + 1, (i - 1) % 6 + 1
      assert.is_true(close(g[r][c], fx["ce2.mean_grad"][i], 1e-4))
    end
  end)

  it("normalises by avg_factor and weights terms", function()
    local l = det.loss.l1 { reduction = "sum" }
    local s = l:compute({ 1, 2, 3 }, { 0, 0, 0 }, { weight = { 1, 0, 2 } })
    assert.are.equal(7, s)
    l.reduction = "mean"
    assert.are.equal(3.5, (l:compute({ 1, 2, 3 }, { 0, 0, 0 }, { weight = { 1, 0, 2 }, avg_factor = 2 })))
    local ok = pcall(l.compute, l, { 1, 2 }, { 0 })
    assert.is_false(ok)
  end)
end)
