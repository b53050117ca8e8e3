-- det.tensor and det.nn from Lua: tensors, views, initialisers, printing;
-- blocks, models, forward/backward numbers, names, freezing, summaries.
local det = require "det"
local T, nn = det.tensor, det.nn

local function close(a, b, tol)
  return math.abs(a - b) <= (tol or 1e-5) * (1 + math.abs(b))
end

describe("det.tensor", function()
  it("makes tensors from shapes and nested tables", function()
    local z = T { 2, 3 }
    assert.are.same({ 2, 3 }, z:shape())
    assert.are.equal(0, z:sum())
    local t = T { { 1, 2, 3 }, { 4, 5.5, -6 } }
    assert.are.same({ 2, 3 }, t:shape())
    assert.are.equal(-6, t[2][3])
    assert.are.equal(-6, t:get(2, 3))
    assert.are.equal(2, #t)
    assert.are.same({ { 1, 2, 3 }, { 4, 5.5, -6 } }, t:totable())
    assert.are.same({ 1.5, 2.5 }, T.from({ 1.5, 2.5 }):totable())
    assert.has_error(function() T { { 1, 2 }, { 3 } } end)
  end)

  it("views share memory: t[i], slice, select, reshape, permute", function()
    local t = T.from { 1, 2, 3, 4, 5, 6 }
    local m = t:reshape(2, 3)
    m:set(2, 1, 40)
    assert.are.equal(40, t[4])
    local col = m:slice(2, 2, 3)
    assert.are.same({ { 2, 3 }, { 5, 6 } }, col:totable())
    col:fill(0)
    assert.are.same({ 1, 0, 0, 40, 0, 0 }, t:totable())
    local p = m:permute(2, 1)
    assert.are.same({ 3, 2 }, p:shape())
    assert.are.equal(40, p:get(1, 2))
    assert.is_false(p:is_contiguous())
    assert.has_error(function() p:reshape(6) end)
    assert.are.same({ 1, 40, 0, 0, 0, 0 }, p:contiguous():reshape(-1):totable())
    m[1] = 7
    assert.are.same({ 7, 7, 7 }, m[1]:totable())
  end)

  it("does element-wise arithmetic", function()
    local a, b = T.from { 1, 2, 3 }, T.from { 4, 5, 6 }
    assert.are.same({ 5, 7, 9 }, (a + b):totable())
    assert.are.same({ -3, -3, -3 }, (a - b):totable())
    assert.are.same({ 2, 4, 6 }, (2 * a):totable())
    assert.are.same({ 0.5, 1, 1.5 }, (a / 2):totable())
    assert.are.same({ 1, 0.5, 0.25 }, (1 / T.from { 1, 2, 4 }):totable())
    assert.are.same({ -1, -2, -3 }, (-a):totable())
    assert.has_error(function() return a + T { 2 } end)
  end)

  it("draws seeded initialisers with the right spread", function()
    local a = T.randn({ 64, 32, 3, 3 }, 5)
    local b = T.randn({ 64, 32, 3, 3 }, 5)
    assert.are.equal(a:sum(), b:sum())
    local w = T { 64, 32, 3, 3 }
    T.init(w, "kaiming_normal", 1)
    local n, ss = w:numel(), 0
    local flat = w:reshape(-1)
    for i = 1, n do ss = ss + flat[i] ^ 2 end
    -- fan_in = 32 * 9 = 288, gain sqrt(2): var = 2 / 288
    assert.is_true(close(ss / n, 2 / 288, 0.05))
    T.init(w, "xavier_uniform", 1)
    local bound = math.sqrt(6 / (288 + 576))
    assert.is_true(w:max() <= bound and w:min() >= -bound and w:max() > 0.9 * bound)
    T.init(w, "constant", 1, { value = 0.5 })
    assert.are.equal(0.5, w:mean())
  end)

  it("prints aligned like PyTorch", function()
    local s = tostring(T { { 1, -2.5 }, { 30, 4 } })
    assert.are.equal("tensor([[ 1.0000, -2.5000],\n        [30.0000,  4.0000]], shape=(2, 2))", s)
    assert.truthy(tostring(T { 40, 40 }):find("...", 1, true))
  end)
end)

-- a residual block written in Lua
local function basic(cin, cout, stride)
  return nn.block {
    kind = "basic",
    conv1 = nn.conv2d { out = cout, k = 3, stride = stride },
    bn1 = nn.bn {},
    conv2 = nn.conv2d { out = cout, k = 3 },
    bn2 = nn.bn {},
    downsample = (stride ~= 1 or cin ~= cout) and nn.seq { nn.conv2d { out = cout, k = 1, stride = stride }, nn.bn {} } or nil,
    forward = function(self, x)
      local y = self.bn1(self.conv1(x)):relu()
      y = self.bn2(self.conv2(y))
      return (y + (self.downsample and self.downsample(x) or x)):relu()
    end,
  }
end

local function small()
  return nn.block {
    kind = "small",
    stem = nn.conv_bn { out = 4, k = 3, stride = 2 },
    layer1 = nn.seq { basic(4, 4, 1), basic(4, 8, 2) },
    head = nn.linear { out = 3 },
    forward = function(self, x) return self.head(self.layer1(self.stem(x)):gap()) end,
  }
end

describe("det.nn", function()
  it("builds hierarchical parameter names in one slab", function()
    local m = nn.build(small(), { 2, 3, 16, 16 }, { seed = 3 })
    local ps = m:parameters()
    assert.are.equal("stem.conv.weight", ps[1].name)
    local names = {}
    local total = 0
    for _, p in ipairs(ps) do
      names[p.name] = p
      assert.are.equal(total, p.offset)
      total = total + p.count
    end
    assert.truthy(names["layer1.1.downsample.0.weight"])
    assert.truthy(names["layer1.0.bn2.bias"].norm)
    assert.truthy(names["head.bias"].bias)
    assert.are.equal(total, m:params():numel())
    assert.are.equal(total, m:grads():numel())
  end)

  it("names both nodes when shapes disagree", function()
    local net = nn.block {
      backbone = nn.block {
        layer3 = nn.conv2d { out = 256, k = 1 },
        forward = function(self, x) return self.layer3(x) end,
      },
      neck = nn.block {
        lateral3 = nn.conv2d { cin = 128, out = 64, k = 1 },
        forward = function(self, x) return self.lateral3(x) end,
      },
      forward = function(self, x) return self.neck(self.backbone(x)) end,
    }
    local ok, err = pcall(nn.build, net, { 1, 3, 8, 8 })
    assert.is_false(ok)
    assert.are.equal("neck.lateral3 expects 128 input channels, got 256 from backbone.layer3", err)
  end)

  it("runs forward and backward with the numbers of a hand computation", function()
    -- y = w (1x1 conv) x + b, then sum: dL/dw[o][c] = sum_n,hw x[n][c]
    local lin = nn.conv2d { out = 2, k = 1, bias = true }
    local m = nn.build(lin, { 1, 3, 2, 2 })
    m:tensor("weight"):copy(T { { { { 1 } }, { { 2 } }, { { 3 } } }, { { { -1 } }, { { 0 } }, { { 0.5 } } } })
    m:tensor("bias"):copy(T.from { 0.25, -1 })
    local x = T.from { 1, 2, 3, 4, 0, 1, 0, 1, 2, 2, 2, 2 }:reshape(1, 3, 2, 2)
    local y = m:forward(x)
    -- y0 = x0 + 2 x1 + 3 x2 + 0.25, y1 = -x0 + 0.5 x2 - 1
    assert.are.same({ 7.25, 10.25, 9.25, 12.25 }, y[1][1]:reshape(-1):totable())
    assert.are.same({ -1, -2, -3, -4 }, y[1][2]:reshape(-1):totable())
    m:backward(T.full({ 1, 2, 2, 2 }, 1))
    assert.are.same({ 10, 2, 8 }, m:tensor("weight", "grad")[1]:reshape(-1):totable())
    assert.are.same({ 4, 4 }, m:tensor("bias", "grad"):totable())
  end)

  it("matches finite differences through a whole Lua-built model", function()
    local m = nn.build(small(), { 2, 3, 8, 8 }, { seed = 1 })
    local x = T.randn({ 2, 3, 8, 8 }, 2)
    local r = T.randn({ 2, 3 }, 3)
    local function loss()
      local y = m:forward(x)
      local l = 0
      for i = 1, 2 do for j = 1, 3 do l = l + y:get(i, j) * r:get(i, j) end end
      return l
    end
    loss()
    m:backward(r)
    local w, gw = m:tensor("layer1.0.conv1.weight"), m:tensor("layer1.0.conv1.weight", "grad"):clone()
    local flat, gflat = w:reshape(-1), gw:reshape(-1)
    -- the network has ReLUs whose kinks a step of 1e-2 can cross; 1e-3
    -- keeps clear of them while float32 noise stays ~1e-4 of the values
    for _, i in ipairs { 1, 17, 100 } do
      local keep = flat[i]
      flat[i] = keep + 1e-3
      local lp = loss()
      flat[i] = keep - 1e-3
      local lm = loss()
      flat[i] = keep
      local num = (lp - lm) / 2e-3
      assert.is_true(math.abs(num - gflat[i]) <= 1e-2 * math.abs(num) + 1e-3,
        ("element %d: numeric %g analytic %g"):format(i, num, gflat[i]))
    end
  end)

  it("is deterministic for a seed and freezes by prefix", function()
    local a = nn.build(small(), { 2, 3, 8, 8 }, { seed = 7 })
    local b = nn.build(small(), { 2, 3, 8, 8 }, { seed = 7 })
    local x = T.randn({ 2, 3, 8, 8 }, 1)
    local ya, yb = a:forward(x), b:forward(x)
    assert.are.same(ya:totable(), yb:totable())
    assert.are.equal(6, b:freeze("layer1.0"))
    a:backward(ya)
    b:forward(x)
    b:backward(yb)
    assert.are.equal(0, b:tensor("layer1.0.conv1.weight", "grad"):max())
    assert.are_not.equal(0, b:tensor("stem.conv.weight", "grad"):max())
  end)

  it("trains with an optimiser bound to the parameter slab", function()
    local m = nn.build(small(), { 4, 3, 8, 8 }, { seed = 2 })
    local opt = det.optim.sgd { lr = 0.05, momentum = 0.9 }
    m:bind(opt)
    local x, target = T.randn({ 4, 3, 8, 8 }, 5), T.randn({ 4, 3 }, 6)
    local losses = {}
    for step = 1, 8 do
      local y = m:forward(x)
      local dy, l = T { 4, 3 }, 0
      for i = 1, 4 do for j = 1, 3 do
        local d = y:get(i, j) - target:get(i, j)
        dy:set(i, j, d)
        l = l + 0.5 * d * d
      end end
      losses[step] = l
      m:backward(dy)
      opt:step()
    end
    assert.is_true(losses[8] < 0.5 * losses[1], ("loss %g -> %g"):format(losses[1], losses[8]))
    -- frozen after binding: momentum and decay must not move it any more
    m:freeze("stem")
    local before = m:tensor("stem.conv.weight"):clone()
    m:forward(x)
    m:backward(T.full({ 4, 3 }, 1))
    opt:step()
    assert.are.same(before:totable(), m:tensor("stem.conv.weight"):totable())
  end)

  it("writes custom blocks with their own parameters and node arithmetic", function()
    local scaled = nn.block {
      kind = "scaled",
      forward = function(self, x)
        local s = nn.param("scale", { x.shape[2] // 2 }, "constant", { value = 2 })
        local a, b = table.unpack(x:split(2, 2))
        return nn.F.concat({ a * s, b - 1, (a + b):sigmoid() }, 2):mean { 3, 4 }
      end,
    }
    local m = nn.build(scaled, { 1, 4, 2, 2 })
    local y = m:forward(T.full({ 1, 4, 2, 2 }, 1))
    assert.are.same({ 1, 6, 1, 1 }, y:shape())
    -- a * s broadcasts the 2-channel slice against the 4-channel scale: refused
    assert.has_error(function() nn.build(nn.block { forward = function(self, x)
      return x:slice(2, 1, 2) * nn.param("s", { 4 }) end }, { 1, 4, 2, 2 }) end)
  end)

  it("refuses a split that would drop elements and a negative leaky_relu slope", function()
    local function build(f) return nn.build(nn.block { forward = function(self, x) return f(x) end }, { 1, 5, 2, 2 }) end
    -- 5 channels in 2 equal parts used to give two of 2 and drop the fifth
    assert.has_error(function() build(function(x) return x:split(2, 2)[1] end) end)
    assert.has_error(function() build(function(x) return x:split(2, { 2, 2 })[1] end) end)
    local m = build(function(x) local a, b = table.unpack(x:split(2, { 2, 3 })); return b end)
    assert.are.same({ 1, 3, 2, 2 }, m:forward(T.full({ 1, 5, 2, 2 }, 1)):shape())
    -- a negative slope flips the sign of y that the backward reads: refused
    assert.has_error(function() build(function(x) return x:leaky_relu(-0.5) end) end)
    assert.truthy(build(function(x) return x:leaky_relu(0) end))
  end)

  it("says which node made a NaN when checking", function()
    local m = nn.build(nn.block { forward = function(self, x) return (x * 1e30 * 1e30):relu() end }, { 1, 2 })
    assert.truthy(m:forward(T.full({ 1, 2 }, 1)))
    m:check()
    local y, err = m:forward(T.full({ 1, 2 }, 1))
    assert.is_nil(y)
    assert.truthy(err:find("(scale): output has inf at element 0", 1, true), err)
  end)

  it("returns several outputs, keyed as the block returns them", function()
    local fpn = nn.block {
      c3 = nn.conv2d { out = 4, k = 3, stride = 2 },
      c4 = nn.conv2d { out = 8, k = 3, stride = 2 },
      lat3 = nn.conv2d { out = 4, k = 1 },
      lat4 = nn.conv2d { out = 4, k = 1 },
      forward = function(self, x)
        local c3 = self.c3(x)
        local c4 = self.c4(c3)
        local p4 = self.lat4(c4)
        local p3 = self.lat3(c3) + p4:upsample(2, "nearest")
        return { p3 = p3, p4 = p4:resize(2, 2, "bilinear") }
      end,
    }
    local m = nn.build(fpn, { 2, 3, 16, 16 })
    local y = m:forward(T.randn({ 2, 3, 16, 16 }, 1))
    assert.are.same({ 2, 4, 8, 8 }, y.p3:shape())
    assert.are.same({ 2, 4, 2, 2 }, y.p4:shape())
    assert.is_true(m:backward { p3 = y.p3, p4 = y.p4 })
    assert.are_not.equal(0, m:tensor("c3.weight", "grad"):max())
    m:freeze()
    m:forward(T.randn({ 2, 3, 16, 16 }, 1))
    assert.is_true(m:backward { p3 = y.p3, p4 = y.p4 })
  end)

  it("saves and loads parameters by name", function()
    local a = nn.build(small(), { 1, 3, 8, 8 }, { seed = 1 })
    local b = nn.build(small(), { 1, 3, 8, 8 }, { seed = 2 })
    local path = os.tmpname()
    assert.is_true(a:save(path))
    local rep = assert(b:load(path, { strict = true }))
    assert.are.equal(0, rep.missing)
    local x = T.randn({ 1, 3, 8, 8 }, 3)
    a:eval()
    b:eval()
    assert.are.same(a:forward(x):totable(), b:forward(x):totable())
    os.remove(path)
    local ok, err = b:load(path)
    assert.is_nil(ok)
    assert.truthy(err:find("can't open", 1, true))
  end)

  it("shares the weights of a block applied twice", function()
    local net = nn.block {
      head = nn.conv2d { out = 2, k = 1, bias = true },
      forward = function(self, x) return { a = self.head(x), b = self.head(x:maxpool(2)) } end,
    }
    local m = nn.build(net, { 1, 3, 4, 4 })
    assert.are.equal(2, #m:parameters())
    local y = m:forward(T.full({ 1, 3, 4, 4 }, 1))
    m:backward { a = T.full({ 1, 2, 4, 4 }, 1), b = T.full({ 1, 2, 2, 2 }, 1) }
    -- both applications add into the one bias gradient: 16 + 4 positions
    assert.are.same({ 20, 20 }, m:tensor("head.bias", "grad"):totable())
    assert.truthy(nn.summary(net, { 1, 3, 4, 4 }, { quiet = true }):find("\ntotal%s+block%s+%(2 outputs%)%s+8%s"))
  end)

  it("builds torchvision's ResNet-18: same parameter names, count and FLOPs", function()
    local function stage(cin, cout, stride)
      return nn.seq { basic(cin, cout, stride), basic(cout, cout, 1) }
    end
    local resnet18 = nn.block {
      kind = "resnet18",
      conv1 = nn.conv2d { out = 64, k = 7, stride = 2 }, bn1 = nn.bn {},
      layer1 = stage(64, 64, 1), layer2 = stage(64, 128, 2),
      layer3 = stage(128, 256, 2), layer4 = stage(256, 512, 2),
      forward = function(self, x)
        x = self.bn1(self.conv1(x)):relu():maxpool(3, 2, 1)
        return self.layer4(self.layer3(self.layer2(self.layer1(x)))):gap()
      end,
    }
    local m = nn.build(resnet18, { 1, 3, 224, 224 })
    local n, names = 0, {}
    for _, p in ipairs(m:parameters()) do n = n + p.count; names[p.name] = true end
    assert.are.equal(11176512, n) -- torchvision resnet18 without fc
    assert.truthy(names["layer3.0.downsample.1.weight"] and names["layer4.1.bn2.bias"])
    local total = m.rows[#m.rows]
    -- 1.814 GMAC for the convolutions at 224x224 (the usual "1.8 GFLOPs")
    assert.is_true(math.abs(total.flops / 2 / 1.814e9 - 1) < 0.02, tostring(total.flops))
  end)

  it("profiles where the time goes, per op kind", function()
    local m = nn.build(small(), { 2, 3, 16, 16 })
    m:profile()
    local y = m:forward(T.randn({ 2, 3, 16, 16 }, 1))
    m:backward(y)
    local p = m:profile(false)
    local ops = {}
    for _, r in ipairs(p) do ops[r.op] = r end
    assert.are.equal(7, ops.conv2d.nodes)
    assert.is_true(ops.conv2d.forward > 0 and ops.conv2d.backward > 0)
    assert.truthy(tostring(p):find("^op%s+nodes%s+forward ms%s+backward ms\n"))
  end)

  it("prints a summary with shapes, parameters and FLOPs", function()
    local s = nn.summary(small(), { 2, 3, 16, 16 }, { quiet = true })
    assert.truthy(s:find("layer1.1.downsample.0%s+conv2d%s+%(2, 8, 4, 4%)"))
    assert.truthy(s:find("\ntotal%s+small%s+%(2, 3%)"))
    local lines = {}
    for l in s:gmatch("[^\n]+") do lines[#lines + 1] = l end
    for i = 2, #lines do assert.are.equal(#lines[1], #lines[i]) end
  end)
end)
