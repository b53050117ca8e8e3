-- det: the detbench Lua API. This file builds the public `det` table from the
-- C core (det.core, linked into detbench or loaded as det/core.so) and the
-- Lua modules beside it.
local core = require "det.core"

local det = {}

det.version = core.base.version
det.threads = core.base.threads
det.pretty = require "det.pretty"
det.help = require "det.help"
det.tensor = core.tensor
det.nn = require "det.nn"
det.optim = require "det.optim"
det.sched = require "det.sched"
det.loss = require "det.loss"
det.box = require "det.box"
det.data, det.aug, det.sample = require "det.data", require "det.aug", require "det.sample"
det.eval = require "det.eval"
det.inspect = require "det.inspect"
det.experiment = require "det.experiment"
det.ui = require "det.ui"
det.backbone, det.neck, det.head, det.model = require "det.backbone", require "det.neck", require "det.head", require "det.model"

-- internal: the C modules, for the Lua modules that wrap them
det._core = core

return det
