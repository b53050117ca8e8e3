-- det.head: the dense-head constructors, one file each under lua/det/head/.
-- Each returns a det.nn block whose forward(pyramid) returns, per level in
-- order, { level, stride, cls = (N, A*C, H, W), box = (N, A*4, H, W),
-- quality = (N, A, H, W) | nil }; det.model calls head:setup(levels) with
-- the neck's levels first.
local head = {}

head.fcos = require "det.head.fcos"
head.retinanet = require "det.head.retinanet"
head.yolo = require "det.head.yolo"

return head
