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
function M.conv(cout, k, bias, std)
  local b = nn.block { kind = "conv2d", cout = cout, k = k or 3, bias = bias, std = std or 0.01 }
  b.forward = function(self, x)
    local w = nn.param("weight", { self.cout, x.shape[2], self.k, self.k }, "normal", { mean = 0, std = self.std })
    local srcs = { x, w }
    if self.bias then
      srcs[3] = nn.param("bias", { self.cout }, "constant", { value = self.bias }, "bias")
    end
    return x.ctx:op("conv2d", srcs, { stride = 1, pad = self.k // 2, dil = 1, groups = 1 })
  end
  return b
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

-- one learnable scalar "scale" (init 1) multiplying its input
function M.scale()
  local b = nn.block { kind = "scale" }
  b.forward = function(_, x)
    return x * nn.param("scale", { 1 }, "ones")
  end
  return b
end

-- checks the option names of a constructor
function M.check_opts(name, o, known)
  options.check(name, o, known, 3)
end

return M
