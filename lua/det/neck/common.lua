-- det.neck.common: what the necks share — reading the backbone's levels
-- and saying which part does not fit.
local options = require "det.options"
local M = {}

-- nil when backbone gives c<l> at stride 2^l for every l of levels (and,
-- when in_channels is given, as { c3 = n, ... } or a list by level, with
-- those channels), else a message naming the neck, the level and what the
-- backbone gives
function M.fit(kind, levels, backbone, in_channels)
  local chans = backbone.channels or {}
  for i, l in ipairs(levels) do
    local key = "c" .. l
    local want = in_channels and (in_channels[key] or in_channels[i])
    if want and chans[key] and chans[key] ~= want then
      return ("neck (%s) expects %d channels at %s, the backbone (%s) gives %d"):format(kind, want, key,
        tostring(backbone.kind), chans[key])
    end
    if not chans[key] then
      local have = {}
      for k in pairs(chans) do have[#have + 1] = k end
      table.sort(have)
      return ("neck (%s) reads %s, but the backbone (%s) gives only %s"):format(kind, key,
        tostring(backbone.kind), #have > 0 and table.concat(have, ", ") or "nothing")
    end
    local s = backbone.strides and backbone.strides[key]
    if s and s ~= math.tointeger(2 ^ l) then
      return ("neck (%s) expects %s at stride %d, the backbone (%s) gives stride %d"):format(kind, key,
        math.tointeger(2 ^ l), tostring(backbone.kind), s)
    end
  end
end

function M.check_opts(name, o, known)
  options.check(name, o, known, 3)
end

function M.consecutive(name, levels)
  for i = 2, #levels do
    if levels[i] ~= levels[i - 1] + 1 then error(name .. ": levels must be consecutive (e.g. { 3, 4, 5 })", 3) end
  end
end

return M
