-- det.loss: detection loss configurations. Each constructor returns a
-- det.loss object (C userdata over src/det/loss.h) whose fields read and
-- write like a table, print as the constructor call that makes them, and
-- reject unknown keys by name. The trainer calls them through C;
-- loss:compute(pred, target) runs them on Lua arrays. See doc/api/loss.md.
local core = require("det.core").loss

local loss = {}

for _, kind in ipairs(core.kinds) do
  loss[kind] = function(opts)
    local ok, obj = pcall(core.new, kind, opts)
    if not ok then
      error(("det.loss.%s: %s"):format(kind, (tostring(obj):gsub("^[^:]*:%d+: ", ""))), 2)
    end
    return obj
  end
end

-- max(num_pos, 1): the normaliser for "loss per positive".
loss.avg_factor = core.avg_factor

-- Is v a loss configuration?
function loss.is(v)
  if type(v) ~= "userdata" then return false end
  local ok, kind = pcall(function() return v.kind end)
  return ok and type(kind) == "string" and loss[kind] ~= nil
end

return loss
