-- det.pretty: readable printing of Lua values at the prompt.
-- Tables print with sorted keys, one line when short, indented when long;
-- cycles and depth are bounded; objects with __tostring or __name print as
-- themselves.
local pretty = {}

local WIDTH = 78
local MAX_ITEMS = 40
local MAX_DEPTH = 4

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local format

local function scalar(v)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
    return string.format("%.7g", v)
  end
  if t == "table" or t == "userdata" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__tostring then return tostring(v) end
    if type(mt) == "table" and type(mt.__name) == "string" and t == "userdata" then
      return string.format("<%s>", mt.__name)
    end
    if t == "userdata" then return tostring(v) end
    return nil
  end
  return tostring(v)
end

format = function(v, indent, seen, depth)
  local s = scalar(v)
  if s then return s end
  if seen[v] then return "<cycle>" end
  if depth >= MAX_DEPTH then return "{...}" end
  seen[v] = true
  local parts = {}
  local n = #v
  for i = 1, math.min(n, MAX_ITEMS) do
    parts[#parts + 1] = format(v[i], indent .. "  ", seen, depth + 1)
  end
  local keys = {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_order)
  local shown = #parts
  for _, k in ipairs(keys) do
    if shown >= MAX_ITEMS then break end
    local ks = is_identifier(k) and k or ("[" .. (scalar(k) or tostring(k)) .. "]")
    parts[#parts + 1] = ks .. " = " .. format(v[k], indent .. "  ", seen, depth + 1)
    shown = shown + 1
  end
  local total = n + #keys
  if total > shown then parts[#parts + 1] = string.format("... (%d more)", total - shown) end
  seen[v] = nil
  if #parts == 0 then return "{}" end
  local one = "{ " .. table.concat(parts, ", ") .. " }"
  if #one + #indent <= WIDTH and not one:find("\n") then return one end
  return "{\n" .. indent .. "  " .. table.concat(parts, ",\n" .. indent .. "  ") .. "\n" .. indent .. "}"
end

--- pretty.format(v) -> string: a readable rendering of any value.
function pretty.format(v)
  return format(v, "", {}, 0)
end

--- pretty.values(...) -> string: several values, tab-separated (what the prompt prints).
function pretty.values(...)
  local out = {}
  for i = 1, select("#", ...) do
    out[i] = pretty.format((select(i, ...)))
  end
  return table.concat(out, "\t")
end

return pretty
