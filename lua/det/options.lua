-- det.options: the one check every Lua constructor makes of its options
-- table: a key it does not know is an error that names it, suggests the
-- closest known one, and lists them all.
local M = {}

-- The known name with the smallest edit distance to word (at most 3), or nil.
function M.closest(word, list)
  local best, bd = nil, math.huge
  for _, c in ipairs(list) do
    local a, b = word, c
    local prev = {}
    for j = 0, #b do prev[j] = j end
    for i = 1, #a do
      local cur = { [0] = i }
      for j = 1, #b do
        local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
        cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      end
      prev = cur
    end
    if prev[#b] < bd then best, bd = c, prev[#b] end
  end
  return bd <= 3 and best or nil
end

-- M.check(name, o, known[, level]): raises "<name>: unknown option 'k'
-- (did you mean 'x'? expected a, b, c)" for a key of o not in the set
-- known; level as error()'s, counted from the caller of check (2: the
-- caller's caller, the usual place for a constructor's misuse).
function M.check(name, o, known, level)
  for k in pairs(o) do
    if not known[k] then
      local list = {}
      for kk in pairs(known) do list[#list + 1] = kk end
      table.sort(list)
      local hint = type(k) == "string" and M.closest(k, list)
      error(("%s: unknown option '%s' (%sexpected %s)"):format(name, tostring(k),
        hint and ("did you mean '" .. hint .. "'? ") or "", #list > 0 and table.concat(list, ", ") or "none"),
        (level or 2) + 1)
    end
  end
end

return M
