-- det.backbone.resnet: ResNet-18/34/50 (He et al. 2016) over det.nn, with
-- torchvision's layout and parameter names (conv1, bn1, layer1.0.conv1,
-- layer1.0.downsample.0, ...) so its weights map one to one, a width
-- multiplier, batch or group norm, and frozen early stages. forward(x)
-- returns { c2, c3, c4, c5 } (strides 4, 8, 16, 32), keeping those listed
-- in `return`; block.channels and block.strides say what comes out.
local nn = require "det.nn"
local options = require "det.options"

local specs = {
  [18] = { block = "basic", layers = { 2, 2, 2, 2 } },
  [34] = { block = "basic", layers = { 3, 4, 6, 3 } },
  [50] = { block = "bottleneck", layers = { 3, 4, 6, 3 } },
}

-- The largest group count <= 32 that divides c (GroupNorm needs one).
local function gn_groups(c)
  local g = math.min(32, c)
  while c % g ~= 0 do g = g - 1 end
  return g
end

local function norm_layer(kind, c)
  if kind == "gn" then return nn.gn { groups = gn_groups(c) } end
  return nn.bn {}
end

local function conv(cout, k, stride)
  return nn.conv2d { out = cout, k = k, stride = stride or 1 }
end

-- basic: 3x3 (stride) -> 3x3, identity or 1x1 projection; expansion 1
local function basic(cin, planes, stride, norm)
  local b = nn.block {
    kind = "basic",
    conv1 = conv(planes, 3, stride), bn1 = norm_layer(norm, planes),
    conv2 = conv(planes, 3), bn2 = norm_layer(norm, planes),
  }
  if stride ~= 1 or cin ~= planes then
    b.downsample = nn.seq { conv(planes, 1, stride), norm_layer(norm, planes) }
    rawset(b.downsample, "_name", "downsample")
  end
  b.forward = function(self, x)
    local y = self.bn1(self.conv1(x)):relu()
    y = self.bn2(self.conv2(y))
    return (y + (self.downsample and self.downsample(x) or x)):relu()
  end
  return b, planes
end

-- bottleneck (torchvision's v1.5: the stride on the 3x3): 1x1 -> 3x3 -> 1x1 (x4)
local function bottleneck(cin, planes, stride, norm)
  local cout = planes * 4
  local b = nn.block {
    kind = "bottleneck",
    conv1 = conv(planes, 1), bn1 = norm_layer(norm, planes),
    conv2 = conv(planes, 3, stride), bn2 = norm_layer(norm, planes),
    conv3 = conv(cout, 1), bn3 = norm_layer(norm, cout),
  }
  if stride ~= 1 or cin ~= cout then
    b.downsample = nn.seq { conv(cout, 1, stride), norm_layer(norm, cout) }
    rawset(b.downsample, "_name", "downsample")
  end
  b.forward = function(self, x)
    local y = self.bn1(self.conv1(x)):relu()
    y = self.bn2(self.conv2(y)):relu()
    y = self.bn3(self.conv3(y))
    return (y + (self.downsample and self.downsample(x) or x)):relu()
  end
  return b, cout
end

local known = { depth = true, width = true, norm = true, frozen_stages = true, ["return"] = true }

return function(o)
  o = o or {}
  options.check("det.backbone.resnet", o, known)
  local depth = o.depth or 18
  local spec = specs[depth]
  if not spec then error("det.backbone.resnet: depth is 18, 34 or 50, got " .. tostring(depth), 2) end
  local width = o.width or 1.0
  local norm = o.norm or "bn"
  if norm ~= "bn" and norm ~= "gn" then error("det.backbone.resnet: norm is \"bn\" or \"gn\", got " .. tostring(norm), 2) end
  local frozen = o.frozen_stages or 0
  if frozen < 0 or frozen > 4 then error("det.backbone.resnet: frozen_stages is 0..4, got " .. tostring(frozen), 2) end
  local ret = o["return"] or { "c3", "c4", "c5" }
  local make = spec.block == "basic" and basic or bottleneck

  local stem = math.max(1, math.floor(64 * width + 0.5))
  local b = nn.block {
    kind = "resnet" .. depth,
    conv1 = nn.conv2d { out = stem, k = 7, stride = 2, pad = 3 }, bn1 = norm_layer(norm, stem),
  }
  local channels, strides = {}, {}
  local cin = stem
  for i = 1, 4 do
    local planes = math.max(1, math.floor(64 * 2 ^ (i - 1) * width + 0.5))
    local list = {}
    for j = 1, spec.layers[i] do
      local blk
      blk, cin = make(cin, planes, (j == 1 and i > 1) and 2 or 1, norm)
      list[j] = blk
    end
    local layer = nn.seq(list)
    rawset(layer, "_name", "layer" .. i)
    b["layer" .. i] = layer
    channels["c" .. (i + 1)] = cin
    strides["c" .. (i + 1)] = 2 ^ (i + 1) // 1
  end
  b.channels, b.strides, b.returns = {}, {}, {}
  for _, k in ipairs(ret) do
    if not channels[k] then
      error(("det.backbone.resnet: return lists '%s' (expected c2, c3, c4, c5)"):format(tostring(k)), 2)
    end
    b.channels[k], b.strides[k] = channels[k], math.tointeger(strides[k])
    b.returns[#b.returns + 1] = k
  end
  b.depth, b.width, b.norm, b.frozen_stages = depth, width, norm, frozen
  -- the parameter prefixes det.model freezes: stem and layer1..frozen
  b.frozen = {}
  if frozen >= 1 then
    b.frozen = { "conv1", "bn1" }
    for i = 1, frozen do b.frozen[#b.frozen + 1] = "layer" .. i end
  end
  b.forward = function(self, x)
    x = self.bn1(self.conv1(x)):relu():maxpool(3, 2, 1)
    local c = {}
    for i = 1, 4 do
      x = self["layer" .. i](x)
      c["c" .. (i + 1)] = x
    end
    local out = {}
    for _, k in ipairs(self.returns) do out[k] = c[k] end
    return out
  end
  return b
end
