-- det.backbone: the backbone constructors, one file each under
-- lua/det/backbone/. Each returns a det.nn block whose forward(x) gives
-- { c3 = node, c4 = node, c5 = node[, c2] } and which exposes, before
-- building, block.channels and block.strides (keyed the same way).
local backbone = {}

backbone.resnet = require "det.backbone.resnet"
backbone.mobilenetv2, backbone.cspdarknet = require "det.backbone.mobilenetv2", require "det.backbone.cspdarknet"

return backbone
