-- golden.lua: reads the text fixtures of tests/golden/ for the Lua specs
-- (dofile'd: the specs run with only lua/ on the module path). A fixture
-- line is "name count v1 v2 ...", "nan" read as NaN.
local golden = {}

-- golden.read("det/det.txt") -> { name = { v1, v2, ... }, ... }
function golden.read(rel)
  local top = os.getenv("top_srcdir") or "."
  local f = assert(io.open(top .. "/tests/golden/" .. rel))
  local t = {}
  for line in f:lines() do
    local name, rest = line:match("^(%S+) %d+ ?(.*)$")
    local v = {}
    for x in rest:gmatch("%S+") do v[#v + 1] = tonumber(x) or (0 / 0) end
    t[name] = v
  end
  f:close()
  return t
end

-- golden.rows(flat, cols): a flat list cut into rows of cols values
function golden.rows(flat, cols)
  local r = {}
  for i = 1, #flat, cols do
    local row = {}
    for k = 0, cols - 1 do row[#row + 1] = flat[i + k] end
    r[#r + 1] = row
  end
  return r
end

return golden
