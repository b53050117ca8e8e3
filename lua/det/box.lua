-- det.box: the IoU family and NMS on Lua tables of boxes {x0, y0, x1, y1}
-- (corner form), over src/det/box.h and src/det/nms.h. See doc/api/box.md.
local core = require("det.core").box

local box = {}

-- Calls f, re-raising its error at the caller's line as "det.box.<name>: ...".
local function call(name, f, ...)
  local res = table.pack(pcall(f, ...))
  if not res[1] then
    local msg = tostring(res[2]):gsub("^[^:]*:%d+: ", "")
    error(("det.box.%s: %s"):format(name, msg), 3)
  end
  return table.unpack(res, 2, res.n)
end

for _, kind in ipairs { "iou", "giou", "diou", "ciou" } do
  -- a, b: one box or an array of boxes. Two boxes give a number, otherwise
  -- an #a x #b matrix (array of rows).
  box[kind] = function(a, b)
    return call(kind, core.iou, a, b, kind)
  end
end

-- keep, kept_scores = det.box.nms(boxes, scores, iou, opts)
function box.nms(boxes, scores, iou, opts)
  return call("nms", core.nms, boxes, scores, iou, opts)
end

return box
