-- det.data.fashion: the built-in scenes from Lua — options, determinism,
-- class subsets and skew, boxes inside the scene, and errors by name.
local det = require "det"

describe("det.data.fashion", function()
  it("makes a dataset of scenes with the ten classes", function()
    local ds = det.data.fashion{ images = 20, seed = 1 }
    assert.are.equal(20, #ds)
    local names = ds:classes()
    assert.are.equal(10, #names)
    assert.are.equal("T-shirt/top", names[1])
    assert.are.equal("Ankle boot", names[10])
    assert.truthy(tostring(ds):find("fashion%-train: 20 images"))
    assert.are.same(names, det.data.fashion_classes)
  end)

  it("puts 2..6 boxes inside each 128x128 scene", function()
    local ds = det.data.fashion{ images = 30, seed = 4 }
    for i = 1, #ds do
      local it = ds:item(i)
      assert.are.equal(128, it.width)
      assert.is_true(#it.boxes >= 1 and #it.boxes <= 6)
      for _, b in ipairs(it.boxes) do
        assert.is_true(b[1] >= 0 and b[2] >= 0 and b[3] <= 128 and b[4] <= 128 and b[3] > b[1] and b[4] > b[2])
      end
    end
  end)

  it("gives the same scene for the same seed and index, whatever the order", function()
    local a = det.data.fashion{ images = 10, seed = 7 }
    local b = det.data.fashion{ images = 10, seed = 7 }
    local c = det.data.fashion{ images = 10, seed = 8 }
    b:sample(9, { augment = false })
    assert.are.equal(a:sample(3, { augment = false }).pixels, b:sample(3, { augment = false }).pixels)
    assert.are.same(a:item(3).boxes, b:item(3).boxes)
    assert.are_not.equal(a:sample(3, { augment = false }).pixels, c:sample(3, { augment = false }).pixels)
  end)

  it("takes a class subset by name or number, renumbered from 1", function()
    local ds = det.data.fashion{ images = 20, classes = { "Shirt", 5 } }
    assert.are.same({ "Shirt", "Coat" }, ds:classes())
    for i = 1, #ds do
      for _, b in ipairs(ds:item(i).boxes) do
        assert.is_true(b.class == 1 or b.class == 2)
      end
    end
  end)

  it("skews class frequencies with skew = k", function()
    local function counts(ds)
      local n = {}
      for i = 1, #ds do
        for _, b in ipairs(ds:item(i).boxes) do n[b.class] = (n[b.class] or 0) + 1 end
      end
      return n
    end
    local n = counts(det.data.fashion{ images = 1500, classes = { 1, 2 }, skew = 10 })
    local ratio = n[1] / n[2]
    assert.is_true(ratio > 7 and ratio < 14, "ratio " .. ratio)
    n = counts(det.data.fashion{ images = 1500, classes = { 1, 2 }, class_weights = { 1, 1 } })
    ratio = n[1] / n[2]
    assert.is_true(ratio > 0.8 and ratio < 1.25, "ratio " .. ratio)
  end)

  it("makes test scenes from t10k items and other sizes", function()
    local ds = det.data.fashion{ split = "test", images = 5, size = 64, background = "gradient" }
    assert.truthy(tostring(ds):find("fashion%-test"))
    assert.are.equal(64, ds:item(1).width)
    assert.are.equal(64 * 64 * 3, #ds:sample(1).pixels)
  end)

  it("rejects bad options by name", function()
    assert.has_error(function() det.data.fashion{ imagez = 5 } end,
      "det.data.fashion: unknown option 'imagez' (expected split, images, size, seed, min_objects, max_objects, classes, class_weights, skew, background, min_scale, max_scale, max_iou)")
    assert.has_error(function() det.data.fashion{ split = "val" } end, 'det.data.fashion: split must be "train" or "test"')
    assert.has_error(function() det.data.fashion{ classes = { "Hat" } } end)
    assert.has_error(function() det.data.fashion{ background = "stars" } end)
    assert.has_error(function() det.data.fashion{ size = 4 } end)
  end)
end)
