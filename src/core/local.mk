# src/core: errors, random numbers, thread policy (tensors arrive with the engine).
libdetbench_la_SOURCES += \
	src/core/error.c src/core/error.h \
	src/core/rng.c src/core/rng.h \
	src/core/json.c src/core/json.h \
	src/core/atomic.c src/core/atomic.h \
	src/core/file.c src/core/file.h \
	src/core/threads.c src/core/threads.h
# the OpenMP wait policy, executables only (see src/core/threads_preinit.c)
detbench_SOURCES += src/core/threads_preinit.c
EXTRA_DIST += src/core/threads_preinit.c
TESTS += tests/core/wait_policy.sh
EXTRA_DIST += tests/core/wait_policy.sh
