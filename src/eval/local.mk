# src/eval: COCO evaluation (pycocotools-identical), TIDE, confusion, the `eval` command.
libdetbench_la_SOURCES += \
	src/eval/coco_eval.c src/eval/coco_eval.h src/eval/eval_internal.h \
	src/eval/eval_io.c src/eval/tide.c src/eval/eval_print.c \
	src/lua/lcoco.c src/lua/leval.c

EVAL_TEST_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
check_PROGRAMS += tests/eval/test_cocoeval_golden tests/eval/test_tide tests/data/test_coco
tests_eval_test_cocoeval_golden_LDADD = $(TEST_LDADD)
tests_eval_test_cocoeval_golden_CPPFLAGS = $(EVAL_TEST_CPPFLAGS)
tests_eval_test_tide_LDADD = $(TEST_LDADD)
tests_eval_test_tide_CPPFLAGS = $(EVAL_TEST_CPPFLAGS)
tests_data_test_coco_LDADD = $(TEST_LDADD)
tests_data_test_coco_CPPFLAGS = $(EVAL_TEST_CPPFLAGS)
TESTS += tests/eval/test_cocoeval_golden tests/eval/test_tide tests/data/test_coco tests/eval/cli_eval.sh
EXTRA_DIST += tests/golden/cocoeval tests/golden/tide tests/data/bad/coco tests/eval/cli_eval.sh
# the fuzz target over coco_read_buffer (wired into make check by tests/fuzz/local.mk)
EXTRA_DIST += tests/fuzz/fuzz_coco.c tests/fuzz/coco.dict

# benchmarks: evaluation speed (COCO-val-sized) and the COCO-train-sized load
EXTRA_PROGRAMS += bench/eval_bench bench/coco_load_bench
BENCH_BINS += bench/eval_bench bench/coco_load_bench
bench_eval_bench_SOURCES = bench/eval_bench.c bench/coco_gen.c bench/coco_gen.h
bench_eval_bench_LDADD = libdetbench.la $(DET_LIBS)
bench_coco_load_bench_SOURCES = bench/coco_load_bench.c bench/coco_gen.c bench/coco_gen.h
bench_coco_load_bench_LDADD = libdetbench.la $(DET_LIBS)

# the Lua side: det.eval and det.data.coco
TESTS += tests/lua/eval_spec.lua
EXTRA_DIST += tests/lua/eval_spec.lua
# the API chapter (own variable: doc/local.mk sets dist_apidoc_DATA later)
evaldocdir = $(docdir)/api
dist_evaldoc_DATA = doc/api/eval.md
