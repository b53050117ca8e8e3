-- det.data: datasets — the built-in Fashion-MNIST scenes and the readers.
--
-- This file owns the det.data table. It is assembled from the C bindings:
--   * every function of require("det.core").data;
--   * every field of a det.core sub-table that marks itself with
--     `_into = "data"` (lfashion.c does; another binding adds its
--     constructors the same way, with one lua_setfield in its luaopen);
--   * the functions of det.core.readers and det.core.coco where present.
-- Names starting with "_" are not copied. Sub-tables are merged in sorted
-- order, so a name clash resolves the same way every time. The dataset
-- methods (ds:augment, ds:sampler, ds:loader, ds:doctor, ...) are not here:
-- each binding adds them to the det.dataset class itself.
local core = require "det.core"

local data = {}

local function merge(t)
  if type(t) ~= "table" then return end
  for k, v in pairs(t) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then data[k] = v end
  end
end

merge(core.data)
local marked = {}
for name, t in pairs(core) do
  if type(t) == "table" and t._into == "data" then marked[#marked + 1] = name end
end
table.sort(marked)
for _, name in ipairs(marked) do merge(core[name]) end
merge(core.readers)
merge(core.coco)

-- Is v a dataset object?
function data.is(v)
  return type(v) == "userdata" and getmetatable(v) ~= nil and tostring(v):sub(1, 9) == "<dataset "
end

return data
