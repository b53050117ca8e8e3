-- det.backbone.sequential: the part MobileNetV2 and CSPDarknet share. Both
-- are one numbered list of layers (torchvision's `features`, YOLOv5's
-- `model`) whose outputs at a few indices are the levels C2..C5, and whose
-- early stages freeze as a prefix of that list.
local sequential = {}

-- Installs b.forward: runs b[field] in order and returns { [key] = output }
-- for the keys in b.returns, where b.taps maps a 1-based layer index to its
-- key ("c3", ...).
function sequential.forward(b, field)
  b.forward = function(self, x)
    local got = {}
    for i, layer in ipairs(self[field]) do
      x = layer(x)
      local key = self.taps[i]
      if key then got[key] = x end
    end
    local out = {}
    for _, k in ipairs(self.returns) do out[k] = got[k] end
    return out
  end
end

-- The parameter prefixes "<field>.0" .. "<field>.<upto>" that det.model
-- freezes (none when upto is nil).
function sequential.frozen(field, upto)
  local list = {}
  for i = 0, upto or -1 do list[#list + 1] = field .. "." .. i end
  return list
end

return sequential
