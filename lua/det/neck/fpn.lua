-- det.neck.fpn: the feature pyramid network (Lin et al. 2017, "Feature
-- Pyramid Networks for Object Detection"): a 1x1 lateral conv per input
-- level, a top-down path (nearest x2 upsampling + add), a 3x3 output conv
-- per level, and optionally RetinaNet/FCOS's P6/P7 (3x3 stride-2 convs on P5
-- or C5, ReLU between). Parameter names follow torchvision's FPN
-- (inner_blocks.i, layer_blocks.i, p6, p7).
local nn = require "det.nn"
local options = require "det.options"

local known = { channels = true, levels = true, p6p7 = true, in_channels = true }

local function conv(cout, k, stride)
  -- torchvision's FPN: kaiming_uniform(a = 1), bias 0
  return nn.conv2d { out = cout, k = k, stride = stride or 1, bias = true,
    init = "kaiming_uniform", init_opts = { gain = 1 } }
end

return function(o)
  o = o or {}
  options.check("det.neck.fpn", o, known)
  local ch = o.channels or 256
  local levels = o.levels or { 3, 4, 5 }
  local p6p7 = o.p6p7 or false
  if p6p7 and p6p7 ~= "p5" and p6p7 ~= "c5" then
    error("det.neck.fpn: p6p7 is false, \"p5\" or \"c5\", got " .. tostring(p6p7), 2)
  end
  for i = 2, #levels do
    if levels[i] ~= levels[i - 1] + 1 then error("det.neck.fpn: levels must be consecutive (e.g. { 3, 4, 5 })", 2) end
  end
  local inner, layer = {}, {}
  for i = 1, #levels do
    inner[i] = conv(ch, 1)
    layer[i] = conv(ch, 3)
  end
  local b = nn.block { kind = "fpn", inner_blocks = inner, layer_blocks = layer }
  b.channels, b.in_levels, b.p6p7 = ch, levels, p6p7
  b.levels, b.strides = {}, {}
  for _, l in ipairs(levels) do b.levels[#b.levels + 1] = l end
  if p6p7 then
    local top = levels[#levels]
    b.p6 = conv(ch, 3, 2); rawset(b.p6, "_name", "p6")
    b.p7 = conv(ch, 3, 2); rawset(b.p7, "_name", "p7")
    b.levels[#b.levels + 1] = top + 1
    b.levels[#b.levels + 1] = top + 2
  end
  for i, l in ipairs(b.levels) do b.strides["p" .. l] = math.tointeger(2 ^ l) end

  -- neck:fit(backbone): nil when the backbone gives every level this neck
  -- reads, else a message naming what is missing
  function b:fit(backbone)
    local chans = backbone.channels or {}
    for _, l in ipairs(self.in_levels) do
      local key = "c" .. l
      if not chans[key] then
        local have = {}
        for k in pairs(chans) do have[#have + 1] = k end
        table.sort(have)
        return ("neck (fpn) reads %s, but the backbone (%s) gives only %s"):format(key,
          tostring(backbone.kind), #have > 0 and table.concat(have, ", ") or "nothing")
      end
      local s = backbone.strides and backbone.strides[key]
      if s and s ~= math.tointeger(2 ^ l) then
        return ("neck (fpn) expects %s at stride %d, the backbone gives stride %d"):format(key, 2 ^ l, s)
      end
    end
  end

  b.forward = function(self, feats)
    local n = #self.in_levels
    local lat = {}
    for i, l in ipairs(self.in_levels) do
      local c = feats["c" .. l]
      if not c then error(("det.neck.fpn: the backbone's output has no c%d"):format(l), 0) end
      lat[i] = self.inner_blocks[i](c)
    end
    local out = {}
    local top = lat[n]
    out[n] = self.layer_blocks[n](top)
    for i = n - 1, 1, -1 do
      local up = top:resize(lat[i].shape[3], lat[i].shape[4], "nearest")
      top = lat[i] + up
      out[i] = self.layer_blocks[i](top)
    end
    local res = {}
    for i, l in ipairs(self.in_levels) do res["p" .. l] = out[i] end
    if self.p6p7 then
      local l5 = self.in_levels[n]
      local src = self.p6p7 == "c5" and feats["c" .. l5] or out[n]
      local p6 = self.p6(src)
      res["p" .. (l5 + 1)] = p6
      res["p" .. (l5 + 2)] = self.p7(p6:relu())
    end
    return res
  end
  return b
end
