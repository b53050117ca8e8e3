-- det.complete: what Tab offers at the prompt. candidates(word) takes the
-- word before the cursor ("det.da", "x:", "pri") and returns the full words
-- it may become, sorted: globals and keywords, fields of tables (and of the
-- __index tables behind objects), and methods after ':'. Nothing is called
-- but __index functions on the way (det objects have none that do work).
local complete = {}

local keywords = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while",
}

local function is_name(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

-- v[k], or nil when indexing fails or v cannot be indexed.
local function get(v, k)
  local t = type(v)
  if t ~= "table" and t ~= "userdata" and t ~= "string" then return nil end
  local ok, x = pcall(function() return v[k] end)
  if ok then return x end
  return nil
end

-- The string keys reachable with '.' (want_methods false) or ':' (true):
-- the value's own keys when it is a table, then its metatable's __index
-- chain when that is a table (bounded, cycles skipped).
local function keys_of(v, want_methods, out)
  local seen = {}
  local depth = 0
  local function add_table(t, only_functions)
    for k, x in pairs(t) do
      if is_name(k) and (not only_functions or type(x) == "function"
          or (type(x) == "table" and getmetatable(x) and getmetatable(x).__call)) then
        out[k] = true
      end
    end
  end
  if type(v) == "table" then add_table(v, want_methods) end
  local cur = v
  while depth < 8 do
    depth = depth + 1
    local mt = getmetatable(cur)
    if type(mt) ~= "table" then break end
    local index = rawget(mt, "__index")
    if type(index) ~= "table" or seen[index] then break end
    seen[index] = true
    add_table(index, want_methods)
    cur = index
  end
end

-- Splits "a.b.c:pa" into the path { "a", "b", "c" }, the last separator
-- and the partial name; nil when the word is not a plain path.
local function split(word)
  local head, sep, partial = word:match("^(.*)([%.:])([%w_]*)$")
  if not head then return nil end
  local path = {}
  for part in (head .. "."):gmatch("(.-)%.") do
    if not is_name(part) then return nil end
    path[#path + 1] = part
  end
  return path, sep, partial
end

local function sorted_matches(names, partial, prefix)
  local out = {}
  local show_private = partial:sub(1, 1) == "_"
  for k in pairs(names) do
    if k:sub(1, #partial) == partial and (show_private or k:sub(1, 1) ~= "_") then
      out[#out + 1] = prefix .. k
    end
  end
  table.sort(out)
  return out
end

--- The completions of `word` in environment `env` (default _G).
function complete.candidates(word, env)
  env = env or _G
  if word == "" or is_name(word) then
    local names = {}
    keys_of(env, false, names)
    for _, k in ipairs(keywords) do names[k] = true end
    return sorted_matches(names, word, "")
  end
  local path, sep, partial = split(word)
  if not path then return {} end
  local v = env
  for _, name in ipairs(path) do
    v = get(v, name)
    if v == nil then return {} end
  end
  local names = {}
  keys_of(v, sep == ":", names)
  return sorted_matches(names, partial, table.concat(path, ".") .. sep)
end

return complete
