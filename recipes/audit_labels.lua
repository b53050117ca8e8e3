-- recipes/audit_labels.lua: which ground-truth boxes of a COCO dataset are
-- likely wrong? Every image is predicted by a model that did not train on
-- it (det.inspect.out_of_fold: K folds, one model per fold trained on the
-- others), the boxes those predictions contradict most are ranked
-- (r:suspects{}), the first ones are written as JSON for relabelling, and
-- with fix=PATH a corrected COCO file is written too (the original is never
-- touched). The defaults are a tiny set in the source tree, so the recipe
-- runs as it is (from the top of the tree):
--
--   detbench run recipes/audit_labels.lua
--   detbench run recipes/audit_labels.lua annotations=train.json images=train/ \
--       size=512 minutes=120 folds=2 out=suspects.json fix=train_fixed.json
--   detbench run recipes/audit_labels.lua fashion=3000 size=48 width=0.25 fpn=32 batch=16 lr=3e-3 minutes=7
--
-- fashion=N audits N Fashion scenes with 5% of the labels swapped and 5% of
-- the boxes deleted instead, and prints how many of those the top of the
-- ranking finds. A minutes budget is split between the folds; each fold's
-- checkpoints go to runs/audit-foldK. To look at the suspects one by one
-- in the inspector, open the recipe in the workbench (`detbench
-- recipes/audit_labels.lua ...`, then `r:suspects{ open = true }`; see
-- doc/tutorial.md, "Why is my Shirt AP low?").
local det = require "det"

local P = det.experiment.params {
  annotations = "tests/data/coco_small/annotations.json",
  images = "tests/data/coco_small",   -- file_name in the JSON is relative to this
  fashion = 0,          -- > 0: audit this many Fashion scenes with planted errors instead
  folds = 2,
  size = 64, batch = 2, lr = 1e-3, workers = 1, seed = 1,
  width = 0.125, fpn = 16,
  minutes = 0,          -- > 0: the whole budget, split between the folds
  steps = 0,            -- > 0: steps per fold
  epochs = 2,           -- per fold, when neither minutes nor steps is given
  mirror = 1,           -- 1: fuse each fold model's predictions on the mirrored images too
  top = 0.10,           -- how many suspects to keep: a share of the GT boxes (< 1) or a count
  out = "suspects.json",
  fix = "",             -- a path: also write the dataset with the kept suspects relabelled (COCO)
  name = "audit",
}

local ds, planted
if P.fashion > 0 then
  local clean = det.data.fashion { split = "train", images = P.fashion, size = P.size, seed = P.seed,
    min_objects = 1, max_objects = 3, min_scale = 0.35, max_scale = 0.6 }
  ds, planted = det.inspect.plant_errors(clean, { swap = 0.05, delete = 0.05 })
else
  ds = det.data.coco { annotations = P.annotations, images = P.images }
end
local names = ds:classes()
local ngt = 0
for i = 1, #ds do ngt = ngt + #ds:item(i).boxes end

local t0 = os.time()
local r, folds = det.inspect.out_of_fold(ds, function(part, f)
  part:augment { det.aug.hflip { p = 0.5 } }
  local model = det.model {
    backbone = det.backbone.resnet { depth = 18, width = P.width, norm = "bn" },
    neck = det.neck.fpn { channels = P.fpn, levels = { 3, 4, 5 } },
    head = det.head.fcos { classes = #names, channels = P.fpn, towers = 2, norm = "gn" },
    names = names, size = P.size, seed = P.seed + f,
  }
  local o = {
    name = P.name .. "-fold" .. f, model = model, train = part,
    loss = { cls = det.loss.focal { alpha = 0.25, gamma = 2 }, box = det.loss.giou {} },
    optim = det.optim.adamw { lr = P.lr, weight_decay = 0.05, clip = 10 },
    schedule = det.sched.warmup(det.sched.cosine { min_lr = P.lr * 0.02 }, { steps = 50 }),
    batch = P.batch, size = P.size, workers = P.workers, seed = P.seed,
  }
  if P.minutes > 0 then o.minutes = P.minutes / P.folds
  elseif P.steps > 0 then o.steps = P.steps
  else o.epochs = P.epochs end
  print(string.format("fold %d of %d: training on %d images, predicting %d", f, P.folds, #part, #ds - #part))
  return det.experiment(o)
end, { folds = P.folds, seed = P.seed, predict = { size = P.size },
  views = P.mirror ~= 0 and { sizes = { P.size } } or nil })

local steps = {}
for _, f in ipairs(folds) do steps[#steps + 1] = tostring(f.steps) end
print(string.format("%d folds trained in %d s (steps: %s); AP50 of the out-of-fold predictions on the labels as they are: %.3f",
  P.folds, os.time() - t0, table.concat(steps, ", "), r.AP50))

local keep = P.top < 1 and math.ceil(P.top * ngt) or math.floor(P.top)
local s = r:suspects { top = keep }
print(s)
assert(r:export_suspects(s, P.out))
print(string.format("%d suspects of %d GT boxes written to %s", #s, ngt, P.out))
if P.fix ~= "" then
  local fixed, n = ds:relabel(s, { write = P.fix })
  if not fixed then error(string.format("fix=%s: %s", P.fix, tostring(n)), 0) end
  print(string.format("%s: %d boxes changed or added, %d left for a person (bad_box: no class to give them)",
    P.fix, n.changed, n.skipped))
end
if planted then
  local share, found = det.inspect.planted_recall(s, planted, 1, #s)
  print(string.format("planted errors among them: %d of %d = %.1f%%", found, #planted, 100 * share))
end
-- in the workbench: r (the out-of-fold result) and s (the kept suspects)
_G.r, _G.s, _G.ds = r, s, ds
