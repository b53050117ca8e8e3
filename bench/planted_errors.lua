-- bench/planted_errors.lua: issue 8's acceptance figure. Fashion scenes get
-- planted label errors (det.inspect.plant_errors: 5% of boxes relabelled to
-- another class, 5% deleted; chosen by a hash of (image id, box), so any
-- prefix of the scenes carries the same errors), a small FCOS trains
-- briefly on corrupted scenes, it then predicts on `check` other corrupted
-- scenes (held out, heldout=1; 0 checks the first training scenes
-- instead), with test-time views fused in (tta=1: det.inspect.predict_views
-- at 48 and 56 px, each also mirrored), and the suspect-label ranking
-- (r:suspects{} with the API's defaults) is scored: the share of the
-- planted errors among those scenes that land in the top 10% of the
-- ranking (10% of the number of GT boxes there). Target: >= 70%.
--
--   build/detbench run bench/planted_errors.lua [minutes=7] [seed=2] [classes=all] [images=12000] [check=600]
--
-- The defaults are the measured configuration (bench/README.md: 4 classes,
-- 48 px, 12000 training scenes, 7 minutes, views at 48 and 56 px fused in;
-- about 7.5 minutes in all on 2 cores). save=PREFIX keeps the predictions
-- (PREFIX.dets.json; with tta=1 also PREFIX.plain.dets.json) and the
-- trained weights (PREFIX.weights). load=PREFIX ranks saved predictions
-- again without training (same scene parameters), to compare ranking
-- options: calibrate=1 (per-class calibration), explain=0 (any overlapping
-- prediction is evidence), margin=0 bad_weight=0.3 (the product formula the
-- ranking used before the margin). weights=PREFIX.weights predicts with
-- saved weights instead of training, to compare test-time views (tta=0,
-- sizes="" for the mirror alone) on one model. losses=1 also prints the
-- figure of the ranking fed the detector's per-box losses
-- (exp:gt_losses(check); with weights= too).
--
-- oof=K audits one corrupted set of `images` scenes as a user would audit
-- their own dataset: det.inspect.out_of_fold with K folds, each fold's
-- model trained for minutes/K on the others and predicting its held-out
-- scenes (with the test-time views when tta=1); the ranking runs over all
-- the scenes (`check` is not used).
--
-- Prints the training summary, the ranking's figure and, beside it, the
-- figure the same ranking gets from perfect synthetic predictions (the
-- ceiling on these scenes).
local det = require "det"

local P = det.experiment.params {
  images = 12000, check = 600, size = 48, minutes = 7, steps = 0, batch = 16, lr = 3e-3,
  width = 0.25, fpn = 32, seed = 2, workers = 2, swap = 0.05, delete = 0.05,
  -- scenes a short training can learn: 1-3 garments of 35-60% of the side
  min_objects = 1, max_objects = 3, min_scale = 0.35, max_scale = 0.6,
  classes = "T-shirt/top,Trouser,Sandal,Bag", -- a comma list of names, or "all" (10 classes)
  heldout = 1,           -- 1: train on other scenes than the checked ones; 0: check training scenes
  save = "",             -- a path prefix: write the predictions and corrupted labels there
  load = "",             -- a path prefix: rank saved predictions (no training)
  ema = 0,               -- > 0: predict with an exponential moving average of the weights (decay)
  calibrate = 0,         -- r:suspects{ calibrate = } (1: per-class isotonic calibration)
  margin = 1,            -- r:suspects{ margin = } (0: wrong_class scored s_other * (1 - s_own), as before)
  bad_weight = 0.2,      -- r:suspects{ bad_weight = }
  tta = 1,               -- 1: average the predictions with those on mirrored images (det.inspect.ensemble)
  explain = 1,           -- r:suspects{ explain = } (0: any overlapping prediction is evidence)
  weights = "",          -- a file model:save wrote (save=PREFIX writes PREFIX.weights): predict with it, no training
  sizes = "56",          -- extra input sizes, a comma list ("" none): more test-time views, each also mirrored
  losses = 0,            -- 1: also rank with r:suspects{ losses = exp:gt_losses(check) } (the detector's per-box loss)
  oof = 0,               -- k >= 2: audit one corrupted set of `images` scenes out of fold (det.inspect.out_of_fold, k folds, minutes/k each)
}
-- the ranking's options (r:suspects{}); the defaults are the API's
local ranking = { calibrate = P.calibrate ~= 0, explain = P.explain ~= 0, margin = P.margin ~= 0, bad_weight = P.bad_weight }
local scene = { split = "train", size = P.size, seed = P.seed, min_objects = P.min_objects,
  max_objects = P.max_objects, min_scale = P.min_scale, max_scale = P.max_scale }
if P.classes ~= "all" then
  scene.classes = {}
  for name in P.classes:gmatch("[^,]+") do scene.classes[#scene.classes + 1] = name end
end
local function scenes(n, seed)
  local o = { images = n, seed = seed }
  for k, v in pairs(scene) do if o[k] == nil then o[k] = v end end
  return det.data.fashion(o)
end

-- plants errors in ds; returns the corrupted copy and the planted list
local function plant(ds)
  return det.inspect.plant_errors(ds, { swap = P.swap, delete = P.delete })
end

local function ngt(ds)
  local n = 0
  for i = 1, #ds do n = n + #ds:item(i).boxes end
  return n
end

-- held out: the model trains on other scenes (another seed) than those it
-- checks, as in cross-validation; predictions on scenes it trained on agree
-- with the wrong labels it memorised (P.heldout = 0 checks the training scenes)
local clean = scenes(P.images, P.heldout ~= 0 and P.seed + 1000 or P.seed)
local train = plant(clean)
train:augment { det.aug.hflip { p = 0.5 } }
local check_clean = scenes(P.check, P.seed)
local check, planted = plant(check_clean)
if P.oof >= 2 then
  -- a user's audit: one corrupted dataset, every scene predicted by the fold model that did not train on it
  check_clean = scenes(P.images, P.seed)
  check, planted = plant(check_clean)
end

local function new_model(seed)
  return det.model {
    backbone = det.backbone.resnet { depth = 18, width = P.width, norm = "bn" },
    neck = det.neck.fpn { channels = P.fpn, levels = { 3, 4, 5 } },
    head = det.head.fcos { classes = #clean:classes(), channels = P.fpn, towers = 2, norm = "gn" },
    names = clean:classes(), size = P.size, seed = seed,
  }
end
local function view_sizes()
  local sizes = { P.size }
  for size in P.sizes:gmatch("%d+") do sizes[#sizes + 1] = tonumber(size) end
  return sizes
end
local function settings_for(model, data, val, run_dir, minutes)
  local o = {
    name = "planted-errors", model = model, train = data, val = val,
    ema = P.ema > 0 and { decay = P.ema, warmup = 200 } or nil,
    loss = { cls = det.loss.focal { alpha = 0.25, gamma = 2 }, box = det.loss.giou {} },
    optim = det.optim.adamw { lr = P.lr, weight_decay = 0.05, clip = 10 },
    schedule = det.sched.warmup(det.sched.cosine { min_lr = P.lr * 0.02 }, { steps = 50 }),
    batch = P.batch, size = P.size, workers = P.workers, seed = P.seed,
    run_dir = run_dir,
  }
  if P.steps > 0 then o.steps = P.steps else o.minutes = minutes end
  return o
end

local r, plain, gt_losses
if P.load ~= "" then
  r = assert(det.eval.coco(check, P.load .. ".dets.json"))
  print(string.format("predictions read from %s.dets.json; AP50 on the corrupted labels of the %d checked scenes: %.3f",
    P.load, #check, r.AP50))
elseif P.oof >= 2 then
  local tmp = os.tmpname()
  local t0 = os.time()
  local folds
  r, folds = det.inspect.out_of_fold(check, function(part, f)
    part:augment { det.aug.hflip { p = 0.5 } }
    return det.experiment(settings_for(new_model(P.seed + f), part, nil, tmp .. ".run" .. f, P.minutes / P.oof))
  end, { folds = P.oof, seed = P.seed, predict = { size = P.size }, views = P.tta ~= 0 and { sizes = view_sizes() } or nil })
  local steps = {}
  for _, f in ipairs(folds) do steps[#steps + 1] = tostring(f.steps) end
  os.execute(string.format("rm -rf '%s'.run* '%s'", tmp, tmp))
  print(string.format("out of fold: %d folds of the %d corrupted scenes, %d s, steps %s; AP50 %s: %.3f", P.oof, #check,
    os.time() - t0, table.concat(steps, ", "), P.tta ~= 0 and ("(views " .. table.concat(view_sizes(), ",") .. ", mirrored)") or "",
    r.AP50))
else
  local model = new_model(P.seed)
  local tmp = os.tmpname() -- the run's checkpoints go to tmp.run, removed at the end
  local settings = settings_for(model, train, check, tmp .. ".run", P.minutes)
  if P.weights ~= "" then
    assert(model:load(P.weights))
    if P.losses ~= 0 then gt_losses = det.experiment(settings):gt_losses(check) end
    r = assert(det.eval.coco(check, model:predict(check, { size = P.size }):coco(check)))
    print(string.format("weights read from %s; AP50 on the corrupted labels of the %d checked scenes: %.3f",
      P.weights, #check, r.AP50))
  else
    local exp = det.experiment(settings)
    local t0 = os.time()
    exp:train()
    exp:wait()
    r = exp:predict(check)
    if P.losses ~= 0 then gt_losses = exp:gt_losses(check) end
    print(string.format("trained %d s, %d steps; AP50 on the corrupted labels of the %d checked scenes: %.3f",
      os.time() - t0, exp.step or -1, #check, r.AP50))
    if P.save ~= "" then assert(model:save(P.save .. ".weights")) end
  end
  os.execute(string.format("rm -rf '%s.run' '%s'", tmp, tmp))
  if P.tta ~= 0 then
    plain = r
    local sizes = view_sizes()
    local fused, views = det.inspect.predict_views(model, check, { sizes = sizes })
    r = assert(det.eval.coco(check, fused))
    print(string.format("  with %d views averaged in (test-time augmentation: mirrored, sizes %s): AP50 %.3f", #views,
      table.concat(sizes, ","), r.AP50))
  end
end
if plain then
  -- the same run without the test-time augmentation, for comparison
  local sp = plain:suspects(ranking)
  local rec, f = det.inspect.planted_recall(sp, planted, 0.10, ngt(check))
  print(string.format("  without test-time augmentation: %d of %d = %.1f%% in the top 10%%", f, #planted, 100 * rec))
  if P.save ~= "" then plain:save(P.save .. ".plain.dets.json") end
end

if P.save ~= "" then
  -- the predictions and the corrupted labels, to study the ranking without training again:
  -- det.eval.coco(P.save .. ".check/annotations.json", P.save .. ".dets.json"):suspects{}
  r:save(P.save .. ".dets.json")
  check:export_coco(P.save .. ".check")
end
local s = r:suspects(ranking)
local n = ngt(check)
local recall, found, k = det.inspect.planted_recall(s, planted, 0.10, n)
local by = { swap = { 0, 0 }, delete = { 0, 0 } }
do
  local top = {}
  for i = 1, math.min(k, #s) do top[#top + 1] = s[i] end
  for _, p in ipairs(planted) do
    local one = det.inspect.planted_recall(top, { p }, 1, #top)
    by[p.kind][1] = by[p.kind][1] + one
    by[p.kind][2] = by[p.kind][2] + 1
  end
end

-- the ceiling: perfect predictions of the clean labels
local perfect = {}
for i = 1, #check_clean do
  local it = check_clean:item(i)
  for _, b in ipairs(it.boxes) do
    perfect[#perfect + 1] = { image_id = it.id, class = b.class, score = 0.9, bbox = { b[1], b[2], b[3] - b[1], b[4] - b[2] } }
  end
end
local rp = det.eval.coco(check, perfect)
local ceiling = det.inspect.planted_recall(rp:suspects(ranking), planted, 0.10, n)

print(string.format("planted errors in the top 10%% of the suspect ranking: %d of %d = %.1f%% (target >= 70%%)",
  found, #planted, 100 * recall))
print(string.format("  swapped classes %d/%d, deleted boxes %d/%d; top 10%% = %d suspects of %d GT boxes",
  by.swap[1], by.swap[2], by.delete[1], by.delete[2], k, n))
do
  local reasons = {}
  for i = 1, math.min(k, #s) do reasons[s[i].reason] = (reasons[s[i].reason] or 0) + 1 end
  print(string.format("  reasons in the top 10%%: wrong_class %d, missing_box %d, bad_box %d",
    reasons.wrong_class or 0, reasons.missing_box or 0, reasons.bad_box or 0))
end
print(string.format("  the same ranking with perfect predictions (ceiling): %.1f%%", 100 * ceiling))
if gt_losses then
  local o = {}
  for k, v in pairs(ranking) do o[k] = v end
  o.losses = gt_losses
  local rl, fl = det.inspect.planted_recall(r:suspects(o), planted, 0.10, n)
  print(string.format("  with the detector's per-box losses (r:suspects{ losses = exp:gt_losses(check) }): %d of %d = %.1f%%",
    fl, #planted, 100 * rl))
end
os.exit(recall >= 0.70 and 0 or 1)
