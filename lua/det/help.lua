-- det.help: `help(x)` and `? x` at the prompt. The text comes from the Lua
-- API reference, doc/manual.md and its chapters doc/api/*.md, so the manual
-- and the prompt never disagree: each documented name has a heading
-- "### `det.name(args)`" (several names may share one heading:
-- "### `x:relu()`, `det.nn.F.relu(x)`"). Methods are documented under the
-- receiver name their chapter uses (`t:shape()`, `m:forward(x)`,
-- `det.experiment:train()`); help.classes below maps each class's method
-- table to those receivers, so help(m.forward) finds `m:forward(x)`.
local help = {}

-- Each class whose methods are documented, and the receiver names its
-- chapter uses. The first receiver is the one its headings are written
-- with; the others are what people call their variables (`? exp:train`,
-- `? r:failures`, `? ds:loader`) and are tried in its place. A class is
-- found by its path from `det` (Lua classes) or by its metatable's name in
-- the registry (C userdata: the method table is the metatable's `methods`
-- or its `__index`). `internal = true` marks a class that no public
-- function returns (its methods are not documented).
help.classes = {
  { path = "det.nn.Node", receivers = { "x", "node" } },
  { path = "det.nn.Model", receivers = { "m" } },
  { path = "det.nn.Block", receivers = { "block" } },
  { registry = "det.tensor", receivers = { "t" } },
  { registry = "det.graph", receivers = { "g", "m.graph" } },
  { path = "det.model.Model", receivers = { "model" } },
  { path = "det.model.Predictions", receivers = { "preds" } },
  { registry = "det.detector", receivers = { "d" } },
  { path = "det.experiment.Experiment", receivers = { "det.experiment", "exp", "recipe" } },
  { path = "det.experiment.Metrics", receivers = { "exp.metrics", "metrics" } },
  { registry = "det.trainer", internal = true },
  { registry = "det.dataset", receivers = { "det.dataset", "ds", "train", "val" } },
  { registry = "det.loader", receivers = { "det.loader", "ld", "loader" } },
  { registry = "det.sampler", receivers = { "det.sampler", "sampler" } },
  { registry = "det.eval.result", receivers = { "det.eval.result", "r", "result" } },
  { registry = "det.optim", receivers = { "opt", "optim" } },
  { registry = "det.sched", receivers = { "s", "sched" } },
  { registry = "det.loss", receivers = { "loss" } },
}

local manual_cache

local function manual_paths()
  local paths = {}
  local env = os.getenv("DETBENCH_MANUAL")
  if env then paths[#paths + 1] = env end
  -- source tree: lua/det/help.lua -> doc/manual.md
  local here = package.searchpath("det.help", package.path)
  if here then
    paths[#paths + 1] = here:gsub("[^/]*$", "") .. "../../doc/manual.md"
  end
  local ok, core = pcall(require, "det.core")
  if ok and core.base.docdir then paths[#paths + 1] = core.base.docdir .. "/manual.md" end
  return paths
end

-- The entry name of a heading's span: "det.experiment:pause()" ->
-- "det.experiment.pause". The first span always names the entry (as
-- "detbench eval ..." -> "detbench"); a later one only when it is a call
-- or a field ("`exp:resume()`", "`exp.schedule`"), not prose.
local function key_of(sig, first)
  local name = sig:match(first and "^([%w_%.:]+)" or "^([%a_][%w_%.:]*)")
  if not name then return nil end
  local after = sig:sub(#name + 1, #name + 1)
  if not first and not (after == "" or after == "(" or after == "{" or after == "[") then return nil end
  return (name:gsub(":", "."))
end

local function load_manual()
  if manual_cache then return manual_cache end
  for _, p in ipairs(manual_paths()) do
    local f = io.open(p, "r")
    if f then
      local text = f:read("a")
      f:close()
      -- the manual's chapters: doc/api/*.md, linked from doc/manual.md
      local dir = p:gsub("[^/]*$", "")
      local read = {}
      for rel in text:gmatch("%((api/[%w_%-]+%.md)%)") do
        local g = not read[rel] and io.open(dir .. rel, "r")
        if g then
          read[rel] = true
          text = text .. "\n" .. g:read("a")
          g:close()
        end
      end
      local entries, order = {}, {}
      local names, buf
      local function flush()
        if names then
          local body = table.concat(buf, "\n"):gsub("%s+$", "")
          for _, n in ipairs(names) do
            if not entries[n] then order[#order + 1] = n end
            entries[n] = body
          end
        end
      end
      for line in (text .. "\n"):gmatch("(.-)\n") do
        local heading = line:match("^###%s+(`.*)")
        if heading or line:match("^##?#?%s") then
          flush()
          names, buf = nil, nil
          if heading then
            names = {}
            -- every `name(...)` span of the heading names the entry
            for sig in heading:gmatch("`([^`]+)`") do
              local k = key_of(sig, #names == 0)
              if k then names[#names + 1] = k end
            end
            buf = { (heading:gsub("`", "")) }
          end
        elseif buf then
          buf[#buf + 1] = line
        end
      end
      flush()
      manual_cache = { entries = entries, order = order, path = p }
      return manual_cache
    end
  end
  manual_cache = { entries = {}, order = {}, path = nil }
  return manual_cache
end

-- The value at a dotted path from `root` (errors from __index are misses).
local function resolve(root, path)
  local v = root
  for part in path:gmatch("[^%.]+") do
    if v == nil then return nil end
    local ok, x = pcall(function() return v[part] end)
    if not ok then return nil end
    v = x
  end
  return v
end

-- The method table of a class in help.classes, or nil.
local function methods_of(c)
  if c.path then
    local det = package.loaded["det"]
    local t = det and resolve(det, c.path:gsub("^det%.?", ""))
    return type(t) == "table" and t or nil
  end
  local reg = debug and debug.getregistry and debug.getregistry()
  local mt = reg and reg[c.registry]
  if type(mt) ~= "table" then return nil end
  local m = rawget(mt, "methods")
  if type(m) ~= "table" then m = rawget(mt, "__index") end
  return type(m) == "table" and m or nil
end

-- method table -> its class entry
local function class_index()
  local by = {}
  for _, c in ipairs(help.classes) do
    local m = methods_of(c)
    if m then by[m] = c end
  end
  return by
end

-- Every name value v has: each dotted path from `det` to it (breadth-first)
-- and, for a method, "<receiver>.<method>" for each receiver of its class.
local function names_of(v)
  local det = package.loaded["det"]
  if not det then return {} end
  if v == det then return { "det" } end
  local classes = class_index()
  local out, have = {}, {}
  local function add(n)
    if not have[n] then have[n] = true; out[#out + 1] = n end
  end
  local function methods(t, k)
    local c = classes[t]
    if c and c.receivers then
      for _, r in ipairs(c.receivers) do add(r .. "." .. k) end
    end
  end
  local queue, seen = { { det, "det" } }, { [det] = true }
  local i = 1
  while queue[i] do
    local t, prefix = queue[i][1], queue[i][2]
    i = i + 1
    for k, x in pairs(t) do
      if type(k) == "string" and not k:match("^_") then
        local name = prefix .. "." .. k
        if x == v then add(name); methods(t, k) end
        if type(x) == "table" and not seen[x] then
          seen[x] = true
          queue[#queue + 1] = { x, name }
        end
      end
    end
  end
  -- C classes' methods are not reachable from det: look in each class
  for t, c in pairs(classes) do
    if not seen[t] and c.receivers then
      for k, x in pairs(t) do
        if x == v and type(k) == "string" and not k:match("^_") then methods(t, k) end
      end
    end
  end
  return out
end

-- The class of an object (its metatable's methods are a class's), or nil.
local function class_of_object(x)
  local mt = getmetatable(x)
  if type(mt) ~= "table" then return nil end
  local by = class_index()
  for _, t in ipairs { rawget(mt, "methods"), rawget(mt, "__index"), mt } do
    if by[t] then return by[t] end
  end
  return nil
end

local function overview(m)
  local out = { "detbench " .. (package.loaded["det"] and package.loaded["det"].version or ""),
    "help(x) or ? x shows the documentation of a det function or module, e.g. ? det.threads",
    "" }
  if #m.order > 0 then
    out[#out + 1] = "Documented names:"
    local line = " "
    for _, n in ipairs(m.order) do
      if #line + #n + 1 > 76 then out[#out + 1] = line; line = " " end
      line = line .. " " .. n
    end
    out[#out + 1] = line
  else
    out[#out + 1] = "(the manual, doc/manual.md, was not found)"
  end
  return table.concat(out, "\n")
end

-- The entries documented under prefix (a module or a receiver), as a listing.
local function listing(m, prefix)
  local under = {}
  for _, n in ipairs(m.order) do
    if n:sub(1, #prefix + 1) == prefix .. "." then under[#under + 1] = "  " .. n end
  end
  if #under > 0 then return prefix .. " holds:\n" .. table.concat(under, "\n") end
end

-- A name typed as a string: the entry itself, then what the name's value
-- is (a global such as `exp`, or a path from det), then the name with a
-- receiver replaced by its class's first one ("r.failures" ->
-- "det.eval.result.failures").
local function lookup_name(m, name)
  name = name:gsub(":", ".")
  for _, n in ipairs { name, "det." .. name } do
    if m.entries[n] then return m.entries[n], n end
  end
  local det = package.loaded["det"]
  local v = resolve(_G, name)
  if v == nil and det then v = resolve(det, name:gsub("^det%.?", "")) end
  if v ~= nil and (type(v) == "function" or type(v) == "table") then
    for _, n in ipairs(names_of(v)) do
      if m.entries[n] then return m.entries[n], n end
    end
  end
  for _, c in ipairs(help.classes) do
    for _, r in ipairs(c.receivers or {}) do
      if name:sub(1, #r + 1) == r .. "." and c.receivers[1] then
        for _, r2 in ipairs(c.receivers) do
          local n = r2 .. name:sub(#r + 1)
          if m.entries[n] then return m.entries[n], n end
        end
      end
    end
  end
  return nil
end

--- help.text(x) -> text, name: the documentation of x (a det function,
-- table, object or a name as a string); name is the entry's, or nil when
-- there is none (text then says so, or lists what a module holds).
function help.text(x)
  local m = load_manual()
  if x == nil then return overview(m) end
  if type(x) == "string" then
    local text, name = lookup_name(m, x)
    if text then return text, name end
    local n = x:gsub(":", ".")
    if not n:match("^det") and not m.entries[n] and resolve(package.loaded["det"] or {}, n) ~= nil then
      n = "det." .. n
    end
    return listing(m, n) or listing(m, "det." .. n)
      or ("no documentation for " .. n .. " (not in " .. (m.path or "the manual") .. ")")
  end
  local names = names_of(x)
  for _, n in ipairs(names) do
    if m.entries[n] then return m.entries[n], n end
  end
  if #names > 0 then
    return listing(m, names[1]) or ("no documentation for " .. names[1] .. " (not in "
      .. (m.path or "the manual") .. ")")
  end
  local c = class_of_object(x)
  if c and c.receivers then
    return listing(m, c.receivers[1]) or ("no documentation for the methods of " .. c.receivers[1])
  end
  return "no documentation: this value is not part of det (" .. type(x) .. ")"
end

setmetatable(help, {
  __call = function(_, x) print((help.text(x))) end,
})

return help
