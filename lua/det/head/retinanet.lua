-- det.head.retinanet: the RetinaNet head (Lin et al. 2017, "Focal Loss for
-- Dense Object Detection"): two towers of conv3x3 + ReLU (no norm by
-- default) shared across levels, A = #ratios x #scales anchors per
-- position, a classifier with A*C outputs whose bias starts at the prior's
-- logit (pi = 0.01) and a regressor with A*4 box deltas (torchvision's
-- BoxCoder). Anchors as torchvision's AnchorGenerator: for size s, scale k
-- and ratio r (= h/w), w = s k / sqrt(r), h = s k sqrt(r), centred on
-- ((x + 1/2) stride, (y + 1/2) stride). Names follow mmdetection
-- (cls_convs, reg_convs, retina_cls, retina_reg).
local nn = require "det.nn"
local common = require "det.head.common"

local known = { classes = true, towers = true, channels = true, norm = true, sizes = true,
  ratios = true, scales = true, assigner = true, prior = true, pos_iou = true, neg_iou = true,
  atss_topk = true, in_channels = true }

return function(o)
  o = o or {}
  common.check_opts("det.head.retinanet", o, known)
  local classes = o.classes
  if type(classes) ~= "number" or classes < 1 or classes % 1 ~= 0 then
    error("det.head.retinanet: classes (a positive integer) is required, got " .. tostring(classes), 2)
  end
  local ratios = o.ratios or { 0.5, 1.0, 2.0 }
  local scales = o.scales or { 1.0, 2 ^ (1 / 3), 2 ^ (2 / 3) }
  local A = #ratios * #scales
  if A > 16 then error("det.head.retinanet: at most 16 anchors per position (#ratios x #scales)", 2) end
  local ch = o.channels or 256
  local norm = o.norm or false
  local assigner = o.assigner or "maxiou"
  if assigner ~= "maxiou" and assigner ~= "atss" then
    error("det.head.retinanet: assigner is \"maxiou\" or \"atss\", got " .. tostring(assigner), 2)
  end
  local prior = o.prior or 0.01
  local b = nn.block {
    kind = "retinanet_head",
    cls_convs = common.tower(o.towers or 4, ch, norm),
    reg_convs = common.tower(o.towers or 4, ch, norm),
    retina_cls = common.conv(A * classes, 3, -math.log((1 - prior) / prior)),
    retina_reg = common.conv(A * 4, 3, 0),
  }
  b.head = "retinanet"
  b.classes, b.channels, b.anchors = classes, ch, A
  b.in_channels = o.in_channels
  b.ratios, b.scales, b.sizes = ratios, scales, o.sizes
  b.assigner = assigner
  b.pos_iou, b.neg_iou, b.atss_topk = o.pos_iou or 0.5, o.neg_iou or 0.4, o.atss_topk or 9

  function b:setup(levels)
    self.levels = levels
    if self.sizes and #self.sizes ~= #levels then
      error(("det.head.retinanet: sizes lists %d anchor sizes for %d pyramid levels"):format(#self.sizes, #levels), 0)
    end
  end

  -- the (A, 4) base anchors of level i, flat, centred at 0
  function b:base_anchors(i)
    local l = self.levels[i]
    local size = self.sizes and self.sizes[i] or 4 * 2 ^ l -- 32 at P3 ... 512 at P7
    local t = {}
    for _, r in ipairs(self.ratios) do
      local hr = math.sqrt(r)
      for _, k in ipairs(self.scales) do
        local w, h = size * k / hr, size * k * hr
        t[#t + 1] = -w / 2; t[#t + 1] = -h / 2; t[#t + 1] = w / 2; t[#t + 1] = h / 2
      end
    end
    return t
  end

  b.forward = function(self, pyr)
    assert(self.levels, "det.head.retinanet: use it inside det.model (it needs the neck's levels)")
    local out = {}
    for i, l in ipairs(self.levels) do
      local p = pyr["p" .. l]
      if not p then error(("det.head.retinanet: the neck gives no p%d"):format(l), 0) end
      out[i] = { level = l, stride = math.tointeger(2 ^ l),
        cls = self.retina_cls(self.cls_convs(p)), box = self.retina_reg(self.reg_convs(p)) }
    end
    return out
  end
  return b
end
