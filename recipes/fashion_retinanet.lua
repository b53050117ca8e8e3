-- recipes/fashion_retinanet.lua: the demo's scenes with RetinaNet (Lin et
-- al. 2017): 9 anchors per position, max-IoU assignment (0.5 / 0.4), focal
-- loss on the classes and L1 on the anchor deltas, no quality branch.
-- Compare its curve with fashion_fcos.lua's (the same backbone and FPN):
--
--   detbench run recipes/fashion_retinanet.lua
--   detbench run recipes/fashion_retinanet.lua minutes=3 val_images=200
--
-- Every name in P can be overridden as key=value on the command line.
local det = require "det"

local P = det.experiment.params {
  train_images = 8000, val_images = 500, size = 128,
  width = 0.25, fpn = 64, towers = 2, batch = 16,
  lr = 2e-3, weight_decay = 0.05, minutes = 10, steps = 0, warmup = 100,
  eval_minutes = 2.5, workers = 2, seed = 1, name = "fashion-retinanet",
}

local train = det.data.fashion { split = "train", images = P.train_images, size = P.size, seed = P.seed }
local val = det.data.fashion { split = "test", images = P.val_images, size = P.size, seed = P.seed + 1 }
train:augment { det.aug.hflip { p = 0.5 } }

local model = det.model {
  backbone = det.backbone.resnet { depth = 18, width = P.width },
  neck = det.neck.fpn { channels = P.fpn, levels = { 3, 4, 5 } },
  -- anchors: 3 ratios x 3 scales of the level's base size (32, 64, 128 px
  -- on P3-P5); Fashion items are 20-64 px at 128, so P3 and P4 do most work
  head = det.head.retinanet { classes = 10, channels = P.fpn, towers = P.towers, norm = "gn" },
  names = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" },
  size = P.size, seed = P.seed,
}

local settings = {
  name = P.name, model = model, train = train, val = val,
  loss = { cls = det.loss.focal { alpha = 0.25, gamma = 2 }, box = det.loss.l1 {} },
  optim = det.optim.adamw { lr = P.lr, weight_decay = P.weight_decay, clip = 10 },
  schedule = det.sched.warmup(det.sched.cosine { min_lr = P.lr * 0.02 }, { steps = P.warmup }),
  batch = P.batch, size = P.size, workers = P.workers, seed = P.seed,
  eval_every = { minutes = P.eval_minutes }, log_every = 5,
}
if P.steps > 0 then settings.steps = P.steps else settings.minutes = P.minutes end
return det.experiment(settings)
