-- det.sched: constructors, keys, s:lr, warm-up, Lua functions and plot.
local det = require "det"

local function close(a, b) return math.abs(a - b) <= 1e-12 * math.max(1, math.abs(b)) end

describe("det.sched", function()
  it("evaluates a schedule as a pure function of the step", function()
    local s = det.sched.cosine{ lr = 0.1, steps = 100, min_lr = 0.002 }
    assert.is_true(close(s:lr(50), 0.051))
    assert.is_true(close(s:lr(0), 0.1))
    assert.are.equal(s:lr(37), s:lr(37))
    assert.are.equal("cosine", s.kind)
    assert.are.equal(100, s.steps)
  end)

  it("names a misspelt key and lists the valid ones", function()
    local ok, err = pcall(det.sched.cosine, { lr = 0.1, step = 100 })
    assert.is_false(ok)
    assert.truthy(err:find("no key 'step'", 1, true))
    assert.truthy(err:find("valid: lr, steps, min_lr, per", 1, true))
    ok, err = pcall(det.sched.cyclic, { base_lr = 0.01, max_lr = 0.1, mode = "tri" })
    assert.truthy(err:find("triangular2", 1, true))
    ok, err = pcall(det.sched.step, { lr = 0.1, step_size = "ten" })
    assert.truthy(err:find("step_size", 1, true))
  end)

  it("fields read and write", function()
    local s = det.sched.multistep{ lr = 0.1, milestones = { 10, 20 } }
    assert.are.same({ 10, 20 }, s.milestones)
    s.gamma = 0.5
    assert.is_true(close(s:lr(15), 0.05))
    s.milestones = { 5 }
    assert.is_true(close(s:lr(15), 0.05))
    assert.is_true(close(s:lr(4), 0.1))
  end)

  it("says what is missing and fills it when bound", function()
    local s = det.sched.cosine{}
    local ok, err = pcall(s.lr, s, 0)
    assert.is_false(ok)
    assert.truthy(err:find("lr is not set", 1, true))
    s:bind(0.02, 100)
    assert.is_true(close(s:lr(50), 0.01))
  end)

  it("warms any schedule up", function()
    local base = det.sched.step{ lr = 0.1, step_size = 5, gamma = 0.5 }
    local w = det.sched.warmup(base, { steps = 4, start = 0 })
    assert.are.equal(0, w:lr(0))
    assert.is_true(close(w:lr(2), 0.05))
    assert.is_true(close(w:lr(6), 0.05))
    assert.truthy(tostring(w):find("warmup(4 steps from 0) of step", 1, true))
    assert.are.equal("step", w.inner.kind)
  end)

  it("takes a Lua function of (step, epoch), also inside a warm-up", function()
    local f = det.sched.fn(function(step, epoch) return 0.01 * (epoch or 1) / (1 + step) end)
    assert.is_true(close(f:lr(9, 2), 0.002))
    local w = det.sched.warmup(f, { steps = 10, start = 0.5 })
    assert.is_true(close(w:lr(4, 1), 0.7 * 0.002))
    local bad = det.sched.fn(function() return "x" end)
    local ok, err = pcall(bad.lr, bad, 3)
    assert.is_false(ok)
    assert.truthy(err:find("not a number", 1, true))
    local boom = det.sched.fn(function() error("boom") end)
    ok, err = pcall(boom.lr, boom, 3)
    assert.truthy(err:find("boom", 1, true))
    assert.is_true(close(f:lr(9, 2), 0.002))    -- still works after errors
  end)

  it("cycles the momentum opposite to the lr, as PyTorch does", function()
    local s = det.sched.onecycle{ max_lr = 0.1, steps = 100 }
    assert.are.equal(0.95, s:momentum(0))
    assert.is_true(close(s:momentum(29), 0.85))
    assert.is_true(s.cycle_momentum)
    local off = det.sched.onecycle{ max_lr = 0.1, steps = 100, cycle_momentum = false }
    assert.is_nil(off:momentum(10))
    assert.is_nil(det.sched.cosine{ lr = 1, steps = 10 }:momentum(3))
    assert.are.equal(0.95, det.sched.warmup(s, { steps = 5 }):momentum(0))
  end)

  it("counts epochs when asked", function()
    local s = det.sched.multistep{ lr = 0.02, milestones = { 8, 11 }, per = "epoch" }
    assert.are.equal(0.02, s:lr(100, 7.5))
    assert.is_true(close(s:lr(100, 8), 0.002))
    local ok, err = pcall(s.lr, s, 100)
    assert.truthy(err:find("counts epochs", 1, true))
  end)

  it("plots a curve: values, braille rows, labelled axes, at most 80 columns", function()
    local s = det.sched.warmup(det.sched.cosine{ lr = 0.01, steps = 1000, min_lr = 1e-4 }, { steps = 100 })
    local values, text = det.sched.plot(s, 1000, { print = false })
    assert.are.equal(1000, #values)
    assert.are.equal(s:lr(0), values[1])
    assert.are.equal(s:lr(999), values[1000])
    local lines = {}
    for l in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
    assert.are.equal(1 + 10 + 2 + 1, #lines)           -- title, rows, axis, labels, min/max
    for _, l in ipairs(lines) do assert.truthy(utf8.len(l) <= 80) end
    assert.truthy(lines[1]:find("^lr over 1000 steps: warmup%(100 steps from 0.001%) of cosine"))
    local axis_col
    for i = 2, 11 do
      local l = lines[i]
      assert.truthy(utf8.len(l) <= 80)
      assert.truthy(l:find("[\u{2800}-\u{28FF}]") or l:find("\u{2800}", 1, true))
      local col = utf8.len(l:match("^(.-)[┤│]"))
      axis_col = axis_col or col
      assert.are.equal(axis_col, col)                  -- the y axis is one straight line
    end
    local lo, hi = math.huge, -math.huge
    for _, v in ipairs(values) do lo, hi = math.min(lo, v), math.max(hi, v) end
    assert.truthy(lines[2]:find(("%.3g ┤"):format(hi), 1, true))    -- max at the top
    assert.truthy(lines[11]:find(("%.3g ┤"):format(lo), 1, true))   -- min at the bottom
    assert.are.equal(axis_col, utf8.len(lines[12]:match("^(.-)└")))
    assert.truthy(lines[13]:find("^%s+0%s+200%s+400"))
    assert.truthy(lines[14]:find(("min 1e-05 at step 0, max %.3g at step 100"):format(hi), 1, true))
    -- the curve's dots: the top row holds the peak near step 100 (column 100/1000 of 60)
    local top = {}
    for _, c in utf8.codes(lines[2]) do top[#top + 1] = c end
    local first_dot
    for i = axis_col + 2, #top do
      if top[i] ~= 0x2800 then first_dot = i - axis_col - 2; break end
    end
    assert.truthy(first_dot and first_dot >= 4 and first_dot <= 8)
  end)

  it("plots a constant honestly and a plain Lua function", function()
    local _, text = det.sched.plot(det.sched.constant{ lr = 0.1 }, 50, { print = false, width = 20, height = 4 })
    assert.truthy(text:find("constant 0.1", 1, true))
    local v = det.sched.plot(function(k) return k end, 5, { print = false })
    assert.are.same({ 0, 1, 2, 3, 4 }, v)
  end)
end)
