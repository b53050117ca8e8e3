-- recipes/voc_example.lua: train on a Pascal VOC dataset on disk.
--
-- VOC keeps one XML file per image (Annotations/), the images
-- (JPEGImages/) and split lists (ImageSets/Main/<split>.txt). Its 20
-- classes are fixed; boxes marked "difficult" are kept but ignored by the
-- evaluation, as VOC's own protocol does. The defaults point at a tiny set
-- in the source tree so the recipe runs as it is (from the top of the tree):
--
--   detbench run recipes/voc_example.lua
--   detbench run recipes/voc_example.lua root=VOCdevkit/VOC2007 size=384 epochs=20
local det = require "det"

local P = det.experiment.params {
  root = "tests/data/voc_small",
  split = "trainval", val_split = "test",
  size = 64, batch = 2, epochs = 2, steps = 0, lr = 1e-3, workers = 1, seed = 1,
  width = 0.125, fpn = 16,
  name = "voc-example",
}

local train = det.data.voc { root = P.root, split = P.split }
local val = det.data.voc { root = P.root, split = P.val_split }
train:augment { det.aug.hflip { p = 0.5 } }

local names = train:classes()
local model = det.model {
  backbone = det.backbone.resnet { depth = 18, width = P.width },
  neck = det.neck.fpn { channels = P.fpn },
  -- RetinaNet, VOC's classic pairing; det.head.fcos works the same way
  head = det.head.retinanet { classes = #names, channels = P.fpn, towers = 1 },
  names = names, size = P.size, seed = P.seed,
}

local settings = {
  name = P.name, model = model, train = train, val = val,
  loss = { cls = det.loss.focal {}, box = det.loss.l1 {} },
  optim = det.optim.sgd { lr = P.lr, momentum = 0.9, weight_decay = 1e-4 },
  schedule = det.sched.warmup(det.sched.multistep { milestones = { 1000, 1500 } }, { steps = 50 }),
  batch = P.batch, size = P.size, workers = P.workers, seed = P.seed,
  eval_every = { epochs = 1 },
}
if P.steps > 0 then settings.steps = P.steps else settings.epochs = P.epochs end
return det.experiment(settings)
