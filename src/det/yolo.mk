# src/det/yolo.mk: the YOLO head's targets, losses and decoding (det/yolo.h)
# and their test; the detector glue (detector.c) calls them for kind "yolo".
libdetbench_la_SOURCES += src/det/yolo.c src/det/yolo.h
check_PROGRAMS += tests/det/test_yolo
tests_det_test_yolo_LDADD = $(TEST_LDADD)
tests_det_test_yolo_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
tests_det_test_yolo_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
EXTRA_DIST += tests/golden/zoo/make_yolo_loss.py tests/golden/zoo/yolo_loss.txt
TESTS += tests/det/test_yolo
