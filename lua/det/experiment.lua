-- det.experiment: a training run of a det.model on a dataset, steered from
-- the prompt while it trains. The loop runs on its own thread in C
-- (src/train/trainer.c through src/lua/lexperiment.c); this file checks the
-- recipe's keys, builds the graphs, detector and optimiser binding, routes
-- live changes (exp.optim.lr = x, exp.loss.weights.cls = 2, exp.schedule =
-- s) through the trainer's command queue, and runs the Lua callbacks on the
-- main thread when events are polled (the screen's idle loop, `detbench
-- run`, exp:wait()).
local core = require("det.core").experiment
local options = require "det.options"

local M = {}
local Exp = {}
local S = setmetatable({}, { __mode = "k" })  -- proxy -> private state
local running = {}                             -- experiments with a live thread

local known = {
  name = true, model = true, train = true, val = true, loss = true, optim = true, schedule = true,
  epochs = true, steps = true, batch = true, minutes = true, accumulate = true, ema = true,
  eval_every = true, early_stop = true, run_dir = true, seed = true, on_step = true, on_epoch = true,
  on_eval = true, workers = true, size = true, eval_batch = true, save_every = true, nan = true,
  detector = true, log_every = true, recipe = true, letterbox = true, mean = true, std = true,
}
local known_list = {}
for k in pairs(known) do known_list[#known_list + 1] = k end
table.sort(known_list)

local closest = options.closest

local function unknown(what, k, list)
  local hint = closest(tostring(k), list)
  return ("%s: unknown key '%s'%s"):format(what, tostring(k), hint and (" (did you mean '" .. hint .. "'?)") or "")
end

local function check_keys(what, t, allowed)
  local list = {}
  for k in pairs(allowed) do list[#list + 1] = k end
  table.sort(list)
  for k in pairs(t) do
    if not allowed[k] then error(unknown(what, k, list), 3) end
  end
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- the text of the file that called det.experiment{...} (kept in checkpoints)
local function caller_source()
  for level = 3, 8 do
    local info = debug.getinfo(level, "S")
    if not info then break end
    if info.source:sub(1, 1) == "@" and not info.source:find("det/experiment.lua", 1, true) then
      return read_file(info.source:sub(2))
    end
  end
  return nil
end

-- det.experiment{ ... } -> experiment
local function new(o)
  if type(o) ~= "table" then error("det.experiment: a table of settings expected", 2) end
  for k in pairs(o) do
    if not known[k] then error(unknown("det.experiment", k, known_list), 2) end
  end
  if not o.model then error("det.experiment: model is missing (a det.model)", 2) end
  if not o.train then error("det.experiment: train is missing (a dataset)", 2) end
  if not o.optim then error("det.experiment: optim is missing (e.g. det.optim.sgd{ lr = 0.01, momentum = 0.9 })", 2) end
  if o.steps == nil and o.epochs == nil and o.minutes == nil then
    error("det.experiment: say how long to train: epochs =, steps = or minutes =", 2)
  end
  if o.eval_every ~= nil and type(o.eval_every) ~= "table" then
    error("det.experiment: eval_every is a table { epochs = n } or { minutes = m }", 2)
  end
  check_keys("det.experiment: eval_every", o.eval_every or {}, { epochs = true, minutes = true })
  check_keys("det.experiment: early_stop", o.early_stop or {},
    { metric = true, patience = true, min_delta = true, mode = true })
  check_keys("det.experiment: loss", o.loss or {}, { cls = true, box = true, quality = true, weights = true })
  for _, cb in ipairs { "on_step", "on_epoch", "on_eval" } do
    if o[cb] ~= nil and type(o[cb]) ~= "function" then error(("det.experiment: %s must be a function"):format(cb), 2) end
  end
  local name = o.name or "experiment"
  local st = {
    o = o, name = name, model = o.model, train = o.train, val = o.val, opt = o.optim,
    schedule = o.schedule, batch = o.batch or 16, size = o.size or o.model.size or 128,
    run_dir = o.run_dir or ("runs/" .. name:gsub("[^%w%-_.]", "_")),
    callbacks = { step = o.on_step, epoch = o.on_epoch, eval = o.on_eval },
    recipe = o.recipe or caller_source(),
  }
  local proxy = setmetatable({}, Exp)
  S[proxy] = st
  return proxy
end

-- builds the C trainer on first use (train, resume_from, eval, predict)
local function trainer(self)
  local st = S[self]
  if st.t then return st.t end
  local o = st.o
  local model = st.model
  if o.ema then
    local e = type(o.ema) == "table" and o.ema or { decay = o.ema }
    if e.decay == true then e.decay = 0.9998 end
    st.opt.ema = e.decay
    if e.warmup then st.opt.ema_warmup = e.warmup end
  end
  local m = model:graph { batch = st.batch, size = st.size, train = true }
  model:bind(st.opt)
  local em = st.val and model:graph { batch = o.eval_batch or st.batch, size = st.size, train = false }
  local dopts = {}
  for k, v in pairs(o.detector or {}) do dopts[k] = v end
  if o.loss then dopts.loss = o.loss end
  local d = model:detector(dopts)
  local es = o.early_stop or {}
  local ev = o.eval_every or {}
  local spec = {
    train_graph = m.graph, train_input = m.input,
    eval_graph = em and em.graph, eval_input = em and em.input,
    optim = st.opt, train = st.train, val = st.val, detector = d,
    sampler = st.train.sampler and st.train:sampler() or nil,
    name = st.name, run_dir = st.run_dir, epochs = o.epochs, steps = o.steps, minutes = o.minutes,
    accumulate = o.accumulate, batch = st.batch, size = st.size, workers = o.workers, seed = o.seed,
    eval_epochs = ev.epochs or (ev.minutes and 0) or 1, eval_minutes = ev.minutes,
    es_metric = es.metric, es_patience = es.patience, es_min_delta = es.min_delta, es_mode = es.mode,
    save_epochs = o.save_every, nan = o.nan, log_every = o.log_every, recipe = st.recipe,
    letterbox = o.letterbox == false and 0 or nil, mean = o.mean, std = o.std,
  }
  if o.minutes and not o.steps and not o.epochs then spec.epochs = 0 end
  local sched = st.schedule
  if type(sched) == "userdata" then spec.sched = sched end
  local ok, t = pcall(core.new, spec)
  if not ok and tostring(t):find("tabulated", 1, true) then
    spec.sched = nil
    ok, t = pcall(core.new, spec)
    sched = sched and function(step, epoch) return sched:lr(step, epoch) end
  end
  if not ok then error("det.experiment: " .. tostring(t):gsub("^[^:]*:%d+: ", ""), 3) end
  if type(sched) == "function" then
    -- a Lua schedule runs here, on the main thread, before training
    local _, total = t:step()
    local spe = math.max(1, math.floor(#st.train / st.batch) // (o.accumulate or 1))
    local lrs = {}
    for k = 0, math.max(total, 1) - 1 do lrs[k + 1] = sched(k, k / spe) end
    t:schedule(lrs)
  end
  st.t, st.detector, st.graphs = t, d, { m, em }
  return t
end

local function call(st, self, name, ...)
  local fn = st.callbacks[name]
  if not fn then return end
  local ok, err = pcall(fn, self, ...)
  if not ok then io.stderr:write(("det.experiment %s: on_%s failed: %s\n"):format(st.name, name, tostring(err))) end
end

-- exp:poll([wait_ms]) -> number of events handled: runs the callbacks of
-- what happened since the last poll (main thread)
function Exp:poll(wait)
  local st = S[self]
  if not st.t then return 0 end
  local evs = st.t:poll(wait or 0)
  for _, e in ipairs(evs) do
    if e.kind == "step" then
      call(st, self, "step", e)
    elseif e.kind == "epoch" then
      call(st, self, "epoch", e)
    elseif e.kind == "eval" then
      -- (the samples panel was refreshed by t:poll when the screen is up)
      local all = st.t:evals()
      e.figures = all[#all]
      st.evals_seen = (st.evals_seen or 0) + 1
      -- e.result: the evaluation with its detections (a det.eval.result), a
      -- copy made only when the callback reads it (the trainer keeps its
      -- own for exp:eval() and `detbench run`'s final table)
      setmetatable(e, { __index = function(ev, k)
        if k ~= "result" then return nil end
        rawset(ev, "result", st.t:eval_copy() or ev.figures)
        return rawget(ev, "result")
      end })
      call(st, self, "eval", e)
    elseif e.kind == "done" then
      running[self] = nil
      st.done = true
    end
  end
  return #evs
end

local function poll_all()
  for exp in pairs(running) do exp:poll(0) end
end

-- the terminal hung up: stop every run at a step boundary (each saves
-- last.ckpt as it ends) and wait for them
local function stop_all()
  for exp in pairs(running) do exp:stop() end
  for exp in pairs(running) do exp:wait() end
end

local poll_registered = false

-- exp:train() -> exp: starts the trainer thread and returns at once
function Exp:train()
  local st = S[self]
  local t = trainer(self)
  if t:running() then error("det.experiment: " .. st.name .. " is already training", 2) end
  local ok, err = t:start()
  if not ok then error("det.experiment: " .. tostring(err), 2) end
  st.done = false
  running[self] = true
  if not poll_registered then
    core.set_poll(poll_all, stop_all)
    poll_registered = true
  end
  return self
end

function Exp:pause() trainer(self):pause(); return self end
function Exp:resume() trainer(self):resume(); return self end
function Exp:stop() trainer(self):stop(); return self end

-- exp:save([path]) -> true | nil, message (while training: last.ckpt at the next step boundary)
function Exp:save(path) return trainer(self):save(path) end

-- exp:wait() -> true | nil, message: until the run ends, running callbacks
function Exp:wait()
  local st = S[self]
  local t = trainer(self)
  while t:running() do self:poll(100) end
  self:poll(0)
  running[self] = nil
  return t:join()
end

function Exp:running() return S[self].t ~= nil and S[self].t:running() end

-- exp:eval() -> det.eval.result on the validation set (now; while training,
-- at the next step boundary)
function Exp:eval()
  local st = S[self]
  local t = trainer(self)
  if not st.val then error("det.experiment: no val set to evaluate on", 2) end
  if t:running() then
    local before = st.evals_seen or 0
    t:eval_now()
    -- the eval event comes after the result is ready to take
    while t:running() and (st.evals_seen or 0) == before do self:poll(50) end
  else
    local ok, err = t:evaluate()
    if not ok then error("det.experiment: " .. tostring(err), 2) end
  end
  local r, err = t:take_eval()
  if not r then error("det.experiment: " .. tostring(err), 2) end
  if not t:running() then
    -- no poll will see this evaluation with its detections: show it now
    -- (nil, message without a screen)
    pcall(require("det.core").ui.show_result, r, st.val)
  end
  return r
end

-- exp:predict(ds) -> det.eval.result of the model on ds (r:save("dets.json"))
function Exp:predict(ds)
  local t = trainer(self)
  if t:running() then error("det.experiment: predict while training: the training thread must end first (a pause is not enough); call exp:wait() or exp:stop() first", 2) end
  local r, err = t:predict(ds)
  if not r then error("det.experiment: " .. tostring(err), 2) end
  return r
end

-- exp:gt_losses(ds) -> { loss of each GT box of ds } in r:ground_truth()'s
-- order (NaN: no location assigned), for r:suspects{ losses = ... }
function Exp:gt_losses(ds)
  local t = trainer(self)
  if t:running() then error("det.experiment: gt_losses while training: the training thread must end first (a pause is not enough); call exp:wait() or exp:stop() first", 2) end
  local v, err = t:gt_losses(ds)
  if not v then error("det.experiment: " .. tostring(err), 2) end
  return v
end

-- exp:resume_from(dir_or_ckpt) -> the checkpoint's path | raises
function Exp:resume_from(path)
  local t = trainer(self)
  local p, err = t:resume_from(path)
  if not p then error("det.experiment: " .. tostring(err), 2) end
  return p
end

-- live views -------------------------------------------------------------

local function optim_proxy(self)
  local st = S[self]
  return setmetatable({}, {
    __index = function(_, k) return st.opt[k] end,
    __newindex = function(_, k, v)
      if st.t then st.t:set(k, v) else st.opt[k] = v end
    end,
    __tostring = function() return tostring(st.opt) end,
  })
end

local function loss_proxy(self)
  local st = S[self]
  local weights = setmetatable({}, {
    __index = function(_, k) return trainer(self):weight(k) end,
    __newindex = function(_, k, v) trainer(self):weight(k, v) end,
  })
  return setmetatable({}, {
    __index = function(_, k)
      if k == "weights" then return weights end
      return (st.o.loss or {})[k]
    end,
    __newindex = function(_, k)
      error(("det.experiment: loss.%s cannot change while the experiment exists (loss.weights can)"):format(tostring(k)), 2)
    end,
  })
end

local Metrics = {}
Metrics.__index = function(m, k)
  if Metrics[k] then return Metrics[k] end
  return rawget(m, "_t"):last(k)
end
function Metrics:series(name, max) return self._t:series(name, max) end
function Metrics:last(name) return self._t:last(name) end
function Metrics:names() return self._t:series_names() end
function Metrics:evals() return self._t:evals() end
function Metrics:events(first) return self._t:events(first) end
function Metrics:progress() return self._t:progress() end
Metrics.__tostring = function(m)
  local t = rawget(m, "_t")
  local parts = {}
  for _, n in ipairs(t:series_names()) do
    local v = t:last(n)
    if v then parts[#parts + 1] = ("%s %.4g"):format(n, v) end
  end
  return ("<metrics: %s; %d evaluations>"):format(#parts > 0 and table.concat(parts, ", ") or "no steps yet", #t:evals())
end

local fields = {
  optim = optim_proxy,
  loss = loss_proxy,
  metrics = function(self) return setmetatable({ _t = trainer(self) }, Metrics) end,
  name = function(self) return S[self].name end,
  model = function(self) return S[self].model end,
  train_set = function(self) return S[self].train end,
  val = function(self) return S[self].val end,
  run_dir = function(self) return S[self].run_dir end,
  schedule = function(self) return S[self].schedule end,
  detector = function(self) trainer(self); return S[self].detector end,
  progress = function(self) return trainer(self):progress() end,
  step = function(self) return (trainer(self):step()) end,
  state = function(self) return trainer(self):progress().state end,
  message = function(self) return trainer(self):message() end,
}

Exp.__index = function(self, k)
  local m = rawget(Exp, k)
  if m then return m end
  local f = fields[k]
  if f then return f(self) end
  error(("det.experiment: no field or method '%s'"):format(tostring(k)), 2)
end

Exp.__newindex = function(self, k, v)
  local st = S[self]
  if k == "schedule" then
    if st.t then
      if type(v) == "function" then
        local step, total = st.t:step()
        local lrs = {}
        for i = 0, math.max(total, step + 1) - 1 do lrs[#lrs + 1] = v(i, nil) end
        st.t:schedule(lrs)
      else
        st.t:schedule(v)
      end
    end
    st.schedule = v
    return
  end
  if k == "on_step" or k == "on_epoch" or k == "on_eval" then
    st.callbacks[k:sub(4)] = v
    return
  end
  error(("det.experiment: '%s' cannot be set (settable: schedule, on_step, on_epoch, on_eval; and exp.optim.<key>, exp.loss.weights.<part>)"):format(tostring(k)), 2)
end

Exp.__tostring = function(self)
  local st = S[self]
  if not st.t then return ("<det.experiment %s: not started>"):format(st.name) end
  local p = st.t:progress()
  local loss = st.t:last("loss")
  local ev = st.t:evals()
  -- right after train() the thread has not reported yet: it is starting,
  -- and its length is not known until it has planned the run
  local state = (p.state == "idle" and st.t:running()) and "starting" or p.state
  local total = (p.total_steps or 0) > 0 and ("/%d"):format(p.total_steps) or ""
  return ("<det.experiment %s: %s, step %d%s, epoch %.2f%s%s>"):format(st.name, state, p.step, total,
    p.epoch, loss and (", loss %.4f"):format(loss) or "", #ev > 0 and (", AP %.3f"):format(ev[#ev].AP) or "")
end

Exp.__close = function(self)
  local st = S[self]
  if st and st.t then st.t:close() end
end

-- det.experiment.params(defaults) -> table: the recipe's tunables, each
-- overridable by `key=value` words after the recipe on the command line
-- (detbench run recipe.lua steps=5) or in $DETBENCH_PARAMS ("a=1,b=2");
-- a key that is not in defaults raises, naming it. words (a list of
-- "key=value" strings) replaces the command line when given
function M.params(defaults, words)
  local out = {}
  for k, v in pairs(defaults) do out[k] = v end
  local list = {}
  for k in pairs(defaults) do list[#list + 1] = k end
  table.sort(list)
  local function set(word, where)
    local k, v = word:match("^([%w_]+)=(.*)$")
    if not k then return end
    if defaults[k] == nil then error(unknown("recipe parameter (" .. where .. ")", k, list), 3) end
    if type(defaults[k]) == "number" then
      local n = tonumber(v)
      if not n then error(("recipe parameter %s: a number expected, got '%s'"):format(k, v), 3) end
      out[k] = n
    elseif type(defaults[k]) == "boolean" then
      out[k] = v == "true" or v == "1" or v == "yes"
    else
      out[k] = v
    end
  end
  for word in (os.getenv("DETBENCH_PARAMS") or ""):gmatch("[^,%s]+") do set(word, "DETBENCH_PARAMS") end
  words = words or (type(arg) == "table" and arg) or {}
  for i = 1, #words do set(words[i], "command line") end
  return out
end

M.find_checkpoint = core.find_checkpoint
M.Experiment = Exp
M.Metrics = Metrics
M.running = function()
  local l = {}
  for e in pairs(running) do l[#l + 1] = e end
  return l
end
M.is = function(v) return S[v] ~= nil end
-- the C trainer (det.trainer) of an experiment: for detbench run (src/train/run_cli.c)
M._trainer = function(v) return S[v] and trainer(v) end

return setmetatable(M, { __call = function(_, o) return new(o) end })
