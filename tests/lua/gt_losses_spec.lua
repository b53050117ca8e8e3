-- exp:gt_losses(ds): one loss per GT box of ds in r:ground_truth()'s order
-- (relabelling a share of the boxes changes exactly those entries), numbers
-- >= 0 or NaN, for the FCOS and the YOLO head, refused while training. (That a wrong class costs more is
-- test_gt_losses' fixed-head check: a few CPU steps of this tiny model
-- barely separate the classes, so here the means are only printed.)
local det = require "det"

local function tiny_model()
  return det.model {
    backbone = det.backbone.resnet { depth = 18, width = 0.125 },
    neck = det.neck.fpn { channels = 16 },
    head = det.head.fcos { classes = 10, channels = 16, towers = 1 },
    size = 64, seed = 0,
  }
end

local train = det.data.fashion { split = "train", images = 32, size = 64, seed = 1 }
local val = det.data.fashion { split = "test", images = 12, size = 64, seed = 2 }

-- the YOLO head (task-aligned assigner, DFL) on the same tiny trunk
local function tiny_yolo()
  return det.model {
    backbone = det.backbone.resnet { depth = 18, width = 0.125 },
    neck = det.neck.fpn { channels = 16 },
    head = det.head.yolo { classes = 10, reg_max = 4, channels = 16, cls_channels = 16, image_size = 64 },
    size = 64, seed = 0,
  }
end

local function make(steps, model)
  return det.experiment {
    name = "gt_losses", model = model or tiny_model(), train = train, val = val,
    optim = det.optim.adamw { lr = 3e-3 }, schedule = det.sched.constant {},
    steps = steps, batch = 4, size = 64, workers = 1, run_dir = os.tmpname() .. ".d",
    eval_every = { epochs = 100 },
  }
end

local function same_box(a, b)
  for k = 1, 4 do if math.abs(a[k] - b[k]) > 1e-3 then return false end end
  return true
end

describe("exp:gt_losses", function()
  it("gives each GT box its loss in r:ground_truth() order", function()
    local e = make(4)
    e:train()
    assert.is_true(e:wait())
    local l = e:gt_losses(val)
    local r = e:predict(val)
    local gt = r:ground_truth()
    assert.is_true(#gt > 0)
    assert.are.equal(#gt, #l)
    local finite = 0
    for i = 1, #l do
      assert.are.equal("number", type(l[i]))
      if l[i] == l[i] then
        assert.is_true(l[i] >= 0, tostring(l[i]))
        finite = finite + 1
      end
    end
    assert.is_true(finite >= 0.8 * #l, ("%d of %d finite"):format(finite, #l))

    -- the same scenes with 30% of the labels swapped: exactly those change
    local swapped, planted = det.inspect.plant_errors(val, { swap = 0.3, delete = 0 })
    local l2 = e:gt_losses(swapped)
    assert.are.equal(#l, #l2)
    local is_planted, np = {}, 0
    for _, p in ipairs(planted) do
      for i, g in ipairs(gt) do
        if g.image_id == p.image_id and same_box(g.bbox, p.box) then is_planted[i] = true; np = np + 1 end
      end
    end
    assert.are.equal(#planted, np)
    assert.is_true(np > 0)
    local before, after, n = 0, 0, 0
    for i = 1, #l do
      if is_planted[i] then
        assert.are_not.equal(l[i], l2[i])
        if l[i] == l[i] and l2[i] == l2[i] then
          before, after, n = before + l[i], after + l2[i], n + 1
        end
      elseif l[i] == l[i] then
        assert.are.equal(l[i], l2[i])
      else
        assert.is_true(l2[i] ~= l2[i])
      end
    end
    -- r:suspects takes them (NaN entries included) and the loss can raise a bad_box score
    local sus = r:suspects { losses = l, bad_weight = 1 }
    local plain = r:suspects { bad_weight = 1 }
    assert.are.equal("table", type(sus))
    local best = 0
    for _, it in ipairs(sus) do if it.reason == "bad_box" then best = math.max(best, it.score) end end
    local best_plain = 0
    for _, it in ipairs(plain) do if it.reason == "bad_box" then best_plain = math.max(best_plain, it.score) end end
    assert.is_true(best >= best_plain and math.abs(best - 1) < 1e-6, ("%g, %g"):format(best, best_plain))
    print(("# gt_losses: %d boxes, %d relabelled: mean loss %.4f with their own class, %.4f relabelled")
      :format(#l, n, before / math.max(n, 1), after / math.max(n, 1)))
  end)

  it("gives each GT box its loss with the YOLO head too", function()
    local e = make(2, tiny_yolo())
    e:train()
    assert.is_true(e:wait())
    local l = e:gt_losses(val)
    local r = e:predict(val)
    local gt = r:ground_truth()
    assert.are.equal(#gt, #l)
    local finite = 0
    for i = 1, #l do
      assert.are.equal("number", type(l[i]))
      if l[i] == l[i] then
        assert.is_true(l[i] >= 0, tostring(l[i]))
        finite = finite + 1
      end
    end
    -- TAL assigns only points whose prediction overlaps the box: most, here
    assert.is_true(finite >= 0.5 * #l, ("%d of %d finite"):format(finite, #l))
    local again = e:gt_losses(val) -- evaluation mode: the same numbers again
    for i = 1, #l do assert.is_true(again[i] == l[i] or (again[i] ~= again[i] and l[i] ~= l[i]), i) end

    -- relabelled boxes change; images without one keep every value (TAL's
    -- positives depend on the class, so a relabelled box's neighbours in
    -- its own image may shift)
    local swapped, planted = det.inspect.plant_errors(val, { swap = 0.3, delete = 0 })
    local l2 = e:gt_losses(swapped)
    assert.are.equal(#l, #l2)
    local is_planted, touched, np = {}, {}, 0
    for _, p in ipairs(planted) do
      for i, g in ipairs(gt) do
        if g.image_id == p.image_id and same_box(g.bbox, p.box) then
          is_planted[i], touched[g.image_id] = true, true
          np = np + 1
        end
      end
    end
    assert.is_true(np > 0)
    local changed = 0
    for i = 1, #l do
      if is_planted[i] then
        if l[i] == l[i] and l2[i] == l2[i] and l[i] ~= l2[i] then changed = changed + 1 end
      elseif not touched[gt[i].image_id] then
        if l[i] == l[i] then assert.are.equal(l[i], l2[i]) else assert.is_true(l2[i] ~= l2[i]) end
      end
    end
    assert.is_true(changed > 0, "no relabelled box changed its loss")
    -- the inspector takes them
    local sus = r:suspects { losses = l, bad_weight = 1 }
    assert.are.equal("table", type(sus))
    local hard = r:hardest { n = 3, losses = l }
    assert.is_true(#hard > 0 and hard[1].loss ~= nil)
    print(("# gt_losses (yolo): %d boxes, %d finite, %d of %d relabelled changed"):format(#l, finite, changed, np))
  end)

  it("is refused while training", function()
    local e = make(100000)
    e:train()
    local ok, err = pcall(e.gt_losses, e, val)
    e:stop()
    assert.is_true(e:wait() ~= nil)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("while training", 1, true), err)
  end)
end)
