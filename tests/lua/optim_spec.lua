-- det.optim: constructors, hyper-parameters as fields, unknown keys,
-- stepping plain Lua arrays, state save/load.
local det = require "det"

-- torch.optim.SGD(lr=0.1, momentum=0.9) on p = {1, -2}, g = {0.5, 0.25}:
-- step 1: b = g, p = p - 0.1 b; step 2: b = 0.9 b + g
local function close(a, b, tol)
  return math.abs(a - b) <= (tol or 1e-6) * math.max(1, math.abs(b))
end

describe("det.optim", function()
  it("makes the four optimisers with PyTorch's defaults", function()
    assert.are.equal("sgd", det.optim.sgd{ lr = 0.1 }.kind)
    local a = det.optim.adam{}
    assert.are.equal(0.001, a.lr)
    assert.are.same({ 0.9, 0.999 }, a.betas)
    local w = det.optim.adamw{}
    assert.are.equal(0.01, w.weight_decay)
    assert.is_true(w.decoupled)
    assert.are.equal(0.99, det.optim.rmsprop{}.alpha)
  end)

  it("reads and writes hyper-parameters as fields", function()
    local o = det.optim.sgd{ lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 5e-4 }
    assert.are.equal(0.1, o.lr)
    assert.is_true(o.nesterov)
    o.lr = 0.003
    assert.are.equal(0.003, o.lr)
    o.weight_decay = 0
    assert.are.equal(0, o:config().weight_decay)
    local a = det.optim.adam{ betas = { 0.8, 0.95 } }
    a.betas = { 0.5, 0.9 }
    assert.are.equal(0.5, a.beta1)
    assert.are.equal(0.9, a.beta2)
  end)

  it("names a misspelt key and lists the valid ones", function()
    local ok, err = pcall(det.optim.sgd, { lr = 0.1, momentun = 0.9 })
    assert.is_false(ok)
    assert.truthy(err:find("'momentun'", 1, true))
    assert.truthy(err:find("momentum, dampening", 1, true))
    local o = det.optim.adam{}
    ok, err = pcall(function() o.momentum = 0.9 end)
    assert.is_false(ok)
    assert.truthy(err:find("adam", 1, true) and err:find("'momentum'", 1, true))
    ok, err = pcall(function() return o.lrr end)
    assert.is_false(ok)
    assert.truthy(err:find("has no field 'lrr'", 1, true))
    ok, err = pcall(function() o.lr = -1 end)
    assert.is_false(ok)
    assert.truthy(err:find("lr must be >= 0", 1, true))
    ok, err = pcall(function() o.amsgrad = 1 end)
    assert.truthy(err:find("true or false", 1, true))
    ok, err = pcall(det.optim.sgd, { groups = { { match = "bias", decay = 0 } } })
    assert.truthy(err:find("bad key 'decay'", 1, true))
    ok, err = pcall(function() o.step_count = 3 end)
    assert.truthy(err:find("read-only", 1, true))
  end)

  it("warns about defaulted hyper-parameters through warn()", function()
    local lua = os.getenv("LUA54") or "lua5.4"
    local f = io.popen(lua .. [[ -W -e 'local det = require "det"; det.optim.sgd{ lr = 0.1 };]]
      .. [[ det.optim.adam{ lr = 1e-3, betas = { 0.9, 0.99 }, eps = 1e-8 }' 2>&1]])
    local out = f:read("a")
    f:close()
    assert.truthy(out:find("det.optim.sgd: using defaults momentum=0, weight_decay=0", 1, true))
    assert.is_nil(out:find("det.optim.adam", 1, true) and out:find("beta1", 1, true))
    assert.truthy(out:find("det.optim.adam: using defaults weight_decay=0", 1, true))
  end)

  it("prints nicely", function()
    local o = det.optim.adamw{ lr = 3e-4, clip = 10, ema = { decay = 0.9999, warmup = 2000 } }
    local s = tostring(o)
    assert.truthy(s:find("^<det.optim adamw lr=0.0003 betas=%(0.9, 0.999%)"))
    assert.truthy(s:find("clip=10", 1, true))
    assert.truthy(s:find("ema=0.9999 (warm-up)", 1, true))
    assert.truthy(s:find("(unbound)", 1, true))
  end)

  it("steps plain Lua arrays like torch.optim.SGD", function()
    local o = det.optim.sgd{ lr = 0.1, momentum = 0.9 }
    local p, g = { 1, -2 }, { 0.5, 0.25 }
    local norm = o:step(p, g)
    assert.is_true(close(norm, math.sqrt(0.5 ^ 2 + 0.25 ^ 2)))
    assert.is_true(close(p[1], 0.95) and close(p[2], -2.025))
    o:step(p, { 0.5, 0.25 })
    -- b = 0.9*0.5 + 0.5 = 0.95 -> p = 0.95 - 0.095
    assert.is_true(close(p[1], 0.855))
    assert.are.equal(2, o.step_count)
    assert.are.equal(2, o.params)
  end)

  it("closes cleanly and refuses use after close", function()
    local o = det.optim.sgd{ lr = 0.1 }
    o:step({ 1 }, { 1 })
    o:close()
    assert.truthy(tostring(o):find("closed", 1, true))
    assert.is_false(pcall(o.step, o, { 1 }, { 1 }))
  end)

  it("applies groups by name to tables of named arrays", function()
    local o = det.optim.sgd{ lr = 0.1, weight_decay = 0.5,
                             groups = { { match = "bias|norm", weight_decay = 0, lr_mult = 2 } } }
    local p = { ["conv.weight"] = { 1 }, ["conv.bias"] = { 1 } }
    o:step(p, { ["conv.weight"] = { 0 }, ["conv.bias"] = { 0 } })
    assert.is_true(close(p["conv.weight"][1], 1 - 0.1 * 0.5))   -- decayed
    assert.are.equal(1, p["conv.bias"][1])                       -- no decay in its group
    o:step(p, { ["conv.weight"] = { 0 }, ["conv.bias"] = { 1 } })
    assert.is_true(close(p["conv.bias"][1], 1 - 0.2))            -- lr_mult 2
    assert.are.equal("bias|norm", o.groups[1].match)
  end)

  it("clips the gradient norm and keeps an EMA", function()
    local o = det.optim.sgd{ lr = 1, clip = 1, ema = 0.5 }
    local p, g = { 0, 0 }, { 3, 4 }
    assert.is_true(close(o:step(p, g), 5))
    assert.is_true(close(g[1], 0.6, 1e-5) and close(g[2], 0.8, 1e-5))
    assert.is_true(close(p[1], -0.6, 1e-5))
    local e = o:ema()
    assert.is_true(close(e[1], -0.3, 1e-5))
    assert.are.equal(0.5, o.ema_decay)
  end)

  it("returns nil and a message for a NaN gradient, weights untouched", function()
    local o = det.optim.adam{}
    local p = { 1, 2 }
    local r, err = o:step(p, { 0 / 0, 1 })
    assert.is_nil(r)
    assert.truthy(err:find("gradient norm is", 1, true))
    assert.are.same({ 1, 2 }, p)
  end)

  it("saves and loads state: resuming gives the same weights bit for bit", function()
    local function grads(k) return { math.sin(k), math.cos(k), 0.1 * k } end
    local a = det.optim.adamw{ lr = 0.01 }
    local pa = { 1, 2, 3 }
    for k = 1, 6 do a:step(pa, grads(k)) end

    local b = det.optim.adamw{ lr = 0.01 }
    local pb = { 1, 2, 3 }
    for k = 1, 3 do b:step(pb, grads(k)) end
    local state = b:state()
    local path = os.tmpname()
    assert.is_true(b:save(path))

    local c = det.optim.adamw{ lr = 0.5 }
    c:step({ 0, 0, 0 }, { 0, 0, 0 })          -- binds the layout
    assert.is_true(c:load(path))
    os.remove(path)
    assert.are.equal(0.01, c.lr)               -- the config comes back too
    assert.are.equal(3, c.step_count)
    local pc = { pb[1], pb[2], pb[3] }
    for k = 4, 6 do c:step(pc, grads(k)) end
    assert.are.same(pa, pc)

    local d = det.optim.adamw{}
    d:step({ 0, 0, 0 }, { 0, 0, 0 })
    assert.is_true(d:load_state(state))
    local s = det.optim.sgd{}
    s:step({ 0, 0, 0 }, { 0, 0, 0 })
    local ok, err = s:load_state(state)
    assert.is_nil(ok)
    assert.truthy(err:find("holds adamw state", 1, true))
    ok, err = d:load("/nonexistent/optim.state")
    assert.is_nil(ok)
    assert.truthy(err:find("can't open", 1, true))
  end)
end)
