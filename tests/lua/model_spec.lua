-- det.backbone.resnet, det.neck.fpn, det.head.fcos/retinanet and det.model
-- from Lua: torchvision's names and counts, channels and strides known
-- before building, fit errors that name the part, shared parameter stores,
-- save/load, and the end-to-end check: a small FCOS and a small RetinaNet
-- each overfit 8 Fashion scenes to AP50 > 0.95 in 80 steps (C training
-- step, det.eval on their own predictions).
local det = require "det"

local function count(m)
  local n, names = 0, {}
  for _, p in ipairs(m:parameters()) do n = n + p.count; names[p.name] = p end
  return n, names
end

local function expect_error(fn, pattern)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.truthy(tostring(err):find(pattern, 1, true), tostring(err))
end

describe("det.backbone.resnet", function()
  it("has torchvision's parameter names and counts (18, 34, 50 without fc)", function()
    for depth, want in pairs { [18] = 11176512, [34] = 21284672, [50] = 23508032 } do
      local bb = det.backbone.resnet { depth = depth }
      local m = det.nn.build(bb, { 1, 3, 64, 64 })
      local n, names = count(m)
      assert.are.equal(want, n, "resnet" .. depth)
      assert.truthy(names["conv1.weight"] and names["bn1.running_mean"] == nil)
      assert.truthy(names["layer2.0.downsample.0.weight"] and names["layer4.1.bn2.bias"])
      if depth == 50 then assert.truthy(names["layer3.5.conv3.weight"] and names["layer1.0.downsample.1.weight"]) end
    end
  end)

  it("says its channels and strides before building, and returns those keys", function()
    local bb = det.backbone.resnet { depth = 50, width = 0.5, ["return"] = { "c2", "c3", "c4", "c5" } }
    assert.are.same({ c2 = 128, c3 = 256, c4 = 512, c5 = 1024 }, bb.channels)
    assert.are.same({ c2 = 4, c3 = 8, c4 = 16, c5 = 32 }, bb.strides)
    local m = det.nn.build(bb, { 1, 3, 64, 64 })
    local y = m:forward(det.tensor.randn({ 1, 3, 64, 64 }, 1))
    assert.are.same({ 1, 1024, 2, 2 }, y.c5:shape())
    assert.are.same({ 1, 128, 16, 16 }, y.c2:shape())
    local r18 = det.backbone.resnet { depth = 18, width = 0.25, norm = "gn" }
    assert.are.same({ c3 = 32, c4 = 64, c5 = 128 }, r18.channels)
    expect_error(function() det.backbone.resnet { depth = 20 } end, "depth is 18, 34 or 50")
    expect_error(function() det.backbone.resnet { widht = 1 } end,
      "det.backbone.resnet: unknown option 'widht' (did you mean 'width'? expected depth, frozen_stages, norm, return, width)")
    expect_error(function() det.neck.fpn { chanels = 64 } end, "did you mean 'channels'?")
    expect_error(function() det.head.fcos { clases = 3 } end, "did you mean 'classes'?")
    expect_error(function() det.backbone.cspdarknet { zzzzzzzz = 1 } end, "unknown option 'zzzzzzzz' (expected ")
  end)
end)

describe("det.neck.fpn", function()
  it("gives P3-P5 (and P6/P7 from P5 or C5) with the given channels", function()
    for _, mode in ipairs { "p5", "c5" } do
      local model = det.model { backbone = det.backbone.resnet { width = 0.125 },
        neck = det.neck.fpn { channels = 8, p6p7 = mode },
        head = det.head.retinanet { classes = 2, channels = 8, towers = 1 }, size = 128 }
      local m = model:graph { batch = 1, size = 128, train = false }
      local out = m:forward(det.tensor.randn({ 1, 3, 128, 128 }, 2))
      assert.are.equal(5, #out)
      assert.are.same({ 1, 9 * 2, 16, 16 }, out[1].cls:shape())
      assert.are.same({ 1, 9 * 4, 1, 1 }, out[5].box:shape())
      local _, names = count(m)
      assert.truthy(names["neck.p6.weight"] and names["neck.inner_blocks.2.bias"])
      assert.are.equal(mode == "c5" and 64 or 8, names["neck.p6.weight"].shape[2])
    end
  end)
end)

describe("det.model", function()
  local function small(o)
    o = o or {}
    return det.model { backbone = o.backbone or det.backbone.resnet { width = 0.125 },
      neck = o.neck or det.neck.fpn { channels = 16 },
      head = o.head or det.head.fcos { classes = 3, channels = 16, towers = 1 },
      names = o.names, size = 64 }
  end

  it("names the part that does not fit", function()
    expect_error(function()
      small { backbone = det.backbone.resnet { width = 0.125, ["return"] = { "c4", "c5" } } }
    end, "neck (fpn) reads c3, but the backbone (resnet18) gives only c4, c5")
    expect_error(function()
      small { head = det.head.fcos { classes = 3, in_channels = 32 } }
    end, "head (fcos) expects 32 input channels, the neck (fpn) gives 16")
    expect_error(function()
      small { head = det.head.fcos { classes = 3, strides = { 8, 16, 64 } } }
    end, "head (fcos) expects stride 64 at level 3, the neck (fpn) gives P5 at stride 32")
    expect_error(function() small { names = { "a", "b" } } end, "names lists 2 classes, the head (fcos) has 3")
    expect_error(function()
      small { head = det.head.retinanet { classes = 3, sizes = { 8, 16 } } }
    end, "sizes lists 2 anchor sizes for 3 pyramid levels")
    expect_error(function() det.head.fcos {} end, "classes (a positive integer) is required")
    expect_error(function() det.model { backbone = det.backbone.resnet {}, neck = det.neck.fpn {} } end,
      "head is missing")
  end)

  it("builds graphs of any batch and size on one parameter store, with the same output nodes", function()
    local model = small()
    local a = model:graph { batch = 2, size = 64 }
    local b = model:graph { batch = 1, size = 96, train = false }
    assert.are.equal(a, model:graph { batch = 2, size = 64 })
    assert.are.same(a.outputs, b.outputs)
    a:tensor("head.conv_cls.bias"):fill(0.5)
    assert.are.equal(0.5, b:tensor("head.conv_cls.bias")[1])
    -- the classifier's bias starts at the prior's logit -log(99), the scales at 1
    local fresh = small()
    local bias = fresh:graph { batch = 1 }:tensor("head.conv_cls.bias")
    assert.is_true(math.abs(bias[1] + math.log(99)) < 1e-5)
    assert.are.equal(1, fresh:graph { batch = 1 }:tensor("head.scales.2.scale")[1])
    local s = model:summary { size = 64, quiet = true }
    assert.truthy(s:find("head.conv_centerness", 1, true) and s:find("backbone.layer4.1.conv2", 1, true))
    assert.truthy(s:find("\ntotal%s+detector%s+%(3 outputs%)"))
  end)

  it("freezes the stem and the first stages", function()
    local model = small { backbone = det.backbone.resnet { width = 0.125, frozen_stages = 1 } }
    local _, names = count(model:graph { batch = 1 })
    assert.is_true(names["backbone.conv1.weight"].frozen and names["backbone.layer1.1.bn2.bias"].frozen)
    assert.is_false(names["backbone.layer2.0.conv1.weight"].frozen)
  end)

  it("saves and loads its weights by name", function()
    local path = os.tmpname()
    local a, b = small(), small()
    a:graph { batch = 1 }:tensor("head.conv_reg.bias"):fill(0.25)
    assert.is_true(a:save(path))
    local rep = assert(b:load(path, { strict = true }))
    assert.are.equal(0.25, b:graph { batch = 1 }:tensor("head.conv_reg.bias")[3])
    assert.are.same({}, rep.missing_names)
    -- a model without P6/P7 and another head: the names that differ are listed
    local c = det.model { backbone = det.backbone.resnet { width = 0.125 }, neck = det.neck.fpn { channels = 16 },
      head = det.head.fcos { classes = 3, channels = 16, towers = 1, quality = false }, size = 64 }
    local r2 = assert(c:load(path))
    assert.are.same({ "head.conv_centerness.bias", "head.conv_centerness.weight" }, r2.unexpected_names)
    assert.are.equal(0, #r2.missing_names)
    os.remove(path)
  end)

  it("makes a detector from a Lua loss config and rejects unknown parts", function()
    local model = small()
    local d = model:detector { loss = { cls = det.loss.focal { alpha = 0.3 }, box = det.loss.diou {},
      quality = det.loss.bce {}, weights = { cls = 1, box = 2, quality = 0.5 } }, score_threshold = 0.1 }
    assert.truthy(tostring(d):find("focal + diou + bce", 1, true))
    local w = d:weights()
    assert.are.same({ 1, 2, 0.5 }, { w.cls, w.box, w.quality })
    d:weights { box = 1.5 }
    assert.are.equal(1.5, d:weights().box)
    -- a misspelt part or a negative weight used to pass unnoticed
    expect_error(function() d:weights { bx = 2 } end, "unknown loss part 'bx'")
    expect_error(function() d:weights { box = -1 } end, "box must be a number >= 0")
    assert.are.equal(1.5, d:weights().box)
    expect_error(function() model:detector { loss = { dfl = det.loss.dfl {} } } end, "loss has no part 'dfl'")
    expect_error(function() model:detector { loss = { box = det.loss.focal {} } } end, "loss.box is iou, giou")
  end)
end)

describe("det.head.fcos", function()
  it("runs conv_reg and conv_centerness as one conv: the same parameters, outputs and gradients as apart", function()
    local function build(fuse)
      local head = det.head.fcos { classes = 3, towers = 1, channels = 16 }
      head.fuse = fuse
      local model = det.model { backbone = det.backbone.resnet { depth = 18, width = 0.125 },
        neck = det.neck.fpn { channels = 16 }, head = head, size = 32, seed = 1 }
      return model:graph { batch = 2, size = 32 }
    end
    local a, b = build(true), build(false)
    local pa, pb = {}, {}
    for i, p in ipairs(a.graph:parameters()) do pa[i] = p.name end
    for i, p in ipairs(b.graph:parameters()) do pb[i] = p.name end
    assert.are.same(pb, pa) -- same names in the same order: the same initial values
    local x = det.tensor.randn({ 2, 3, 32, 32 }, 7)
    local ya, yb = a:forward(x), b:forward(x)
    -- the largest |u - v| relative to the largest |v|
    local function diff(u, v)
      local fu, fv, d, m = u:reshape(-1), v:reshape(-1), 0, 1e-30
      for i = 1, v:numel() do
        d = math.max(d, math.abs(fu[i] - fv[i]))
        m = math.max(m, math.abs(fv[i]))
      end
      return d / m
    end
    local dy, seed = {}, 11
    for i = 1, #yb do
      dy[i] = {}
      for _, k in ipairs { "cls", "box", "quality" } do
        assert.is_true(diff(ya[i][k], yb[i][k]) < 1e-6, ("level %d %s"):format(i, k))
        dy[i][k] = det.tensor.randn(yb[i][k]:shape(), seed)
        seed = seed + 1
      end
    end
    assert(a:backward(dy))
    assert(b:backward(dy))
    for _, name in ipairs(pb) do
      assert.is_true(diff(a:tensor(name, "grad"), b:tensor(name, "grad")) < 1e-4, name)
    end
  end)
end)

describe("end to end", function()
  local names = { "T-shirt/top", "Bag", "Ankle boot" }
  local ds = assert(det.data.fashion { images = 8, size = 64, seed = 3, min_objects = 1, max_objects = 3,
    classes = names, min_scale = 0.3, max_scale = 0.55 })

  -- one thread: on a loaded 2-core machine these tiny convolutions run ~20x
  -- slower with two (the threads spin waiting for each other's core)
  local saved
  setup(function() saved = det.threads(); det.threads(1) end)
  teardown(function() det.threads(saved) end)

  local function overfit(head, steps)
    local model = det.model { backbone = det.backbone.resnet { depth = 18, width = 0.125 },
      neck = det.neck.fpn { channels = 16 }, head = head, size = 64, names = names, seed = 1 }
    local m = model:graph { batch = 8, size = 64 }
    local d = model:detector {}
    local opt = det.optim.adamw { lr = 3e-3, weight_decay = 1e-4 }
    model:bind(opt)
    local ld = ds:loader { batch = 8, size = 64, workers = 1, augment = false }
    local first, last
    for s = 1, steps do
      local l = assert(d:train_step(m.graph, opt, ld))
      first = first or l
      last = l
    end
    ld:close()
    -- (the centerness BCE has a floor: the entropy of its targets)
    assert.is_true(last.cls + last.box < (first.cls + first.box) / 5,
      ("cls + box %g -> %g"):format(first.cls + first.box, last.cls + last.box))
    local preds = model:predict(ds, { batch = 8 })
    assert.are.equal(8, #preds)
    assert.are.equal(names[preds[1].dets[1].class], preds[1].dets[1].name)
    local r = assert(det.eval.coco(ds, preds:coco(ds)))
    return r, model
  end

  it("predict's score_threshold and max_dets apply over the model's own detector, which keeps its settings", function()
    local scenes = det.data.fashion { images = 2, size = 64, seed = 3 }
    local model = det.model { backbone = det.backbone.resnet { depth = 18, width = 0.125 },
      neck = det.neck.fpn { channels = 16 }, head = det.head.fcos { classes = 10, channels = 16, towers = 1 },
      size = 64, seed = 0 }
    model:detector {} -- the default decoder (scores >= 0.05), as a training leaves it behind
    -- untrained, every location scores about its prior (0.01) times centerness (0.5)
    assert.are.equal(0, #model:predict(scenes)[1].dets)
    local p = model:predict(scenes, { score_threshold = 0.001, max_dets = 7 })
    assert.are.equal(7, #p[1].dets)
    assert.are.equal(7, #p[2].dets)
    assert.are.equal(0, #model:predict(scenes)[1].dets)
  end)

  it("a small FCOS overfits 8 Fashion scenes to AP50 > 0.95 in 80 steps", function()
    local r = overfit(det.head.fcos { classes = 3, towers = 1, channels = 16 }, 80)
    assert.is_true(r.AP50 > 0.95, "AP50 " .. r.AP50)
  end)

  it("a small RetinaNet overfits 8 Fashion scenes to AP50 > 0.95 in 80 steps", function()
    local r, model = overfit(det.head.retinanet { classes = 3, towers = 1, channels = 16, sizes = { 16, 32, 64 },
      scales = { 1 }, ratios = { 0.5, 1, 2 } }, 80)
    assert.is_true(r.AP50 > 0.95, "AP50 " .. r.AP50)
    -- predicting a normalised tensor gives boxes in its own pixels
    local p = model:predict(det.tensor.randn({ 2, 3, 64, 64 }, 5), { score_threshold = 0 })
    assert.are.equal(2, #p)
    assert.are.equal(1, #model:predict(det.tensor.randn({ 3, 64, 64 }, 6)))
    for _, e in ipairs(p[1].dets) do assert.is_true(e[1] >= 0 and e[3] <= 64 and e[1] <= e[3]) end
  end)
end)
