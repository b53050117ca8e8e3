-- det.optim: optimisers (SGD, Adam, AdamW, RMSprop) whose hyper-parameters
-- read and write as fields. The objects live in C (src/nn/optim.c through
-- src/lua/loptim.c); this file gives them their public names.
local core = require("det.core").optim

local optim = {}

local function maker(kind)
  return function(cfg)
    if cfg ~= nil and type(cfg) ~= "table" then
      error(("det.optim.%s takes a table of hyper-parameters, got a %s"):format(kind, type(cfg)), 2)
    end
    return core.new(kind, cfg)
  end
end

optim.sgd = maker("sgd")
optim.adam = maker("adam")
optim.adamw = maker("adamw")
optim.rmsprop = maker("rmsprop")

-- det.optim.keys("adam") -> the hyper-parameter names of a kind
optim.keys = core.keys

return optim
