-- det.head.common: pieces the dense heads share — a conv with the heads'
-- initialisation (N(0, 0.01²) weights, a constant bias), a tower of
-- conv3x3 + norm + ReLU, and the per-level learnable scale (FCOS).
local options = require "det.options"
local nn = require "det.nn"

local M = {}

-- The largest group count <= 32 that divides c.
function M.gn_groups(c)
  local g = math.min(32, c)
  while c % g ~= 0 do g = g - 1 end
  return g
end

-- conv2d with weights N(0, std²) and, when bias is a number, a bias of that
-- value (RetinaNet's and FCOS's init; the classifier's bias is the prior's
-- logit -log((1 - pi) / pi), Lin et al. 2017).
-- Called as conv(x, "params") it makes (or finds) its parameters for input
-- x and returns { weight = node, bias = node or nil } without convolving,
-- for a caller that runs several such convs on one input as one (M.stack).
function M.conv(cout, k, bias, std)
  local b = nn.block { kind = "conv2d", cout = cout, k = k or 3, bias = bias, std = std or 0.01 }
  b.forward = function(self, x, want)
    local w = nn.param("weight", { self.cout, x.shape[2], self.k, self.k }, "normal", { mean = 0, std = self.std })
    local srcs = { x, w }
    if self.bias then
      srcs[3] = nn.param("bias", { self.cout }, "constant", { value = self.bias }, "bias")
    end
    if want == "params" then return { weight = w, bias = srcs[3] } end
    return x.ctx:op("conv2d", srcs, { stride = 1, pad = self.k // 2, dil = 1, groups = 1 })
  end
  return b
end

-- Several M.conv blocks of one kernel size applied to one input, run as one
-- convolution with their weights (and biases) stacked along the output
-- channels, then sliced apart: the same sums, but the input is read (and,
-- in the backward, turned into the weight gradient's columns) once instead
-- of once per conv, which is most of what a conv with a handful of output
-- channels costs. M.stack(params, k) stacks the { weight, bias } tables
-- the convs return for conv(x, "params") (all with a bias, or none) once;
-- M.fused(x, stacked, couts, name) convolves and returns one output per
-- conv, couts[i] channels each.
function M.stack(params, k)
  local ws, bs = {}, {}
  for i, p in ipairs(params) do
    ws[i], bs[i] = p.weight, p.bias
  end
  return { weight = nn.F.concat(ws, 1), bias = #bs == #ws and nn.F.concat(bs, 1) or nil, k = k }
end

function M.fused(x, stacked, couts, name)
  local y = x.ctx:op("conv2d", { x, stacked.weight, stacked.bias },
    { stride = 1, pad = stacked.k // 2, dil = 1, groups = 1 }, name)
  local out, at = {}, 1
  for i, c in ipairs(couts) do
    out[i] = nn.F.slice(y, 2, at, at + c - 1)
    at = at + c
  end
  return out
end

-- n x (conv3x3 + norm + ReLU); norm "gn", "bn" or false (then the conv has a bias)
function M.tower(n, channels, norm)
  local list = {}
  for i = 1, n do
    local b = nn.block {
      kind = "tower",
      conv = M.conv(channels, 3, (not norm) and 0 or nil),
      norm = norm == "gn" and nn.gn { groups = M.gn_groups(channels) } or norm == "bn" and nn.bn {} or nil,
    }
    b.forward = function(self, x)
      local y = self.conv(x)
      if self.norm then y = self.norm(y) end
      return y:relu()
    end
    list[i] = b
  end
  if n == 0 then
    return nn.block { kind = "identity", forward = function(_, x) return x end }
  end
  return nn.seq(list)
end

-- one learnable scalar "scale" (init 1) multiplying its input; scale(x,
-- "params") only makes (or finds) the parameter and returns it
function M.scale()
  local b = nn.block { kind = "scale" }
  b.forward = function(_, x, want)
    local s = nn.param("scale", { 1 }, "ones")
    if want == "params" then return s end
    return x * s
  end
  return b
end

-- checks the option names of a constructor
function M.check_opts(name, o, known)
  options.check(name, o, known, 3)
end

return M
