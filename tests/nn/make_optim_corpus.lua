-- make_optim_corpus.lua: the seed corpus of tests/nn/fuzz_optim.c: one valid
-- state record per optimiser kind (16 parameters in segments a, b, c), plus
-- broken ones (cut short, flipped checksum, future version).
--   lua5.4 tests/nn/make_optim_corpus.lua tests/fuzz/corpus/optim
local det = require "det"
local dir = assert(arg[1], "usage: make_optim_corpus.lua DIR")

local function params()
  local a, b, c = {}, {}, {}
  for i = 1, 8 do a[i] = 0.1 * i end
  for i = 1, 4 do b[i] = -0.2 * i; c[i] = 1 + 0.01 * i end
  return { a = a, b = b, c = c }
end

local function write(name, bytes)
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
end

local records = {}
for _, kind in ipairs { "sgd", "adam", "adamw", "rmsprop" } do
  local cfg = { lr = 0.01, ema = { decay = 0.9, warmup = 5 }, clip = 2 }
  if kind == "sgd" then cfg.momentum = 0.9; cfg.nesterov = true end
  if kind == "adam" then cfg.amsgrad = true end
  if kind == "rmsprop" then cfg.centered = true; cfg.momentum = 0.5 end
  local opt = det.optim[kind](cfg)
  local p = params()
  for k = 1, 3 do
    opt:step(p, { a = { 1, 2, 3, 4, 5, 6, 7, k }, b = { 0.1, 0.2, 0.3, 0.4 }, c = { -1, 1, -1, k } })
  end
  records[kind] = opt:state()
  write(kind .. ".state", records[kind])
end
local s = records.adam
write("short.state", s:sub(1, #s // 2))
write("badcrc.state", s:sub(1, -2) .. string.char((s:byte(-1) + 1) % 256))
write("version.state", s:sub(1, 8) .. "\2" .. s:sub(10))
write("empty.state", "")
