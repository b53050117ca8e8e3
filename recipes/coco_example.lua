-- recipes/coco_example.lua: train on a COCO-format dataset on disk.
--
-- A COCO dataset is a JSON file (images, annotations with [x, y, w, h]
-- boxes, categories) and a folder of images. Point the two parameters at
-- yours; the defaults are a tiny set in the source tree so the recipe runs
-- as it is (from the top of the tree):
--
--   detbench run recipes/coco_example.lua
--   detbench run recipes/coco_example.lua \
--       annotations=coco/annotations/instances_train2017.json images=coco/train2017 \
--       val_annotations=coco/annotations/instances_val2017.json val_images=coco/val2017 \
--       size=512 epochs=12
--
-- Before a long run, `detbench doctor coco/annotations/instances_train2017.json`
-- reports broken records, tiny boxes and class imbalance.
local det = require "det"

local P = det.experiment.params {
  annotations = "tests/data/coco_small/annotations.json",
  images = "tests/data/coco_small",      -- file_name in the JSON is relative to this
  val_annotations = "",                  -- "": evaluate on the training set (a smoke test)
  val_images = "",
  size = 64,                             -- training side; images are letterboxed to it
  batch = 2, epochs = 2, steps = 0, lr = 1e-3, workers = 1, seed = 1,
  width = 0.125, fpn = 16,
  name = "coco-example",
}

local train = det.data.coco { annotations = P.annotations, images = P.images }
local val = train
if P.val_annotations ~= "" then
  val = det.data.coco { annotations = P.val_annotations, images = P.val_images ~= "" and P.val_images or P.images }
end
train:augment { det.aug.hflip { p = 0.5 } }

local names = train:classes()   -- category names, in the file's category order
local model = det.model {
  backbone = det.backbone.resnet { depth = 18, width = P.width },
  neck = det.neck.fpn { channels = P.fpn },
  head = det.head.fcos { classes = #names, channels = P.fpn, towers = 1 },
  names = names, size = P.size, seed = P.seed,
}

local settings = {
  name = P.name, model = model, train = train, val = val,
  optim = det.optim.adamw { lr = P.lr, weight_decay = 0.05 },
  schedule = det.sched.cosine {},
  batch = P.batch, size = P.size, workers = P.workers, seed = P.seed,
  eval_every = { epochs = 1 },
}
if P.steps > 0 then settings.steps = P.steps else settings.epochs = P.epochs end
return det.experiment(settings)
