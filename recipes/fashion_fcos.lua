-- recipes/fashion_fcos.lua: the demo. An FCOS detector (a narrow ResNet-18,
-- an FPN on C3-C5, FCOS head with GroupNorm towers) learns to find the ten
-- Fashion-MNIST garments in composited 128x128 scenes, in 10 minutes on
-- 2 CPU cores.
--
--   detbench recipes/fashion_fcos.lua        the workbench; then recipe:train()
--   detbench run recipes/fashion_fcos.lua    headless, progress line, final table
--   detbench run recipes/fashion_fcos.lua minutes=2 val_images=100
--
-- Every name in P below can be overridden as key=value after the recipe on
-- the command line (or in $DETBENCH_PARAMS), so a quick try does not need
-- an edited copy. Why these numbers: see doc/tutorial.md, "Training the
-- demo and reading its numbers".
local det = require "det"

local P = det.experiment.params {
  train_images = 8000,   -- scenes are rendered on the fly: more images cost nothing up front
  val_images = 500,
  size = 128,            -- scene side in pixels
  width = 0.25,          -- ResNet-18 channel multiplier (16, 32, 64, 128 channels)
  fpn = 64,              -- FPN and head channels
  towers = 2,            -- conv + GN + ReLU layers in each head tower
  batch = 16,
  lr = 2e-3,             -- AdamW
  weight_decay = 0.05,
  minutes = 10,          -- the wall-clock budget
  steps = 0,             -- > 0: stop after this many steps instead
  warmup = 100,
  eval_minutes = 2.5,    -- evaluate on the val scenes every so often
  workers = 2,
  seed = 1,
  name = "fashion-fcos",
}

local train = det.data.fashion { split = "train", images = P.train_images, size = P.size, seed = P.seed }
local val = det.data.fashion { split = "test", images = P.val_images, size = P.size, seed = P.seed + 1 }
train:augment { det.aug.hflip { p = 0.5 } }

local model = det.model {
  backbone = det.backbone.resnet { depth = 18, width = P.width, norm = "bn" },
  neck = det.neck.fpn { channels = P.fpn, levels = { 3, 4, 5 } },
  head = det.head.fcos { classes = 10, channels = P.fpn, towers = P.towers, norm = "gn" },
  names = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" },
  size = P.size,
  seed = P.seed,
}

local budget = P.steps > 0 and { steps = P.steps } or { minutes = P.minutes }
local settings = {
  name = P.name, model = model, train = train, val = val,
  loss = { cls = det.loss.focal { alpha = 0.25, gamma = 2 }, box = det.loss.giou {} },
  optim = det.optim.adamw { lr = P.lr, weight_decay = P.weight_decay, clip = 10 },
  -- cosine over the planned steps (a budget in minutes plans from the
  -- measured speed, so the cosine is laid over what fits), after a warm-up
  schedule = det.sched.warmup(det.sched.cosine { min_lr = P.lr * 0.02 }, { steps = P.warmup }),
  batch = P.batch, size = P.size, workers = P.workers, seed = P.seed,
  eval_every = { minutes = P.eval_minutes },
  log_every = 5,
}
for k, v in pairs(budget) do settings[k] = v end
local exp = det.experiment(settings)

if not det.experiment.headless then
  print(("recipe: %s; recipe:train() starts it, recipe:pause(), recipe.optim.lr = x, recipe:eval()"):format(tostring(exp)))
end
return exp
