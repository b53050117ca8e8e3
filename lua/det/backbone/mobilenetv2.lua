-- det.backbone.mobilenetv2: MobileNetV2 (Sandler et al. 2018, "MobileNetV2:
-- Inverted Residuals and Linear Bottlenecks") over det.nn, in torchvision's
-- layout and parameter names (features.0.0 conv, features.0.1 bn,
-- features.N.conv.K ..., features.18) so its weights map one to one. An
-- inverted residual expands with a 1x1 conv (t x), filters with a 3x3
-- depthwise conv (stride s), and projects back with a linear 1x1 conv; the
-- skip is added when s = 1 and the channels match. Activations are ReLU6.
-- forward(x) returns { c2, c3, c4, c5 } at strides 4, 8, 16, 32 (features
-- 3, 6, 13 and 18, i.e. 24, 32, 96 and 1280 channels at width 1), keeping
-- those listed in `return`.
local nn = require "det.nn"
local options = require "det.options"
local sequential = require "det.backbone.sequential"

-- torchvision's _make_divisible: round to a multiple of 8, never below 90%
local function divisible(v, d)
  d = d or 8
  local n = math.max(d, (math.floor(v + d / 2) // d) * d)
  if n < 0.9 * v then n = n + d end
  return math.tointeger(n)
end

-- conv + bn + relu6: torchvision's Conv2dNormActivation (children 0, 1)
local function cbr(cout, k, stride, groups, norm, act)
  local s = nn.seq {
    nn.conv2d { out = cout, k = k, stride = stride or 1, groups = groups or 1 },
    norm == "gn" and nn.gn { groups = math.min(32, cout) } or nn.bn {},
  }
  s.kind = "conv_bn_relu6"
  s.forward = function(self, x)
    local y = self[2](self[1](x))
    if act ~= false then y = y:relu6() end
    return y
  end
  return s
end

-- t: expansion, s: stride
local function inverted(cin, cout, stride, t, norm)
  local hidden = math.tointeger(math.floor(cin * t + 0.5))
  local list = {}
  if t ~= 1 then list[#list + 1] = cbr(hidden, 1, 1, 1, norm) end
  list[#list + 1] = cbr(hidden, 3, stride, hidden, norm)
  list[#list + 1] = nn.conv2d { out = cout, k = 1 }
  list[#list + 1] = norm == "gn" and nn.gn { groups = math.min(32, cout) } or nn.bn {}
  local b = nn.block { kind = "inverted_residual", conv = nn.seq(list) }
  b.skip = stride == 1 and cin == cout
  b.forward = function(self, x)
    local y = self.conv(x)
    if self.skip then y = y + x end
    return y
  end
  return b
end

-- t, c, n, s of the paper's Table 2
local settings = {
  { 1, 16, 1, 1 }, { 6, 24, 2, 2 }, { 6, 32, 3, 2 }, { 6, 64, 4, 2 },
  { 6, 96, 3, 1 }, { 6, 160, 3, 2 }, { 6, 320, 1, 1 },
}

local known = { width = true, norm = true, ["return"] = true, frozen_stages = true, last = true }

return function(o)
  o = o or {}
  options.check("det.backbone.mobilenetv2", o, known)
  local width = o.width or 1.0
  if type(width) ~= "number" or width <= 0 then
    error("det.backbone.mobilenetv2: width is a positive number, got " .. tostring(width), 2)
  end
  local norm = o.norm or "bn"
  if norm ~= "bn" and norm ~= "gn" then
    error("det.backbone.mobilenetv2: norm is \"bn\" or \"gn\", got " .. tostring(norm), 2)
  end
  local last = o.last ~= false -- features.18 (the 1x1 conv to 1280) is C5; false: features.17 (320)
  local ret = o["return"] or { "c3", "c4", "c5" }

  local features = {}
  local cin = divisible(32 * width)
  features[1] = cbr(cin, 3, 2, 1, norm)
  local channels, taps = {}, {}
  local stride = 2
  for _, st in ipairs(settings) do
    local t, c, n, s = st[1], st[2], st[3], st[4]
    local cout = divisible(c * width)
    for i = 1, n do
      -- before a stride-2 stage starts, the last feature is that stride's output
      if i == 1 and s == 2 then
        local key = ({ [2] = "c1", [4] = "c2", [8] = "c3", [16] = "c4" })[stride]
        if key then channels[key], taps[#features] = cin, key end
        stride = stride * 2
      end
      features[#features + 1] = inverted(cin, cout, i == 1 and s or 1, t, norm)
      cin = cout
    end
  end
  if last then
    local lc = divisible(1280 * math.max(1.0, width))
    features[#features + 1] = cbr(lc, 1, 1, 1, norm)
    cin = lc
  end
  channels.c5, taps[#features] = cin, "c5"

  local b = nn.block { kind = "mobilenetv2", features = features }
  b.channels, b.strides, b.returns = {}, {}, {}
  local strides = { c2 = 4, c3 = 8, c4 = 16, c5 = 32 }
  for _, k in ipairs(ret) do
    if not strides[k] then
      error(("det.backbone.mobilenetv2: return lists '%s' (expected c2, c3, c4, c5)"):format(tostring(k)), 2)
    end
    b.channels[k], b.strides[k] = channels[k], strides[k]
    b.returns[#b.returns + 1] = k
  end
  b.width, b.norm, b.taps = width, norm, taps
  -- frozen_stages = k freezes features.0 up to the end of the stride-2^k stage
  local frozen = o.frozen_stages or 0
  b.frozen = sequential.frozen("features", frozen > 0 and ({ 1, 3, 6, 13, #features - 1 })[math.min(frozen, 5)] or nil)
  sequential.forward(b, "features")
  return b
end
