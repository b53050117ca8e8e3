-- det.head.fcos: the FCOS head (Tian et al. 2019, "FCOS: Fully Convolutional
-- One-Stage Object Detection"): two towers (classification, regression) of
-- conv3x3 + GN/BN + ReLU shared across the pyramid levels, a classifier
-- whose bias starts at the prior's logit (pi = 0.01, Lin et al. 2017), a
-- regression conv whose output each level multiplies by its own learnable
-- scale (distances = exp(s_l x) * stride), and a quality branch (centerness,
-- or the IoU as in Zhang et al. 2020's ATSS/GFL variants) on the
-- regression tower. Names follow mmdetection's FCOSHead (cls_convs,
-- reg_convs, conv_cls, conv_reg, conv_centerness, scales.i.scale).
local nn = require "det.nn"
local common = require "det.head.common"

local known = { classes = true, towers = true, channels = true, norm = true, quality = true,
  assigner = true, center_sampling = true, strides = true, prior = true, ranges = true,
  atss_topk = true, in_channels = true }

return function(o)
  o = o or {}
  common.check_opts("det.head.fcos", o, known)
  local classes = o.classes
  if type(classes) ~= "number" or classes < 1 or classes % 1 ~= 0 then
    error("det.head.fcos: classes (a positive integer) is required, got " .. tostring(classes), 2)
  end
  local towers = o.towers or 4
  local ch = o.channels or 256
  local norm = o.norm == nil and "gn" or o.norm
  if norm ~= "gn" and norm ~= "bn" and norm ~= false then
    error("det.head.fcos: norm is \"gn\", \"bn\" or false, got " .. tostring(norm), 2)
  end
  local quality = o.quality == nil and "centerness" or o.quality
  if quality ~= "centerness" and quality ~= "iou" and quality ~= false and quality ~= "none" then
    error("det.head.fcos: quality is \"centerness\", \"iou\" or false, got " .. tostring(quality), 2)
  end
  if quality == "none" then quality = false end
  local assigner = o.assigner or "fcos"
  if assigner ~= "fcos" and assigner ~= "atss" then
    error("det.head.fcos: assigner is \"fcos\" or \"atss\", got " .. tostring(assigner), 2)
  end
  local prior = o.prior or 0.01
  local b = nn.block {
    kind = "fcos_head",
    cls_convs = common.tower(towers, ch, norm),
    reg_convs = common.tower(towers, ch, norm),
    conv_cls = common.conv(classes, 3, -math.log((1 - prior) / prior)),
    conv_reg = common.conv(4, 3, 0),
    conv_centerness = quality and common.conv(1, 3, 0) or nil,
    -- conv_reg and conv_centerness run as one conv under this name (a row
    -- of the summary with their FLOPs; their parameters keep their names)
    reg_quality = quality and nn.block {
      kind = "conv2d",
      forward = function(_, r, stacked, couts) return common.fused(r, stacked, couts) end,
    } or nil,
  }
  b.head = "fcos"
  b.classes, b.channels, b.anchors = classes, ch, 1
  b.in_channels = o.in_channels
  b.quality, b.assigner = quality, assigner
  b.center_sampling = o.center_sampling or 1.5
  -- run conv_reg and conv_centerness as one conv (same results; b.fuse =
  -- false runs them apart, for comparisons)
  b.fuse = true
  b.atss_topk = o.atss_topk or 9
  b.strides, b.ranges = o.strides, o.ranges

  -- det.model calls this with the neck's levels before building: one
  -- learnable scale per level
  function b:setup(levels)
    self.levels = levels
    local scales = {}
    for i = 1, #levels do
      scales[i] = common.scale()
      rawset(scales[i], "_name", "scales." .. (i - 1))
    end
    self.scales = scales
  end

  -- FCOS's regression ranges: (-1, 64), (64, 128), ... by level, the last open
  function b:level_ranges()
    if self.ranges then return self.ranges end
    local r, n = {}, #self.levels
    for i = 1, n do
      local lo = i == 1 and -1 or 64 * 2 ^ (i - 2)
      local hi = i == n and math.huge or 64 * 2 ^ (i - 1)
      r[i] = { lo, hi }
    end
    return r
  end

  b.forward = function(self, pyr)
    assert(self.levels, "det.head.fcos: use it inside det.model (it needs the neck's levels)")
    local out, stacked = {}, nil
    for i, l in ipairs(self.levels) do
      local p = pyr["p" .. l]
      if not p then error(("det.head.fcos: the neck gives no p%d"):format(l), 0) end
      local c = self.cls_convs(p)
      local r = self.reg_convs(p)
      local cls, box, quality = self.conv_cls(c), nil, nil
      if self.conv_centerness and self.fuse then
        -- conv_reg and conv_centerness both read r: one (4 + 1)-channel
        -- conv. Their parameters are made in the order the separate convs
        -- made them (conv_reg, the level's scale, conv_centerness): a
        -- parameter's initial values depend on its place in that order.
        if not stacked then
          local pr = self.conv_reg(r, "params")
          self.scales[i](r, "params")
          stacked = common.stack({ pr, self.conv_centerness(r, "params") }, self.conv_reg.k)
        end
        local y = self.reg_quality(r, stacked, { self.conv_reg.cout, self.conv_centerness.cout })
        box, quality = self.scales[i](y[1]), y[2]
      else
        box = self.scales[i](self.conv_reg(r))
        quality = self.conv_centerness and self.conv_centerness(r) or nil
      end
      out[i] = { level = l, stride = math.tointeger(2 ^ l), cls = cls, box = box, quality = quality }
    end
    return out
  end
  return b
end
