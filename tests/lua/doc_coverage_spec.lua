-- doc coverage: every public function reachable from require "det" -- the
-- det table, the method tables of the Lua classes (det.nn.Node, det.model.
-- Model, ...) and of the C userdata classes (tensors, datasets, evaluation
-- results, ...) -- has an entry that help() finds in doc/. Names starting
-- with "_" are private and skipped. A failure names every function that
-- has none: document it (doc/api/<module>.md, a heading "### `name(args)`")
-- or, if it is internal, make it local or prefix it with "_".
local det = require "det"

-- The public functions: { name, value } for each, sorted by name.
local function public_functions()
  local out, seen = {}, {}
  local function walk(t, prefix, sep)
    if seen[t] then return end
    seen[t] = true
    local keys = {}
    for k in pairs(t) do
      if type(k) == "string" and not k:match("^_") then keys[#keys + 1] = k end
    end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = rawget(t, k)
      local name = prefix .. sep .. k
      if type(v) == "function" then
        out[#out + 1] = { name = name, value = v }
      elseif type(v) == "table" then
        walk(v, name, ".")
      end
    end
  end
  walk(det, "det", ".")
  -- the C classes: their method tables hang off metatables in the registry
  local classes = {}
  for _, c in ipairs(det.help.classes) do
    if c.registry then classes[c.registry] = c end
  end
  local reg = debug.getregistry()
  local names = {}
  for k in pairs(reg) do
    if type(k) == "string" and k:match("^det%.") then names[#names + 1] = k end
  end
  table.sort(names)
  local unmapped = {}
  for _, k in ipairs(names) do
    local mt = reg[k]
    local m = type(mt) == "table" and (type(rawget(mt, "methods")) == "table" and mt.methods
      or type(rawget(mt, "__index")) == "table" and mt.__index)
    if m then
      local c = classes[k]
      if not c then
        unmapped[#unmapped + 1] = k
      elseif not c.internal then
        walk(m, c.receivers[1], ":")
      end
    end
  end
  return out, unmapped
end

describe("the Lua API reference", function()
  local fns, unmapped = public_functions()

  it("knows the receiver name of every userdata class with methods", function()
    assert.are.same({}, unmapped,
      "add these classes to det.help.classes (lua/det/help.lua) with the receiver their chapter uses")
  end)

  it("finds every class of det.help.classes", function()
    local reg = debug.getregistry()
    for _, c in ipairs(det.help.classes) do
      if c.registry then
        assert.is_table(reg[c.registry], c.registry .. " is not a metatable in the registry")
      else
        local t = det
        for part in c.path:gsub("^det%.", ""):gmatch("[^%.]+") do t = t and t[part] end
        assert.is_table(t, c.path .. " is not reachable from det")
      end
    end
  end)

  it("walks the whole API", function()
    -- a floor, so a broken walk cannot pass by finding nothing
    assert.is_true(#fns > 300, "only " .. #fns .. " public functions found")
  end)

  it("documents every public function", function()
    local missing = {}
    for _, f in ipairs(fns) do
      local _, entry = det.help.text(f.value)
      if not entry then missing[#missing + 1] = f.name end
    end
    assert.are.same({}, missing, #missing .. " of " .. #fns .. " public functions have no entry in doc/")
  end)
end)
