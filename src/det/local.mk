# src/det: boxes and the IoU family, box coders, detection losses (forward and
# backward), NMS and top-k decoding, label assigners; their tests, golden
# fixtures (tests/golden/det/gen_det.py) and the NMS benchmark.
libdetbench_la_SOURCES += \
	src/det/box.c src/det/box.h \
	src/det/loss.c src/det/loss.h \
	src/det/nms.c src/det/nms.h

check_PROGRAMS += tests/det/test_box tests/det/test_loss tests/det/test_nms
tests_det_test_box_LDADD = $(TEST_LDADD)
tests_det_test_loss_LDADD = $(TEST_LDADD)
tests_det_test_nms_LDADD = $(TEST_LDADD)
TESTS += tests/det/test_box tests/det/test_loss tests/det/test_nms
EXTRA_DIST += tests/det/fixture.h tests/golden/det/gen_det.py tests/golden/det/det.txt
DET_TEST_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_det_test_box_CPPFLAGS = $(DET_TEST_CPPFLAGS)
tests_det_test_loss_CPPFLAGS = $(DET_TEST_CPPFLAGS)
tests_det_test_nms_CPPFLAGS = $(DET_TEST_CPPFLAGS)
