# src/core: errors, random numbers, thread policy (tensors arrive with the engine).
libdetbench_la_SOURCES += \
	src/core/error.c src/core/error.h \
	src/core/rng.c src/core/rng.h \
	src/core/threads.c src/core/threads.h
