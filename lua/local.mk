# lua/det: the Lua half of the det module, installed where lua5.4 looks.
dist_luadet_DATA += \
	lua/det/init.lua \
	lua/det/pretty.lua \
	lua/det/help.lua
dist_luadet_DATA += lua/det/loss.lua lua/det/box.lua lua/det/options.lua
dist_luadet_DATA += lua/det/optim.lua lua/det/sched.lua
dist_luadet_DATA += lua/det/nn.lua
dist_luadet_DATA += lua/det/data.lua lua/det/aug.lua lua/det/sample.lua
dist_luadet_DATA += lua/det/eval.lua
dist_luadet_DATA += lua/det/inspect.lua
dist_luadet_DATA += lua/det/experiment.lua
dist_luadet_DATA += lua/det/backbone.lua lua/det/neck.lua lua/det/head.lua lua/det/model.lua
