# src/nn: the compute engine — tensors, graph, ops, conv kernels, optimisers.
# Each part appends its own lines below.

# optimisers (SGD, Adam, AdamW, RMSprop) over flat parameter slabs
libdetbench_la_SOURCES += src/nn/optim.c src/nn/optim.h
check_PROGRAMS += tests/nn/test_optim
tests_nn_test_optim_LDADD = $(TEST_LDADD)
TESTS += tests/nn/test_optim
EXTRA_DIST += tests/golden/optim/make_optim.py tests/golden/optim/optim.txt
