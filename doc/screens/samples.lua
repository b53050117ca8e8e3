-- doc/screens/samples.lua RUN_DIR: gives the fake run behind the committed
-- `watch` screens (tests/tmux/fake-run.sh) the samples sidecar a real run
-- writes after an evaluation (src/train/samples.h): 8 Fashion scenes as
-- PNGs and samples.json with their GT and the made-up predictions of
-- demo.lua (boxes nudged, one missed, one with the wrong class).
local det = require "det"
local dir = assert(arg and arg[1], "usage: detbench doc/screens/samples.lua RUN_DIR")
local ds = det.data.fashion { split = "test", images = 8, size = 128, seed = 5 }
local tmp = dir .. "/export"
assert(ds:export_coco(tmp))
os.execute(("mkdir -p '%s/samples'"):format(dir))
local names = {}
for c, name in ipairs(ds:classes()) do names[c] = ("%q"):format(name) end
local images = {}
for i = 1, #ds do
  local it = ds:item(i)
  local file = ("samples/400-%d.png"):format(i)
  assert(os.rename(("%s/images/%06d.png"):format(tmp, it.id), dir .. "/" .. file))
  local boxes = {}
  for k, b in ipairs(it.boxes) do
    boxes[#boxes + 1] = ("[%g,%g,%g,%g,%d,1,0]"):format(b[1], b[2], b[3], b[4], b.class - 1)
    if k ~= 2 then
      local c = k == 3 and b.class % 10 + 1 or b.class
      boxes[#boxes + 1] = ("[%g,%g,%g,%g,%d,%g,1]"):format(b[1] + 2, b[2] - 1, b[3] + 1, b[4] + 2, c - 1, 0.93 - 0.11 * k)
    end
  end
  images[#images + 1] = ('{"name":"#%d","file":"%s","width":128,"height":128,"boxes":[%s]}'):format(i, file,
    table.concat(boxes, ","))
end
os.execute(("rm -rf '%s'"):format(tmp))
local f = assert(io.open(dir .. "/samples.json", "w"))
f:write(('{"step":400,"classes":[%s],"images":[%s]}\n'):format(table.concat(names, ","), table.concat(images, ",")))
f:close()
