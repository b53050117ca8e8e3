-- det.head.yolo: the decoupled anchor-free head of YOLOv8 (Jocher et al.,
-- Ultralytics 2023): per pyramid level (weights not shared across levels) a
-- box branch cv2.i = Conv3x3 -> Conv3x3 -> conv1x1(4 (R + 1)) and a class
-- branch cv3.i = Conv3x3 -> Conv3x3 -> conv1x1(C), Conv = conv + BN +
-- SiLU. With reg_max = R > 0 the box branch gives, per side, logits of a
-- distribution over the distances 0, 1, ..., R strides; the distance is its
-- expectation, sum_k k softmax(z)_k, trained with the distribution focal
-- loss (Li et al. 2020, "Generalized Focal Loss"). With R = 0 it gives the 4
-- side distances' logits t directly (distance exp(t) * stride, as FCOS).
-- Biases start as Ultralytics' Detect.bias_init: box 1, class
-- log(5 / C / (640 / s)^2). The assigner is the task-aligned one (TOOD,
-- Feng et al. 2021): topk 10, alpha 0.5, beta 6 as YOLOv8.
local nn = require "det.nn"
local common = require "det.head.common"

local known = { classes = true, reg_max = true, channels = true, cls_channels = true, assigner = true,
  in_channels = true, strides = true, topk = true, alpha = true, beta = true, image_size = true }

local function conv(cout)
  return nn.conv_bn { out = cout, k = 3, act = "silu", eps = 1e-3, momentum = 0.03 }
end

local function branch(mid, cout, bias)
  local pred = common.conv(cout, 1, bias)
  local s = nn.seq { conv(mid), conv(mid), pred }
  s.kind = "yolo_branch"
  s.bias0 = bias
  return s
end

return function(o)
  o = o or {}
  common.check_opts("det.head.yolo", o, known)
  local classes = o.classes
  if type(classes) ~= "number" or classes < 1 or classes % 1 ~= 0 then
    error("det.head.yolo: classes (a positive integer) is required, got " .. tostring(classes), 2)
  end
  local reg_max = o.reg_max or 16
  if type(reg_max) ~= "number" or reg_max < 0 or reg_max % 1 ~= 0 or reg_max > 64 then
    error("det.head.yolo: reg_max is 0 (direct distances) or the largest distance bin (16), got " .. tostring(reg_max), 2)
  end
  local assigner = o.assigner or "tal"
  if assigner ~= "tal" then error("det.head.yolo: assigner is \"tal\", got " .. tostring(assigner), 2) end
  local b = nn.block { kind = "yolo_head" }
  b.head = "yolo"
  b.classes, b.anchors, b.reg_max, b.assigner = classes, 1, math.tointeger(reg_max), assigner
  b.box_channels = 4 * (math.tointeger(reg_max) + 1)
  b.channels, b.cls_channels = o.channels, o.cls_channels
  b.in_channels, b.strides = o.in_channels, o.strides
  b.topk, b.alpha, b.beta = o.topk or 10, o.alpha or 0.5, o.beta or 6.0
  b.image_size = o.image_size or 640

  -- det.model calls this with the neck's levels
  function b:setup(levels)
    self.levels = levels
    self.cv2, self.cv3 = nil, nil
  end

  -- one box and one class branch per level (YOLOv8 does not share them),
  -- made on the first forward when the input channels are known: widths
  -- max(16, cin / 4, 4 (R + 1)) and max(cin, min(C, 100)) unless given
  function b:make(cin)
    local levels = self.levels
    local c2 = self.channels or math.max(16, cin // 4, self.box_channels)
    local c3 = self.cls_channels or math.max(cin, math.min(self.classes, 100))
    local cv2, cv3 = {}, {}
    for i, l in ipairs(levels) do
      local s = 2 ^ l
      cv2[i] = branch(c2, self.box_channels, 1.0)
      cv3[i] = branch(c3, self.classes, math.log(5 / self.classes / (self.image_size / s) ^ 2))
      rawset(cv2[i], "_name", "cv2." .. (i - 1))
      rawset(cv3[i], "_name", "cv3." .. (i - 1))
    end
    self.cv2, self.cv3 = cv2, cv3
  end

  b.forward = function(self, pyr)
    assert(self.levels, "det.head.yolo: use it inside det.model (it needs the neck's levels)")
    local out = {}
    for i, l in ipairs(self.levels) do
      local p = pyr["p" .. l]
      if not p then error(("det.head.yolo: the neck gives no p%d"):format(l), 0) end
      if not self.cv2 then self:make(p.shape[2]) end
      out[i] = { level = l, stride = math.tointeger(2 ^ l), cls = self.cv3[i](p), box = self.cv2[i](p) }
    end
    return out
  end
  return b
end
