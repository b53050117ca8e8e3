-- det.inspect: failures, summary, heat map, hardest images and suspect
-- labels from Lua; the suspects export and ds:drop / ds:relabel round trip
-- (a corrected COCO file, the original untouched); and the planted-error
-- ranking with a simulated detector (deterministic, no training).
local det = require "det"

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d))
  return d
end

local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- the clean scenes, and predictions a good detector would make on them
local ds = det.data.fashion{ split = "test", images = 40, size = 64, seed = 3 }
local classes = ds:classes()

local function predictions(clean, rng_seed, opts)
  opts = opts or {}
  math.randomseed(rng_seed)
  local out = {}
  for i = 1, #clean do
    local it = clean:item(i)
    for _, b in ipairs(it.boxes) do
      if math.random() > (opts.miss or 0.05) then
        local w, h = b[3] - b[1], b[4] - b[2]
        local j = 0.04
        out[#out + 1] = { image_id = it.id, class = b.class, score = 0.6 + 0.39 * math.random(),
          bbox = { b[1] + j * w * (math.random() - 0.5), b[2] + j * h * (math.random() - 0.5), w, h } }
        -- a weaker second guess of another class on the same object
        local other = (b.class % #classes) + 1
        out[#out + 1] = { image_id = it.id, class = other, score = 0.15 * math.random(),
          bbox = { b[1], b[2], w, h } }
      end
    end
    -- a few low-scoring background detections
    for _ = 1, 2 do
      out[#out + 1] = { image_id = it.id, class = math.random(#classes), score = 0.3 * math.random(),
        bbox = { math.random(0, 40), math.random(0, 40), 12, 12 } }
    end
  end
  return out
end

describe("r:failures / r:summary / r:hardest / r:confusion_map", function()
  -- drop one class's detections in half the images: misses for it
  local preds = predictions(ds, 5)
  local kept = {}
  for _, p in ipairs(preds) do
    if not (p.class == 1 and p.image_id % 2 == 0) then kept[#kept + 1] = p end
  end
  local r = assert(det.eval.coco(ds, kept))

  it("lists a class's failures with the fields the inspector shows", function()
    local f = r:failures{ class = classes[1], kind = "fn", open = false }
    assert.is_true(#f > 0)
    for _, it in ipairs(f) do
      assert.are.equal(classes[1], it.class)
      assert.are.equal("fn", it.side)
      assert.is_number(it.image)                 -- the dataset index (r knows its dataset)
      assert.are.equal(ds:item(it.image).id, it.image_id)
      assert.are.equal(4, #it.bbox)
      assert.truthy(it.gt and it.gt_bbox)
    end
    assert.truthy(tostring(f):find("confused with", 1, true))
  end)

  it("filters by kind, size and score and sorts", function()
    local all = r:failures{ open = false }
    local fp = r:failures{ kind = "fp", min_score = 0.1, sort = "iou", open = false }
    for i, it in ipairs(fp) do
      assert.are.equal("fp", it.side)
      assert.is_true(it.score >= 0.1)
      if i > 1 then assert.is_true(it.iou >= fp[i - 1].iou) end
    end
    assert.is_true(#fp < #all)
    local small = r:failures{ size = "small", sort = "size", open = false }
    for i, it in ipairs(small) do
      assert.is_true(it.area < 32 * 32)
      if i > 1 then assert.is_true(it.area >= small[i - 1].area) end
    end
    assert.has_error(function() r:failures{ kind = "nope" } end)
    assert.has_error(function() r:failures{ class = "NoSuchClass" } end)
  end)

  it("summarises per class, sorted and aligned", function()
    local s = r:summary{ sort = "Miss" }
    assert.are.equal(#classes, #s)
    for i = 2, #s do assert.is_true(s[i - 1].dAP.Miss >= s[i].dAP.Miss) end
    s = r:summary{ sort = "small" }
    for i = 2, #s do assert.is_true(s[i - 1].missed.small >= s[i].missed.small) end
    assert.are.equal(classes[1], s[1].class)     -- the class we made miss
    s = r:summary{ sort = "AP" }
    for i = 2, #s do assert.is_true(s[i - 1].AP <= s[i].AP) end
    local text = tostring(s)
    local col
    for line in text:gmatch("[^\n]+") do
      local at = line:find("%d%.%d%d%d")
      if at then col = col or at; assert.are.equal(col, at) end
    end
    assert.truthy(text:find("confused with", 1, true))
    assert.has_error(function() r:summary{ sort = "nope" } end)
  end)

  it("ranks the hardest images and draws the confusion heat map", function()
    local h = r:hardest{ n = 5, min_score = 0.3 }
    assert.is_true(#h <= 5 and #h > 0)
    for i = 2, #h do assert.is_true(h[i - 1].errors >= h[i].errors) end
    assert.are.equal(h[1].fp + h[1].fn, h[1].errors)
    -- open = true hands the failures of those images to the inspector (kept for det.inspect.marks)
    assert.is_false(det.inspect.open({}, nil))
    r:hardest{ n = 2, min_score = 0.3, open = true }
    assert.are.same({}, det.inspect.marks())
    local m = tostring(r:confusion_map{ conf = 0.3, ascii = true })
    assert.truthy(m:find("background", 1, true))
    assert.truthy(m:find("#", 1, true))
  end)

  it("ranks the hardest images by the summed loss of their GT boxes", function()
    local gts = r:ground_truth()
    -- a loss per GT box: 1 each, 10 for every box of the third image, NaN (no location) for one box
    local third = ds:item(3).id
    local losses, want = {}, {}
    for i, g in ipairs(gts) do
      losses[i] = g.image_id == third and 10 or 1
      want[g.image_id] = (want[g.image_id] or 0) + losses[i]
    end
    local nan_at = gts[1].image_id == third and 2 or 1
    want[gts[nan_at].image_id] = want[gts[nan_at].image_id] - 1
    losses[nan_at] = 0 / 0
    local h = r:hardest{ n = 3, losses = losses }
    assert.are.equal(3, #h)
    assert.are.equal(third, h[1].image_id)
    for i, it in ipairs(h) do
      assert.are.equal(want[it.image_id], it.loss)
      if i > 1 then assert.is_true(h[i - 1].loss >= it.loss) end
      assert.are.equal(it.fp + it.fn, it.errors)
    end
    -- the error counts are those of the ranking by errors
    local by_errors = {}
    for _, it in ipairs(r:hardest{ n = 1000, min_score = 0.3 }) do by_errors[it.image_id] = it.errors end
    for _, it in ipairs(h) do assert.are.equal(by_errors[it.image_id] or 0, it.errors) end
    assert.truthy(tostring(h):find("loss", 1, true))
    local ok, msg = pcall(r.hardest, r, { losses = { 1, 2 } })
    assert.is_false(ok)
    assert.truthy(msg:find("one number per GT box", 1, true))
  end)
end)

describe("suspect labels, export, drop and relabel", function()
  -- plant errors: swap the class of 5% of boxes, delete another 5%
  math.randomseed(11)
  local swaps, deletes, planted = {}, {}, {}
  for i = 1, #ds do
    local it = ds:item(i)
    for k, b in ipairs(it.boxes) do
      local u = math.random()
      local box = { b[1], b[2], b[3] - b[1], b[4] - b[2] }
      if u < 0.05 then
        local to = classes[(b.class % #classes) + 1]
        swaps[#swaps + 1] = { image_id = it.id, box = box, class = b.name, relabel = to, reason = "wrong_class" }
        planted[#planted + 1] = { image_id = it.id, box = box }
      elseif u < 0.10 then
        deletes[#deletes + 1] = { image_id = it.id, box = box, class = b.name, reason = "bad_box" }
        planted[#planted + 1] = { image_id = it.id, box = box }
      end
    end
  end
  local swapped, c1 = ds:relabel(swaps)
  local corrupted, c2 = swapped:drop(deletes)

  it("drop and relabel make a corrected copy and leave the original alone", function()
    assert.are.equal(#swaps, c1.changed)
    assert.are.equal(#deletes, c2.dropped)
    assert.are.equal(0, c1.skipped + c2.skipped)
    local n0, n1 = 0, 0
    for i = 1, #ds do n0 = n0 + #ds:item(i).boxes; n1 = n1 + #corrupted:item(i).boxes end
    assert.are.equal(n0 - #deletes, n1)
    assert.are.equal(#ds, #corrupted)
    assert.truthy(tostring(corrupted):find("dropped", 1, true))
  end)

  it("ranks the planted errors first (synthetic predictions)", function()
    local r = assert(det.eval.coco(corrupted, predictions(ds, 5)))
    local s = r:suspects{}
    local ngt = 0
    for i = 1, #corrupted do ngt = ngt + #corrupted:item(i).boxes end
    local recall, found, k = det.inspect.planted_recall(s, planted, 0.10, ngt)
    print(string.format("# planted errors in the top 10%% (%d suspects): %d of %d = %.1f%%", k, found, #planted,
      100 * recall))
    assert.is_true(#planted >= 10)
    assert.is_true(recall >= 0.70)
    -- the swaps come back as wrong_class with the true class suggested
    local by = {}
    for _, x in ipairs(s) do by[x.image_id .. ":" .. x.box[1] .. ":" .. x.box[2]] = x end
    local right = 0
    for _, w in ipairs(swaps) do
      local x = by[w.image_id .. ":" .. w.box[1] .. ":" .. w.box[2]]
      if x and x.reason == "wrong_class" and x.suggested == w.class then right = right + 1 end
    end
    assert.is_true(right >= 0.7 * #swaps)
  end)

  it("exports atomically and corrects the dataset from the list (round trip)", function()
    local r = assert(det.eval.coco(corrupted, predictions(ds, 5)))
    local s = r:suspects{ top = 30 }
    local dir = tmpdir()
    assert(corrupted:export_coco(dir .. "/orig"))
    local before = slurp(dir .. "/orig/annotations.json")
    assert.is_true(r:export_suspects(s, dir .. "/suspects.json"))
    local js = slurp(dir .. "/suspects.json")
    assert.truthy(js:find('"reason": "wrong_class"', 1, true))
    assert.truthy(js:find('"reason": "missing_box"', 1, true))
    local _, records = js:gsub('"image": ', "")
    assert.are.equal(#s, records)
    -- fix: relabel wrong classes, add missing boxes; write the new COCO file
    local fixed, counts = corrupted:relabel(s, { write = dir .. "/fixed.json" })
    assert.is_true(counts.changed > 0)
    assert.are.equal(dir .. "/fixed.json", counts.written)
    assert.are.equal(before, slurp(dir .. "/orig/annotations.json"))
    local back = assert(det.data.coco{ annotations = dir .. "/fixed.json", quiet = true })
    local nb, nf = 0, 0
    for i = 1, #back do nb = nb + #back:item(i).boxes; nf = nf + #fixed:item(i).boxes end
    assert.are.equal(nf, nb)
    -- the fixed labels agree with the clean scenes more often than the corrupted ones
    local r2 = assert(det.eval.coco(fixed, predictions(ds, 5)))
    assert.is_true(r2.AP50 > r.AP50)
    -- a dropped list removes the boxes it names; a missing box cannot be dropped
    local _, dc = corrupted:drop(s)
    assert.is_true(dc.dropped > 0 and dc.skipped > 0)
    -- the copy renders the original scene pixels (Fashion scenes render on demand)
    assert.are.same(ds:sample(1, { pixels = true }).pixels, fixed:sample(1, { pixels = true }).pixels)
    os.execute("rm -rf " .. dir)
  end)

  it("rejects bad items with a message", function()
    assert.has_error(function() ds:drop({ { image_id = 99999, box = { 0, 0, 1, 1 } } }) end)
    assert.has_error(function() ds:relabel({ { image_id = ds:item(1).id, box = { 0, 0, 1, 1 }, relabel = "Nope" } }) end)
  end)
end)

describe("det.inspect.ensemble", function()
  it("fuses boxes that agree and halves a box one view alone makes", function()
    local a = {
      { image_id = 1, class = 1, score = 0.8, bbox = { 10, 10, 20, 20 } },
      { image_id = 1, class = 2, score = 0.6, bbox = { 50, 50, 10, 10 } },
    }
    local b = {
      { image_id = 1, class = 1, score = 0.4, bbox = { 12, 10, 20, 20 } }, -- IoU .82 with a[1]
      { image_id = 1, class = 1, score = 0.3, bbox = { 100, 100, 5, 5 } }, -- alone
      { image_id = 2, class = 2, score = 0.5, bbox = { 0, 0, 10, 10 } },
    }
    local f = det.inspect.ensemble { a, b }
    assert.are.equal(4, #f)
    local by = {}
    for _, d in ipairs(f) do by[d.image_id .. ":" .. d.class .. ":" .. math.floor(d.bbox[1])] = d end
    local x = assert(by["1:1:10"])
    assert.is_true(math.abs(x.score - 0.6) < 1e-12)                 -- (.8 + .4) / 2
    assert.is_true(math.abs(x.bbox[1] - (0.8 * 10 + 0.4 * 12) / 1.2) < 1e-9) -- score-weighted
    assert.is_true(math.abs(by["1:2:50"].score - 0.3) < 1e-12)       -- .6 / 2
    assert.is_true(math.abs(by["1:1:100"].score - 0.15) < 1e-12)
    assert.is_true(math.abs(by["2:2:0"].score - 0.25) < 1e-12)
    -- one box per list per cluster: two boxes of one list stay apart
    local g = det.inspect.ensemble({ { a[1], { image_id = 1, class = 1, score = 0.7, bbox = { 10, 10, 20, 20 } } } })
    assert.are.equal(2, #g)
    -- and it evaluates
    local r = assert(det.eval.coco(ds, det.inspect.ensemble { predictions(ds, 5), predictions(ds, 6) }))
    assert.is_true(r.AP50 > 0.5)
  end)
end)

describe("det.inspect.ensemble with named classes", function()
  it("maps r:detections() names through names = and raises without them", function()
    local r = assert(det.eval.coco(ds, predictions(ds, 5)))
    local f = det.inspect.ensemble({ r:detections(), r:detections() }, { names = ds:classes() })
    local r2 = assert(det.eval.coco(ds, f))
    assert.is_true(math.abs(r2.AP50 - r.AP50) < 1e-9) -- a list fused with itself is itself
    local ok, err = pcall(det.inspect.ensemble, { r:detections() })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("names", 1, true))
  end)
end)

describe("det.inspect.predict_views", function()
  it("predicts at each size, plain and mirrored, and fuses the views inside the images", function()
    local small = det.data.fashion { split = "test", images = 4, size = 48, seed = 5, min_objects = 1, max_objects = 2 }
    local model = det.model { backbone = det.backbone.resnet { depth = 18, width = 0.125 },
      neck = det.neck.fpn { channels = 16, levels = { 3, 4, 5 } },
      head = det.head.fcos { classes = #small:classes(), channels = 16, towers = 1 },
      names = small:classes(), size = 48, seed = 1 }
    -- untrained scores sit near the head's prior: keep everything, a few per image
    local d = model:detector { score_threshold = 0, max_dets = 3 }
    local fused, views = det.inspect.predict_views(model, small, { sizes = { 48, 56 }, detector = d, batch = 4 })
    assert.are.equal(4, #views)
    local total = 0
    for _, v in ipairs(views) do
      assert.are.equal(4 * 3, #v)
      total = total + #v
    end
    assert.is_true(#fused >= 3 * 4 and #fused <= total)
    for _, f in ipairs(fused) do
      local it = small:item(1)
      assert.is_true(f.bbox[1] >= -1e-6 and f.bbox[1] + f.bbox[3] <= it.width + 1e-3)
      assert.is_true(f.score >= 0 and f.score <= 1 and type(f.class) == "number")
    end
    local nomirror = select(2, det.inspect.predict_views(model, small, { sizes = { 48 }, mirror = false, detector = d }))
    assert.are.equal(1, #nomirror)
    assert.has_error(function() det.inspect.predict_views(model, small, { sizes = {} }) end)
  end)
end)

describe("planted errors, a trained detector's held-out predictions", function()
  -- the bench's 600 checked scenes (bench/planted_errors.lua seed=2) and
  -- its detector's predictions on them, made by
  -- tests/golden/suspects/make_planted_dets.sh (5 CPU minutes of training,
  -- then the mirrored view averaged in: det.inspect.ensemble)
  local top = os.getenv("top_srcdir") or "."
  local check = det.data.fashion { split = "train", images = 600, size = 48, seed = 2, min_objects = 1,
    max_objects = 3, min_scale = 0.35, max_scale = 0.6, classes = { "T-shirt/top", "Trouser", "Sandal", "Bag" } }
  local corrupted, planted = det.inspect.plant_errors(check)
  local n = 0
  for i = 1, #corrupted do n = n + #corrupted:item(i).boxes end

  local function read_dets(path)
    local out = {}
    for line in io.lines(path) do
      if not line:match("^#") then
        local im, cat, x, y, w, h, sc = line:match("^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$")
        out[#out + 1] = { image_id = tonumber(im), category_id = tonumber(cat), score = tonumber(sc),
          bbox = { tonumber(x), tonumber(y), tonumber(w), tonumber(h) } }
      end
    end
    return out
  end

  it("puts most planted errors in the top 10% (the margin, explained: the defaults)", function()
    local r = assert(det.eval.coco(corrupted, read_dets(top .. "/tests/golden/suspects/planted_dets.txt")))
    local share, found, k = det.inspect.planted_recall(r:suspects {}, planted, 0.10, n)
    local prod, pfound = det.inspect.planted_recall(r:suspects { margin = false, bad_weight = 0.3 }, planted, 0.10, n)
    local cal, cfound = det.inspect.planted_recall(r:suspects { calibrate = true }, planted, 0.10, n)
    local raw = det.inspect.planted_recall(r:suspects { explain = false, margin = false, bad_weight = 0.3 },
      planted, 0.10, n)
    print(string.format("# trained detector (AP50 %.3f): planted errors in the top 10%% (%d suspects): "
      .. "%d of %d = %.1f%% (defaults: margin, explained), %d = %.1f%% with the product s_other (1 - s_own), "
      .. "%d = %.1f%% calibrated, %.1f%% raw product", r.AP50, k, found, #planted, 100 * share, pfound,
      100 * prod, cfound, 100 * cal, 100 * raw))
    assert.are.equal(124, #planted)
    assert.is_true(share >= 0.72)
    assert.is_true(share >= prod + 0.02)
    assert.is_true(cal >= 0.68)
    assert.is_true(prod >= raw + 0.05)
  end)
end)
