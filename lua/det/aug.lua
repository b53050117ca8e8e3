-- det.aug: box-aware augmentations. det.aug.<name>{ p = ..., <param> = ... }
-- makes one operation (C userdata, src/data/augment.h); a list of them goes
-- to ds:augment{...}. The constructors are generated from the C table of
-- operations, so names, defaults and ranges have one source. Unknown options
-- and out-of-range values raise, naming the operation and the option.
local core = require("det.core").aug

local aug = {}

aug.kinds = {}
for _, k in ipairs(core.kinds) do
  aug.kinds[#aug.kinds + 1] = k.name
  aug[k.name] = function(opts)
    local ok, op = pcall(core.op, k.name, opts)
    if not ok then error((tostring(op):gsub("^[^:]*:%d+: ", "")), 2) end
    return op
  end
end

-- The parameters of each operation: aug.params.affine = { { name=, default=, min=, max=, doc= }, ... }
aug.params = {}
for _, k in ipairs(core.kinds) do
  aug.params[k.name] = k.params
end

aug.grayscale = aug.greyscale
aug.preview = core.preview

-- SSD's training augmentation (Liu et al. 2016): photometric distortion,
-- zoom-out, min-IoU crop, horizontal flip.
function aug.ssd()
  return {
    aug.brightness{ delta = 32 / 255, p = 0.5 },
    aug.contrast{ lower = 0.5, upper = 1.5, p = 0.5 },
    aug.saturation{ lower = 0.5, upper = 1.5, p = 0.5 },
    aug.hue{ delta = 18 / 360, p = 0.5 },
    aug.expand{ max_ratio = 4, p = 0.5 },
    aug.crop{ min_iou = -1 },
    aug.hflip{ p = 0.5 },
  }
end

-- The Ultralytics YOLOv5/v8 defaults: mosaic, random affine (scale 0.5,
-- translate 0.1), HSV-like jitter, horizontal flip.
function aug.yolo()
  return {
    aug.mosaic{ p = 1 },
    aug.affine{ degrees = 0, translate = 0.1, scale = 0.5, shear = 0 },
    aug.hue{ delta = 0.015 },
    aug.saturation{ lower = 0.3, upper = 1.7 },
    aug.brightness{ delta = 0.2 },
    aug.hflip{ p = 0.5 },
  }
end

return aug
