-- det.inspect: the failure inspector. Adds to every evaluation result
-- (det.eval.coco, exp:eval()) the methods r:failures{}, r:summary{},
-- r:confusion_map{}, r:hardest{}, r:suspects{}, r:export_suspects(), r:attach(ds),
-- and to datasets ds:drop(list) / ds:relabel(list). The counting is done in
-- C (src/eval/failures.c, src/eval/suspect.c, bound in src/lua/linspect.c);
-- doc/api/inspect.md documents every function.
local core = require "det.core"
local eval = require "det.eval"

local inspect = {}

local methods = debug.getregistry()["det.eval.result"].methods

-- The dataset each result was evaluated on (weak keys: results die freely).
local datasets = setmetatable({}, { __mode = "k" })

-- det.eval.coco remembers its dataset so r:failures{} can show the images.
local coco = eval.coco
function eval.coco(gt, results)
  local r, err = coco(gt, results)
  if r and type(gt) == "userdata" then datasets[r] = gt end
  return r, err
end

-- Results made by an experiment (exp:eval() on its val set, exp:predict(ds))
-- remember their dataset too. det.experiment is wrapped, not edited.
do
  local ok, experiment = pcall(require, "det.experiment")
  local Exp = ok and type(experiment) == "table" and experiment.Experiment
  local mt = ok and getmetatable(experiment)
  if Exp and mt and mt.__call then
    local vals = setmetatable({}, { __mode = "k" })
    local new, ev, predict = mt.__call, Exp.eval, Exp.predict
    mt.__call = function(m, o)
      local e = new(m, o)
      if type(o) == "table" then vals[e] = o.val end
      return e
    end
    function Exp.eval(self, ...)
      local r = ev(self, ...)
      if r and vals[self] then datasets[r] = vals[self] end
      return r
    end
    function Exp.predict(self, ds, ...)
      local r = predict(self, ds, ...)
      if r then datasets[r] = ds end
      return r
    end
  end
end

-- r:attach(ds) -> r: the dataset whose images the inspector shows.
function methods.attach(r, ds)
  datasets[r] = ds
  return r
end

-- r:dataset() -> the attached dataset or nil
function methods.dataset(r)
  return datasets[r]
end

-- image id -> 1-based dataset index, cached per dataset
local index_cache = setmetatable({}, { __mode = "k" })
local function image_index(ds, id)
  if not ds then return nil end
  local map = index_cache[ds]
  if not map then
    map = {}
    for i = 1, #ds do map[ds:item(i).id] = i end
    index_cache[ds] = map
  end
  return map[id]
end

local function add_image_index(r, list, opts)
  local ds = (opts and opts.dataset) or datasets[r]
  if ds then
    for _, it in ipairs(list) do it.image = image_index(ds, it.image_id) end
  end
  return ds
end

-- a list that prints as an aligned table at the prompt
local function listing(list, header, row)
  return setmetatable(list, { __tostring = function(l)
    local out = { header }
    for i, it in ipairs(l) do
      out[#out + 1] = row(i, it)
      if i >= 40 and #l > 41 then
        out[#out + 1] = string.format("... %d more", #l - i)
        break
      end
    end
    if #l == 0 then out[#out + 1] = "(none)" end
    return table.concat(out, "\n")
  end })
end

local function fmt_box(b)
  return string.format("%.0f,%.0f %.0fx%.0f", b[1], b[2], b[3], b[4])
end

local function fail_row(i, it)
  return string.format("%4d  %6s  %-12s %-4s %-2s %5.2f %5.2f  %-14s %s", i, tostring(it.image or it.image_id),
    it.class, it.kind, it.side, it.score, it.iou, it.confused_with or "-", fmt_box(it.bbox))
end
local fail_header = string.format("%4s  %6s  %-12s %-4s %-2s %5s %5s  %-14s %s", "#", "image", "class", "kind",
  "", "score", "IoU", "confused with", "box")

-- shows r:failures' list in the inspector, titled by its class and kind
local function open_panel(list, ds, opts)
  local title = (opts.class and tostring(opts.class) or "all classes") .. (opts.kind and (" " .. opts.kind) or "")
  return core.inspect.open(list, ds, { title = title, export = opts.export })
end

-- r:failures{ class =, kind = "fp"|"fn"|"cls"|"loc"|"both"|"dupe"|"bkg"|"miss",
--   sort = "score"|"iou"|"size", min_score =, size = "small"|"medium"|"large",
--   dataset =, open = true } -> list of failures (opens the inspector on the screen)
function methods.failures(r, opts)
  opts = opts or {}
  local list = r:_failures_list(opts)
  local ds = add_image_index(r, list, opts)
  listing(list, fail_header, fail_row)
  if opts.open ~= false then open_panel(list, ds, opts) end
  return list
end

-- r:summary{ sort = "AP"|"Cls"|...|"Miss"|"small"|"medium"|"large"|"confused"|"class" }
--   -> rows (prints as an aligned table)
function methods.summary(r, opts)
  local rows, text = r:_summary_table(opts or {})
  return setmetatable(rows, { __tostring = function() return (text:gsub("\n$", "")) end })
end

-- the n images whose GT boxes cost the most in all: losses holds one
-- number per GT box in r:ground_truth() order (exp:gt_losses(ds)); NaN
-- entries (boxes no location was assigned to) count 0; each image keeps
-- its error counts
local function hardest_by_loss(r, opts)
  local gts, losses = r:ground_truth(), opts.losses
  if type(losses) ~= "table" or #losses ~= #gts then
    error(string.format("r:hardest{ losses = }: expected one number per GT box (%d, in r:ground_truth() order, "
      .. "e.g. exp:gt_losses(ds)), got %s", #gts, type(losses) == "table" and #losses .. " numbers" or type(losses)), 3)
  end
  local by, order = {}, {}
  for i, g in ipairs(gts) do
    local v = losses[i]
    if type(v) ~= "number" then
      error(string.format("r:hardest{ losses = }: entry %d is a %s, expected a number", i, type(v)), 3)
    end
    local it = by[g.image_id]
    if not it then
      it = { image_id = g.image_id, loss = 0, errors = 0, fp = 0, fn = 0 }
      by[g.image_id] = it
      order[#order + 1] = it
    end
    if v == v then it.loss = it.loss + v end
  end
  for _, e in ipairs(r:_hardest_list { n = math.maxinteger, min_score = opts.min_score }) do
    local it = by[e.image_id]
    if it then it.errors, it.fp, it.fn = e.errors, e.fp, e.fn end
  end
  table.sort(order, function(a, b)
    if a.loss ~= b.loss then return a.loss > b.loss end
    return a.image_id < b.image_id
  end)
  local list = {}
  for i = 1, math.min(opts.n or 10, #order) do list[i] = order[i] end
  return list
end

-- r:hardest{ n = 10, min_score = 0.3, losses = nil, open = false }
--   -> { {image_id, image, errors, fp, fn, loss} ... }: by number of errors,
-- or with losses (one per GT box, exp:gt_losses(ds)) by the summed loss of
-- each image's boxes; open = true shows those images' failures in the
-- inspector, hardest first
function methods.hardest(r, opts)
  opts = opts or {}
  local list = opts.losses and hardest_by_loss(r, opts) or r:_hardest_list(opts)
  local ds = add_image_index(r, list, opts)
  if opts.open then
    -- the failures of those images, hardest image first
    local rank = {}
    for i, it in ipairs(list) do rank[it.image_id] = i end
    local items = {}
    for _, f in ipairs(r:failures{ open = false, min_score = opts.min_score or 0.3, dataset = ds }) do
      if rank[f.image_id] then items[#items + 1] = f end
    end
    table.sort(items, function(a, b)
      if rank[a.image_id] ~= rank[b.image_id] then return rank[a.image_id] < rank[b.image_id] end
      return a.score > b.score
    end)
    core.inspect.open(items, ds, { title = "hardest images", export = opts.export })
  end
  if opts.losses then
    return listing(list, string.format("%4s  %8s  %8s  %6s  %4s  %4s", "#", "image", "loss", "errors", "fp", "fn"),
      function(i, it)
        return string.format("%4d  %8s  %8.4g  %6d  %4d  %4d", i, tostring(it.image or it.image_id), it.loss,
          it.errors, it.fp, it.fn)
      end)
  end
  return listing(list, string.format("%4s  %8s  %6s  %4s  %4s", "#", "image", "errors", "fp", "fn"),
    function(i, it)
      return string.format("%4d  %8s  %6d  %4d  %4d", i, tostring(it.image or it.image_id), it.errors, it.fp, it.fn)
    end)
end

-- r:suspects{ top =, min_score =, wrong_iou =, missing_iou =, fit_iou =,
--   bad_weight =, margin =, calibrate =, explain =, losses = } -> ranked list of { image_id, image, box, class,
--   reason, score, suggested, gt, gt_id, det, iou }
function methods.suspects(r, opts)
  opts = opts or {}
  local list = r:_suspects_list(opts)
  local ds = add_image_index(r, list, opts)
  if opts.open then core.inspect.open(list, ds, { title = "suspect labels", export = opts.export }) end
  return listing(list, string.format("%4s  %6s  %-12s %-11s %5s  %-12s %s", "#", "image", "class", "reason",
    "score", "suggested", "box"),
    function(i, it)
      return string.format("%4d  %6s  %-12s %-11s %5.2f  %-12s %s", i, tostring(it.image or it.image_id), it.class,
        it.reason, it.score, it.suggested or "-", fmt_box(it.box))
    end)
end

-- r:confusion_map{ conf = 0.25, iou = 0.5, ascii = false } -> text (a heat map)
function methods.confusion_map(r, opts)
  return setmetatable({ text = r:_heatmap(opts or {}) }, { __tostring = function(t) return (t.text:gsub("\n$", "")) end })
end

-- det.inspect.open(list, ds, { title =, export = }) -> shown: shows a list
-- of failures or suspects in the inspector panel (focused, over the layout).
-- Without a screen (detbench run, a stock lua5.4) it only keeps the list for
-- det.inspect.marks() and returns false.
function inspect.open(list, ds, opts)
  return core.inspect.open(list, ds, opts or {})
end

-- det.inspect.marks() -> the items marked (m) in the inspector, in list order
function inspect.marks()
  return core.inspect.marks()
end

-- det.inspect.export_marks(path) -> true | nil, message (atomic JSON)
function inspect.export_marks(path)
  return core.inspect.export(path)
end

-- IoU of two COCO boxes {x, y, w, h}
local function iou(a, b)
  local ix = math.min(a[1] + a[3], b[1] + b[3]) - math.max(a[1], b[1])
  local iy = math.min(a[2] + a[4], b[2] + b[4]) - math.max(a[2], b[2])
  if ix <= 0 or iy <= 0 then return 0 end
  local inter = ix * iy
  return inter / (a[3] * a[4] + b[3] * b[4] - inter)
end

-- det.inspect.planted_recall(suspects, planted, fraction, n) -> share of the
-- planted errors found among the first ceil(fraction * n) suspects.
-- planted: { { image_id =, box = {x,y,w,h} } ... }; a suspect finds one when
-- it is in the same image with IoU >= 0.5.
function inspect.planted_recall(suspects, planted, fraction, n)
  local k = math.ceil(fraction * n)
  local found = 0
  local byimg = {}
  for i = 1, math.min(k, #suspects) do
    local s = suspects[i]
    byimg[s.image_id] = byimg[s.image_id] or {}
    table.insert(byimg[s.image_id], s.box)
  end
  for _, p in ipairs(planted) do
    for _, b in ipairs(byimg[p.image_id] or {}) do
      if iou(b, p.box) >= 0.5 then found = found + 1; break end
    end
  end
  return #planted > 0 and found / #planted or 0, found, k
end

-- det.inspect.ensemble(lists, { iou = 0.55, names }) -> one list of detection
-- records { image_id, class, score, bbox = {x, y, w, h} } fused from M
-- lists of such records (r:detections(), whose class is a name: give
-- names = ds:classes(); or `class` 1-based; or COCO `category_id`), as
-- weighted boxes fusion does (Solovyev et al.
-- 2021): per image and class, boxes by score, each joins the first cluster
-- whose fused box it overlaps with IoU >= iou (one box per list per
-- cluster), a cluster's score is sum of its scores / M (a list that has
-- no box there counts 0) and its box the score-weighted mean.
function inspect.ensemble(lists, opts)
  opts = opts or {}
  local thr = opts.iou or 0.55
  local M = #lists
  if M == 0 then error("det.inspect.ensemble: no lists", 2) end
  local index = {}
  for k, name in ipairs(opts.names or {}) do index[name] = k end
  local groups, order = {}, {}
  for m, list in ipairs(lists) do
    for _, d in ipairs(list) do
      local cls, cat = d.class, nil
      if type(cls) == "string" then
        cls = index[cls]
        if not cls then
          error(("det.inspect.ensemble: class '%s' by name: give names = ds:classes()"):format(d.class), 2)
        end
      elseif cls == nil then
        cat = d.category_id
      end
      local key = tostring(d.image_id) .. (cls and "/" .. cls or "/c" .. tostring(cat))
      if not groups[key] then groups[key] = {}; order[#order + 1] = key end
      local g = groups[key]
      g[#g + 1] = { m = m, score = d.score, bbox = d.bbox, image_id = d.image_id, class = cls, category_id = cat }
    end
  end
  local out = {}
  for _, key in ipairs(order) do
    local g = groups[key]
    table.sort(g, function(a, b)
      if a.score ~= b.score then return a.score > b.score end
      return a.m < b.m
    end)
    local clusters = {}
    for _, d in ipairs(g) do
      local home
      for _, c in ipairs(clusters) do
        if not c.from[d.m] and iou(c.box, d.bbox) >= thr then home = c; break end
      end
      if not home then
        home = { from = {}, sum = 0, acc = { 0, 0, 0, 0 }, first = d }
        clusters[#clusters + 1] = home
      end
      home.from[d.m] = true
      home.sum = home.sum + d.score
      for k = 1, 4 do home.acc[k] = home.acc[k] + d.score * d.bbox[k] end
      home.box = { home.acc[1] / home.sum, home.acc[2] / home.sum, home.acc[3] / home.sum, home.acc[4] / home.sum }
    end
    for _, c in ipairs(clusters) do
      out[#out + 1] = { image_id = c.first.image_id, class = c.first.class, category_id = c.first.category_id,
        score = c.sum / M, bbox = c.box }
    end
  end
  return out
end

-- det.inspect.predict_mirrored(model, ds, { batch = 16, size = model.size,
-- detector = }) -> detection records of ds's images mirrored left-right,
-- mapped back to the original images (x -> width - x): the second view of
-- a test-time augmentation, for det.inspect.ensemble.
function inspect.predict_mirrored(model, ds, opts)
  opts = opts or {}
  local aug = require "det.aug"
  local batch, size = opts.batch or 16, opts.size or model.size
  local d = opts.detector or model:detector {}
  local copy = ds:drop({})
  copy:augment { aug.hflip { p = 1 } }
  local m = model:graph { batch = batch, size = size, train = false }
  local ld = copy:loader { batch = batch, size = size, workers = 1, letterbox = true }
  local out = {}
  repeat
    local res, last = d:predict(m.graph, ld)
    if not res then ld:close(); error("det.inspect.predict_mirrored: " .. tostring(last), 2) end
    for _, im in ipairs(res) do
      local it = ds:item(im.index)
      for _, e in ipairs(im.dets) do
        local x0, x1 = it.width - e[3], it.width - e[1]
        out[#out + 1] = { image_id = it.id, class = e.class, score = e.score, bbox = { x0, e[2], x1 - x0, e[4] - e[2] } }
      end
    end
  until last
  ld:close()
  return out
end

-- det.inspect.predict_views(model, ds, { sizes = { model.size }, mirror = true,
-- batch = 16, detector =, iou = 0.55 }) -> fused records, views: the
-- model's detections on ds at each input size, each also mirrored
-- (predict_mirrored), fused by det.inspect.ensemble (weighted boxes fusion);
-- views is the list of the separate views' records, in that order.
function inspect.predict_views(model, ds, opts)
  opts = opts or {}
  local sizes = opts.sizes or { model.size }
  if type(sizes) ~= "table" or #sizes == 0 then error("det.inspect.predict_views: sizes must be a list of input sizes", 2) end
  local views = {}
  for _, size in ipairs(sizes) do
    views[#views + 1] = model:predict(ds, { size = size, batch = opts.batch or 16, detector = opts.detector }):coco(ds)
    if opts.mirror ~= false then
      views[#views + 1] = inspect.predict_mirrored(model, ds, { size = size, batch = opts.batch, detector = opts.detector })
    end
  end
  return inspect.ensemble(views, { iou = opts.iou, names = ds:classes() }), views
end

-- splitmix64 of the integer pair (a, b) -> [0, 1): draws that depend only
-- on their arguments (the same on every machine, whatever math.random was
-- seeded with), for plant_errors' choices and folds' shuffle
local function hash01(a, b)
  local x = a * 0x9E3779B97F4A7C15 + b * 0xBF58476D1CE4E5B9
  x = (x ~ (x >> 30)) * 0xBF58476D1CE4E5B9
  x = (x ~ (x >> 27)) * 0x94D049BB133111EB
  x = x ~ (x >> 31)
  return ((x >> 11) & 0x1fffffffffffff) / 2.0 ^ 53
end

-- det.inspect.folds(ds, k, { seed = 1 }) -> { { train =, held =, images = }, ... }:
-- the images of ds dealt into k folds (sizes differ by at most one) in an
-- order shuffled by seed; fold f's `held` is its images (ds:subset, in
-- dataset order, indices in `images`) and `train` all the others.
function inspect.folds(ds, k, opts)
  opts = opts or {}
  local n = #ds
  k = math.tointeger(k)
  if not k or k < 2 then error("det.inspect.folds: k must be an integer >= 2", 2) end
  if n < k then error(string.format("det.inspect.folds: %d images cannot make %d folds", n, k), 2) end
  -- Fisher-Yates driven by splitmix64 of (seed, step): the same folds on
  -- every machine, whatever math.random was seeded with
  local seed = math.tointeger(opts.seed or 1) or error("det.inspect.folds: seed must be an integer", 2)
  local function draw(j) return hash01(seed, j) end
  local order = {}
  for i = 1, n do order[i] = i end
  for i = n, 2, -1 do
    local j = 1 + math.floor(draw(i) * i)
    order[i], order[j] = order[j], order[i]
  end
  local fold_of = {}
  for p, i in ipairs(order) do fold_of[i] = (p - 1) % k + 1 end
  local folds = {}
  for f = 1, k do
    local held, train = {}, {}
    for i = 1, n do
      if fold_of[i] == f then held[#held + 1] = i else train[#train + 1] = i end
    end
    folds[f] = { images = held, held = ds:subset(held), train = ds:subset(train) }
  end
  return folds
end

-- det.inspect.out_of_fold(ds, make, { folds = 2, seed = 1, predict =, views = }) ->
-- result, folds: every image of ds predicted by a model that did not train
-- on it. For each fold, make(train, f) returns a det.experiment (not
-- started) that trains on `train`; it runs to its end (exp:train(),
-- exp:wait()) and its model predicts the fold's held-out images
-- (model:predict with the options in `predict`; with views = { sizes =,
-- mirror = }: det.inspect.predict_views). result is a
-- det.eval.result of all the predictions against ds, ready for
-- r:suspects{}; folds as det.inspect.folds gives them, each also with
-- `steps` (the steps its experiment ran) and `detections` (their count).
function inspect.out_of_fold(ds, make, opts)
  opts = opts or {}
  if type(make) ~= "function" then error("det.inspect.out_of_fold: make must be a function (train, fold) -> det.experiment", 2) end
  local experiment = require "det.experiment"
  local folds = inspect.folds(ds, opts.folds or 2, { seed = opts.seed })
  local dets = {}
  for f, fold in ipairs(folds) do
    local exp = make(fold.train, f)
    if not experiment.is(exp) then
      error(string.format("det.inspect.out_of_fold: make(train, %d) returned %s, expected a det.experiment", f, type(exp)), 2)
    end
    local ok, err = pcall(exp.train, exp)
    if ok then ok, err = exp:wait() end
    if not ok then
      error(string.format("det.inspect.out_of_fold: fold %d: %s", f, (tostring(err):gsub("^[^:]*:%d+: ", ""))), 2)
    end
    local recs
    if opts.views then
      local v = {}
      for key, x in pairs(opts.views) do v[key] = x end
      recs = inspect.predict_views(exp.model, fold.held, v)
    else
      recs = exp.model:predict(fold.held, opts.predict or {}):coco(fold.held)
    end
    for _, d in ipairs(recs) do dets[#dets + 1] = d end
    fold.steps, fold.detections = exp.step, #recs
  end
  return eval.coco(ds, dets), folds
end

-- det.inspect.plant_errors(ds, { swap = 0.05, delete = 0.05 }) -> corrupted
-- copy, planted list: relabels a share `swap` of the GT boxes to another
-- class and drops a share `delete`, each box chosen by a hash of (image id,
-- box number), so any prefix of a generated dataset carries the same
-- errors. planted: { { image_id, box = {x, y, w, h}, kind = "swap" |
-- "delete", class, relabel } } for det.inspect.planted_recall.
function inspect.plant_errors(ds, opts)
  opts = opts or {}
  local pswap, pdel = opts.swap or 0.05, opts.delete or 0.05
  local hash = hash01
  local names = ds:classes()
  local swaps, deletes, planted = {}, {}, {}
  for i = 1, #ds do
    local it = ds:item(i)
    for k, b in ipairs(it.boxes) do
      local u = hash(it.id, k)
      local box = { b[1], b[2], b[3] - b[1], b[4] - b[2] }
      if u < pswap then
        local to = names[((b.class - 1 + 1 + math.floor(hash(k, it.id) * (#names - 1))) % #names) + 1]
        swaps[#swaps + 1] = { image_id = it.id, box = box, class = b.name, relabel = to, reason = "wrong_class" }
        planted[#planted + 1] = { image_id = it.id, box = box, kind = "swap", class = b.name, relabel = to }
      elseif u < pswap + pdel then
        deletes[#deletes + 1] = { image_id = it.id, box = box, class = b.name, reason = "bad_box" }
        planted[#planted + 1] = { image_id = it.id, box = box, kind = "delete", class = b.name }
      end
    end
  end
  local swapped = ds:relabel(swaps)
  return (swapped:drop(deletes)), planted
end

return inspect
