-- doc/screens/demo.lua: the scene behind the committed screens (see
-- make-screens.sh): the panels follow a run's metrics.jsonl (written by
-- tests/tmux/fake-run.sh) and the samples panel shows Fashion scenes with
-- made-up predictions: GT boxes nudged, one missed, one with the wrong
-- class, so the TP/FP/FN mode has all three.
local det = require "det"
det.ui.watch(os.getenv("DEMO_RUN"))
local ds = det.data.fashion { split = "test", images = 8, size = 128, seed = 5 }
local dets = {}
for i = 1, #ds do
  local it = ds:item(i)
  local list = {}
  for k, b in ipairs(it.boxes) do
    if k ~= 2 then
      list[#list + 1] = { b[1] + 2, b[2] - 1, b[3] + 1, b[4] + 2,
        class = k == 3 and b.class % 10 + 1 or b.class, score = 0.93 - 0.11 * k }
    end
  end
  dets[i] = list
end
det.ui.samples(ds, { dets = dets })
-- the schedule's plan past the run's last step (drawn dashed)
local plan = {}
for s = 1, 600 do
  plan[s] = s < 50 and 0.01 * s / 50 or s < 250 and 0.01 or 0.003 * 0.5 * (1 + math.cos(math.pi * (s - 250) / 350))
end
det.ui.plan(plan)
