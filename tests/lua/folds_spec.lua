-- ds:subset, det.inspect.folds and det.inspect.out_of_fold: subsets keep
-- their images' ids, boxes and pixels; folds partition the images (each
-- held out exactly once, sizes within one, reproducible by seed); out of
-- fold, each model trains only on the other folds and every image is
-- predicted once, by the model that did not see it.
local det = require "det"

local ds = det.data.fashion { split = "train", images = 23, size = 48, seed = 4 }

local function ids(d)
  local t = {}
  for i = 1, #d do t[#t + 1] = d:item(i).id end
  return t
end

describe("ds:subset", function()
  local sub = ds:subset { 5, 2, 17 }

  it("keeps the listed images in the given order, with their ids and boxes", function()
    assert.are.equal(3, #sub)
    assert.are.same({ ds:item(5).id, ds:item(2).id, ds:item(17).id }, ids(sub))
    for k, i in ipairs { 5, 2, 17 } do
      local a, b = ds:item(i), sub:item(k)
      assert.are.equal(#a.boxes, #b.boxes)
      for j = 1, #a.boxes do
        for c = 1, 4 do assert.are.equal(a.boxes[j][c], b.boxes[j][c]) end
        assert.are.equal(a.boxes[j].name, b.boxes[j].name)
      end
    end
    assert.are.same(ds:classes(), sub:classes())
  end)

  it("renders the same pixels as the original, also as a subset of a subset", function()
    local a = ds:sample(17, { augment = false })
    assert.are.equal(a.pixels, sub:sample(3, { augment = false }).pixels)
    local sub2 = sub:subset { 3 }
    assert.are.equal(a.pixels, sub2:sample(1, { augment = false }).pixels)
    assert.are.not_equal(a.pixels, sub:sample(1, { augment = false }).pixels)
  end)

  it("outlives the dataset it was taken from", function()
    local s = det.data.fashion { images = 6, size = 48, seed = 9 }:subset { 6, 1 }
    collectgarbage() collectgarbage()
    local ref = det.data.fashion { images = 6, size = 48, seed = 9 }
    assert.are.equal(ref:sample(6, { augment = false }).pixels, s:sample(1, { augment = false }).pixels)
  end)

  it("refuses indices out of range, repeated or not integers, naming them", function()
    local ok, err = pcall(ds.subset, ds, { 1, 24 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("index 2 is 24, expected 1..23", 1, true))
    ok, err = pcall(ds.subset, ds, { 3, 4, 3 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("image 3 is listed twice", 1, true))
    ok, err = pcall(ds.subset, ds, { 1.5 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("not an integer", 1, true))
  end)
end)

describe("det.inspect.folds", function()
  it("holds out every image exactly once, in folds whose sizes differ by at most one", function()
    local folds = det.inspect.folds(ds, 4, { seed = 2 })
    assert.are.equal(4, #folds)
    local seen, sizes = {}, {}
    for f, fold in ipairs(folds) do
      sizes[#sizes + 1] = #fold.held
      assert.are.equal(#ds, #fold.held + #fold.train)
      local held = {}
      for _, id in ipairs(ids(fold.held)) do
        assert.is_nil(seen[id])
        seen[id], held[id] = f, true
      end
      for _, id in ipairs(ids(fold.train)) do assert.is_nil(held[id]) end
      for k, i in ipairs(fold.images) do assert.are.equal(ds:item(i).id, fold.held:item(k).id) end
    end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.are.equal(#ds, n)
    table.sort(sizes)
    assert.are.same({ 5, 6, 6, 6 }, sizes)
  end)

  it("is reproducible by seed and changes with it", function()
    local a, b, c = det.inspect.folds(ds, 3, { seed = 5 }), det.inspect.folds(ds, 3, { seed = 5 }),
      det.inspect.folds(ds, 3, { seed = 6 })
    assert.are.same(a[1].images, b[1].images)
    assert.are_not.same(a[1].images, c[1].images)
  end)

  it("refuses fewer than two folds or more folds than images", function()
    assert.has_error(function() det.inspect.folds(ds, 1) end, "det.inspect.folds: k must be an integer >= 2")
    local small = ds:subset { 1, 2 }
    local ok, err = pcall(det.inspect.folds, small, 3)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("2 images cannot make 3 folds", 1, true))
  end)
end)

describe("det.inspect.out_of_fold", function()
  local function tiny(seed)
    return det.model {
      backbone = det.backbone.resnet { depth = 18, width = 0.125 },
      neck = det.neck.fpn { channels = 16 },
      head = det.head.fcos { classes = 10, channels = 16, towers = 1 },
      size = 48, seed = seed,
    }
  end

  it("trains one model per fold on the other folds and predicts each image once", function()
    local trained_on = {}
    local r, folds = det.inspect.out_of_fold(ds, function(train, f)
      trained_on[f] = ids(train)
      return det.experiment {
        name = "oof", model = tiny(f), train = train, optim = det.optim.adamw { lr = 3e-3 },
        steps = 40, batch = 4, size = 48, workers = 1, run_dir = os.tmpname() .. ".d",
      }
    end, { folds = 3, seed = 1, predict = { score_threshold = 0.001 } })
    assert.are.equal(3, #folds)
    local held_by = {}
    for f, fold in ipairs(folds) do
      assert.are.equal(40, fold.steps)
      for _, id in ipairs(ids(fold.held)) do held_by[id] = f end
      for _, id in ipairs(trained_on[f]) do assert.are_not.equal(f, held_by[id]) end
      assert.are.equal(#ds - #fold.held, #trained_on[f])
    end
    -- the result is against the whole dataset: every GT box of ds is there
    local n = 0
    for i = 1, #ds do n = n + #ds:item(i).boxes end
    assert.are.equal(n, #r:ground_truth())
    -- and every prediction is on an image of the fold that predicted it
    local per_fold = {}
    for _, d in ipairs(r:detections()) do
      local f = held_by[d.image_id]
      assert.is_not_nil(f)
      per_fold[f] = (per_fold[f] or 0) + 1
    end
    for f, fold in ipairs(folds) do
      assert.is_true(fold.detections > 0)
      assert.are.equal(fold.detections, per_fold[f] or 0)
    end
    assert.is_table(r:suspects {})
  end)

  it("names the fold whose training cannot start", function()
    local ok, err = pcall(det.inspect.out_of_fold, ds, function(train, f)
      return det.experiment { name = "oof", model = tiny(f), train = train, optim = det.optim.adamw { lr = 3e-3 },
        steps = 3, batch = 16, size = 48, workers = 1, run_dir = os.tmpname() .. ".d" }
    end, { folds = 2 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("det.inspect.out_of_fold: fold 1: det.experiment: trainer: ", 1, true), tostring(err))
    assert.truthy(tostring(err):find("fewer than a batch (16)", 1, true), tostring(err))
  end)

  it("names the fold when make returns something else", function()
    local ok, err = pcall(det.inspect.out_of_fold, ds, function() return 42 end, { folds = 2 })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("make(train, 1) returned number, expected a det.experiment", 1, true))
  end)
end)
