-- det.backbone.cspdarknet: the CSPDarknet backbones of YOLOv5 (v6.0 and
-- later) and YOLOv8 (Jocher et al., Ultralytics), built on the cross-stage
-- partial idea of Wang et al. 2020 ("CSPNet: A New Backbone that can Enhance
-- Learning Capability of CNN"): each stage splits its features, sends one
-- part through a stack of bottlenecks and concatenates it with the other.
--   Conv   = conv (no bias) + BN (eps 1e-3, momentum 0.03) + SiLU
--   v5 C3  : cv3(cat(m(cv1(x)), cv2(x))), m = n bottlenecks (1x1, 3x3, + x)
--   v8 C2f : y0, y1 = split(cv1(x)); y_{i+1} = m_i(y_i); cv2(cat(y0..y_{n+1}))
--            with 3x3, 3x3 bottlenecks
--   SPPF   : cv2(cat(x, m(x), m(m(x)), m(m(m(x))))), m = 5x5 max pool stride 1
-- The layers are Ultralytics' model.0 ... model.9 (parameter names
-- model.2.cv1.conv.weight, model.2.m.0.cv2.bn.bias, ...). Channels are
-- ceil(min(c, max_channels) * width / 8) * 8, bottleneck counts
-- max(round(n * depth), 1). forward(x) returns { c2, c3, c4, c5 } (the
-- outputs of model.2, model.4, model.6 and model.9), keeping those listed in
-- `return`.
local nn = require "det.nn"
local options = require "det.options"
local sequential = require "det.backbone.sequential"

local function conv(cout, k, stride, pad)
  return nn.conv_bn { out = cout, k = k, stride = stride or 1, pad = pad, act = "silu", eps = 1e-3, momentum = 0.03 }
end

-- v5: 1x1 then 3x3 (expansion 1 inside C3); v8: 3x3 then 3x3
local function bottleneck(c, shortcut, k1)
  local b = nn.block { kind = "bottleneck", cv1 = conv(c, k1), cv2 = conv(c, 3) }
  b.add = shortcut
  b.forward = function(self, x)
    local y = self.cv2(self.cv1(x))
    if self.add then y = y + x end
    return y
  end
  return b
end

local function c3(cout, n, shortcut)
  local c_ = cout // 2
  local m = {}
  for i = 1, n do m[i] = bottleneck(c_, shortcut, 1) end
  local b = nn.block { kind = "c3", cv1 = conv(c_, 1), cv2 = conv(c_, 1), cv3 = conv(cout, 1), m = m }
  b.forward = function(self, x)
    local y = self.cv1(x)
    for _, blk in ipairs(self.m) do y = blk(y) end
    return self.cv3(nn.F.concat({ y, self.cv2(x) }, 2))
  end
  return b
end

local function c2f(cout, n, shortcut)
  local c = cout // 2
  local m = {}
  for i = 1, n do m[i] = bottleneck(c, shortcut, 3) end
  local b = nn.block { kind = "c2f", cv1 = conv(2 * c, 1), cv2 = conv(cout, 1), m = m }
  b.forward = function(self, x)
    local ys = nn.F.split(self.cv1(x), 2, 2)
    for _, blk in ipairs(self.m) do ys[#ys + 1] = blk(ys[#ys]) end
    return self.cv2(nn.F.concat(ys, 2))
  end
  return b
end

local function sppf(cin, cout, k)
  local c_ = cin // 2
  local b = nn.block { kind = "sppf", cv1 = conv(c_, 1), cv2 = conv(cout, 1) }
  b.k = k or 5
  b.forward = function(self, x)
    x = self.cv1(x)
    local y1 = x:maxpool(self.k, 1, self.k // 2)
    local y2 = y1:maxpool(self.k, 1, self.k // 2)
    local y3 = y2:maxpool(self.k, 1, self.k // 2)
    return self.cv2(nn.F.concat({ x, y1, y2, y3 }, 2))
  end
  return b
end

local known = { depth = true, width = true, version = true, max_channels = true, ["return"] = true,
  frozen_stages = true }

return function(o)
  o = o or {}
  options.check("det.backbone.cspdarknet", o, known)
  local depth, width = o.depth or 0.33, o.width or 0.5
  local version = o.version or "v5"
  if version ~= "v5" and version ~= "v8" then
    error("det.backbone.cspdarknet: version is \"v5\" or \"v8\", got " .. tostring(version), 2)
  end
  if type(depth) ~= "number" or depth <= 0 or type(width) ~= "number" or width <= 0 then
    error("det.backbone.cspdarknet: depth and width are positive numbers", 2)
  end
  local maxc = o.max_channels or 1024
  local function ch(c) return math.tointeger(math.ceil(math.min(c, maxc) * width / 8) * 8) end
  local function reps(n) return math.max(math.floor(n * depth + 0.5), 1) end
  local csp = version == "v5" and c3 or c2f
  local nblocks = version == "v5" and { 3, 6, 9, 3 } or { 3, 6, 6, 3 }

  local layers = {}
  if version == "v5" then
    layers[1] = conv(ch(64), 6, 2, 2) -- the 6x6 stem that replaced Focus in v6.0
  else
    layers[1] = conv(ch(64), 3, 2)
  end
  local widths = { 128, 256, 512, 1024 }
  for i = 1, 4 do
    layers[#layers + 1] = conv(ch(widths[i]), 3, 2)
    layers[#layers + 1] = csp(ch(widths[i]), reps(nblocks[i]), true)
  end
  layers[#layers + 1] = sppf(ch(1024), ch(1024), 5)

  local all = { c2 = ch(128), c3 = ch(256), c4 = ch(512), c5 = ch(1024) }
  local strides = { c2 = 4, c3 = 8, c4 = 16, c5 = 32 }
  local ret = o["return"] or { "c3", "c4", "c5" }
  local b = nn.block { kind = "cspdarknet_" .. version, model = layers }
  b.channels, b.strides, b.returns = {}, {}, {}
  for _, k in ipairs(ret) do
    if not all[k] then
      error(("det.backbone.cspdarknet: return lists '%s' (expected c2, c3, c4, c5)"):format(tostring(k)), 2)
    end
    b.channels[k], b.strides[k] = all[k], strides[k]
    b.returns[#b.returns + 1] = k
  end
  b.depth, b.width, b.version = depth, width, version
  -- model.i (0-based) whose output is each level
  b.taps = { [3] = "c2", [5] = "c3", [7] = "c4", [10] = "c5" }
  local frozen = o.frozen_stages or 0
  b.frozen = sequential.frozen("model", frozen > 0 and ({ 2, 4, 6, 9 })[math.min(frozen, 4)] or nil)
  sequential.forward(b, "model")
  return b
end
