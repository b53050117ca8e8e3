-- det.box: the IoU family and NMS from Lua, against torchvision fixtures.
local det = require "det"

local golden = dofile((os.getenv("top_srcdir") or ".") .. "/tests/lua/golden.lua")
local fx = golden.read("det/det.txt")
local rows = golden.rows

describe("det.box", function()
  it("gives the IoU of two boxes as a number", function()
    assert.is_true(math.abs(det.box.iou({ 0, 0, 10, 10 }, { 5, 0, 15, 10 }) - 1 / 3) < 1e-7)
    assert.are.equal(1, det.box.giou({ 0, 0, 10, 10 }, { 0, 0, 10, 10 }))
  end)

  it("matches torchvision's matrices", function()
    local a, b = rows(fx["box.a"], 4), rows(fx["box.b"], 4)
    for _, k in ipairs { "iou", "giou", "diou", "ciou" } do
      local m = det.box[k](a, b)
      assert.are.equal(#a, #m)
      assert.are.equal(#b, #m[1])
      local ref = fx["box." .. k]
      for i = 1, #a do
        for j = 1, #b do
          local want = ref[(i - 1) * #b + j]
          local got = m[i][j]
          if want ~= want then
            assert.is_true(got ~= got, k .. ": NaN where torchvision has NaN")
          else
            assert.is_true(math.abs(got - want) <= 1e-5 * (1 + math.abs(want)), k)
          end
        end
      end
    end
  end)

  it("keeps the same boxes as torchvision.ops.nms and batched_nms", function()
    local boxes, scores = rows(fx["nms0.boxes"], 4), fx["nms0.scores"]
    local keep = det.box.nms(boxes, scores, 0.5)
    local ref = fx["nms0.keep5"]
    assert.are.equal(#ref, #keep)
    for i = 1, #ref do assert.are.equal(ref[i] + 1, keep[i]) end
    local classes = {}
    for i, c in ipairs(fx["nms0.classes"]) do classes[i] = math.tointeger(c) end
    keep = det.box.nms(boxes, scores, 0.5, { classes = classes })
    ref = fx["nms0.bkeep5"]
    assert.are.equal(#ref, #keep)
    for i = 1, #ref do assert.are.equal(ref[i] + 1, keep[i]) end
  end)

  it("runs soft-NMS, DIoU-NMS, thresholds and caps", function()
    local b = { { 0, 0, 10, 10 }, { 1, 0, 11, 10 }, { 50, 50, 60, 60 } }
    local keep, s = det.box.nms(b, { 0.9, 0.8, 0.7 }, 0.5)
    assert.are.same({ 1, 3 }, keep)
    keep, s = det.box.nms(b, { 0.9, 0.8, 0.7 }, 0.3, { method = "soft_linear" })
    assert.are.same({ 1, 3, 2 }, keep)
    assert.is_true(math.abs(s[3] - 0.8 * (1 - 9 / 11)) < 1e-6)
    keep = det.box.nms(b, { 0.9, 0.8, 0.7 }, 0.5, { method = "diou", max_dets = 1 })
    assert.are.same({ 1 }, keep)
    keep = det.box.nms(b, { 0.9, 0.8, 0.7 }, 0.5, { score_threshold = 0.75 })
    assert.are.same({ 1 }, keep)
    keep = det.box.nms({}, {}, 0.5)
    assert.are.same({}, keep)
    local ok, err = pcall(det.box.nms, b, { 1, 1, 1 }, 0.5, { methd = "greedy" })
    assert.is_false(ok)
    assert.truthy(err:find("'methd'", 1, true))
    ok, err = pcall(det.box.nms, b, { 1, 1, 1 }, 0.5, { method = "fast" })
    assert.is_false(ok)
  end)
end)
