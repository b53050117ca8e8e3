-- det.sample: how a training epoch picks images. Each function returns a
-- sampler spec; ds:sampler(spec) builds it for that dataset (in C,
-- src/data/sampler.h) and the loader uses it. Specs print as the call that
-- makes them and reject unknown options by name.
local options = require "det.options"

local sample = {}

local Spec = {}
Spec.__index = Spec
Spec.__tostring = function(s)
  local parts = {}
  for _, k in ipairs{ "threshold", "shuffle", "num_samples" } do
    if s[k] ~= nil then parts[#parts + 1] = ("%s = %s"):format(k, tostring(s[k])) end
  end
  if s.fn then parts[#parts + 1] = "fn = <function>" end
  return ("det.sample.%s{%s}"):format(s.kind, #parts > 0 and " " .. table.concat(parts, ", ") .. " " or "")
end

local function spec(kind, opts, allowed, level)
  opts = opts or {}
  if type(opts) ~= "table" then
    error(("det.sample.%s: options must be a table, got %s"):format(kind, type(opts)), level)
  end
  local s = { kind = kind }
  options.check("det.sample." .. kind, opts, allowed, level)
  for k, v in pairs(opts) do s[k] = v end
  return setmetatable(s, Spec)
end

-- 1, 2, ..., n in order.
function sample.sequential(opts) return spec("sequential", opts, {}, 3) end

-- A new permutation every epoch.
function sample.shuffle(opts) return spec("shuffle", opts, {}, 3) end

-- LVIS repeat-factor sampling: r(c) = max(1, sqrt(t / f(c))).
function sample.repeat_factor(opts)
  local s = spec("repeat_factor", opts, { threshold = true, shuffle = true }, 3)
  if s.threshold ~= nil and (type(s.threshold) ~= "number" or s.threshold <= 0 or s.threshold > 1) then
    error("det.sample.repeat_factor: threshold must be a number in (0, 1]", 2)
  end
  return s
end

-- Class-aware sampling: a class uniformly, then an image that contains it.
function sample.class_aware(opts)
  return spec("class_aware", opts, { num_samples = true }, 3)
end

-- Draws with replacement, P(i) proportional to fn(item, i) (called once per
-- image when ds:sampler is called).
function sample.weights(fn, opts)
  if type(fn) ~= "function" then
    error("det.sample.weights: expected a function(item, i) -> weight, got " .. type(fn), 2)
  end
  local s = spec("weights", opts, { num_samples = true }, 3)
  s.fn = fn
  return s
end

-- Is v a sampler spec?
function sample.is(v) return getmetatable(v) == Spec end

return sample
