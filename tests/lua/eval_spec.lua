-- det.eval and det.data.coco from Lua: the numbers match pycocotools'
-- (tests/golden/cocoeval), the result object's views agree with each other,
-- and bad input comes back as nil, message.
local det = require "det"
local top = os.getenv("top_srcdir") or "."
local g = top .. "/tests/golden/cocoeval/"

local function expected(case)
  local f = assert(io.open(g .. case .. "/expected.json"))
  local s = f:read("a")
  f:close()
  local stats = {}
  for v in s:match('"stats": %[(.-)%]'):gmatch("[-%d.e]+") do stats[#stats + 1] = tonumber(v) end
  return stats
end

describe("det.eval.coco", function()
  local r = assert(det.eval.coco(g .. "case1/gt.json", g .. "case1/results.json"))

  it("gives pycocotools' 12 numbers", function()
    local want = expected("case1")
    for i, name in ipairs(det.eval.stat_names) do
      assert.is_true(math.abs(r.stats[i] - want[i]) < 1e-9, name)
      assert.are.equal(r.stats[i], r.stats[name])
    end
    assert.are.equal(r.AP, r.stats.AP)
  end)

  it("prints pycocotools' summary", function()
    local s = tostring(r)
    assert.truthy(s:find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.316", 1, true))
    local n = select(2, s:gsub("\n", ""))
    assert.are.equal(12, n)
  end)

  it("has per-class AP, TIDE, confusion and PR views", function()
    local pc = r:per_class()
    assert.are.equal(6, #pc)
    assert.are.equal("circle", pc[1].class)
    assert.are.equal(205, pc[1].gt)
    local t = r:tide()
    assert.is_true(t.AP50 > 0 and t.dAP.Loc >= 0 and t.count.Bkg > 0)
    local c = r:confusion{ conf = 0.0 }
    assert.are.equal("background", c.classes[7])
    local pr = r:pr("circle")
    assert.are.equal(101, #pr.interpolated)
    assert.are.equal(#pr.recall, #pr.precision)
    assert.is_true(pr.threshold > 0 and pr.f1 > 0)
  end)

  it("keeps every detection's and GT box's outcome", function()
    local d, gt = r:detections(), r:ground_truth()
    local tp = 0
    for _, x in ipairs(d) do
      if x.kind == "tp" then
        tp = tp + 1
        assert.are.equal("matched", gt[x.gt].kind)
        assert.is_true(x.iou >= 0.5)
      end
    end
    assert.is_true(tp > 0)
  end)

  it("evaluates a det.dataset and a table of detections", function()
    local ds = assert(det.data.coco{ annotations = g .. "case2/gt.json", quiet = true })
    local dets = {
      { image_id = 1, category_id = 1, bbox = { 1, 1, 10, 10 }, score = 0.5 },
    }
    local r2 = assert(det.eval.coco(ds, dets))
    assert.are.equal(1, #r2:detections())
    local r3 = assert(det.eval.coco(ds, g .. "case2/results.json"))
    assert.is_true(math.abs(r3.AP - expected("case2")[1]) < 1e-6)
  end)

  it("returns nil and a message for bad input", function()
    local r4, msg = det.eval.coco(g .. "case1/gt.json", top .. "/tests/data/bad/coco/syntax.json")
    assert.is_nil(r4)
    assert.truthy(msg:find("syntax.json:1:1"))
    local r5, msg5 = det.eval.coco(g .. "missing.json", g .. "case1/results.json")
    assert.is_nil(r5)
    assert.truthy(msg5:find("missing.json"))
  end)
end)

describe("det.data.coco", function()
  it("reads a COCO file into a dataset and exports it", function()
    local ds = assert(det.data.coco{ annotations = g .. "case3/gt.json", quiet = true })
    assert.are.equal(120, #ds)
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(ds:export_coco(dir))
    local back = assert(det.data.coco{ annotations = dir .. "/annotations.json", quiet = true })
    assert.are.equal(#ds, #back)
    os.remove(dir .. "/annotations.json")
    os.remove(dir)
  end)

  it("exports a generated dataset with its rendered images", function()
    if not det.data.fashion then return end
    local ds = det.data.fashion{ split = "test", images = 3, size = 64, seed = 1 }
    local dir = os.tmpname()
    os.remove(dir)
    assert.is_true(ds:export_coco(dir))
    local back = assert(det.data.coco{ annotations = dir .. "/annotations.json", check_files = true, quiet = true })
    assert.are.equal(3, #back)
    assert.are.equal(0, back:report().images_skipped)
    local a, b = ds:item(2), back:item(2)
    assert.are.equal(#a.boxes, #b.boxes)
    for i = 1, 3 do os.remove(string.format("%s/images/%06d.png", dir, i)) end
    os.remove(dir .. "/images")
    os.remove(dir .. "/annotations.json")
    os.remove(dir)
  end)

  it("names a bad record and keeps going", function()
    local ds = assert(det.data.coco{ annotations = top .. "/tests/data/bad/coco/unknown_category.json", quiet = true })
    local rep = ds:report()
    assert.are.equal(1, rep.boxes_skipped)
    assert.truthy(rep.first_problem:find("unknown category_id 99", 1, true))
  end)

  it("fails with file, line and column on broken JSON", function()
    local ds, msg = det.data.coco{ annotations = top .. "/tests/data/bad/coco/syntax.json" }
    assert.is_nil(ds)
    assert.truthy(msg:find("syntax.json:4:67", 1, true))
  end)
end)
