-- det.help: `help(x)` and `? x` at the prompt. The text comes from the Lua
-- API reference, doc/manual.md, so the manual and the prompt never disagree:
-- each documented name has a heading "### `det.name(args)`".
local help = {}

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

local function load_manual()
  if manual_cache then return manual_cache end
  for _, p in ipairs(manual_paths()) do
    local f = io.open(p, "r")
    if f then
      local text = f:read("a")
      f:close()
      -- the manual's chapters: doc/api/*.md, linked from doc/manual.md
      local dir = p:gsub("[^/]*$", "")
      for rel in text:gmatch("%((api/[%w_%-]+%.md)%)") do
        local g = io.open(dir .. rel, "r")
        if g then
          text = text .. "\n" .. g:read("a")
          g:close()
        end
      end
      local entries, order = {}, {}
      local name, buf
      local function flush()
        if name then entries[name] = table.concat(buf, "\n"):gsub("%s+$", "") end
      end
      for line in (text .. "\n"):gmatch("(.-)\n") do
        local sig = line:match("^###%s+`([^`]+)`")
        if sig or line:match("^##?#?%s") then
          flush()
          name, buf = nil, nil
          if sig then
            name = sig:match("^([%w_%.:]+)")
            name = name and name:gsub(":", ".")
            buf = { sig }
            order[#order + 1] = name
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

-- The dotted name under which value v is reachable from `det` (breadth-first).
local function find_name(v)
  local det = package.loaded["det"]
  if not det then return nil end
  if v == det then return "det" end
  local queue, seen = { { det, "det" } }, { [det] = true }
  local i = 1
  while queue[i] do
    local t, prefix = queue[i][1], queue[i][2]
    i = i + 1
    for k, x in pairs(t) do
      if type(k) == "string" and not k:match("^_") then
        local name = prefix .. "." .. k
        if x == v then return name end
        if type(x) == "table" and not seen[x] then
          seen[x] = true
          queue[#queue + 1] = { x, name }
        end
      end
    end
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

--- help(x): prints the documentation of x (a det function, table or a name).
function help.text(x)
  local m = load_manual()
  if x == nil then return overview(m) end
  local name = type(x) == "string" and x or find_name(x)
  if name == nil then
    return "no documentation: this value is not part of det (" .. type(x) .. ")"
  end
  name = name:gsub(":", ".")
  if not name:match("^det") then name = "det." .. name end
  local text = m.entries[name]
  if text then return text end
  -- a module: list what it documents
  local under = {}
  for _, n in ipairs(m.order) do
    if n:sub(1, #name + 1) == name .. "." then under[#under + 1] = "  " .. n end
  end
  if #under > 0 then
    return name .. " holds:\n" .. table.concat(under, "\n")
  end
  return "no documentation for " .. name .. " (not in " .. (m.path or "the manual") .. ")"
end

setmetatable(help, {
  __call = function(_, x) print(help.text(x)) end,
})

return help
