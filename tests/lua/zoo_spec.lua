-- The model zoo's blocks (det.backbone.mobilenetv2 / cspdarknet,
-- det.neck.pan / bifpn, det.head.yolo) against tests/golden/zoo/zoo.txt
-- (written by make_zoo.py from torchvision and PyTorch re-implementations):
-- output shapes at several input sizes, parameter counts and names; how
-- det.model names the part that does not fit; the engine ops they added
-- (relu6, reciprocal) and the BiFPN fusion weights' gradient.
local det = require "det"
local nn, T = det.nn, det.tensor

local top = os.getenv("top_srcdir") or "."
local golden = {}
local names = {}
for line in io.lines(top .. "/tests/golden/zoo/zoo.txt") do
  if line:sub(1, 1) ~= "#" then
    local w = {}
    for x in line:gmatch("%S+") do w[#w + 1] = x end
    if w[1] == "name" then
      names[w[2]] = names[w[2]] or {}
      local sh = {}
      for i = 4, #w do sh[#sh + 1] = tonumber(w[i]) end
      names[w[2]][w[3]] = table.concat(sh, "x")
    else
      golden[w[1]] = golden[w[1]] or {}
      local rest = {}
      for i = 2, #w do rest[#rest + 1] = w[i] end
      if w[2]:match("^params") then
        golden[w[1]][w[2]] = tonumber(w[3])
      else
        -- "<size> <key> [box|cls] d1 d2 d3 d4"
        local key = table.concat(rest, " ", 1, #rest - 4)
        golden[w[1]][key] = table.concat(rest, "x", #rest - 3)
      end
    end
  end
end

local function count(m, prefix)
  local n = 0
  for _, p in ipairs(m:parameters()) do
    if not prefix or p.name:sub(1, #prefix) == prefix then n = n + p.count end
  end
  return n
end

local function shp(t) return table.concat(t:shape(), "x") end

local backbones = {
  ["mobilenetv2_w1.0"] = function() return det.backbone.mobilenetv2 { width = 1.0, ["return"] = { "c2", "c3", "c4", "c5" } } end,
  ["mobilenetv2_w0.5"] = function() return det.backbone.mobilenetv2 { width = 0.5, ["return"] = { "c2", "c3", "c4", "c5" } } end,
  cspdarknet_v5s = function() return det.backbone.cspdarknet { version = "v5", ["return"] = { "c2", "c3", "c4", "c5" } } end,
  cspdarknet_v5n = function() return det.backbone.cspdarknet { version = "v5", width = 0.25, ["return"] = { "c2", "c3", "c4", "c5" } } end,
  cspdarknet_v8n = function() return det.backbone.cspdarknet { version = "v8", width = 0.25, ["return"] = { "c2", "c3", "c4", "c5" } } end,
  cspdarknet_v8s = function() return det.backbone.cspdarknet { version = "v8", width = 0.5, ["return"] = { "c2", "c3", "c4", "c5" } } end,
  cspdarknet_v8m = function()
    return det.backbone.cspdarknet { version = "v8", depth = 0.67, width = 0.75, max_channels = 768,
      ["return"] = { "c2", "c3", "c4", "c5" } }
  end,
}

describe("det.backbone", function()
  for name, make in pairs(backbones) do
    it(name .. ": shapes and parameter count as PyTorch", function()
      local g = golden[name]
      assert.is_table(g)
      local sizes = name:find("mobilenet") and { 64, 100 } or name:find("v8m") and { 64 } or { 64, 96 }
      for _, size in ipairs(sizes) do
        local b = make()
        -- channels and strides are known before building
        for _, k in ipairs { "c2", "c3", "c4", "c5" } do
          assert.are.equal(tonumber(g[size .. " " .. k]:match("^%d+x(%d+)")), b.channels[k])
        end
        assert.are.same({ c2 = 4, c3 = 8, c4 = 16, c5 = 32 }, b.strides)
        local m = nn.build(b, { 1, 3, size, size })
        local out = m:forward(T.randn({ 1, 3, size, size }, 1))
        for _, k in ipairs { "c2", "c3", "c4", "c5" } do
          assert.are.equal(g[size .. " " .. k], shp(out[k]), name .. " " .. size .. " " .. k)
        end
        assert.are.equal(g.params, count(m))
      end
    end)
  end

  it("uses torchvision's and Ultralytics' parameter names and shapes", function()
    for name, make in pairs { ["mobilenetv2_w1.0"] = backbones["mobilenetv2_w1.0"], cspdarknet_v8n = backbones.cspdarknet_v8n } do
      local m = nn.build(make(), { 1, 3, 32, 32 })
      local ours = {}
      for _, p in ipairs(m:parameters()) do ours[p.name] = table.concat(p.shape, "x") end
      assert.are.same(names[name], ours)
    end
  end)

  it("keeps only the returned levels and rejects bad options", function()
    local b = det.backbone.mobilenetv2 { width = 0.35 }
    assert.is_nil(b.channels.c2)
    local m = nn.build(b, { 1, 3, 64, 64 })
    local out = m:forward(T.randn({ 1, 3, 64, 64 }, 2))
    assert.is_nil(out.c2)
    assert.are.equal(b.channels.c5, out.c5:shape()[2])
    assert.has_error(function() det.backbone.cspdarknet { version = "v7" } end)
    assert.has_error(function() det.backbone.mobilenetv2 { widht = 1 } end)
    assert.has_error(function() det.backbone.cspdarknet { ["return"] = { "c6" } } end)
  end)
end)

local function yolo_model(neck, head)
  return det.model { backbone = backbones.cspdarknet_v8n(), neck = neck, head = head or det.head.yolo { classes = 6 } }
end

describe("det.neck", function()
  it("pan: shapes and parameter count as mmdetection's PAFPN", function()
    local g = golden.pan64_v8n
    local model = yolo_model(det.neck.pan { channels = 64 })
    local m = model:graph { batch = 1, size = 96 }
    assert.are.equal(g.params, count(m, "neck."))
    assert.are.equal(golden.cspdarknet_v8n.params, count(m, "backbone."))
    assert.are.same({ 3, 4, 5 }, model.neck.levels)
  end)

  it("bifpn: shapes, P6/P7 and parameter counts", function()
    local b = det.backbone.cspdarknet { version = "v8", width = 0.25 }
    local n = det.neck.bifpn { channels = 64, repeats = 3, levels = { 3, 4, 5, 6, 7 } }
    assert.is_nil(n:fit(b))
    local blk = nn.block { kind = "t", backbone = b, neck = n }
    blk.forward = function(self, x) return self.neck(self.backbone(x)) end
    local m = nn.build(blk, { 1, 3, 96, 96 })
    local out = m:forward(T.randn({ 1, 3, 96, 96 }, 3))
    for l = 3, 7 do
      assert.are.equal(golden.bifpn64x3_p3p7_v8n["96 p" .. l], shp(out["p" .. l]))
    end
    assert.are.equal(golden.bifpn64x3_p3p7_v8n.params, count(m, "neck."))
    local model = yolo_model(det.neck.bifpn { channels = 32, repeats = 2 })
    assert.are.equal(golden.bifpn32x2_v8n.params, count(model:graph { size = 64 }, "neck."))
  end)

  it("every backbone fits every neck", function()
    for _, bb in ipairs { "mobilenetv2", "cspdarknet", "resnet" } do
      for _, nk in ipairs { "pan", "bifpn", "fpn" } do
        local model = det.model { backbone = det.backbone[bb](bb == "mobilenetv2" and { width = 0.35 } or
            bb == "resnet" and { width = 0.25 } or { width = 0.25 }),
          neck = det.neck[nk] { channels = 16 }, head = det.head.yolo { classes = 3, reg_max = 4 } }
        local out = model:graph { batch = 1, size = 64 }:forward(T.randn({ 1, 3, 64, 64 }, 4))
        assert.are.equal(3, #out, bb .. " + " .. nk)
        assert.are.same({ 1, 3, 8, 8 }, out[1].cls:shape())
        assert.are.same({ 1, 20, 2, 2 }, out[3].box:shape())
      end
    end
  end)

  it("det.model names the part that does not fit", function()
    local ok, err = pcall(det.model, { backbone = det.backbone.mobilenetv2 {},
      neck = det.neck.pan { levels = { 2, 3, 4, 5 } }, head = det.head.yolo { classes = 2 } })
    assert.is_false(ok)
    assert.matches("neck %(pan%) reads c2, but the backbone %(mobilenetv2%) gives only c3, c4, c5", err)
    ok, err = pcall(det.model, { backbone = det.backbone.cspdarknet {},
      neck = det.neck.bifpn { channels = 64 }, head = det.head.yolo { classes = 2, in_channels = 128 } })
    assert.is_false(ok)
    assert.matches("head %(yolo%) expects 128 input channels, the neck %(bifpn%) gives 64", err)
    ok, err = pcall(det.model, { backbone = det.backbone.cspdarknet { version = "v8", width = 0.25 },
      neck = det.neck.pan { channels = 32, in_channels = { c3 = 64, c4 = 128, c5 = 512 } },
      head = det.head.yolo { classes = 2 } })
    assert.is_false(ok)
    assert.matches("neck %(pan%) expects 512 channels at c5, the backbone %(cspdarknet_v8%) gives 256", err)
    assert.is_nil(det.neck.bifpn { in_channels = { 64, 128, 256 } }:fit(det.backbone.cspdarknet { version = "v8", width = 0.25 }))
    assert.has_error(function() det.neck.bifpn { levels = { 3, 5 } } end)
    assert.has_error(function() det.neck.pan { chanels = 3 } end)
  end)

  it("bifpn's fusion weights get the finite-difference gradient", function()
    local b = det.backbone.cspdarknet { version = "v8", width = 0.125, depth = 0.1 }
    local n = det.neck.bifpn { channels = 8, repeats = 1 }
    local blk = nn.block { kind = "t", backbone = b, neck = n }
    -- loss = sum(p4 * r) with r a fixed random tensor (a plain sum of a
    -- batch-normed map would not depend on the weights)
    blk.forward = function(self, x)
      local p4 = self.neck(self.backbone(x)).p4
      local r = nn.param("r", p4.shape, "normal", { mean = 0, std = 1 })
      return (p4 * r):sum({ 1, 2, 3, 4 })
    end
    local m = nn.build(blk, { 2, 3, 32, 32 }, { seed = 5 })
    m:freeze("r")
    local x = T.randn({ 2, 3, 32, 32 }, 6)
    local wname = "neck.cells.0.bu.0.weight" -- p4's bottom-up node: (P4, TD4, down(OUT3))
    local w = m:tensor(wname)
    assert.is_truthy(w, wname)
    local init = { 0.7, 1.3, 0.4 }
    for i = 1, 3 do w:set(i, init[i]) end
    local function f() return m:forward(x):totable()[1][1][1][1] end
    f()
    assert.is_truthy(m:backward())
    local grad = m:tensor(wname, "grad")
    for i = 1, 3 do
      local g = grad[i]
      local h = 1e-2
      w:set(i, init[i] + h); local fp = f()
      w:set(i, init[i] - h); local fm = f()
      w:set(i, init[i])
      local num = (fp - fm) / (2 * h)
      assert.is_true(math.abs(num - g) <= 0.02 * math.abs(num) + 1e-3,
        ("weight %d: numeric %g analytic %g"):format(i, num, g))
    end
    -- a negative raw weight is cut by the relu: no gradient
    w:set(3, -0.5)
    f(); m:backward()
    assert.are.equal(0, m:tensor(wname, "grad")[3])
  end)
end)

describe("det.head.yolo", function()
  for _, rm in ipairs { 16, 0 } do
    it("reg_max " .. rm .. ": shapes and parameter count as YOLOv8's Detect", function()
      local g = golden["yolo6_r" .. rm .. "_pan64"]
      local model = yolo_model(det.neck.pan { channels = 64 }, det.head.yolo { classes = 6, reg_max = rm })
      local m = model:graph { batch = 1, size = 96 }
      local out = m:forward(T.randn({ 1, 3, 96, 96 }, 7))
      for i = 1, 3 do
        assert.are.equal(g["96 p" .. (i + 2) .. " box"], shp(out[i].box))
        assert.are.equal(g["96 p" .. (i + 2) .. " cls"], shp(out[i].cls))
      end
      assert.are.equal(g.params, count(m, "head."))
      assert.are.equal("yolo", model.head.head)
      assert.are.equal(4 * (rm + 1), model.head.box_channels)
    end)
  end
end)

describe("engine ops for the zoo", function()
  it("relu6 and reciprocal", function()
    local blk = nn.block { kind = "t" }
    blk.forward = function(_, x) return { a = x:relu6(), b = (x:relu() + 0.5):reciprocal() } end
    local m = nn.build(blk, { 1, 4 })
    local y = m:forward(T { { -1, 3, 7, 0.5 } })
    assert.are.same({ { 0, 3, 6, 0.5 } }, y.a:totable())
    local b = y.b:totable()[1]
    for i, v in ipairs { 2, 1 / 3.5, 1 / 7.5, 1 } do assert.is_true(math.abs(b[i] - v) < 1e-6) end
  end)
end)

describe("YOLO head training", function()
  it("the loss goes down over 20 steps on 4 small Fashion scenes, and predictions decode", function()
    local names = { "T-shirt/top", "Bag", "Ankle boot" }
    local ds = assert(det.data.fashion { images = 4, size = 64, seed = 5, min_objects = 1, max_objects = 2,
      classes = names, min_scale = 0.3, max_scale = 0.55 })
    local model = det.model { backbone = det.backbone.cspdarknet { version = "v8", width = 0.125 },
      neck = det.neck.pan { channels = 16 }, head = det.head.yolo { classes = 3, reg_max = 8 },
      size = 64, names = names, seed = 1 }
    local m = model:graph { batch = 4, size = 64 }
    local d = model:detector {}
    assert.matches("yolo", tostring(d))
    local opt = det.optim.adamw { lr = 3e-3, weight_decay = 1e-4 }
    model:bind(opt)
    local ld = ds:loader { batch = 4, size = 64, workers = 1, augment = false }
    local first, last
    for _ = 1, 20 do
      local l = assert(d:train_step(m.graph, opt, ld))
      assert.is_true(l.num_pos > 0)
      assert.is_number(l.dfl)
      first = first or l
      last = l
    end
    ld:close()
    assert.is_true(last.total < 0.6 * first.total, ("total %g -> %g"):format(first.total, last.total))
    assert.is_true(last.box < first.box and last.dfl < first.dfl, ("box %g -> %g, dfl %g -> %g"):format(
      first.box, last.box, first.dfl, last.dfl))
    local preds = model:predict(ds, { batch = 4, score_threshold = 0.01 })
    assert.are.equal(4, #preds)
    for _, im in ipairs(preds) do
      for _, e in ipairs(im.dets) do assert.is_true(e[1] <= e[3] and e[2] <= e[4] and e.score > 0) end
    end
  end)
end)
