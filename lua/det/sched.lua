-- det.sched: learning-rate schedules (pure functions lr(step, epoch) of
-- their configuration, in C: src/train/sched.c via src/lua/lsched.c), and
-- det.sched.plot, which draws a schedule's curve in the terminal.
local core = require("det.core").sched

local sched = {}

local function maker(kind)
  return function(cfg)
    if cfg ~= nil and type(cfg) ~= "table" then
      error(("det.sched.%s takes a table, got a %s"):format(kind, type(cfg)), 2)
    end
    return core.new(kind, cfg)
  end
end

for _, kind in ipairs { "constant", "step", "multistep", "exponential", "polynomial",
                        "cosine", "cosine_restarts", "cyclic", "onecycle" } do
  sched[kind] = maker(kind)
end

-- det.sched.warmup(s, { steps = n, start = 0.001 }): a copy of s warmed up
function sched.warmup(s, cfg)
  if type(cfg) ~= "table" then
    error("det.sched.warmup(s, { steps = n, start = f }) needs its table", 2)
  end
  return core.warmup(s, cfg)
end

-- det.sched.fn(function(step, epoch) return lr end)
sched.fn = core.fn
sched.keys = core.keys

-- ---- plot -------------------------------------------------------------

-- braille dot bits for (x in 0..1, y in 0..3 from the top of a cell)
local DOT = { [0] = { [0] = 0x01, 0x02, 0x04, 0x40 }, [1] = { [0] = 0x08, 0x10, 0x20, 0x80 } }

local function fmt(v)
  return ("%.3g"):format(v)
end

-- Tick spacing: a 1, 2 or 5 times a power of ten giving at most `most` ticks.
local function nice_step(range, most)
  if range <= 0 then return 1 end
  local mag = 10 ^ math.floor(math.log(range / most, 10))
  for _, m in ipairs { 1, 2, 5, 10 } do
    if range / (m * mag) <= most then return math.max(1, m * mag) end
  end
  return math.max(1, 10 * mag)
end

--[[ det.sched.plot(s, steps [, opts]) -> values, text
Draws lr(0) .. lr(steps - 1) as a braille line chart and prints it; returns
the values (a Lua array, values[k + 1] = lr(k)) and the text. s is a
schedule or a Lua function of (step, epoch). opts: width (plot columns,
default 60), height (rows, default 10), steps_per_epoch (to feed the epoch
to schedules counted in epochs), print (false to only return), title. ]]
function sched.plot(s, steps, opts)
  opts = opts or {}
  assert(type(steps) == "number" and steps >= 1, "det.sched.plot(s, steps): steps must be a number >= 1")
  steps = math.floor(steps)
  local width = math.max(8, math.floor(opts.width or 60))
  local height = math.max(3, math.floor(opts.height or 10))
  local spe = opts.steps_per_epoch
  local lr
  if type(s) == "function" then
    lr = function(k) return s(k, spe and k / spe or nil) end
  else
    if s.per ~= nil and s.per == "epoch" and not spe then
      error("det.sched.plot: this schedule counts epochs; pass { steps_per_epoch = n }", 2)
    end
    lr = function(k) return s:lr(k, spe and k / spe or nil) end
  end

  local values, lo, hi, klo, khi = {}, math.huge, -math.huge, 0, 0
  for k = 0, steps - 1 do
    local v = lr(k)
    values[k + 1] = v
    if v == v then
      if v < lo then lo, klo = v, k end
      if v > hi then hi, khi = v, k end
    end
  end
  if lo == math.huge then lo, hi = 0, 1 end
  -- the axis spans exactly [lo, hi]; a flat curve gets a band around it
  local alo, ahi = lo, hi
  if ahi == alo then
    local pad = math.abs(alo) > 0 and math.abs(alo) * 0.5 or 1
    alo, ahi = alo - pad, ahi + pad
  end

  local W, H = width * 2, height * 4
  local cells = {}
  for r = 0, height - 1 do
    cells[r] = {}
    for c = 0, width - 1 do cells[r][c] = 0 end
  end
  local function px(k) return steps == 1 and 0 or math.floor(k * (W - 1) / (steps - 1) + 0.5) end
  local function py(v) return math.floor((ahi - v) / (ahi - alo) * (H - 1) + 0.5) end  -- 0 = top
  local function dot(x, y)
    cells[y // 4][x // 2] = cells[y // 4][x // 2] | DOT[x % 2][y % 4]
  end
  -- the lr holds for a whole step: draw each step's value flat up to the
  -- next step's column, then a vertical to the next value; with more steps
  -- than pixels a column fills its min..max, so no spike is hidden
  local prevx, prevy
  for k = 0, steps - 1 do
    local v = values[k + 1]
    if v == v then
      local x, y = px(k), py(v)
      if prevx then
        for xi = prevx + 1, x do dot(xi, prevy) end
        local dy = y >= prevy and 1 or -1
        for yi = prevy, y, dy do dot(x, yi) end
      end
      dot(x, y)
      prevx, prevy = x, y
    else
      prevx = nil
    end
  end
  if prevx then
    for xi = prevx + 1, W - 1 do dot(xi, prevy) end
  end

  -- y labels on the top, middle and bottom rows: the value at that row's
  -- middle dot line (top and bottom are exactly the axis ends)
  local mid = (height - 1) // 2
  local ylabel = {
    [0] = fmt(ahi),
    [height - 1] = fmt(alo),
    [mid] = fmt(ahi - (ahi - alo) * (mid * 4 + 1.5) / (H - 1)),
  }
  local lw = 0
  for _, l in pairs(ylabel) do lw = math.max(lw, #l) end

  local out = {}
  local title = opts.title or (type(s) == "function" and "function" or tostring(s):gsub("^<det%.sched (.*)>$", "%1"))
  local head = ("lr over %d steps: %s"):format(steps, title)
  local room = lw + 2 + width
  if #head > room then head = head:sub(1, room - 3) .. "..." end
  out[#out + 1] = head
  for r = 0, height - 1 do
    local row = {}
    for c = 0, width - 1 do row[c + 1] = utf8.char(0x2800 + cells[r][c]) end
    local label = ylabel[r]
    out[#out + 1] = (label and ("%" .. lw .. "s ┤"):format(label) or (" "):rep(lw) .. " │") .. table.concat(row)
  end

  -- x axis: ticks at multiples of a nice step, labels centred and never overlapping
  local every = nice_step(steps - 1, math.max(2, width // 12))
  local axis, labels = {}, {}
  for c = 1, width do axis[c] = "─" end
  local text = (" "):rep(width + 8)
  local last_end = -1
  local t = 0
  while t <= steps - 1 do
    local c = px(t) // 2
    axis[c + 1] = "┬"
    local l = tostring(math.floor(t))
    local start = math.max(0, c - (#l - 1) // 2)
    if start > last_end then
      text = text:sub(1, start) .. l .. text:sub(start + #l + 1)
      last_end = start + #l
    end
    t = t + every
  end
  out[#out + 1] = (" "):rep(lw) .. " └" .. table.concat(axis)
  out[#out + 1] = ((" "):rep(lw + 2) .. text):gsub("%s+$", "")
  if lo == hi then
    out[#out + 1] = ("constant %s (the axis is padded around it)"):format(fmt(lo))
  else
    out[#out + 1] = ("min %s at step %d, max %s at step %d, last %s"):format(
      fmt(lo), klo, fmt(hi), khi, fmt(values[steps]))
  end
  local str = table.concat(out, "\n")
  if opts.print ~= false then print(str) end
  return values, str
end

return sched
