-- recipes/yolo_example.lua: train on a dataset in the YOLO (Ultralytics)
-- layout: images/ and labels/ side by side, one text file per image with
-- "class cx cy w h" lines normalised to [0, 1], and a data YAML naming the
-- splits and classes. The defaults point at a tiny set in the source tree
-- so the recipe runs as it is (from the top of the tree):
--
--   detbench run recipes/yolo_example.lua
--   detbench run recipes/yolo_example.lua data=datasets/coco128/coco128.yaml size=320 epochs=50
--
-- An image without a label file has no objects (YOLO's convention); the
-- reader counts such images and `detbench doctor` lists them.
local det = require "det"

local P = det.experiment.params {
  data = "tests/data/yolo_small/data.yaml",
  split = "train", val_split = "val",
  size = 64, batch = 2, epochs = 2, steps = 0, lr = 1e-3, workers = 1, seed = 1,
  width = 0.125, fpn = 16,
  name = "yolo-example",
}

local train = det.data.yolo { data = P.data, split = P.split }
local val = det.data.yolo { data = P.data, split = P.val_split }
train:augment { det.aug.hflip { p = 0.5 } }

local names = train:classes()
local model = det.model {
  backbone = det.backbone.resnet { depth = 18, width = P.width },
  neck = det.neck.fpn { channels = P.fpn },
  head = det.head.fcos { classes = #names, channels = P.fpn, towers = 1 },
  names = names, size = P.size, seed = P.seed,
}

local settings = {
  name = P.name, model = model, train = train, val = val,
  optim = det.optim.adamw { lr = P.lr, weight_decay = 0.05 },
  -- a Lua function of (step, epoch) works as a schedule too: it is
  -- tabulated on the main thread before training starts
  schedule = function(step, epoch) return P.lr * math.min(1, (step + 1) / 20) end,
  batch = P.batch, size = P.size, workers = P.workers, seed = P.seed,
  eval_every = { epochs = 1 },
}
if P.steps > 0 then settings.steps = P.steps else settings.epochs = P.epochs end
return det.experiment(settings)
