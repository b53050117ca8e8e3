-- det.data.voc, det.data.yolo, det.data.open and ds:doctor(): the tiny
-- datasets under tests/data load from Lua with the boxes worked out by hand
-- in tests/data/test_voc.c and test_yolo.c, failures return nil, message,
-- misuse raises, and the doctor's table matches the C report.
local det = require "det"
local top = os.getenv("top_srcdir") or "."
local voc_root = top .. "/tests/data/voc_small"
local yolo_root = top .. "/tests/data/yolo_small"

local function quietly(f, ...)
  local saved = _G.print
  local lines = {}
  _G.print = function(...) lines[#lines + 1] = table.concat({ ... }, "\t") end
  local ok, a, b = pcall(f, ...)
  _G.print = saved
  assert(ok, a)
  return a, b, lines
end

describe("det.data.voc", function()
  it("reads a split with VOC's 1-based corners converted", function()
    local ds = det.data.voc{ root = voc_root, split = "trainval" }
    assert.are.equal(2, #ds)
    local item = ds:item(1)
    assert.are.equal(64, item.width)
    assert.are.equal("JPEGImages/000001.jpg", item.file)
    local dog, person = item.boxes[1], item.boxes[2]
    assert.are.same({ 0, 0, 32, 24 }, { dog[1], dog[2], dog[3], dog[4] })
    assert.are.equal("dog", dog.name)
    assert.are.equal(12, dog.class) -- 1-based: dog is the 12th VOC class
    assert.is_true(person.ignore)     -- difficult
    assert.are.equal(20, #ds:classes())
  end)

  it("takes a root string, a class list, and difficult = 'skip'", function()
    local ds = quietly(det.data.voc, { root = voc_root, split = "trainval",
      classes = { "dog", "person" }, difficult = "skip" })
    assert.are.same({ "dog", "person" }, ds:classes())
    assert.are.equal(1, ds:report().boxes_skipped) -- the cat
    assert.are.equal(0, #ds:item(1).boxes - 1)       -- the difficult person is gone
    local all = quietly(det.data.voc, voc_root)
    assert.are.equal(3, #all)
  end)

  it("prints each problem and a summary, or nothing when quiet", function()
    local ds, _, lines = quietly(det.data.voc, { root = voc_root, split = "broken" })
    assert.are.equal(1, #ds)
    assert.are.equal(3, #lines)
    assert.truthy(lines[1]:find("Annotations/000004.xml: missing (listed in ImageSets/Main/broken.txt:3)", 1, true))
    assert.truthy(lines[3]:find("skipped 2 images and 0 boxes", 1, true))
    assert.are.equal(2, ds:report().images_skipped)
    local _, _, none = quietly(det.data.voc, { root = voc_root, split = "broken", quiet = true })
    assert.are.equal(0, #none)
  end)

  it("returns nil, message when the split file is missing", function()
    local ds, msg = det.data.voc{ root = voc_root, split = "nope" }
    assert.is_nil(ds)
    assert.truthy(msg:find("ImageSets/Main/nope.txt: can't open the split file", 1, true))
  end)

  it("raises on misuse", function()
    assert.has_error(function() det.data.voc{ rot = voc_root } end)
    assert.has_error(function() det.data.voc{ root = voc_root, classes = "some" } end)
    assert.has_error(function() det.data.voc{ root = voc_root, difficult = "maybe" } end)
    assert.has_error(function() det.data.voc(42) end)
  end)
end)

describe("det.data.yolo", function()
  it("reads images + labels + names", function()
    local ds = det.data.yolo{ images = yolo_root .. "/images", names = yolo_root .. "/classes.txt" }
    assert.are.equal(3, #ds)
    assert.are.same({ "cat", "dog", "bird" }, ds:classes())
    local b = ds:item(1).boxes[2] -- "2 0.25 0.25 0.25 0.5" at 64x48
    assert.are.equal("bird", b.name)
    assert.are.same({ 8, 0, 24, 24 }, { b[1], b[2], b[3], b[4] })
    assert.are.equal(0, #ds:item(3).boxes)
  end)

  it("reads a data YAML and its split", function()
    local ds = det.data.yolo{ data = yolo_root .. "/data.yaml", split = "val" }
    assert.are.equal(3, #ds)
    local none, msg = det.data.yolo{ data = yolo_root .. "/data.yaml", split = "test" }
    assert.is_nil(none)
    assert.truthy(msg:find("no test: key", 1, true))
  end)

  it("raises without images or data", function()
    assert.has_error(function() det.data.yolo{} end)
    assert.has_error(function() det.data.yolo{ images = 1 } end)
  end)
end)

describe("det.data.open", function()
  it("tells VOC from YOLO by the path", function()
    assert.are.equal("voc_small", tostring(det.data.open(voc_root)):match("<dataset ([^:]+)"))
    assert.are.equal(3, #det.data.open(yolo_root))
    local ds, msg = det.data.open(top .. "/doc")
    assert.is_nil(ds)
    assert.truthy(msg:find("can't tell the format", 1, true))
  end)
end)

describe("ds:doctor()", function()
  it("returns the report as a table that prints as text", function()
    local ds = det.data.voc{ root = voc_root, keep_missing = true }
    local r = ds:doctor()
    assert.are.equal(4, r.images)
    assert.are.equal(7, r.objects)
    assert.are.equal(1, r.ignored)
    assert.are.equal(3, r.findings.border_boxes.count)
    assert.are.equal(1, r.findings.missing_files.count)
    assert.are.equal("JPEGImages/000005.jpg", r.findings.missing_files.examples[1].file)
    assert.are.equal(0, r.findings.near_duplicates.count)
    assert.are.equal(2.0, r.imbalance)
    assert.are.equal("dog", r.per_class[1].name)
    assert.are.equal(2, r.per_class[1].objects)
    assert.are.same({ min = 1, median = 2, max = 2 },
      { min = r.objects_per_image.min, median = r.objects_per_image.median, max = r.objects_per_image.max })
    assert.are.equal(6, r.sizes.small)
    assert.truthy(tostring(r):find("^Dataset doctor: voc_small"))
    assert.are.equal(r.text, det.pretty.format(r))
  end)

  it("takes thresholds", function()
    local ds = det.data.yolo{ images = yolo_root .. "/images" }
    local r = ds:doctor{ tiny = 21, border = 0, files = false }
    -- boxes: 32x24, 16x24 (64x48 image), 20x20 (100x50): two have a side < 21
    assert.are.equal(2, r.findings.tiny_boxes.count)
    assert.are.equal(1, r.findings.empty_images.count)
    assert.are.equal(3, r.findings.empty_images.examples[1].index)
    assert.has_error(function() ds:doctor{ iou = 2 } end)
  end)
end)
