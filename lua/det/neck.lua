-- det.neck: the neck constructors, one file each under lua/det/neck/. Each
-- returns a det.nn block whose forward(feats) takes the backbone's table
-- ({ c3, c4, c5 }) and returns { p3 = node, p4 = node, p5 = node[, p6, p7] },
-- all with block.channels channels; block.levels lists the levels it gives
-- and block:fit(backbone) returns nil or a message naming the misfit.
local neck = {}

neck.fpn = require "det.neck.fpn"
neck.pan, neck.bifpn = require "det.neck.pan", require "det.neck.bifpn"

return neck
