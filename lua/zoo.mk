# lua/zoo.mk: the model zoo's blocks (det.backbone.mobilenetv2/cspdarknet,
# det.neck.pan/bifpn, det.head.yolo), their spec and its PyTorch fixture.
EXTRA_DIST += lua/det/backbone/mobilenetv2.lua lua/det/backbone/cspdarknet.lua \
	lua/det/neck/common.lua lua/det/neck/pan.lua lua/det/neck/bifpn.lua lua/det/head/yolo.lua
TESTS += tests/lua/zoo_spec.lua
EXTRA_DIST += tests/lua/zoo_spec.lua tests/golden/zoo/make_zoo.py tests/golden/zoo/zoo.txt
