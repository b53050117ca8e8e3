-- det.ui: the workbench screen from Lua (doc/api/ui.md). The C module
-- (src/lua/lui.c) does the work; this adds the glue to evaluation results.
-- Without a screen the functions return nil and a message.
local core = require "det.core"

local ui = {}
for k, v in pairs(core.ui) do ui[k] = v end

-- det.ui.show_eval(r, ds, {images = 8, min_score = 0.05}) -> n | nil, msg:
-- the samples panel shows the first images of ds with r's detections
-- (r: a det.eval result on ds, e.g. the experiment's latest evaluation)
function ui.show_eval(r, ds, opts)
  opts = opts or {}
  if type(r) == "userdata" then return core.ui.show_result(r, ds, opts) end
  local n = math.min(opts.images or 8, #ds)
  local min_score = opts.min_score or 0.05
  local index, images, dets = {}, {}, {}
  for i = 1, n do
    index[ds:item(i).id] = i
    images[#images + 1] = i
  end
  for _, d in ipairs(r:detections()) do
    local i = index[d.image_id]
    if i and d.score >= min_score then
      local b, list = d.bbox, dets[i] or {}
      list[#list + 1] = { b[1], b[2], b[1] + b[3], b[2] + b[4], class = d.class, score = d.score }
      dets[i] = list
    end
  end
  return core.ui.samples(ds, { images = images, dets = dets })
end

-- det.ui.on_eval(exp, e): an experiment's on_eval callback that shows the
-- evaluation's detections on the validation set. The experiment already
-- does this after every evaluation while the screen is up; this stays for
-- recipes that name it (without a screen it returns nil, message and
-- leaves the evaluation to `detbench run`'s final table)
function ui.on_eval(exp, e)
  local val = exp and exp.val
  if not core.ui.mode() then return core.ui.mode() end
  local r = e and e.result
  if r and val and (type(r) == "userdata" or r.detections) then return ui.show_eval(r, val) end
  return nil, "ui.on_eval: the evaluation carries no detections"
end

return ui
