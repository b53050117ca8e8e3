-- Objects that a running experiment or a loader holds from C can't be
-- closed under it: opt:close(), a dataset's or sampler's <close> scope end
-- raise, naming the holder; once the holder lets go, closing works.
local det = require "det"

local function tiny_model()
  return det.model {
    backbone = det.backbone.resnet { depth = 18, width = 0.125 },
    neck = det.neck.fpn { channels = 16 },
    head = det.head.fcos { classes = 10, channels = 16, towers = 1 },
    size = 64,
  }
end

describe("pins", function()
  it("refuse opt:close() while an experiment holds the optimiser", function()
    local opt = det.optim.adamw { lr = 1e-3 }
    local train = det.data.fashion { split = "train", images = 8, size = 64, seed = 1 }
    local e = det.experiment {
      name = "pins", model = tiny_model(), train = train, optim = opt,
      steps = 2, batch = 4, size = 64, workers = 1, run_dir = os.tmpname() .. ".d",
    }
    e:train()
    -- just started: never shown as idle (the thread may not have reported yet)
    assert.falsy(tostring(e):find("idle", 1, true), tostring(e))
    local ok, err = pcall(opt.close, opt)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("opt:close: still in use by an experiment", 1, true), tostring(err))
    e:wait()
    assert.truthy(tostring(e):find("done", 1, true), tostring(e))
    getmetatable(e).__close(e) -- the experiment lets go of its trainer
    assert.is_true(pcall(opt.close, opt))
    assert.truthy(tostring(opt):find("closed", 1, true))
  end)

  it("refuse a dataset's <close> while a loader reads it", function()
    local ds = det.data.fashion { split = "train", images = 8, size = 64, seed = 1 }
    local l = ds:loader { batch = 4, size = 64, workers = 1 }
    local ok, err = pcall(function()
      local d <close> = ds
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("dataset <close>: still in use by an experiment or a loader", 1, true),
      tostring(err))
    assert.are.equal(8, #ds) -- untouched
    assert.truthy(l:next())
    l:close()
    assert.is_true(pcall(function()
      local d <close> = ds
    end))
  end)

  it("count several holders", function()
    local ds = det.data.fashion { split = "train", images = 8, size = 64, seed = 1 }
    local a = ds:loader { batch = 4, size = 64, workers = 1 }
    local b = ds:loader { batch = 4, size = 64, workers = 1 }
    a:close()
    a:close() -- twice: counted once
    assert.is_false(pcall(function() local d <close> = ds end))
    b:close()
    assert.is_true(pcall(function() local d <close> = ds end))
  end)
end)
