# tests/fuzz: libFuzzer targets for the dataset readers (VOC, YOLO, COCO;
# fuzz_coco.c and its corpus are the COCO reader's, wired here).
# `make check` links each target with driver.c (gcc) and runs it over its
# committed corpus plus a few thousand seeded mutations (a couple of seconds;
# ASan with --enable-asan). `make fuzz` builds real libFuzzer binaries with
# clang for long runs by hand:
#   make fuzz && tests/fuzz/libfuzzer-voc -max_total_time=600 $(top_srcdir)/tests/fuzz/corpus/voc
check_PROGRAMS += tests/fuzz/fuzz_voc tests/fuzz/fuzz_yolo tests/fuzz/fuzz_coco
tests_fuzz_fuzz_voc_SOURCES = tests/fuzz/fuzz_voc.c tests/fuzz/driver.c
tests_fuzz_fuzz_voc_LDADD = $(TEST_LDADD)
tests_fuzz_fuzz_yolo_SOURCES = tests/fuzz/fuzz_yolo.c tests/fuzz/driver.c
tests_fuzz_fuzz_yolo_LDADD = $(TEST_LDADD)
tests_fuzz_fuzz_coco_SOURCES = tests/fuzz/fuzz_coco.c tests/fuzz/driver.c
tests_fuzz_fuzz_coco_LDADD = $(TEST_LDADD)
TESTS += tests/fuzz/fuzz_voc tests/fuzz/fuzz_yolo tests/fuzz/fuzz_coco
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/voc.dict tests/fuzz/yolo.dict tests/fuzz/coco.dict

FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_CPPFLAGS = -I$(top_srcdir)/src -I$(top_builddir) $(STB_CFLAGS) $(CJSON_CFLAGS) \
	$(EXPAT_CFLAGS) $(YAML_CFLAGS)
FUZZ_LIBS = $(STB_LIBS) $(CJSON_LIBS) $(EXPAT_LIBS) $(YAML_LIBS) -lm
# The reader's sources are compiled into each binary with the fuzzer's
# coverage instrumentation (libdetbench is built by gcc, without it).
FUZZ_COMMON = $(top_srcdir)/src/core/error.c $(top_srcdir)/src/data/dataset.c \
	$(top_srcdir)/src/data/doctor.c
FUZZ_TARGETS = tests/fuzz/libfuzzer-voc tests/fuzz/libfuzzer-yolo tests/fuzz/libfuzzer-coco

tests/fuzz/libfuzzer-voc: $(top_srcdir)/tests/fuzz/fuzz_voc.c $(top_srcdir)/src/data/voc.c $(FUZZ_COMMON)
	@$(MKDIR_P) tests/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CPPFLAGS) -o $@ $^ $(FUZZ_LIBS)

tests/fuzz/libfuzzer-yolo: $(top_srcdir)/tests/fuzz/fuzz_yolo.c $(top_srcdir)/src/data/yolo.c $(FUZZ_COMMON)
	@$(MKDIR_P) tests/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CPPFLAGS) -o $@ $^ $(FUZZ_LIBS)

# fuzz_coco also reads the bytes as evaluation ground truth and runs the evaluator
FUZZ_COCO_SRCS = $(top_srcdir)/src/data/coco.c $(top_srcdir)/src/data/coco_json.c $(top_srcdir)/src/core/json.c \
	$(top_srcdir)/src/data/image.c $(top_srcdir)/src/eval/coco_eval.c \
	$(top_srcdir)/src/eval/eval_io.c $(top_srcdir)/src/eval/tide.c

tests/fuzz/libfuzzer-coco: $(top_srcdir)/tests/fuzz/fuzz_coco.c $(FUZZ_COCO_SRCS) \
		$(top_srcdir)/src/core/error.c $(top_srcdir)/src/data/dataset.c
	@$(MKDIR_P) tests/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CPPFLAGS) -o $@ $^ $(FUZZ_LIBS)

fuzz: $(FUZZ_TARGETS)
	@echo "Built: $(FUZZ_TARGETS). Run one with, e.g.:"
	@echo "  tests/fuzz/libfuzzer-voc -max_total_time=600 -dict=$(top_srcdir)/tests/fuzz/voc.dict $(top_srcdir)/tests/fuzz/corpus/voc"
.PHONY: fuzz
CLEANFILES += $(FUZZ_TARGETS)
