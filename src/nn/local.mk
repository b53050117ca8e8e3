# src/nn: the compute engine — tensors, graph, ops, conv kernels, optimisers.
# Each part appends its own lines below.

# optimisers (SGD, Adam, AdamW, RMSprop) over flat parameter slabs
# (its own convenience library for -fno-math-errno: the sqrt loops vectorise)
noinst_LTLIBRARIES += liboptim.la
liboptim_la_SOURCES = src/nn/optim.c src/nn/optim.h
liboptim_la_CFLAGS = $(AM_CFLAGS) -fno-math-errno
libdetbench_la_LIBADD += liboptim.la
check_PROGRAMS += tests/nn/test_optim
tests_nn_test_optim_LDADD = $(TEST_LDADD)
TESTS += tests/nn/test_optim
EXTRA_DIST += tests/golden/optim/make_optim.py tests/golden/optim/optim.txt
libdetbench_la_SOURCES += src/lua/loptim.c src/lua/loptim.h
TESTS += tests/lua/optim_spec.lua
# the state reader under tests/fuzz/driver.c, corpus in tests/fuzz/corpus/optim
check_PROGRAMS += tests/nn/fuzz_optim
tests_nn_fuzz_optim_SOURCES = tests/nn/fuzz_optim.c tests/fuzz/driver.c
tests_nn_fuzz_optim_LDADD = $(TEST_LDADD)
TESTS += tests/nn/fuzz_optim
EXTRA_DIST += tests/nn/make_optim_corpus.lua
EXTRA_DIST += tests/lua/optim_spec.lua
# optimiser step time beside PyTorch's (make bench)
EXTRA_PROGRAMS += bench/optim_bench
BENCH_BINS += bench/optim_bench
bench_optim_bench_SOURCES = bench/optim_bench.c src/core/threads_preinit.c
bench_optim_bench_LDADD = libdetbench.la $(DET_LIBS)
bench_optim_bench_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_SRCDIR='"$(abs_top_srcdir)/bench"'
EXTRA_DIST += bench/optim_torch.py
# the folds around batch norms (stem pool, residual add), old path beside new
EXTRA_PROGRAMS += bench/fold_bench
BENCH_BINS += bench/fold_bench
bench_fold_bench_SOURCES = bench/fold_bench.c src/core/threads_preinit.c
bench_fold_bench_LDADD = libdetbench.la $(DET_LIBS)
optimdocdir = $(docdir)/api
dist_optimdoc_DATA = doc/api/optim.md

# conv2d kernels (im2col + sgemm, 1x1, depthwise) and their tests
libdetbench_la_SOURCES += src/nn/conv.c src/nn/conv.h src/nn/conv_simd.c src/nn/conv_simd.h \
	src/nn/conv_wino.c src/nn/conv_wino.h
check_PROGRAMS += tests/nn/test_conv tests/nn/test_conv_golden
tests_nn_test_conv_LDADD = $(TEST_LDADD)
tests_nn_test_conv_golden_LDADD = $(TEST_LDADD)
TESTS += tests/nn/test_conv tests/nn/test_conv_golden
EXTRA_DIST += tests/golden/conv/gen_conv.py tests/golden/conv/conv.bin tests/golden/conv/index.txt
# the conv paths (im2col + OpenBLAS, direct view / panel) side by side (make bench)
EXTRA_PROGRAMS += bench/conv_paths_bench
BENCH_BINS += bench/conv_paths_bench
bench_conv_paths_bench_SOURCES = bench/conv_paths_bench.c src/core/threads_preinit.c
bench_conv_paths_bench_LDADD = libdetbench.la $(DET_LIBS)

# tensors, graph (shape inference, memory plan, autograd) and the non-conv ops
libdetbench_la_SOURCES += src/core/tensor.c src/core/tensor.h \
	src/nn/graph.c src/nn/graph.h src/nn/ops.c src/nn/ops.h
check_PROGRAMS += tests/nn/test_gradcheck
tests_nn_test_gradcheck_LDADD = $(TEST_LDADD)
TESTS += tests/nn/test_gradcheck
check_PROGRAMS += tests/nn/test_ops_ref
tests_nn_test_ops_ref_LDADD = $(TEST_LDADD)
TESTS += tests/nn/test_ops_ref
EXTRA_DIST += tests/nn/gradcheck.h
check_PROGRAMS += tests/nn/test_nn_golden
tests_nn_test_nn_golden_LDADD = $(TEST_LDADD)
tests_nn_test_nn_golden_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
TESTS += tests/nn/test_nn_golden
EXTRA_DIST += tests/golden/nn/make_nn.py tests/golden/nn/nn.txt
check_PROGRAMS += tests/nn/test_graph
tests_nn_test_graph_LDADD = $(TEST_LDADD)
tests_nn_test_graph_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc
TESTS += tests/nn/test_graph
EXTRA_DIST += tests/nn/nets.h
libdetbench_la_SOURCES += src/lua/ltensor.c src/lua/ltensor.h src/lua/lnn.c src/lua/lnn.h
TESTS += tests/lua/nn_spec.lua
EXTRA_DIST += tests/lua/nn_spec.lua

# ResNet-18 training step on the graph engine vs PyTorch (bench/resnet_torch.py)
EXTRA_PROGRAMS += bench/resnet_bench
BENCH_BINS += bench/resnet_bench
bench_resnet_bench_SOURCES = bench/resnet_bench.c bench/torch_peer.c bench/torch_peer.h src/core/threads_preinit.c
bench_resnet_bench_LDADD = libdetbench.la $(DET_LIBS)
bench_resnet_bench_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_SRCDIR='"$(abs_top_srcdir)/bench"'
EXTRA_DIST += bench/resnet_torch.py
nndocdir = $(docdir)/api
dist_nndoc_DATA = doc/api/nn.md
check_PROGRAMS += tests/nn/test_tensor
tests_nn_test_tensor_LDADD = $(TEST_LDADD)
TESTS += tests/nn/test_tensor
libdetbench_la_SOURCES += src/nn/checkpoint.c src/nn/checkpoint.h
check_PROGRAMS += tests/nn/test_checkpoint
tests_nn_test_checkpoint_LDADD = $(TEST_LDADD)
TESTS += tests/nn/test_checkpoint
TESTS += tests/nn/determinism.sh
EXTRA_DIST += tests/nn/determinism.sh
