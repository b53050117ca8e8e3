-- det.nn: neural-network blocks that compose in Lua and build the C engine's
-- static graph. A block is a table of child blocks and options with a
-- forward(self, x) that turns graph nodes into graph nodes; det.nn.build
-- runs it once on an input shape and returns a model (graph + parameter
-- slabs) that runs forward and backward on tensors. Axes are 1-based
-- (axis 2 is channels in NCHW).
local core = require "det.core"
local C, T = core.nn, core.tensor

local nn = {}

local Block = {}
Block.__index = Block
local Node = {}
Node.__index = Node

local function is_block(v)
  return getmetatable(v) == Block
end

local function is_node(v)
  return getmetatable(v) == Node
end

---------------------------------------------------------------------------
-- the build context: the graph, the current name prefix, the summary rows
---------------------------------------------------------------------------

local Ctx = {}
Ctx.__index = Ctx
local current -- the context of the build in progress (det.nn.param uses it)

local function new_ctx(g)
  return setmetatable({ g = g, stack = {}, used = {}, rows = {}, renamed = {} }, Ctx)
end

function Ctx:prefix()
  local top = self.stack[#self.stack]
  return top and top.name or ""
end

-- A fresh node name: the block's own name for its first unnamed op, else
-- "<block>.<base>", made unique with _1, _2, ...
function Ctx:name(base)
  local p = self:prefix()
  local full
  if base == nil and p ~= "" and not self.used[p] then
    full = p
  else
    base = base or "op"
    full = p == "" and base or (p .. "." .. base)
  end
  if self.used[full] then
    local k = 1
    while self.used[full .. "_" .. k] do k = k + 1 end
    full = full .. "_" .. k
  end
  self.used[full] = true
  return full
end

function Ctx:node(id)
  return setmetatable({ ctx = self, id = id, shape = self.g:shape(id) }, Node)
end

-- Adds an op node; its FLOPs count for every open block.
function Ctx:op(op, srcs, opts, base)
  local ids = {}
  for i, s in ipairs(srcs) do
    if not is_node(s) then
      error(("det.nn: %s expects graph nodes, argument %d is a %s"):format(op, i, type(s)), 3)
    end
    ids[i] = s.id
  end
  local id = self.g:op(op, self:name(base or (op ~= "conv2d" and op or nil)), ids, opts)
  local f = self.g:flops(id)
  for _, row in ipairs(self.stack) do row.flops = row.flops + f end
  return self:node(id)
end

-- A parameter of the current block: "<block>.<name>".
function Ctx:param(name, shape, init, opts, flags)
  local p = self:prefix()
  local full = p == "" and name or (p .. "." .. name)
  local shared = self.g:tensor(full) ~= nil -- a block applied twice shares its weights
  local id = self.g:param(full, shape, init, opts, flags)
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  if not shared then
    for _, row in ipairs(self.stack) do row.params = row.params + n end
  end
  return self:node(id)
end

local function first_node(v)
  if is_node(v) then return v end
  if type(v) == "table" then
    for _, x in pairs(v) do
      local n = first_node(x)
      if n then return n end
    end
  end
end

local function shape_str(shape)
  return "(" .. table.concat(shape, ", ") .. ")"
end

---------------------------------------------------------------------------
-- blocks
---------------------------------------------------------------------------

-- Calling a block on a node runs its forward under its name.
function Block.__call(self, x, ...)
  local node = first_node(x)
  if not node then
    error("det.nn: a block is called on graph nodes (build a model with det.nn.build)", 2)
  end
  local ctx = node.ctx
  local parent = ctx.stack[#ctx.stack]
  local name = self._name and (parent and parent.name ~= "" and (parent.name .. "." .. self._name)
    or self._name) or (parent and parent.name or "")
  ctx.started = (ctx.started or 0) + 1
  local row = { name = name, kind = self.kind or "block", depth = #ctx.stack, params = 0, flops = 0,
    start = ctx.started, first_id = ctx.g:count() }
  ctx.stack[#ctx.stack + 1] = row
  local saved = current
  current = ctx
  local ok, y = pcall(self.forward, self, x, ...)
  current = saved
  ctx.stack[#ctx.stack] = nil
  if not ok then error(y, 0) end
  if is_node(y) then
    row.shape = shape_str(y.shape)
    -- the block's output carries the block's name, so messages say "from backbone.layer3"
    if name ~= "" and y.id >= row.first_id and not ctx.renamed[y.id] then
      ctx.g:rename(y.id, name)
      ctx.renamed[y.id] = true
    end
  elseif type(y) == "table" then
    local n = 0
    for _ in pairs(y) do n = n + 1 end
    row.shape = ("(%d outputs)"):format(n)
  end
  ctx.rows[#ctx.rows + 1] = row
  if row.depth == 0 and name == "" then row.name = "(model)" end
  return y
end

function Block:forward()
  error("det.nn: block '" .. tostring(self.kind) .. "' has no forward", 2)
end

function Block:__tostring()
  return ("<det.nn.%s%s>"):format(self.kind or "block", self._name and (" " .. self._name) or "")
end

-- Names a block's children after their keys; lists of blocks become
-- "<key>.0", "<key>.1", ... (PyTorch's numbering).
local function adopt(b)
  for k, v in pairs(b) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then
      if is_block(v) then
        rawset(v, "_name", k)
      elseif type(v) == "table" and getmetatable(v) == nil and is_block(v[1]) then
        for i, c in ipairs(v) do rawset(c, "_name", k .. "." .. (i - 1)) end
      end
    end
  end
  return b
end

function nn.block(def)
  def = def or {}
  def.kind = def.kind or "block"
  return setmetatable(adopt(def), Block)
end

-- seq: children "0", "1", ... applied in order.
function nn.seq(list)
  local b = nn.block { kind = "seq" }
  for i, c in ipairs(list) do
    assert(is_block(c), "det.nn.seq: entry " .. i .. " is not a block")
    b[i] = c
    rawset(c, "_name", tostring(i - 1))
  end
  b.forward = function(self, x)
    for i = 1, #self do x = self[i](x) end
    return x
  end
  return b
end

local function opt(t, ...)
  for _, k in ipairs { ... } do
    if t[k] ~= nil then return t[k] end
  end
end

function nn.conv2d(o)
  o = o or {}
  local b = nn.block {
    kind = "conv2d",
    cin = opt(o, "cin", "in", 1), cout = opt(o, "cout", "out", 2),
    k = o.k or 3, stride = o.stride or 1, dil = o.dil or 1, groups = o.groups or 1,
    bias = o.bias or false, init = o.init or "kaiming_normal",
    init_opts = o.init_opts or { gain = math.sqrt(2), mode = "fan_out" },
  }
  b.pad = o.pad or (b.dil * (b.k - 1)) // 2
  assert(b.cout, "det.nn.conv2d: out channels missing ({ out = n })")
  b.forward = function(self, x)
    local cin = self.cin or x.shape[2]
    if self.groups == 0 then self.groups = cin end
    local w = current:param("weight", { self.cout, cin // self.groups, self.k, self.k }, self.init, self.init_opts)
    local srcs = { x, w }
    if self.bias then srcs[3] = current:param("bias", { self.cout }, "zeros", nil, "bias") end
    return current:op("conv2d", srcs, { stride = self.stride, pad = self.pad, dil = self.dil, groups = self.groups })
  end
  return b
end

local function norm(kind, op, o)
  o = o or {}
  local b = nn.block { kind = kind, eps = o.eps or 1e-5, momentum = o.momentum or 0.1, groups = o.groups or 32 }
  b.forward = function(self, x)
    local c = x.shape[2]
    local w = current:param("weight", { c }, "ones", nil, "norm")
    local bias = current:param("bias", { c }, "zeros", nil, "norm")
    return current:op(op, { x, w, bias }, { eps = self.eps, momentum = self.momentum, groups = self.groups })
  end
  return b
end

function nn.bn(o) return norm("bn", "batchnorm", o) end
function nn.gn(o) return norm("gn", "groupnorm", o) end

local function simple(kind, method)
  return function(o)
    local b = nn.block { kind = kind, o = o or {} }
    b.forward = function(self, x) return method(x, self.o) end
    return b
  end
end

---------------------------------------------------------------------------
-- node operations (usable inside any forward)
---------------------------------------------------------------------------

local F = {}
nn.F = F

for _, a in ipairs { "relu", "silu", "sigmoid", "hardswish", "mish", "tanh", "relu6", "reciprocal" } do
  F[a] = function(x) return x.ctx:op(a, { x }) end
end
function F.leaky_relu(x, slope) return x.ctx:op("leaky_relu", { x }, { slope = slope or 0.01 }) end
function F.maxpool(x, k, stride, pad)
  return x.ctx:op("maxpool", { x }, { k = k or 2, stride = stride or k or 2, pad = pad or 0 })
end
function F.avgpool(x, k, stride, pad)
  return x.ctx:op("avgpool", { x }, { k = k or 2, stride = stride or k or 2, pad = pad or 0 })
end
function F.gap(x) return x.ctx:op("global_avgpool", { x }) end
function F.resize(x, h, w, mode)
  mode = mode or "nearest"
  assert(mode == "nearest" or mode == "bilinear", "det.nn: resize mode is nearest or bilinear")
  return x.ctx:op("resize_" .. mode, { x }, { size = { h, w } })
end
function F.upsample(x, scale, mode)
  scale = scale or 2
  return F.resize(x, x.shape[3] * scale, x.shape[4] * scale, mode)
end
function F.add(a, b)
  if type(b) == "number" then return F.scale(a, 1, b) end
  if type(a) == "number" then return F.scale(b, 1, a) end
  return a.ctx:op("add", { a, b })
end
function F.mul(a, b)
  if type(b) == "number" then return F.scale(a, b, 0) end
  if type(a) == "number" then return F.scale(b, a, 0) end
  return a.ctx:op("mul", { a, b })
end
function F.scale(x, a, b) return x.ctx:op("scale", { x }, { a = a or 1, b = b or 0 }) end
function F.sub(a, b)
  if type(b) == "number" then return F.scale(a, 1, -b) end
  if type(a) == "number" then return F.scale(b, -1, a) end
  return F.add(a, F.scale(b, -1, 0))
end
function F.concat(list, axis)
  assert(#list >= 1, "det.nn.F.concat: no nodes")
  return list[1].ctx:op("concat", list, { axis = axis or 2 })
end
function F.slice(x, axis, first, last)
  return x.ctx:op("slice", { x }, { axis = axis, first = first, last = last or x.shape[axis] })
end
-- Splits along axis into pieces of the given sizes (a list that covers the
-- axis), or n equal parts; anything else raises rather than drop elements.
function F.split(x, axis, sizes)
  local size = x.shape[axis]
  if type(sizes) == "number" then
    local n = sizes
    if n < 1 or size % n ~= 0 then
      error(("det.nn: split: size %s along axis %s does not divide into %s equal parts"):format(
        tostring(size), tostring(axis), tostring(n)), 2)
    end
    sizes = {}
    for i = 1, n do sizes[i] = size // n end
  end
  local total = 0
  for _, s in ipairs(sizes) do total = total + s end
  if total ~= size then
    error(("det.nn: split: the sizes add up to %d, axis %s has %s"):format(total, tostring(axis),
      tostring(size)), 2)
  end
  local out, at = {}, 1
  for i, s in ipairs(sizes) do
    out[i] = F.slice(x, axis, at, at + s - 1)
    at = at + s
  end
  return out
end
function F.reshape(x, shape) return x.ctx:op("reshape", { x }, { shape = shape }) end
function F.flatten(x) return F.reshape(x, { x.shape[1], -1 }) end
function F.permute(x, perm) return x.ctx:op("permute", { x }, { perm = perm }) end
function F.sum(x, axes) return x.ctx:op("sum", { x }, { axes = axes }) end
function F.mean(x, axes) return x.ctx:op("mean", { x }, { axes = axes }) end
function F.softmax(x, axis) return x.ctx:op("softmax", { x }, { axis = axis or 2 }) end
function F.log_softmax(x, axis) return x.ctx:op("log_softmax", { x }, { axis = axis or 2 }) end

for k, f in pairs(F) do
  if k ~= "concat" then Node[k] = f end
end
Node.__add = F.add
Node.__sub = F.sub
Node.__mul = F.mul
Node.__unm = function(x) return F.scale(x, -1, 0) end
function Node:size(d) return self.shape[d] end
function Node:__tostring()
  return ("<node %s %s>"):format(self.ctx.g:node(self.id).name, shape_str(self.shape))
end

-- A parameter of the block whose forward is running.
function nn.param(name, shape, init, opts, flags)
  assert(current, "det.nn.param: only inside a block's forward")
  return current:param(name, shape, init or "zeros", opts, flags)
end

nn.relu = simple("relu", F.relu)
nn.silu = simple("silu", F.silu)
nn.sigmoid = simple("sigmoid", F.sigmoid)
nn.hardswish = simple("hardswish", F.hardswish)
nn.mish = simple("mish", F.mish)
nn.tanh = simple("tanh", F.tanh)
nn.leaky_relu = simple("leaky_relu", function(x, o) return F.leaky_relu(x, o.slope) end)
nn.maxpool = simple("maxpool", function(x, o) return F.maxpool(x, o.k, o.stride, o.pad) end)
nn.avgpool = simple("avgpool", function(x, o) return F.avgpool(x, o.k, o.stride, o.pad) end)
nn.gap = simple("gap", F.gap)
nn.upsample = simple("upsample", function(x, o)
  if o.size then return F.resize(x, o.size[1], o.size[2], o.mode) end
  return F.upsample(x, o.scale, o.mode)
end)
nn.flatten = simple("flatten", F.flatten)

-- linear: y = x W^T + b on (N, C) or (N, C, 1, 1) inputs, as a 1x1 convolution.
function nn.linear(o)
  local b = nn.block { kind = "linear", cin = opt(o, "cin", "in", 1), cout = opt(o, "cout", "out", 2),
    bias = o.bias ~= false, init = o.init or "kaiming_uniform", init_opts = o.init_opts or { gain = 1 } }
  b.forward = function(self, x)
    local n, cin = x.shape[1], self.cin or x.shape[2]
    local x4 = #x.shape == 4 and x or F.reshape(x, { n, cin, 1, 1 })
    local w = current:param("weight", { self.cout, cin, 1, 1 }, self.init, self.init_opts)
    local srcs = { x4, w }
    if self.bias then srcs[3] = current:param("bias", { self.cout }, "zeros", nil, "bias") end
    return F.reshape(current:op("conv2d", srcs), { n, self.cout })
  end
  return b
end

-- conv + bn + activation, the detector's everyday unit ("act" = "relu",
-- "silu", "leaky_relu", "hardswish", "mish" or false).
function nn.conv_bn(o)
  local act = o.act == nil and "relu" or o.act
  local b = nn.block { kind = "conv_bn", conv = nn.conv2d(o), bn = nn.bn { eps = o.eps, momentum = o.momentum } }
  b.forward = function(self, x)
    local y = self.bn(self.conv(x))
    if act then y = F[act](y) end
    return y
  end
  return b
end

---------------------------------------------------------------------------
-- models
---------------------------------------------------------------------------

local Model = {}
Model.__index = Model
local format_summary -- the summary table of a model's block rows (below)

local function map_nodes(v, fn)
  if is_node(v) then return fn(v) end
  local out = {}
  for k, x in pairs(v) do out[k] = map_nodes(x, fn) end
  return out
end

-- det.nn.build(block, input_shape[, { seed = 0, share = model, train = true }]) -> model
function nn.build(block, input_shape, o)
  o = o or {}
  assert(is_block(block), "det.nn.build: a block expected")
  local g = C.graph { seed = o.seed or 0, share = o.share and o.share.graph }
  local ctx = new_ctx(g)
  local x = ctx:node(g:input("input", input_shape))
  ctx.used.input = true
  local saved = block._name
  block._name = nil
  local ok, y = pcall(block, x)
  block._name = saved
  if not ok then error(y, 2) end
  local outs = map_nodes(y, function(n) g:output(n.id); return n.id end)
  g:train(o.train ~= false)
  return setmetatable({ graph = g, block = block, input = x.id, input_shape = input_shape,
    outputs = outs, rows = ctx.rows }, Model)
end

-- m:forward(x) -> the output tensor(s), shaped like what the block returned
function Model:forward(x)
  self.graph:set_input(self.input, x)
  local ok, err = self.graph:forward()
  if not ok then return nil, err end
  local g = self.graph
  if type(self.outputs) == "number" then return g:value(self.outputs) end
  local function copy(v)
    if type(v) == "number" then return g:value(v) end
    local t = {}
    for k, x in pairs(v) do t[k] = copy(x) end
    return t
  end
  return copy(self.outputs)
end

-- m:backward(dy): dy shaped like the outputs; nil means ones (for a scalar loss)
function Model:backward(dy)
  local g = self.graph
  local function set(id, d)
    if d == nil then
      d = T.full(g:shape(id), 1)
    end
    g:set_grad(id, d)
  end
  local function walk(v, d)
    if type(v) == "number" then return set(v, d) end
    for k, x in pairs(v) do walk(x, d and d[k]) end
  end
  walk(self.outputs, dy)
  local ok, err = g:backward()
  if not ok then return nil, err end
  return true
end

-- m:profile(): start timing every node; m:profile(false) stops and returns
-- the table of milliseconds per op kind (forward, backward), slowest first.
function Model:profile(on)
  if on ~= false then
    self.graph:profile(true)
    return self
  end
  self.graph:profile(false)
  local by, rows = {}, {}
  for _, t in ipairs(self.graph:times()) do
    local r = by[t.op]
    if not r then
      r = { op = t.op, forward = 0, backward = 0, nodes = 0 }
      by[t.op] = r
      rows[#rows + 1] = r
    end
    r.forward = r.forward + t.forward * 1e3
    r.backward = r.backward + t.backward * 1e3
    r.nodes = r.nodes + 1
  end
  table.sort(rows, function(a, b) return a.forward + a.backward > b.forward + b.backward end)
  local lines = { ("%-16s %6s %12s %12s"):format("op", "nodes", "forward ms", "backward ms") }
  for _, r in ipairs(rows) do
    lines[#lines + 1] = ("%-16s %6d %12.2f %12.2f"):format(r.op, r.nodes, r.forward, r.backward)
  end
  return setmetatable(rows, { __tostring = function() return table.concat(lines, "\n") end })
end

-- m:save(path) -> true | nil, msg; m:load(path, { strict = false }) -> report | nil, msg
function Model:save(path) return self.graph:save(path) end
function Model:load(path, o) return self.graph:load(path, o and o.strict) end

-- m:check(on): forward and backward stop at the first NaN or Inf and
-- return nil and a message naming the node ("layer1.0.bn1 (batchnorm): ...")
function Model:check(on)
  self.graph:check(on ~= false)
  return self
end

function Model:train(on)
  if on == nil then on = true end
  self.graph:train(on)
  return self
end
function Model:eval() return self:train(false) end
function Model:parameters() return self.graph:parameters() end
function Model:buffers() return self.graph:buffers() end
function Model:params() return self.graph:slab("params") end
function Model:grads() return self.graph:slab("grads") end
function Model:state() return self.graph:slab("state") end
function Model:tensor(name, which) return self.graph:tensor(name, which) end
function Model:freeze(prefix) return self.graph:freeze(prefix or "", true) end
function Model:unfreeze(prefix) return self.graph:freeze(prefix or "", false) end
function Model:stats() return self.graph:stats() end
-- m:bind(opt): opt:step() then updates this model's parameters from its gradients
function Model:bind(opt)
  self.graph:bind(opt)
  return self
end
function Model:summary() return format_summary(self.rows) end
function Model:__tostring()
  local s = self.graph:stats()
  return ("<det.nn model %s: %d nodes, %d parameters, %s>"):format(self.block.kind or "block",
    s.nodes, s.parameters, self.graph:train() and "training" or "evaluation")
end

local function human(n)
  for _, u in ipairs { { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e3, "K" } } do
    if n >= u[1] then return ("%.2f%s"):format(n / u[1], u[2]) end
  end
  return tostring(math.floor(n))
end

-- The summary table of a built model's block rows.
function format_summary(rows)
  local lines, w = {}, { 5, 4, 12, 6, 5 }
  local cells = {}
  -- rows arrive children first; list them in build order by depth-first start
  local order = {}
  for i, r in ipairs(rows) do order[i] = r end
  table.sort(order, function(a, b)
    if a.name == "(model)" then return true end
    if b.name == "(model)" then return false end
    return a.start < b.start
  end)
  local total
  for _, r in ipairs(order) do
    if r.name == "(model)" then total = r end
    local c = { string.rep("  ", math.max(r.depth - 1, 0)) .. r.name,
      r.kind, r.shape or "", human(r.params), human(r.flops) }
    if r.name ~= "(model)" then cells[#cells + 1] = c end
    for i = 1, 5 do w[i] = math.max(w[i], #c[i]) end
  end
  local function fmt(c)
    return ("%-" .. w[1] .. "s  %-" .. w[2] .. "s  %-" .. w[3] .. "s  %" .. w[4] .. "s  %" .. w[5] .. "s")
      :format(c[1], c[2], c[3], c[4], c[5])
  end
  lines[1] = fmt { "layer", "kind", "output shape", "params", "FLOPs" }
  lines[2] = string.rep("-", #lines[1])
  for _, c in ipairs(cells) do lines[#lines + 1] = fmt(c) end
  if total then
    lines[#lines + 1] = string.rep("-", #lines[1])
    lines[#lines + 1] = fmt { "total", total.kind, total.shape or "", human(total.params), human(total.flops) }
  end
  return table.concat(lines, "\n")
end

-- det.nn.summary(block, input_shape) -> text (also printed): each layer's
-- name, kind, output shape, parameters and forward FLOPs.
function nn.summary(block, input_shape, o)
  local m = nn.build(block, input_shape, { seed = 0 })
  local s = m:summary()
  if not (o and o.quiet) then print(s) end
  return s
end

nn.Block, nn.Node, nn.Model = Block, Node, Model
return nn
