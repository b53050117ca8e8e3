-- det.neck.bifpn: the bidirectional feature pyramid of EfficientDet (Tan
-- et al. 2020, "EfficientDet: Scalable and Efficient Object Detection"),
-- repeated `repeats` times. Inputs are brought to `channels` by 1x1 conv +
-- BN; levels above the backbone's top (P6, P7) come from it by 3x3 stride-2
-- max pooling (after a 1x1 conv + BN for the first). Each cell runs a
-- top-down then a bottom-up pass; every fusion node is
--   O = BN(pw(dw(swish( sum_i w_i I_i ))))
--   w_i = relu(v_i) / (eps + sum_j relu(v_j)),  eps = 1e-4
-- ("fast normalised fusion", one learnable v per input, initialised to 1),
-- with dw a 3x3 depthwise conv and pw a 1x1 pointwise conv (a
-- depthwise-separable conv). Top-down nodes fuse (P_l, up2(TD_{l+1})),
-- bottom-up nodes (P_l, TD_l, down2(OUT_{l-1})), the top one (P_top,
-- down2(OUT_{top-1})); up2 is nearest resizing, down2 3x3/2 max pooling.
local nn = require "det.nn"
local common = require "det.neck.common"
local F = nn.F

local known = { channels = true, repeats = true, levels = true, eps = true, in_channels = true }

local function conv_bn(cout)
  return nn.block {
    kind = "conv_bn", conv = nn.conv2d { out = cout, k = 1, bias = true }, bn = nn.bn { eps = 1e-3, momentum = 0.01 },
    forward = function(self, x) return self.bn(self.conv(x)) end,
  }
end

-- one fusion node of k inputs
local function fuse(ch, k, eps)
  local b = nn.block {
    kind = "fuse",
    depthwise = nn.conv2d { out = ch, k = 3, groups = 0 },
    pointwise = nn.conv2d { out = ch, k = 1, bias = true },
    bn = nn.bn { eps = 1e-3, momentum = 0.01 },
  }
  b.k, b.eps = k, eps
  b.forward = function(self, xs)
    assert(#xs == self.k, "det.neck.bifpn: fusion node input count")
    local w = nn.param("weight", { self.k }, "ones"):relu()
    local norm = (F.sum(w, { 1 }) + self.eps):reciprocal()
    local wn = w * norm
    local acc
    for i, x in ipairs(xs) do
      local t = x * F.slice(wn, 1, i, i)
      acc = acc and acc + t or t
    end
    return self.bn(self.pointwise(self.depthwise(acc:silu())))
  end
  return b
end

local function to(x, ref)
  if x.shape[3] ~= ref.shape[3] or x.shape[4] ~= ref.shape[4] then
    return x:resize(ref.shape[3], ref.shape[4], "nearest")
  end
  return x
end

return function(o)
  o = o or {}
  common.check_opts("det.neck.bifpn", o, known)
  local ch = o.channels or 64
  local repeats = o.repeats or 3
  local levels = o.levels or { 3, 4, 5 }
  local eps = o.eps or 1e-4
  common.consecutive("det.neck.bifpn", levels)
  if #levels < 2 then error("det.neck.bifpn: at least two levels", 2) end
  if repeats < 1 then error("det.neck.bifpn: repeats >= 1", 2) end
  -- the backbone's levels (up to 5) and the extra ones above
  local in_levels, extra = {}, 0
  for _, l in ipairs(levels) do
    if l <= 5 then in_levels[#in_levels + 1] = l else extra = extra + 1 end
  end
  if #in_levels == 0 then error("det.neck.bifpn: levels must include a backbone level (3, 4 or 5)", 2) end
  local n = #levels
  local lat = {}
  for i = 1, #in_levels do lat[i] = conv_bn(ch) end
  local cells = {}
  for r = 1, repeats do
    local td, bu = {}, {}
    for i = 1, n - 1 do td[i] = fuse(ch, 2, eps) end             -- levels 1 .. n-1
    for i = 1, n - 1 do bu[i] = fuse(ch, i == n - 1 and 2 or 3, eps) end -- levels 2 .. n
    cells[r] = nn.block { kind = "bifpn_cell", td = td, bu = bu }
  end
  local b = nn.block { kind = "bifpn", lateral = lat, cells = cells,
    p6_in = extra > 0 and conv_bn(ch) or nil }
  b.channels, b.repeats, b.in_levels, b.levels, b.strides = ch, repeats, in_levels, {}, {}
  for i, l in ipairs(levels) do
    b.levels[i] = l
    b.strides["p" .. l] = math.tointeger(2 ^ l)
  end

  b.in_channels = o.in_channels
  function b:fit(backbone) return common.fit("bifpn", self.in_levels, backbone, self.in_channels) end

  -- one cell: P (list of n nodes) -> OUT (list of n nodes)
  local function cell(c, P)
    P = { table.unpack(P) }
    local TD = { [n] = P[n] }
    for i = n - 1, 1, -1 do
      TD[i] = c.td[i] { P[i], to(TD[i + 1], P[i]) }
    end
    local OUT = { TD[1] }
    for i = 2, n do
      local d = to(OUT[i - 1]:maxpool(3, 2, 1), P[i])
      OUT[i] = c.bu[i - 1](i == n and { P[i], d } or { P[i], TD[i], d })
    end
    return OUT
  end

  for _, c in ipairs(cells) do c.forward = cell end

  b.forward = function(self, feats)
    local P = {}
    for i, l in ipairs(self.in_levels) do
      local c = feats["c" .. l]
      if not c then error(("det.neck.bifpn: the backbone's output has no c%d"):format(l), 0) end
      P[i] = self.lateral[i](c)
    end
    local top = #self.in_levels
    for i = top + 1, n do
      local src = i == top + 1 and self.p6_in(feats["c" .. self.in_levels[top]]) or P[i - 1]
      P[i] = src:maxpool(3, 2, 1)
    end
    for _, c in ipairs(self.cells) do P = c(P) end
    local res = {}
    for i, l in ipairs(self.levels) do res["p" .. l] = P[i] end
    return res
  end
  return b
end
