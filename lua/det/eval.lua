-- det.eval: COCO evaluation with pycocotools' numbers, and the error
-- analysis built on it (TIDE, confusion, PR curves, per-detection outcomes).
-- The work is done in C (src/eval/, bound in src/lua/leval.c); this file is
-- the public face: doc/api/eval.md documents every function.
local core = require "det.core"

local eval = {}

-- det.eval.coco(gt, results) -> result | nil, message
-- gt: a det.dataset or the path of a COCO ground-truth file;
-- results: the path of a COCO results file, or a table of
-- { image_id =, category_id = (or class = 1-based index), bbox = {x, y, w, h}, score = }.
function eval.coco(gt, results)
  if type(gt) ~= "string" and type(gt) ~= "userdata" then
    error("det.eval.coco: gt must be a dataset or a COCO JSON path", 2)
  end
  if type(results) ~= "string" and type(results) ~= "table" then
    error("det.eval.coco: results must be a COCO results path or a table of detections", 2)
  end
  return core.eval.coco(gt, results)
end

-- The names of the 12 numbers, in pycocotools' order.
eval.stat_names = { "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl" }

return eval
