# src/det: boxes and the IoU family, box coders, detection losses (forward and
# backward), NMS and top-k decoding, label assigners; their tests, golden
# fixtures (tests/golden/det/gen_det.py) and the NMS benchmark.
libdetbench_la_SOURCES += \
	src/det/box.c src/det/box.h \
	src/det/loss.c src/det/loss.h \
	src/det/nms.c src/det/nms.h \
	src/det/assign.c src/det/assign.h

check_PROGRAMS += tests/det/test_box tests/det/test_loss tests/det/test_nms tests/det/test_assign
tests_det_test_box_LDADD = $(TEST_LDADD)
tests_det_test_loss_LDADD = $(TEST_LDADD)
tests_det_test_nms_LDADD = $(TEST_LDADD)
tests_det_test_assign_LDADD = $(TEST_LDADD)
TESTS += tests/det/test_box tests/det/test_loss tests/det/test_nms tests/det/test_assign
EXTRA_DIST += tests/det/fixture.h tests/det/tiny_head.h tests/golden/det/gen_det.py tests/golden/det/det.txt \
	tests/golden/det/gen_assign.py tests/golden/det/assign.txt
DET_TEST_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_det_test_box_CPPFLAGS = $(DET_TEST_CPPFLAGS)
tests_det_test_loss_CPPFLAGS = $(DET_TEST_CPPFLAGS)
tests_det_test_nms_CPPFLAGS = $(DET_TEST_CPPFLAGS)
tests_det_test_assign_CPPFLAGS = $(DET_TEST_CPPFLAGS)
# the Lua bindings (det.core.box, det.core.loss)
libdetbench_la_SOURCES += src/lua/lbox.c src/lua/lloss.c src/lua/lloss.h

# NMS and IoU-matrix speed beside torchvision (bench/nms_torch.py), `make bench`
EXTRA_PROGRAMS += bench/nms_bench
BENCH_BINS += bench/nms_bench
bench_nms_bench_SOURCES = bench/nms_bench.c
bench_nms_bench_LDADD = libdetbench.la $(DET_LIBS)
bench_nms_bench_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_SRCDIR='"$(abs_top_srcdir)/bench"'
EXTRA_DIST += bench/nms_torch.py

# the Lua API (det.loss, det.box) from lua5.4, through busted
TESTS += tests/lua/det_loss_spec.lua tests/lua/det_box_spec.lua
EXTRA_DIST += tests/lua/det_loss_spec.lua tests/lua/det_box_spec.lua

# the API chapters, installed beside the others in $(docdir)/api (own
# variable: doc/local.mk, which sets dist_apidoc_DATA, is included later)
apidetdir = $(docdir)/api
dist_apidet_DATA = doc/api/loss.md doc/api/box.md

# the detector glue (issue 5, part B): assignment + losses + gradients into
# the head's outputs, decoding, the training step; its Lua class
libdetbench_la_SOURCES += src/det/detector.c src/det/detector.h \
	src/lua/ldetector.c src/lua/ldetector.h
# the model zoo's per-part folders (det.backbone.*, det.neck.*, det.head.*):
# add new constructors with dist_luadet<part>_DATA += lua/det/<part>/x.lua
luadetbackbonedir = $(luadetdir)/backbone
dist_luadetbackbone_DATA = lua/det/backbone/resnet.lua
luadetneckdir = $(luadetdir)/neck
dist_luadetneck_DATA = lua/det/neck/fpn.lua
luadetheaddir = $(luadetdir)/head
dist_luadethead_DATA = lua/det/head/common.lua lua/det/head/fcos.lua lua/det/head/retinanet.lua
check_PROGRAMS += tests/det/test_detector
tests_det_test_detector_LDADD = $(TEST_LDADD)
tests_det_test_detector_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
TESTS += tests/det/test_detector
# det.backbone / det.neck / det.head / det.model from Lua, with the end-to-end overfit
TESTS += tests/lua/model_spec.lua
EXTRA_DIST += tests/lua/model_spec.lua
# one training step of the reference detector beside PyTorch (`make bench`)
EXTRA_PROGRAMS += bench/train_step_bench
BENCH_BINS += bench/train_step_bench
bench_train_step_bench_SOURCES = bench/train_step_bench.c bench/torch_peer.c bench/torch_peer.h src/core/threads_preinit.c
bench_train_step_bench_LDADD = libdetbench.la $(DET_LIBS)
bench_train_step_bench_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_SRCDIR='"$(abs_top_srcdir)/bench"'
EXTRA_DIST += bench/train_step_torch.py
# the model chapter (own variable, as above)
apimodeldir = $(docdir)/api
dist_apimodel_DATA = doc/api/model.md
# detector_gt_losses: the per-GT-box loss of the inspector's suspect labels
check_PROGRAMS += tests/det/test_gt_losses
tests_det_test_gt_losses_LDADD = $(TEST_LDADD)
TESTS += tests/det/test_gt_losses
# detector_gt_losses for the YOLO head (task-aligned targets, DFL)
check_PROGRAMS += tests/det/test_gt_losses_yolo
tests_det_test_gt_losses_yolo_LDADD = $(TEST_LDADD)
tests_det_test_gt_losses_yolo_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
TESTS += tests/det/test_gt_losses_yolo
