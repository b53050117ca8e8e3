-- det.neck.pan: the path aggregation network of PANet (Liu et al. 2018,
-- "Path Aggregation Network for Instance Segmentation"): an FPN top-down
-- path, then a bottom-up path that carries the fine levels' localisation
-- signal back up in a few layers:
--   L_l = lateral_l(C_l) (1x1);  T_top = L_top,  T_l = L_l + up2(T_{l+1})
--   P_l = fpn_l(T_l) (3x3)
--   N_first = P_first,  N_l = pafpn_l(P_l + down_l(N_{l-1}))  (down: 3x3 s2)
-- Parameter names follow mmdetection's PAFPN (lateral_convs.i,
-- fpn_convs.i, downsample_convs.i, pafpn_convs.i); norm = "bn" adds batch
-- norm after every conv (then the convs have no bias), act = "relu" /
-- "silu" an activation (mmdetection's default is neither).
local nn = require "det.nn"
local common = require "det.neck.common"

local known = { channels = true, levels = true, norm = true, act = true, in_channels = true }

local function conv(cout, k, stride, norm, act)
  local b = nn.block {
    kind = "conv_module",
    conv = nn.conv2d { out = cout, k = k, stride = stride or 1, bias = not norm,
      init = "kaiming_uniform", init_opts = { gain = 1 } },
    bn = norm == "bn" and nn.bn {} or nil,
  }
  b.forward = function(self, x)
    local y = self.conv(x)
    if self.bn then y = self.bn(y) end
    if act then y = nn.F[act](y) end
    return y
  end
  return b
end

return function(o)
  o = o or {}
  common.check_opts("det.neck.pan", o, known)
  local ch = o.channels or 256
  local levels = o.levels or { 3, 4, 5 }
  common.consecutive("det.neck.pan", levels)
  local norm, act = o.norm or false, o.act or false
  if norm and norm ~= "bn" then error("det.neck.pan: norm is \"bn\" or false, got " .. tostring(norm), 2) end
  if act and not nn.F[act] then error("det.neck.pan: act is an activation name or false, got " .. tostring(act), 2) end
  local n = #levels
  local lat, fpn, down, pafpn = {}, {}, {}, {}
  for i = 1, n do
    lat[i] = conv(ch, 1, 1, norm, act)
    fpn[i] = conv(ch, 3, 1, norm, act)
  end
  for i = 1, n - 1 do
    down[i] = conv(ch, 3, 2, norm, act)
    pafpn[i] = conv(ch, 3, 1, norm, act)
  end
  local b = nn.block { kind = "pan", lateral_convs = lat, fpn_convs = fpn,
    downsample_convs = n > 1 and down or nil, pafpn_convs = n > 1 and pafpn or nil }
  b.channels, b.in_levels, b.levels, b.strides = ch, levels, {}, {}
  for i, l in ipairs(levels) do
    b.levels[i] = l
    b.strides["p" .. l] = math.tointeger(2 ^ l)
  end

  b.in_channels = o.in_channels
  function b:fit(backbone) return common.fit("pan", self.in_levels, backbone, self.in_channels) end

  b.forward = function(self, feats)
    local L = {}
    for i, l in ipairs(self.in_levels) do
      local c = feats["c" .. l]
      if not c then error(("det.neck.pan: the backbone's output has no c%d"):format(l), 0) end
      L[i] = self.lateral_convs[i](c)
    end
    -- top-down
    local T = { [n] = L[n] }
    for i = n - 1, 1, -1 do
      T[i] = L[i] + T[i + 1]:resize(L[i].shape[3], L[i].shape[4], "nearest")
    end
    local P = {}
    for i = 1, n do P[i] = self.fpn_convs[i](T[i]) end
    -- bottom-up
    local N = { P[1] }
    for i = 2, n do
      local d = self.downsample_convs[i - 1](N[i - 1])
      if d.shape[3] ~= P[i].shape[3] or d.shape[4] ~= P[i].shape[4] then
        d = d:resize(P[i].shape[3], P[i].shape[4], "nearest") -- odd sizes
      end
      N[i] = self.pafpn_convs[i - 1](P[i] + d)
    end
    local res = {}
    for i, l in ipairs(self.in_levels) do res["p" .. l] = N[i] end
    return res
  end
  return b
end
