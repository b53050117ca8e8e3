-- det.model: a detector assembled from a backbone, a neck and a head (each
-- a det.nn block from det.backbone / det.neck / det.head). It checks that
-- the parts fit and names the one that does not, builds graphs of any
-- batch and size on ONE shared parameter store, makes the C detector
-- (src/det/detector.h: assignment, losses, decoding) from a Lua config,
-- prints a summary, predicts boxes in the original images' pixels, and
-- saves and loads the weights.
local core = require "det.core"
local nn = require "det.nn"

local Model = {}
Model.__index = Model

local function fail(msg) error("det.model: " .. msg, 3) end

local function kind_of(b) return tostring(b.head or b.kind or "block") end

local known = { backbone = true, neck = true, head = true, names = true, size = true, seed = true }

-- det.model{ backbone =, neck =, head =, names =, size =, seed = }
local function new(o)
  if type(o) ~= "table" then error("det.model: a table { backbone =, neck =, head = } expected", 2) end
  for k in pairs(o) do
    if not known[k] then
      error(("det.model: unknown option '%s' (expected backbone, neck, head, names, size, seed)"):format(tostring(k)), 2)
    end
  end
  local bb, nk, hd = o.backbone, o.neck, o.head
  for _, part in ipairs { "backbone", "neck", "head" } do
    if getmetatable(o[part]) ~= nn.Block then fail(part .. " is missing or not a det.nn block") end
  end
  -- backbone -> neck
  if type(bb.channels) ~= "table" or type(bb.strides) ~= "table" then
    fail(("backbone (%s) does not say its channels and strides (block.channels, block.strides)"):format(kind_of(bb)))
  end
  if nk.fit then
    local msg = nk:fit(bb)
    if msg then fail(msg) end
  end
  if type(nk.levels) ~= "table" or not nk.channels then
    fail(("neck (%s) does not say its levels and channels"):format(kind_of(nk)))
  end
  -- neck -> head
  if hd.in_channels and hd.in_channels ~= nk.channels then
    fail(("head (%s) expects %d input channels, the neck (%s) gives %d"):format(kind_of(hd), hd.in_channels,
      kind_of(nk), nk.channels))
  end
  if hd.strides then
    for i, l in ipairs(nk.levels) do
      local s = nk.strides and nk.strides["p" .. l] or math.tointeger(2 ^ l)
      if hd.strides[i] ~= s then
        fail(("head (%s) expects stride %s at level %d, the neck (%s) gives P%d at stride %d"):format(kind_of(hd),
          tostring(hd.strides[i]), i, kind_of(nk), l, s))
      end
    end
    if #hd.strides ~= #nk.levels then
      fail(("head (%s) lists %d strides, the neck (%s) gives %d levels"):format(kind_of(hd), #hd.strides,
        kind_of(nk), #nk.levels))
    end
  end
  if type(hd.classes) ~= "number" or hd.classes < 1 then fail(("head (%s) has no class count"):format(kind_of(hd))) end
  local names = o.names
  if names and #names ~= hd.classes then
    fail(("names lists %d classes, the head (%s) has %d"):format(#names, kind_of(hd), hd.classes))
  end
  if not names then
    names = {}
    for i = 1, hd.classes do names[i] = "class " .. i end
  end
  local ok, err = pcall(hd.setup, hd, nk.levels)
  if not ok then fail(tostring(err):gsub("^[^:]*:%d+: ", "")) end

  local top = nn.block { kind = "detector", backbone = bb, neck = nk, head = hd }
  top.forward = function(self, x)
    local outs = self.head(self.neck(self.backbone(x)))
    local r = {}
    for i, lv in ipairs(outs) do r[i] = { cls = lv.cls, box = lv.box, quality = lv.quality } end
    return r
  end
  return setmetatable({ block = top, backbone = bb, neck = nk, head = hd, names = names,
    classes = hd.classes, size = o.size or 128, seed = o.seed or 0, graphs = {} }, Model)
end

-- model:graph{ batch = 1, size = model.size, train = true } -> a det.nn model
-- (m.graph is the det.graph) on the model's one parameter store; the same
-- (batch, size, train) gives the same object
function Model:graph(o)
  o = o or {}
  local batch, size = o.batch or 1, o.size or self.size
  local h, w = size, size
  if type(size) == "table" then h, w = size[1], size[2] end
  local train = o.train ~= false
  local key = ("%dx%dx%d:%s"):format(batch, h, w, tostring(train))
  local m = self.graphs[key]
  if m then return m end
  local ok, res = pcall(nn.build, self.block, { batch, 3, h, w }, { seed = self.seed, share = self.base, train = train })
  if not ok then error("det.model: " .. tostring(res):gsub("^[^:]*:%d+: ", ""), 2) end
  m = res
  if not self.base then
    self.base = m
    for _, p in ipairs(self.backbone.frozen or {}) do m:freeze("backbone." .. p) end
  end
  self.graphs[key] = m
  return m
end

-- the first graph (made at model.size when there is none yet): its store is the model's
local function store(self)
  return self.base or self:graph { batch = 1 }
end

-- model:summary{ size = model.size, batch = 1 } -> text (also printed)
function Model:summary(o)
  o = o or {}
  local size = o.size or self.size
  local s = nn.summary(self.block, { o.batch or 1, 3, size, size }, { quiet = true })
  if not o.quiet then print(s) end
  return s
end

-- model:save(path) -> true | nil, message; model:load(path, { strict }) -> report | nil, message
function Model:save(path) return store(self):save(path) end
-- The names a checkpoint file holds (its text header), or nil.
local function file_names(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local names = {}
  for line in f:lines() do
    if line == "data" then break end
    local name = line:match("^[pb] (%S+)")
    if name then names[name] = true end
  end
  f:close()
  return names
end

-- model:load(path, { strict }) -> { loaded, missing, unexpected,
-- missing_names = {...}, unexpected_names = {...} } | nil, message
function Model:load(path, o)
  local m = store(self)
  local rep, err = m:load(path, o)
  if not rep then return nil, err end
  local have = file_names(path)
  if have and type(rep) == "table" then
    local mine = {}
    rep.missing_names, rep.unexpected_names = {}, {}
    for _, list in ipairs { m:parameters(), m:buffers() } do
      for _, p in ipairs(list) do
        mine[p.name] = true
        if not have[p.name] then rep.missing_names[#rep.missing_names + 1] = p.name end
      end
    end
    for name in pairs(have) do
      if not mine[name] then rep.unexpected_names[#rep.unexpected_names + 1] = name end
    end
    table.sort(rep.unexpected_names)
  end
  return rep
end
-- model:bind(opt): the optimiser updates the model's one store
function Model:bind(opt)
  store(self):bind(opt)
  return self
end
function Model:parameters() return store(self):parameters() end

-- The detector config table for det.core.detector.new.
local function detector_config(self, o)
  o = o or {}
  local hd = self.head
  local m = store(self)
  local cfg = {
    kind = hd.head, classes = hd.classes, anchors = hd.anchors, input = m.input, levels = {},
    assigner = o.assigner or hd.assigner, center_sampling = o.center_sampling or hd.center_sampling,
    atss_topk = o.atss_topk or hd.atss_topk, pos_iou = o.pos_iou or hd.pos_iou, neg_iou = o.neg_iou or hd.neg_iou,
    atss_anchor_scale = o.atss_anchor_scale,
    reg_max = hd.reg_max, tal_topk = o.tal_topk or hd.topk, tal_alpha = hd.alpha, tal_beta = hd.beta,
    quality = hd.head == "fcos" and (hd.quality or "none") or "none",
    loss = o.loss, nms = o.nms or {},
  }
  for _, k in ipairs { "score_threshold", "max_dets", "nms_pre" } do
    if o[k] ~= nil then cfg.nms[k] = o[k] end
  end
  local ranges = hd.level_ranges and hd:level_ranges()
  for i, l in ipairs(hd.levels) do
    local ids = m.outputs[i]
    cfg.levels[i] = { level = l, stride = math.tointeger(2 ^ l), cls = ids.cls, box = ids.box,
      quality = ids.quality, range = ranges and ranges[i], anchors = hd.base_anchors and hd:base_anchors(i) }
  end
  return cfg
end

local det_known = { loss = true, nms = true, assigner = true, center_sampling = true, atss_topk = true,
  pos_iou = true, neg_iou = true, atss_anchor_scale = true, score_threshold = true, max_dets = true, nms_pre = true }

-- model:detector{ loss = { cls =, box =, quality =, weights = {} }, nms = {},
-- score_threshold =, max_dets =, nms_pre =, assigner = ... } -> det.detector
function Model:detector(o)
  o = o or {}
  for k in pairs(o) do
    if not det_known[k] then error(("model:detector: unknown option '%s'"):format(tostring(k)), 2) end
  end
  if o.loss then
    for k in pairs(o.loss) do
      if k ~= "cls" and k ~= "box" and k ~= "quality" and k ~= "weights" then
        error(("model:detector: loss has no part '%s' (expected cls, box, quality, weights)"):format(tostring(k)), 2)
      end
    end
  end
  local ok, d = pcall(core.detector.new, detector_config(self, o))
  if not ok then error("model:detector: " .. tostring(d):gsub("^[^:]*:%d+: ", ""), 2) end
  self._detector = d
  return d
end

-- A list of predictions, one per image, with :coco(ds) giving the records
-- det.eval.coco reads.
local Preds = {}
Preds.__index = Preds

function Preds:coco(ds)
  local recs = {}
  for _, im in ipairs(self) do
    local id = ds and ds:item(im.index).id or im.index
    for _, d in ipairs(im.dets) do
      recs[#recs + 1] = { image_id = id, class = d.class, score = d.score,
        bbox = { d[1], d[2], d[3] - d[1], d[4] - d[2] } }
    end
  end
  return recs
end

-- model:predict(ds | tensor, { batch = 8, size = model.size, detector =,
-- score_threshold, max_dets }) -> predictions: { { index, dets = { { x0, y0,
-- x1, y1, class =, name =, score = } } } } in the original images' pixels
function Model:predict(input, o)
  o = o or {}
  local d = o.detector
  if not d and (o.score_threshold ~= nil or o.max_dets ~= nil) then
    -- a decoder for these options alone: the model's own (the one its
    -- training made, or a default one) keeps its settings for later calls
    local own = self._detector
    d = self:detector { score_threshold = o.score_threshold, max_dets = o.max_dets }
    self._detector = own
  end
  d = d or self._detector or self:detector {}
  local out = setmetatable({}, Preds)
  local function name(im)
    for _, e in ipairs(im.dets) do e.name = self.names[e.class] end
    return im
  end
  if type(input) == "userdata" and getmetatable(input) and input.loader then
    local batch, size = o.batch or 8, o.size or self.size
    local m = self:graph { batch = batch, size = size, train = false }
    local ld = input:loader { batch = batch, size = size, workers = 1, augment = false, letterbox = true }
    repeat
      local res, last = d:predict(m.graph, ld)
      if not res then ld:close(); error("model:predict: " .. tostring(last), 2) end
      for _, im in ipairs(res) do out[#out + 1] = name(im) end
    until last
    ld:close()
    table.sort(out, function(a, b) return a.index < b.index end)
    return out
  end
  -- a tensor (N, 3, H, W) or one image (3, H, W), already normalised: boxes in its pixels
  local shape = input:shape()
  if #shape == 3 then
    input = input:contiguous():reshape(1, shape[1], shape[2], shape[3])
    shape = input:shape()
  end
  local m = self:graph { batch = shape[1], size = { shape[3], shape[4] }, train = false }
  m:forward(input)
  local res, err = d:decode(m.graph)
  if not res then error("model:predict: " .. tostring(err), 2) end
  for _, im in ipairs(res) do out[#out + 1] = name(im) end
  return out
end

function Model:__tostring()
  local n = 0
  if self.base then for _, p in ipairs(self.base:parameters()) do n = n + p.count end end
  return ("<det.model %s + %s + %s: %d classes%s>"):format(kind_of(self.backbone), kind_of(self.neck),
    kind_of(self.head), self.classes, n > 0 and (", %d parameters"):format(n) or "")
end

return setmetatable({ Model = Model, Predictions = Preds, new = new }, { __call = function(_, o) return new(o) end })
