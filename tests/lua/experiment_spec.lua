-- det.experiment: background training steered from Lua — train() returns at
-- once; pause, live changes (logged as events), resume, stop; callbacks run
-- where poll() is called; misspelt keys are named; eval/predict results;
-- resume_from continues the loss curve bit for bit.
local det = require "det"

local function tiny_model(seed)
  return det.model {
    backbone = det.backbone.resnet { depth = 18, width = 0.125 },
    neck = det.neck.fpn { channels = 16 },
    head = det.head.fcos { classes = 10, channels = 16, towers = 1 },
    size = 64, seed = seed or 0,
  }
end

local train = det.data.fashion { split = "train", images = 32, size = 64, seed = 1 }
local val = det.data.fashion { split = "test", images = 8, size = 64, seed = 2 }

local function make(o)
  local s = {
    name = "spec", model = tiny_model(), train = train, val = val,
    optim = det.optim.adamw { lr = 1e-3 }, schedule = det.sched.cosine {},
    steps = 8, batch = 4, size = 64, workers = 1, run_dir = o and o.run_dir or os.tmpname() .. ".d",
    eval_every = { epochs = 100 },
  }
  for k, v in pairs(o or {}) do s[k] = v end
  return det.experiment(s)
end

describe("det.experiment", function()
  it("names a misspelt key", function()
    local ok, err = pcall(det.experiment, { name = "x", model = tiny_model(), train = train,
      optim = det.optim.sgd { lr = 0.01 }, steps = 1, bacth = 4 })
    assert.is_false(ok)
    assert.truthy(err:find("unknown key 'bacth'", 1, true), err)
    assert.truthy(err:find("did you mean 'batch'", 1, true), err)
    ok, err = pcall(det.experiment, { name = "x", model = tiny_model(), train = train,
      optim = det.optim.sgd { lr = 0.01 }, steps = 1, early_stop = { metrc = "AP" } })
    assert.truthy(err:find("early_stop: unknown key 'metrc'", 1, true), err)
    local e = make()
    ok, err = pcall(function() e.optim.lrr = 1 end)
    assert.is_false(ok)
    assert.truthy(err:find("lrr", 1, true), err)
    ok, err = pcall(function() e.bogus = 1 end)
    assert.truthy(err:find("'bogus' cannot be set", 1, true), err)
  end)

  it("trains in the background, pauses, takes live changes, resumes and stops", function()
    local steps, evals = 0, 0
    local e = make { steps = 100000, on_step = function(_, ev) steps = steps + 1 end,
      on_eval = function() evals = evals + 1 end }
    local t0 = os.time()
    assert.are.equal(e, e:train())
    assert.is_true(e:running())
    e:pause()
    local st
    for _ = 1, 1500 do -- up to 30 s: the first step plans the graph, slow on a loaded machine
      e:poll(20)
      st = e.progress.state
      if st == "paused" then break end
    end
    assert.are.equal("paused", st)
    local at = e.step
    e:poll(100)
    assert.are.equal(at, e.step)
    local r = e:eval()   -- while the thread runs (paused): at its next boundary
    assert.are.equal("number", type(r.AP))
    assert.are.equal(1, evals)
    e.optim.lr = 5e-4
    e.optim.weight_decay = 0.02
    e.loss.weights.box = 2
    e.schedule = det.sched.constant {}
    e:resume()
    while e.step < at + 2 do e:poll(20) end
    e:stop()
    assert.is_true(e:wait())
    assert.are.equal("stopped", e.progress.state)
    assert.is_true(steps > 0)
    assert.are.equal(2, e.loss.weights.box)
    assert.is_true(math.abs(e.optim.weight_decay - 0.02) < 1e-12)
    local kinds = {}
    for _, ev in ipairs(e.metrics:events()) do kinds[ev.kind .. ":" .. ev.key] = ev end
    assert.truthy(kinds["set:weight_decay"])
    assert.truthy(kinds["set:loss.box"])
    assert.truthy(kinds["set:schedule"])
    assert.truthy(kinds["set:lr"])
    assert.are.equal(at, kinds["set:schedule"].step)
    assert.is_true(os.time() - t0 < 60)
  end)

  it("evaluates, predicts and saves COCO results", function()
    local e = make { steps = 3 }
    e:train()
    assert.is_true(e:wait())
    local r = e:eval()
    assert.are.equal("number", type(r.AP))
    local p = e:predict(val)
    local path = os.tmpname()
    assert.is_true(p:save(path))
    local f = io.open(path)
    local s = f:read("a")
    f:close()
    os.remove(path)
    assert.truthy(s:match("^%["))
    assert.are.equal(3, #e.metrics:series("loss").value)
    assert.truthy(e.metrics.loss)
    -- the latest max points; a negative max used to wrap to SIZE_MAX and
    -- copy the series past a malloc(0) buffer
    local two = e.metrics:series("loss", 2)
    assert.are.same({ 2, 3 }, two.step)
    assert.has_error(function() e.metrics:series("loss", -1) end)
  end)

  it("resumes a run and continues its losses bit for bit", function()
    -- a constant lr: the first run's shorter plan does not change the schedule
    local dir = os.tmpname() .. ".d"
    local a = make { steps = 6, run_dir = dir .. "a", schedule = det.sched.constant {} }
    a:train(); assert.is_true(a:wait())
    local la = a.metrics:series("loss").value
    local b = make { steps = 3, run_dir = dir, schedule = det.sched.constant {} }
    b:train(); assert.is_true(b:wait())
    local c = make { steps = 6, run_dir = dir, schedule = det.sched.constant {} }
    assert.truthy(c:resume_from(dir):find("last.ckpt", 1, true))
    assert.are.equal(3, c.step)
    c:train(); assert.is_true(c:wait())
    local lc = c.metrics:series("loss").value
    assert.are.equal(6, #lc)
    for i = 1, 6 do assert.are.equal(la[i], lc[i]) end
    os.execute("rm -rf '" .. dir .. "' '" .. dir .. "a'")
  end)

  it("reads recipe parameters from key=value words", function()
    local P = det.experiment.params({ steps = 1, name = "a", fast = false }, { "steps=5", "name=x" })
    assert.are.equal(5, P.steps)
    assert.are.equal("x", P.name)
    local ok, err = pcall(det.experiment.params, { steps = 1 }, { "stpes=5" })
    assert.is_false(ok)
    assert.truthy(err:find("did you mean 'steps'", 1, true), err)
  end)
end)
