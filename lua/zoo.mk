# lua/zoo.mk: the model zoo's blocks (det.backbone.mobilenetv2/cspdarknet,
# det.neck.pan/bifpn, det.head.yolo), installed beside the reference ones
# (the directories are set in src/det/local.mk), their spec and its
# PyTorch fixture.
dist_luadetbackbone_DATA += lua/det/backbone/mobilenetv2.lua lua/det/backbone/cspdarknet.lua lua/det/backbone/sequential.lua
dist_luadetneck_DATA += lua/det/neck/common.lua lua/det/neck/pan.lua lua/det/neck/bifpn.lua
dist_luadethead_DATA += lua/det/head/yolo.lua
TESTS += tests/lua/zoo_spec.lua
EXTRA_DIST += tests/lua/zoo_spec.lua tests/golden/zoo/make_zoo.py tests/golden/zoo/zoo.txt
